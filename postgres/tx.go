package postgres

import (
	"context"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

var appPlaceholders = sqlstore.Dollar.List(1, strings.Count(sqlstore.AppColumns, ",")+1)

// InsertApp fails with EConflict (Field "SdkAppId" or "UserDomain").
func (t *txn) InsertApp(ctx context.Context, app *core.AppRecord) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.AppArgs(engine, app, true)
	if err != nil {
		return err
	}
	if _, _, err := t.atomically(ctx, step{`INSERT INTO apps (` + sqlstore.AppColumns + `) VALUES (` + appPlaceholders + `)`, args}); err != nil {
		return t.failWrite(ctx, err, "")
	}
	return nil
}

// UpdateApp writes every column of the app but sdk_app_id, user_domain and
// created_at; app.SdkAppID finds it.
func (t *txn) UpdateApp(ctx context.Context, app *core.AppRecord) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.AppUpdateArgs(engine, app)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceApp, `UPDATE apps SET name = $1, status = $2, rate_limit = $3, token_ttl_seconds = $4,
		superapp_secret = $5, phone_region = $6, superapp_cipher = $7, code_ttl_seconds = $8
		WHERE sdk_app_id = $9`, args...)
}

// InsertKey stores the key and its apps; it fails with NotFound (app) if
// one of key.Apps does not exist, and then stores nothing.
func (t *txn) InsertKey(ctx context.Context, key *core.KeyRecord) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.KeyArgs(engine, key)
	if err != nil {
		return err
	}
	steps := []step{{`INSERT INTO api_keys (` + sqlstore.KeyColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`, args}}
	if len(key.Apps) > 0 {
		// DO NOTHING: an app listed twice is still one scope.
		steps = append(steps, step{`INSERT INTO api_key_apps (secret_id, sdk_app_id)
			SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, []any{key.SecretID, sqlstore.Int64s(key.Apps)}})
	}
	_, failed, err := t.atomically(ctx, steps...)
	switch {
	case err == nil:
		return nil
	case failed == 1:
		return t.failWrite(ctx, err, usercenter.ResourceApp)
	}
	return t.failWrite(ctx, err, "")
}

// RevokeKey sets the key's RevokedAt; a zero at clears it.
func (t *txn) RevokeKey(ctx context.Context, secretID string, at time.Time) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	revokedAt, err := sqlstore.EncodeNullTime(engine, "api_keys.revoked_at", at)
	if err != nil {
		return err
	}
	if !storable(secretID) {
		return usercenter.NotFound(usercenter.ResourceKey) // no row can have that ID
	}
	return t.execFound(ctx, usercenter.ResourceKey, `UPDATE api_keys SET revoked_at = $1 WHERE secret_id = $2`, revokedAt, secretID)
}

// InsertToken stores tok; it fails with NotFound (user) if the token's
// user does not exist, and with EConflict (Field "Token") on a duplicate
// hash.
func (t *txn) InsertToken(ctx context.Context, tok *core.Token) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	args, err := sqlstore.TokenArgs(engine, tok)
	if err != nil {
		return err
	}
	if !storable(tok.UserID) {
		return usercenter.NotFound(usercenter.ResourceUser) // no row can have that ID
	}
	if t.deferred != nil {
		t.deferred.tokens = append(t.deferred.tokens, tok)
		return nil
	}
	_, _, err = t.atomically(ctx, step{`INSERT INTO tokens (` + sqlstore.TokenColumns + `) VALUES ($1, $2, $3, $4, $5)`, args})
	if err != nil {
		return t.failWrite(ctx, err, usercenter.ResourceUser)
	}
	return nil
}

// DeleteUserTokens removes a user's tokens through tokens_user.
func (t *txn) DeleteUserTokens(ctx context.Context, userID string) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	if !storable(userID) {
		return 0, nil // no row can have that ID
	}
	n, err := t.exec(ctx, `DELETE FROM tokens WHERE user_id = $1`, userID)
	return int(n), err
}

// DeleteExpiredTokens removes the tokens whose ExpiresAt is before now.
func (t *txn) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM tokens WHERE expires_at < $1`, now)
}

// deleteExpired runs stmt, a DELETE of the rows that expire before its one
// parameter, with now, and returns how many it removed.
func (t *txn) deleteExpired(ctx context.Context, stmt string, now time.Time) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	cutoff, err := sqlstore.EncodeTime(engine, "now", now)
	if err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, stmt, cutoff)
	return int(n), err
}

// SetMeta sets name to value; a nil value is stored as empty, so Meta
// still reports it as set.
func (t *txn) SetMeta(ctx context.Context, name string, value []byte) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := t.exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}
