package client

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// world is a small deterministic driver for the client's unit tests: a virtual clock, timers in
// a heap, calls answered by a handler after a fixed latency. End-to-end tests use the real
// engine and nodes; this one lets a test script every answer.
type world struct {
	now     time.Time
	latency time.Duration
	seq     uint64
	queue   wqueue
	// serve answers a call (status, body) or drops it (ok false: the caller times out).
	serve  func(from, to actor.Addr, req actor.Request) (resp actor.Response, ok bool)
	events []actor.Event
	calls  int
	quiet  bool // do not record events (memory measurements)
}

type witem struct {
	at  time.Time
	seq uint64
	f   func()
}

type wqueue []witem

func (q wqueue) Len() int { return len(q) }
func (q wqueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q wqueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *wqueue) Push(x any)   { *q = append(*q, x.(witem)) }
func (q *wqueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = witem{} // the backing array must not keep the callback alive
	*q = old[:len(old)-1]
	return x
}

var epoch0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newWorld() *world { return &world{now: epoch0, latency: 20 * time.Millisecond} }

func (w *world) at(t time.Time, f func()) uint64 {
	w.seq++
	heap.Push(&w.queue, witem{at: t, seq: w.seq, f: f})
	return w.seq
}

func (w *world) runFor(d time.Duration) {
	end := w.now.Add(d)
	for w.queue.Len() > 0 && !w.queue[0].at.After(end) {
		it := heap.Pop(&w.queue).(witem)
		w.now = it.at
		it.f()
	}
	w.now = end
}

// env is one actor's view of the world.
type env struct {
	w       *world
	self    actor.Addr
	rng     *rand.Rand
	cursor  time.Time
	pending map[uint64]bool // timers not yet fired or stopped
	work    time.Duration
}

func (w *world) env(self actor.Addr, seed uint64) *env {
	return &env{w: w, self: self, rng: rand.New(rand.NewPCG(seed, 42)), cursor: w.now, pending: map[uint64]bool{}}
}

// do runs f on the actor's loop now (what a driver does for the runner's commands).
func (e *env) do(f func()) {
	e.cursor = e.w.now
	f()
}

func (e *env) Self() actor.Addr { return e.self }
func (e *env) Now() time.Time   { return e.cursor }
func (e *env) Rand() *rand.Rand { return e.rng }
func (e *env) Work(c time.Duration) {
	e.cursor = e.cursor.Add(c)
	e.work += c
}
func (e *env) Observe(ev actor.Event) {
	if !e.w.quiet {
		e.w.events = append(e.w.events, ev)
	}
}

func (e *env) StopTimer(id uint64) bool {
	if !e.pending[id] {
		return false
	}
	delete(e.pending, id)
	return true
}

func (e *env) After(d time.Duration, f func()) actor.Timer {
	var id uint64
	id = e.w.at(e.cursor.Add(max(d, 0)), func() {
		if !e.pending[id] {
			return
		}
		delete(e.pending, id)
		e.do(f)
	})
	e.pending[id] = true
	return actor.NewTimer(id, e)
}

func (e *env) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	e.w.calls++
	resp, ok := e.w.serve(e.self, to, req)
	if !ok || e.w.latency*2 > timeout {
		e.w.at(e.cursor.Add(timeout), func() { e.do(func() { done(actor.Response{}, actor.ErrTimeout) }) })
		return
	}
	e.w.at(e.cursor.Add(2*e.w.latency), func() { e.do(func() { done(resp, nil) }) })
}

// eventsOf returns the observed events of type T.
func eventsOf[T actor.Event](w *world) []T {
	var out []T
	for _, ev := range w.events {
		if t, ok := ev.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
