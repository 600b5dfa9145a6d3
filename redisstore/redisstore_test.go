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

// The rates are low so that the time a burst takes refills nothing: at
// 5/s a token takes 200ms, while a burst takes a few milliseconds.
func TestLimiterBurstEqualsRate(t *testing.T) {
	l := redisstore.NewLimiter(redistest.Open(t))
	for _, rate := range []int{1, 3, 5} {
		app := randomApp()
		if got := drain(t, l, app, "lcic.LoginUser", rate, 10*rate); got != rate {
			t.Errorf("rate %d: %d requests allowed at once, want %d", rate, got, rate)
		}
		if allow(t, l, app, "lcic.LoginUser", rate) {
			t.Errorf("rate %d: allowed right after the burst", rate)
		}
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
	allowed := rate
	for time.Since(start) < 600*time.Millisecond {
		if allow(t, l, app, "Get", rate) {
			allowed++
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
	app := randomApp()
	const rate = 4
	allowed := 0
	for i := range 4 * rate {
		if allow(t, nodes[i%2], app, "lcic.RegisterUser", rate) {
			allowed++
		}
	}
	if allowed != rate {
		t.Errorf("two nodes allowed %d requests at once, want the one burst %d", allowed, rate)
	}
	for i, n := range nodes {
		if allow(t, n, app, "lcic.RegisterUser", rate) {
			t.Errorf("node %d allowed after the shared burst", i)
		}
	}
}

func TestLimiterSeparateBuckets(t *testing.T) {
	l := redisstore.NewLimiter(redistest.Open(t))
	a, b := randomApp(), randomApp()
	const rate = 3
	if got := drain(t, l, a, "Login", rate, 100); got != rate {
		t.Fatalf("burst %d, want %d", got, rate)
	}
	for _, k := range []struct {
		app    uint64
		action string
	}{{a, "Register"}, {b, "Login"}, {b, "Register"}, {a, "login"}} {
		if got := drain(t, l, k.app, k.action, rate, 100); got != rate {
			t.Errorf("(%d, %q): burst %d, want %d", k.app, k.action, got, rate)
		}
	}
	if allow(t, l, a, "Login", rate) {
		t.Error("(a, Login) refilled by requests to other buckets")
	}
}

func TestLimiterKeys(t *testing.T) {
	c := redistest.Open(t)
	l := redisstore.NewLimiter(c)
	app := randomApp()
	allow(t, l, app, "v1.users.get", 2)
	key := "rate:usercenter:rl:" + strconv.FormatUint(app, 10) + ":v1.users.get"
	ttl, err := c.Raw().PTTL(bg, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The key lives only until the bucket would be full again.
	if ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("%s expires in %v, want within a second or so", key, ttl)
	}
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
	// Generous for a loaded CI machine; the point is "not seconds".
	const quick = 1500 * time.Millisecond
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
	if d := time.Since(start); d > 2*time.Second {
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
