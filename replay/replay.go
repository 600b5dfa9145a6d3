// Package replay remembers recently seen signed requests, such as LCIC's
// signature v1 requests and enterprise AccessKey logins, so that a
// captured request cannot be sent again while its timestamp is still
// accepted.
package replay

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"usercenter/core"
)

// DefaultShare is what each tenant (API key) may have remembered at once.
// An app at the default rate limit, 20 requests a second for each action,
// that signs every one of the nine LCIC actions with signature v1 for a
// whole 10-minute window sends 9 × 20 × 600 = 108,000 requests; the share
// holds that with a fifth to spare. A full share costs about 12 MB (see
// BenchmarkFullShare), so memory grows with the number of busy API keys,
// which only an administrator creates. An app whose rate limit is raised far
// above the default (up to 100,000 a second) outruns any share that fits
// in memory: it should sign with TC3, which is not remembered, or get a
// larger share.
const DefaultShare = 1 << 17

// Cache is a core.ReplayMemory of one process. Each tenant has a share of
// at most a fixed number of entries; an entry is never dropped before its
// window has passed, so a tenant that fills its share is refused
// (core.ErrReplayFull) until its oldest entries expire, and no other
// tenant notices. Entries are 16-byte digests of the keys, not the keys.
type Cache struct {
	window int64 // nanoseconds
	share  int
	// start is when the cache was built: it knows nothing of the requests
	// accepted before, by an earlier process.
	start time.Time

	mu      sync.Mutex
	tenants map[string]*tenantShare
	// queue holds every entry of every share in the order recorded. Each
	// lives for window from when it was recorded, so that is also expiry
	// order, and the expired ones are found at the front without a scan.
	queue []slot
	head  int
}

type digest [16]byte

type tenantShare struct {
	tenant string
	// entries maps each digest to its expiry in Unix nanoseconds.
	entries map[digest]int64
}

// slot is an entry in the queue. It is stale, and reclaiming it does
// nothing, when its share holds the digest with another expiry: the entry
// was reclaimed and recorded again.
type slot struct {
	share   *tenantShare
	key     digest
	expires int64
}

// New builds a cache that started now, whose entries live for window, with
// shares of perTenant entries. window must cover the whole span of
// accepted timestamps (twice the allowed clock skew): the caller records
// only requests signed within window/2 of now. It panics if window or
// perTenant is not positive.
func New(window time.Duration, perTenant int) *Cache {
	return NewSince(time.Now(), window, perTenant)
}

// NewSince is New for a cache that knows every request signed since start:
// requests signed earlier are refused with core.ErrReplayBefore. A process
// has seen nothing before it started, so New uses the time it is called;
// an earlier start is for a world that had no earlier process, as in
// tests.
func NewSince(start time.Time, window time.Duration, perTenant int) *Cache {
	if window <= 0 || perTenant < 1 {
		panic(fmt.Sprintf("replay: window %v and share %d must be positive", window, perTenant))
	}
	return &Cache{
		window:  int64(window),
		share:   perTenant,
		start:   start,
		tenants: make(map[string]*tenantShare),
	}
}

// Start is the time before which the cache refuses signed requests.
func (c *Cache) Start() time.Time { return c.start }

// Seen records key in tenant's share unless it is already there, and
// reports whether it was. It fails with core.ErrReplayFull when the share
// is full, recording nothing, and with core.ErrReplayBefore when signedAt
// is before the cache started. Whenever it fails it also answers true, so
// that a caller looking only at the answer refuses the request.
func (c *Cache) Seen(_ context.Context, tenant, key string, signedAt, now time.Time) (bool, error) {
	if signedAt.Before(c.start) {
		return true, fmt.Errorf("%w (signed at %v, memory began %v)", core.ErrReplayBefore, signedAt.UTC(), c.start.UTC())
	}
	// Hashed in place: Sum256 only reads, and a copy would be the one
	// allocation of the call.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(key), len(key)))
	d := digest(sum[:16])
	t := now.UnixNano()

	c.mu.Lock()
	defer c.mu.Unlock()
	c.reclaim(t)
	s := c.tenants[tenant]
	if s == nil {
		s = &tenantShare{tenant: tenant, entries: make(map[digest]int64)}
		c.tenants[tenant] = s
	}
	if exp, ok := s.entries[d]; ok && t < exp {
		return true, nil
	}
	// An expired entry still present (only when now went backwards, so
	// the queue is out of order) counts here until it is reclaimed:
	// refusing a little early is safe, forgetting early is not.
	if len(s.entries) >= c.share {
		return true, fmt.Errorf("%w (%d requests in %v)", core.ErrReplayFull, c.share, time.Duration(c.window))
	}
	exp := t + c.window
	s.entries[d] = exp
	c.queue = append(c.queue, slot{share: s, key: d, expires: exp})
	return false, nil
}

// Len is the number of entries held, in all shares.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.tenants {
		n += len(s.entries)
	}
	return n
}

// reclaim drops the entries whose window has passed, of every tenant,
// and the shares left empty. They sit at the front of the queue, so the
// work is proportional to what is dropped: each entry is reclaimed once.
func (c *Cache) reclaim(now int64) {
	for c.head < len(c.queue) {
		sl := &c.queue[c.head]
		if sl.expires > now {
			break
		}
		s := sl.share
		if exp, ok := s.entries[sl.key]; ok && exp == sl.expires {
			delete(s.entries, sl.key)
			if len(s.entries) == 0 && c.tenants[s.tenant] == s {
				delete(c.tenants, s.tenant)
			}
		}
		*sl = slot{} // lets a dropped share be collected
		c.head++
	}
	c.compact()
}

// compact reclaims the consumed front of the queue once it outweighs the
// live part, so each slot is moved at most once on average. The array is
// replaced by a smaller one when it is far larger than what it holds, so a
// burst long past does not keep its memory.
func (c *Cache) compact() {
	if c.head < 1024 || c.head*2 < len(c.queue) {
		return
	}
	live := c.queue[c.head:]
	if cap(c.queue) > 4*len(live)+4096 {
		c.queue = append(make([]slot, 0, 2*len(live)), live...)
	} else {
		n := copy(c.queue, live)
		clear(c.queue[n:])
		c.queue = c.queue[:n]
	}
	c.head = 0
}
