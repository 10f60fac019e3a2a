package client

import "slices"

// seenSet remembers the hashes of messages already handled until they expire, so that the same
// message from another swarm member or a later poll is not delivered twice. Keys are 64-bit
// digests of the hash: an accidental collision (odds about n^2 / 2^65) would hide one message,
// far below anything a run can measure, and it keeps an entry at 12 bytes.
type seenSet struct {
	m         map[uint64]uint32 // digest -> expiry, unix seconds
	nextPrune uint32            // unix seconds; pruning every poll would cost O(n) per poll
}

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

// add records hash until expiry and reports whether it was new.
func (s *seenSet) add(hash string, expiry int64) bool {
	if s.m == nil {
		s.m = make(map[uint64]uint32)
	}
	k := digest(hash)
	if _, dup := s.m[k]; dup {
		return false
	}
	s.m[k] = clampU32(expiry)
	return true
}

func (s *seenSet) has(hash string) bool {
	_, ok := s.m[digest(hash)]
	return ok
}

// prune forgets expired entries (the swarm no longer returns those messages), at most once per
// pruneEvery.
func (s *seenSet) prune(now int64) {
	if now < int64(s.nextPrune) {
		return
	}
	s.nextPrune = clampU32(now + pruneEvery)
	for k, exp := range s.m {
		if int64(exp) < now {
			delete(s.m, k)
		}
	}
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

func (l *lastHashes) set(node nodeIdx, ns int16, hash string) {
	for k := range *l {
		if (*l)[k].node == node && (*l)[k].ns == ns {
			(*l)[k].hash = hash
			return
		}
	}
	*l = append(*l, lastHash{node: node, ns: ns, hash: hash})
}

// keepOnly forgets the entries of nodes for which keep is false (nodes that left the swarm).
func (l *lastHashes) keepOnly(keep func(nodeIdx) bool) {
	*l = slices.DeleteFunc(*l, func(e lastHash) bool { return !keep(e.node) })
}
