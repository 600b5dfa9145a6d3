package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"usercenter/core"
)

// ReplayMemory is the core.ReplayMemory of every node on one Redis: a
// signed request accepted by one node is refused by all of them. Each
// tenant's share is a sorted set,
// usercenter:replay:<name>:share:<hex digest of the tenant>, of 16-byte
// request digests scored by their expiry in Unix milliseconds; its size
// is the share's count. The memory began at the time held in
// usercenter:replay:<name>:start. No request data and no SecretId sits
// in Redis, only digests.
//
// Redis must not evict keys (maxmemory-policy noeviction): an evicted
// share would forget requests inside their window. With noeviction a full
// Redis fails the calls, and the requests are refused.
type ReplayMemory struct {
	rdb      *redis.Client
	prefix   string
	start    string
	window   time.Duration
	share    int
	failures prometheus.Counter
}

// NewReplayMemory returns the memory called name on c, whose entries live
// for window, with shares of perTenant entries. Memories of different
// names never see each other's entries; name is a fixed word such as
// "lcic-v1", and it labels the failure metric. window must cover the whole
// span of accepted timestamps (twice the allowed clock skew). It panics if
// window or perTenant is not positive.
func NewReplayMemory(c *Client, name string, window time.Duration, perTenant int) *ReplayMemory {
	if window < time.Millisecond || perTenant < 1 {
		panic(fmt.Sprintf("redisstore: replay window %v and share %d must be positive", window, perTenant))
	}
	prefix := "usercenter:replay:" + name + ":"
	return &ReplayMemory{
		rdb:      c.rdb,
		prefix:   prefix + "share:",
		start:    prefix + "start",
		window:   window,
		share:    perTenant,
		failures: c.failures.WithLabelValues("replay:" + name),
	}
}

// replayScript is Seen in one atomic step, so that two nodes recording at
// once cannot both find a key new or both take a share's last place.
//
// KEYS: the memory's start, the tenant's share.
// ARGV: the request's digest, now, signedAt, window (milliseconds), share.
// It answers 0 (new, recorded), 1 (seen), -1 (signed before the start;
// with the start) or -2 (share full).
//
// The start is set once, by the first call that finds it missing: on a
// new memory, or on a Redis that restarted empty and forgot everything.
// An entry lives until window after the later of now and signedAt. The
// caller accepts signedAt only within window/2 of its clock, so that is
// long enough even when another node's clock is ahead of this one's by
// up to window/2. The share's key lives as long as its last entry.
var replayScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local signed = tonumber(ARGV[3])
local start = tonumber(redis.call('GET', KEYS[1]))
if not start then
	redis.call('SET', KEYS[1], ARGV[2], 'NX')
	start = now
end
if signed < start then
	return {-1, start}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
	return {1}
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
	return {-2}
end
redis.call('ZADD', KEYS[2], math.max(now, signed) + tonumber(ARGV[4]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], tonumber(last[2]) - now)
return {0}
`)

// Seen records key in tenant's share unless it is already there, and
// reports whether it was. It fails with core.ErrReplayFull when the share
// is full, recording nothing, with core.ErrReplayBefore when signedAt is
// before the memory began, and with Redis's error when Redis fails.
// Whenever it fails it also answers true, so that a caller looking only
// at the answer refuses the request: accepting it could let a replay
// through. Times count in milliseconds, on the callers' clocks.
func (m *ReplayMemory) Seen(ctx context.Context, tenant, key string, signedAt, now time.Time) (bool, error) {
	keySum := sha256.Sum256([]byte(key))
	tenantSum := sha256.Sum256([]byte(tenant))
	res, err := replayScript.Run(ctx, m.rdb,
		[]string{m.start, m.prefix + hex.EncodeToString(tenantSum[:16])},
		keySum[:16], now.UnixMilli(), signedAt.UnixMilli(), m.window.Milliseconds(), m.share,
	).Int64Slice()
	if err != nil {
		m.failures.Inc()
		return true, err
	}
	switch res[0] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	case -1:
		return true, fmt.Errorf("%w (signed at %v, memory began %v)", core.ErrReplayBefore, signedAt.UTC(), time.UnixMilli(res[1]).UTC())
	case -2:
		return true, fmt.Errorf("%w (%d requests in %v)", core.ErrReplayFull, m.share, m.window)
	}
	m.failures.Inc()
	return true, fmt.Errorf("redisstore: the replay script answered %v", res)
}

// Begin sets the memory's start to start unless it has one. A node
// calls it with the time as it starts, so that a new memory refuses only
// the requests signed before the node started, rather than all those
// signed before the first request it checks. A start earlier than now is
// safe only where no request was ever accepted, as in tests.
func (m *ReplayMemory) Begin(ctx context.Context, start time.Time) error {
	err := m.rdb.SetNX(ctx, m.start, strconv.FormatInt(start.UnixMilli(), 10), 0).Err()
	if err != nil {
		m.failures.Inc()
	}
	return err
}
