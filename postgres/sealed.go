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

// SealedValues returns no values for a limit of 0 or less. It fails with
// EInvalid for an unknown kind, and for kind SealedAppSecret with an after
// that is neither "" nor 20 digits.
func (r *reader) SealedValues(ctx context.Context, kind core.SealedKind, after string, limit int) ([]core.SealedValue, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	var (
		query string
		args  []any
	)
	if kind == core.SealedAppSecret {
		from, none, err := sqlstore.AppsFrom(after)
		if err != nil || none { // none: nothing sorts after it
			return nil, err
		}
		query, args = qSealedApps, []any{from > math.MaxInt64, int64(from)}
	} else {
		c, ok := sqlstore.SealedColumns[kind]
		if !ok {
			return nil, usercenter.Invalid("kind", "unknown sealed kind %q", kind)
		}
		query, args = c.List(sqlstore.Dollar), []any{after}
	}
	if limit <= 0 {
		return nil, nil
	}
	scan := func(row scanner) (core.SealedValue, error) { return sqlstore.ScanSealed(row, kind) }
	return queryAll(ctx, r, scan, query, append(args, limit)...)
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
	if len(v.Value) == 0 {
		return usercenter.Invalid("Value", "a sealed value must not be empty")
	}
	var (
		stmt     string
		key      any
		resource string
	)
	if v.Kind == core.SealedAppSecret {
		id, err := sqlstore.AppOfRowKey(v.RowKey)
		if err != nil {
			return err
		}
		stmt, key, resource = `UPDATE apps SET superapp_secret = $1 WHERE sdk_app_id = $2`, int64(id), usercenter.ResourceApp
	} else {
		c, ok := sqlstore.SealedColumns[v.Kind]
		if !ok {
			return usercenter.Invalid("Kind", "unknown sealed kind %q", v.Kind)
		}
		if !storable(v.RowKey) {
			return usercenter.NotFound(c.Resource) // no row can have that key
		}
		stmt, key, resource = c.Update(sqlstore.Dollar), v.RowKey, c.Resource
	}
	return t.execFound(ctx, resource, stmt, v.Value, key)
}
