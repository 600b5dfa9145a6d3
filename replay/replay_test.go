package replay

import (
	"strconv"
	"testing"
	"time"
)

func TestRememberAndExpire(t *testing.T) {
	c := New(10*time.Minute, 100)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, seen := c.Remember("a", "RegisterUser", t0); seen {
		t.Fatal("a new key was reported as seen")
	}
	first, seen := c.Remember("a", "DeleteUser", t0.Add(time.Minute))
	if !seen || first != "RegisterUser" {
		t.Fatalf("second sighting: first=%q seen=%v", first, seen)
	}
	// Past the window the key is forgotten and may be recorded anew.
	if _, seen := c.Remember("a", "DeleteUser", t0.Add(10*time.Minute)); seen {
		t.Fatal("a key outlived its window")
	}
}

func TestBoundedMemory(t *testing.T) {
	c := New(time.Hour, 1000)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50_000 {
		c.Remember(strconv.Itoa(i), "", now)
	}
	if n := c.Len(); n != 1000 {
		t.Fatalf("cache holds %d entries, want the cap 1000", n)
	}
	// The newest entries are the ones kept.
	if _, seen := c.Remember("49999", "", now); !seen {
		t.Fatal("the newest entry was dropped")
	}
	if _, seen := c.Remember("0", "", now); seen {
		t.Fatal("the oldest entry was kept past the cap")
	}
}

// A key dropped at the cap and recorded again must not be dropped a
// second time through its stale slot.
func TestRecordedAgainAfterDrop(t *testing.T) {
	c := New(time.Hour, 2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Remember("a", "", now)
	c.Remember("b", "", now)
	c.Remember("c", "", now) // drops a
	c.Remember("a", "", now) // drops b; a's first slot is stale
	c.Remember("d", "", now) // must drop c, not the new a
	if _, seen := c.Remember("a", "", now); !seen {
		t.Fatal("a was dropped through its stale slot")
	}
	if _, seen := c.Remember("c", "", now); seen {
		t.Fatal("c should have been dropped")
	}
}
