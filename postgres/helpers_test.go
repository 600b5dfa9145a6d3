package postgres_test

import (
	"context"
	"testing"

	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

var ctx = context.Background()

// The contract suite's helpers, under shorter names.
var (
	base     = storetest.Base
	newApp   = storetest.NewApp
	newUser  = storetest.NewUser
	fullUser = storetest.FullUser
	addApps  = storetest.AddApps
	update   = storetest.MustUpdate
	wantErr  = storetest.WantErr
	hashOf   = storetest.HashOf
)

func openStore(t testing.TB) *postgres.Store {
	t.Helper()
	return pgtest.Open(t)
}

// scalar reads one value with a raw query, as readers see the database.
func scalar[T any](t testing.TB, s *postgres.Store, query string, args ...any) T {
	t.Helper()
	var v T
	if err := s.Pool().QueryRow(ctx, query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// raw runs a statement the contract has no method for.
func raw(t testing.TB, s *postgres.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.Pool().Exec(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

var _ core.Store = (*postgres.Store)(nil)
