package pgtest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"usercenter/postgres/pgtest"
)

var ctx = context.Background()

// TestDSN checks that the DSN selects a fresh, empty schema of its own,
// through the search_path pgx sends when it connects, and that the schema
// is gone once the test that asked for it has ended.
func TestDSN(t *testing.T) {
	var schema string
	t.Run("use", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "uctest_") {
			t.Fatalf("current_schema() = %q", schema)
		}
		var tables int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("fresh schema has %d tables, %v", tables, err)
		}
		// Unqualified names land in the schema.
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
		var where string
		if err := conn.QueryRow(ctx, `SELECT schemaname FROM pg_tables WHERE tablename = 't' AND schemaname LIKE 'uctest_%'`).Scan(&where); err != nil || where != schema {
			t.Fatalf("table created in %q, %v; want %q", where, err, schema)
		}
		if other := pgtest.DSN(t); other == dsn {
			t.Fatal("two DSNs share a schema")
		}
	})
	if schema == "" {
		return
	}
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s left behind: %d, %v", schema, n, err)
	}
}

func TestWithSearchPath(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?search_path=s1&sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db?search_path=s1"},
		{"postgres://u@h/db?search_path=old", "postgres://u@h/db?search_path=s1"},
		{"host=h user=u dbname=db", "host=h user=u dbname=db search_path='s1'"},
	} {
		if got := pgtest.WithSearchPath(c.dsn, "s1"); got != c.want {
			t.Errorf("WithSearchPath(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
	// A key=value DSN works too.
	dsn := pgtest.DSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := cfg.RuntimeParams["search_path"]
	kv := pgtest.WithSearchPath("host="+cfg.Host+" port="+strconv.Itoa(int(cfg.Port))+" user="+cfg.User+" password="+cfg.Password+
		" dbname="+cfg.Database+" sslmode=disable", schema)
	conn, err := pgx.Connect(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var got string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&got); err != nil || got != schema {
		t.Fatalf("key=value DSN: current_schema() = %q, %v; want %q", got, err, schema)
	}
}

// fakeTB records what DSN does without a database.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type stop struct{}

// DSN calls only these; Skip and Fatal end the caller, as the real ones
// do, by unwinding to dsnWithout.
func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped = sprint(args); panic(stop{}) }
func (f *fakeTB) Fatal(args ...any) { f.failed = sprint(args); panic(stop{}) }

func sprint(args []any) string {
	var b strings.Builder
	for _, a := range args {
		if s, ok := a.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

func dsnWithout(tb *fakeTB) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
	}()
	pgtest.DSN(tb)
}

// TestDSNWithoutDatabase checks that tests skip without the database,
// saying how to run them, except in CI, where they fail.
func TestDSNWithoutDatabase(t *testing.T) {
	t.Setenv(pgtest.EnvVar, "")
	t.Setenv("CI", "")
	tb := &fakeTB{TB: t}
	dsnWithout(tb)
	if !strings.Contains(tb.skipped, pgtest.EnvVar+"=postgres://") || !strings.Contains(tb.skipped, "README") || tb.failed != "" {
		t.Fatalf("without the database: skipped %q, failed %q", tb.skipped, tb.failed)
	}

	t.Setenv("CI", "true")
	tb = &fakeTB{TB: t}
	dsnWithout(tb)
	if !strings.Contains(tb.failed, pgtest.EnvVar) || tb.skipped != "" {
		t.Fatalf("in CI without the database: skipped %q, failed %q", tb.skipped, tb.failed)
	}
}
