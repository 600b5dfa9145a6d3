package sqlstore

import (
	"strings"

	"usercenter"
	"usercenter/core"
)

// KeyColumns are the columns of api_keys in the order of KeyArgs and
// ScanKey.
const KeyColumns = `secret_id, secret_key, name, permissions, created_at, revoked_at`

// KeyArgs returns the values of key's KeyColumns. The permissions are
// stored as one comma-separated list; the key's apps are rows of
// api_key_apps, which each engine inserts its own way.
func KeyArgs(engine string, key *core.KeyRecord) ([]any, error) {
	perms := make([]string, len(key.Permissions))
	for i, p := range key.Permissions {
		perms[i] = string(p)
	}
	ts := rowTimes{engine: engine}
	return ts.row(key.SecretID, key.SealedSecretKey, key.Name, strings.Join(perms, ","),
		ts.at("api_keys.created_at", key.CreatedAt), ts.null("api_keys.revoked_at", key.RevokedAt))
}

// ScanKey reads a row of KeyColumns followed by one column of the key's
// apps, which each engine aggregates its own way (a list in SQLite, an
// array in PostgreSQL): apps reads that column's value into SdkAppIds in
// ascending order.
func ScanKey[L any](row Scanner, apps func(L) ([]uint64, error)) (core.KeyRecord, error) {
	var (
		k         core.KeyRecord
		perms     string
		createdAt int64
		revokedAt *int64
		list      L
	)
	if err := row.Scan(&k.SecretID, &k.SealedSecretKey, &k.Name, &perms, &createdAt, &revokedAt, &list); err != nil {
		return k, err
	}
	for _, p := range strings.Split(perms, ",") {
		if p != "" {
			k.Permissions = append(k.Permissions, usercenter.Permission(p))
		}
	}
	k.CreatedAt = DecodeTime(createdAt)
	k.RevokedAt = DecodeNullTime(revokedAt)
	var err error
	k.Apps, err = apps(list)
	return k, err
}
