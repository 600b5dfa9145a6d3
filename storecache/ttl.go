package storecache

import (
	"sync"
	"sync/atomic"
	"time"
)

// nShards splits each cache so that 32 connections on two cores rarely
// wait on one mutex; a power of two, so a hash picks one with a mask.
const nShards = 16

// epoch anchors the monotonic clock of every cache: time.Since reads the
// monotonic clock, which a wall-clock step cannot move.
var epoch = time.Now()

func monotonic() int64 { return int64(time.Since(epoch)) }

// ttlCache maps keys to values for at most ttl each, and holds at most
// about capacity entries (capacity/nShards per shard, at least one).
//
// Every entry lives the same ttl, so insertion order is expiry order: each
// shard keeps its entries in a FIFO ring, evicts from its head when full,
// and drops expired entries from the head on every insert. The ring holds
// one slot per insert; a key inserted again, or invalidated, leaves a stale
// slot behind that is skipped when it reaches the head. So the map never
// holds more entries than the ring has slots.
//
// It is written here rather than taken from a library (such as
// hashicorp/golang-lru's expirable LRU) for two reasons. Every entry lives
// the same TTL, so a FIFO ring per shard orders entries by expiry and a
// hit costs one map lookup under a mutex, with no list to reorder. And the
// race below needs the store and the invalidation to share a lock with a
// sequence number, which a library cache does not offer.
//
// Loads race with invalidations: a reader that read the database before a
// write committed must not put what it read into the cache after the
// write invalidated it. lookup hands out the shard's sequence number with
// a miss, and put stores only while the sequence is unchanged; every
// invalidation of the shard advances it.
type ttlCache[K comparable, V any] struct {
	// ttl changes when the invalidation channel comes up or goes down
	// (see Store.Listen); an entry keeps the expiry it was stored with.
	ttl    atomic.Int64
	hash   func(K) uint64
	shards [nShards]shard[K, V]
	hits   atomic.Int64
	misses atomic.Int64
}

type shard[K comparable, V any] struct {
	mu   sync.Mutex
	seq  uint64
	m    map[K]*entry[V]
	ring []slot[K, V]
	head int // index of the oldest slot
	n    int // slots in use
}

type entry[V any] struct {
	v       V
	expires int64 // monotonic nanoseconds
}

type slot[K comparable, V any] struct {
	k K
	e *entry[V]
}

func newTTLCache[K comparable, V any](capacity int, ttl time.Duration, hash func(K) uint64) *ttlCache[K, V] {
	per := max(1, capacity/nShards)
	c := &ttlCache[K, V]{hash: hash}
	c.ttl.Store(int64(ttl))
	for i := range c.shards {
		c.shards[i].m = make(map[K]*entry[V])
		c.shards[i].ring = make([]slot[K, V], per)
	}
	return c
}

func (c *ttlCache[K, V]) shard(k K) *shard[K, V] {
	return &c.shards[c.hash(k)&(nShards-1)]
}

// ticket is what a miss hands to the load that follows it.
type ticket struct {
	seq   uint64
	start int64 // when the load began: the entry's age counts from here
}

// lookup returns the live value of k, or a ticket for put.
func (c *ttlCache[K, V]) lookup(k K) (V, bool, ticket) {
	now := monotonic()
	s := c.shard(k)
	s.mu.Lock()
	e := s.m[k]
	if e != nil && now < e.expires {
		v := e.v
		s.mu.Unlock()
		c.hits.Add(1)
		return v, true, ticket{}
	}
	if e != nil {
		delete(s.m, k)
	}
	t := ticket{seq: s.seq, start: now}
	s.mu.Unlock()
	c.misses.Add(1)
	var zero V
	return zero, false, t
}

// put stores v for k, to expire ttl after the load of t began, unless the
// shard was invalidated since t was handed out.
func (c *ttlCache[K, V]) put(k K, v V, t ticket) {
	expires := t.start + c.ttl.Load()
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq != t.seq || monotonic() >= expires {
		return
	}
	now := monotonic()
	// Drop expired and stale slots from the head, then make room.
	for s.n > 0 {
		h := &s.ring[s.head]
		cur := s.m[h.k]
		live := cur == h.e
		if live && now < h.e.expires && s.n < len(s.ring) {
			break
		}
		if live {
			delete(s.m, h.k)
		}
		*h = slot[K, V]{}
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
	e := &entry[V]{v: v, expires: expires}
	s.m[k] = e
	s.ring[(s.head+s.n)%len(s.ring)] = slot[K, V]{k: k, e: e}
	s.n++
}

// invalidate drops k, and keeps any load that began before from storing.
func (c *ttlCache[K, V]) invalidate(k K) {
	s := c.shard(k)
	s.mu.Lock()
	s.seq++
	delete(s.m, k)
	s.mu.Unlock()
}

// invalidateIf drops every entry whose value match reports, when what
// was written is known by a field of the rows rather than by their keys.
// It keeps every load under way from storing, since any of them may hold
// such a value.
func (c *ttlCache[K, V]) invalidateIf(match func(V) bool) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seq++
		for k, e := range s.m {
			if match(e.v) {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// purge drops every entry, and keeps every load under way from storing.
func (c *ttlCache[K, V]) purge() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seq++
		clear(s.m)
		clear(s.ring)
		s.head, s.n = 0, 0
		s.mu.Unlock()
	}
}

// len counts the entries held, expired ones included.
func (c *ttlCache[K, V]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
