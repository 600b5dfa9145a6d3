package storecache_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/storecache"
	"usercenter/vault"
)

// upBus is a bus that is up at once and carries nothing: the caches
// keep entries for longTTL, so that none expires while they are weighed.
type upBus struct{}

func (upBus) Publish(context.Context, []byte) error { return nil }
func (upBus) Subscribe(ctx context.Context, sub storecache.Subscriber) {
	sub.Up()
	<-ctx.Done()
}

// TestEntryBytes weighs an entry of the users, user-cards and tokens
// caches with runtime.MemStats: n users registered as bench seeds them
// (a nickname, an OriginId, a phone and an email, sealed), each read
// once through a cache of capacity n, and what the heap frees when the
// cache goes divided by n. The ring slots the capacity takes are counted in. The figures
// behind storecache.LimitsFor must stay above what is measured here.
func TestEntryBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("registers thousands of users")
	}
	const n = 4096
	base := openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db"))
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.NewService(ctx, base, ring)
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "weigh", RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	sessions := make([]*core.Session, n)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				nick, origin := fmt.Sprintf("user%07d", i), fmt.Sprintf("origin-%07d", i)
				phone, email := fmt.Sprintf("+86136%08d", i), fmt.Sprintf("user%07d@example.com", i)
				s, err := svc.RegisterUser(ctx, key.Actor(), app.SdkAppID, core.UserPatch{Nickname: &nick, OriginID: &origin, Phone: &phone, Email: &email})
				if err != nil {
					errs <- err
					return
				}
				sessions[i] = s
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	weigh := func(cache string, read func(c *storecache.Store, s *core.Session) error) int {
		t.Helper()
		lim := storecache.Limits{Keys: 16, Apps: 16, Domains: 16, Users: 16, Tokens: 16, EnterpriseTokens: 16}
		switch cache {
		case "users", "user-cards":
			lim.Users = n
		case "tokens":
			lim.Tokens = n
		}
		c := storecache.New(base, lim)
		c.UseBus(upBus{}, longTTL)
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); c.Listen(lctx) }()
		for !c.InvalidationUp() {
			time.Sleep(time.Millisecond)
		}
		for _, s := range sessions {
			if err := read(c, s); err != nil {
				t.Fatal(err)
			}
		}
		held := c.Stats()[cache].Len
		if held < n*3/4 {
			t.Fatalf("%s: %d entries held of %d read", cache, held, n)
		}
		// The heap with the cache, then without it: the difference is
		// what it holds, and only that. (Listen empties the caches as it
		// ends.)
		var with, without runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&with)
		cancel()
		<-done
		runtime.KeepAlive(c)
		c = nil
		runtime.GC()
		runtime.ReadMemStats(&without)
		per := int(int64(with.HeapAlloc)-int64(without.HeapAlloc)) / n
		if per <= 0 {
			t.Fatalf("%s: the heap did not shrink when the cache went (%d bytes with it, %d without): nothing weighed", cache, with.HeapAlloc, without.HeapAlloc)
		}
		t.Logf("%s: %d bytes an entry (%d held)", cache, per, held)
		return per
	}
	got := map[string]int{
		"users": weigh("users", func(c *storecache.Store, s *core.Session) error {
			_, err := c.User(ctx, s.User.ID)
			return err
		}),
		"user-cards": weigh("user-cards", func(c *storecache.Store, s *core.Session) error {
			_, err := c.UserCard(ctx, s.User.ID)
			return err
		}),
		"tokens": weigh("tokens", func(c *storecache.Store, s *core.Session) error {
			_, err := c.Token(ctx, usercenter.TokenKey(s.Token))
			return err
		}),
	}
	for cache, want := range storecache.EntryBytes {
		if got[cache] > want {
			t.Errorf("a %s entry takes %d bytes, over the %d storecache.EntryBytes counts", cache, got[cache], want)
		}
	}
}

// TestLimitsFor: serve's default budget holds a working set of 100,000
// users, what a budget's limits may hold stays within it at EntryBytes
// an entry, and a budget below the minimum is the minimum.
func TestLimitsFor(t *testing.T) {
	if got := storecache.LimitsFor(192).Users; got < 100000 {
		t.Errorf("192 MiB holds %d users' entries, cards and tokens; want 100,000", got)
	}
	for _, mib := range []int{storecache.MinMiB, 64, 192, 4096} {
		lim := storecache.LimitsFor(mib)
		e := storecache.EntryBytes
		if grown := lim.Users*(e["users"]+e["user-cards"]) + lim.Tokens*e["tokens"]; grown > mib<<20 {
			t.Errorf("LimitsFor(%d): the caches that grow with the users may take %d MiB", mib, grown>>20)
		}
	}
	if storecache.LimitsFor(1) != storecache.LimitsFor(storecache.MinMiB) {
		t.Error("a budget under MinMiB is not MinMiB")
	}
}
