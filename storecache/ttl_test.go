package storecache

import (
	"testing"
	"time"
)

// TestInvalidateIf: the entries whose value matches go, the others stay,
// and a load that began before cannot store what it read.
func TestInvalidateIf(t *testing.T) {
	// An hour: nothing here expires, however slow the machine.
	c := newTTLCache[int, string](64, time.Hour, func(k int) uint64 { return uint64(k) })
	for k, v := range map[int]string{1: "a", 2: "b", 3: "a", 4: "c"} {
		_, _, tk := c.lookup(k)
		c.put(k, v, tk)
	}
	_, _, late := c.lookup(5) // a load under way
	c.invalidateIf(func(v string) bool { return v == "a" })
	for k, want := range map[int]bool{1: false, 2: true, 3: false, 4: true} {
		if _, ok, _ := c.lookup(k); ok != want {
			t.Errorf("entry %d cached = %v, want %v", k, ok, want)
		}
	}
	c.put(5, "a", late)
	if _, ok, _ := c.lookup(5); ok {
		t.Error("a load that began before the invalidation stored its value")
	}
	// The slots the invalidated entries left are reused as new ones come.
	for k := 10; k < 200; k++ {
		_, _, tk := c.lookup(k)
		c.put(k, "n", tk)
	}
	if n := c.len(); n > 64 {
		t.Errorf("%d entries held, over the capacity of 64", n)
	}
}
