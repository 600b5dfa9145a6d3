// Package svctest builds a bare usercenter service over a fresh SQLite
// store, for tests. The tests inside a facade's own package use it: they
// cannot import uctest, which reaches every facade through the server.
package svctest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"usercenter/core"
	"usercenter/sqlite"
	"usercenter/vault"
)

// New opens a store in a temporary directory under a fresh random master
// key and builds a service over it; both close when the test ends. Logs
// are discarded unless an option sets a logger.
func New(tb testing.TB, opts ...core.Option) (*core.Service, *sqlite.Store) {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "usercenter.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]core.Option{core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	svc, err := core.NewService(ctx, store, ring, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store
}
