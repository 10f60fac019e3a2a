package sim

// Call deadlines are mostly cancelled: the response comes long before the timeout. Kept in the
// event queue, each would cost a push and a pop (or a sweep) for nothing. But calls that share a
// timeout duration reach their deadlines in the order they were made, so they can wait in a FIFO
// "lane" per duration, of which only the head has an entry in the event queue. That entry carries
// the deadline's own (time, seq), so the order of events is exactly what one queue would give. A
// cancelled deadline is only marked dead in its lane; dead entries are dropped when they reach
// the head, or swept out when more than three quarters of a lane is dead.

// maxLanes bounds the distinct timeout durations with a lane; others go to the event queue.
const maxLanes = 16

type lane struct {
	d      int64 // the timeout duration, ns
	ring   []laneEntry
	head   int    // ring index of the oldest entry
	n      int    // entries in the ring
	popped uint32 // entries removed from the front so far (mod 2^32): position of the head
	dead   int    // entries marked dead
	queued bool   // the head has an entry in the event queue
}

type laneEntry struct {
	at   int64
	seq  uint64
	slot uint32
	gen  uint32 // 0: cancelled
}

// laneFor finds or opens the lane of a timeout duration.
func (e *Engine) laneFor(d int64) (int, bool) {
	if i := e.lastLane; i < len(e.lanes) && e.lanes[i].d == d {
		return i, true
	}
	for i := range e.lanes {
		if e.lanes[i].d == d {
			e.lastLane = i
			return i, true
		}
	}
	if len(e.lanes) >= maxLanes {
		return 0, false
	}
	e.lanes = append(e.lanes, lane{d: d, ring: make([]laneEntry, 64)})
	e.lastLane = len(e.lanes) - 1
	return e.lastLane, true
}

// scheduleTimeout queues c's deadline, in a lane when it can keep the lane in order.
func (e *Engine) scheduleTimeout(c *callRec, deadline int64, d int64) {
	c.flags |= fTimeoutQueued
	deadline = max(deadline, e.now)
	seq := e.key(c.caller)
	li, ok := e.laneFor(d)
	if ok {
		l := &e.lanes[li]
		if l.n > 0 {
			last := &l.ring[(l.head+l.n-1)%len(l.ring)]
			// A caller whose clock ran ahead made an earlier call, or a host numbered higher made
			// a call due at the same instant: keep order via the queue.
			ok = last.at < deadline || (last.at == deadline && last.seq < seq)
		}
	}
	if !ok {
		e.q.push(event{at: deadline, seq: seq, ref: c.slot<<kindBits | uint32(kindTimeout), gen: c.gen})
		return
	}
	l := &e.lanes[li]
	if l.n == len(l.ring) {
		l.grow()
	}
	c.lane = uint8(li + 1)
	c.lanePos = l.popped + uint32(l.n)
	l.ring[(l.head+l.n)%len(l.ring)] = laneEntry{at: deadline, seq: seq, slot: c.slot, gen: c.gen}
	l.n++
	if !l.queued {
		l.queued = true
		e.q.push(event{at: deadline, seq: seq, ref: uint32(li)<<kindBits | uint32(kindLane)})
	}
}

func (l *lane) grow() {
	ring := make([]laneEntry, 2*len(l.ring))
	for i := range l.n {
		ring[i] = l.ring[(l.head+i)%len(l.ring)]
	}
	l.ring, l.head = ring, 0
}

// cancelTimeout marks c's lane entry dead.
func (e *Engine) cancelTimeout(c *callRec) {
	l := &e.lanes[c.lane-1]
	off := c.lanePos - l.popped
	if off >= uint32(l.n) {
		return
	}
	l.ring[(l.head+int(off))%len(l.ring)].gen = 0
	l.dead++
	if l.dead > 4096 && l.dead > l.n-l.n/4 {
		e.sweepLane(l)
	}
}

// sweepLane drops the dead entries of a lane in place, keeping order, and tells the live calls
// where their entries moved. A dead head stays if the event queue holds an entry for it.
func (e *Engine) sweepLane(l *lane) {
	size := len(l.ring)
	w := 0
	dead := 0
	for i := range l.n {
		ent := l.ring[(l.head+i)%size]
		if ent.gen == 0 {
			if i != 0 || !l.queued {
				continue
			}
			dead = 1
		} else {
			e.call(ent.slot).lanePos = l.popped + uint32(w)
		}
		l.ring[(l.head+w)%size] = ent
		w++
	}
	l.n, l.dead = w, dead
}

// fireLane runs the deadline at the head of lane li, then queues the next live head.
func (e *Engine) fireLane(li uint32) {
	l := &e.lanes[li]
	l.queued = false
	ent := l.pop()
	if ent.gen == 0 {
		l.dead--
	}
	for l.n > 0 && l.ring[l.head].gen == 0 {
		l.pop()
		l.dead--
	}
	if l.n > 0 {
		next := &l.ring[l.head]
		l.queued = true
		e.q.push(event{at: next.at, seq: next.seq, ref: li<<kindBits | uint32(kindLane)})
	}
	if ent.gen != 0 {
		c := e.call(ent.slot)
		c.lane = 0
		e.timeOut(c)
	}
}

func (l *lane) pop() laneEntry {
	ent := l.ring[l.head]
	l.head = (l.head + 1) % len(l.ring)
	l.n--
	l.popped++
	return ent
}
