package sqlstore

import (
	"errors"
	"time"

	"usercenter"
	"usercenter/core"
)

// AppColumns are the columns of apps in the order of AppValues.
const AppColumns = `sdk_app_id, name, user_domain, status, rate_limit, token_ttl_seconds, superapp_secret, created_at,
	phone_region, superapp_cipher, code_ttl_seconds`

// AppValues returns the values of app's AppColumns, as core set them.
// Durations are stored in whole seconds, and SdkAppIds as the int64s with
// the same bits.
//
// created_at is encoded only for an insert, so that an update, which
// leaves it alone, does not need it.
func AppValues(engine string, app *core.AppRecord, insert bool) ([]any, error) {
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
