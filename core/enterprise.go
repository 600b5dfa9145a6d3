package core

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"usercenter"
)

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

// ErrAccessKeyPassword means an AccessKey login's password is not
// sha256hex(username + AccessSecret).
var ErrAccessKeyPassword = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldPassword, Message: "the password is not sha256hex(username + AccessSecret)"}

// ErrAccessKeyTimestamp means an AccessKey login was signed too long ago,
// or with a clock too far ahead.
var ErrAccessKeyTimestamp = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldTimestamp, Message: "the timestamp must be within 5 minutes of the server's clock (epoch milliseconds)"}

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

// accessKeyUsername is the parsed username of an AccessKey login.
type accessKeyUsername struct {
	accessKey string
	timestamp time.Time
}

// parseAccessKeyUsername reads "ver=1&auth_mode=accessKey&sign_method=sha256
// &access_key=…&timestamp=…", fields in any order. Values are taken as
// they stand: the string is signed exactly as received.
func parseAccessKeyUsername(username string) (*accessKeyUsername, error) {
	bad := func(rule string, args ...any) error {
		return usercenter.Invalid(usercenter.FieldUsername, rule, args...)
	}
	if username == "" {
		return nil, bad("is required: ver=1&auth_mode=accessKey&sign_method=sha256&access_key=<AccessKey>&timestamp=<epoch ms>, URI-encoded")
	}
	if len(username) > maxAccessKeyUsername || !utf8.ValidString(username) {
		return nil, bad("must be at most %d bytes of UTF-8", maxAccessKeyUsername)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(username, "&") {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, bad("must be key=value fields joined by &, URI-encoded once as a whole")
		}
		if _, dup := fields[name]; dup {
			return nil, bad("repeats the field %s", usercenter.ClipName(name, 32))
		}
		fields[name] = value
	}
	for _, f := range []struct{ name, want string }{{"ver", "1"}, {"auth_mode", "accessKey"}, {"sign_method", "sha256"}} {
		v, ok := fields[f.name]
		if !ok {
			return nil, bad("lacks the field %s=%s", f.name, f.want)
		}
		if !strings.EqualFold(v, f.want) {
			return nil, bad("field %s must be %s", f.name, f.want)
		}
	}
	key := fields["access_key"]
	if key == "" {
		return nil, bad("lacks the field access_key (the AccessKey)")
	}
	ts, ok := fields["timestamp"]
	if !ok || ts == "" || len(ts) > 18 || strings.Trim(ts, "0123456789") != "" {
		return nil, bad("field timestamp must be the time in epoch milliseconds")
	}
	ms, _ := strconv.ParseInt(ts, 10, 64)
	return &accessKeyUsername{accessKey: key, timestamp: time.UnixMilli(ms)}, nil
}

// ErrAccessKeyReplayed means a signed login was presented a second time.
// A login's signature travels in its query string; one that leaked into
// a proxy log must not buy fresh tokens while its timestamp is accepted.
var ErrAccessKeyReplayed = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldPassword, Message: "this signed login was already used: sign each login with a new timestamp"}

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

// checkEnterprisePage validates a page number (from 1) and size.
func checkEnterprisePage(page, size int) error {
	if page < 1 || page > math.MaxInt32 {
		return usercenter.Invalid(usercenter.FieldPage, "must be an integer from 1 to %d", math.MaxInt32)
	}
	if size < 1 || size > MaxEnterprisePageSize {
		return usercenter.Invalid(usercenter.FieldPageSize, "must be an integer from 1 to %d", MaxEnterprisePageSize)
	}
	return nil
}

// UserDomains returns page (from 1) of the apps the actor may act on, as
// the enterprise API's user domains, in SdkAppId order, and their number.
// Secrets are never filled in.
func (s *Service) UserDomains(ctx context.Context, actor *usercenter.Actor, page, size int) ([]usercenter.App, int, error) {
	if err := checkEnterprisePage(page, size); err != nil {
		return nil, 0, err
	}
	var apps []usercenter.App
	if actor.AllApps {
		all, err := s.store.Apps(ctx)
		if err != nil {
			return nil, 0, err
		}
		for _, rec := range all {
			apps = append(apps, rec.App)
		}
	} else {
		for _, id := range actor.Apps {
			rec, err := s.store.App(ctx, id)
			if usercenter.ErrorCode(err) == usercenter.ENotFound {
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			apps = append(apps, rec.App)
		}
	}
	slices.SortFunc(apps, func(a, b usercenter.App) int {
		switch {
		case a.SdkAppID < b.SdkAppID:
			return -1
		case a.SdkAppID > b.SdkAppID:
			return 1
		}
		return 0
	})
	for i := range apps {
		apps[i].SuperAppSecretKey = ""
	}
	total := len(apps)
	start := min((page-1)*size, total)
	return apps[start:min(start+size, total)], total, nil
}

// DeleteExpiredEnterpriseTokens removes the access tokens that have
// expired and reports how many.
func (s *Service) DeleteExpiredEnterpriseTokens(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredEnterpriseTokens)
}
