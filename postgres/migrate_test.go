package postgres_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/sqlite"
	"usercenter/sqlstore"
)

func TestMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Applied(); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("first Open applied %v, want [1 2 3 4 5 6 7 8 9 10]", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 9 {
		t.Fatalf("SchemaVersion = %d, %v; want 9", v, err)
	}
	addApps(t, s, 1)
	s.Close()

	// Reopening is idempotent, and keeps the data.
	for range 2 {
		s, err = postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Applied(); len(got) != 0 {
			t.Fatalf("reopen applied %v, want none", got)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != 9 {
			t.Fatalf("SchemaVersion = %d, %v; want 9", v, err)
		}
		if _, err := s.App(ctx, 1); err != nil {
			t.Fatalf("data lost on reopen: %v", err)
		}
		if n, want := scalar[int64](t, s, `SELECT count(*) FROM schema_migrations`), migrationCount(t); n != want {
			t.Fatalf("schema_migrations has %d rows, want %d", n, want)
		}
		s.Close()
	}

	// A version from a newer program must stop an older one.
	s, err = postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw(t, s, `INSERT INTO schema_migrations VALUES (999, 'x')`)
	s.Close()
	if s, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer schema")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestConcurrentOpens starts several nodes at once on one empty schema:
// every one opens, and the migrations are applied exactly once.
func TestConcurrentOpens(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 5
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
		})
	}
	close(start)
	wg.Wait()
	applied := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
		switch got := stores[i].Applied(); {
		case reflect.DeepEqual(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}):
			applied++
		case len(got) != 0:
			t.Fatalf("Open %d applied %v", i, got)
		}
	}
	if applied != 1 {
		t.Fatalf("%d Opens applied the migrations, want 1", applied)
	}
	if n, want := scalar[int64](t, stores[0], `SELECT count(*) FROM schema_migrations`), migrationCount(t); n != want {
		t.Fatalf("schema_migrations has %d rows, want %d", n, want)
	}
	// Every node works on the one schema.
	addApps(t, stores[1], 7)
	for i, s := range stores {
		if _, err := s.App(ctx, 7); err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}
}

// TestSearchPath checks that a store keeps to the schema its DSN selects:
// two schemas in one database are two independent stores.
func TestSearchPath(t *testing.T) {
	a, b := openStore(t), openStore(t)
	if a.Schema() == b.Schema() || !strings.HasPrefix(a.Schema(), "uctest_") {
		t.Fatalf("schemas %q and %q", a.Schema(), b.Schema())
	}
	addApps(t, a, 1)
	if _, err := b.App(ctx, 1); err == nil {
		t.Fatal("an app of one schema is visible in another")
	}
	if n := scalar[int64](t, a, `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, a.Schema()); n != 21 {
		t.Fatalf("schema %s has %d tables, want 21", a.Schema(), n)
	}
	if n := scalar[int64](t, a, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'`); n != 0 {
		t.Fatal("the store wrote to the public schema")
	}
	am, as, aa := a.LockKeys()
	bm, bs, ba := b.LockKeys()
	if am == bm || as == bs || aa == ba || am == as || as == aa || am == aa {
		t.Fatalf("lock keys %x %x %x and %x %x %x must all differ", am, as, aa, bm, bs, ba)
	}

	if _, err := postgres.Open(ctx, pgtest.WithSearchPath(pgtest.DSN(t), "no_such_schema"), postgres.Options{}); err == nil ||
		!strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Open with a search_path of no schema: %v", err)
	}
}

// TestSchemaMatchesSQLite compares the schema, table by table, with the
// one the SQLite store builds: the same columns in the same order with the
// mapped types, nullability and defaults, the same primary keys, unique
// constraints, foreign keys (and their ON DELETE), CHECKs and indexes
// (partial ones with the same condition). Other tools read both.
func TestSchemaMatchesSQLite(t *testing.T) {
	s := openStore(t)
	want := sqliteSchema(t)
	got := postgresSchema(t, s)
	var names []string
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !reflect.DeepEqual(got[name], want[name]) {
			t.Errorf("table %s:\npostgres %+v\nsqlite   %+v", name, got[name], want[name])
		}
	}
	if len(got) != len(want) {
		t.Errorf("postgres has %d tables, sqlite %d", len(got), len(want))
	}

	// What SQLite says differently: every text column compares bytewise,
	// and audit event IDs come from an identity, never reused.
	if n := scalar[int64](t, s, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'`); n != 0 {
		t.Errorf("%d text columns are not COLLATE \"C\"", n)
	}
	if id := scalar[string](t, s, `SELECT is_identity || ' ' || identity_generation FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'audit_events' AND column_name = 'id'`); id != "YES BY DEFAULT" {
		t.Errorf("audit_events.id identity: %s", id)
	}
}

// tableSchema describes one table in terms both engines share.
type tableSchema struct {
	Columns []string // "name type [not null] [default value]", in order
	Primary string   // columns of the primary key
	Uniques []string // columns of each unique constraint, sorted
	Foreign []string // "cols -> table(cols) on delete action", sorted
	Indexes []string // "name (cols) [where cond]", sorted
	Checks  int
}

func sqliteSchema(t *testing.T) map[string]*tableSchema {
	path := filepath.Join(t.TempDir(), "u.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func(query string, args ...any) [][]string {
		t.Helper()
		r, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer r.Close()
		cols, _ := r.Columns()
		var out [][]string
		for r.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = v.String
			}
			out = append(out, row)
		}
		return out
	}
	types := map[string]string{"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}
	out := map[string]*tableSchema{}
	for _, tbl := range rows(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`) {
		name, ddl := tbl[0], tbl[1]
		if name == "cache_invalidations" {
			// SQLite's cache invalidation log; PostgreSQL's servers
			// hear each other on LISTEN/NOTIFY instead.
			continue
		}
		ts := &tableSchema{Checks: strings.Count(ddl, "CHECK (")}
		pk := map[string]string{}
		for _, c := range rows(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, name) {
			desc := c[0] + " " + types[c[1]]
			if c[2] == "1" || c[4] != "0" {
				desc += " not null"
			}
			if c[3] != "" {
				desc += " default " + c[3]
			}
			ts.Columns = append(ts.Columns, desc)
			if c[4] != "0" {
				pk[c[4]] = c[0]
			}
		}
		for i := 1; i <= len(pk); i++ {
			ts.Primary = strings.TrimPrefix(ts.Primary+", "+pk[fmt.Sprint(i)], ", ")
		}
		for _, ix := range rows(`SELECT name, origin, partial FROM pragma_index_list(?)`, name) {
			var cols []string
			for _, c := range rows(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix[0]) {
				cols = append(cols, c[0])
			}
			switch ix[1] {
			case "u":
				ts.Uniques = append(ts.Uniques, strings.Join(cols, ", "))
			case "c":
				if ix[0] == "users_app_card" {
					// SQLite reads a card from this covering index;
					// PostgreSQL reads it by the primary key (an
					// index-only scan needs all-visible pages, which a
					// table taking registrations rarely has), and keeps
					// the index's key alone, for UsersAfter.
					ix[0], cols = "users_app_user", cols[:2]
				}
				desc := ix[0] + " (" + strings.Join(cols, ", ") + ")"
				if ix[2] == "1" {
					ixSQL := rows(`SELECT sql FROM sqlite_master WHERE name = ?`, ix[0])[0][0]
					desc += " where " + strings.ToLower(ixSQL[strings.Index(ixSQL, " WHERE ")+7:])
				}
				ts.Indexes = append(ts.Indexes, desc)
			}
		}
		for _, fk := range rows(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, name) {
			ts.Foreign = append(ts.Foreign, fk[1]+" -> "+fk[0]+"("+fk[2]+") on delete "+strings.ToLower(fk[3]))
		}
		slices.Sort(ts.Uniques)
		slices.Sort(ts.Foreign)
		slices.Sort(ts.Indexes)
		out[name] = ts
	}
	return out
}

func postgresSchema(t *testing.T, s *postgres.Store) map[string]*tableSchema {
	rows := func(query string, args ...any) [][]string {
		t.Helper()
		r, err := s.Pool().Query(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer r.Close()
		var out [][]string
		for r.Next() {
			vals, err := r.Values()
			if err != nil {
				t.Fatal(err)
			}
			row := make([]string, len(vals))
			for i, v := range vals {
				if v != nil {
					row[i] = fmt.Sprint(v)
				}
			}
			out = append(out, row)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// "'CN'::text" is SQLite's "'CN'".
	cast := regexp.MustCompile(`::[a-z ]+$`)
	actions := map[string]string{"a": "no action", "c": "cascade", "r": "restrict", "n": "set null", "d": "set default"}
	out := map[string]*tableSchema{}
	for _, tbl := range rows(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`) {
		name := tbl[0]
		ts := &tableSchema{}
		for _, c := range rows(`SELECT column_name, data_type, is_nullable, coalesce(column_default, '') FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name) {
			desc := c[0] + " " + c[1]
			if c[2] == "NO" {
				desc += " not null"
			}
			if c[3] != "" {
				desc += " default " + cast.ReplaceAllString(c[3], "")
			}
			ts.Columns = append(ts.Columns, desc)
		}
		cols := func(rel, keys string) string {
			var names []string
			for _, k := range strings.Fields(strings.Trim(keys, "{}[]")) {
				names = append(names, rows(`SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum = $2`, rel, k)[0][0])
			}
			return strings.Join(names, ", ")
		}
		for _, c := range rows(`SELECT contype::text, conrelid::text, array_to_string(conkey, ' '),
			coalesce(confrelid::regclass::text, ''), confrelid::text, coalesce(array_to_string(confkey, ' '), ''), confdeltype::text
			FROM pg_constraint WHERE conrelid = $1::regclass`, name) {
			switch c[0] {
			case "p":
				ts.Primary = cols(c[1], c[2])
			case "u":
				ts.Uniques = append(ts.Uniques, cols(c[1], c[2]))
			case "f":
				ts.Foreign = append(ts.Foreign, cols(c[1], c[2])+" -> "+c[3]+"("+cols(c[4], c[5])+") on delete "+actions[c[6]])
			case "c":
				ts.Checks++
			}
		}
		// Indexes that back no constraint, as SQLite's CREATE INDEX ones.
		for _, ix := range rows(`SELECT i.relname, x.indrelid::text, array_to_string(x.indkey, ' '), coalesce(pg_get_expr(x.indpred, x.indrelid), '')
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = x.indexrelid)`, name) {
			desc := ix[0] + " (" + cols(ix[1], ix[2]) + ")"
			if ix[3] != "" {
				desc += " where " + strings.ToLower(strings.Trim(ix[3], "()"))
			}
			ts.Indexes = append(ts.Indexes, desc)
		}
		slices.Sort(ts.Uniques)
		slices.Sort(ts.Foreign)
		slices.Sort(ts.Indexes)
		out[name] = ts
	}
	return out
}

// TestMigrationCountsUsers: migration 6 counts the users already there,
// as a database upgraded from before it has them.
func TestMigrationCountsUsers(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addApps(t, s, 1, 2)
	users := []*core.UserRecord{newUser(1, "a", base), newUser(1, "b", base), newUser(1, "c", base.Add(48*time.Hour)), newUser(2, "d", base)}
	users[1].Status = usercenter.UserDisabled
	for _, u := range users {
		update(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, u) })
	}
	// Back to the schema before migration 6, the users kept.
	raw(t, s, `DROP TRIGGER users_stats ON users; DROP FUNCTION users_stats(); DROP FUNCTION user_stats_add(BIGINT, BIGINT, BIGINT, BIGINT, BIGINT);
		DROP TABLE user_stats; ALTER TABLE audit_events DROP COLUMN reason; DELETE FROM schema_migrations WHERE version = 6`)
	s.Close()

	s, err = postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Applied(); !reflect.DeepEqual(got, []int{6}) {
		t.Fatalf("applied %v, want [6]", got)
	}
	day := base.UTC().Truncate(24 * time.Hour)
	for app, want := range map[uint64]*core.UserStats{
		1: {Active: 2, Disabled: 1, Days: []core.DayCount{{Day: day, Created: 2}, {Day: day.Add(48 * time.Hour), Created: 1}}},
		2: {Active: 1, Days: []core.DayCount{{Day: day, Created: 1}}},
	} {
		got, err := s.UserStats(ctx, app, base.Add(-time.Hour))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("app %d after migration 6: %+v (%v), want %+v", app, got, err, want)
		}
	}
}

// migrationCount is the number of migrations in the package's directory
// (which it embeds): one row each in schema_migrations once applied.
func migrationCount(t *testing.T) int64 {
	t.Helper()
	ms, err := sqlstore.Migrations("postgres", os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(ms))
}
