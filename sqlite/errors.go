package sqlite

import (
	"errors"
	"strings"
	"syscall"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usercenter"
	"usercenter/sqlstore"
)

// engine names this store in the errors sqlstore builds.
const engine = "sqlite"

// uniqueFields finds the field behind a uniqueness constraint by its
// columns, as SQLite lists them in the message of a violation.
var uniqueFields = sqlstore.UniqueFields(sqlstore.Unique.Columns)

// linkKey is how SQLite lists the columns of user_links' primary key.
var linkKey = sqlstore.LinkKey.Columns()

// sqliteCode returns the extended SQLite result code of err, or 0 if err
// did not come from SQLite.
func sqliteCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// violation is the constraint err broke, if any.
func violation(err error) sqlstore.Violation {
	cols, _ := uniqueColumns(err)
	return sqlstore.Violation{Unique: cols, ForeignKey: isForeignKey(err)}
}

// uniqueColumns returns the columns of the uniqueness constraint err
// violated, as SQLite lists them, or false if err is no such violation.
func uniqueColumns(err error) (string, bool) {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
	default:
		return "", false
	}
	// The message reads "...UNIQUE constraint failed: users.sdk_app_id,
	// users.origin_id (2067)".
	msg := err.Error()
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return "", false
	}
	cols := msg[i+len(marker):]
	if j := strings.LastIndex(cols, " ("); j >= 0 {
		cols = cols[:j]
	}
	return cols, true
}

// isForeignKey reports whether err is a foreign key violation. SQLite does
// not say which key, so callers know from the statement.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// losesTx reports whether err may have made SQLite roll back the whole
// transaction. Constraint violations only undo their own statement; for
// anything else from SQLite assume the worst, as the cost of being wrong
// is only that the rest of the batch runs again in a new transaction.
func losesTx(err error) bool {
	code := sqliteCode(err)
	return code != 0 && code&0xff != sqlite3.SQLITE_CONSTRAINT
}

// unexpected maps an error of SQLite that the store has no better answer
// for: a full disk (SQLITE_FULL, or the ENOSPC of a file it writes) or an
// I/O error (SQLITE_IOERR and its extended codes) is unavailable, as it
// passes once the operator frees space or fixes the storage; anything
// else is Internal.
func unexpected(err error) error {
	code := sqliteCode(err)
	switch {
	case code == sqlite3.SQLITE_FULL, errors.Is(err, syscall.ENOSPC):
		return sqlstore.DiskFull(err)
	case code&0xff == sqlite3.SQLITE_IOERR, errors.Is(err, syscall.EIO):
		return sqlstore.StorageFailed(err)
	}
	return usercenter.Internal(err)
}
