// Package pgtest gives tests a PostgreSQL store of their own: a fresh,
// empty schema in the database that USERCENTER_TEST_POSTGRES names,
// dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter/postgres"
)

// EnvVar names the database the tests use.
const EnvVar = "USERCENTER_TEST_POSTGRES"

const howTo = "set " + EnvVar + "=postgres://user:pass@127.0.0.1:5432/db?sslmode=disable; see README"

// setupTimeout bounds creating and dropping a schema, so that an
// unreachable database fails the test rather than hanging it.
const setupTimeout = 30 * time.Second

// DSN returns a connection string for a new, empty schema in the database
// of USERCENTER_TEST_POSTGRES: it sets search_path to the schema, which
// the store then uses for everything. The schema is dropped, with all it
// holds, when t ends; close stores opened on it before (t.Cleanup runs
// last-registered first, so a store opened after DSN and closed in a
// cleanup is closed in time).
//
// Without the variable DSN skips t, saying how to run the test; but when
// CI is set it fails t instead, so that CI never skips PostgreSQL tests
// without anyone noticing.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL tests cannot run in CI without their database: " + howTo)
		}
		t.Skip("PostgreSQL tests need a database: " + howTo)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "uctest_" + hex.EncodeToString(b[:])

	exec(t, base, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	t.Cleanup(func() {
		exec(t, base, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath returns dsn with its search_path set to schema. pgx sends
// a parameter it does not know itself, such as search_path, to the server
// as a run-time setting at connect time, in a URL's query as in a
// key=value string.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path='" + schema + "'"
}

// Open opens a store on a fresh schema (see DSN) and closes it when t
// ends.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connecting to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
