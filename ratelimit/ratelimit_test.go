package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// drain calls Allow until it refuses, up to limit times, and returns how
// many calls were allowed.
func drain(l *Limiter, app uint64, action string, perSecond, limit int) int {
	n := 0
	for n < limit && allow(l, app, action, perSecond) {
		n++
	}
	return n
}

func TestBurstEqualsRate(t *testing.T) {
	for _, rate := range []int{1, 5, 20, 1000} {
		l := NewWithClock(newFakeClock().Now)
		if got := drain(l, 1, "Login", rate, 10*rate); got != rate {
			t.Errorf("rate %d: %d requests allowed at once, want %d", rate, got, rate)
		}
		if allow(l, 1, "Login", rate) {
			t.Errorf("rate %d: allowed after the burst with no time passing", rate)
		}
	}
}

func TestRefill(t *testing.T) {
	clock := newFakeClock()
	l := NewWithClock(clock.Now)
	const rate = 5
	if got := drain(l, 1, "Get", rate, 100); got != rate {
		t.Fatalf("burst %d, want %d", got, rate)
	}
	// One token every 200ms.
	clock.Advance(199 * time.Millisecond)
	if allow(l, 1, "Get", rate) {
		t.Error("allowed 199ms after the burst, before one token refilled")
	}
	clock.Advance(time.Millisecond)
	if !allow(l, 1, "Get", rate) {
		t.Error("refused 200ms after the burst, when one token had refilled")
	}
	if allow(l, 1, "Get", rate) {
		t.Error("allowed a second request after one token refilled")
	}
	clock.Advance(600 * time.Millisecond)
	if got := drain(l, 1, "Get", rate, 100); got != 3 {
		t.Errorf("%d allowed after 600ms, want 3", got)
	}
	// A long idle spell refills the bucket, but only up to the burst.
	clock.Advance(time.Hour)
	if got := drain(l, 1, "Get", rate, 100); got != rate {
		t.Errorf("%d allowed after an hour, want %d", got, rate)
	}
}

func TestSeparateBuckets(t *testing.T) {
	clock := newFakeClock()
	l := NewWithClock(clock.Now)
	const rate = 3
	if got := drain(l, 1, "Login", rate, 100); got != rate {
		t.Fatalf("burst %d, want %d", got, rate)
	}
	// Same app, other action; other app, same action: untouched.
	for _, k := range []struct {
		app    uint64
		action string
	}{{1, "Register"}, {2, "Login"}, {2, "Register"}, {1, "login"}} {
		if got := drain(l, k.app, k.action, rate, 100); got != rate {
			t.Errorf("(%d, %q): burst %d, want %d", k.app, k.action, got, rate)
		}
	}
	if allow(l, 1, "Login", rate) {
		t.Error("(1, Login) refilled by requests to other buckets")
	}
}

func TestRateChange(t *testing.T) {
	clock := newFakeClock()
	l := NewWithClock(clock.Now)

	// Raising the rate: the bucket refills at the new rate and holds the
	// new burst.
	if got := drain(l, 1, "Get", 2, 100); got != 2 {
		t.Fatalf("burst %d at rate 2", got)
	}
	if allow(l, 1, "Get", 10) {
		t.Error("a rate change granted tokens without time passing")
	}
	clock.Advance(100 * time.Millisecond) // one token at 10/s, a fifth at 2/s
	if !allow(l, 1, "Get", 10) {
		t.Error("refused 100ms after raising the rate to 10/s")
	}
	clock.Advance(time.Minute)
	if got := drain(l, 1, "Get", 10, 100); got != 10 {
		t.Errorf("burst %d after raising the rate to 10, want 10", got)
	}

	// Lowering the rate: a full bucket shrinks to the new burst at once.
	clock.Advance(time.Minute)
	if got := drain(l, 1, "Get", 2, 100); got != 2 {
		t.Errorf("burst %d after lowering the rate to 2, want 2", got)
	}
	clock.Advance(250 * time.Millisecond) // half a token at 2/s
	if allow(l, 1, "Get", 2) {
		t.Error("allowed 250ms after draining at 2/s")
	}
	clock.Advance(250 * time.Millisecond)
	if !allow(l, 1, "Get", 2) {
		t.Error("refused 500ms after draining at 2/s")
	}
}

func TestConcurrentAllowNeverExceedsBurst(t *testing.T) {
	l := NewWithClock(newFakeClock().Now)
	const rate = 50
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if allow(l, 7, "Get", rate) {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != rate {
		t.Errorf("%d of 320 concurrent requests allowed, want exactly %d", got, rate)
	}
}

func TestNewUsesWallClock(t *testing.T) {
	l := New()
	if !allow(l, 1, "Get", 1) {
		t.Fatal("first request refused")
	}
	if allow(l, 1, "Get", 1) {
		t.Fatal("second request within the same instant allowed at 1/s")
	}
}

// allow is Allow for tests: buckets in memory never fail.
func allow(l *Limiter, app uint64, action string, perSecond int) bool {
	ok, err := l.Allow(context.Background(), app, action, perSecond)
	if err != nil {
		panic(err)
	}
	return ok
}
