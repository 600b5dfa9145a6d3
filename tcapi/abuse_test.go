package tcapi_test

// The outside probe's attacks on the replay protection of signature v1,
// each replayed against one gateway: a tenant flushing another's memory
// (F1), a request remembered before it was admitted, and a replay across
// a restart (F4).

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/ratelimit"
	"usercenter/replay"
	"usercenter/tcapi"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// abuseNode is one gateway over c's database with its own service: its
// replay memory, its clock, and a rate limiter on that clock.
func abuseNode(t *testing.T, c *cluster, mem core.ReplayMemory, clock *uctest.Clock) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := core.NewService(context.Background(), c.store, c.ring, core.WithReplayMemory(mem),
		core.WithClock(clock.Now), core.WithLimiter(ratelimit.NewWithClock(clock.Now)), core.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	return obs.Middleware("lcic", log, nil, tcapi.New(svc, log))
}

// tenant is an app with its key, and a signer of distinct v1 requests
// (DescribeSdkAppIdUsers, a read) at the clock's time.
type tenant struct {
	app *usercenter.App
	key *usercenter.APIKey
	n   int
}

func newTenant(t *testing.T, c *cluster, name string, rateLimit int) *tenant {
	t.Helper()
	svc, err := core.NewService(context.Background(), c.store, c.ring)
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(context.Background(), usercenter.Operator(), core.NewApp{Name: name, RateLimit: rateLimit})
	if err != nil {
		t.Fatal(err)
	}
	return &tenant{app: app, key: key}
}

// sign signs a new request (a new Nonce) at now.
func (tn *tenant) sign(now time.Time) url.Values {
	tn.n++
	p := url.Values{
		"Action": {"DescribeSdkAppIdUsers"}, "Version": {tcapi.Version},
		"SdkAppId":  {strconv.FormatUint(tn.app.SdkAppID, 10)},
		"Timestamp": {strconv.FormatInt(now.Unix(), 10)},
		"Nonce":     {strconv.Itoa(tn.n)},
	}
	return uctest.SignV1(http.MethodPost, sharedHost, "/", p, tn.key.SecretID, tn.key.SecretKey, "HmacSHA256")
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{store: svctest.OpenStore(t), ring: ring}
}

func frozenClock() *uctest.Clock {
	c := &uctest.Clock{}
	c.Freeze()
	return c
}

// F1: a tenant that fills its share of the memory is refused, and the
// other tenant's used request is still a replay, its new ones accepted.
func TestReplayShareIsPerTenant(t *testing.T) {
	c := newCluster(t)
	clock := frozenClock()
	const share = 4
	h := abuseNode(t, c, replay.NewSince(time.Time{}, core.ReplayWindow, share), clock)
	a, b := newTenant(t, c, "a", 100), newTenant(t, c, "b", 100)

	used := b.sign(clock.Now())
	if r := sendTo(t, h, used); r.Code != "" {
		t.Fatalf("b's first request: %s %s", r.Code, r.Message)
	}
	for i := 0; i < share; i++ {
		if r := sendTo(t, h, a.sign(clock.Now())); r.Code != "" {
			t.Fatalf("a's request %d within its share: %s %s", i, r.Code, r.Message)
		}
	}
	r := sendTo(t, h, a.sign(clock.Now()))
	if r.Code != "RequestLimitExceeded" || !strings.Contains(r.Message, "signed requests") {
		t.Fatalf("a past its share: %q %q, want RequestLimitExceeded", r.Code, r.Message)
	}
	if r := sendTo(t, h, used); r.Code != "AuthFailure.SignatureFailure" || !strings.Contains(r.Message, "already been received") {
		t.Fatalf("b's used request again: %q %q, want it refused as a replay", r.Code, r.Message)
	}
	if r := sendTo(t, h, b.sign(clock.Now())); r.Code != "" {
		t.Fatalf("b's new request: %s %s", r.Code, r.Message)
	}
	// The share frees as a's requests leave the window.
	clock.Advance(core.ReplayWindow + time.Second)
	if r := sendTo(t, h, a.sign(clock.Now())); r.Code != "" {
		t.Fatalf("a after the window: %s %s", r.Code, r.Message)
	}
}

// A request the rate limit refused was never admitted, so it is not
// remembered: the same signed request goes through once the limit
// allows. Were it remembered first, anyone replaying a tenant's traffic
// could fill its share with requests that did nothing.
func TestReplayRememberedOnlyOnceAdmitted(t *testing.T) {
	c := newCluster(t)
	clock := frozenClock()
	h := abuseNode(t, c, replay.NewSince(time.Time{}, core.ReplayWindow, 16), clock)
	tn := newTenant(t, c, "limited", 1)

	if r := sendTo(t, h, tn.sign(clock.Now())); r.Code != "" {
		t.Fatalf("first request: %s %s", r.Code, r.Message)
	}
	limited := tn.sign(clock.Now())
	if r := sendTo(t, h, limited); r.Code != "RequestLimitExceeded" {
		t.Fatalf("second request in the same second: %q, want RequestLimitExceeded", r.Code)
	}
	clock.Advance(time.Second)
	if r := sendTo(t, h, limited); r.Code != "" {
		t.Fatalf("the refused request once the limit allows: %q %q, want it accepted", r.Code, r.Message)
	}
	clock.Advance(time.Second) // past the rate limit, which runs first
	if r := sendTo(t, h, limited); r.Code != "AuthFailure.SignatureFailure" {
		t.Fatalf("the same request again: %q, want a replay", r.Code)
	}
}

// F4: after a restart the new process's memory began after the request
// was signed, so a replay of it is refused as stale, and a request signed
// afresh goes through.
func TestReplayRefusedAfterRestart(t *testing.T) {
	c := newCluster(t)
	clock := frozenClock()
	tn := newTenant(t, c, "restart", 100)
	before := abuseNode(t, c, replay.NewSince(time.Time{}, core.ReplayWindow, 16), clock)
	used := tn.sign(clock.Now())
	if r := sendTo(t, before, used); r.Code != "" {
		t.Fatalf("before the restart: %s %s", r.Code, r.Message)
	}

	// The process restarts half a second later, with an empty memory.
	clock.Advance(500 * time.Millisecond)
	after := abuseNode(t, c, replay.NewSince(clock.Now(), core.ReplayWindow, 16), clock)
	if r := sendTo(t, after, used); r.Code != "AuthFailure.SignatureExpire" {
		t.Fatalf("the request replayed after the restart: %q %q, want AuthFailure.SignatureExpire", r.Code, r.Message)
	}
	clock.Advance(time.Second)
	if r := sendTo(t, after, tn.sign(clock.Now())); r.Code != "" {
		t.Fatalf("a request signed after the restart: %s %s", r.Code, r.Message)
	}
}
