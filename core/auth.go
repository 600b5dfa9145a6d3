package core

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"usercenter"
	"usercenter/aksig"
	"usercenter/sacipher"
)

// Authentication happens here, for every facade: a facade parses what the
// client sent in its own protocol and hands core the parts (a signature,
// an API key's credentials, a token, an AccessKey login); core reads the
// secret, checks it, and answers with an Actor or a typed error. No
// plaintext secret leaves core but in the show-once flows of creating an
// app or a key and replacing a SuperApp secret.

// Signature is a request signed with an API key's secret, as its facade
// parsed it (tcsig.Signed is one).
type Signature interface {
	// KeyID is the SecretId the request names.
	KeyID() string
	// Verify recomputes the signature with the key's secret; nil when it
	// matches.
	Verify(secretKey string) error
	// ReplayKey identifies the request for replay detection; "" for
	// schemes that carry no nonce, whose requests are not remembered.
	ReplayKey() string
	// SignedAt is the request's signed timestamp.
	SignedAt() time.Time
}

// Authentication failures. Each facade tells them apart only as far as
// its protocol does.
var (
	// ErrBadSignature means a request's signature does not match its
	// key's secret.
	ErrBadSignature = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Message: "the signature does not match the key's secret"}
	// ErrBadSecret means an API key's secret, presented as it is, is wrong.
	ErrBadSecret = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Message: "the secret does not match the key"}
	// ErrSignatureReplayed means a signed request was presented again.
	ErrSignatureReplayed = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Message: "this signed request has already been received: every request needs a new Nonce"}
	// ErrSignedBeforeMemory means a request was signed before the replay
	// memory began (the server restarted since): it cannot be told from a
	// replay, so it is refused, and a fresh signature is accepted.
	ErrSignedBeforeMemory = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldTimestamp, Message: "the request was signed before the server's replay memory began (it restarted): sign it again with the current time"}
	// ErrReplayShareFull means a key has sent more signed requests within
	// the replay window than its share of the memory holds.
	ErrReplayShareFull = &usercenter.Error{Code: usercenter.ERateLimited, Resource: usercenter.ResourceKey, Message: "this key has sent more signed requests in the last 10 minutes than the server can remember; slow down"}
	// ErrSuperAppSignature means a super-app call's TC-Signature is not
	// the app's, or the app does not exist: the two look the same.
	ErrSuperAppSignature = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceApp, Message: "the signature is not the app's"}
	// ErrSuperAppStale means a super-app call's timestamp is too far from
	// the server's clock.
	ErrSuperAppStale = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceApp, Field: usercenter.FieldTimestamp, Message: "the timestamp is more than 5 minutes away from the server's clock"}
)

// SuperAppMaxSkew is how far a super-app call's TC-Timestamp may be from
// the server's clock, either way. The signature covers only the
// timestamp, so this is also how long a captured call can be replayed.
const SuperAppMaxSkew = 5 * time.Minute

// maxSecretIDLen bounds what is looked up; real SecretIds have 36 bytes.
const maxSecretIDLen = 128

// liveKey reads a live key and opens its secret. An unknown, revoked or
// absurdly long SecretId is not found.
func (s *Service) liveKey(ctx context.Context, secretID string) (*KeyRecord, string, error) {
	if secretID == "" || len(secretID) > maxSecretIDLen {
		return nil, "", usercenter.NotFound(usercenter.ResourceKey)
	}
	rec, err := s.store.Key(ctx, secretID)
	if err != nil {
		return nil, "", err
	}
	if rec.Revoked() {
		return nil, "", usercenter.NotFound(usercenter.ResourceKey)
	}
	aad := aadKeyParts(rec.SecretID)
	secret, err := s.vault.OpenString(rec.SealedSecretKey, aad[:]...)
	if err != nil {
		return nil, "", usercenter.Internal(err)
	}
	return rec, secret, nil
}

// KeyExists reports whether secretID names a live key, without opening
// its secret: a cheap check a facade can make before it reads a large
// body.
func (s *Service) KeyExists(ctx context.Context, secretID string) (bool, error) {
	if secretID == "" || len(secretID) > maxSecretIDLen {
		return false, nil
	}
	rec, err := s.store.Key(ctx, secretID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !rec.Revoked(), nil
}

// AuthenticateSignature checks a signed request against its key and
// returns the key's actor. A request that carries a nonce is remembered
// against replays once the use case it runs has admitted it (scope,
// permission and rate limit), so that neither strangers nor refused
// requests fill the memory. It fails with NotFound (ResourceKey) for an
// unknown or revoked key, ErrBadSignature, and, once admitted,
// ErrSignatureReplayed, ErrSignedBeforeMemory or ErrReplayShareFull.
func (s *Service) AuthenticateSignature(ctx context.Context, sig Signature) (*usercenter.Actor, error) {
	rec, secret, err := s.liveKey(ctx, sig.KeyID())
	if err != nil {
		return nil, err
	}
	if sig.Verify(secret) != nil {
		return nil, ErrBadSignature
	}
	actor := rec.APIKey.Actor()
	if k := sig.ReplayKey(); k != "" {
		if s.replays == nil {
			return nil, errNoReplayMemory
		}
		signedAt := sig.SignedAt()
		actor.OnAdmit(func(ctx context.Context) error {
			return s.remember(ctx, rec.SecretID, "sig\x00"+k, signedAt, ErrSignatureReplayed)
		})
	}
	return actor, nil
}

// errNoReplayMemory is a Service built without WithReplayMemory asked to
// accept a request that needs one: refusing is safer than accepting
// replays silently.
var errNoReplayMemory = usercenter.Internal(errors.New("core: the Service has no replay memory (WithReplayMemory)"))

// remember records a signed request of tenant in the replay memory.
// replayed is the error for a request already seen.
func (s *Service) remember(ctx context.Context, tenant, key string, signedAt time.Time, replayed *usercenter.Error) error {
	seen, err := s.replays.Seen(ctx, tenant, key, signedAt, s.now())
	switch {
	case errors.Is(err, ErrReplayFull):
		return ErrReplayShareFull
	case errors.Is(err, ErrReplayBefore):
		return ErrSignedBeforeMemory
	case err != nil:
		// Accepting a request that may have been seen on another node
		// could let a replay through.
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the replay memory is unavailable; retry later", Err: err}
	case seen:
		return replayed
	}
	return nil
}

// AuthenticateKey checks an API key's SecretId and SecretKey presented as
// they are (HTTP Basic) and returns the key's actor. It fails with
// NotFound (ResourceKey) or ErrBadSecret.
func (s *Service) AuthenticateKey(ctx context.Context, secretID, secretKey string) (*usercenter.Actor, error) {
	rec, secret, err := s.liveKey(ctx, secretID)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(secretKey), []byte(secret)) != 1 {
		return nil, ErrBadSecret
	}
	return rec.APIKey.Actor(), nil
}

// superAppActorName names the super-app facade in audit events.
const superAppActorName = "facade:superapp"

// AuthenticateSuperApp checks a super-app call for app sdkAppID: its
// TC-Timestamp (as sent, and read as milliseconds) within SuperAppMaxSkew
// of the clock, and its TC-Signature (hex) the app's signature of it,
// compared in constant time. It returns the actor of the super-app
// platform for that app, which may read the app's users and have their
// phone numbers and emails delivered. An unknown app fails as a wrong
// signature does. A disabled app authenticates: the use cases refuse it
// once the caller is known.
func (s *Service) AuthenticateSuperApp(ctx context.Context, sdkAppID uint64, timestamp string, millis int64, signature string) (*usercenter.Actor, error) {
	now := s.now().UnixMilli()
	if d := now - millis; d > SuperAppMaxSkew.Milliseconds() || d < -SuperAppMaxSkew.Milliseconds() {
		return nil, ErrSuperAppStale
	}
	rec, err := s.store.App(ctx, sdkAppID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrSuperAppSignature
	}
	if err != nil {
		return nil, err
	}
	var digits [20]byte
	aad := aadAppParts(rec.SdkAppID, &digits)
	secret, err := s.vault.OpenString(rec.SealedSuperAppSecret, aad[:]...)
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	want, err := sacipher.Signature(secret, timestamp)
	if err != nil {
		return nil, usercenter.Internal(err)
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) != 1 {
		return nil, ErrSuperAppSignature
	}
	return &usercenter.Actor{
		Name:        superAppActorName,
		Apps:        []uint64{sdkAppID},
		Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead},
	}, nil
}

// AccessKeyLogin checks an enterprise AccessKey login and issues an access
// token. username is the signed string as received (after the one URI
// decoding of the query), password aksig.Password(username, SecretKey).
//
// A login counts against the rate limit of every app of its key, like any
// other action, and is remembered against replays once admitted; a key
// keeps at most MaxEnterpriseTokensPerKey live tokens, the oldest going
// first. It fails with EInvalid for a malformed username or password,
// NotFound (ResourceKey) for an unknown or revoked AccessKey,
// ErrAccessKeyPassword, ErrAccessKeyTimestamp, ErrAccessKeyReplayed,
// ErrSignedBeforeMemory, ErrReplayShareFull or ErrRateLimited.
func (s *Service) AccessKeyLogin(ctx context.Context, username, password string) (*EnterpriseSession, error) {
	u, err := parseAccessKeyUsername(username)
	if err != nil {
		return nil, err
	}
	if len(password) != 64 {
		return nil, usercenter.Invalid(usercenter.FieldPassword, "must be the 64 hex digits of sha256(username + AccessSecret)")
	}
	if _, err := hex.DecodeString(password); err != nil {
		return nil, usercenter.Invalid(usercenter.FieldPassword, "must be the 64 hex digits of sha256(username + AccessSecret)")
	}
	rec, secret, err := s.liveKey(ctx, u.accessKey)
	if err != nil {
		return nil, err
	}
	password = strings.ToLower(password)
	if subtle.ConstantTimeCompare([]byte(password), []byte(aksig.Password(username, secret))) != 1 {
		return nil, ErrAccessKeyPassword
	}
	now := s.now()
	if d := now.Sub(u.timestamp); d > AccessKeyLoginWindow || d < -AccessKeyLoginWindow {
		return nil, ErrAccessKeyTimestamp
	}
	for _, id := range rec.Apps {
		app, err := s.store.App(ctx, id)
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := s.admit(ctx, &app.App); err != nil {
			return nil, err
		}
	}
	if s.replays == nil {
		return nil, errNoReplayMemory
	}
	if err := s.remember(ctx, rec.SecretID, "login\x00"+password, u.timestamp, ErrAccessKeyReplayed); err != nil {
		return nil, err
	}
	return s.issueEnterpriseToken(ctx, rec.SecretID, now.UTC())
}

// AuthenticateAccessToken resolves an enterprise access token to the
// actor of its key, read afresh on every call. It fails with
// ErrBadEnterpriseToken.
func (s *Service) AuthenticateAccessToken(ctx context.Context, token string) (*usercenter.Actor, error) {
	_, key, err := s.enterpriseToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return key.APIKey.Actor(), nil
}

// ErrAccessKeyPassword means an AccessKey login's password is not
// sha256hex(username + AccessSecret).
var ErrAccessKeyPassword = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldPassword, Message: "the password is not sha256hex(username + AccessSecret)"}

// ErrAccessKeyTimestamp means an AccessKey login was signed too long ago,
// or with a clock too far ahead.
var ErrAccessKeyTimestamp = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldTimestamp, Message: "the timestamp must be within 5 minutes of the server's clock (epoch milliseconds)"}

// ErrAccessKeyReplayed means a signed login was presented a second time.
// A login's signature travels in its query string; one that leaked into
// a proxy log must not buy fresh tokens while its timestamp is accepted.
var ErrAccessKeyReplayed = &usercenter.Error{Code: usercenter.EUnauthenticated, Resource: usercenter.ResourceKey, Field: usercenter.FieldPassword, Message: "this signed login was already used: sign each login with a new timestamp"}

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
