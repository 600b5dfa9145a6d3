package postgres

import (
	"context"
	"math"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// The sealed columns are sqlstore.SealedColumns. Their row keys compare
// byte by byte, as in SQLite, because the key columns are COLLATE "C".

// An app's row key (sqlstore.AppRowKey) sorts as its SdkAppId does. The IDs
// are stored as int64s with the same bits, where those above MaxInt64 are
// negative; ordering by (sdk_app_id < 0, sdk_app_id) is the uint64 order,
// and the WHERE clause compares that pair with the lower bound's (high bit,
// int64 bits).
const qSealedApps = `SELECT sdk_app_id, superapp_secret FROM apps
	WHERE (sdk_app_id < 0) > $1 OR ((sdk_app_id < 0) = $1 AND sdk_app_id >= $2)
	ORDER BY sdk_app_id < 0, sdk_app_id LIMIT $3`

// sealedApps is the query for the app secrets from SdkAppId from on.
func sealedApps(from uint64) (string, []any) {
	return qSealedApps, []any{from > math.MaxInt64, int64(from)}
}

// UpdateSealed fails with NotFound if v's row is gone or no longer has a
// value of v's kind, and with EInvalid for an unknown kind, an empty
// value, or an app row key that is not 20 digits.
//
// It does not check that the value it replaces is the one SealedValues
// returned: a caller that reads and writes in different Updates may
// overwrite a change made in between.
func (t *txn) UpdateSealed(ctx context.Context, v core.SealedValue) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	stmt, args, resource, err := sqlstore.SealedUpdate(v, sqlstore.Dollar)
	if err != nil {
		return err
	}
	if key, ok := args[1].(string); ok && !storable(key) {
		return usercenter.NotFound(resource) // no row can have that key
	}
	return t.execFound(ctx, resource, stmt, args...)
}

// SetEmailIndex fails with NotFound if the user is gone or has no email,
// and with EInvalid for an empty index.
func (t *txn) SetEmailIndex(ctx context.Context, userID string, index []byte) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := sqlstore.CheckEmailIndex(index); err != nil {
		return err
	}
	if !storable(userID) {
		return usercenter.NotFound(usercenter.ResourceUser) // no row can have that key
	}
	return t.execFound(ctx, usercenter.ResourceUser, sqlstore.EmailIndexUpdate(sqlstore.Dollar), index, userID)
}
