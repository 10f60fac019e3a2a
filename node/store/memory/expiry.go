package memory

// The expiry index is a binary min-heap of 8-byte entries: the expiry's whole second (offset
// and clamped into 32 bits) above the record id. Seconds are coarser than the stored
// milliseconds, so a sweep pops every entry of the current second, removes the records that
// have really expired and puts the others back.
//
// A record's entry may lie earlier than its expiry, never later: an expiry moved later keeps
// the entry it has, and a sweep that pops it puts it back at the record's second. Every poll's
// expire extends its account's config messages on each member of the swarm, so pushing an entry
// per extension made the heap the largest part of a store's memory after its records (and it
// grew until rebuilt), for entries that a run of an hour never pops: those messages live for
// weeks. An expiry moved earlier gets a new entry; the later one goes stale. Entries also go
// stale when their record goes; stale entries are dropped when popped, and the heap is rebuilt
// when they outnumber the live records.

// expirySecond maps an expiry in milliseconds to its heap key. Clamping keeps the map monotonic,
// so every expired record's key is <= the sweep's; the exact test is on the record.
func expirySecond(ms int64) uint64 {
	s := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		s-- // floor, not truncation
	}
	s += 1 << 31 // 1901..2174 in range
	switch {
	case s < 0:
		return 0
	case s > 1<<32-1:
		return 1<<32 - 1
	}
	return uint64(s)
}

func expiryEntry(ms int64, id uint32) uint64 { return expirySecond(ms)<<32 | uint64(id) }

type expiryHeap []uint64

func (h *expiryHeap) push(e uint64) {
	*h = append(*h, e)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *expiryHeap) pop() uint64 {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	*h = a[:last]
	h.down(0)
	return top
}

func (h expiryHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h[r] < h[l] {
			c = r
		}
		if h[i] <= h[c] {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// heapify restores heap order over arbitrary contents.
func (h expiryHeap) heapify() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// setExpiry moves record id's expiry, adding a heap entry only when the second moves earlier:
// a later second keeps the entry the record has (see above).
func (s *Store) setExpiry(id uint32, ms int64) {
	r := &s.recs[id]
	earlier := expirySecond(ms) < expirySecond(r.exp)
	r.exp = ms
	if earlier {
		s.exp.push(expiryEntry(ms, id))
		s.maybeRebuildExpiry()
	}
}

// maybeRebuildExpiry drops stale entries once they outnumber the live records.
func (s *Store) maybeRebuildExpiry() {
	if len(s.exp) <= 2*s.live+1024 {
		return
	}
	h := s.exp[:0]
	for id := range s.recs {
		if r := &s.recs[id]; r.flags&flagLive != 0 {
			h = append(h, expiryEntry(r.exp, uint32(id)))
		}
	}
	// Shrink the backing array too when it is far larger than needed.
	if cap(h) > 4*len(h)+1024 {
		h = append(expiryHeap(nil), h...)
	}
	h.heapify()
	s.exp = h
}
