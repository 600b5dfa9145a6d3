package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"usercenter/core"
	"usercenter/redisstore"
	"usercenter/redisstore/redistest"
)

var bg = context.Background()

// The types are what core asks for.
var (
	_ core.Limiter         = (*redisstore.Limiter)(nil)
	_ core.ReplayMemory    = (*redisstore.ReplayMemory)(nil)
	_ prometheus.Collector = (*redisstore.Client)(nil)
)

// randomApp is an SdkAppId no other test or run uses, so that tests
// sharing the Redis never share a budget.
func randomApp() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])>>1 | 1<<62
}

func allow(t *testing.T, l *redisstore.Limiter, app uint64, action string, perSecond int) bool {
	t.Helper()
	ok, err := l.Allow(bg, app, action, perSecond)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// drain calls Allow until it refuses, at most limit times, and returns
// how many were allowed.
func drain(t *testing.T, l *redisstore.Limiter, app uint64, action string, perSecond, limit int) int {
	t.Helper()
	n := 0
	for n < limit && allow(t, l, app, action, perSecond) {
		n++
	}
	return n
}

// beforeRefill runs burst, which makes requests to a fresh bucket of
// perSecond and returns the checks of what it saw, until one run's
// requests all fit in less time than a token takes to refill; then it
// makes that run's checks. The limiter runs on Redis's clock, which a test
// cannot stop, and counts are exact only if no token refilled meanwhile.
// A burst takes a few milliseconds, but a loaded machine can make it
// slower than a refill (200 ms at 5/s): such a run proves nothing, and is
// tried again on a fresh bucket, for up to a minute.
func beforeRefill(t *testing.T, perSecond int, burst func(app uint64) (check func())) {
	t.Helper()
	refill := time.Second / time.Duration(perSecond)
	for deadline := time.Now().Add(time.Minute); ; {
		start := time.Now()
		check := burst(randomApp())
		if took := time.Since(start); took < refill {
			check()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run of requests took less than %v in a minute", refill)
		}
	}
}

func TestLimiterBurstEqualsRate(t *testing.T) {
	l := redisstore.NewLimiter(redistest.Open(t))
	for _, rate := range []int{1, 3, 5} {
		beforeRefill(t, rate, func(app uint64) func() {
			got := drain(t, l, app, "lcic.LoginUser", rate, 10*rate)
			after := allow(t, l, app, "lcic.LoginUser", rate)
			return func() {
				if got != rate {
					t.Errorf("rate %d: %d requests allowed at once, want %d", rate, got, rate)
				}
				if after {
					t.Errorf("rate %d: allowed right after the burst", rate)
				}
			}
		})
	}
}

// The limiter runs on Redis's clock, so the test cannot move time: it
// hammers one bucket for a while and checks the count against what the
// rate allows over the time that really passed.
func TestLimiterRefillsAtTheRate(t *testing.T) {
	l := redisstore.NewLimiter(redistest.Open(t))
	app := randomApp()
	const rate = 10
	start := time.Now()
	if got := drain(t, l, app, "Get", rate, 100); got != rate {
		t.Fatalf("burst %d, want %d", got, rate)
	}
	drained := time.Now()
	allowed := rate
	// Until a request that began 600 ms after the burst: by then six
	// tokens have refilled, so if none was taken before, that one is
	// allowed, however slowly the requests came.
	for {
		began := time.Now()
		if allow(t, l, app, "Get", rate) {
			allowed++
		}
		if began.Sub(drained) >= 600*time.Millisecond {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if allowed == rate {
		t.Fatalf("nothing refilled in %v at %d/s", elapsed, rate)
	}
	// The burst plus one token per tenth of a second, and one for the
	// rounding at either end.
	if most := rate + int(math.Ceil(elapsed.Seconds()*rate)) + 1; allowed > most {
		t.Errorf("%d allowed in %v at %d/s with burst %d, want at most %d", allowed, elapsed, rate, rate, most)
	}
}

// Two nodes, each with its own connection, draw from one budget.
func TestLimiterSharedBetweenNodes(t *testing.T) {
	nodes := []*redisstore.Limiter{redisstore.NewLimiter(redistest.Open(t)), redisstore.NewLimiter(redistest.Open(t))}
	const rate = 4
	beforeRefill(t, rate, func(app uint64) func() {
		allowed := 0
		for i := range 4 * rate {
			if allow(t, nodes[i%2], app, "lcic.RegisterUser", rate) {
				allowed++
			}
		}
		var after []int
		for i, n := range nodes {
			if allow(t, n, app, "lcic.RegisterUser", rate) {
				after = append(after, i)
			}
		}
		return func() {
			if allowed != rate {
				t.Errorf("two nodes allowed %d requests at once, want the one burst %d", allowed, rate)
			}
			for _, i := range after {
				t.Errorf("node %d allowed after the shared burst", i)
			}
		}
	})
}

func TestLimiterSeparateBuckets(t *testing.T) {
	l := redisstore.NewLimiter(redistest.Open(t))
	const rate = 3
	beforeRefill(t, rate, func(a uint64) func() {
		b := randomApp()
		first := drain(t, l, a, "Login", rate, 100)
		type bucket struct {
			app    uint64
			action string
		}
		others := []bucket{{a, "Register"}, {b, "Login"}, {b, "Register"}, {a, "login"}}
		got := make([]int, len(others))
		for i, k := range others {
			got[i] = drain(t, l, k.app, k.action, rate, 100)
		}
		after := allow(t, l, a, "Login", rate)
		return func() {
			if first != rate {
				t.Fatalf("burst %d, want %d", first, rate)
			}
			for i, k := range others {
				if got[i] != rate {
					t.Errorf("(%d, %q): burst %d, want %d", k.app, k.action, got[i], rate)
				}
			}
			if after {
				t.Error("(a, Login) refilled by requests to other buckets")
			}
		}
	})
}

func TestLimiterKeys(t *testing.T) {
	c := redistest.Open(t)
	l := redisstore.NewLimiter(c)
	// The key lives only until the bucket would be full again (half a
	// second at 2/s, which Redis rounds up to a second): the key is looked
	// at before a refill, or it may be gone already.
	beforeRefill(t, 2, func(app uint64) func() {
		allow(t, l, app, "v1.users.get", 2)
		key := "rate:usercenter:rl:" + strconv.FormatUint(app, 10) + ":v1.users.get"
		ttl, err := c.Raw().PTTL(bg, key).Result()
		return func() {
			if err != nil {
				t.Fatal(err)
			}
			if ttl <= 0 || ttl > 2*time.Second {
				t.Errorf("%s expires in %v, want within a second or so", key, ttl)
			}
		}
	})
}

// A Redis that is down costs a request one refused dial: the limiter lets
// it through, the replay memory refuses it, both at once and with the
// error.
func TestRedisDown(t *testing.T) {
	c, err := redisstore.NewClient(redistest.DeadURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkDown(t, c)
}

// A Redis that accepts connections and never answers costs a request the
// short I/O timeout, not the library's default of seconds.
func TestRedisHangs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, conn)
		}
	}()
	c, err := redisstore.NewClient("redis://" + ln.Addr().String() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkDown(t, c)
}

func checkDown(t *testing.T, c *redisstore.Client) {
	t.Helper()
	// A call costs the short timeouts (300 ms), or a dial refused at once.
	// The bound leaves a loaded machine ten times that, and still fails a
	// client left with go-redis's default read timeout of 5 s. The retries
	// the defaults would add to a refused dial (under 2 s in all) are
	// checked without a clock by TestClientOptions.
	const quick = 3 * time.Second
	start := time.Now()
	ok, err := redisstore.NewLimiter(c).Allow(bg, 1, "Get", 5)
	if err == nil || !ok {
		t.Errorf("limiter on a dead Redis: %v, %v; want true and the error", ok, err)
	}
	if d := time.Since(start); d > quick {
		t.Errorf("limiter took %v to give up", d)
	}
	start = time.Now()
	now := time.Now()
	seen, err := redisstore.NewReplayMemory(c, "test-down", time.Minute, 10).Seen(bg, "AKID", "k", now, now)
	if err == nil || !seen {
		t.Errorf("replay memory on a dead Redis: %v, %v; want true and the error", seen, err)
	}
	if d := time.Since(start); d > quick {
		t.Errorf("replay memory took %v to give up", d)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if n, err := testutil.GatherAndCount(reg, "usercenter_redis_failures_total"); err != nil || n != 2 {
		t.Errorf("%d failure series, %v; want ratelimit and replay:test-down", n, err)
	}
}

func TestOpenFailsWithoutPassword(t *testing.T) {
	dead := strings.Replace(redistest.DeadURL(t), "redis://", "redis://:s3cretpw@", 1)
	start := time.Now()
	_, err := redisstore.Open(bg, dead)
	if err == nil {
		t.Fatal("Open of a dead Redis succeeded")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("the error %q shows the password", err)
	}
	// A refused dial fails at once; the bound is for a loaded machine (see
	// checkDown).
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open took %v to give up", d)
	}
	for _, u := range []string{
		"redis://:s3cretpw@127.0.0.1:notaport/0",
		"redis://user:s3cretpw@127.0.0.1:6379/notadb",
		"http://user:s3cretpw@127.0.0.1:6379/0",
		"redis://user:s3cretpw@127.0.0.1:6379/0?dial_timeout=soon",
	} {
		_, err := redisstore.Open(bg, u)
		if err == nil {
			t.Errorf("%s: opened", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("the error %q shows the password", err)
		}
	}
}

func TestOpenNames(t *testing.T) {
	c := redistest.Open(t)
	if s := c.String(); s == "" || strings.Contains(s, "@") {
		t.Errorf("String() = %q, want host:port/db without credentials", s)
	}
	if err := c.Ping(bg); err != nil {
		t.Fatal(err)
	}
}

// TestClientOptions checks what makes a dead Redis cost a request one quick
// failure, without timing it: the short timeouts, one dial a call and no
// retries, unless the URL asks otherwise.
func TestClientOptions(t *testing.T) {
	c, err := redisstore.NewClient(redistest.DeadURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Raw().Options()
	if o.DialTimeout != redisstore.DialTimeout || o.ReadTimeout != redisstore.IOTimeout ||
		o.WriteTimeout != redisstore.IOTimeout || o.PoolTimeout != redisstore.IOTimeout {
		t.Errorf("timeouts dial %v, read %v, write %v, pool %v; want %v and %v", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, redisstore.DialTimeout, redisstore.IOTimeout)
	}
	// go-redis turns the -1 that asks for no retries into 0.
	if o.MaxRetries > 0 || o.DialerRetries != 1 {
		t.Errorf("%d retries and %d dials a call, want none and one", o.MaxRetries, o.DialerRetries)
	}
	c2, err := redisstore.NewClient(redistest.DeadURL(t) + "?read_timeout=2s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if o := c2.Raw().Options(); o.ReadTimeout != 2*time.Second || o.MaxRetries != 2 {
		t.Errorf("the URL's read_timeout and max_retries were overridden: %v, %d", o.ReadTimeout, o.MaxRetries)
	}
}
