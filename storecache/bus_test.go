package storecache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/redisstore"
	"usercenter/redisstore/redistest"
	"usercenter/replay"
	"usercenter/storecache"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// longTTL is the cache lifetime of the push tests: a node that saw a
// change made on another at all within the tests' bounds heard of it.
const longTTL = time.Hour

// pushBound is how long a node may take to see another's change in the
// push tests: generous, as a loaded machine may be slow; with entries
// living longTTL, a change seen at all proves the push.
const pushBound = 30 * time.Second

// gatedBus passes a real bus through, except that while held it keeps
// its subscriber from hearing that the bus came back: the listener then
// stays down after a cut for as long as the test needs to look at it.
type gatedBus struct {
	storecache.Bus
	mu   sync.Mutex
	open chan struct{} // closed while not held
}

func newGatedBus(b storecache.Bus) *gatedBus {
	g := &gatedBus{Bus: b, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gatedBus) hold() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedBus) release() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

func (g *gatedBus) Subscribe(ctx context.Context, sub storecache.Subscriber) {
	g.Bus.Subscribe(ctx, gatedSubscriber{sub, g, ctx})
}

type gatedSubscriber struct {
	storecache.Subscriber
	g   *gatedBus
	ctx context.Context
}

func (s gatedSubscriber) Up() {
	s.g.mu.Lock()
	open := s.g.open
	s.g.mu.Unlock()
	select {
	case <-open:
		s.Subscriber.Up()
	case <-s.ctx.Done():
	}
}

// useBus gives s the bus b, which is or wraps bare: Redis's is foreign to
// the stores (see UseForeignBus).
func useBus(s *storecache.Store, b, bare storecache.Bus) {
	if _, ok := bare.(*redisstore.InvalidationBus); ok {
		s.UseForeignBus(b, longTTL)
		return
	}
	s.UseBus(b, longTTL)
}

// busNode is a server's view of the database: a cached store over its
// own connections, with its own bus, and the service over it.
type busNode struct {
	store *storecache.Store
	svc   *core.Service
	bus   *gatedBus
}

func startNode(t *testing.T, base core.Store, bus storecache.Bus, ring *vault.Keyring) *busNode {
	t.Helper()
	n := &busNode{store: storecache.New(base, storecache.DefaultLimits), bus: newGatedBus(bus)}
	useBus(n.store, n.bus, bus)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.store.Listen(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	svc, err := core.NewService(ctx, n.store, ring, core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)))
	if err != nil {
		t.Fatal(err)
	}
	n.svc = svc
	waitUp(t, n, true)
	return n
}

// gather reads n's metrics as /metrics would.
func gather(t *testing.T, n *busNode) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(n.store)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// up reads usercenter_cache_invalidation_up as /metrics would.
func up(t *testing.T, n *busNode) float64 {
	t.Helper()
	for _, mf := range gather(t, n) {
		if mf.GetName() == "usercenter_cache_invalidation_up" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no usercenter_cache_invalidation_up")
	return 0
}

func waitUp(t *testing.T, n *busNode, want bool) {
	t.Helper()
	w := 0.0
	if want {
		w = 1
	}
	for deadline := time.Now().Add(pushBound); up(t, n) != w; {
		if time.Now().After(deadline) {
			t.Fatalf("usercenter_cache_invalidation_up is not %v after %v", w, pushBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if want && n.store.TTL() != longTTL || !want && n.store.TTL() != storecache.TTL {
		t.Fatalf("invalidation up %v, entries live %v", want, n.store.TTL())
	}
}

// seen polls check on node b until it returns nil or pushBound passes.
func seen(t *testing.T, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			took := time.Since(start)
			t.Logf("%s: seen after %v", what, took.Round(time.Microsecond))
			return took
		}
		if time.Since(start) > pushBound {
			t.Fatalf("%s: still not seen after %v: %v", what, pushBound, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// cachedOn checks that a read repeated on n is answered by cache: the
// change that follows must then reach n's cache, not its database.
func cachedOn(t *testing.T, n *busNode, cache string, read func() error) {
	t.Helper()
	if err := read(); err != nil {
		t.Fatal(err)
	}
	hits := n.store.Stats()[cache].Hits
	if err := read(); err != nil {
		t.Fatal(err)
	}
	if n.store.Stats()[cache].Hits == hits {
		t.Fatalf("the %s cache did not answer a repeated read", cache)
	}
}

// changesSeen makes, through node a, each change that must reach every
// node, and checks that node b, whose cache held the old row, sees it.
func changesSeen(t *testing.T, a, b *busNode) {
	name := strings.ReplaceAll(t.Name(), "/", "-")
	t.Helper()
	app, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: name, RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) *core.Session {
		t.Helper()
		s, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: app.SdkAppID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	me := func(token string) func() error {
		return func() error { _, err := b.svc.Me(ctx, token); return err }
	}

	// A revoked key.
	k, err := a.svc.CreateKey(ctx, usercenter.Operator(), "revoked", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	cachedOn(t, b, "keys", func() error { _, err := b.svc.AuthenticateKey(ctx, k.SecretID, k.SecretKey); return err })
	if err := a.svc.RevokeKey(ctx, usercenter.Operator(), k.SecretID); err != nil {
		t.Fatal(err)
	}
	seen(t, "a revoked key", func() error {
		if _, err := b.svc.AuthenticateKey(ctx, k.SecretID, k.SecretKey); usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("AuthenticateKey: %v", err)
		}
		return nil
	})

	// A disabled user.
	s := register("disabled")
	cachedOn(t, b, "users", me(s.Token))
	if err := svctest.SetUserStatus(a.svc, ctx, key.Actor(), s.User.ID, usercenter.UserDisabled); err != nil {
		t.Fatal(err)
	}
	seen(t, "a disabled user", func() error {
		if err := me(s.Token)(); !errors.Is(err, core.ErrUserDisabled) {
			return fmt.Errorf("Me: %v", err)
		}
		return nil
	})

	// A deleted user.
	s = register("deleted")
	cachedOn(t, b, "users", me(s.Token))
	if err := a.svc.DeleteUser(ctx, key.Actor(), s.User.ID); err != nil {
		t.Fatal(err)
	}
	seen(t, "a deleted user", func() error {
		if err := me(s.Token)(); !errors.Is(err, core.ErrBadToken) {
			return fmt.Errorf("Me: %v", err)
		}
		return nil
	})

	// Revoked tokens.
	s = register("revoked")
	cachedOn(t, b, "tokens", me(s.Token))
	if _, err := a.svc.RevokeUserTokens(ctx, key.Actor(), s.User.ID); err != nil {
		t.Fatal(err)
	}
	seen(t, "a revoked token", func() error {
		if err := me(s.Token)(); !errors.Is(err, core.ErrBadToken) {
			return fmt.Errorf("Me: %v", err)
		}
		return nil
	})

	// A changed nickname.
	s = register("before")
	cachedOn(t, b, "users", me(s.Token))
	nick := "after"
	if _, err := a.svc.UpdateUser(ctx, key.Actor(), s.User.ID, core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	seen(t, "a changed nickname", func() error {
		u, err := b.svc.Me(ctx, s.Token)
		if err != nil || u.Nickname != nick {
			return fmt.Errorf("Me: %v, nickname %q", err, u.Nickname)
		}
		return nil
	})
}

// pushTest runs the changes through two nodes with the bus up, with b's
// listener cut (cut ends it, as a lost connection does) and kept down,
// and once it is back.
func pushTest(t *testing.T, a, b *busNode, cut func(t *testing.T)) {
	t.Run("up", func(t *testing.T) { changesSeen(t, a, b) })
	t.Run("cut", func(t *testing.T) {
		b.bus.hold()
		cut(t)
		waitUp(t, b, false)
		// Down, entries live TTL: changes are seen through expiry.
		changesSeen(t, a, b)
	})
	t.Run("restored", func(t *testing.T) {
		flushes := metricValue(t, b, "usercenter_cache_flushes_total")
		b.bus.release()
		waitUp(t, b, true)
		if got := metricValue(t, b, "usercenter_cache_flushes_total"); got <= flushes {
			t.Errorf("usercenter_cache_flushes_total %v after the bus came back, was %v", got, flushes)
		}
		changesSeen(t, a, b)
	})
}

// onlyMetric is one metric of a collector.
type onlyMetric struct {
	prometheus.Collector
	name string
}

func (o onlyMetric) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { o.Collector.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+o.name+`"`) {
			ch <- m
		}
	}
}

// twoPostgresNodes opens two stores on one PostgreSQL schema, as two
// nodes would, and a keyring for their services.
func twoPostgresNodes(t *testing.T) (a, b *postgres.Store, ring *vault.Keyring) {
	t.Helper()
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return open(), open(), ring
}

// TestPushPostgres: two nodes on one PostgreSQL schema, with entries
// living an hour, see each other's changes over LISTEN/NOTIFY; with b's
// listening session terminated they fall back to the short lifetime and
// say so; and once it is back they hear each other again.
func TestPushPostgres(t *testing.T) {
	pa, pb, ring := twoPostgresNodes(t)
	busA, busB := pa.InvalidationBus(), pb.InvalidationBus()
	if busA.Channel() != busB.Channel() {
		t.Fatalf("two stores on one schema listen on %s and %s", busA.Channel(), busB.Channel())
	}
	a := startNode(t, pa, busA, ring)
	b := startNode(t, pb, busB, ring)
	t.Run("large write", func(t *testing.T) { largeWriteSeen(t, a, b) })
	t.Run("inserts unpublished", func(t *testing.T) { insertsUnpublished(t, a, b) })
	pushTest(t, a, b, func(t *testing.T) {
		pid := busB.ListenerPID()
		if pid == 0 {
			t.Fatal("node b has no listening session")
		}
		conn, err := pgx.Connect(ctx, os.Getenv(pgtest.EnvVar))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend(%d): %v, %v", pid, ok, err)
		}
	})
}

// TestPushRedis is TestPushPostgres over Redis pub/sub, two nodes on one
// SQLite file; the cut is a CLIENT KILL of b's subscribing connection.
func TestPushRedis(t *testing.T) {
	url := redistest.URL(t)
	path := filepath.Join(t.TempDir(), "usercenter.db")
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	channel := redistest.Name("push")
	busA := redisstore.NewInvalidationBus(redistest.Open(t), channel)
	busB := redisstore.NewInvalidationBus(redistest.Open(t), channel)
	a := startNode(t, openSQLite(t, path), busA, ring)
	b := startNode(t, openSQLite(t, path), busB, ring)
	pushTest(t, a, b, func(t *testing.T) {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		killed := 0
		for _, line := range strings.Split(list, "\n") {
			if !strings.Contains(line, " name="+busB.ClientName()+" ") {
				continue
			}
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			if err := rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
		if killed == 0 {
			t.Fatalf("no connection named %s in CLIENT LIST", busB.ClientName())
		}
	})
}

// BenchmarkPushPostgres measures how long a change made on one node takes
// to reach another's cache over LISTEN/NOTIFY: from the return of the
// write's Update on node a to the first read on node b that sees it, b
// reading in a loop. It reports the median and the 99th percentile.
func BenchmarkPushPostgres(b *testing.B) {
	dsn := pgtest.DSN(b)
	benchPush(b, func() (core.Store, storecache.Bus) {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s, s.InvalidationBus()
	})
}

// BenchmarkPushRedis is BenchmarkPushPostgres over Redis pub/sub, the
// nodes sharing a SQLite file.
func BenchmarkPushRedis(b *testing.B) {
	redistest.URL(b)
	path := filepath.Join(b.TempDir(), "usercenter.db")
	channel := redistest.Name("bench")
	benchPush(b, func() (core.Store, storecache.Bus) {
		return openSQLite(b, path), redisstore.NewInvalidationBus(redistest.Open(b), channel)
	})
}

func benchPush(b *testing.B, open func() (core.Store, storecache.Bus)) {
	var stores [2]*storecache.Store
	for i := range stores {
		s, bus := open()
		stores[i] = storecache.New(s, storecache.DefaultLimits)
		useBus(stores[i], bus, bus)
		lctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); stores[i].Listen(lctx) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	na, nb := stores[0], stores[1]
	for deadline := time.Now().Add(pushBound); !na.InvalidationUp() || !nb.InvalidationUp(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the listeners are not up")
		}
	}
	storetest.AddApps(b, na, 1)
	u := storetest.NewUser(1, "latency", storetest.Base)
	storetest.AddUser(b, na, u)
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		if _, err := nb.User(ctx, u.ID); err != nil { // cached on b
			b.Fatal(err)
		}
		nick := fmt.Sprint("n", i)
		u.Nickname = nick
		storetest.MustUpdate(b, na, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
		written := time.Now()
		for {
			got, err := nb.User(ctx, u.ID)
			if err != nil {
				b.Fatal(err)
			}
			if got.Nickname == nick {
				break
			}
			runtime.Gosched()
			if time.Since(written) > pushBound {
				b.Fatalf("change %d not seen on b after %v", i, pushBound)
			}
		}
		took = append(took, time.Since(written))
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// largeWriteSeen: a write that changes more rows than a message can name
// is published as "drop everything", which reaches b as well.
func largeWriteSeen(t *testing.T, a, b *busNode) {
	storetest.AddApps(t, a.store, 7)
	var users []*core.UserRecord
	for i := range 400 {
		users = append(users, storetest.NewUser(7, fmt.Sprint("large-", i), storetest.Base))
	}
	mustUpdate(t, a.store, func(tx core.Tx) error { return tx.InsertUsers(ctx, users) })
	last := users[len(users)-1]
	cachedOn(t, b, "users", func() error { _, err := b.store.User(ctx, last.ID); return err })
	mustUpdate(t, a.store, func(tx core.Tx) error {
		for _, u := range users {
			u.Nickname = "renamed"
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	seen(t, "the last of 400 users renamed in one write", func() error {
		u, err := b.store.User(ctx, last.ID)
		if err != nil || u.Nickname != "renamed" {
			return fmt.Errorf("User: %v, nickname %q", err, u.Nickname)
		}
		return nil
	})
	if got := metricValue(t, a, "usercenter_cache_invalidation_publish_failures_total"); got != 0 {
		t.Errorf("%v publications failed", got)
	}
}

// insertsUnpublished: a registration (a user and a token inserted) and a
// purge of expired tokens send nothing to the other nodes: the change
// published after them is the next message b hears. PostgreSQL delivers
// notifications in commit order.
func insertsUnpublished(t *testing.T, a, b *busNode) {
	app, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "quiet", RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	sdkAppID := app.SdkAppID
	// The key cached on b: b refuses it only once it heard of its
	// revocation, and by then of everything committed before.
	cachedOn(t, b, "keys", func() error { _, err := b.svc.AuthenticateKey(ctx, key.SecretID, key.SecretKey); return err })
	before := metricValue(t, b, "usercenter_cache_invalidation_messages_total")
	if _, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: sdkAppID, Name: "quiet"}); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a.store, func(tx core.Tx) error {
		_, err := tx.DeleteExpiredTokens(ctx, time.Now().Add(1000*time.Hour))
		return err
	})
	if err := a.svc.RevokeKey(ctx, usercenter.Operator(), key.SecretID); err != nil {
		t.Fatal(err)
	}
	seen(t, "the revocation after a registration", func() error {
		if _, err := b.svc.AuthenticateKey(ctx, key.SecretID, key.SecretKey); usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("AuthenticateKey: %v", err)
		}
		return nil
	})
	if got := metricValue(t, b, "usercenter_cache_invalidation_messages_total"); got != before+1 {
		t.Errorf("b heard %v messages for a registration, a purge and a revocation, want 1", got-before)
	}
}

// metricValue reads one of the node's unlabelled metrics.
func metricValue(t *testing.T, n *busNode, name string) float64 {
	t.Helper()
	return testutil.ToFloat64(onlyMetric{n.store, name})
}
