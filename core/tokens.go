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

// The Acceleronix enterprise API (docs/enterprise.md) lets an app's back
// office call usercenter with an access token obtained by an AccessKey
// login: the AccessKey is an API key's SecretId and the AccessSecret its
// SecretKey. Tokens are opaque random strings stored only as hashes, each
// bound to the key it was issued to; every use reads the key again, so a
// revoked key stops its tokens at once.

// Rules of the enterprise API.
const (
	// DefaultEnterpriseTokenTTL is how long an access token lives unless
	// WithEnterpriseTokenTTL says otherwise.
	DefaultEnterpriseTokenTTL = 2 * time.Hour
	// EnterpriseTokenReuse is how long after its issue a refresh returns
	// the same token instead of a new one.
	EnterpriseTokenReuse = 30 * time.Minute
	// AccessKeyLoginWindow is how far an AccessKey login's timestamp may
	// be from the server's clock, either way.
	AccessKeyLoginWindow = 5 * time.Minute
	// MaxEnterprisePageSize caps the page size of the enterprise lists.
	MaxEnterprisePageSize = 100
	// maxEnterpriseToken bounds what is hashed and looked up.
	maxEnterpriseToken = 128
	// maxAccessKeyUsername bounds the signed username string.
	maxAccessKeyUsername = 1024
	// MaxEnterpriseTokensPerKey is how many live access tokens one key
	// keeps: a login past it ends the oldest, so that repeated logins
	// cannot pile up rows.
	MaxEnterpriseTokensPerKey = 100
)

// ErrBadEnterpriseToken means an access token is unknown or expired, or
// the key it was issued to has been revoked.
var ErrBadEnterpriseToken = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken, Message: "the access token is invalid or has expired, or its AccessKey was revoked: log in again"}

// WithEnterpriseTokenTTL sets the lifetime of enterprise API access
// tokens, DefaultEnterpriseTokenTTL unless set. A value outside one minute
// to 366 days keeps the default; the command line refuses such values
// before they get here.
func WithEnterpriseTokenTTL(d time.Duration) Option {
	return func(s *Service) {
		if d >= time.Minute && d <= 366*24*time.Hour {
			s.enterpriseTTL = d
		}
	}
}

// EnterpriseTokenTTL is the lifetime of the access tokens the service
// issues.
func (s *Service) EnterpriseTokenTTL() time.Duration {
	if s.enterpriseTTL > 0 {
		return s.enterpriseTTL
	}
	return DefaultEnterpriseTokenTTL
}

// EnterpriseSession is an access token of the enterprise API. Token is the
// bare token, without the "QJWT " prefix the wire adds.
type EnterpriseSession struct {
	Token     string
	SecretID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// issueEnterpriseToken stores a new access token for a live key.
func (s *Service) issueEnterpriseToken(ctx context.Context, secretID string, now time.Time) (*EnterpriseSession, error) {
	sess := &EnterpriseSession{Token: usercenter.NewToken(), SecretID: secretID, CreatedAt: now, ExpiresAt: now.Add(s.EnterpriseTokenTTL())}
	err := s.store.Update(ctx, func(tx Tx) error {
		// The key may have been revoked since it was checked.
		rec, err := tx.Key(ctx, secretID)
		if err != nil {
			return err
		}
		if rec.Revoked() {
			return usercenter.NotFound(usercenter.ResourceKey)
		}
		err = tx.InsertEnterpriseToken(ctx, &EnterpriseToken{
			Hash: usercenter.HashToken(sess.Token), SecretID: secretID, CreatedAt: now, ExpiresAt: sess.ExpiresAt,
		})
		if err != nil {
			return err
		}
		// Repeated logins end the key's oldest tokens rather than pile up.
		_, err = tx.TrimEnterpriseTokens(ctx, secretID, MaxEnterpriseTokensPerKey)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// enterpriseToken finds a live token and the live key it belongs to.
func (s *Service) enterpriseToken(ctx context.Context, token string) (*EnterpriseToken, *KeyRecord, error) {
	if token == "" || len(token) > maxEnterpriseToken {
		return nil, nil, ErrBadEnterpriseToken
	}
	t, err := s.store.EnterpriseToken(ctx, usercenter.HashToken(token))
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, nil, ErrBadEnterpriseToken
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, nil, ErrBadEnterpriseToken
	}
	key, err := s.store.Key(ctx, t.SecretID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, nil, ErrBadEnterpriseToken
	}
	if err != nil {
		return nil, nil, err
	}
	if key.Revoked() {
		return nil, nil, ErrBadEnterpriseToken
	}
	return t, key, nil
}

// RefreshEnterpriseToken renews an access token: within
// EnterpriseTokenReuse of its issue it returns the same token, later a
// new one (the old one still lives out its own lifetime). It fails with
// ErrBadEnterpriseToken for an unknown or expired token or a revoked key.
func (s *Service) RefreshEnterpriseToken(ctx context.Context, token string) (*EnterpriseSession, error) {
	t, _, err := s.enterpriseToken(ctx, token)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if now.Sub(t.CreatedAt) < EnterpriseTokenReuse {
		return &EnterpriseSession{Token: token, SecretID: t.SecretID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}, nil
	}
	sess, err := s.issueEnterpriseToken(ctx, t.SecretID, now)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadEnterpriseToken // revoked meanwhile
	}
	return sess, err
}

// DeleteExpiredEnterpriseTokens removes the access tokens that have
// expired and reports how many.
func (s *Service) DeleteExpiredEnterpriseTokens(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredEnterpriseTokens)
}
