package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"usercenter"
	"usercenter/sqlstore"
)

// SQLSTATE codes the store acts on.
const (
	sqlSerializationFailure = "40001"
	sqlDeadlockDetected     = "40P01"
	sqlUniqueViolation      = "23505"
	sqlForeignKeyViolation  = "23503"
	sqlBadEncoding          = "22021" // character_not_in_repertoire: invalid UTF-8, or a NUL
	sqlUntranslatable       = "22P05"
	sqlDiskFull             = "53100"
	sqlTooManyConnections   = "53300"
	sqlInvalidPassword      = "28P01"
	sqlInvalidAuthorization = "28000" // no pg_hba.conf entry for the user, among others
)

// engine names this store in the errors sqlstore builds.
const engine = "postgres"

// uniqueFields finds the field behind a uniqueness constraint by its name
// in migrations/0001_init.sql.
var uniqueFields = sqlstore.UniqueFields(func(u sqlstore.Unique) string { return u.Name })

// linkKey is the name of user_links' primary key.
var linkKey = sqlstore.LinkKey.Name

func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func sqlState(err error) string {
	if e := pgError(err); e != nil {
		return e.Code
	}
	return ""
}

// uniqueConstraint returns the name of the uniqueness constraint err
// violated, or "" if err is no such violation.
func uniqueConstraint(err error) string {
	if e := pgError(err); e != nil && e.Code == sqlUniqueViolation {
		return e.ConstraintName
	}
	return ""
}

// violation is the constraint err broke, if any.
func violation(err error) sqlstore.Violation {
	return sqlstore.Violation{Unique: uniqueConstraint(err), ForeignKey: sqlState(err) == sqlForeignKeyViolation}
}

// retryable reports whether err means that the transaction lost a race
// with another one and would succeed if run again.
func retryable(err error) bool {
	switch sqlState(err) {
	case sqlSerializationFailure, sqlDeadlockDetected:
		return true
	}
	return false
}

// statementLevel reports whether err undid only the statement that raised
// it, so that rolling back to a savepoint leaves a usable transaction:
// constraint violations (class 23) and bad values (class 22), which is
// what SQLite also reports without losing its transaction. Anything else
// (a serialization failure, a lost connection, a canceled query) loses
// the transaction, and with it fn's attempt.
func statementLevel(err error) bool {
	e := pgError(err)
	return e != nil && (strings.HasPrefix(e.Code, "23") || strings.HasPrefix(e.Code, "22"))
}

// badText reports whether err is PostgreSQL refusing text that is not
// valid UTF-8 or holds a NUL, which SQLite would have stored.
func badText(err error) bool {
	switch sqlState(err) {
	case sqlBadEncoding, sqlUntranslatable:
		return true
	}
	return false
}

func errBadText(err error) error {
	return &usercenter.Error{Code: usercenter.EInvalid, Message: "text must be valid UTF-8 without NUL characters", Err: err}
}

// storable reports whether PostgreSQL can hold s in a TEXT column. A value
// it cannot hold is in no row, so a lookup by it finds nothing without
// asking (PostgreSQL would refuse the query, SQLite answer "not found").
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// storableArgs reports whether every string among args is storable.
func storableArgs(args []any) bool {
	for _, a := range args {
		if s, ok := a.(string); ok && !storable(s) {
			return false
		}
	}
	return true
}

// unreachable reports whether err means the database could not be reached
// or the connection was lost, rather than that it refused the statement.
func unreachable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	if e := pgError(err); e != nil {
		// Class 08 is connection exceptions; 57P01-57P03 a server that is
		// shutting down or starting up; 53300 too many connections.
		return strings.HasPrefix(e.Code, "08") || e.Code == "57P01" || e.Code == "57P02" || e.Code == "57P03" || e.Code == sqlTooManyConnections
	}
	return false
}

// ctxError turns the end of the caller's ctx into a domain error that
// still matches context.Canceled or context.DeadlineExceeded with
// errors.Is. A deadline that passed while the database did not answer is
// EUnavailable, so that facades answer their "unavailable" code.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database did not answer in time", Err: err}
	}
	return usercenter.Internal(err)
}

// mapErr maps an unexpected error of a statement to the domain: the end of
// ctx, an unreachable database, a closed store, or Internal. closed
// reports whether Close has begun.
func mapErr(ctx context.Context, closed bool, err error) error {
	var ue *usercenter.Error
	switch {
	case errors.As(err, &ue):
		return err
	case closed: // the pool's own error then is that it is closed
		return sqlstore.ErrClosed()
	case ctx.Err() != nil:
		return ctxError(ctx.Err())
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		// Another context's deadline, such as a batch's (see batchContext).
		return ctxError(context.DeadlineExceeded)
	case AuthFailed(err):
		// Before unreachable: the server's refusal comes inside the
		// ConnectError of the connection it refused.
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "authentication failed for the database user", Err: err}
	case storageFailed(err):
		if sqlState(err) == sqlDiskFull {
			return sqlstore.DiskFull(err)
		}
		return sqlstore.StorageFailed(err)
	case unreachable(err):
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database is unreachable", Err: err}
	}
	return usercenter.Internal(err)
}

// AuthFailed reports whether err is the database server refusing the
// user's credentials (SQLSTATE 28P01, a wrong password, or 28000, such as
// a user that pg_hba.conf does not let in), as opposed to a server that
// cannot be reached.
func AuthFailed(err error) bool {
	switch sqlState(err) {
	case sqlInvalidPassword, sqlInvalidAuthorization:
		return true
	}
	return false
}

// storageFailed reports whether err is the server running out of a
// resource (class 53: disk full, out of memory, a configured limit; not
// too many connections, which is unreachable) or reporting a system or
// I/O error (class 58). Both pass without this node doing anything.
func storageFailed(err error) bool {
	code := sqlState(err)
	return (strings.HasPrefix(code, "53") && code != sqlTooManyConnections) || strings.HasPrefix(code, "58")
}
