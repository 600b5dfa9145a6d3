package redisstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter/core"
	"usercenter/redisstore"
	"usercenter/redisstore/redistest"
)

// The memories run on the callers' clocks, so the tests set the time.
// The keys' TTLs are relative: Redis expires them a window after the
// test, however far t0 is from its own clock.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const replayWindow = 10 * time.Minute

// newMemory is a memory called name, with a share of share; see
// redistest.ReplayMemory.
func newMemory(t *testing.T, name string, share int) *redisstore.ReplayMemory {
	t.Helper()
	return redistest.ReplayMemory(t, name, replayWindow, share)
}

// seenAt is Seen for a request signed at now, which must not fail.
func seenAt(t *testing.T, m *redisstore.ReplayMemory, tenant, key string, now time.Time) bool {
	t.Helper()
	ok, err := m.Seen(bg, tenant, key, now, now)
	if err != nil {
		t.Fatalf("Seen(%s, %s) at t0+%v: %v", tenant, key, now.Sub(t0), err)
	}
	return ok
}

func TestReplaySharedBetweenNodes(t *testing.T) {
	name := redistest.Name("test")
	a := newMemory(t, name, 100)
	b := newMemory(t, name, 100)
	if seenAt(t, a, "A", "k1", t0) {
		t.Fatal("a new key was reported as seen")
	}
	if !seenAt(t, b, "A", "k1", t0) {
		t.Fatal("a key recorded by one node was new to the other")
	}
	if !seenAt(t, a, "A", "k1", t0) {
		t.Fatal("the third sighting was not reported as seen")
	}
	if seenAt(t, b, "A", "k2", t0) {
		t.Fatal("another key was reported as seen")
	}
	if seenAt(t, b, "B", "k1", t0) {
		t.Fatal("another tenant's key was reported as seen")
	}
	// Another memory does not see this one's keys.
	other := newMemory(t, redistest.Name("test"), 100)
	if seenAt(t, other, "A", "k1", t0) {
		t.Fatal("a memory of another name saw the key")
	}
}

// A key is remembered until the last millisecond of its window, while
// older entries expire around it, and then forgotten.
func TestReplayWindow(t *testing.T) {
	m := newMemory(t, redistest.Name("test"), 100)
	for i := range 50 {
		now := t0.Add(time.Duration(i) * replayWindow / 50)
		seenAt(t, m, "A", "churn"+strconv.Itoa(i), now)
	}
	kept := t0.Add(replayWindow)
	seenAt(t, m, "A", "kept", kept)
	for i := range 50 {
		now := kept.Add(time.Duration(i) * replayWindow / 50)
		seenAt(t, m, "A", "churn-again"+strconv.Itoa(i), now)
		if !seenAt(t, m, "A", "kept", now) {
			t.Fatalf("the key was forgotten %v into its window", now.Sub(kept))
		}
	}
	if !seenAt(t, m, "A", "kept", kept.Add(replayWindow-time.Millisecond)) {
		t.Fatal("the key was forgotten at the last millisecond of its window")
	}
	if seenAt(t, m, "A", "kept", kept.Add(replayWindow)) {
		t.Fatal("the key outlived its window")
	}
	if !seenAt(t, m, "A", "kept", kept.Add(replayWindow+time.Second)) {
		t.Fatal("a key recorded again after expiring was not remembered")
	}
}

// An entry lives for the window after its signing time when that is the
// later: a node whose clock is behind records it, and a node whose clock
// is ahead must not forget it early.
func TestReplayWindowFromSigningTime(t *testing.T) {
	m := newMemory(t, redistest.Name("test"), 100)
	signed := t0.Add(5 * time.Minute)
	if ok, err := m.Seen(bg, "A", "k", signed, signed.Add(-4*time.Minute)); ok || err != nil {
		t.Fatalf("first use: %v, %v", ok, err)
	}
	now := signed.Add(replayWindow - time.Millisecond)
	if ok, err := m.Seen(bg, "A", "k", signed, now); !ok || err != nil {
		t.Fatalf("replay within the window after signing: %v, %v; want seen", ok, err)
	}
}

// The F1 attack scaled down, over two nodes: tenant A fills its share
// with distinct keys through one node. A is refused; tenant B's used key
// is still a replay on the other node and B's new keys are accepted.
func TestReplayTenantFillsOnlyItsShare(t *testing.T) {
	const share = 200
	name := redistest.Name("test")
	a := newMemory(t, name, share)
	b := newMemory(t, name, share)
	if seenAt(t, b, "B", "used", t0) {
		t.Fatal("B's first request was reported as seen")
	}
	now := t0.Add(time.Second)
	for i := range share {
		if seenAt(t, a, "A", "junk"+strconv.Itoa(i), now) {
			t.Fatalf("A's junk request %d was reported as seen", i)
		}
	}
	for _, m := range []*redisstore.ReplayMemory{a, b} {
		ok, err := m.Seen(bg, "A", "one-too-many", now, now)
		if !errors.Is(err, core.ErrReplayFull) || !ok {
			t.Fatalf("A past its share: %v, %v; want true and ErrReplayFull", ok, err)
		}
	}
	if !seenAt(t, b, "A", "junk0", now) {
		t.Fatal("A's first junk request was forgotten")
	}
	if !seenAt(t, a, "B", "used", now) {
		t.Fatal("B's used request was accepted again after A filled its share")
	}
	for i := range share - 1 {
		if seenAt(t, []*redisstore.ReplayMemory{a, b}[i%2], "B", "new"+strconv.Itoa(i), now) {
			t.Fatalf("B's new request %d was reported as seen", i)
		}
	}
	if _, err := b.Seen(bg, "B", "past", now, now); !errors.Is(err, core.ErrReplayFull) {
		t.Fatalf("B past its own share: %v, want ErrReplayFull", err)
	}
}

// A request refused for a full share is not recorded, and the share frees
// as its entries expire.
func TestReplayFullShareRecordsNothing(t *testing.T) {
	m := newMemory(t, redistest.Name("test"), 3)
	for _, k := range []string{"a", "b", "c"} {
		seenAt(t, m, "A", k, t0)
	}
	half := t0.Add(replayWindow / 2)
	if _, err := m.Seen(bg, "A", "refused", half, half); !errors.Is(err, core.ErrReplayFull) {
		t.Fatalf("want ErrReplayFull, got %v", err)
	}
	// Had "refused" been recorded at half, it would be remembered until
	// half+window; a, b and c expire at t0+window.
	if seenAt(t, m, "A", "refused", t0.Add(replayWindow)) {
		t.Fatal("a request refused for a full share was recorded")
	}
}

// A memory knows nothing signed before it began: after Redis restarted
// empty, a request accepted before is refused rather than accepted again
// (F4), and so is one signed before a new memory's first request.
func TestReplaySignedBeforeStart(t *testing.T) {
	c := redistest.Open(t)
	name := redistest.Name("test")
	t.Cleanup(func() { redistest.ForgetReplayMemory(t, name) })
	m := redisstore.NewReplayMemory(c, name, replayWindow, 10)
	// A new memory begins with its first request.
	first := t0.Add(time.Minute)
	if ok, err := m.Seen(bg, "A", "early", first.Add(-time.Second), first); !errors.Is(err, core.ErrReplayBefore) || !ok {
		t.Fatalf("request signed before the first: %v, %v; want true and ErrReplayBefore", ok, err)
	}
	signed := first.Add(time.Second)
	if ok, err := m.Seen(bg, "A", "k", signed, signed); ok || err != nil {
		t.Fatalf("first use: %v, %v", ok, err)
	}
	// Begin does not move a start once set.
	if err := m.Begin(bg, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Seen(bg, "A", "early", first.Add(-time.Second), signed); !errors.Is(err, core.ErrReplayBefore) {
		t.Fatalf("after Begin(earlier): %v, want ErrReplayBefore", err)
	}

	redistest.ForgetReplayMemory(t, name) // Redis restarts empty
	restarted := signed.Add(time.Minute)
	ok, err := m.Seen(bg, "A", "k", signed, restarted)
	if !errors.Is(err, core.ErrReplayBefore) || !ok {
		t.Fatalf("replay after Redis restarted empty: %v, %v; want true and ErrReplayBefore", ok, err)
	}
	if ok, err := m.Seen(bg, "A", "new", restarted, restarted); ok || err != nil {
		t.Fatalf("request signed after the restart: %v, %v", ok, err)
	}
}

// A node that begins the memory as it starts has its requests signed
// since accepted, even those signed before the first one checked.
func TestReplayBegin(t *testing.T) {
	name := redistest.Name("test")
	t.Cleanup(func() { redistest.ForgetReplayMemory(t, name) })
	m := redisstore.NewReplayMemory(redistest.Open(t), name, replayWindow, 10)
	if err := m.Begin(bg, t0); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	if ok, err := m.Seen(bg, "A", "k", t0.Add(time.Second), now); ok || err != nil {
		t.Fatalf("request signed after Begin: %v, %v", ok, err)
	}
	if _, err := m.Seen(bg, "A", "early", t0.Add(-time.Second), now); !errors.Is(err, core.ErrReplayBefore) {
		t.Fatalf("request signed before Begin: %v, want ErrReplayBefore", err)
	}
}

// Redis holds digests only: neither the request key nor the SecretId.
func TestReplayStoresNoPlainKey(t *testing.T) {
	c := redistest.Open(t)
	name := redistest.Name("test")
	m := newMemory(t, name, 10)
	marker := redistest.Name("AKIDsecretid")
	key := marker + "\x00" + "123456" + "\x00" + "signature-bytes"
	now := time.Now()
	if _, err := m.Seen(bg, marker, key, now, now); err != nil {
		t.Fatal(err)
	}
	tenantSum := sha256.Sum256([]byte(marker))
	keySum := sha256.Sum256([]byte(key))
	share := "usercenter:replay:" + name + ":share:" + hex.EncodeToString(tenantSum[:16])
	members, err := c.Raw().ZRangeWithScores(bg, share, 0, -1).Result()
	if err != nil || len(members) != 1 || members[0].Member != string(keySum[:16]) {
		t.Fatalf("%s holds %v, %v; want the key's 16-byte digest", share, members, err)
	}
	if exp := now.Add(replayWindow).UnixMilli(); members[0].Score != float64(exp) {
		t.Errorf("the entry expires at %v, want %v", members[0].Score, exp)
	}
	if ttl := c.Raw().PTTL(bg, share).Val(); ttl <= replayWindow-time.Minute || ttl > replayWindow {
		t.Errorf("%s expires in %v, want about the window", share, ttl)
	}
	// Nothing anywhere in the database holds the key in the clear.
	noPlainKey := func(where, s string) {
		if strings.Contains(s, marker) || strings.Contains(s, "signature-bytes") {
			t.Errorf("%s holds the request key: %q", where, s)
		}
	}
	iter := c.Raw().Scan(bg, 0, "*", 1000).Iterator()
	for iter.Next(bg) {
		k := iter.Val()
		noPlainKey("a key name", k)
		switch c.Raw().Type(bg, k).Val() {
		case "string":
			noPlainKey("the value of "+k, c.Raw().Get(bg, k).Val())
		case "zset":
			for _, member := range c.Raw().ZRange(bg, k, 0, -1).Val() {
				noPlainKey("a member of "+k, member)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
}
