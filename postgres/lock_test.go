package postgres_test

import (
	"errors"
	"testing"

	"usercenter"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// TestTryLock plays two nodes on one schema: servers share the lock, a
// rotation needs it alone.
func TestTryLock(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	locked := func(s *postgres.Store, exclusive bool) {
		t.Helper()
		release, err := s.TryLock(ctx, exclusive)
		if !errors.Is(err, postgres.ErrLocked) || release != nil {
			t.Fatalf("TryLock(exclusive %v) = %v; want ErrLocked", exclusive, err)
		}
		wantErr(t, err, usercenter.EUnavailable, "")
	}
	lock := func(s *postgres.Store, exclusive bool) func() {
		t.Helper()
		release, err := s.TryLock(ctx, exclusive)
		if err != nil {
			t.Fatalf("TryLock(exclusive %v): %v", exclusive, err)
		}
		return release
	}

	// Two servers share it; a rotation is refused until both are gone.
	ra, rb := lock(a, false), lock(b, false)
	locked(a, true)
	locked(b, true)
	ra()
	ra() // releasing twice does no harm
	locked(a, true)
	rb()
	rx := lock(a, true)

	// While the rotation runs, no server starts, on either node, and no
	// second rotation; the same store is refused too, as it is another
	// session.
	locked(b, false)
	locked(b, true)
	locked(a, false)
	rx()
	rb = lock(b, false)
	rb()

	// The held lock keeps one connection out of the pool, and the store
	// works on meanwhile.
	rx = lock(a, true)
	addApps(t, a, 1)
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rx()

	// Close releases what the store holds.
	lock(a, true)
	a.Close()
	rb = lock(b, true)
	rb()
	_, err := a.TryLock(ctx, false)
	wantErr(t, err, usercenter.EUnavailable, "")

	// Another schema in the same database has a lock of its own.
	rb = lock(b, true)
	defer rb()
	other := openStore(t)
	lock(other, true)()
}
