package postgres

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool gives the tests in package postgres_test (which must be external to
// use pgtest, since pgtest imports this package) raw access to the
// database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// LargestBatch returns the most Updates one batch has held.
func (s *Store) LargestBatch() int64 { return s.largestBatch.Load() }

// LockKeys returns the schema's advisory lock keys.
func (s *Store) LockKeys() (migrate, server, audit int64) {
	return s.keys.migrate, s.keys.server, s.keys.audit
}

// Queries whose plans TestQueryPlans checks.
var (
	QUsersByPhone       = reads.UsersByPhone
	QUsersByEmail       = reads.UsersByEmail
	QUsersAfter         = reads.UsersAfter
	QUsersModifiedAfter = reads.UsersModifiedAfter
	QListUsers          = qListUsers
	QUser               = reads.User
	QUserCardInApp      = reads.UserCardInApp
	QUserByLink         = reads.UserByLink
	QAppByDomain        = reads.AppByDomain
	QKey                = reads.Key

	QTrimEnterpriseTokens = qTrimEnterpriseTokens
)

// CheckServerLockOnDemand makes the watchers of the HoldServerLock calls
// that follow check their lock only when the test calls check, rather than
// every lockCheckInterval. check returns once the check is over, and
// reports whether the watch goes on. The clock is out of it, so a test
// proves what one check does however slow the machine is.
func CheckServerLockOnDemand(t testing.TB) (check func() (watching bool)) {
	requests := make(chan chan bool)
	old := watchServerLock
	watchServerLock = func(done <-chan struct{}, check func() bool) {
		for {
			select {
			case <-done:
				return
			case reply := <-requests:
				select {
				case <-done:
					// This watch was released before the request was
					// made (the test makes them in order): it is for
					// the watch that followed.
					requests <- reply
					return
				default:
				}
				more := check()
				reply <- more
				if !more {
					return
				}
			}
		}
	}
	t.Cleanup(func() { watchServerLock = old })
	return func() bool {
		t.Helper()
		reply := make(chan bool, 1)
		select {
		case requests <- reply:
		case <-time.After(time.Minute):
			t.Fatal("no HoldServerLock watch is running to check")
		}
		return <-reply
	}
}

// MapErr is mapErr, for the tests of how errors map.
var MapErr = mapErr

// SetListenIdle sets how long the invalidation listener waits quietly
// before it checks its session, until the test ends.
func SetListenIdle(t testing.TB, d time.Duration) {
	old := listenIdle
	listenIdle = d
	t.Cleanup(func() { listenIdle = old })
}

// Pings counts the listener's checks of its quiet session.
func (b *InvalidationBus) Pings() int64 { return b.pings.Load() }
