// Package svctest builds a bare usercenter service over a fresh store, for
// tests. The tests inside a facade's own package use it: they cannot
// import uctest, which reaches every facade through the server.
//
// The store is SQLite in a temporary directory unless
// USERCENTER_TEST_ENGINE=postgres, which puts it in a fresh schema of the
// database USERCENTER_TEST_POSTGRES names (see package pgtest), so that
// the same tests prove core and the facades on either engine.
package svctest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/storecache"
	"usercenter/vault"
)

// EngineVar names the variable that picks the engine.
const EngineVar = "USERCENTER_TEST_ENGINE"

// The engines a test can run on.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Engine is the engine tests run on: SQLite unless EngineVar says
// otherwise.
func Engine() string {
	if e := os.Getenv(EngineVar); e != "" {
		return e
	}
	return SQLite
}

// NewDatabase returns where a fresh, empty database of the engine is, for
// OpenDatabase: a file path in a temporary directory for SQLite, a DSN of
// a new schema (dropped when tb ends) for PostgreSQL. Tests that reopen a
// database, as a restart would, open it more than once.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	switch e := Engine(); e {
	case SQLite:
		return filepath.Join(tb.TempDir(), "usercenter.db")
	case Postgres:
		return pgtest.DSN(tb)
	default:
		tb.Fatalf("%s=%q: want %q or %q", EngineVar, e, SQLite, Postgres)
		return ""
	}
}

// OpenDatabase opens the database NewDatabase returned, and closes the
// store when tb ends.
func OpenDatabase(tb testing.TB, db string) core.Store {
	tb.Helper()
	// A bound, so that an unreachable server fails the test instead of
	// hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		store core.Store
		err   error
	)
	switch e := Engine(); e {
	case SQLite:
		store, err = sqlite.Open(ctx, db)
	case Postgres:
		store, err = postgres.Open(ctx, db, postgres.Options{})
	default:
		tb.Fatalf("%s=%q: want %q or %q", EngineVar, e, SQLite, Postgres)
	}
	if err != nil {
		tb.Fatalf("opening the %s store: %v", Engine(), err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

// OpenStore opens a fresh, empty store of the engine that closes when tb
// ends.
func OpenStore(tb testing.TB) core.Store {
	tb.Helper()
	return OpenDatabase(tb, NewDatabase(tb))
}

// New opens a fresh store under a fresh random master key and builds a
// service over it; both close when the test ends. Logs are discarded and
// AccessKey logins are remembered in memory, as by one server, unless an
// option says otherwise.
func New(tb testing.TB, opts ...core.Option) (*core.Service, core.Store) {
	tb.Helper()
	// Cached as serve caches it; see uctest.New.
	var store core.Store = storecache.New(OpenStore(tb), storecache.DefaultLimits)
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]core.Option{
		core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		// Begun long ago: no earlier process accepted this test's logins.
		core.WithLoginReplay(replay.NewSince(time.Time{}, core.LoginReplayWindow, core.LoginReplayEntries)),
	}, opts...)
	svc, err := core.NewService(context.Background(), store, ring, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store
}
