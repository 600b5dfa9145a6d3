package postgres_test

import (
	"errors"
	"testing"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

func TestReadOnlyOpen(t *testing.T) {
	dsn := pgtest.DSN(t)
	ro := postgres.Options{ReadOnly: true}

	// An empty schema stays empty: no migrations, a clear error.
	if _, err := postgres.Open(ctx, dsn, ro); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("read-only Open of an empty schema: %v, want ErrNotMigrated", err)
	}
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Applied()) == 0 {
		t.Fatal("the read-only Open left tables behind: the read-write one applied no migration")
	}
	addApps(t, s, 1)
	version := scalar[int](t, s, `SELECT MAX(version) FROM schema_migrations`)

	r, err := postgres.Open(ctx, dsn, ro)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if apps, err := r.Apps(ctx); err != nil || len(apps) != 1 {
		t.Fatalf("Apps = %v, %v; want the one app", apps, err)
	}
	err = r.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, newApp(2)) })
	if !errors.Is(err, postgres.ErrReadOnly) {
		t.Fatalf("Update on a read-only store: %v, want ErrReadOnly", err)
	}
	// The sessions themselves refuse writes.
	if _, err := r.Pool().Exec(ctx, `DELETE FROM apps`); err == nil {
		t.Fatal("a DELETE on a read-only store's pool succeeded")
	}
	r.Close()

	raw(t, s, `DELETE FROM schema_migrations WHERE version = $1`, version)
	s.Close()
	if _, err := postgres.Open(ctx, dsn, ro); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("read-only Open of an older schema: %v, want ErrNotMigrated", err)
	}
}
