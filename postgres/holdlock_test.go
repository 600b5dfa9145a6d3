package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// killServerLockSessions ends every session holding an advisory lock on
// the schema's server key, as a database restart would, and waits until
// they are gone: pg_terminate_backend only signals a backend, which lets
// go of its locks when it gets round to exiting.
func killServerLockSessions(t *testing.T, s *postgres.Store) int {
	t.Helper()
	_, server, _ := s.LockKeys()
	const holders = `FROM pg_locks WHERE locktype = 'advisory' AND granted
		  AND ((classid::bigint << 32) | objid::bigint) = $1`
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) `+holders, server).Scan(&n); err != nil {
		t.Fatal(err)
	}
	gone := waitFor(time.Minute, func() bool {
		var left int
		if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) `+holders, server).Scan(&left); err != nil {
			t.Fatal(err)
		}
		return left == 0
	})
	if !gone {
		t.Fatal("the terminated sessions still hold the server lock after a minute")
	}
	return n
}

// waitFor polls cond for up to limit. Limits are generous: they only
// bound how long a broken test takes to fail.
func waitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestHoldServerLockSurvivesLostSession runs the watch's checks on demand,
// so that nothing hangs on how soon a ticker fires on a loaded machine, and
// so that the test's own probes of the lock (which take it for a moment)
// never overlap a check.
func TestHoldServerLockSurvivesLostSession(t *testing.T) {
	check := postgres.CheckServerLockOnDemand(t)
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	server, rotation := open(), open()
	lost := make(chan error, 1)
	release, err := server.HoldServerLock(ctx, func(err error) { lost <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rotationLocked := func() bool {
		t.Helper()
		r, err := rotation.TryLock(ctx, true)
		if err == nil {
			r()
			return false
		}
		if !errors.Is(err, postgres.ErrLocked) {
			t.Fatalf("TryLock: %v", err)
		}
		return true
	}
	if !rotationLocked() {
		t.Fatal("a rotation got the lock while a server held it")
	}
	if !check() || !rotationLocked() {
		t.Fatal("a check of a live session let the lock go")
	}

	// The session dies; the next check takes the lock again.
	if n := killServerLockSessions(t, rotation); n != 1 {
		t.Fatalf("terminated %d sessions, want the server's one", n)
	}
	if rotationLocked() {
		t.Fatal("the lock is still held after the server's session ended")
	}
	if !check() {
		t.Fatal("the watch ended although no rotation held the lock")
	}
	if !rotationLocked() {
		t.Fatal("the server did not take its lock again after its session ended")
	}
	select {
	case err := <-lost:
		t.Fatalf("lost called although the lock was taken again: %v", err)
	default:
	}

	// The session dies and a rotation gets there first: the next check
	// tells the server.
	release()
	release, err = server.HoldServerLock(ctx, func(err error) { lost <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	killServerLockSessions(t, rotation)
	releaseRotation, err := rotation.TryLock(ctx, true)
	if err != nil {
		t.Fatalf("the rotation did not get the lock after the server's session ended: %v", err)
	}
	defer releaseRotation()
	if check() {
		t.Fatal("the watch went on although a rotation holds the lock")
	}
	select {
	case err := <-lost:
		if err == nil {
			t.Fatal("lost called with a nil error")
		}
	default:
		t.Fatal("the server was not told that a rotation holds its lock")
	}
}
