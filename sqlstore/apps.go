package sqlstore

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"usercenter"
	"usercenter/core"
)

// AppColumns are the columns of apps in the order of AppArgs and ScanApp.
const AppColumns = `sdk_app_id, name, user_domain, status, rate_limit, token_ttl_seconds, superapp_secret, created_at,
	phone_region, superapp_cipher, code_ttl_seconds`

// AppArgs returns the values of app's AppColumns, as core set them.
// Durations are stored in whole seconds, and SdkAppIds as the int64s with
// the same bits.
//
// created_at is encoded only for an insert, so that an update, which
// leaves it alone, does not need it.
func AppArgs(engine string, app *core.AppRecord, insert bool) ([]any, error) {
	var createdAt int64
	if insert {
		var err error
		if createdAt, err = EncodeTime(engine, "apps.created_at", app.CreatedAt); err != nil {
			return nil, err
		}
	}
	// The secret is the app's only copy; an empty one can only be a bug,
	// and would lose the app its key for good.
	if len(app.SealedSuperAppSecret) == 0 {
		return nil, usercenter.Internal(errors.New(engine + ": an app's sealed SuperApp secret must not be empty"))
	}
	return []any{
		int64(app.SdkAppID), app.Name, app.UserDomain, int64(app.Status), int64(app.RateLimit),
		int64(app.TokenTTL / time.Second), app.SealedSuperAppSecret, createdAt,
		app.PhoneRegion, string(app.SuperAppCipher), int64(app.CodeTTL / time.Second),
	}, nil
}

// AppUpdateArgs returns the values of an UpdateApp: those of the mutable
// columns, in the order name, status, rate_limit, token_ttl_seconds,
// superapp_secret, phone_region, superapp_cipher, code_ttl_seconds, then
// the sdk_app_id that finds the row. SdkAppId, UserDomain and CreatedAt
// stay as they are.
func AppUpdateArgs(engine string, app *core.AppRecord) ([]any, error) {
	a, err := AppArgs(engine, app, false)
	if err != nil {
		return nil, err
	}
	// a is in AppColumns order: 0 sdk_app_id, 1 name, 2 user_domain,
	// 3 status, 4 rate_limit, 5 token_ttl_seconds, 6 superapp_secret,
	// 7 created_at, 8 phone_region, 9 superapp_cipher, 10 code_ttl_seconds.
	return []any{a[1], a[3], a[4], a[5], a[6], a[8], a[9], a[10], a[0]}, nil
}

// ScanApp reads a row of AppColumns.
func ScanApp(row Scanner) (core.AppRecord, error) {
	var (
		a         core.AppRecord
		id        int64
		ttl       int64
		createdAt int64
		cipher    string
		codeTTL   int64
	)
	err := row.Scan(&id, &a.Name, &a.UserDomain, &a.Status, &a.RateLimit, &ttl, &a.SealedSuperAppSecret, &createdAt,
		&a.PhoneRegion, &cipher, &codeTTL)
	a.SdkAppID = uint64(id)
	a.TokenTTL = time.Duration(ttl) * time.Second
	a.SuperAppCipher = usercenter.SuperAppCipher(cipher)
	a.CodeTTL = time.Duration(codeTTL) * time.Second
	a.CreatedAt = DecodeTime(createdAt)
	return a, err
}

// SortApps puts apps in SdkAppId order. The engines sort here rather than
// in SQL, which would order the IDs above MaxInt64 first, as the negative
// int64s they are stored as.
func SortApps(apps []core.AppRecord) {
	slices.SortFunc(apps, func(a, b core.AppRecord) int { return cmp.Compare(a.SdkAppID, b.SdkAppID) })
}

// SortUsers puts users in SdkAppId order, as SortApps does apps.
func SortUsers(users []core.UserRecord) {
	slices.SortFunc(users, func(a, b core.UserRecord) int { return cmp.Compare(a.SdkAppID, b.SdkAppID) })
}

// Int64s stores SdkAppIds as the int64s with the same bits.
func Int64s(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Uint64s reads stored SdkAppIds back, sorted as uint64s; none is nil.
func Uint64s(ids []int64) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	slices.Sort(out)
	return out
}
