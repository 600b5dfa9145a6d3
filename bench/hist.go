package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear buckets, HDR style: values
// below 2^histSubBits nanoseconds get a bucket each, and every power of two
// above is split into 2^(histSubBits-1) equal buckets, so any value is
// known to within 1/128 (0.8 %) of itself. Its size is fixed up front, so
// recording never allocates, and each worker owns one, so recording never
// contends; Merge adds them up at the end.
//
// It is written here rather than taken from hdrhistogram-go because the
// tool needs only record, merge and quantiles, and this is 80 lines with no
// dependency and no per-record work beyond a few shifts.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      uint64 // nanoseconds; overflows after 584 years of latency
	min, max uint64
}

const (
	histSubBits = 8
	histSub     = 1 << histSubBits // 256 exact buckets
	histHalf    = histSub / 2      // 128 buckets per power of two above
	// histMaxExp covers values up to 2^(histSubBits+histMaxExp) ns, 2^40 ns
	// or 18 minutes; longer values land in the last bucket.
	histMaxExp  = 32
	histBuckets = histSub + histMaxExp*histHalf
)

func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits // ≥ 1
	if e > histMaxExp {
		return histBuckets - 1
	}
	m := v >> uint(e) // in [histHalf, histSub)
	return histSub + (e-1)*histHalf + int(m-histHalf)
}

// bucketHigh is the largest value that lands in bucket i.
func bucketHigh(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := (i-histSub)/histHalf + 1
	m := uint64((i-histSub)%histHalf + histHalf)
	return (m+1)<<uint(e) - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of records.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest record, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average record.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Quantile returns the latency at or below which a fraction q of the
// records lie, rounded up to its bucket's upper edge (so it never
// flatters), and never above the largest record.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
