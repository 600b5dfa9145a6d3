package core

import (
	"context"
	"crypto/subtle"
	"slices"

	"usercenter"
)

// SCIM tokens let an identity provider provision one app's users over
// SCIM 2.0 (the scim facade). A token always reads the app's users; it may
// also write them (users.write) and read their personal data in plain
// (pii.read). It is shown once, when created, and stored only as its
// SHA-256: a request finds its token by that hash.

// SCIMTokenPermissions are the permissions a SCIM token may be granted
// beyond users.read, which every one has.
var SCIMTokenPermissions = []usercenter.Permission{usercenter.PermUsersWrite, usercenter.PermPIIRead}

// ErrBadSCIMToken means a SCIM bearer token is unknown, revoked, or not
// one of the app the request names: the three look the same.
var ErrBadSCIMToken = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken, Message: "the bearer token is not a live SCIM token of this app"}

// maxSCIMToken bounds what is hashed and looked up; tokens have 35
// characters.
const maxSCIMToken = 128

// CreateSCIMToken creates a SCIM token for app sdkAppID, audited as the
// actor's (scim_token.create, Field the token's ID). perms may name
// users.write and pii.read; users.read is always granted. The returned
// token is the only time its Token is shown. Only an actor that manages
// the app (the operator, a console admin) creates tokens.
func (s *Service) CreateSCIMToken(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, perms []usercenter.Permission) (*usercenter.SCIMToken, error) {
	if err := managesSCIM(actor, sdkAppID); err != nil {
		return nil, err
	}
	granted := []usercenter.Permission{usercenter.PermUsersRead}
	for _, p := range perms {
		switch {
		case p == usercenter.PermUsersRead || slices.Contains(granted, p):
		case slices.Contains(SCIMTokenPermissions, p):
			granted = append(granted, p)
		default:
			return nil, usercenter.Invalid(usercenter.FieldPermissions, "may name only users.write and pii.read for a SCIM token, not %s", usercenter.ClipName(string(p), 32))
		}
	}
	tok := &usercenter.SCIMToken{
		ID:          usercenter.NewSCIMTokenID(),
		Token:       usercenter.NewToken(),
		SdkAppID:    sdkAppID,
		Permissions: granted,
		CreatedAt:   s.now().UTC(),
	}
	rec := &SCIMTokenRecord{SCIMToken: *tok, Hash: usercenter.HashToken(tok.Token)}
	rec.Token = ""
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertSCIMToken(ctx, rec); err != nil {
			return err
		}
		return record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, sdkAppID, s.now(), usercenter.AuditSCIMTokenCreate, tok.ID, "")}, nil)
	})
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// SCIMTokens lists an app's SCIM tokens, revoked ones included, oldest
// first, without their tokens.
func (s *Service) SCIMTokens(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64) ([]usercenter.SCIMToken, error) {
	if err := managesSCIM(actor, sdkAppID); err != nil {
		return nil, err
	}
	if _, err := s.store.App(ctx, sdkAppID); err != nil {
		return nil, err
	}
	recs, err := s.store.SCIMTokens(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	out := make([]usercenter.SCIMToken, len(recs))
	for i, r := range recs {
		out[i] = r.SCIMToken
	}
	return out, nil
}

// RevokeSCIMToken revokes a SCIM token at once, audited as the actor's
// (scim_token.revoke); requests bearing it fail from now on. Revoking a
// revoked token changes nothing and succeeds. It fails with NotFound
// (token) for an unknown ID.
func (s *Service) RevokeSCIMToken(ctx context.Context, actor *usercenter.Actor, id string) error {
	if !actor.ManagesApps {
		return errManagesSCIM()
	}
	if id == "" || len(id) > maxSCIMToken {
		return usercenter.NotFound(usercenter.ResourceToken)
	}
	return s.store.Update(ctx, func(tx Tx) error {
		rec, err := tx.SCIMTokenByID(ctx, id)
		if err != nil {
			return err
		}
		if !actor.Scoped(rec.SdkAppID) {
			return usercenter.NotFound(usercenter.ResourceToken)
		}
		if rec.Revoked() {
			return nil
		}
		if err := tx.RevokeSCIMToken(ctx, id, s.now().UTC()); err != nil {
			return err
		}
		return record(ctx, tx, []*usercenter.AuditEvent{adminAudit(ctx, actor, rec.SdkAppID, s.now(), usercenter.AuditSCIMTokenRevoke, id, "")}, nil)
	})
}

// errManagesSCIM refuses an actor that may not manage SCIM tokens.
func errManagesSCIM() error {
	return usercenter.Forbidden("only an admin of the app may manage its SCIM tokens")
}

// managesSCIM checks that the actor may manage app sdkAppID's SCIM
// tokens: a token reads every user of the app, and may write them and
// read their personal data in plain with no reason given, so making one
// is managing the app, not a right of whoever may read its users.
func managesSCIM(actor *usercenter.Actor, sdkAppID uint64) error {
	if !actor.ManagesApps || !actor.Scoped(sdkAppID) {
		return errManagesSCIM()
	}
	return nil
}

// AuthenticateSCIMToken resolves a SCIM bearer token presented for app
// sdkAppID to its actor, "scim:<ID>", scoped to that one app. The token is
// found by its SHA-256, so no comparison runs over the secret itself; the
// stored hash is still compared in constant time, so that a store whose
// lookup matched loosely could not let another token through. It fails
// with ErrBadSCIMToken for an unknown or revoked token, or one of another
// app.
func (s *Service) AuthenticateSCIMToken(ctx context.Context, sdkAppID uint64, token string) (*usercenter.Actor, error) {
	if token == "" || len(token) > maxSCIMToken {
		return nil, ErrBadSCIMToken
	}
	hash := usercenter.HashToken(token)
	rec, err := s.store.SCIMToken(ctx, hash)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadSCIMToken
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(rec.Hash, hash) != 1 || rec.Revoked() || rec.SdkAppID != sdkAppID {
		return nil, ErrBadSCIMToken
	}
	return rec.SCIMToken.Actor(), nil
}
