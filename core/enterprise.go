package core

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
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
)

// ErrBadEnterpriseToken means an access token is unknown or expired, or
// the key it was issued to has been revoked.
var ErrBadEnterpriseToken = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceToken, Message: "the access token is invalid or has expired, or its AccessKey was revoked: log in again"}

// ErrAccessKeyPassword means an AccessKey login's password is not
// sha256hex(username + AccessSecret).
var ErrAccessKeyPassword = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: "password", Message: "the password is not sha256hex(username + AccessSecret)"}

// ErrAccessKeyTimestamp means an AccessKey login was signed too long ago,
// or with a clock too far ahead.
var ErrAccessKeyTimestamp = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: "timestamp", Message: "the timestamp must be within 5 minutes of the server's clock (epoch milliseconds)"}

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
	bad := func(format string, args ...any) error { return usercenter.Invalid("username", format, args...) }
	if username == "" {
		return nil, bad("username is required: ver=1&auth_mode=accessKey&sign_method=sha256&access_key=<AccessKey>&timestamp=<epoch ms>, URI-encoded")
	}
	if len(username) > maxAccessKeyUsername || !utf8.ValidString(username) {
		return nil, bad("username must be at most %d bytes of UTF-8", maxAccessKeyUsername)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(username, "&") {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, bad("username must be key=value fields joined by &, URI-encoded once as a whole")
		}
		if _, dup := fields[name]; dup {
			return nil, bad("username repeats the field %s", usercenter.ClipName(name, 32))
		}
		fields[name] = value
	}
	for _, f := range []struct{ name, want string }{{"ver", "1"}, {"auth_mode", "accessKey"}, {"sign_method", "sha256"}} {
		v, ok := fields[f.name]
		if !ok {
			return nil, bad("username lacks the field %s=%s", f.name, f.want)
		}
		if !strings.EqualFold(v, f.want) {
			return nil, bad("username field %s must be %s", f.name, f.want)
		}
	}
	key := fields["access_key"]
	if key == "" {
		return nil, bad("username lacks the field access_key (the AccessKey)")
	}
	ts, ok := fields["timestamp"]
	if !ok || ts == "" || len(ts) > 18 || strings.Trim(ts, "0123456789") != "" {
		return nil, bad("username field timestamp must be the time in epoch milliseconds")
	}
	ms, _ := strconv.ParseInt(ts, 10, 64)
	return &accessKeyUsername{accessKey: key, timestamp: time.UnixMilli(ms)}, nil
}

// AccessKeySignature is the password of an AccessKey login:
// lowercase hex SHA-256 of the username string followed by the key's
// SecretKey.
func AccessKeySignature(username, secretKey string) string {
	sum := sha256.Sum256([]byte(username + secretKey))
	return hex.EncodeToString(sum[:])
}

// AccessKeyLogin checks an AccessKey login and issues an access token.
// username is the signed string as received (after the one URI decoding
// of the query), password sha256hex(username + SecretKey). It fails with
// EInvalid for a malformed username or password, ENotFound (ResourceKey)
// for an unknown or revoked AccessKey, and ErrAccessKeyPassword or
// ErrAccessKeyTimestamp.
func (s *Service) AccessKeyLogin(ctx context.Context, username, password string) (*EnterpriseSession, error) {
	u, err := parseAccessKeyUsername(username)
	if err != nil {
		return nil, err
	}
	if len(password) != sha256.Size*2 {
		return nil, usercenter.Invalid("password", "password must be the 64 hex digits of sha256(username + AccessSecret)")
	}
	if _, err := hex.DecodeString(password); err != nil {
		return nil, usercenter.Invalid("password", "password must be the 64 hex digits of sha256(username + AccessSecret)")
	}
	if len(u.accessKey) > 128 {
		return nil, usercenter.NotFound(usercenter.ResourceKey)
	}
	key, err := s.Key(ctx, u.accessKey)
	if err != nil {
		return nil, err
	}
	want := AccessKeySignature(username, key.SecretKey)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(password)), []byte(want)) != 1 {
		return nil, ErrAccessKeyPassword
	}
	now := s.now()
	if d := now.Sub(u.timestamp); d > AccessKeyLoginWindow || d < -AccessKeyLoginWindow {
		return nil, ErrAccessKeyTimestamp
	}
	// Only a verified login is remembered, so that nobody without the
	// secret can fill the memory and push real logins out of it.
	if s.logins == nil {
		return nil, &usercenter.Error{Code: usercenter.EInternal, Message: "internal error", Err: errors.New("core: the Service has no login replay memory (WithLoginReplay)")}
	}
	seen, err := s.logins.Seen(ctx, key.SecretID, strings.ToLower(password), u.timestamp, now)
	switch {
	case errors.Is(err, ErrReplayFull):
		return nil, &usercenter.Error{Code: usercenter.ERateLimited, Message: "too many logins with this AccessKey in the last 10 minutes; retry later", Err: err}
	case errors.Is(err, ErrReplayBefore):
		// Signed before this memory began (a restart): it may have been
		// used already. A login signed now goes through.
		return nil, ErrAccessKeyTimestamp
	case err != nil:
		// Accepting a login that may have been used on another node could
		// let a replay through.
		return nil, &usercenter.Error{Code: usercenter.EUnavailable, Message: "the login replay memory is unavailable; retry later", Err: err}
	}
	if seen {
		return nil, ErrAccessKeyReplayed
	}
	return s.issueEnterpriseToken(ctx, key.SecretID, now.UTC())
}

// ErrAccessKeyReplayed means a signed login was presented a second time.
// A login's signature travels in its query string; one that leaked into
// a proxy log must not buy fresh tokens while its timestamp is accepted.
var ErrAccessKeyReplayed = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: "password", Message: "this signed login was already used: sign each login with a new timestamp"}

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
		return tx.InsertEnterpriseToken(ctx, &EnterpriseToken{
			Hash: usercenter.HashToken(sess.Token), SecretID: secretID, CreatedAt: now, ExpiresAt: sess.ExpiresAt,
		})
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

// EnterpriseActor resolves an access token to the actor of its key, read
// afresh on every call. It fails with ErrBadEnterpriseToken.
func (s *Service) EnterpriseActor(ctx context.Context, token string) (*usercenter.Actor, error) {
	_, key, err := s.enterpriseToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return key.APIKey.Actor(), nil
}

// checkEnterprisePage validates a page number (from 1) and size.
func checkEnterprisePage(page, size int) error {
	if page < 1 || page > math.MaxInt32 {
		return usercenter.Invalid("page", "page must be an integer from 1 to %d", math.MaxInt32)
	}
	if size < 1 || size > MaxEnterprisePageSize {
		return usercenter.Invalid("pageSize", "pageSize must be an integer from 1 to %d", MaxEnterprisePageSize)
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
		all, err := s.Apps(ctx)
		if err != nil {
			return nil, 0, err
		}
		apps = all
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

// enterpriseReveal is what an actor sees in plain through the enterprise
// API: phone and email with pii.read, nothing otherwise. Address stays
// masked for everyone.
func enterpriseReveal(actor *usercenter.Actor) []usercenter.PIIField {
	if actor.Has(usercenter.PermPIIRead) {
		return []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail}
	}
	return nil
}

// DomainUsers returns page (from 1) of the users of the app with
// userDomain, in creation order, and the app's user count. A domain that
// does not exist and one outside the actor's scope are both ENotFound
// (ResourceApp). Phone and email are plain for an actor with pii.read,
// each disclosure audited in the transaction that reads it.
func (s *Service) DomainUsers(ctx context.Context, actor *usercenter.Actor, userDomain string, page, size int) ([]usercenter.User, int, error) {
	if userDomain == "" {
		return nil, 0, usercenter.Invalid("userDomain", "userDomain is required")
	}
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, 0, err
	}
	if err := checkEnterprisePage(page, size); err != nil {
		return nil, 0, err
	}
	if len(userDomain) > 64 || !utf8.ValidString(userDomain) {
		return nil, 0, usercenter.NotFound(usercenter.ResourceApp)
	}
	rec, err := s.store.AppByDomain(ctx, userDomain)
	if err != nil {
		return nil, 0, err
	}
	if !actor.Scoped(rec.SdkAppID) {
		return nil, 0, usercenter.NotFound(usercenter.ResourceApp)
	}
	app, err := s.appFor(ctx, s.store, actor, rec.SdkAppID, usercenter.PermUsersRead)
	if err != nil {
		return nil, 0, err
	}
	var total int
	users, err := s.read(ctx, actor, enterpriseReveal(actor), func(r Reader) ([]UserRecord, *usercenter.App, error) {
		recs, n, err := r.ListUsers(ctx, app.SdkAppID, (page-1)*size, size)
		total = n
		return recs, app, err
	})
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// EnterpriseUser returns one user the actor may read. Phone and email are
// plain for an actor with pii.read, each disclosure audited; a user that
// does not exist and one outside the actor's scope are both ENotFound.
func (s *Service) EnterpriseUser(ctx context.Context, actor *usercenter.Actor, userID string) (*usercenter.User, error) {
	return s.GetUser(ctx, actor, userID, enterpriseReveal(actor))
}

// SetUserStatus enables (1) or disables (0) a user; it needs users.write.
// A disabled user can no longer log in nor use their tokens.
func (s *Service) SetUserStatus(ctx context.Context, actor *usercenter.Actor, userID string, status usercenter.UserStatus) error {
	_, err := s.UpdateUser(ctx, actor, userID, UserPatch{Status: &status})
	return err
}

// DeleteExpiredEnterpriseTokens removes the access tokens that have
// expired and reports how many.
func (s *Service) DeleteExpiredEnterpriseTokens(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, Tx.DeleteExpiredEnterpriseTokens)
}
