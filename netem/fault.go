package netem

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// PartitionID names a partition so it can be healed.
type PartitionID int

type partition struct {
	start, end int64    // unix ns; end is MaxInt64 until healed
	side       []uint16 // per host: 0 outside the partition, else 1 + index of its group
}

// forever is the end of a window that has none.
const forever = int64(math.MaxInt64)

var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// nanos converts a window bound to unix nanoseconds, mapping the zero time to ifZero and
// clamping times that int64 nanoseconds cannot hold (UnixNano is undefined for them).
func nanos(t time.Time, ifZero int64) int64 {
	switch {
	case t.IsZero():
		return ifZero
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Partition cuts the network from start on: a host of one group cannot exchange messages with a
// host of another group, while traffic inside a group, and to or from hosts in no group, flows as
// before. It lasts until healed. Messages are judged at the moment they leave, so a message sent
// just before the cut still arrives.
func (n *Network) Partition(start time.Time, groups ...[]HostID) (PartitionID, error) {
	if len(groups) < 2 {
		return 0, fmt.Errorf("netem: a partition needs at least 2 groups of hosts, got %d", len(groups))
	}
	if len(groups) >= math.MaxUint16 {
		return 0, fmt.Errorf("netem: a partition has at most %d groups, got %d", math.MaxUint16-1, len(groups))
	}
	p := partition{start: nanos(start, math.MinInt64), end: forever, side: make([]uint16, len(n.hosts))}
	for gi, g := range groups {
		if len(g) == 0 {
			return 0, fmt.Errorf("netem: partition group %d is empty", gi)
		}
		for _, h := range g {
			if int(h) >= len(n.hosts) {
				return 0, fmt.Errorf("netem: partition group %d: %w", gi, n.unknownHost(h))
			}
			if s := p.side[h]; s != 0 && int(s) != gi+1 {
				return 0, fmt.Errorf("netem: host %d is in partition groups %d and %d; a host can be on one side only", h, s-1, gi)
			}
			p.side[h] = uint16(gi + 1)
		}
	}
	n.parts = append(n.parts, p)
	return PartitionID(len(n.parts) - 1), nil
}

// Heal ends a partition at time at: messages leaving from then on pass again.
func (n *Network) Heal(id PartitionID, at time.Time) error {
	if id < 0 || int(id) >= len(n.parts) {
		return fmt.Errorf("netem: unknown partition %d", id)
	}
	p := &n.parts[id]
	t := nanos(at, math.MinInt64)
	if p.end != forever {
		return fmt.Errorf("netem: partition %d is already healed", id)
	}
	if t < p.start {
		return fmt.Errorf("netem: partition %d starts at %v; it cannot heal earlier, at %v", id, time.Unix(0, p.start).UTC(), at.UTC())
	}
	p.end = t
	return nil
}

func (n *Network) partitioned(from, to HostID, t int64) bool {
	for i := range n.parts {
		p := &n.parts[i]
		if t < p.start || t >= p.end || int(from) >= len(p.side) || int(to) >= len(p.side) {
			continue
		}
		if a, b := p.side[from], p.side[to]; a != 0 && b != 0 && a != b {
			return true
		}
	}
	return false
}

// Degradation worsens one host's link for a time window.
type Degradation struct {
	// Start and End bound the window [Start, End); a zero End means no end.
	Start, End time.Time
	// Latency is added to every message leaving or reaching the host (so its RTTs grow by twice
	// this).
	Latency time.Duration
	// Loss is an extra per-packet loss probability on the host's link, in [0, 1].
	Loss float64
}

type degradation struct {
	start, end, latency int64
	keep                float64
	next                int32
}

// Degrade applies d to host h. Degradations of one host add up where their windows overlap.
func (n *Network) Degrade(h HostID, d Degradation) error {
	if int(h) >= len(n.hosts) {
		return n.unknownHost(h)
	}
	switch {
	case d.Latency < 0:
		return fmt.Errorf("netem: degradation of host %d: negative added latency %v", h, d.Latency)
	case d.Latency > maxRTT:
		return fmt.Errorf("netem: degradation of host %d: added latency %v is above %v", h, d.Latency, maxRTT)
	case !(d.Loss >= 0 && d.Loss <= 1):
		return fmt.Errorf("netem: degradation of host %d: loss %v is not a probability in [0, 1]", h, d.Loss)
	case !d.End.IsZero() && d.End.Before(d.Start):
		return fmt.Errorf("netem: degradation of host %d ends (%v) before it starts (%v)", h, d.End, d.Start)
	}
	if len(n.degr) >= math.MaxInt32 {
		return errors.New("netem: too many degradations")
	}
	rec := degradation{start: nanos(d.Start, math.MinInt64), end: nanos(d.End, forever), latency: int64(d.Latency), keep: 1 - d.Loss, next: n.hosts[h].degr}
	n.degr = append(n.degr, rec)
	n.hosts[h].degr = int32(len(n.degr) - 1)
	return nil
}

// degradation sums the latency and multiplies the delivery probability of the host's
// degradations active at t.
func (n *Network) degradation(head int32, t int64) (latency int64, keep float64) {
	keep = 1
	for i := head; i >= 0; i = n.degr[i].next {
		d := &n.degr[i]
		if t >= d.start && t < d.end {
			latency += d.latency
			keep *= d.keep
		}
	}
	return latency, keep
}
