// Package redistest gives tests a Redis: the one USERCENTER_TEST_REDIS
// names. Without it the tests that need Redis skip, except under CI, where
// they fail, so that a CI that lost its Redis does not pass by skipping.
//
// Tests share that Redis with each other and with concurrent runs, so
// they never flush it: each works under names of its own (Name, or random
// SdkAppIds for limits), and their keys expire on their own.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"usercenter/redisstore"
)

// URL returns the test Redis's URL, or skips the test (fails it under CI).
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("USERCENTER_TEST_REDIS")
	if u != "" {
		return u
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("USERCENTER_TEST_REDIS is not set, and CI must run the Redis tests (.ci/services.sh starts a Redis and sets it)")
	}
	tb.Skip("needs Redis: run a scratch one (redis-server --port 6390 --save '') and set USERCENTER_TEST_REDIS=redis://127.0.0.1:6390/0; the tests write only keys under usercenter: and rate:usercenter:, which expire")
	return ""
}

// Open connects to the test Redis; the client closes when the test ends.
// Each call opens another client, as another node would.
func Open(tb testing.TB) *redisstore.Client {
	tb.Helper()
	c, err := redisstore.Open(context.Background(), URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Name returns base with a random suffix: a replay memory name that no
// other test or run uses.
func Name(base string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return base + "-" + hex.EncodeToString(b)
}

// DeadURL returns a redis:// URL of a local port that nothing listens
// on, for tests of a Redis that is down.
func DeadURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "redis://" + addr + "/0"
}

// ReplayMemory returns the replay memory called name (see Name) on a
// client of its own, as another node's, begun long before the test: no
// earlier process accepted anything of the test's. Its keys are deleted
// when the test ends, as a memory's start never expires.
func ReplayMemory(tb testing.TB, name string, window time.Duration, perTenant int) *redisstore.ReplayMemory {
	tb.Helper()
	m := redisstore.NewReplayMemory(Open(tb), name, window, perTenant)
	if err := m.Begin(context.Background(), time.Time{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ForgetReplayMemory(tb, name) })
	return m
}

// ForgetReplayMemory deletes every key of the replay memory called name,
// as a Redis restarting empty would.
func ForgetReplayMemory(tb testing.TB, name string) {
	tb.Helper()
	opt, err := redis.ParseURL(URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "usercenter:replay:"+name+":*").Result()
	if err == nil && len(keys) > 0 {
		err = rdb.Del(ctx, keys...).Err()
	}
	if err != nil {
		tb.Error(err)
	}
}
