package core_test

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/aksig"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// frozenClock is a clock that moves only when told.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newFrozen is a service on a frozen clock, with extra options.
func newFrozen(t *testing.T, opts ...core.Option) (*core.Service, *frozenClock) {
	t.Helper()
	clock := &frozenClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc, _ := svctest.New(t, append([]core.Option{core.WithClock(clock.Now)}, opts...)...)
	return svc, clock
}

// signedLogin is the username and password of an AccessKey login at ts.
func signedLogin(key *usercenter.APIKey, ts time.Time) (string, string) {
	u := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + key.SecretID + "&timestamp=" + strconv.FormatInt(ts.UnixMilli(), 10)
	return u, aksig.Password(u, key.SecretKey)
}

func TestAccessKeyLoginWindow(t *testing.T) {
	svc, clock := newFrozen(t)
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "win"})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	for _, d := range []time.Duration{0, core.AccessKeyLoginWindow, -core.AccessKeyLoginWindow} {
		u, p := signedLogin(key, now.Add(d))
		if _, err := svc.AccessKeyLogin(bg, u, p); err != nil {
			t.Fatalf("timestamp %v away: %v", d, err)
		}
	}
	for _, d := range []time.Duration{core.AccessKeyLoginWindow + time.Millisecond, -core.AccessKeyLoginWindow - time.Millisecond, 24 * time.Hour} {
		u, p := signedLogin(key, now.Add(d))
		if _, err := svc.AccessKeyLogin(bg, u, p); err != core.ErrAccessKeyTimestamp {
			t.Fatalf("timestamp %v away: %v", d, err)
		}
	}
	// A stale timestamp with a wrong password is a wrong password.
	u, _ := signedLogin(key, now.Add(time.Hour))
	if _, err := svc.AccessKeyLogin(bg, u, aksig.Password(u, "wrong")); err != core.ErrAccessKeyPassword {
		t.Fatalf("wrong password: %v", err)
	}
	// Malformed input is invalid, an unknown key not found.
	for _, u := range []string{"", "x", "ver=1", "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=&timestamp=1", "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=a&timestamp=-1"} {
		if _, err := svc.AccessKeyLogin(bg, u, aksig.Password(u, key.SecretKey)); usercenter.ErrorCode(err) != usercenter.EInvalid {
			t.Fatalf("username %q: %v", u, err)
		}
	}
	ghost := &usercenter.APIKey{SecretID: "AKIDghost", SecretKey: key.SecretKey}
	u, p := signedLogin(ghost, now)
	if _, err := svc.AccessKeyLogin(bg, u, p); usercenter.ErrorOf(err).Resource != usercenter.ResourceKey || usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestEnterpriseTokenTTLAndRefresh(t *testing.T) {
	svc, clock := newFrozen(t, core.WithEnterpriseTokenTTL(10*time.Minute))
	other, _ := newFrozen(t, core.WithEnterpriseTokenTTL(time.Second)) // ignored: below a minute
	if svc.EnterpriseTokenTTL() != 10*time.Minute || other.EnterpriseTokenTTL() != core.DefaultEnterpriseTokenTTL {
		t.Fatalf("TTLs %v and %v", svc.EnterpriseTokenTTL(), other.EnterpriseTokenTTL())
	}
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "ttl"})
	if err != nil {
		t.Fatal(err)
	}
	u, p := signedLogin(key, clock.Now())
	sess, err := svc.AccessKeyLogin(bg, u, p)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.ExpiresAt.Equal(clock.Now().Add(10*time.Minute)) || sess.SecretID != key.SecretID || len(sess.Token) < 30 {
		t.Fatalf("session %+v", sess)
	}
	actor, err := svc.AuthenticateAccessToken(bg, sess.Token)
	if err != nil || actor.Name != "key:"+key.SecretID || !actor.Scoped(app.SdkAppID) || !actor.Has(usercenter.PermPIIRead) {
		t.Fatalf("actor %+v, %v", actor, err)
	}
	// The token is stored only as its hash.
	if _, err := svc.AuthenticateAccessToken(bg, string(usercenter.HashToken(sess.Token))); err != core.ErrBadEnterpriseToken {
		t.Fatalf("the hash as a token: %v", err)
	}

	// Refresh: the same token until 30 minutes after issue, here beyond
	// its own lifetime, so it has expired first.
	clock.Advance(9 * time.Minute)
	same, err := svc.RefreshEnterpriseToken(bg, sess.Token)
	if err != nil || same.Token != sess.Token || !same.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("refresh at 9 min: %+v, %v", same, err)
	}
	clock.Advance(time.Minute)
	if _, err := svc.AuthenticateAccessToken(bg, sess.Token); err != core.ErrBadEnterpriseToken {
		t.Fatalf("at expiry: %v", err)
	}
	if _, err := svc.RefreshEnterpriseToken(bg, sess.Token); err != core.ErrBadEnterpriseToken {
		t.Fatalf("refresh at expiry: %v", err)
	}

	// With the default lifetime, exactly 30 minutes gives a new token.
	svc2, clock2 := newFrozen(t)
	_, key2, err := svc2.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "refresh"})
	if err != nil {
		t.Fatal(err)
	}
	u, p = signedLogin(key2, clock2.Now())
	s2, err := svc2.AccessKeyLogin(bg, u, p)
	if err != nil {
		t.Fatal(err)
	}
	clock2.Advance(core.EnterpriseTokenReuse - time.Millisecond)
	if r, err := svc2.RefreshEnterpriseToken(bg, s2.Token); err != nil || r.Token != s2.Token {
		t.Fatalf("just before 30 min: %+v, %v", r, err)
	}
	clock2.Advance(time.Millisecond)
	r, err := svc2.RefreshEnterpriseToken(bg, s2.Token)
	if err != nil || r.Token == s2.Token || !r.ExpiresAt.Equal(clock2.Now().Add(2*time.Hour)) {
		t.Fatalf("at 30 min: %+v, %v", r, err)
	}

	// Purging: both tokens of svc2 expire at their own times.
	if n, err := svc2.DeleteExpiredEnterpriseTokens(bg); err != nil || n != 0 {
		t.Fatalf("purge before expiry: %d, %v", n, err)
	}
	clock2.Advance(2*time.Hour - 30*time.Minute + time.Second)
	if n, err := svc2.DeleteExpiredEnterpriseTokens(bg); err != nil || n != 1 {
		t.Fatalf("purge of the first: %d, %v", n, err)
	}
	if _, err := svc2.AuthenticateAccessToken(bg, r.Token); err != nil {
		t.Fatalf("the refreshed token after the purge: %v", err)
	}
	clock2.Advance(time.Hour)
	if n, err := svc2.DeleteExpiredEnterpriseTokens(bg); err != nil || n != 1 {
		t.Fatalf("purge of the second: %d, %v", n, err)
	}
}

func TestEnterpriseRevokedKey(t *testing.T) {
	svc, clock := newFrozen(t)
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "revoke"})
	if err != nil {
		t.Fatal(err)
	}
	u, p := signedLogin(key, clock.Now())
	sess, err := svc.AccessKeyLogin(bg, u, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeKey(bg, usercenter.Operator(), key.SecretID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateAccessToken(bg, sess.Token); err != core.ErrBadEnterpriseToken {
		t.Fatalf("token of a revoked key: %v", err)
	}
	if _, err := svc.RefreshEnterpriseToken(bg, sess.Token); err != core.ErrBadEnterpriseToken {
		t.Fatalf("refresh of a revoked key's token: %v", err)
	}
	if _, err := svc.AccessKeyLogin(bg, u, p); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("login with a revoked key: %v", err)
	}
}

// A signed login is good for one token: presented again, even at once
// and concurrently, it is refused.
func TestEnterpriseLoginReplay(t *testing.T) {
	env, _, _ := newEnv(t)
	u, p := signedLogin(env.Key, env.Clock.Now())
	var wg sync.WaitGroup
	var ok, replayed atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.Svc.AccessKeyLogin(bg, u, p)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, core.ErrAccessKeyReplayed):
				replayed.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 7 {
		t.Fatalf("%d logins and %d replays refused, want 1 and 7", ok.Load(), replayed.Load())
	}
	// A login that failed is not remembered: signed with the wrong secret
	// it fails, and the right signature of the same username still works.
	u2, _ := signedLogin(env.Key, env.Clock.Now().Add(time.Second))
	if _, err := env.Svc.AccessKeyLogin(bg, u2, aksig.Password(u2, "wrong secret")); !errors.Is(err, core.ErrAccessKeyPassword) {
		t.Fatalf("wrong signature: %v", err)
	}
	if _, err := env.Svc.AccessKeyLogin(bg, u2, aksig.Password(u2, env.Key.SecretKey)); err != nil {
		t.Fatalf("a failed attempt blocked the real login: %v", err)
	}
}

func TestEnterpriseConcurrentLogins(t *testing.T) {
	env, _, _ := newEnv(t)
	var wg sync.WaitGroup
	var failures atomic.Int32
	tokens := make([]string, 16)
	base := env.Clock.Now()
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each login is signed at its own millisecond: the same signed
			// login twice is a replay.
			u, p := signedLogin(env.Key, base.Add(time.Duration(i)*time.Millisecond))
			sess, err := env.Svc.AccessKeyLogin(bg, u, p)
			if err != nil {
				failures.Add(1)
				return
			}
			tokens[i] = sess.Token
			if _, err := env.Svc.AuthenticateAccessToken(bg, sess.Token); err != nil {
				failures.Add(1)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, tok := range tokens {
		seen[tok] = true
	}
	if failures.Load() != 0 || len(seen) != len(tokens) {
		t.Fatalf("%d failures, %d distinct tokens", failures.Load(), len(seen))
	}
}

func TestEnterpriseUseCasesScope(t *testing.T) {
	env, appB, _ := newEnv(t)
	reader, err := env.Svc.CreateKey(bg, usercenter.Operator(), "reader", []uint64{env.App.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	actor := reader.Actor()
	uB := mustUser(t, env.Svc, usercenter.Operator(), appB.SdkAppID, personal("b", "+8613612346688", "", ""))
	if _, err := env.Svc.GetUser(bg, actor, uB.ID, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("another tenant's user: %v", err)
	}
	if _, err := env.Svc.ListUsers(bg, actor, core.UserQuery{UserDomain: appB.UserDomain, Limit: 10, WithTotal: true}); usercenter.ErrorOf(err).Resource != usercenter.ResourceApp {
		t.Fatalf("another tenant's domain: %v", err)
	}
	if err := svctest.SetUserStatus(env.Svc, bg, actor, uB.ID, usercenter.UserDisabled); usercenter.ErrorCode(err) != usercenter.EForbidden {
		t.Fatalf("setUserStatus without users.write: %v", err)
	}
	apps, total, err := env.Svc.UserDomains(bg, actor, 1, 10)
	if err != nil || total != 1 || len(apps) != 1 || apps[0].SdkAppID != env.App.SdkAppID || apps[0].SuperAppSecretKey != "" {
		t.Fatalf("domains %+v %d %v", apps, total, err)
	}
	for _, c := range [][2]int{{0, 10}, {1, 0}, {1, 101}, {-1, 10}} {
		if _, _, err := env.Svc.UserDomains(bg, actor, c[0], c[1]); usercenter.ErrorCode(err) != usercenter.EInvalid {
			t.Fatalf("page %v: %v", c, err)
		}
	}
}
