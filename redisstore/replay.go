package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// ReplayMemory is replay.Cache shared by every node on one Redis: it
// remembers keys for a fixed window, so that a signed request accepted by
// one node is refused by all of them. Each key is stored as
// usercenter:replay:<name>:<hex SHA-256 of the key> with a value of 1, so
// no request data sits in Redis, and Redis expires it after the window.
type ReplayMemory struct {
	rdb      *redis.Client
	prefix   string
	window   time.Duration
	failures prometheus.Counter
}

// NewReplayMemory returns the memory called name on c, whose keys live
// for window. Memories of different names never see each other's keys;
// name is a fixed word such as "lcic-v1", and it labels the failure
// metric.
func NewReplayMemory(c *Client, name string, window time.Duration) *ReplayMemory {
	return &ReplayMemory{
		rdb:      c.rdb,
		prefix:   "usercenter:replay:" + name + ":",
		window:   window,
		failures: c.failures.WithLabelValues("replay:" + name),
	}
}

// Seen records key and reports whether it was already recorded within the
// window. The window runs on Redis's clock, so now is not used. When Redis
// fails it returns the error and true: a caller that looks only at the
// answer refuses the request, since accepting it could let a replay
// through.
func (m *ReplayMemory) Seen(ctx context.Context, key string, _ time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	err := m.rdb.Do(ctx, "SET", m.prefix+hex.EncodeToString(sum[:]), 1, "PX", m.window.Milliseconds(), "NX").Err()
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, redis.Nil): // NX found the key
		return true, nil
	}
	m.failures.Inc()
	return true, err
}
