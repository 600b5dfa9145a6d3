package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// InsertCode stores c. It fails with EInvalid (Field "Field") unless
// c.Field is phone or email, with NotFound (user) unless c's user exists
// and belongs to c's app, and with EConflict (Field "Code") if a code with
// the same hash is stored already.
func (t *txn) InsertCode(ctx context.Context, c *core.Code) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.CodeArgs(engine, c)
	if err != nil {
		return err
	}
	if !storable(c.UserID) {
		return usercenter.NotFound(usercenter.ResourceUser) // no row can have that ID
	}
	// Selecting from users, rather than relying on the foreign key alone,
	// also makes sure the code's app is its user's: a code must never
	// reach a user through another app.
	tags, _, err := t.atomically(ctx, step{`INSERT INTO codes (` + sqlstore.CodeColumns + `)
		SELECT $1, $2, $3, $4, $5, user_id, sdk_app_id FROM users WHERE user_id = $6 AND sdk_app_id = $7`, args})
	if err != nil {
		return t.failWrite(ctx, err, usercenter.ResourceUser)
	}
	if tags[0].RowsAffected() == 0 {
		return usercenter.NotFound(usercenter.ResourceUser)
	}
	return nil
}

// TakeCode marks the code used at at, in the same statement that finds it
// unused, and returns it as it now is (UsedAt set). It does not look at
// ExpiresAt: an expired code is taken like any other, and the caller
// decides. Of two transactions that take the same code, the second waits
// for the first's row lock and then fails to serialize; run again, it
// finds the code used.
func (t *txn) TakeCode(ctx context.Context, hash []byte, at time.Time) (*core.Code, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	usedAt, err := sqlstore.EncodeTime(engine, "codes.used_at", at) // a zero at would leave the code unused
	if err != nil {
		return nil, err
	}
	c, err := sqlstore.ScanCode(t.tx.QueryRow(ctx, `UPDATE codes SET used_at = $1
		WHERE code_hash = $2 AND used_at IS NULL RETURNING `+sqlstore.CodeColumns, usedAt, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sqlstore.ErrCodeNotFound()
	}
	if err != nil {
		return nil, t.fail(ctx, err)
	}
	return &c, nil
}

// CodeAttempts returns 0 and the zero time when no attempts are counted.
func (t *txn) CodeAttempts(ctx context.Context, sdkAppID uint64, userID string) (int, time.Time, error) {
	if err := t.begin(ctx); err != nil {
		return 0, time.Time{}, err
	}
	var n, since int64
	err := t.queryRow(ctx, `SELECT attempts, since FROM code_attempts WHERE sdk_app_id = $1 AND user_id = $2`,
		int64(sdkAppID), userID).Scan(&n, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, t.fail(ctx, err)
	}
	return int(n), sqlstore.DecodeTime(since), nil
}

// SetCodeAttempts stores n attempts counted since since, replacing any
// count; n == 0 removes the count, whether or not there was one. It fails
// with EInvalid (Field "attempts") for a negative n, and, when n > 0, with
// NotFound (user) unless the user exists and belongs to the app.
func (t *txn) SetCodeAttempts(ctx context.Context, sdkAppID uint64, userID string, n int, since time.Time) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := sqlstore.CheckAttempts(n); err != nil {
		return err
	}
	if !storable(userID) {
		// No such user can exist; PostgreSQL would refuse the statement.
		if n == 0 {
			return nil
		}
		return usercenter.NotFound(usercenter.ResourceUser)
	}
	if n == 0 {
		_, err := t.exec(ctx, `DELETE FROM code_attempts WHERE sdk_app_id = $1 AND user_id = $2`, int64(sdkAppID), userID)
		return err
	}
	sinceNS, err := sqlstore.EncodeTime(engine, "code_attempts.since", since)
	if err != nil {
		return err
	}
	// As in InsertCode, the user must belong to the app.
	return t.execFound(ctx, usercenter.ResourceUser, `INSERT INTO code_attempts (sdk_app_id, user_id, attempts, since)
		SELECT sdk_app_id, user_id, $1, $2 FROM users WHERE user_id = $3 AND sdk_app_id = $4
		ON CONFLICT (sdk_app_id, user_id) DO UPDATE SET attempts = excluded.attempts, since = excluded.since`,
		int64(n), sinceNS, userID, int64(sdkAppID))
}

// DeleteExpiredCodes removes the codes whose ExpiresAt is before now, used
// or not.
func (t *txn) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM codes WHERE expires_at < $1`, now)
}

// DeleteExpiredEnterpriseTokens removes the enterprise tokens whose
// ExpiresAt is before now.
func (t *txn) DeleteExpiredEnterpriseTokens(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM enterprise_tokens WHERE expires_at < $1`, now)
}

// InsertEnterpriseToken stores tok; it fails with NotFound (key) if its
// API key does not exist, and with EConflict (Field "Token") if a token
// with the same hash is stored already. It does not look at whether the
// key is revoked: every use of a token checks the key.
func (t *txn) InsertEnterpriseToken(ctx context.Context, tok *core.EnterpriseToken) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.EnterpriseTokenArgs(engine, tok)
	if err != nil {
		return err
	}
	if !storable(tok.SecretID) {
		return usercenter.NotFound(usercenter.ResourceKey) // no row can have that ID
	}
	_, _, err = t.atomically(ctx, step{`INSERT INTO enterprise_tokens (` + sqlstore.EnterpriseTokenColumns + `)
		VALUES ($1, $2, $3, $4)`, args})
	if err != nil {
		return t.failWrite(ctx, err, usercenter.ResourceKey)
	}
	return nil
}

// qTrimEnterpriseTokens deletes a key's tokens but the newest ($2), which
// it reads newest first through enterprise_tokens_key.
const qTrimEnterpriseTokens = `DELETE FROM enterprise_tokens WHERE token_hash IN (
	SELECT token_hash FROM enterprise_tokens WHERE secret_id = $1
	ORDER BY created_at DESC, token_hash DESC OFFSET $2)`

// TrimEnterpriseTokens deletes the key's oldest tokens, by CreatedAt and
// then hash, but for the newest keep.
func (t *txn) TrimEnterpriseTokens(ctx context.Context, secretID string, keep int) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	if err := sqlstore.CheckKeep(keep); err != nil {
		return 0, err
	}
	if !storable(secretID) {
		return 0, nil // no token can have that key
	}
	n, err := t.exec(ctx, qTrimEnterpriseTokens, secretID, keep)
	return int(n), err
}
