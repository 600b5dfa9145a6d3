package sqlite

import (
	"context"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// InsertSCIMToken stores tok; it fails with NotFound (app) if its app does
// not exist, and with EConflict (Field "token") on a duplicate ID or hash.
func (t *txn) InsertSCIMToken(ctx context.Context, tok *core.SCIMTokenRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.SCIMTokenArgs(engine, tok)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO scim_tokens (`+sqlstore.SCIMTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return t.failWrite(err, usercenter.ResourceApp)
	}
	return nil
}

// RevokeSCIMToken sets the token's RevokedAt; a zero at clears it.
func (t *txn) RevokeSCIMToken(ctx context.Context, id string, at time.Time) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	revokedAt, err := sqlstore.EncodeNullTime(engine, "scim_tokens.revoked_at", at)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceToken, `UPDATE scim_tokens SET revoked_at = ? WHERE token_id = ?`, revokedAt, id)
}
