package core_test

import (
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/ratelimit"
)

// F3: AccessKey logins go through the rate limit of the key's app, like
// any other action: a burst past it is refused, and admitted again once
// the limit refills.
func TestAccessKeyLoginIsRateLimited(t *testing.T) {
	var clock *frozenClock
	svc, clock := newFrozen(t, core.WithLimiter(ratelimit.NewWithClock(func() time.Time { return clock.Now() })))
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "limited", RateLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := core.WithAction(bg, "enterprise.accessKeyLogin")
	login := func() error {
		clock.Advance(time.Millisecond) // a new signed login each time
		u, p := signedLogin(key, clock.Now())
		_, err := svc.AccessKeyLogin(ctx, u, p)
		return err
	}
	for i := 0; i < 2; i++ {
		if err := login(); err != nil {
			t.Fatalf("login %d within the limit: %v", i, err)
		}
	}
	wantCode(t, login(), usercenter.ERateLimited)
	clock.Advance(time.Second)
	if err := login(); err != nil {
		t.Fatalf("login once the limit refilled: %v", err)
	}
}

// F3: repeated logins do not pile up token rows: a key keeps its newest
// MaxEnterpriseTokensPerKey tokens, and the oldest stop working.
func TestAccessKeyLoginsKeepBoundedTokens(t *testing.T) {
	svc, clock := newFrozen(t)
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "many"})
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for i := 0; i < core.MaxEnterpriseTokensPerKey+3; i++ {
		clock.Advance(time.Millisecond)
		u, p := signedLogin(key, clock.Now())
		sess, err := svc.AccessKeyLogin(bg, u, p)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		tokens = append(tokens, sess.Token)
	}
	for i, tok := range tokens {
		_, err := svc.AuthenticateAccessToken(bg, tok)
		if live := i >= 3; live != (err == nil) {
			t.Errorf("token %d of %d: %v; want live %v", i, len(tokens), err, live)
		}
	}
}
