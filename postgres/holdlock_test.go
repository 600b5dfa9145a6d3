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
// the schema's server key, as a database restart would.
func killServerLockSessions(t *testing.T, s *postgres.Store) int {
	t.Helper()
	_, server, _ := s.LockKeys()
	var n int
	err := s.Pool().QueryRow(context.Background(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted
		  AND ((classid::bigint << 32) | objid::bigint) = $1`, server).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond for up to limit.
func waitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestHoldServerLockSurvivesLostSession(t *testing.T) {
	defer postgres.SetLockCheckInterval(50 * time.Millisecond)()
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

	// The session dies; the watcher takes the lock again.
	if n := killServerLockSessions(t, rotation); n != 1 {
		t.Fatalf("terminated %d sessions, want the server's one", n)
	}
	if !waitFor(2*time.Second, rotationLocked) {
		t.Fatal("the server did not take its lock again after its session ended")
	}
	select {
	case err := <-lost:
		t.Fatalf("lost called although the lock was taken again: %v", err)
	default:
	}

	// The session dies and a rotation gets there first: the server is told.
	// A watcher that checks every second leaves the rotation ample time.
	release()
	defer postgres.SetLockCheckInterval(time.Second)()
	release, err = server.HoldServerLock(ctx, func(err error) { lost <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	killServerLockSessions(t, rotation)
	var releaseRotation func()
	if !waitFor(500*time.Millisecond, func() bool {
		r, err := rotation.TryLock(ctx, true)
		if err == nil {
			releaseRotation = r
		}
		return err == nil
	}) {
		t.Fatal("the rotation never got the lock")
	}
	defer releaseRotation()
	select {
	case err := <-lost:
		if err == nil {
			t.Fatal("lost called with a nil error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server was not told that a rotation holds its lock")
	}
}
