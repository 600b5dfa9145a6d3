package sqlstore

import (
	"usercenter"
	"usercenter/core"
)

// CodeColumns are the columns of codes in the order of CodeArgs and
// ScanCode. The user's two come last, so that an insert can take them
// from the user's row, which it finds by the same two values.
const CodeColumns = `code_hash, field, created_at, expires_at, used_at, user_id, sdk_app_id`

// CodeArgs returns the values of c's CodeColumns. It fails with EInvalid
// (Field "Field") unless c is for a phone or an email.
func CodeArgs(engine string, c *core.Code) ([]any, error) {
	if c.Field != usercenter.FieldPhone && c.Field != usercenter.FieldEmail {
		return nil, misuse("a code is for a phone or an email, not %q", c.Field)
	}
	ts := rowTimes{engine: engine}
	return ts.row(c.Hash, string(c.Field),
		ts.at("codes.created_at", c.CreatedAt), ts.at("codes.expires_at", c.ExpiresAt), ts.null("codes.used_at", c.UsedAt),
		c.UserID, int64(c.SdkAppID))
}

// ScanCode reads a row of CodeColumns.
func ScanCode(row Scanner) (core.Code, error) {
	var (
		c                    core.Code
		app                  int64
		field                string
		createdAt, expiresAt int64
		usedAt               *int64
	)
	if err := row.Scan(&c.Hash, &field, &createdAt, &expiresAt, &usedAt, &c.UserID, &app); err != nil {
		return c, err
	}
	c.SdkAppID = uint64(app)
	c.Field = usercenter.PIIField(field)
	c.CreatedAt = DecodeTime(createdAt)
	c.ExpiresAt = DecodeTime(expiresAt)
	c.UsedAt = DecodeNullTime(usedAt)
	return c, nil
}

// CheckAttempts fails with EInvalid (Field "attempts") for a negative
// number of code attempts.
func CheckAttempts(n int) error {
	if n < 0 {
		return misuse("the number of code attempts must not be negative")
	}
	return nil
}
