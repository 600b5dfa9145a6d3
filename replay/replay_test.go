package replay

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"usercenter/core"
)

var _ core.ReplayMemory = (*Cache)(nil)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const window = 10 * time.Minute

// seen is Seen for a request signed at now, which must not fail.
func seen(t *testing.T, c *Cache, tenant, key string, now time.Time) bool {
	t.Helper()
	ok, err := c.Seen(context.Background(), tenant, key, now, now)
	if err != nil {
		t.Fatalf("Seen(%s, %s) at %v: %v", tenant, key, now.Sub(t0), err)
	}
	return ok
}

func TestSeenAndExpire(t *testing.T) {
	c := NewSince(t0, window, 100)
	if seen(t, c, "A", "a", t0) {
		t.Fatal("a new key was reported as seen")
	}
	if !seen(t, c, "A", "a", t0.Add(time.Minute)) {
		t.Fatal("the second sighting was not reported as seen")
	}
	// Keys are remembered per tenant.
	if seen(t, c, "B", "a", t0.Add(time.Minute)) {
		t.Fatal("another tenant's key was reported as seen")
	}
	// Past the window the key is forgotten and may be recorded anew.
	if seen(t, c, "A", "a", t0.Add(window)) {
		t.Fatal("a key outlived its window")
	}
	if !seen(t, c, "A", "a", t0.Add(window+time.Second)) {
		t.Fatal("a key recorded again was not remembered")
	}
}

// A key is remembered until the last instant of its window, while older
// entries expire and are reclaimed around it and another tenant floods
// its own share.
func TestNeverForgottenInsideWindow(t *testing.T) {
	const share = 500
	c := NewSince(t0.Add(-window), window, share)
	step := window / (share / 2)
	n := 0
	// Each step B and C record one key (half their share alive at once),
	// A three (its share fills, and it is refused).
	traffic := func(now time.Time) {
		for _, tenant := range []string{"A", "A", "A", "B", "C"} {
			n++
			_, err := c.Seen(context.Background(), tenant, strconv.Itoa(n), now, now)
			if err != nil && tenant != "A" {
				t.Fatalf("%s at %v: %v", tenant, now.Sub(t0), err)
			}
		}
	}
	for now := t0.Add(-window); now.Before(t0); now = now.Add(step) {
		traffic(now)
	}
	seen(t, c, "B", "kept", t0)
	for now := t0; now.Before(t0.Add(window)); now = now.Add(step) {
		traffic(now)
		if !seen(t, c, "B", "kept", now) {
			t.Fatalf("the key was forgotten %v into its window", now.Sub(t0))
		}
	}
	if !seen(t, c, "B", "kept", t0.Add(window-time.Nanosecond)) {
		t.Fatal("the key was forgotten at the last instant of its window")
	}
	if seen(t, c, "B", "kept", t0.Add(window)) {
		t.Fatal("the key outlived its window")
	}
}

// The F1 attack scaled down: tenant A fills its share with distinct keys.
// A is refused; tenant B's used key is still a replay and B's new keys
// are still accepted.
func TestTenantFillsOnlyItsShare(t *testing.T) {
	const share = 1000
	c := NewSince(t0, window, share)
	if seen(t, c, "B", "used", t0) {
		t.Fatal("B's first request was reported as seen")
	}
	now := t0.Add(time.Second)
	for i := range share {
		if seen(t, c, "A", "junk"+strconv.Itoa(i), now) {
			t.Fatalf("A's junk request %d was reported as seen", i)
		}
	}
	ok, err := c.Seen(context.Background(), "A", "one-too-many", now, now)
	if !errors.Is(err, core.ErrReplayFull) || !ok {
		t.Fatalf("A past its share: %v, %v; want true and ErrReplayFull", ok, err)
	}
	// A's own replays are still replays, not "full".
	if !seen(t, c, "A", "junk0", now) {
		t.Fatal("A's first junk request was forgotten")
	}
	if !seen(t, c, "B", "used", now) {
		t.Fatal("B's used request was accepted again after A filled its share")
	}
	for i := range share - 1 {
		if seen(t, c, "B", "new"+strconv.Itoa(i), now) {
			t.Fatalf("B's new request %d was reported as seen", i)
		}
	}
	if _, err := c.Seen(context.Background(), "B", "past", now, now); !errors.Is(err, core.ErrReplayFull) {
		t.Fatalf("B past its own share: %v, want ErrReplayFull", err)
	}
}

// A request refused for a full share is not recorded, and the share frees
// as its entries expire.
func TestFullShareRecordsNothing(t *testing.T) {
	c := NewSince(t0, window, 3)
	for _, k := range []string{"a", "b", "c"} {
		seen(t, c, "A", k, t0)
	}
	half := t0.Add(window / 2)
	if _, err := c.Seen(context.Background(), "A", "refused", half, half); !errors.Is(err, core.ErrReplayFull) {
		t.Fatalf("want ErrReplayFull, got %v", err)
	}
	// Had "refused" been recorded at half, it would be remembered until
	// half+window; a, b and c expire at t0+window.
	if seen(t, c, "A", "refused", t0.Add(window)) {
		t.Fatal("a request refused for a full share was recorded")
	}
}

// Expired entries are reclaimed whoever calls, and a share left empty
// goes with them.
func TestReclaimsEveryTenant(t *testing.T) {
	c := NewSince(t0, window, 5000)
	for i := range 5000 {
		seen(t, c, "A", strconv.Itoa(i), t0)
	}
	seen(t, c, "B", "x", t0.Add(window))
	if n := c.Len(); n != 1 {
		t.Fatalf("%d entries after A's expired, want B's 1", n)
	}
	c.mu.Lock()
	shares := len(c.tenants)
	c.mu.Unlock()
	if shares != 1 {
		t.Fatalf("%d shares, want only B's", shares)
	}
}

// Under steady traffic the memory holds what is alive, and the queue
// does not grow past a small multiple of it.
func TestBoundedMemory(t *testing.T) {
	const share = 1000
	c := NewSince(t0, window, share)
	step := window / 1500 // 1,500 calls a window: some tenants fill up
	now := t0
	for i := range 100_000 {
		now = now.Add(step)
		c.Seen(context.Background(), "T"+strconv.Itoa(i%3), strconv.Itoa(i), now, now)
		if i%1000 == 0 {
			if n := c.Len(); n > 3*share {
				t.Fatalf("%d entries, more than three shares", n)
			}
			c.mu.Lock()
			queued, capacity := len(c.queue)-c.head, cap(c.queue)
			c.mu.Unlock()
			if queued > 3*share || capacity > 4*3*share+8192 {
				t.Fatalf("queue holds %d, capacity %d, for at most %d entries", queued, capacity, 3*share)
			}
		}
	}
}

// When now goes backwards an expired entry can sit behind a live one; it
// is then recorded again, and its stale slot must not drop the new entry.
func TestRecordedAgainBehindStaleSlot(t *testing.T) {
	c := NewSince(t0, window, 10)
	seen(t, c, "A", "x", t0.Add(5*time.Minute)) // expires t0+15m, first in the queue
	seen(t, c, "A", "a", t0)                    // expires t0+10m, behind x
	// At t0+12m a has expired but x blocks its slot: a is recorded again.
	if seen(t, c, "A", "a", t0.Add(12*time.Minute)) {
		t.Fatal("an expired key was reported as seen")
	}
	// At t0+16m both old slots are reclaimed; the new a lives to t0+22m.
	if !seen(t, c, "A", "a", t0.Add(16*time.Minute)) {
		t.Fatal("the key recorded again was dropped through its stale slot")
	}
}

// A memory knows nothing signed before it began: after a restart, a
// request the old process accepted is refused rather than accepted again
// (F4).
func TestSignedBeforeStart(t *testing.T) {
	bg := context.Background()
	old := NewSince(t0, window, 10)
	signed := t0.Add(time.Minute)
	used := t0.Add(time.Minute + time.Second)
	if ok, err := old.Seen(bg, "A", "k", signed, used); ok || err != nil {
		t.Fatalf("first use: %v, %v", ok, err)
	}
	restarted := NewSince(used.Add(time.Second), window, 10)
	ok, err := restarted.Seen(bg, "A", "k", signed, used.Add(2*time.Second))
	if !errors.Is(err, core.ErrReplayBefore) || !ok {
		t.Fatalf("replay after a restart: %v, %v; want true and ErrReplayBefore", ok, err)
	}
	// A request signed from the start on is recorded.
	start := restarted.Start()
	if ok, err := restarted.Seen(bg, "A", "new", start, start.Add(time.Second)); ok || err != nil {
		t.Fatalf("request signed at the start: %v, %v", ok, err)
	}

	// New starts at the time it is called.
	before := time.Now().Add(-time.Second)
	c := New(window, 10)
	if _, err := c.Seen(bg, "A", "k", before, time.Now()); !errors.Is(err, core.ErrReplayBefore) {
		t.Fatalf("request signed before New: %v, want ErrReplayBefore", err)
	}
	now := time.Now()
	if ok, err := c.Seen(bg, "A", "k", now, now); ok || err != nil {
		t.Fatalf("request signed after New: %v, %v", ok, err)
	}
}
