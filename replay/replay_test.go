package replay

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestSeenAndExpire(t *testing.T) {
	c := New(10*time.Minute, 100)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if seen(c, "a", t0) {
		t.Fatal("a new key was reported as seen")
	}
	if !seen(c, "a", t0.Add(time.Minute)) {
		t.Fatal("the second sighting was not reported as seen")
	}
	// Past the window the key is forgotten and may be recorded anew.
	if seen(c, "a", t0.Add(10*time.Minute)) {
		t.Fatal("a key outlived its window")
	}
}

func TestBoundedMemory(t *testing.T) {
	c := New(time.Hour, 1000)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50_000 {
		seen(c, strconv.Itoa(i), now)
	}
	if n := c.Len(); n != 1000 {
		t.Fatalf("cache holds %d entries, want the cap 1000", n)
	}
	// The newest entries are the ones kept.
	if !seen(c, "49999", now) {
		t.Fatal("the newest entry was dropped")
	}
	if seen(c, "0", now) {
		t.Fatal("the oldest entry was kept past the cap")
	}
}

// A key dropped at the cap and recorded again must not be dropped a
// second time through its stale slot.
func TestRecordedAgainAfterDrop(t *testing.T) {
	c := New(time.Hour, 2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seen(c, "a", now)
	seen(c, "b", now)
	seen(c, "c", now) // drops a
	seen(c, "a", now) // drops b; a's first slot is stale
	seen(c, "d", now) // must drop c, not the new a
	if !seen(c, "a", now) {
		t.Fatal("a was dropped through its stale slot")
	}
	if seen(c, "c", now) {
		t.Fatal("c should have been dropped")
	}
}

// seen is Seen for tests: the in-process cache never fails.
func seen(c *Cache, key string, now time.Time) bool {
	ok, err := c.Seen(context.Background(), key, now)
	if err != nil {
		panic(err)
	}
	return ok
}
