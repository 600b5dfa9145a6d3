package core

import (
	"context"
	"time"

	"usercenter"
)

// Login tokens let an app's users call it: LCIC issues them at
// registration and login, and GET /v1/me checks them. Enterprise access
// tokens let an app's back office call the enterprise API after an
// AccessKey login. Both are opaque random strings stored only as hashes.

// newSession issues a token for u; the caller stores the returned Token
// row in the same transaction as any change to the user.
func (s *Service) newSession(u usercenter.User, app *usercenter.App, now time.Time) (*Session, *Token) {
	token := usercenter.NewLoginToken(now)
	u.LastLoginAt = now
	sess := &Session{User: u, Token: token, ExpiresAt: now.Add(app.TokenTTL)}
	return sess, &Token{Hash: usercenter.TokenKey(token), UserID: u.ID, SdkAppID: u.SdkAppID, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
}

// UserRef names one user: by UserId, or by OriginId within an app.
type UserRef struct {
	UserID   string
	SdkAppID uint64
	OriginID string
}

// Login issues a new login token for an active user.
func (s *Service) Login(ctx context.Context, actor *usercenter.Actor, ref UserRef) (*Session, error) {
	var (
		u   *UserRecord
		app *usercenter.App
		err error
	)
	if ref.UserID != "" || ref.OriginID == "" && ref.SdkAppID == 0 {
		u, app, err = s.userFor(ctx, s.store, actor, ref.UserID, usercenter.PermUsersWrite)
	} else {
		app, err = s.appFor(ctx, s.store, actor, ref.SdkAppID, usercenter.PermUsersWrite)
		if err == nil && ref.OriginID == "" {
			err = usercenter.Invalid(usercenter.FieldOriginID, "must not be empty")
		}
		if err == nil {
			err = usercenter.CheckOriginID(usercenter.FieldOriginID, ref.OriginID)
		}
		if err == nil {
			u, err = s.store.UserByOrigin(ctx, ref.SdkAppID, ref.OriginID)
		}
	}
	if err != nil {
		return nil, err
	}
	if u.Status != usercenter.UserActive {
		return nil, ErrUserDisabled
	}
	now := s.now().UTC()
	sess, tok := s.newSession(u.User, app, now)
	err = s.store.Update(ctx, func(tx Tx) error {
		// Re-read inside the transaction: the user may have been deleted
		// or disabled since the check above.
		cur, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Status != usercenter.UserActive {
			return ErrUserDisabled
		}
		cur.LastLoginAt = now
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		sess.User = cur.User
		return tx.InsertToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	sess.User.UserDomain = app.UserDomain
	return sess, nil
}

// ErrBadToken means a user token is unknown, expired, or its user gone.
var ErrBadToken = &usercenter.Error{Code: usercenter.EUnauthenticated, Message: "the token is invalid or has expired"}

// Me returns the user a login token belongs to, personal data masked. It
// is the session check apps make on every request: one token read, one
// user read and one read of the user's app, which must be active.
func (s *Service) Me(ctx context.Context, token string) (*usercenter.User, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrBadToken
	}
	t, err := s.store.Token(ctx, usercenter.TokenKey(token))
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, ErrBadToken
	}
	rec, err := s.store.User(ctx, t.UserID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	app, err := s.store.App(ctx, rec.SdkAppID)
	if err != nil {
		return nil, err
	}
	if app.Status != usercenter.AppActive {
		return nil, ErrAppDisabled
	}
	if rec.Status != usercenter.UserActive {
		return nil, ErrUserDisabled
	}
	return s.pii.masked(rec, app.UserDomain)
}
