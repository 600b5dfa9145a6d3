package sqlstore

import (
	"errors"
	"iter"
	"maps"
	"slices"

	"usercenter"
	"usercenter/core"
)

// UserColumns are the columns of users in the order of UserArgs.
const UserColumns = `user_id, sdk_app_id, origin_id, status, created_at, updated_at, last_login_at,
	nickname, avatar, city, province, nationality, lang, timezone, sex, signature, remark, logon_mode,
	phone_enc, phone_idx, email_enc, email_idx, address_enc, external_id, full_name`

// UserCardColumns are the columns of users that ScanUserCard reads.
const UserCardColumns = `user_id, sdk_app_id, origin_id, status, nickname, avatar`

// ScanUserCard reads a row of UserCardColumns.
func ScanUserCard(row Scanner) (core.UserCard, error) {
	var (
		c           core.UserCard
		app, status int64
	)
	if err := row.Scan(&c.ID, &app, &c.OriginID, &status, &c.Nickname, &c.Avatar); err != nil {
		return c, err
	}
	c.SdkAppID = uint64(app)
	c.Status = usercenter.UserStatus(status)
	return c, nil
}

// UserArgs returns the values of u's UserColumns. Empty sealed values and
// blind indexes are NULL.
func UserArgs(engine string, u *core.UserRecord) ([]any, error) {
	// The contract has the Service seal these before they reach the store;
	// storing a plain value by mistake would leak it to every backup, so
	// refuse loudly rather than drop it silently.
	if u.Phone != "" || u.Email != "" || u.Address != "" {
		return nil, usercenter.Internal(errors.New(engine + ": a UserRecord must carry phone, email and address only sealed"))
	}
	ts := rowTimes{engine: engine}
	return ts.row(
		u.ID, int64(u.SdkAppID), u.OriginID, int64(u.Status),
		ts.at("users.created_at", u.CreatedAt), ts.at("users.updated_at", u.UpdatedAt), ts.null("users.last_login_at", u.LastLoginAt),
		u.Nickname, u.Avatar, u.City, u.Province, u.Nationality, u.Lang, u.Timezone,
		u.Sex, u.Signature, u.Remark, int64(u.LogonMode),
		NullBytes(u.SealedPhone), NullBytes(u.PhoneIndex), NullBytes(u.SealedEmail), NullBytes(u.EmailIndex), NullBytes(u.SealedAddress),
		NullString(u.ExternalID), u.FullName,
	)
}

// UserUpdateArgs returns the values of an UpdateUser: those of every
// column of UserColumns but user_id, sdk_app_id and created_at, in that
// order, then the user_id that finds the row.
func UserUpdateArgs(engine string, u *core.UserRecord) ([]any, error) {
	args, err := UserArgs(engine, u)
	if err != nil {
		return nil, err
	}
	return slices.Concat(args[2:4], args[5:], []any{u.ID}), nil
}

// NullString is s, or NULL for "": an externalId that is not set must
// not take part in its unique index.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Links yields a user's third-party links in provider order, so that of
// several conflicting links the same one is always reported. A link with
// an empty provider user ID is no link.
func Links(links map[usercenter.Provider]string) iter.Seq2[usercenter.Provider, string] {
	return func(yield func(usercenter.Provider, string) bool) {
		if len(links) == 0 {
			return
		}
		for _, p := range slices.Sorted(maps.Keys(links)) {
			if id := links[p]; id != "" && !yield(p, id) {
				return
			}
		}
	}
}

// IndexQuery picks, of an engine's queries for users by a blind index,
// the one of field. It fails with EInvalid (Field "field") for a field
// that has no blind index.
func IndexQuery(field usercenter.PIIField, byPhone, byEmail string) (string, error) {
	switch field {
	case usercenter.FieldPhone:
		return byPhone, nil
	case usercenter.FieldEmail:
		return byEmail, nil
	}
	return "", misuse("only phone and email have a blind index, not %q", field)
}
