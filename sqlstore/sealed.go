package sqlstore

import (
	"fmt"
	"math"
	"strconv"

	"usercenter"
	"usercenter/core"
)

// SealedColumn is where the values of one core.SealedKind live: column
// Value of Table, one a row, the row found by the text column Key.
type SealedColumn struct {
	Table, Key, Value string
	// Held is the condition a row must meet to hold a value of the kind;
	// "" if every row does.
	Held     string
	Resource string // for NotFound
}

// SealedColumns holds every kind whose row key is a text column. Apps,
// whose row key is derived from an integer (AppRowKey), are handled apart:
// paging them in uint64 order over int64 columns takes a query each
// engine writes its own way.
//
// Empty meta values and NULL user values are left out, and never
// overwritten: neither is ciphertext, and writing a rotated value into a
// user's NULL column would bring back personal data the user has since
// removed.
var SealedColumns = map[core.SealedKind]SealedColumn{
	core.SealedKeySecret:   {Table: "api_keys", Key: "secret_id", Value: "secret_key", Resource: usercenter.ResourceKey},
	core.SealedMeta:        {Table: "meta", Key: "name", Value: "value", Held: "length(value) > 0", Resource: usercenter.ResourceMeta},
	core.SealedUserPhone:   userSealedColumn("phone_enc"),
	core.SealedUserEmail:   userSealedColumn("email_enc"),
	core.SealedUserAddress: userSealedColumn("address_enc"),
	core.SealedConsoleTOTP: {Table: "console_accounts", Key: "id", Value: "totp_secret", Held: "totp_secret IS NOT NULL",
		Resource: usercenter.ResourceConsoleAccount},
	core.SealedWebhookSecret: {Table: "webhooks", Key: "id", Value: "secret", Resource: usercenter.ResourceWebhook},
}

func userSealedColumn(col string) SealedColumn {
	return SealedColumn{Table: "users", Key: "user_id", Value: col, Held: col + " IS NOT NULL", Resource: usercenter.ResourceUser}
}

// List is the query for (row key, value) of the rows with a row key above
// parameter 1, in row key order, LIMIT parameter 2.
func (c SealedColumn) List(p Placeholder) string {
	return `SELECT ` + c.Key + `, ` + c.Value + ` FROM ` + c.Table + ` WHERE ` + c.Key + ` > ` + p.Nth(1) + c.andHeld() +
		` ORDER BY ` + c.Key + ` LIMIT ` + p.Nth(2)
}

// Update is the statement that sets the value (parameter 1) of the row
// with a key (parameter 2), if that row holds one.
func (c SealedColumn) Update(p Placeholder) string {
	return `UPDATE ` + c.Table + ` SET ` + c.Value + ` = ` + p.Nth(1) + ` WHERE ` + c.Key + ` = ` + p.Nth(2) + c.andHeld()
}

func (c SealedColumn) andHeld() string {
	if c.Held == "" {
		return ""
	}
	return ` AND ` + c.Held
}

// AppRowKey is an app's row key: its SdkAppId as 20 decimal digits, so
// that the keys sort as the IDs do.
func AppRowKey(id uint64) string { return fmt.Sprintf("%020d", id) }

// parseAppRowKey reads a row key made by AppRowKey. ok is false if key is
// not 20 digits; ok but !inRange if it is, but above MaxUint64.
func parseAppRowKey(key string) (id uint64, ok, inRange bool) {
	if len(key) != 20 {
		return 0, false, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return 0, false, false
		}
	}
	id, err := strconv.ParseUint(key, 10, 64)
	return id, true, err == nil
}

// AppsFrom returns the smallest SdkAppId whose row key sorts after the row
// key after; "" sorts before them all. none reports that no SdkAppId's
// does. It fails with EInvalid if after is neither "" nor 20 digits.
func AppsFrom(after string) (from uint64, none bool, err error) {
	if after == "" {
		return 0, false, nil
	}
	id, ok, inRange := parseAppRowKey(after)
	if !ok {
		return 0, false, misuse("after must be empty or an app's 20-digit row key")
	}
	if !inRange || id == math.MaxUint64 {
		return 0, true, nil
	}
	return id + 1, false, nil
}

// AppOfRowKey returns the SdkAppId of an app's row key. It fails with
// EInvalid if key is not 20 digits, and with NotFound if it is but above
// MaxUint64, since no app can have that key.
func AppOfRowKey(key string) (uint64, error) {
	id, ok, inRange := parseAppRowKey(key)
	if !ok {
		return 0, misuse("an app's row key must be 20 digits")
	}
	if !inRange {
		return 0, usercenter.NotFound(usercenter.ResourceApp)
	}
	return id, nil
}

// ScanSealed reads a (row key, value) row of kind. Both engines store an
// SdkAppId as the int64 with the same bits, so for apps the row key column
// is that int64.
func ScanSealed(row Scanner, kind core.SealedKind) (core.SealedValue, error) {
	v := core.SealedValue{Kind: kind}
	if kind == core.SealedAppSecret {
		var id int64
		err := row.Scan(&id, &v.Value)
		v.RowKey = AppRowKey(uint64(id))
		return v, err
	}
	return v, row.Scan(&v.RowKey, &v.Value)
}

// SealedList returns the query, in p's style, and its arguments (limit
// last) that list up to limit values of kind with a row key above after.
// Apps, paged in uint64 order over int64 columns, are the engine's own:
// apps returns its query for the app secrets from SdkAppId from on, and
// its arguments but the limit. none reports that there is nothing to ask:
// a limit of 0 or less, or an after no app's row key sorts above.
//
// It fails with EInvalid for an unknown kind, and for SealedAppSecret
// with an after that is neither "" nor 20 digits, whatever the limit.
func SealedList(kind core.SealedKind, after string, limit int, p Placeholder, apps func(from uint64) (string, []any)) (query string, args []any, none bool, err error) {
	if kind == core.SealedAppSecret {
		from, none, err := AppsFrom(after)
		if err != nil || none {
			return "", nil, true, err
		}
		query, args = apps(from)
	} else {
		c, ok := SealedColumns[kind]
		if !ok {
			return "", nil, true, misuse("unknown sealed kind %q", kind)
		}
		query, args = c.List(p), []any{after}
	}
	if limit <= 0 {
		return "", nil, true, nil
	}
	return query, append(args, limit), false, nil
}

// SealedUpdate returns the statement, in p's style, that writes v into
// its row if that row still holds a value of v's kind, its arguments (the
// value, then the row's key: a string, or an SdkAppId's int64), and the
// resource that a statement changing no row did not find.
//
// It fails with EInvalid for an empty value, an unknown kind, or an app
// row key that is not 20 digits, and with NotFound for one above
// MaxUint64.
func SealedUpdate(v core.SealedValue, p Placeholder) (stmt string, args []any, resource string, err error) {
	if len(v.Value) == 0 {
		return "", nil, "", misuse("a sealed value must not be empty")
	}
	if v.Kind == core.SealedAppSecret {
		id, err := AppOfRowKey(v.RowKey)
		if err != nil {
			return "", nil, "", err
		}
		return `UPDATE apps SET superapp_secret = ` + p.Nth(1) + ` WHERE sdk_app_id = ` + p.Nth(2),
			[]any{v.Value, int64(id)}, usercenter.ResourceApp, nil
	}
	c, ok := SealedColumns[v.Kind]
	if !ok {
		return "", nil, "", misuse("unknown sealed kind %q", v.Kind)
	}
	return c.Update(p), []any{v.Value, v.RowKey}, c.Resource, nil
}

// EmailIndexList is the query for (UserId, SdkAppId, sealed email, email
// index) of the users with an email and a UserId above parameter 1, in
// UserId order, LIMIT parameter 2.
func EmailIndexList(p Placeholder) string {
	return `SELECT user_id, sdk_app_id, email_enc, email_idx FROM users WHERE user_id > ` + p.Nth(1) +
		` AND email_enc IS NOT NULL ORDER BY user_id LIMIT ` + p.Nth(2)
}

// EmailIndexUpdate is the statement that sets the email index (parameter
// 1) of the user with a UserId (parameter 2), if that user has an email.
func EmailIndexUpdate(p Placeholder) string {
	return `UPDATE users SET email_idx = ` + p.Nth(1) + ` WHERE user_id = ` + p.Nth(2) + ` AND email_enc IS NOT NULL`
}

// CheckEmailIndex refuses an empty index: a user with an email always has
// one, and an empty one is stored as NULL, which no lookup finds.
func CheckEmailIndex(index []byte) error {
	if len(index) == 0 {
		return misuse("an email index must not be empty")
	}
	return nil
}

func scanIndexedEmail(row Scanner) (core.IndexedEmail, error) {
	var (
		e  core.IndexedEmail
		id int64
	)
	err := row.Scan(&e.UserID, &id, &e.Sealed, &e.Index)
	e.SdkAppID = uint64(id)
	return e, err
}
