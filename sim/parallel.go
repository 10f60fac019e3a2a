package sim

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Running one world on several workers (Config.Workers) is conservative in virtual time. Hosts
// are partitioned into G groups (groupsPerWorker for each of the N workers), host h to group
// h mod G, each group an Engine of its own with its own queue, timers, calls and lanes. No
// message between two hosts arrives sooner than the network's MinLatency L after it left, so
// from the earliest pending event T every group's events before T+L (a window) can run without
// waiting for the others: nothing another host does inside the window can reach its hosts
// before the window ends. In each window the workers claim the groups with events in it one by
// one until none is left. Messages between hosts and observations are kept per group and
// handed over at the window's end, merged into the order one worker would have produced them
// in. World functions (At, AfterFunc) run alone, between windows. Below, "worker" in the sense
// of a partition of the hosts (the one-worker order, a worker's tag) means a group.
//
// The window is the smallest latency between any two hosts, not only between hosts on different
// workers, and placing hosts that talk with low latency (a region's) on one worker would not
// widen it. The network's Land must see each receiver's messages in the order one worker sends
// them (its access link queue admits them in that order, and the order changes when they
// start): a message between two hosts of one worker that arrived inside the window would have
// to be landed before the worker knows whether another worker sent the same receiver one that
// comes first in that order. So every message between two hosts is handed over at the window's
// end, and must arrive after it.
//
// The merge order is what makes the result the same for every N. Each event has a key that only
// its origin host determines (Engine.key), so every host runs its own events in the same order
// whichever worker runs it, and what an event sends or observes is tagged with its key: merging
// the workers' records by tag, each worker's in its own order, gives back the one-worker order.
// A worker's tag is the largest key it has run so far, not the running event's own: an event
// scheduled for the very instant it was made can sort before the event that made it (a smaller
// origin host), and then runs right after its maker with the maker's place in the order.
// What actors send and observe outside a window (in a world function, or from Invoke or Spawn
// between two runs) is handed over by itself before the next window, whatever group holds it,
// so it carries only its place in the order it was made (mark.made): the merge then gives back
// the order of the calls.
//
// Only each receiver needs its messages in that order: a message lands in its receiver's
// downlink and makes a record and an event in its receiver's group, and touches nothing of
// another group's hosts. So at a window's end each group lands the messages to its own hosts,
// merging what each group sent them by tag, while the workers land the other groups' (unless
// the network must see every message in the one-worker order: Network.LandApart). Sinks then
// see the observations, one at a time on the coordinator's goroutine, and world functions run
// alone: that, and waiting at the end of each window for the worker with the most left to do,
// is what does not run in parallel.

// parallel is what the engine the world talks to (the coordinator) and its workers share.
type parallel struct {
	groups    []*Engine // group i holds the hosts h with h mod len(groups) == i
	lookahead int64     // the network's minimum latency: the length of a window, ns
	inWindow  bool      // the workers are running a window
	handing   bool      // the coordinator is handing a window's messages and observations over
	ranTo     int64     // the last instant of the last window run: world functions cannot come before
	made      uint64    // what actors sent and observed inside world functions so far
	crews     []*crew   // the goroutines of workers 1 to N-1; worker 0 is the coordinator's
	waiting   sleeper   // the coordinator, for the crews to be done
	// The order being carried out: land, or run the window up to last, for each group of
	// todo; the workers claim them one by one (claimed).
	land    bool
	last    int64
	todo    []*Engine
	claimed atomic.Int64
}

// groupsPerWorker is how many groups of hosts each worker has to claim from in a window. A
// window is short, and how much work a group has in it varies: with one group per worker the
// window would last as long as the busiest group's work, while with several the workers share
// them out as they go, and finish nearer together. More groups cost more to merge at each
// window's end, and more memory for what a world keeps per group (Worker).
const groupsPerWorker = 4

// mark is where a message or observation goes in the one-worker order: in a window, after the
// event tag (made is 0 there, and tags never tie); outside one, made-th.
type mark struct {
	tag  event
	made uint64
}

// mark is the place of what a worker sends or observes now. Outside a window (in a world
// function, or an Invoke or Spawn between two runs) the number alone places it: what is made
// there is handed over before any window runs, by itself, and between runs the groups' latest
// events differ, so their tags would order the calls by group rather than as they were made.
func (e *Engine) mark() mark {
	if e.par.inWindow {
		return mark{tag: e.last}
	}
	e.par.made++
	return mark{made: e.par.made}
}

func (m *mark) before(o *mark) bool {
	return before(&m.tag, &o.tag) || (m.tag == o.tag && m.made < o.made)
}

// parcel is a message between two hosts (or to a host itself, then only for the network's
// accounting), kept by the sending worker until the window ends.
type parcel struct {
	tag    mark   // after the latest event its worker had run when it was sent
	seq    uint64 // the message's own event key
	leg    Leg    // its way through the network
	kind   kind   // kindRequest or kindResponse
	landed bool   // to the sender's own host: already queued; Land only counts it
	worker uint32 // the worker holding the caller's record
	slot   uint32 // the caller's record and its generation
	gen    uint32
	size   int // the request's or response's Size
	body   any // and its Body
	// A request's: its ends, timeout and method, as they were sent.
	caller, callee *actorEnv
	tmo            time.Duration
	method         string
	status         int // a response's Status
}

// sighting is an observation kept by a worker until the window ends.
type sighting struct {
	tag  mark
	at   time.Time
	from actor.Addr
	ev   actor.Event
}

// setUpWorkers makes n workers for a coordinator whose Config asks for them, or explains why it
// runs on one.
func (e *Engine) setUpWorkers(n int) {
	if n <= 1 {
		return
	}
	var l time.Duration
	if e.net == nil {
		l = time.Duration(e.latency)
	} else {
		l = e.net.MinLatency()
	}
	if l <= 0 {
		e.oneWorker = fmt.Sprintf("the network gives no minimum latency between hosts (%v), so hosts cannot run apart in virtual time", l)
		return
	}
	p := &parallel{lookahead: int64(l), waiting: newSleeper()}
	g := n * groupsPerWorker
	for i := range g {
		w := &Engine{cfg: e.cfg, net: e.net, latency: e.latency, timeout: e.timeout, epoch: e.epoch, now: e.now,
			q: new(eventQueue), byIP: e.byIP, actors6: e.actors6, par: p, shard: uint32(i),
			to: make([][]uint32, g), from: make([]int, g)}
		w.cfg.Progress = nil
		w.q.start(w.now)
		p.groups = append(p.groups, w)
	}
	for range n - 1 {
		p.crews = append(p.crews, &crew{sleeper: newSleeper()})
	}
	e.par = p
	e.coordinator = true
}

// Window is how far in virtual time the workers run apart (the network's MinLatency), or 0 on
// one worker.
func (e *Engine) Window() time.Duration {
	if e.par == nil {
		return 0
	}
	return time.Duration(e.par.lookahead)
}

// Workers is the number of workers the engine runs its hosts on, and when it is one although
// more were asked for, why.
func (e *Engine) Workers() (int, string) {
	if e.par == nil {
		return 1, e.oneWorker
	}
	return len(e.par.crews) + 1, ""
}

// Worker is the number of the group of hosts that host h belongs to (0 on one worker): one
// worker at a time runs a group's events, so a world that keeps caches per group, for actors
// of different hosts to share only within one, hands each actor the one of its host's group.
func (e *Engine) Worker(h HostID) int {
	if e.par == nil {
		return 0
	}
	return int(h) % len(e.par.groups)
}

// workerOf is the engine of host h's group: the engine itself on one worker.
func (e *Engine) workerOf(h HostID) *Engine {
	if e.par == nil {
		return e
	}
	return e.par.groups[e.Worker(h)]
}

// share hands the coordinator's tables of hosts and actors to its workers, after the world
// changed them: workers read them, and write only their own hosts' entries.
func (e *Engine) share() {
	if !e.coordinator {
		return
	}
	for _, w := range e.par.groups {
		w.hosts, w.cores, w.actors4, w.sinks = e.hosts, e.cores, e.actors4, e.sinks
	}
}

// depart starts a message on its way from a worker: the leg, and when a message to the sender's
// own host arrives (which it does without waiting for the window to end).
func (e *Engine) depart(from, to HostID, size int, t int64) (Leg, int64) {
	if e.net == nil {
		return Leg{From: from, To: to, Size: size, Sent: t}, t + e.latency
	}
	// A model with a minimum latency delivers a message to its own host at once (MinLatency).
	return e.net.Depart(from, to, size, t, &e.hosts[from].rng.r), t
}

// sendRequest sends call c's request from a worker.
func (e *Engine) sendRequest(c *callRec, t int64, seq uint64) {
	leg, arrive := e.depart(c.callerHost, c.calleeHost, c.reqSize, t)
	if c.callerHost == c.calleeHost {
		c.flags |= fReqInFlight
		e.push(arrive, seq, kindRequest, c.slot, c.gen)
		if e.net != nil {
			e.post(parcel{tag: e.mark(), leg: leg, landed: true})
		}
		return
	}
	// The callee's worker answers through a record of its own (a proxy): the caller's record
	// stays with the caller's worker, and hears of the response when it is handed over.
	e.post(parcel{tag: e.mark(), seq: seq, leg: leg, kind: kindRequest, worker: e.shard, slot: c.slot, gen: c.gen,
		size: c.reqSize, body: c.reqBody, caller: c.caller, callee: c.callee, tmo: c.tmo, method: c.reqMethod})
}

// post keeps a message for the window's end, noting which worker's host receives it.
func (e *Engine) post(m parcel) {
	to := e.Worker(m.leg.To)
	e.to[to] = append(e.to[to], uint32(len(e.outbox)))
	e.outbox = append(e.outbox, m)
}

// sendResponse sends the response to call c from a worker.
func (e *Engine) sendResponse(c *callRec, resp actor.Response, t int64, seq uint64) {
	leg, arrive := e.depart(c.calleeHost, c.callerHost, resp.Size, t)
	if c.flags&fProxy == 0 {
		// Only calls within one host have no proxy.
		c.resp = resp
		c.flags |= fRespInFlight
		e.push(arrive, seq, kindResponse, c.slot, c.gen)
		if e.net != nil {
			e.post(parcel{tag: e.mark(), leg: leg, landed: true})
		}
		return
	}
	e.post(parcel{tag: e.mark(), seq: seq, leg: leg, kind: kindResponse,
		worker: c.peer, slot: c.peerSlot, gen: c.peerGen, size: resp.Size, body: resp.Body, status: resp.Status})
}

// runWindow runs a group's events due at or before last.
func (e *Engine) runWindow(last int64) {
	for e.q.len() > 0 && e.q.peek().at <= last {
		ev := e.q.pop()
		if before(&e.last, &ev) {
			e.last = ev
		}
		e.now = ev.at
		e.dispatch(ev)
	}
}

// crew is how the coordinator gives a worker's goroutine its orders, one at a time: claim
// groups and run the window for them, or land what was sent to their hosts. Two orders come
// in every window, tens to hundreds of microseconds of wall time apart in a busy world, too
// often to wait for the Go scheduler to wake a parked goroutine each time, so both sides spin
// a while before they sleep (sleeper).
type crew struct {
	given atomic.Uint64 // orders given so far
	_     [56]byte      // given and done change on different cores
	done  atomic.Uint64 // orders carried out so far
	sleeper
	quit bool // the order: to return (written before given moves on, read after)
}

// sleeper is one side of a crew's handshake: waiting for a condition, it spins a while and
// then sleeps until the other side, having made the condition true, wakes it (rouse).
type sleeper struct {
	asleep *atomic.Bool
	wake   chan struct{}
	spin   *int // how many rounds the side spins before it sleeps; only the side changes it
}

func newSleeper() sleeper {
	spin := maxSpinRounds
	return sleeper{asleep: new(atomic.Bool), wake: make(chan struct{}, 1), spin: &spin}
}

// maxSpinRounds is the longest a side spins before it sleeps, in rounds of 64 checks and a
// yield: about 50 us at the 0.14-0.15 us a round takes on the reference machine. It is meant to
// be longer than most waits within a window and between two windows of a busy world, short
// enough that a world with few events per window does not keep a core busy doing nothing. A
// side that had to sleep halves its spin, and one that did not doubles it again: on a machine
// whose cores other work keeps busy, the side waited for is often not running, and spinning
// would only take the core from it. Counted in rounds rather than timed, so that the engine
// reads no wall clock.
const maxSpinRounds = 350

// await returns once ready says true.
func (s sleeper) await(ready func() bool) {
	rounds := 0
	for i := 1; !ready(); i++ {
		if i%64 != 0 {
			continue
		}
		if rounds++; rounds > *s.spin {
			*s.spin /= 2
			for {
				s.asleep.Store(true)
				if ready() {
					if !s.asleep.Swap(false) {
						<-s.wake // rouse saw it asleep and sends
					}
					return
				}
				<-s.wake
			}
		}
		runtime.Gosched() // the garbage collector may want this core
	}
	*s.spin = min(2*(*s.spin)+1, maxSpinRounds)
}

// rouse wakes the side s after its condition may have become true, if it sleeps.
func (s sleeper) rouse() {
	if s.asleep.Swap(false) {
		s.wake <- struct{}{}
	}
}

// serve carries out a crew's orders on a worker's own goroutine, until it is told to quit; n
// is the number of its first order.
func (p *parallel) serve(c *crew, n uint64) {
	for ; ; n++ {
		c.await(func() bool { return c.given.Load() >= n })
		quit := c.quit
		if !quit {
			p.work()
		}
		c.done.Store(n)
		p.waiting.rouse()
		if quit {
			return
		}
	}
}

// work claims the order's groups one by one and carries it out for each, until none is left.
// A panic is kept in the group for the coordinator to raise again.
func (p *parallel) work() {
	for {
		i := p.claimed.Add(1) - 1
		if i >= int64(len(p.todo)) {
			return
		}
		p.todo[i].carryOut(p.land, p.last)
	}
}

// carryOut does one order for a group, keeping what it panics with.
func (w *Engine) carryOut(land bool, last int64) {
	defer func() { w.panicked = recover() }()
	if land {
		w.land()
	} else {
		w.runWindow(last)
	}
}

// runParallel is RunUntil(end) of a coordinator: windows for the workers, world functions
// between them.
func (e *Engine) runParallel(end int64) {
	p := e.par
	for _, c := range p.crews {
		c.quit = false
		go p.serve(c, c.given.Load()+1)
	}
	defer func() {
		p.waiting.await(p.crewsDone) // the workers' window, if this goroutine's panicked
		for _, c := range p.crews {
			c.quit = true
			c.given.Add(1)
			c.rouse()
		}
		p.waiting.await(p.crewsDone)
	}()
	e.handOver() // what Invoke and Spawn made actors send and observe since the last run
	for {
		t, ok := e.nextWorkerEvent()
		world := e.q.len() > 0 && (!ok || e.q.peek().at <= t)
		if world {
			t, ok = e.q.peek().at, true
		}
		if !ok || t > end {
			return
		}
		if world {
			if t <= p.ranTo {
				panic(fmt.Sprintf("sim: a world function is due at %v, inside a window the workers have run (to %v): "+
					"with several workers, a sink or world function must not schedule one sooner than the network's MinLatency",
					unixTime(t), unixTime(p.ranTo)))
			}
			// At one instant world functions come first: their keys are the smallest.
			ev := e.q.pop()
			e.now = t
			for _, w := range p.groups {
				w.now, w.last = t, ev
			}
			e.dispatch(ev)
			e.handOver()
			continue
		}
		// The window runs from t to last, both included: up to the earliest instant a message
		// sent in it could arrive, the next world function or the end of the run.
		last := end
		if t <= math.MaxInt64-p.lookahead {
			last = min(last, t+p.lookahead-1)
		}
		if e.q.len() > 0 {
			last = min(last, e.q.peek().at-1)
		}
		p.inWindow = true
		e.order(false, last, func(w *Engine) bool { return w.q.len() > 0 && w.q.peek().at <= last })
		p.inWindow = false
		p.ranTo = last
		e.now = max(e.now, t)
		e.handOver()
		e.report()
	}
}

// order has the groups for which has says true carry out an order (land, or run the window up
// to last), and returns when they all have. The workers claim the groups one by one, the
// coordinator's goroutine being worker 0: where one group has something to do, nobody waits
// for another goroutine. Which worker carries out a group's order changes nothing it does.
func (e *Engine) order(land bool, last int64, has func(*Engine) bool) {
	p := e.par
	p.todo = p.todo[:0]
	for _, w := range p.groups {
		if has(w) {
			p.todo = append(p.todo, w)
		}
	}
	if len(p.todo) == 0 {
		return
	}
	p.land, p.last = land, last
	p.claimed.Store(0)
	crews := p.crews[:min(len(p.crews), len(p.todo)-1)]
	for _, c := range crews {
		c.given.Add(1)
		c.rouse()
	}
	p.work()
	if len(crews) > 0 {
		p.waiting.await(p.crewsDone)
	}
	for _, w := range p.todo {
		if r := w.panicked; r != nil {
			w.panicked = nil
			panic(r) // on the goroutine that called Run, as on one worker
		}
	}
}

// crewsDone says whether every crew has carried out every order it was given.
func (p *parallel) crewsDone() bool {
	for _, c := range p.crews {
		if c.done.Load() < c.given.Load() {
			return false
		}
	}
	return true
}

// nextWorkerEvent is the time of the earliest event of any worker.
func (e *Engine) nextWorkerEvent() (int64, bool) {
	t, ok := int64(0), false
	for _, w := range e.par.groups {
		if w.q.len() > 0 {
			if at := w.q.peek().at; !ok || at < t {
				t, ok = at, true
			}
		}
	}
	return t, ok
}

// handOver delivers what the workers sent and observed, in the one-worker order.
//
// Each receiver's messages land in that order; messages to hosts of different workers touch
// nothing in common (their downlinks, the receivers' calls and queues), so where the network
// lets them (Network.LandApart) each worker lands the messages to its own hosts, at once with
// the others. Observations go to the sinks one at a time, on this goroutine.
func (e *Engine) handOver() {
	ws := e.par.groups
	e.par.handing = true
	defer func() { e.par.handing = false }()
	if e.net != nil && !e.net.LandApart(len(ws)) {
		mergeByTag(ws, func(w *Engine) int { return len(w.outbox) }, func(w *Engine, i int) *mark { return &w.outbox[i].tag },
			func(w *Engine, i int) {
				m := &w.outbox[i]
				e.workerOf(m.leg.To).deliver(m, 0)
			})
	} else {
		e.order(true, 0, func(w *Engine) bool {
			for _, s := range ws {
				if len(s.to[w.shard]) > 0 {
					return true
				}
			}
			return false
		})
	}
	mergeByTag(ws, func(w *Engine) int { return len(w.seen) }, func(w *Engine, i int) *mark { return &w.seen[i].tag },
		func(w *Engine, i int) {
			s := &w.seen[i]
			for _, sink := range e.sinks {
				sink(s.at, s.from, s.ev)
			}
		})
	for _, w := range ws {
		clear(w.outbox)
		clear(w.seen)
		w.outbox, w.seen = w.outbox[:0], w.seen[:0]
		for i := range w.to {
			w.to[i] = w.to[i][:0]
		}
	}
}

// land delivers the messages every group sent to w's hosts, in the one-worker order: each
// sender's in the order it sent them, the senders' merged by tag.
func (w *Engine) land() {
	ws, me := w.par.groups, w.shard
	clear(w.from)
	for {
		best := -1
		var tag *mark
		for i, s := range ws {
			if k := w.from[i]; k < len(s.to[me]) {
				if t := &s.outbox[s.to[me][k]].tag; best < 0 || t.before(tag) {
					best, tag = i, t
				}
			}
		}
		if best < 0 {
			return
		}
		s := ws[best]
		w.deliver(&s.outbox[s.to[me][w.from[best]]], int(me))
		w.from[best]++
	}
}

// mergeByTag visits the records of every worker, each worker's in its own order, the workers'
// interleaved by tag. Marks of different workers never tie: keys are unique, and what world
// functions made is numbered.
func mergeByTag(ws []*Engine, n func(*Engine) int, tag func(*Engine, int) *mark, visit func(*Engine, int)) {
	pos := make([]int, len(ws))
	for {
		best := -1
		for i, w := range ws {
			if pos[i] < n(w) && (best < 0 || tag(w, pos[i]).before(tag(ws[best], pos[best]))) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		visit(ws[best], pos[best])
		pos[best]++
	}
}

// deliver lands one message to a host of group w and queues its arrival; shard is the
// network's shard of counters it lands in (Network.Land's worker).
func (w *Engine) deliver(m *parcel, shard int) {
	arrive, ok := m.leg.Sent+w.latency, true
	if w.net != nil {
		arrive, ok = w.net.Land(&m.leg, shard)
	}
	if m.landed {
		return
	}
	if ok && arrive < m.leg.Sent+w.par.lookahead {
		panic(fmt.Sprintf("sim: a message from host %d to %d took %v, less than the network's MinLatency %v",
			m.leg.From, m.leg.To, time.Duration(arrive-m.leg.Sent), time.Duration(w.par.lookahead)))
	}
	if !ok {
		w.stats.Lost++
		return
	}
	if m.kind == kindRequest {
		c := w.newCall()
		if c == nil {
			return // as Call: over half a billion calls open; the caller times out
		}
		c.flags = fProxy | fDone | fReqInFlight
		c.caller, c.callerHost, c.callee, c.calleeHost, c.tmo = m.caller, m.caller.host, m.callee, m.callee.host, m.tmo
		c.from, c.reqMethod, c.reqBody, c.reqSize = m.caller.addr, m.method, m.body, m.size
		c.peer, c.peerSlot, c.peerGen = m.worker, m.slot, m.gen
		w.push(arrive, m.seq, kindRequest, c.slot, c.gen)
		return
	}
	// The response's receiver is the caller's host: the worker that holds the caller's record.
	if c := w.call(m.slot); c.gen == m.gen {
		c.resp = actor.Response{Status: m.status, Body: m.body, Size: m.size}
		c.flags |= fRespInFlight
		w.push(arrive, m.seq, kindResponse, c.slot, c.gen)
		return
	}
	// The call has timed out and its record serves another: the response is late.
	w.push(arrive, m.seq, kindLate, 0, 0)
}

// worldOnly stops a run on several workers where what (Spawn, Crash, Invoke, ...) is called
// from an actor's callback or a sink: there it would act at another point of the one-worker
// order than it does on one worker. World functions may call it.
func (e *Engine) worldOnly(what string) {
	if p := e.par; p != nil && (p.inWindow || p.handing) {
		panic("sim: " + what + " called from an actor's callback or a sink while workers run; with several workers only world functions may")
	}
}

// report calls the progress hook of a coordinator after a window if it is due.
func (e *Engine) report() {
	if e.cfg.Progress == nil {
		return
	}
	s := e.Stats()
	if s.Events >= e.progEvents || e.now >= e.progAt {
		e.progEvents = s.Events + e.cfg.ProgressEvents
		e.progAt = e.now + int64(e.cfg.ProgressInterval)
		e.cfg.Progress(Progress{Now: unixTime(e.now), Elapsed: time.Duration(e.now - e.epoch), Events: s.Events})
	}
}
