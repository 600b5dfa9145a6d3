package sqlstore

import (
	"context"
	"strings"

	"usercenter"
	"usercenter/core"
)

// SCIMTokenColumns are the columns of scim_tokens in the order of
// SCIMTokenArgs and ScanSCIMToken.
const SCIMTokenColumns = `token_id, token_hash, sdk_app_id, permissions, created_at, revoked_at`

// SCIMTokenArgs returns the values of tok's SCIMTokenColumns.
func SCIMTokenArgs(engine string, tok *core.SCIMTokenRecord) ([]any, error) {
	perms := make([]string, len(tok.Permissions))
	for i, p := range tok.Permissions {
		perms[i] = string(p)
	}
	ts := rowTimes{engine: engine}
	return ts.row(tok.ID, tok.Hash, int64(tok.SdkAppID), strings.Join(perms, ","),
		ts.at("scim_tokens.created_at", tok.CreatedAt), ts.null("scim_tokens.revoked_at", tok.RevokedAt))
}

// ScanSCIMToken reads a row of SCIMTokenColumns.
func ScanSCIMToken(row Scanner) (core.SCIMTokenRecord, error) {
	var (
		t         core.SCIMTokenRecord
		app       int64
		perms     string
		createdAt int64
		revokedAt *int64
	)
	if err := row.Scan(&t.ID, &t.Hash, &app, &perms, &createdAt, &revokedAt); err != nil {
		return t, err
	}
	t.SdkAppID = uint64(app)
	for _, p := range strings.Split(perms, ",") {
		if p != "" {
			t.Permissions = append(t.Permissions, usercenter.Permission(p))
		}
	}
	t.CreatedAt = DecodeTime(createdAt)
	t.RevokedAt = DecodeNullTime(revokedAt)
	return t, nil
}

// SCIMToken returns the SCIM token with that hash, revoked or not.
func (r Reader) SCIMToken(ctx context.Context, hash []byte) (*core.SCIMTokenRecord, error) {
	return one(ctx, r.engine, ScanSCIMToken, ErrTokenNotFound, r.reads.SCIMToken, hash)
}

// SCIMTokenByID returns the SCIM token with that ID, revoked or not.
func (r Reader) SCIMTokenByID(ctx context.Context, id string) (*core.SCIMTokenRecord, error) {
	return one(ctx, r.engine, ScanSCIMToken, ErrTokenNotFound, r.reads.SCIMTokenByID, id)
}

// SCIMTokens returns an app's SCIM tokens by CreatedAt and then ID.
func (r Reader) SCIMTokens(ctx context.Context, sdkAppID uint64) ([]core.SCIMTokenRecord, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return All(ctx, r.engine, ScanSCIMToken, r.reads.SCIMTokens, int64(sdkAppID))
}
