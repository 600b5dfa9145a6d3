package sqlite

import (
	"context"
	"math"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// Open prepares every read query up front, and the sealed lists are
// among them.
func init() {
	for _, c := range sqlstore.SealedColumns {
		readQuery(c.List(sqlstore.Question))
	}
	readQuery(sqlstore.EmailIndexList(sqlstore.Question))
}

// An app's row key (sqlstore.AppRowKey) sorts as its SdkAppId does. In
// SQLite the IDs are int64s with the same bits, where those above MaxInt64
// are negative; ordering by (sdk_app_id < 0, sdk_app_id) is the uint64
// order, and the WHERE clause compares that pair with the lower bound's
// (high bit, int64 bits).
var qSealedApps = readQuery(`SELECT sdk_app_id, superapp_secret FROM apps
	WHERE (sdk_app_id < 0) > ? OR ((sdk_app_id < 0) = ? AND sdk_app_id >= ?)
	ORDER BY sdk_app_id < 0, sdk_app_id LIMIT ?`)

// sealedApps is the query for the app secrets from SdkAppId from on.
func sealedApps(from uint64) (string, []any) {
	high := 0
	if from > math.MaxInt64 {
		high = 1
	}
	return qSealedApps, []any{high, high, int64(from)}
}

// UpdateSealed fails with NotFound if v's row is gone or no longer has a
// value of v's kind, and with EInvalid for an unknown kind, an empty
// value, or an app row key that is not 20 digits.
//
// It does not check that the value it replaces is the one SealedValues
// returned: a caller that reads and writes in different Updates may
// overwrite a change made in between.
func (t *txn) UpdateSealed(ctx context.Context, v core.SealedValue) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	stmt, args, resource, err := sqlstore.SealedUpdate(v, sqlstore.Question)
	if err != nil {
		return err
	}
	return t.execFound(ctx, resource, stmt, args...)
}

// SetEmailIndex fails with NotFound if the user is gone or has no email,
// and with EInvalid for an empty index.
func (t *txn) SetEmailIndex(ctx context.Context, userID string, index []byte) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	if err := sqlstore.CheckEmailIndex(index); err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceUser, sqlstore.EmailIndexUpdate(sqlstore.Question), index, userID)
}
