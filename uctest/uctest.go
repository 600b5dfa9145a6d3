// Package uctest starts real usercenter instances for tests: a fresh store
// (SQLite in a temporary directory, or a PostgreSQL schema under
// USERCENTER_TEST_ENGINE=postgres; see svctest), the service, and the full
// HTTP handler on a loopback port. Only tests import it.
package uctest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/ratelimit"
	"usercenter/replay"
	"usercenter/server"
	"usercenter/storecache"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// Clock is the wall clock plus an offset that tests can move, until
// frozen.
type Clock struct {
	mu       sync.Mutex
	offset   time.Duration
	frozenAt time.Time // when not zero, the time Now starts from
}

// Now returns the shifted time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozenAt.IsZero() {
		return c.frozenAt.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Freeze stops the clock where it is, for a test that counts on no time
// passing between its requests (a rate limit's bucket refilling, say),
// however slowly a loaded machine serves them. Advance still moves it.
func (c *Clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozenAt.IsZero() {
		c.frozenAt = time.Now()
	}
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// LogBuffer collects log output safely from many goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Env is one running instance.
type Env struct {
	URL   string // http://127.0.0.1:PORT
	Host  string // 127.0.0.1:PORT
	Svc   *core.Service
	Store core.Store
	Clock *Clock
	Log   *LogBuffer
	// Engine is the store's engine (svctest.SQLite or svctest.Postgres),
	// for tests that look beneath the store, and DB where its data is:
	// the SQLite file, or the DSN of the PostgreSQL schema.
	Engine string
	DB     string
	// Dir is a temporary directory of the instance; with SQLite, the one
	// holding the database file and its WAL.
	Dir string
	// App and Key are a first app and its all-permission key.
	App *usercenter.App
	Key *usercenter.APIKey
}

// Options tune an Env.
type Options struct {
	RateLimit int // the first app's limit; default 1000 so tests are not throttled
	// Wrap, when set, wraps the store the service sees (over the cache),
	// for tests that watch what the use cases read.
	Wrap func(core.Store) core.Store
}

// New starts an instance that stops when the test ends.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.RateLimit == 0 {
		o.RateLimit = 1000
	}
	ctx := context.Background()
	engine, db := svctest.Engine(), svctest.NewDatabase(t)
	// Cached as serve caches it, so that every test through the facades
	// also checks that this node reads its own writes at once.
	var store core.Store = storecache.New(svctest.OpenDatabase(t, db), storecache.DefaultLimits)
	if o.Wrap != nil {
		store = o.Wrap(store)
	}
	dir := filepath.Dir(db)
	if engine != svctest.SQLite {
		dir = t.TempDir()
	}
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{}
	logs := &LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The replay memory began long ago: no earlier process accepted
	// anything of this test's, so whatever its clock says is fresh.
	svc, err := core.NewService(ctx, store, ring, core.WithClock(clock.Now), core.WithLimiter(ratelimit.NewWithClock(clock.Now)), core.WithReplayMemory(replay.NewSince(time.Time{}, core.ReplayWindow, replay.DefaultShare)), core.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewHandler(svc, log, server.NewRegistry()))
	// Registered after OpenDatabase's cleanup, so it runs before the store
	// closes: no request in flight finds the store closed.
	t.Cleanup(srv.Close)
	e := &Env{URL: srv.URL, Host: strings.TrimPrefix(srv.URL, "http://"), Svc: svc, Store: store, Clock: clock, Log: logs, Engine: engine, DB: db, Dir: dir}
	e.App, e.Key = e.NewApp(t, "first", o.RateLimit)
	return e
}

// NewApp creates another app with its all-permission key.
func (e *Env) NewApp(t testing.TB, name string, rateLimit int) (*usercenter.App, *usercenter.APIKey) {
	t.Helper()
	app, key, err := e.Svc.CreateApp(context.Background(), usercenter.Operator(), core.NewApp{Name: name, RateLimit: rateLimit})
	if err != nil {
		t.Fatal(err)
	}
	return app, key
}

// NewKey creates a key for apps with perms.
func (e *Env) NewKey(t testing.TB, apps []uint64, perms ...usercenter.Permission) *usercenter.APIKey {
	t.Helper()
	key, err := e.Svc.CreateKey(context.Background(), usercenter.Operator(), "test", apps, perms)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
