package client

import (
	"cmp"
	"slices"
)

// seenSet remembers the hashes of messages already handled until they expire, so that the same
// message from another swarm member or a later poll is not delivered twice. Keys are 64-bit
// digests of the hash: an accidental collision (odds about n^2 / 2^65) would hide one message,
// far below anything a run can measure, and it keeps an entry at 12 bytes. The entries are a
// slice sorted by digest rather than a map: most clients hold a handful (a map of one entry
// takes about 200 bytes), and the few thousand of a busy client are searched in a few steps and
// inserted with one small copy.
type seenSet struct {
	e         []seenEntry // ascending by digest
	nextPrune uint32      // unix seconds; pruning every poll would cost O(n) per poll
}

// seenEntry is one digest, split in two words so that an entry takes 12 bytes, not 16.
type seenEntry struct {
	hi, lo uint32
	exp    uint32 // unix seconds
}

func (e seenEntry) key() uint64 { return uint64(e.hi)<<32 | uint64(e.lo) }

// pruneEvery is how often expired entries are swept.
const pruneEvery = 10 * 60

// digest is FNV-1a, 64 bits.
func digest(hash string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(hash); i++ {
		h ^= uint64(hash[i])
		h *= 1099511628211
	}
	return h
}

// find is where digest k is, or would go, in the entries.
func (s *seenSet) find(k uint64) (int, bool) {
	return slices.BinarySearchFunc(s.e, k, func(e seenEntry, k uint64) int { return cmp.Compare(e.key(), k) })
}

// add records hash until expiry and reports whether it was new.
func (s *seenSet) add(hash string, expiry int64) bool {
	k := digest(hash)
	i, dup := s.find(k)
	if dup {
		return false
	}
	s.e = slices.Insert(s.e, i, seenEntry{hi: uint32(k >> 32), lo: uint32(k), exp: clampU32(expiry)})
	return true
}

func (s *seenSet) has(hash string) bool {
	_, ok := s.find(digest(hash))
	return ok
}

// prune forgets expired entries (the swarm no longer returns those messages), at most once per
// pruneEvery.
func (s *seenSet) prune(now int64) {
	if now < int64(s.nextPrune) {
		return
	}
	s.nextPrune = clampU32(now + pruneEvery)
	s.e = slices.DeleteFunc(s.e, func(e seenEntry) bool { return int64(e.exp) < now })
}

func clampU32(v int64) uint32 {
	if v < 0 {
		return 0
	}
	if v > int64(^uint32(0)) {
		return ^uint32(0)
	}
	return uint32(v)
}

// lastHash is the hash of the newest message retrieved from one node in one namespace of the
// client's own swarm: the next retrieve from that node asks only for what came after it.
type lastHash struct {
	node nodeIdx
	ns   int16
	hash string
}

type lastHashes []lastHash

func (l lastHashes) get(node nodeIdx, ns int16) string {
	for _, e := range l {
		if e.node == node && e.ns == ns {
			return e.hash
		}
	}
	return ""
}

// set records hash as the newest of node in ns. The members of a swarm answer with the same
// newest messages, each parsed into a string of its own: an equal hash already held is kept
// instead, so that the copies of one hash take its 48 bytes once. The list grows one entry at
// a time (it changes only when the swarm or the namespaces polled do): doubling would leave a
// third of it empty on average.
func (l *lastHashes) set(node nodeIdx, ns int16, hash string) {
	at := -1
	for k, e := range *l {
		if e.hash == hash {
			hash = e.hash
		}
		if e.node == node && e.ns == ns {
			at = k
		}
	}
	if at >= 0 {
		(*l)[at].hash = hash
		return
	}
	*l = append(slices.Grow(lastHashes(nil), len(*l)+1), *l...)
	*l = append(*l, lastHash{node: node, ns: ns, hash: hash})
}

// keepOnly forgets the entries of nodes for which keep is false (nodes that left the swarm).
func (l *lastHashes) keepOnly(keep func(nodeIdx) bool) {
	*l = slices.DeleteFunc(*l, func(e lastHash) bool { return !keep(e.node) })
}
