package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// InsertCode stores c. It fails with EInvalid (Field "Field") unless
// c.Field is phone or email, with NotFound (user) unless c's user exists
// and belongs to c's app, and with EConflict (Field "Code") if a code with
// the same hash is stored already.
func (t *txn) InsertCode(ctx context.Context, c *core.Code) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.CodeArgs(engine, c)
	if err != nil {
		return err
	}
	// Selecting from users, rather than relying on the foreign key alone,
	// also makes sure the code's app is its user's: a code must never
	// reach a user through another app.
	return t.execFound(ctx, usercenter.ResourceUser, `INSERT INTO codes (`+sqlstore.CodeColumns+`)
		SELECT ?, ?, ?, ?, ?, user_id, sdk_app_id FROM users WHERE user_id = ? AND sdk_app_id = ?`, args...)
}

// TakeCode marks the code used at at, in the same statement that finds it
// unused, and returns it as it now is (UsedAt set). It does not look at
// ExpiresAt: an expired code is taken like any other, and the caller
// decides. Updates run one at a time on the writer, so of two that take
// the same code the second finds it used.
func (t *txn) TakeCode(ctx context.Context, hash []byte, at time.Time) (*core.Code, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	usedAt, err := sqlstore.EncodeTime(engine, "codes.used_at", at) // a zero at would leave the code unused
	if err != nil {
		return nil, err
	}
	c, err := sqlstore.ScanCode(t.run.queryRow(ctx, `UPDATE codes SET used_at = ?
		WHERE code_hash = ? AND used_at IS NULL RETURNING `+sqlstore.CodeColumns, usedAt, hash))
	if errors.Is(err, sql.ErrNoRows) {
		t.writes-- // counted as it ran (see runner.noteWrite), it changed nothing
		return nil, sqlstore.ErrCodeNotFound()
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return &c, nil
}

// CodeAttempts returns 0 and the zero time when no attempts are counted.
func (t *txn) CodeAttempts(ctx context.Context, sdkAppID uint64, userID string) (int, time.Time, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	var n, since int64
	err = t.run.queryRow(ctx, `SELECT attempts, since FROM code_attempts WHERE sdk_app_id = ? AND user_id = ?`,
		int64(sdkAppID), userID).Scan(&n, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, t.fail(err)
	}
	return int(n), sqlstore.DecodeTime(since), nil
}

// SetCodeAttempts stores n attempts counted since since, replacing any
// count; n == 0 removes the count, whether or not there was one. It fails
// with EInvalid (Field "attempts") for a negative n, and, when n > 0, with
// NotFound (user) unless the user exists and belongs to the app.
func (t *txn) SetCodeAttempts(ctx context.Context, sdkAppID uint64, userID string, n int, since time.Time) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	if err := sqlstore.CheckAttempts(n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := t.exec(ctx, `DELETE FROM code_attempts WHERE sdk_app_id = ? AND user_id = ?`,
			int64(sdkAppID), userID); err != nil {
			return t.fail(err)
		}
		return nil
	}
	sinceNS, err := sqlstore.EncodeTime(engine, "code_attempts.since", since)
	if err != nil {
		return err
	}
	// As in InsertCode, the user must belong to the app. The WHERE clause
	// also keeps SQLite from reading ON CONFLICT as part of the SELECT.
	return t.execFound(ctx, usercenter.ResourceUser, `INSERT INTO code_attempts (sdk_app_id, user_id, attempts, since)
		SELECT sdk_app_id, user_id, ?, ? FROM users WHERE user_id = ? AND sdk_app_id = ?
		ON CONFLICT (sdk_app_id, user_id) DO UPDATE SET attempts = excluded.attempts, since = excluded.since`,
		int64(n), sinceNS, userID, int64(sdkAppID))
}

// DeleteExpiredCodes removes the codes whose ExpiresAt is before now, used
// or not.
func (t *txn) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM codes WHERE expires_at < ?`, now)
}

// DeleteExpiredEnterpriseTokens removes the enterprise tokens whose
// ExpiresAt is before now.
func (t *txn) DeleteExpiredEnterpriseTokens(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM enterprise_tokens WHERE expires_at < ?`, now)
}

// InsertEnterpriseToken stores tok; it fails with NotFound (key) if its
// API key does not exist, and with EConflict (Field "Token") if a token
// with the same hash is stored already. It does not look at whether the
// key is revoked: every use of a token checks the key.
func (t *txn) InsertEnterpriseToken(ctx context.Context, tok *core.EnterpriseToken) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.EnterpriseTokenArgs(engine, tok)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO enterprise_tokens (`+sqlstore.EnterpriseTokenColumns+`) VALUES (?, ?, ?, ?)`, args...)
	if err != nil {
		return t.failWrite(err, usercenter.ResourceKey)
	}
	return nil
}

// qTrimEnterpriseTokens deletes a key's tokens but the newest (parameter
// 2), which it reads newest first through enterprise_tokens_key. SQLite
// takes an OFFSET only after a LIMIT, and -1 is none.
const qTrimEnterpriseTokens = `DELETE FROM enterprise_tokens WHERE token_hash IN (
	SELECT token_hash FROM enterprise_tokens WHERE secret_id = ?
	ORDER BY created_at DESC, token_hash DESC LIMIT -1 OFFSET ?)`

// TrimEnterpriseTokens deletes the key's oldest tokens, by CreatedAt and
// then hash, but for the newest keep.
func (t *txn) TrimEnterpriseTokens(ctx context.Context, secretID string, keep int) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	if err := sqlstore.CheckKeep(keep); err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, qTrimEnterpriseTokens, secretID, keep)
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}
