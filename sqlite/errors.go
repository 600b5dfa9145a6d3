package sqlite

import (
	"errors"
	"strings"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usercenter"
	"usercenter/sqlstore"
)

// errTokenNotFound is the NotFound of a login or enterprise token.
func errTokenNotFound() error {
	return &usercenter.Error{Code: usercenter.ENotFound, Resource: usercenter.ResourceToken, Message: "token not found"}
}

// uniqueFields names the domain field behind each uniqueness constraint, as
// SQLite lists the constraint's columns in its error message.
var uniqueFields = map[string]usercenter.Field{
	"apps.sdk_app_id":                   usercenter.FieldSdkAppID,
	"apps.user_domain":                  usercenter.FieldUserDomain,
	"api_keys.secret_id":                usercenter.FieldSecretID,
	"users.user_id":                     usercenter.FieldUserID,
	"users.sdk_app_id, users.origin_id": usercenter.FieldOriginID,
	"tokens.token_hash":                 usercenter.FieldToken,
	"codes.code_hash":                   usercenter.FieldCode,
	"enterprise_tokens.token_hash":      usercenter.FieldToken,
}

// sqliteCode returns the extended SQLite result code of err, or 0 if err
// did not come from SQLite.
func sqliteCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// linkKey is how SQLite names the columns of user_links' primary key.
const linkKey = "user_links.sdk_app_id, user_links.provider, user_links.provider_user_id"

// conflict turns a uniqueness violation into the domain's EConflict naming
// the field; it returns nil for any other error.
func conflict(err error) error {
	cols, ok := uniqueColumns(err)
	if !ok {
		return nil
	}
	field, ok := uniqueFields[cols]
	if !ok {
		return nil
	}
	return conflictOn(field, err)
}

func conflictOn(field usercenter.Field, err error) error { return sqlstore.Conflict(field, err) }

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

func nullBytes(b []byte) any { return sqlstore.NullBytes(b) }
