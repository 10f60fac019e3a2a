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
	seq uint64 // insertion order: breaks ties in time the same way every run
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

// The event queue is a calendar: time is cut into buckets of 2^bucketShift ns, and a wheel holds
// the buckets of the next wheelSize*2^bucketShift ns (67 ms) as unsorted slices. The bucket being
// drained is sorted once and read in order; events beyond the wheel wait in a 4-ary heap until
// their bucket comes up. Most events of a simulation are due within milliseconds, so they cost an
// append and a share of one small sort, instead of a walk through a deep heap. The order is
// exactly (time, seq), as with a single heap.
const (
	bucketShift = 14 // 16.4 µs
	wheelBits   = 12
	wheelSize   = 1 << wheelBits
	wheelMask   = wheelSize - 1
)

type eventQueue struct {
	cur   int64   // bucket being drained
	run   []event // events of buckets <= cur, sorted; run[pos:] are still queued
	pos   int
	wheel [wheelSize][]event // bucket b in (cur, cur+wheelSize) at wheel[b&wheelMask]
	used  [wheelSize / 64]uint64
	far   heap4 // buckets >= cur+wheelSize when pushed
	n     int
}

func (q *eventQueue) len() int { return q.n }

func (q *eventQueue) push(ev event) {
	q.n++
	b := ev.at >> bucketShift
	switch {
	case b <= q.cur:
		// Due in the bucket being drained (or, after a jump, before it): keep run sorted.
		i, _ := slices.BinarySearchFunc(q.run[q.pos:], ev, compareEvents)
		q.run = slices.Insert(q.run, q.pos+i, ev)
	case b < q.cur+wheelSize:
		w := b & wheelMask
		q.wheel[w] = append(q.wheel[w], ev)
		q.used[w/64] |= 1 << (w % 64)
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
	next, ok := q.nextUsed()
	if len(q.far) > 0 {
		if fb := q.far[0].at >> bucketShift; !ok || fb < next {
			next, ok = fb, true
		}
	}
	if !ok {
		return
	}
	q.cur = next
	w := next & wheelMask
	// Hand run's emptied array to the wheel slot it empties, so capacity circulates.
	q.run, q.wheel[w] = q.wheel[w], q.run[:0]
	q.pos = 0
	q.used[w/64] &^= 1 << (w % 64)
	for len(q.far) > 0 && q.far[0].at>>bucketShift == next {
		q.run = append(q.run, q.far.pop())
	}
	sortEvents(q.run)
}

// sortEvents sorts by (at, seq). Buckets hold a few dozen events, where insertion sort with an
// inlined comparison beats a general sort by a wide margin.
func sortEvents(s []event) {
	if len(s) > 48 {
		slices.SortFunc(s, compareEvents)
		return
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

// nextUsed finds the first non-empty wheel bucket after cur.
func (q *eventQueue) nextUsed() (int64, bool) {
	start := (q.cur + 1) & wheelMask
	// Scan the words of the bitmap from start around the wheel, once.
	for k := 0; k <= len(q.used); k++ {
		idx := (start/64 + int64(k)) % int64(len(q.used))
		word := q.used[idx]
		if k == 0 {
			word &= ^uint64(0) << (start % 64)
		} else if k == len(q.used) {
			word &= 1<<(start%64) - 1
		}
		if word != 0 {
			w := idx*64 + int64(bits.TrailingZeros64(word))
			return q.cur + 1 + (w-start)&wheelMask, true
		}
	}
	return 0, false
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
	for i := range q.wheel {
		q.wheel[i] = slices.DeleteFunc(q.wheel[i], func(ev event) bool { return !keep(&ev) })
		if len(q.wheel[i]) == 0 {
			q.used[i/64] &^= 1 << (i % 64)
		}
		q.n += len(q.wheel[i])
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
