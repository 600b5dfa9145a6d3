package core_test

// The rate limiter and the login replay memory as several nodes share
// them: what the service does when they fail, and AccessKey logins across
// two services on one Redis.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/redisstore/redistest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/uctest"
	"usercenter/vault"
)

var errDown = errors.New("dial tcp 127.0.0.1:6390: connect: connection refused")

// downLimiter is a shared limiter whose Redis is down.
type downLimiter struct{ calls atomic.Int32 }

func (l *downLimiter) Allow(context.Context, uint64, string, int) (bool, error) {
	l.calls.Add(1)
	return false, errDown
}

// downMemory is a shared replay memory whose Redis is down. It answers
// "not seen" with its error, so only the error can make the service refuse.
type downMemory struct{}

func (downMemory) Seen(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return false, errDown
}

// A limiter that fails lets requests through, and says so in the log at
// most now and then, naming no app nor user.
func TestLimiterFailureFailsOpen(t *testing.T) {
	logs := &uctest.LogBuffer{}
	lim := &downLimiter{}
	svc, _ := newFrozen(t, core.WithLimiter(lim), core.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "open", RateLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, svc, key.Actor(), app.SdkAppID, personal("Ann", "+8613800138000", "", ""))
	get := core.WithAction(bg, "GetUser")
	for i := range 5 {
		if _, err := svc.GetUser(get, key.Actor(), u.ID, nil); err != nil {
			t.Fatalf("request %d with the limiter down: %v", i, err)
		}
	}
	if n := lim.calls.Load(); n != 5 {
		t.Fatalf("the limiter was asked %d times, want 5", n)
	}
	out := logs.String()
	if n := strings.Count(out, "rate limiter unavailable"); n != 1 {
		t.Fatalf("%d warnings for 5 failures, want 1:\n%s", n, out)
	}
	for _, private := range []string{u.ID, key.SecretID, strconv.FormatUint(app.SdkAppID, 10), "13800138000"} {
		if strings.Contains(out, private) {
			t.Errorf("the warning names %q:\n%s", private, out)
		}
	}
}

// A replay memory that fails refuses the login: accepting it could accept
// a replay that another node remembers.
func TestLoginReplayFailureFailsClosed(t *testing.T) {
	svc, clock := newFrozen(t, core.WithReplayMemory(downMemory{}))
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	u, p := signedLogin(key, clock.Now())
	_, err = svc.AccessKeyLogin(bg, u, p)
	wantCode(t, err, usercenter.EUnavailable)
	if !errors.Is(err, errDown) {
		t.Errorf("the error %v does not carry its cause for the log", err)
	}
}

// A service built without a login memory refuses AccessKey logins rather
// than accept replays.
func TestLoginWithoutReplayMemory(t *testing.T) {
	svc, clock := newFrozen(t, core.WithReplayMemory(nil))
	_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "none"})
	if err != nil {
		t.Fatal(err)
	}
	u, p := signedLogin(key, clock.Now())
	_, err = svc.AccessKeyLogin(bg, u, p)
	wantCode(t, err, usercenter.EInternal)
}

// Two nodes over one database, each with its own connection to one
// Redis: a login accepted by one is a replay to the other.
func TestAccessKeyLoginReplayAcrossNodes(t *testing.T) {
	name := redistest.Name("accesskey-login")
	store, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ring := mustRing(t, vault.NewKey())
	node := func() *core.Service {
		t.Helper()
		mem := redistest.ReplayMemory(t, name, core.ReplayWindow, replay.DefaultShare)
		svc, err := core.NewService(bg, store, ring, core.WithReplayMemory(mem))
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := node(), node()
	_, key, err := a.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "nodes"})
	if err != nil {
		t.Fatal(err)
	}

	u, p := signedLogin(key, time.Now())
	if _, err := a.AccessKeyLogin(bg, u, p); err != nil {
		t.Fatalf("first login on node a: %v", err)
	}
	if _, err := b.AccessKeyLogin(bg, u, p); !errors.Is(err, core.ErrAccessKeyReplayed) {
		t.Fatalf("the same login on node b: %v, want ErrAccessKeyReplayed", err)
	}
	if _, err := a.AccessKeyLogin(bg, u, p); !errors.Is(err, core.ErrAccessKeyReplayed) {
		t.Fatalf("the same login again on node a: %v, want ErrAccessKeyReplayed", err)
	}

	// Sent to both nodes at once, a fresh login still buys one token.
	u2, p2 := signedLogin(key, time.Now().Add(time.Second))
	var wg sync.WaitGroup
	var ok, replayed atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := []*core.Service{a, b}[i%2].AccessKeyLogin(bg, u2, p2)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, core.ErrAccessKeyReplayed):
				replayed.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 7 {
		t.Fatalf("%d logins and %d replays refused across two nodes, want 1 and 7", ok.Load(), replayed.Load())
	}
}

// refusingMemory is a replay memory that refuses every login with err.
type refusingMemory struct{ err error }

func (m refusingMemory) Seen(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return true, m.err
}

// A key whose share of the memory is full is over a limit; a login signed
// before the memory began is stale.
func TestLoginReplayMemoryRefuses(t *testing.T) {
	for _, c := range []struct {
		err  error
		code usercenter.Code
		is   error
	}{
		{fmt.Errorf("%w (131072 requests in 10m0s)", core.ErrReplayFull), usercenter.ERateLimited, core.ErrReplayShareFull},
		{fmt.Errorf("%w (signed at …)", core.ErrReplayBefore), usercenter.EUnauthenticated, core.ErrSignedBeforeMemory},
	} {
		svc, clock := newFrozen(t, core.WithReplayMemory(refusingMemory{c.err}))
		_, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "refused"})
		if err != nil {
			t.Fatal(err)
		}
		u, p := signedLogin(key, clock.Now())
		_, err = svc.AccessKeyLogin(bg, u, p)
		wantCode(t, err, c.code)
		if !errors.Is(err, c.is) {
			t.Errorf("memory failing with %v: %v, want %v", c.err, err, c.is)
		}
	}
}
