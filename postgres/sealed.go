package postgres

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"usercenter"
	"usercenter/core"
)

// sealedColumn is where the values of one core.SealedKind live.
type sealedColumn struct {
	// list selects (row key, value) with a row key > $1, in row key order,
	// LIMIT $2.
	list string
	// update sets the value ($1) of the row with a key ($2).
	update   string
	resource string // for NotFound
}

// sealedColumns holds every kind whose row key is a text column; apps,
// whose row key is derived from an integer, are handled apart. Row keys
// compare byte by byte, as in SQLite, because the key columns are
// COLLATE "C".
//
// Empty meta values and NULL user values are left out, and never
// overwritten: neither is ciphertext, and writing a rotated value into a
// user's NULL column would bring back personal data the user has since
// removed.
var sealedColumns = map[core.SealedKind]sealedColumn{
	core.SealedKeySecret: {
		list:     `SELECT secret_id, secret_key FROM api_keys WHERE secret_id > $1 ORDER BY secret_id LIMIT $2`,
		update:   `UPDATE api_keys SET secret_key = $1 WHERE secret_id = $2`,
		resource: usercenter.ResourceKey,
	},
	core.SealedMeta: {
		list:     `SELECT name, value FROM meta WHERE name > $1 AND length(value) > 0 ORDER BY name LIMIT $2`,
		update:   `UPDATE meta SET value = $1 WHERE name = $2 AND length(value) > 0`,
		resource: usercenter.ResourceMeta,
	},
	core.SealedUserPhone:   userSealedColumn("phone_enc"),
	core.SealedUserEmail:   userSealedColumn("email_enc"),
	core.SealedUserAddress: userSealedColumn("address_enc"),
}

func userSealedColumn(col string) sealedColumn {
	return sealedColumn{
		list: `SELECT user_id, ` + col + ` FROM users
			WHERE user_id > $1 AND ` + col + ` IS NOT NULL ORDER BY user_id LIMIT $2`,
		update:   `UPDATE users SET ` + col + ` = $1 WHERE user_id = $2 AND ` + col + ` IS NOT NULL`,
		resource: usercenter.ResourceUser,
	}
}

// An app's row key is its SdkAppId as 20 decimal digits, so that the keys
// sort as the IDs do. The IDs are stored as int64s with the same bits,
// where those above MaxInt64 are negative; ordering by (sdk_app_id < 0,
// sdk_app_id) is the uint64 order, and the WHERE clause compares that
// pair with the lower bound's (high bit, int64 bits).
const qSealedApps = `SELECT sdk_app_id, superapp_secret FROM apps
	WHERE (sdk_app_id < 0) > $1 OR ((sdk_app_id < 0) = $1 AND sdk_app_id >= $2)
	ORDER BY sdk_app_id < 0, sdk_app_id LIMIT $3`

func appRowKey(id uint64) string { return fmt.Sprintf("%020d", id) }

// parseAppRowKey reads a row key made by appRowKey. ok is false if key is
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
		var from uint64 // the smallest SdkAppId to return
		if after != "" {
			id, ok, inRange := parseAppRowKey(after)
			if !ok {
				return nil, usercenter.Invalid("after", "after must be empty or an app's 20-digit row key")
			}
			if !inRange || id == math.MaxUint64 {
				return nil, nil // nothing sorts after it
			}
			from = id + 1
		}
		query, args = qSealedApps, []any{from > math.MaxInt64, int64(from)}
	} else {
		c, ok := sealedColumns[kind]
		if !ok {
			return nil, usercenter.Invalid("kind", "unknown sealed kind %q", kind)
		}
		query, args = c.list, []any{after}
	}
	if limit <= 0 {
		return nil, nil
	}
	scan := func(row scanner) (core.SealedValue, error) {
		v := core.SealedValue{Kind: kind}
		if kind == core.SealedAppSecret {
			var id int64
			err := row.Scan(&id, &v.Value)
			v.RowKey = appRowKey(uint64(id))
			return v, err
		}
		return v, row.Scan(&v.RowKey, &v.Value)
	}
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
		id, ok, inRange := parseAppRowKey(v.RowKey)
		if !ok {
			return usercenter.Invalid("RowKey", "an app's row key must be 20 digits")
		}
		if !inRange {
			return usercenter.NotFound(usercenter.ResourceApp)
		}
		stmt, key, resource = `UPDATE apps SET superapp_secret = $1 WHERE sdk_app_id = $2`, int64(id), usercenter.ResourceApp
	} else {
		c, ok := sealedColumns[v.Kind]
		if !ok {
			return usercenter.Invalid("Kind", "unknown sealed kind %q", v.Kind)
		}
		if !storable(v.RowKey) {
			return usercenter.NotFound(c.resource) // no row can have that key
		}
		stmt, key, resource = c.update, v.RowKey, c.resource
	}
	return t.execFound(ctx, resource, stmt, v.Value, key)
}
