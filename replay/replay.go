// Package replay remembers recently seen signed requests, such as LCIC's
// signature v1 requests and enterprise AccessKey logins, so that a
// captured request cannot be sent again while its timestamp is still
// accepted.
package replay

import (
	"context"
	"sync"
	"time"
)

// Cache remembers request fingerprints for a fixed window. It holds at most max
// entries: when full it forgets the entries closest to expiry first, so
// memory stays bounded whatever the traffic.
type Cache struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	entries map[string]entry
	// order lists keys by insertion, which is also expiry order because
	// every entry lives for the same window. A slot whose seq differs from
	// its entry's is stale: the key was dropped and recorded again.
	order []slot
	head  int
	seq   uint64
}

type entry struct {
	expires time.Time
	seq     uint64
}

type slot struct {
	key string
	seq uint64
}

// New builds a cache whose entries live for window; window must cover the
// whole span of accepted timestamps (twice the allowed clock skew).
func New(window time.Duration, max int) *Cache {
	return &Cache{window: window, max: max, entries: make(map[string]entry)}
}

// Seen records key unless it is already known, and reports whether it
// was. The context and the error are there for memories shared over the
// network (redisstore); an in-process cache never fails.
func (c *Cache) Seen(_ context.Context, key string, now time.Time) (bool, error) {
	return c.seen(key, now), nil
}

func (c *Cache) seen(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, ok := c.entries[key]; ok {
		return true
	}
	for len(c.entries) >= c.max {
		c.dropOldest()
	}
	c.seq++
	c.entries[key] = entry{expires: now.Add(c.window), seq: c.seq}
	c.order = append(c.order, slot{key, c.seq})
	return false
}

// Len is the number of entries held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// expire drops the entries whose window has passed; they sit at the front
// of order, so the work is proportional to what is dropped.
func (c *Cache) expire(now time.Time) {
	for c.head < len(c.order) {
		s := c.order[c.head]
		if e, ok := c.entries[s.key]; ok && e.seq == s.seq {
			if now.Before(e.expires) {
				break
			}
			delete(c.entries, s.key)
		}
		c.head++
	}
	c.compact()
}

func (c *Cache) dropOldest() {
	for c.head < len(c.order) {
		s := c.order[c.head]
		c.head++
		if e, ok := c.entries[s.key]; ok && e.seq == s.seq {
			delete(c.entries, s.key)
			break
		}
	}
	c.compact()
}

// compact reclaims the consumed front of order once it is half the slice.
func (c *Cache) compact() {
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append([]slot(nil), c.order[c.head:]...)
		c.head = 0
	}
}
