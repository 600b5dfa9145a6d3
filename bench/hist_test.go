package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketEdges(t *testing.T) {
	prevHigh := uint64(0)
	for i := 1; i < histBuckets; i++ {
		high := bucketHigh(i)
		if high <= prevHigh {
			t.Fatalf("bucket %d ends at %d, not above bucket %d's %d", i, high, i-1, prevHigh)
		}
		if got := bucketOf(high); got != i {
			t.Fatalf("bucketOf(bucketHigh(%d)=%d) = %d", i, high, got)
		}
		if got := bucketOf(prevHigh + 1); got != i {
			t.Fatalf("bucketOf(%d), the first value after bucket %d, = %d, want %d", prevHigh+1, i-1, got, i)
		}
		prevHigh = high
	}
	if got := bucketOf(1 << 62); got != histBuckets-1 {
		t.Fatalf("a huge value lands in bucket %d, want the last", got)
	}
}

func TestQuantilesMatchExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, a, b Histogram
	var all []time.Duration
	for i := range 200000 {
		// Log-normal-ish latencies from 50 µs to 100 ms.
		d := time.Duration(50e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*20))
		all = append(all, d)
		h.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/128+1 {
			t.Errorf("q%.3f = %v, exact %v: more than 1/128 off, or below", q, got, exact)
		}
		if merged := a.Quantile(q); merged != got {
			t.Errorf("q%.3f of merged halves = %v, of the whole = %v", q, merged, got)
		}
	}
	if h.Max() != all[len(all)-1] || a.Max() != h.Max() {
		t.Errorf("max %v / %v, want %v", h.Max(), a.Max(), all[len(all)-1])
	}
	if h.Count() != uint64(len(all)) || a.Count() != h.Count() {
		t.Errorf("count %d / %d, want %d", h.Count(), a.Count(), len(all))
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234567) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}
