package datamove

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tableOrder lists every table of a usercenter database in the order they
// are filled: parents before the children whose foreign keys point at
// them. A table the source has and this list lacks stops the move, so that
// a future migration cannot add a table that is silently left behind.
var tableOrder = []string{
	"meta", // first: it claims the destination for this source (see checkMeta)
	"apps",
	"api_keys",
	"api_key_apps",
	"users",
	"user_links",
	"tokens",
	"codes",
	"code_attempts",
	"enterprise_tokens",
	"scim_tokens",
	"audit_events",
	"events",
	"console_accounts",
	"console_links",
	"console_sessions",
	"console_attempts",
	"webhooks",
	"webhook_deliveries",
}

// Tables that are bookkeeping of one engine, not data of the instance.
var engineTables = map[string]bool{"schema_migrations": true, "sqlite_sequence": true,
	// Counts the destination's triggers keep as the users are copied.
	"user_stats": true,
	// SQLite's cache invalidation log: what servers of the source must
	// drop, nothing a new database's servers need.
	"cache_invalidations": true}

// colType is a column's storage class; STRICT tables guarantee that every
// value has it (or is NULL).
type colType int

const (
	colInt colType = iota
	colText
	colBlob
)

func (c colType) pgType() string {
	switch c {
	case colInt:
		return "bigint"
	case colText:
		return "text"
	}
	return "bytea"
}

// table is one table as both sides have it. The columns are the source's,
// in its order; the destination must have each of them.
type table struct {
	name  string
	cols  []string
	types []colType
	key   []int // indexes into cols of the primary key, in key order
}

func (t *table) keyCols() []string {
	out := make([]string, len(t.key))
	for i, k := range t.key {
		out[i] = t.cols[k]
	}
	return out
}

// keyOf returns the primary key of a full row.
func (t *table) keyOf(row []any) []any {
	out := make([]any, len(t.key))
	for i, k := range t.key {
		out[i] = row[k]
	}
	return out
}

// keyString renders a key for messages. Blob keys are hashes of tokens and
// codes, never secrets themselves, but only their first bytes are shown.
func (t *table) keyString(key []any) string {
	parts := make([]string, len(key))
	for i, v := range key {
		col := t.cols[t.key[i]]
		switch v := v.(type) {
		case []byte:
			h := fmt.Sprintf("%x", v)
			if len(h) > 16 {
				h = h[:16] + "…"
			}
			parts[i] = col + "=" + h
		default:
			parts[i] = fmt.Sprintf("%s=%v", col, v)
		}
	}
	return strings.Join(parts, " ")
}

// orderBy is the primary-key order clause for PostgreSQL. Text sorts by
// bytes there as it does in SQLite, whatever the database's collation, so
// that the two sides' key streams can be merged.
func (t *table) pgOrderBy() string {
	parts := make([]string, len(t.key))
	for i, k := range t.key {
		parts[i] = quote(t.cols[k])
		if t.types[k] == colText {
			parts[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(parts, ", ")
}

func (t *table) sqliteOrderBy() string { return quoteList(t.keyCols()) }

// keyIn is a PostgreSQL condition matching the rows whose key is among the
// arrays given as parameters $first…, one array per key column.
func (t *table) pgKeyIn(first int) string {
	args := make([]string, len(t.key))
	for i, k := range t.key {
		args[i] = fmt.Sprintf("$%d::%s[]", first+i, t.types[k].pgType())
	}
	return "(" + quoteList(t.keyCols()) + ") IN (SELECT * FROM unnest(" + strings.Join(args, ", ") + "))"
}

// keyArrays turns keys into one typed slice per key column, the
// parameters of pgKeyIn.
func (t *table) keyArrays(keys [][]any) []any {
	out := make([]any, len(t.key))
	for i, k := range t.key {
		switch t.types[k] {
		case colInt:
			a := make([]int64, len(keys))
			for j, key := range keys {
				a[j] = key[i].(int64)
			}
			out[i] = a
		case colText:
			a := make([]string, len(keys))
			for j, key := range keys {
				a[j] = key[i].(string)
			}
			out[i] = a
		default:
			a := make([][]byte, len(keys))
			for j, key := range keys {
				a[j] = key[i].([]byte)
			}
			out[i] = a
		}
	}
	return out
}

func quote(ident string) string { return pgx.Identifier{ident}.Sanitize() }

func quoteList(idents []string) string {
	out := make([]string, len(idents))
	for i, s := range idents {
		out[i] = quote(s)
	}
	return strings.Join(out, ", ")
}

// compareValues orders two key values as both databases do: integers by
// value, text and blobs byte by byte.
func compareValues(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case string:
		return strings.Compare(a, b.(string))
	case []byte:
		return bytes.Compare(a, b.([]byte))
	}
	panic(fmt.Sprintf("datamove: key value of type %T", a))
}

func compareKeys(a, b []any) int {
	for i := range a {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// equalValues compares two column values byte for byte, telling NULL from
// an empty blob.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case int64:
		b, ok := b.(int64)
		return ok && a == b
	case string:
		b, ok := b.(string)
		return ok && a == b
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	}
	return false
}

// discover reads the source's tables and checks that the destination has
// every table and column the source has.
func discover(ctx context.Context, src *sql.Tx, dst *pgx.Conn) ([]*table, error) {
	rows, err := src.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("reading the source's tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if !engineTables[n] && !slices.Contains(tableOrder, n) {
			return nil, fmt.Errorf("the source has a table %q that this version of migrate-data does not know how to copy: use the usercenter release that matches the database", n)
		}
	}

	var tables []*table
	for _, name := range tableOrder {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("the source has no table %q: it is not a complete usercenter database", name)
		}
		t, err := sourceTable(ctx, src, name)
		if err != nil {
			return nil, err
		}
		if err := checkDestTable(ctx, dst, t); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func sourceTable(ctx context.Context, src *sql.Tx, name string) (*table, error) {
	rows, err := src.QueryContext(ctx, `SELECT name, upper(type), pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", name, err)
	}
	defer rows.Close()
	t := &table{name: name}
	var pkPos []int
	for rows.Next() {
		var (
			col, typ string
			pk       int
		)
		if err := rows.Scan(&col, &typ, &pk); err != nil {
			return nil, err
		}
		var ct colType
		switch typ {
		case "INTEGER":
			ct = colInt
		case "TEXT":
			ct = colText
		case "BLOB":
			ct = colBlob
		default:
			return nil, fmt.Errorf("source column %s.%s has type %q, which migrate-data does not know", name, col, typ)
		}
		if pk > 0 {
			t.key = append(t.key, len(t.cols))
			pkPos = append(pkPos, pk)
		}
		t.cols = append(t.cols, col)
		t.types = append(t.types, ct)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(t.key) == 0 {
		return nil, fmt.Errorf("source table %s has no primary key", name)
	}
	// pragma_table_info numbers key columns by their place in the key,
	// which is not always their place in the table (user_links).
	idx := make([]int, len(t.key))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(pkPos[a], pkPos[b]) })
	key := make([]int, len(t.key))
	for i, j := range idx {
		key[i] = t.key[j]
	}
	t.key = key
	return t, nil
}

// checkDestTable fails unless the destination's table has every column of
// the source's with the matching type.
func checkDestTable(ctx context.Context, dst *pgx.Conn, t *table) error {
	rows, err := dst.Query(ctx, `SELECT column_name::text, data_type::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, t.name)
	if err != nil {
		return fmt.Errorf("reading the destination's columns of %s: %w", t.name, err)
	}
	have := map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			rows.Close()
			return err
		}
		have[col] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(have) == 0 {
		return fmt.Errorf("the destination has no table %s", t.name)
	}
	for i, col := range t.cols {
		typ, ok := have[col]
		if !ok {
			return fmt.Errorf("the destination's table %s has no column %s: its schema is older than the source's", t.name, col)
		}
		if typ != t.types[i].pgType() {
			return fmt.Errorf("the destination's column %s.%s is %s, want %s", t.name, col, typ, t.types[i].pgType())
		}
	}
	return nil
}
