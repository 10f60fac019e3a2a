// Package actortest is a deterministic in-memory actor.Env for unit tests: a manual virtual
// clock, timers and calls in one queue, and a fixed one-way latency. Node and client tests use
// it to drive actors without the simulator's engine and link model, and to script or inspect
// every call. It is not for production code: it models no bandwidth, loss or CPU queues, and
// Work only moves the calling actor's clock.
package actortest

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Epoch is the virtual time a Driver starts at.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Driver runs actors on one virtual clock. A call reaches its callee one Latency after it is
// made (plus the caller's Work so far in that callback) and the answer comes back one Latency
// after the callee responds, unless the caller's timeout fires first.
type Driver struct {
	// Latency is the one-way delay of every request and of every response.
	Latency time.Duration
	// Serve answers requests to addresses where no actor was added, when they arrive; ok false
	// drops the request (the caller times out). Nil makes such calls fail with
	// actor.ErrUnreachable, as calls to a crashed actor do.
	Serve func(from, to actor.Addr, req actor.Request) (resp actor.Response, ok bool)
	// Quiet stops recording Events and Calls, so that memory measurements see only the actors.
	Quiet bool
	// Events is every event an actor observed, in order.
	Events Log
	// Calls is every call made, in order, with its answer.
	Calls []Call

	now    time.Time
	seq    uint64
	queue  queue
	actors map[actor.Addr]*Env
}

// Observed is one event and who observed it when, as the simulator's sinks receive it.
type Observed struct {
	At    time.Time
	From  actor.Addr
	Event actor.Event
}

// Log is a record of observed events. Its Add is a sink for the simulator's engine too, so that
// tests on the engine and on a Driver read events the same way.
type Log []Observed

// Add appends one event.
func (l *Log) Add(at time.Time, from actor.Addr, ev actor.Event) {
	*l = append(*l, Observed{At: at, From: from, Event: ev})
}

// Call is one request an actor made and, once the callee answered, its response.
type Call struct {
	From, To actor.Addr
	Req      actor.Request
	Resp     actor.Response
	Answered bool // the callee responded (Resp is its answer)
}

// New returns a Driver at Epoch whose calls take latency each way.
func New(latency time.Duration) *Driver {
	return &Driver{Latency: latency, now: Epoch, actors: map[actor.Addr]*Env{}}
}

// Now is the driver's clock: the time of the callback being run, or where RunFor stopped.
func (d *Driver) Now() time.Time { return d.now }

// Env returns a new Env at addr that receives no calls (calls to addr go to Serve): for an actor
// the test starts and drives itself through Env.Do. Its random stream depends only on addr.
func (d *Driver) Env(addr actor.Addr) *Env {
	return &Env{d: d, self: addr, rng: rand.New(rand.NewPCG(addrSeed(addr), 0)), cursor: d.now}
}

// Add places a at addr, where calls to addr reach it, and starts it.
func (d *Driver) Add(addr actor.Addr, a actor.Actor) *Env {
	e := d.Env(addr)
	e.a = a
	d.actors[addr] = e
	e.Do(func() { a.Start(e) })
	return e
}

// Actor returns the Env of the actor added at addr, or nil if there is none (or it crashed).
func (d *Driver) Actor(addr actor.Addr) *Env { return d.actors[addr] }

// Crash removes the actor at addr: its timers and pending answers never run, and calls to addr
// fail as to an address without an actor.
func (d *Driver) Crash(addr actor.Addr) {
	if e := d.actors[addr]; e != nil {
		e.dead = true
		delete(d.actors, addr)
	}
}

// RunFor runs everything due within dur of virtual time and leaves the clock dur later.
func (d *Driver) RunFor(dur time.Duration) {
	end := d.now.Add(dur)
	for d.queue.due(end) {
		d.step()
	}
	d.now = end
}

// Call makes one call from from to to (adding an actor that does nothing at from if there is
// none) and runs the driver until its answer, or its timeout, arrives.
func (d *Driver) Call(from, to actor.Addr, req actor.Request, timeout time.Duration) (actor.Response, error) {
	caller := d.actors[from]
	if caller == nil {
		caller = d.Add(from, nopActor{})
	}
	var (
		resp actor.Response
		err  error
		got  bool
	)
	caller.Do(func() {
		caller.Call(to, req, timeout, func(r actor.Response, e error) { resp, err, got = r, e, true })
	})
	for !got && len(d.queue) > 0 {
		d.step()
	}
	return resp, err
}

// EventsOf picks the events of type T from obs, in order.
func EventsOf[T actor.Event](obs []Observed) []T {
	var out []T
	for _, o := range obs {
		if ev, ok := o.Event.(T); ok {
			out = append(out, ev)
		}
	}
	return out
}

func (d *Driver) schedule(at time.Time, f func()) uint64 {
	d.seq++
	d.queue.push(item{at: at, seq: d.seq, f: f})
	return d.seq
}

func (d *Driver) step() {
	it := d.queue.pop()
	d.now = it.at
	it.f()
}

// addrSeed derives an actor's random stream from its address alone, so that adding an actor
// does not change what the others draw.
func addrSeed(addr actor.Addr) uint64 {
	h := fnv.New64a()
	b, _ := addr.MarshalBinary() // never fails
	_, _ = h.Write(b)
	return h.Sum64()
}

// Env is one actor's actor.Env on a Driver.
type Env struct {
	d       *Driver
	self    actor.Addr
	a       actor.Actor // nil for an Env made with Driver.Env
	rng     *rand.Rand
	cursor  time.Time      // Now within a callback, moved by Work
	pending []pendingTimer // the timers that neither fired nor were stopped
	dead    bool
}

// Do runs f on the actor's loop now, as a driver runs its runner's commands (Start, Send, ...).
func (e *Env) Do(f func()) {
	if e.dead {
		return
	}
	e.cursor = e.d.now
	f()
}

func (e *Env) Self() actor.Addr { return e.self }
func (e *Env) Now() time.Time   { return e.cursor }
func (e *Env) Rand() *rand.Rand { return e.rng }

// Work moves the actor's clock: what it does next in this callback happens cost later.
func (e *Env) Work(cost time.Duration) { e.cursor = e.cursor.Add(cost) }

func (e *Env) Observe(ev actor.Event) {
	if !e.d.Quiet {
		e.d.Events.Add(e.cursor, e.self, ev)
	}
}

// StopTimer implements actor.TimerStopper.
// A stopped timer leaves the queue at once, so that its callback is not kept until it was due.
func (e *Env) StopTimer(id uint64) bool {
	k := e.findTimer(id)
	if k < 0 {
		return false
	}
	at := e.pending[k].at
	e.pending = slices.Delete(e.pending, k, k+1)
	e.d.queue.remove(at, id)
	return true
}

// pendingTimer is a timer that neither fired nor was stopped, and when it is due. An actor
// has a few at a time, so a slice searched in order is smaller than a map and as quick: memory
// benchmarks count the driver's share of each actor.
type pendingTimer struct {
	id uint64
	at time.Time
}

// findTimer is where timer id is in the pending timers, or -1.
func (e *Env) findTimer(id uint64) int {
	return slices.IndexFunc(e.pending, func(t pendingTimer) bool { return t.id == id })
}

func (e *Env) After(d time.Duration, f func()) actor.Timer {
	var id uint64
	at := e.cursor.Add(max(d, 0))
	id = e.d.schedule(at, func() {
		if k := e.findTimer(id); k >= 0 {
			e.pending = slices.Delete(e.pending, k, k+1)
			e.Do(f)
		}
	})
	e.pending = append(e.pending, pendingTimer{id: id, at: at})
	return actor.NewTimer(id, e)
}

func (e *Env) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	d := e.d
	call := -1
	if !d.Quiet {
		call = len(d.Calls)
		d.Calls = append(d.Calls, Call{From: e.self, To: to, Req: req})
	}
	deadline := e.cursor.Add(timeout)
	var tmo uint64
	finish := func(resp actor.Response, err error) {
		if done == nil {
			return
		}
		f := done
		done = nil
		// An answered call's timeout goes, as the simulator's does: queued until the deadline it
		// would keep the caller's callback, and what that holds, alive.
		d.queue.remove(deadline, tmo)
		e.Do(func() { f(resp, err) })
	}
	tmo = d.schedule(deadline, func() { finish(actor.Response{}, actor.ErrTimeout) })
	d.schedule(e.cursor.Add(d.Latency), func() {
		answer := func(at time.Time, resp actor.Response) {
			if call >= 0 {
				d.Calls[call].Resp, d.Calls[call].Answered = resp, true
			}
			d.schedule(at.Add(d.Latency), func() { finish(resp, nil) })
		}
		dst := d.actors[to]
		switch {
		case dst != nil:
			r := &responder{respond: func(resp actor.Response) { answer(dst.cursor, resp) }}
			dst.Do(func() { dst.a.Handle(e.self, req, r) })
		case d.Serve != nil:
			if resp, ok := d.Serve(e.self, to, req); ok {
				answer(d.now, resp)
			}
		default:
			finish(actor.Response{}, actor.ErrUnreachable)
		}
	})
}

// responder passes on the first response only, as actor.Responder requires.
type responder struct {
	respond func(actor.Response)
	sent    bool
}

func (r *responder) Respond(resp actor.Response) {
	if !r.sent {
		r.sent = true
		r.respond(resp)
	}
}

type nopActor struct{}

func (nopActor) Start(actor.Env)                                   {}
func (nopActor) Handle(actor.Addr, actor.Request, actor.Responder) {}

type item struct {
	at  time.Time
	seq uint64
	f   func()
}

// queue holds what is scheduled, ordered by time and then by the order it was scheduled in,
// latest first, so that the next item to run is the last one.
type queue []item

// latestFirst orders the queue: by time, then by sequence, both descending.
func latestFirst(e, t item) int {
	if c := t.at.Compare(e.at); c != 0 {
		return c
	}
	return cmp.Compare(t.seq, e.seq)
}

func (q *queue) push(it item) {
	i, _ := slices.BinarySearchFunc(*q, it, latestFirst)
	*q = slices.Insert(*q, i, it)
}

// remove drops the item scheduled at at as seq, if it is still queued.
func (q *queue) remove(at time.Time, seq uint64) {
	if i, ok := slices.BinarySearchFunc(*q, item{at: at, seq: seq}, latestFirst); ok {
		*q = slices.Delete(*q, i, i+1)
	}
}

// due reports whether an item is due at or before t.
func (q queue) due(t time.Time) bool { return len(q) > 0 && !q[len(q)-1].at.After(t) }

func (q *queue) pop() item {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = item{} // the backing array must not keep the callback alive
	*q = old[:len(old)-1]
	return it
}
