package node

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// fakeWorld is a tiny deterministic driver for unit tests: a manual clock, timers in a heap,
// calls delivered after a fixed latency, work charged by moving the actor's clock cursor. The
// network tests use the real engine; this one keeps unit tests independent of it.
type fakeWorld struct {
	now     time.Time
	latency time.Duration
	seq     uint64
	queue   fakeQueue
	actors  map[actor.Addr]*fakeEnv
	events  []observed
	calls   []fakeCall // every Call made, in order, with its answer
}

type observed struct {
	at   time.Time
	from actor.Addr
	ev   actor.Event
}

type fakeCall struct {
	from, to actor.Addr
	req      actor.Request
	resp     actor.Response
	answered bool // the callee responded (resp is its answer)
}

type fakeItem struct {
	at  time.Time
	seq uint64
	id  uint64
	f   func()
}

type fakeQueue []fakeItem

func (q fakeQueue) Len() int { return len(q) }
func (q fakeQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q fakeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *fakeQueue) Push(x any)   { *q = append(*q, x.(fakeItem)) }
func (q *fakeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func newFakeWorld() *fakeWorld {
	return &fakeWorld{now: t0, latency: 10 * time.Millisecond, actors: map[actor.Addr]*fakeEnv{}}
}

func (w *fakeWorld) schedule(at time.Time, f func()) uint64 {
	w.seq++
	heap.Push(&w.queue, fakeItem{at: at, seq: w.seq, id: w.seq, f: f})
	return w.seq
}

// add places a at addr and starts it.
func (w *fakeWorld) add(addr actor.Addr, a actor.Actor) *fakeEnv {
	e := &fakeEnv{w: w, self: addr, a: a, rng: rand.New(rand.NewPCG(uint64(len(w.actors))+1, 99)), stopped: map[uint64]bool{}}
	w.actors[addr] = e
	e.run(func() { a.Start(e) })
	return e
}

// crash removes the actor at addr: its timers never fire and calls to it time out.
func (w *fakeWorld) crash(addr actor.Addr) {
	if e := w.actors[addr]; e != nil {
		e.dead = true
		delete(w.actors, addr)
	}
}

// runFor processes events until d of virtual time has passed.
func (w *fakeWorld) runFor(d time.Duration) {
	end := w.now.Add(d)
	for w.queue.Len() > 0 && !w.queue[0].at.After(end) {
		it := heap.Pop(&w.queue).(fakeItem)
		w.now = it.at
		it.f()
	}
	w.now = end
}

type fakeEnv struct {
	w       *fakeWorld
	self    actor.Addr
	a       actor.Actor
	rng     *rand.Rand
	cursor  time.Time // Now within a callback, moved by Work
	stopped map[uint64]bool
	dead    bool
	work    time.Duration // total work charged
}

func (e *fakeEnv) run(f func()) {
	if e.dead {
		return
	}
	e.cursor = e.w.now
	f()
}

func (e *fakeEnv) Self() actor.Addr { return e.self }
func (e *fakeEnv) Now() time.Time   { return e.cursor }
func (e *fakeEnv) Rand() *rand.Rand { return e.rng }
func (e *fakeEnv) Work(c time.Duration) {
	e.cursor = e.cursor.Add(c)
	e.work += c
}
func (e *fakeEnv) Observe(ev actor.Event) {
	e.w.events = append(e.w.events, observed{at: e.cursor, from: e.self, ev: ev})
}

func (e *fakeEnv) StopTimer(id uint64) bool {
	if e.stopped[id] {
		return false
	}
	e.stopped[id] = true
	return true
}

func (e *fakeEnv) After(d time.Duration, f func()) actor.Timer {
	var id uint64
	id = e.w.schedule(e.cursor.Add(max(d, 0)), func() {
		if e.stopped[id] {
			return
		}
		e.stopped[id] = true
		e.run(f)
	})
	return actor.NewTimer(id, e)
}

type fakeResponder struct {
	done func(actor.Response)
	sent bool
}

func (r *fakeResponder) Respond(resp actor.Response) {
	if r.sent {
		return
	}
	r.sent = true
	r.done(resp)
}

func (e *fakeEnv) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	w := e.w
	call := len(w.calls)
	w.calls = append(w.calls, fakeCall{from: e.self, to: to, req: req})
	finished := false
	finish := func(resp actor.Response, err error) {
		if finished {
			return
		}
		finished = true
		e.run(func() { done(resp, err) })
	}
	w.schedule(e.cursor.Add(timeout), func() { finish(actor.Response{}, actor.ErrTimeout) })
	w.schedule(e.cursor.Add(w.latency), func() {
		dst := w.actors[to]
		if dst == nil {
			finish(actor.Response{}, actor.ErrUnreachable)
			return
		}
		r := &fakeResponder{done: func(resp actor.Response) {
			w.calls[call].resp, w.calls[call].answered = resp, true
			w.schedule(dst.cursor.Add(w.latency), func() { finish(resp, nil) })
		}}
		dst.run(func() { dst.a.Handle(e.self, req, r) })
	})
}

// direct calls a's Handle from a client at addr from and returns the response, running the
// world until it arrives (or d passes).
func (w *fakeWorld) direct(from, to actor.Addr, req actor.Request, d time.Duration) (actor.Response, error) {
	client := w.actors[from]
	if client == nil {
		client = w.add(from, nopActor{})
	}
	var (
		resp actor.Response
		err  error
		got  bool
	)
	client.run(func() {
		client.Call(to, req, d, func(r actor.Response, e error) { resp, err, got = r, e, true })
	})
	for !got && w.queue.Len() > 0 {
		it := heap.Pop(&w.queue).(fakeItem)
		w.now = it.at
		it.f()
	}
	return resp, err
}

type nopActor struct{}

func (nopActor) Start(actor.Env)                                   {}
func (nopActor) Handle(actor.Addr, actor.Request, actor.Responder) {}

func addrN(i int) actor.Addr {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 22021)
}
