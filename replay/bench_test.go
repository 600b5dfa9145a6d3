package replay

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

const benchKeys = 1 << 18

// benchKeySet returns tenants SecretIds and keys shaped like v1
// ReplayKeys of theirs: SecretId, Nonce, signature.
func benchKeySet(tenants int) (names, keys []string) {
	for i := range tenants {
		names = append(names, fmt.Sprintf("AKIDz8krbsJ5yKBZQpn74WFkmLPx3%07d", i))
	}
	for i := range benchKeys {
		keys = append(keys, fmt.Sprintf("%s\x00%d\x00%028d", names[i%tenants], 10000+i%50000, i))
	}
	return names, keys
}

// BenchmarkSeen records new keys of four tenants at a pace that keeps
// 2^17 entries alive, so that every call also reclaims one.
func BenchmarkSeen(b *testing.B) {
	const window = 10 * time.Minute
	names, keys := benchKeySet(4)
	now := time.Now()
	c := NewSince(now, window, DefaultShare)
	step := window / (1 << 17)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(step)
		if _, err := c.Seen(ctx, names[i%4], keys[i%benchKeys], now, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullShare reports the heap a full DefaultShare holds.
func BenchmarkFullShare(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	keys := make([]string, DefaultShare)
	for i := range keys {
		keys[i] = fmt.Sprintf("AKIDz8krbsJ5yKBZQpn74WFkmLPx3\x00%d\x00%028d", 10000+i%50000, i)
	}
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := NewSince(now, 10*time.Minute, DefaultShare)
		for _, k := range keys {
			c.Seen(ctx, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3", k, now, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(c)
	}
	b.ReportMetric(float64(heap), "heap-B/share")
	b.ReportMetric(float64(heap)/DefaultShare, "heap-B/entry")
}
