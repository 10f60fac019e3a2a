// Package swarm is the swarm arithmetic of the Session network: where a pubkey lives in the
// 64-bit swarm space (Space), which swarm owns it (Owner, Ring), the part of the space a swarm is
// responsible for (Ring.Range), and oxen-core's per-block assignment of service nodes to swarms
// (Assign for one block, State from block to block).
//
// The assignment reproduces oxen-core's calc_swarm_changes step for step, down to what decides
// individual draws: std::mt19937_64 seeded from the block hash, the portable rejection-sampling
// uniform draw, the order of nodes within swarms, and the order in which libstdc++'s (unstable)
// std::sort leaves swarms of equal size. A block hash therefore gives the swarms the real
// network would compute. The tests compare every block of long join/leave scenarios with a C++
// rendering of the rules compiled against the real standard library (testdata/cxxref.cpp).
package swarm

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

// ID names a swarm: a point in the 64-bit swarm space.
type ID uint64

const (
	// Unassigned marks a node that has no swarm yet (new or recommissioned); oxen-core's
	// UNASSIGNED_SWARM_ID.
	Unassigned ID = math.MaxUint64
	// MaxID is the largest id a swarm can get; the space wraps from MaxID to 0 as if they were
	// adjacent.
	MaxID ID = math.MaxUint64 - 1
)

// Space is the position of a 32-byte key in the swarm space: the XOR of its four 8-byte words
// read big-endian.
func Space(key [32]byte) uint64 {
	return binary.BigEndian.Uint64(key[0:8]) ^ binary.BigEndian.Uint64(key[8:16]) ^
		binary.BigEndian.Uint64(key[16:24]) ^ binary.BigEndian.Uint64(key[24:32])
}

// SpaceOf is the position of an account ID; the prefix byte does not count.
func SpaceOf(id identity.ID) uint64 { return Space(id.Key()) }

// Owner returns the swarm that owns space x among sorted (ascending, distinct) swarm ids: the
// nearer of the first id >= x (wrapping to the first id) and the one before it (wrapping to the
// last), with distances taken modulo 2^64 and a tie going to the one before. It reports false
// when there are no swarms.
func Owner(sorted []ID, x uint64) (ID, bool) {
	switch len(sorted) {
	case 0:
		return 0, false
	case 1:
		return sorted[0], true
	}
	r, _ := slices.BinarySearch(sorted, ID(x))
	if r == len(sorted) {
		r = 0
	}
	l := r - 1
	if l < 0 {
		l = len(sorted) - 1
	}
	dRight := uint64(sorted[r]) - x
	dLeft := x - uint64(sorted[l])
	if dRight < dLeft {
		return sorted[r], true
	}
	return sorted[l], true
}

// Ring is a sorted, duplicate-free set of swarm ids, for repeated lookups.
type Ring struct{ ids []ID }

// NewRing sorts and de-duplicates ids (the caller's slice is not changed). Unassigned is not a
// swarm and is dropped.
func NewRing(ids []ID) Ring {
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	if n := len(s); n > 0 && s[n-1] == Unassigned {
		s = s[:n-1]
	}
	return Ring{ids: s}
}

// IDs is the sorted ids; do not modify.
func (r Ring) IDs() []ID { return r.ids }

// Len is the number of swarms.
func (r Ring) Len() int { return len(r.ids) }

// Owner is Owner(r.IDs(), x).
func (r Ring) Owner(x uint64) (ID, bool) { return Owner(r.ids, x) }

// OwnerOf is the swarm that owns an account.
func (r Ring) OwnerOf(id identity.ID) (ID, bool) { return Owner(r.ids, SpaceOf(id)) }

// Range is the part of the space swarm id owns: (lower, upper], walking up from lower with
// wraparound. lower is the midpoint to the previous swarm, upper the midpoint to the next, each
// rounded down, which is exactly the set of x for which Owner gives id (a tie belongs to the
// lower swarm). With one swarm it owns everything and lower == upper. ok is false if id is not
// in the ring.
func (r Ring) Range(id ID) (lower, upper uint64, ok bool) {
	i, found := slices.BinarySearch(r.ids, id)
	if !found {
		return 0, 0, false
	}
	n := len(r.ids)
	if n == 1 {
		return uint64(id), uint64(id), true
	}
	prev := uint64(r.ids[(i+n-1)%n])
	next := uint64(r.ids[(i+1)%n])
	lower = prev + (uint64(id)-prev)/2
	upper = uint64(id) + (next-uint64(id))/2
	return lower, upper, true
}

// InRange reports whether x lies in (lower, upper] on the ring; lower == upper means the whole
// space.
func InRange(lower, upper, x uint64) bool {
	if lower == upper {
		return true
	}
	return x-lower-1 < upper-lower
}
