package core

import (
	"context"

	"usercenter"
)

// RevokeUserTokens ends every login token of a user at once, for a user
// whose device was lost or whose account was taken over: their sessions
// stop answering GET /v1/me, and they must log in again. It needs the
// users.write permission, deletes the tokens (expired ones too), and
// reports how many were still live. Revoking them is audited
// (tokens.revoke) and announced (user.tokens_revoked, with the count) in
// the same transaction; when no token was live nothing changed that
// matters, and neither is written.
func (s *Service) RevokeUserTokens(ctx context.Context, actor *usercenter.Actor, userID string) (int, error) {
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return 0, err
	}
	var live int
	err := s.store.Update(ctx, func(tx Tx) error {
		// Re-read inside the transaction: the user may be gone since.
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if live, err = tx.LiveTokens(ctx, userID, now); err != nil {
			return err
		}
		if _, err := tx.DeleteUserTokens(ctx, userID); err != nil {
			return err
		}
		if live == 0 {
			return nil
		}
		return record(ctx, tx,
			[]*usercenter.AuditEvent{s.auditEvent(ctx, actor, &u.User, usercenter.AuditTokensRevoke, "")},
			[]*usercenter.Event{newEvent(actor, usercenter.EventUserTokensRevoked, u.SdkAppID, now, usercenter.EventData{UserID: u.ID, Tokens: live})})
	})
	if err != nil {
		return 0, err
	}
	return live, nil
}
