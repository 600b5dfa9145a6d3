package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool gives the tests in package postgres_test (which must be external to
// use pgtest, since pgtest imports this package) raw access to the
// database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// LockKeys returns the schema's advisory lock keys.
func (s *Store) LockKeys() (migrate, server, audit int64) {
	return s.keys.migrate, s.keys.server, s.keys.audit
}

// Queries whose plans TestQueryPlans checks.
var (
	QUsersByPhone = reads.UsersByPhone
	QUsersByEmail = reads.UsersByEmail
	QUsersAfter   = reads.UsersAfter
	QListUsers    = qListUsers
	QUser         = reads.User
	QUserByLink   = reads.UserByLink
	QAppByDomain  = reads.AppByDomain
	QKey          = reads.Key

	QTrimEnterpriseTokens = qTrimEnterpriseTokens
)

// SetLockCheckInterval shortens HoldServerLock's checks for a test.
func SetLockCheckInterval(d time.Duration) (restore func()) {
	old := lockCheckInterval
	lockCheckInterval = d
	return func() { lockCheckInterval = old }
}
