// Package ratelimit keeps one token bucket per (app, action) in memory.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

type bucketKey struct {
	app    uint64
	action string
}

// Limiter is a set of token buckets. Each bucket refills at the app's rate
// and holds one second's worth of tokens, so a client may burst up to the
// rate and then is held to it.
type Limiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
	now     func() time.Time
}

// New builds a Limiter on the wall clock.
func New() *Limiter { return NewWithClock(time.Now) }

// NewWithClock builds a Limiter on the given clock, for tests.
func NewWithClock(now func() time.Time) *Limiter {
	return &Limiter{buckets: map[bucketKey]*rate.Limiter{}, now: now}
}

// Allow takes one token from the (app, action) bucket if there is one. A
// change of perSecond takes effect at once. The context and the error are
// there for limiters shared over the network (redisstore); buckets in
// memory never fail.
func (l *Limiter) Allow(_ context.Context, app uint64, action string, perSecond int) (bool, error) {
	return l.allow(app, action, perSecond), nil
}

func (l *Limiter) allow(app uint64, action string, perSecond int) bool {
	k := bucketKey{app, action}
	l.mu.Lock()
	b := l.buckets[k]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(perSecond), perSecond)
		l.buckets[k] = b
	} else if b.Burst() != perSecond {
		now := l.now()
		b.SetLimitAt(now, rate.Limit(perSecond))
		b.SetBurstAt(now, perSecond)
	}
	l.mu.Unlock()
	return b.AllowN(l.now(), 1)
}
