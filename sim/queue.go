package sim

import (
	"math/bits"
	"slices"
)

// kind says what an event does; it lives in the low bits of event.ref.
type kind uint32

const (
	kindTimer    kind = iota // a timer or world function fires; ref names a timer slot
	kindRequest              // a request reaches its callee; ref names a call slot
	kindResponse             // a response reaches its caller
	kindTimeout              // a call's deadline
	kindFail                 // a call fails before its deadline (nothing listens, partition)
	kindLane                 // the head of a lane of deadlines; ref names the lane
	kindLate                 // a response to a call whose record is gone arrives (workers only)

	kindBits = 3
	kindMask = 1<<kindBits - 1
)

// maxSlots keeps slot indexes inside event.ref next to the kind.
const maxSlots = 1 << (32 - kindBits)

// event is one entry of the queue. Events are small values: the payload lives in the timer and
// call tables, named by slot, and gen tells whether the slot still holds the same payload (a
// cancelled timer or a finished call leaves its queue entry behind, to be skipped).
type event struct {
	at  int64  // unix ns
	seq uint64 // the origin's key (Engine.key): breaks ties in time the same way every run
	ref uint32 // slot<<kindBits | kind
	gen uint32
}

func (ev *event) kind() kind   { return kind(ev.ref & kindMask) }
func (ev *event) slot() uint32 { return ev.ref >> kindBits }

func before(a, b *event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func compareEvents(a, b event) int {
	switch {
	case before(&a, &b):
		return -1
	case before(&b, &a):
		return 1
	}
	return 0
}

// The event queue is a two-level calendar. Time is cut into buckets of 2^bucketShift ns, and
// buckets into blocks of blockSize buckets (67 ms). The buckets of the current block sit in a
// wheel of unsorted slices; the next 63 blocks sit in a coarse wheel, one slice per block, and
// are spread into buckets when their block comes up; anything later waits in a 4-ary heap. The
// bucket being drained is sorted once and read in order. Most events of a simulation are due
// within milliseconds or seconds, so they cost an append or two and a share of a small sort,
// instead of a walk through a deep heap. The order is exactly (time, seq), as with one heap.
const (
	bucketShift = 14 // 16.4 µs
	blockBits   = 12
	blockSize   = 1 << blockBits // buckets per block
	blockMask   = blockSize - 1
	blockShift  = bucketShift + blockBits
	coarseSize  = 64 // blocks in the coarse wheel
)

// keepEvents is the largest array, in events, a drained bucket hands on. The fine wheel's
// arrays circulate from bucket to bucket, so one that a burst grew (thousands of events due in
// the same 16 µs) would otherwise be kept for good, and as bursts land on other buckets, more
// would be: in `full` with 2,000 clients the wheel's arrays held 7.4 MB after 13 virtual minutes
// and kept growing, for 0.6 MB of queued events. A burst now pays for its own array; the kept
// ones hold at most blockSize*keepEvents events (50 MB), above what a bucket usually holds even
// at 100,000 actors (a few hundred).
const keepEvents = 512

type eventQueue struct {
	blk   int64   // current block
	cur   int64   // bucket being drained; blk<<blockBits-1 when none of blk is yet
	run   []event // events of buckets <= cur, sorted; run[pos:] are still queued
	pos   int
	fine  [blockSize][]event // buckets of block blk after cur, at b&blockMask
	used  [blockSize / 64]uint64
	coar  [coarseSize][]event // blocks after the current one, at blk%coarseSize
	cused uint64
	spare [][]event // emptied coarse arrays: few blocks are in use at once
	far   heap4     // later blocks
	n     int
}

// start sets the queue's clock: events due before t must not be pushed.
func (q *eventQueue) start(t int64) {
	q.cur = t >> bucketShift
	q.blk = q.cur >> blockBits
}

func (q *eventQueue) len() int { return q.n }

func (q *eventQueue) push(ev event) {
	q.n++
	q.place(ev)
}

func (q *eventQueue) place(ev event) {
	b := ev.at >> bucketShift
	blk := b >> blockBits
	switch {
	case b <= q.cur:
		// Due in the bucket being drained (or before it, after a jump): keep run sorted.
		i, _ := slices.BinarySearchFunc(q.run[q.pos:], ev, compareEvents)
		q.run = slices.Insert(q.run, q.pos+i, ev)
	case blk == q.blk:
		w := b & blockMask
		q.fine[w] = append(q.fine[w], ev)
		q.used[w/64] |= 1 << (w % 64)
	case blk-q.blk < coarseSize:
		w := blk % coarseSize
		if q.cused&(1<<w) == 0 && len(q.spare) > 0 {
			q.coar[w] = q.spare[len(q.spare)-1]
			q.spare = q.spare[:len(q.spare)-1]
		}
		q.coar[w] = append(q.coar[w], ev)
		q.cused |= 1 << w
	default:
		q.far.push(ev)
	}
}

// peek returns the earliest event; the queue must not be empty.
func (q *eventQueue) peek() *event {
	if q.pos == len(q.run) {
		q.advance()
	}
	return &q.run[q.pos]
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *eventQueue) pop() event {
	if q.pos == len(q.run) {
		q.advance()
	}
	ev := q.run[q.pos]
	q.pos++
	q.n--
	return ev
}

// advance moves to the next bucket that holds events and sorts it into run.
func (q *eventQueue) advance() {
	for {
		if b, ok := q.nextFine(); ok {
			q.cur = b
			w := b & blockMask
			// Hand run's emptied array to the bucket it empties, so capacity circulates, unless
			// a burst made it large (see keepEvents).
			spent := q.run[:0]
			if cap(spent) > keepEvents {
				spent = nil
			}
			q.run, q.fine[w] = q.fine[w], spent
			q.pos = 0
			q.used[w/64] &^= 1 << (w % 64)
			sortEvents(q.run)
			return
		}
		if !q.nextBlock() {
			return
		}
	}
}

// nextFine finds the first non-empty bucket of the current block after cur.
func (q *eventQueue) nextFine() (int64, bool) {
	start := q.cur + 1 - q.blk<<blockBits
	if start >= blockSize {
		return 0, false
	}
	for i := start / 64; i < int64(len(q.used)); i++ {
		word := q.used[i]
		if i == start/64 {
			word &= ^uint64(0) << (start % 64)
		}
		if word != 0 {
			return q.blk<<blockBits | (i*64 + int64(bits.TrailingZeros64(word))), true
		}
	}
	return 0, false
}

// nextBlock moves to the next block that holds events, spreading its events into the fine
// wheel; false if the queue is empty.
func (q *eventQueue) nextBlock() bool {
	curBlk := q.blk
	next, ok := int64(0), false
	if q.cused != 0 {
		// Blocks curBlk+1 .. curBlk+coarseSize-1 sit at their index mod coarseSize.
		start := uint((curBlk + 1) % coarseSize)
		word := bits.RotateLeft64(q.cused, -int(start))
		next, ok = curBlk+1+int64(bits.TrailingZeros64(word)), true
	}
	if len(q.far) > 0 {
		if fb := q.far[0].at >> blockShift; !ok || fb < next {
			next, ok = fb, true
		}
	}
	if !ok {
		return false
	}
	q.blk, q.cur = next, next<<blockBits-1 // nothing of the new block drained yet
	w := next % coarseSize
	if q.cused&(1<<w) != 0 {
		evs := q.coar[w]
		q.coar[w] = nil
		q.cused &^= 1 << w
		for _, ev := range evs {
			q.place(ev)
		}
		q.spare = append(q.spare, evs[:0])
	}
	for len(q.far) > 0 && q.far[0].at>>blockShift == next {
		q.place(q.far.pop())
	}
	return true
}

// sortEvents sorts by (at, seq). A bucket holds a few dozen events at 10,000 actors and a few
// hundred at 100,000, many of them due at the same instant, so the order rests on seq as much as
// on time. A quicksort with the comparison inlined, ending in insertion sort, takes about half
// the time of slices.SortFunc there, whose comparison is a call taking both events by value.
func sortEvents(s []event) {
	quickSortEvents(s, 2*bits.Len(uint(len(s))))
}

// quickSortEvents sorts s, handing over to slices.SortFunc once depth splits have not brought
// the parts below insertion sort's size (a run of bad pivots), which bounds the time by n log n.
func quickSortEvents(s []event, depth int) {
	for len(s) > 24 {
		if depth == 0 {
			slices.SortFunc(s, compareEvents)
			return
		}
		depth--
		p := partitionEvents(s)
		// Recurse into the smaller side and loop on the larger: the stack stays logarithmic.
		if p < len(s)-p {
			quickSortEvents(s[:p], depth)
			s = s[p+1:]
		} else {
			quickSortEvents(s[p+1:], depth)
			s = s[:p]
		}
	}
	for i := 1; i < len(s); i++ {
		ev := s[i]
		j := i
		for j > 0 && before(&ev, &s[j-1]) {
			s[j] = s[j-1]
			j--
		}
		s[j] = ev
	}
}

// partitionEvents splits s (at least 3 events) around the median of its first, middle and last
// events, and returns the pivot's final index: events before it come earlier, after it later.
// The smallest and largest of the three bound both scans, so neither checks for s's ends.
func partitionEvents(s []event) int {
	n, m := len(s), len(s)/2
	if before(&s[m], &s[0]) {
		s[0], s[m] = s[m], s[0]
	}
	if before(&s[n-1], &s[m]) {
		s[m], s[n-1] = s[n-1], s[m]
		if before(&s[m], &s[0]) {
			s[0], s[m] = s[m], s[0]
		}
	}
	s[1], s[m] = s[m], s[1]
	pivot := s[1]
	i, j := 1, n-1
	for {
		for i++; before(&s[i], &pivot); i++ {
		}
		for j--; before(&pivot, &s[j]); j-- {
		}
		if i >= j {
			break
		}
		s[i], s[j] = s[j], s[i]
	}
	s[1], s[j] = s[j], s[1]
	return j
}

// filter keeps the events keep approves, in order.
func (q *eventQueue) filter(keep func(*event) bool) {
	w := q.pos
	for i := q.pos; i < len(q.run); i++ {
		if keep(&q.run[i]) {
			q.run[w] = q.run[i]
			w++
		}
	}
	q.run = q.run[:w]
	q.n = w - q.pos
	drop := func(ev event) bool { return !keep(&ev) }
	for i := range q.fine {
		q.fine[i] = slices.DeleteFunc(q.fine[i], drop)
		if len(q.fine[i]) == 0 {
			q.used[i/64] &^= 1 << (i % 64)
		}
		q.n += len(q.fine[i])
	}
	for i := range q.coar {
		q.coar[i] = slices.DeleteFunc(q.coar[i], drop)
		if len(q.coar[i]) == 0 {
			q.cused &^= 1 << i
		}
		q.n += len(q.coar[i])
	}
	q.far.filter(keep)
	q.n += len(q.far)
}

// heap4 is a 4-ary min-heap ordered by (at, seq).
type heap4 []event

func (q *heap4) push(ev event) {
	h := append(*q, ev)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !before(&ev, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = ev
	*q = h
}

// pop removes and returns the earliest event; the heap must not be empty.
func (q *heap4) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	*q = h
	if n > 0 {
		h.siftDown(0, last)
	}
	return top
}

func (h heap4) siftDown(i int, ev event) {
	n := len(h)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if before(&h[j], &h[m]) {
				m = j
			}
		}
		if !before(&h[m], &ev) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = ev
}

func (q *heap4) filter(keep func(*event) bool) {
	h := *q
	w := 0
	for i := range h {
		if keep(&h[i]) {
			h[w] = h[i]
			w++
		}
	}
	clear(h[w:])
	h = h[:w]
	if w > 1 {
		for i := (w - 2) / 4; i >= 0; i-- {
			h.siftDown(i, h[i])
		}
	}
	*q = h
}
