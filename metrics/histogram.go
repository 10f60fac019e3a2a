// Package metrics holds the run-wide measurement primitives: a compact log-bucketed histogram
// for latencies and counts, whose results are deterministic (no sampling) and cheap to update
// from the hot path of the simulator.
package metrics

import (
	"math"
)

// Histogram records non-negative values in logarithmic buckets with about 1% relative
// precision, in constant memory. Values below 1 share one bucket with 0; choose the unit (for
// example microseconds) so that the interesting values are >= 1.
type Histogram struct {
	counts []uint64
	n      uint64
	sum    float64
	min    float64
	max    float64
}

// bucketsPerDoubling sets the precision: 2^(1/70) - 1 ≈ 1%.
const bucketsPerDoubling = 70

func bucketOf(v float64) int {
	if v < 1 {
		return 0
	}
	return 1 + int(math.Log2(v)*bucketsPerDoubling)
}

// bucketValue is the midpoint (geometric) of bucket i.
func bucketValue(i int) float64 {
	if i == 0 {
		return 0
	}
	lo := math.Exp2(float64(i-1) / bucketsPerDoubling)
	hi := math.Exp2(float64(i) / bucketsPerDoubling)
	return math.Sqrt(lo * hi)
}

// Add records one value. Negative and NaN values are recorded as 0.
func (h *Histogram) Add(v float64) {
	if !(v > 0) {
		v = 0
	}
	b := bucketOf(v)
	if b >= len(h.counts) {
		grown := make([]uint64, b+1+b/4)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[b]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the exact mean of the recorded values (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Min and Max are exact.
func (h *Histogram) Min() float64 { return h.min }

// Max is the largest value recorded.
func (h *Histogram) Max() float64 { return h.max }

// Quantile returns the value at quantile q in [0, 1], within the bucket precision, clamped to the
// exact min and max (0 when empty).
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketValue(i)
			return math.Min(math.Max(v, h.min), h.max)
		}
	}
	return h.max
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}
