package postgres

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
	if err := t.begin(ctx); err != nil {
		return err
	}
	args, err := sqlstore.SCIMTokenArgs(engine, tok)
	if err != nil {
		return err
	}
	if !storable(tok.ID) {
		return usercenter.Invalid(usercenter.FieldToken, "must be UTF-8 without NUL characters")
	}
	_, _, err = t.atomically(ctx, step{`INSERT INTO scim_tokens (` + sqlstore.SCIMTokenColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6)`, args})
	if err != nil {
		return t.failWrite(ctx, err, usercenter.ResourceApp)
	}
	return nil
}

// RevokeSCIMToken sets the token's RevokedAt; a zero at clears it.
func (t *txn) RevokeSCIMToken(ctx context.Context, id string, at time.Time) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	revokedAt, err := sqlstore.EncodeNullTime(engine, "scim_tokens.revoked_at", at)
	if err != nil {
		return err
	}
	if !storable(id) {
		return usercenter.NotFound(usercenter.ResourceToken) // no row can have that ID
	}
	return t.execFound(ctx, usercenter.ResourceToken, `UPDATE scim_tokens SET revoked_at = $1 WHERE token_id = $2`, revokedAt, id)
}
