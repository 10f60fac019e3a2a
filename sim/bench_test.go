package sim_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/cputime"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// pingPong calls a random peer, waits for the answer, then sleeps a random 1-20 ms and again.
// Its callbacks are bound once, so steady state allocates nothing.
type pingPong struct {
	env    actor.Env
	peers  []actor.Addr
	tick   func()
	onDone func(actor.Response, error)
}

func (p *pingPong) Start(env actor.Env) {
	p.env = env
	p.tick = p.call
	p.onDone = p.done
	env.After(time.Duration(env.Rand().IntN(20_000))*time.Microsecond, p.tick)
}

func (p *pingPong) call() {
	r := p.env.Rand()
	to := p.peers[r.IntN(len(p.peers))]
	p.env.Call(to, actor.Request{Method: "ping", Size: 200 + r.IntN(2000)}, time.Second, p.onDone)
}

func (p *pingPong) done(actor.Response, error) {
	p.env.After(time.Duration(1000+p.env.Rand().IntN(19_000))*time.Microsecond, p.tick)
}

func (p *pingPong) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 200, Size: req.Size / 2})
}

// buildPingPong makes a world of n pingPong actors, one per host, on netem when network is set
// and on the ideal network otherwise.
func buildPingPong(b testing.TB, n int, network *simlink.Network) *sim.Engine {
	return buildPingPongOn(b, n, network, 1)
}

// buildPingPongOn is buildPingPong on a number of workers.
func buildPingPongOn(b testing.TB, n int, network *simlink.Network, workers int) *sim.Engine {
	cfg := sim.Config{Seed: 1, Latency: 5 * time.Millisecond, Workers: workers}
	if network != nil {
		cfg.Network = network
	}
	e, err := sim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var picker *netem.RegionPicker
	if network != nil {
		if picker, err = netem.NewRegionPicker(network.Model().Matrix(), netem.DefaultClientWeights()); err != nil {
			b.Fatal(err)
		}
	}
	place := e.Stream("placement")
	profiles := []netem.Profile{netem.DataCentre, netem.Broadband}
	peers := make([]actor.Addr, 0, n)
	for i := range n {
		hc := sim.HostConfig{Name: fmt.Sprintf("h%d", i)}
		if network != nil {
			hc.Link = simlink.Host{Region: network.Model().Matrix().Name(picker.Draw(place)), Profile: profiles[i%len(profiles)]}
		}
		h, err := e.AddHost(hc)
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, actorAt(e, h, 1))
	}
	for i := range n {
		if _, err := e.Spawn(sim.HostID(i), 1, "", &pingPong{peers: peers}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up past the 1 s call timeout: the queue, the lanes and the pools reach their
	// steady-state size.
	e.RunFor(1500 * time.Millisecond)
	return e
}

func benchEngine(b *testing.B, network *simlink.Network) {
	const actors = 10_000
	e := buildPingPong(b, actors, network)
	runtime.GC()
	start := e.Stats().Events
	b.ReportAllocs()
	cpu0 := cputime.Used()
	for b.Loop() {
		e.Step()
	}
	cpu := cputime.Used() - cpu0
	events := e.Stats().Events - start
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(e.Now().Sub(e.Epoch()).Seconds(), "virtual-s")
}

// BenchmarkEngineRaw: timer and message events between 10,000 actors on the ideal network. One
// op is one queue entry (a callback, or a superseded timeout discarded).
func BenchmarkEngineRaw(b *testing.B) { benchEngine(b, nil) }

// BenchmarkEngineNetem: the same traffic through netem: region matrix, jittered access links,
// bandwidth queues on both ends.
func BenchmarkEngineNetem(b *testing.B) {
	network, err := simlink.New(netem.Config{})
	if err != nil {
		b.Fatal(err)
	}
	benchEngine(b, network)
}

// BenchmarkWorkers runs the pingPong workload at 10,000 actors on one worker and on two, in
// alternating slices of 20 ms of virtual time so that both see the same machine load (one op is
// a slice on each), on the ideal network (5 ms latency: windows of 5 ms) and on netem (the
// matrix's shortest one-way delay, 1 ms, is the window). speedup is events/s on two workers over
// events/s on one; both runs produce the same events. events/cpu-s counts the CPU time of the
// whole process (both workers) while each engine runs.
func BenchmarkWorkers(b *testing.B) {
	for _, withNetem := range []bool{false, true} {
		name := "ideal"
		if withNetem {
			name = "netem"
		}
		b.Run(name, func(b *testing.B) {
			const actors, slice = 10_000, 20 * time.Millisecond
			var engines [2]*sim.Engine
			for i := range engines {
				var network *simlink.Network
				if withNetem {
					var err error
					if network, err = simlink.New(netem.Config{}); err != nil {
						b.Fatal(err)
					}
				}
				engines[i] = buildPingPongOn(b, actors, network, i+1)
			}
			runtime.GC()
			var wall, cpu [2]time.Duration
			var events [2]uint64
			for b.Loop() {
				for i, e := range engines {
					n0, w0, c0 := e.Stats().Events, time.Now(), cputime.Used()
					e.RunFor(slice)
					wall[i] += time.Since(w0)
					cpu[i] += cputime.Used() - c0
					events[i] += e.Stats().Events - n0
				}
			}
			if events[0] != events[1] {
				b.Fatalf("one worker ran %d events, two ran %d", events[0], events[1])
			}
			rate := func(i int) float64 { return float64(events[i]) / max(wall[i].Seconds(), 1e-9) }
			b.ReportMetric(rate(0), "events/s-1worker")
			b.ReportMetric(rate(1), "events/s-2workers")
			b.ReportMetric(rate(1)/rate(0), "speedup")
			// What the second worker costs in CPU: the handover and the waits at each window.
			if cpu[0] > 0 && cpu[1] > 0 {
				b.ReportMetric(float64(events[0])/cpu[0].Seconds(), "events/cpu-s-1worker")
				b.ReportMetric(float64(events[1])/cpu[1].Seconds(), "events/cpu-s-2workers")
			}
		})
	}
}

// BenchmarkActorMemory reports the heap held per actor (host, actor record, streams, address
// map entries) in a world of 10,000 hosts with one idle actor each.
func BenchmarkActorMemory(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		network, err := simlink.New(netem.Config{})
		if err != nil {
			b.Fatal(err)
		}
		e, err := sim.New(sim.Config{Network: network})
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			h, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "eu-central-1", Profile: netem.Broadband}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.Spawn(h, 1, "", idle{}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/actor")
		runtime.KeepAlive(e)
	}
}

type idle struct{}

func (idle) Start(actor.Env)                                   {}
func (idle) Handle(actor.Addr, actor.Request, actor.Responder) {}

// BenchmarkEngine100k runs the pingPong workload at 100,000 actors on the engine and on
// heapWorld, the same workload on a plain typed binary heap, in alternating slices of 2 ms of
// virtual time, so that both see the same machine load. One op is one slice on each. Both count
// events as Stats().Events does: one per callback run (timer, request handled, call completed).
// speedup is the engine's events/s over the heap's.
func BenchmarkEngine100k(b *testing.B) {
	const actors = 100_000
	const slice = 2 * time.Millisecond
	e := buildPingPong(b, actors, nil)
	h := newHeapWorld(1, actors, 5*time.Millisecond, func(peers []actor.Addr) actor.Actor { return &pingPong{peers: peers} })
	h.runFor(1500 * time.Millisecond)
	runtime.GC()
	var eWall, hWall, eCPU, hCPU time.Duration
	var eEvents, hEvents uint64
	b.ReportAllocs()
	for b.Loop() {
		n0, w0, c0 := e.Stats().Events, time.Now(), cputime.Used()
		e.RunFor(slice)
		w1, c1 := time.Now(), cputime.Used()
		eWall, eCPU, eEvents = eWall+w1.Sub(w0), eCPU+c1-c0, eEvents+e.Stats().Events-n0
		m0 := h.events
		h.runFor(slice)
		hWall, hCPU, hEvents = hWall+time.Since(w1), hCPU+cputime.Used()-c1, hEvents+h.events-m0
	}
	rate := func(n uint64, d time.Duration) float64 { return float64(n) / max(d.Seconds(), 1e-9) }
	b.ReportMetric(rate(eEvents, eWall), "events/s")
	b.ReportMetric(rate(hEvents, hWall), "heap-events/s")
	if eCPU > 0 && hCPU > 0 {
		b.ReportMetric(rate(eEvents, eCPU), "events/cpu-s")
		b.ReportMetric(rate(hEvents, hCPU), "heap-events/cpu-s")
		b.ReportMetric(rate(eEvents, eCPU)/rate(hEvents, hCPU), "speedup-cpu")
	}
	b.ReportMetric(rate(eEvents, eWall)/rate(hEvents, hWall), "speedup")
}

// TestHeapBaselineRunsTheSameWorkload checks that BenchmarkEngine100k compares like with like:
// on the same pingPong actors, the baseline runs as many events per virtual second as the
// engine, counted the same way (its own draws differ, so the counts agree within a percent).
func TestHeapBaselineRunsTheSameWorkload(t *testing.T) {
	const actors = 2000
	e := buildPingPong(t, actors, nil)
	h := newHeapWorld(1, actors, 5*time.Millisecond, func(peers []actor.Addr) actor.Actor { return &pingPong{peers: peers} })
	h.runFor(1500 * time.Millisecond)
	n0, m0 := e.Stats().Events, h.events
	e.RunFor(2 * time.Second)
	h.runFor(2 * time.Second)
	engine, heap := float64(e.Stats().Events-n0), float64(h.events-m0)
	// Each actor's cycle is a 5 ms request, a 5 ms response and a 1-20 ms pause: 3 events in
	// 20.5 ms on average.
	require.InEpsilon(t, actors*2*3/0.0205, engine, 0.02, "the engine's rate")
	assert.InEpsilon(t, engine, heap, 0.01, "the same events per virtual second")
	assert.Zero(t, e.Stats().TimedOut, "no call outlasts its second")
}

// heapWorld is the baseline of BenchmarkEngine100k: the simplest engine that is still a fair
// one, running the same pingPong actors through the same actor.Env. One typed binary heap of
// 24-byte events ordered by (time, seq), with no interfaces or closures in the queue; timers and
// calls in pooled records named by slot; actors found by address in a map; no allocation per
// event once its slices have grown. A call's deadline is removed from the heap (by its tracked
// index) when the answer comes, so the heap holds about two entries per actor rather than one
// per open deadline; a stopped timer's entry is discarded when it comes up.
type heapWorld struct {
	latency, now int64
	seq, events  uint64
	heap         []hEvent
	envs         []*hEnv
	byAddr       map[actor.Addr]*hEnv
	timers       []hTimer
	timerFree    []uint32
	calls        []*hCall
	callFree     []uint32
}

type hEvent struct {
	at  int64
	seq uint64
	ref uint32 // slot<<2 | kind
	gen uint32 // a timer's generation: a stopped timer's entry is stale
}

// hRef packs a slot and an event kind into hEvent.ref.
func hRef(slot, kind uint32) uint32 { return slot<<2 | kind }

const (
	hTimerEv = iota
	hRequestEv
	hResponseEv
	hTimeoutEv
)

type hTimer struct {
	f   func()
	gen uint32
}

type hCall struct {
	w              *heapWorld
	slot           uint32
	tmoAt          int32 // heap index of the deadline, -1 when it is not queued
	inFlight       bool  // the request or its response is queued
	finished       bool  // done has run
	caller, callee *hEnv
	req            actor.Request
	resp           actor.Response
	done           func(actor.Response, error)
}

// hEnv is an actor's view of heapWorld.
type hEnv struct {
	w    *heapWorld
	act  actor.Actor
	self actor.Addr
	rng  rand.Rand
	pcg  rand.PCG
}

// newHeapWorld starts n actors at 10.x.y.z:1, made by newActor from the list of their addresses.
func newHeapWorld(seed uint64, n int, latency time.Duration, newActor func(peers []actor.Addr) actor.Actor) *heapWorld {
	w := &heapWorld{latency: int64(latency), byAddr: map[actor.Addr]*hEnv{}}
	peers := make([]actor.Addr, n)
	for i := range n {
		peers[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1)
	}
	for i := range n {
		env := &hEnv{w: w, act: newActor(peers), self: peers[i]}
		env.pcg.Seed(seed, uint64(i))
		env.rng = *rand.New(&env.pcg)
		w.envs = append(w.envs, env)
		w.byAddr[peers[i]] = env
	}
	for _, env := range w.envs {
		env.act.Start(env)
	}
	return w
}

func (w *heapWorld) runFor(d time.Duration) {
	end := w.now + int64(d)
	for len(w.heap) > 0 && w.heap[0].at <= end {
		ev := w.heap[0]
		w.remove(0)
		w.now = ev.at
		slot := ev.ref >> 2
		switch ev.ref & 3 {
		case hTimerEv:
			t := &w.timers[slot]
			if t.gen != ev.gen {
				continue // stopped
			}
			f := t.f
			w.StopTimer(uint64(t.gen)<<32 | uint64(slot))
			w.events++
			f()
		case hRequestEv:
			c := w.calls[slot]
			w.events++
			c.callee.act.Handle(c.caller.self, c.req, c)
		case hResponseEv:
			c := w.calls[slot]
			c.inFlight = false
			if c.tmoAt >= 0 {
				w.remove(int(c.tmoAt))
				c.tmoAt = -1
			}
			w.finish(c, c.resp, nil)
		case hTimeoutEv:
			c := w.calls[slot]
			c.tmoAt = -1
			w.finish(c, actor.Response{}, actor.ErrTimeout)
		}
	}
	w.now = end
}

// finish runs a call's done once, and frees its record when nothing queued refers to it.
func (w *heapWorld) finish(c *hCall, resp actor.Response, err error) {
	done := c.done
	if !c.finished {
		c.finished = true
		w.events++
		done(resp, err)
	}
	if !c.inFlight && c.tmoAt < 0 {
		*c = hCall{w: w, slot: c.slot, tmoAt: -1}
		w.callFree = append(w.callFree, c.slot)
	}
}

func (w *heapWorld) StopTimer(id uint64) bool {
	t := &w.timers[uint32(id)]
	if t.gen != uint32(id>>32) {
		return false
	}
	t.f = nil
	t.gen++
	w.timerFree = append(w.timerFree, uint32(id))
	return true
}

func (a *hEnv) Self() actor.Addr       { return a.self }
func (a *hEnv) Now() time.Time         { return unixNano(a.w.now) }
func (a *hEnv) Rand() *rand.Rand       { return &a.rng }
func (a *hEnv) Work(time.Duration)     {}
func (a *hEnv) Observe(ev actor.Event) {}
func unixNano(ns int64) time.Time      { return time.Unix(0, ns).UTC() }

func (a *hEnv) After(d time.Duration, f func()) actor.Timer {
	w := a.w
	var slot uint32
	if n := len(w.timerFree); n > 0 {
		slot, w.timerFree = w.timerFree[n-1], w.timerFree[:n-1]
	} else {
		slot = uint32(len(w.timers))
		w.timers = append(w.timers, hTimer{})
	}
	t := &w.timers[slot]
	t.f = f
	w.push(hEvent{at: w.now + int64(max(d, 0)), ref: hRef(slot, hTimerEv), gen: t.gen})
	return actor.NewTimer(uint64(t.gen)<<32|uint64(slot), w)
}

func (a *hEnv) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	w := a.w
	var c *hCall
	if n := len(w.callFree); n > 0 {
		c, w.callFree = w.calls[w.callFree[n-1]], w.callFree[:n-1]
	} else {
		c = &hCall{w: w, slot: uint32(len(w.calls)), tmoAt: -1}
		w.calls = append(w.calls, c)
	}
	c.caller, c.callee, c.req, c.done = a, w.byAddr[to], req, done
	w.push(hEvent{at: w.now + int64(timeout), ref: hRef(c.slot, hTimeoutEv)})
	c.inFlight = true
	w.push(hEvent{at: w.now + w.latency, ref: hRef(c.slot, hRequestEv)})
}

// Respond sends the answer back (pingPong answers at once, from Handle).
func (c *hCall) Respond(resp actor.Response) {
	c.resp = resp
	c.w.push(hEvent{at: c.w.now + c.w.latency, ref: hRef(c.slot, hResponseEv)})
}

func (w *heapWorld) before(a, b *hEvent) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// set puts ev at heap index i, keeping a deadline's index in its call.
func (w *heapWorld) set(i int, ev hEvent) {
	w.heap[i] = ev
	if ev.ref&3 == hTimeoutEv {
		w.calls[ev.ref>>2].tmoAt = int32(i)
	}
}

func (w *heapWorld) push(ev hEvent) {
	w.seq++
	ev.seq = w.seq
	w.heap = append(w.heap, ev)
	w.up(len(w.heap)-1, ev)
}

// remove takes out the entry at index i, moving the last entry into its place.
func (w *heapWorld) remove(i int) {
	n := len(w.heap) - 1
	last := w.heap[n]
	w.heap = w.heap[:n]
	if i == n {
		return
	}
	if i > 0 && w.before(&last, &w.heap[(i-1)/2]) {
		w.up(i, last)
	} else {
		w.down(i, last)
	}
}

func (w *heapWorld) up(i int, ev hEvent) {
	for i > 0 {
		p := (i - 1) / 2
		if !w.before(&ev, &w.heap[p]) {
			break
		}
		w.set(i, w.heap[p])
		i = p
	}
	w.set(i, ev)
}

func (w *heapWorld) down(i int, ev hEvent) {
	n := len(w.heap)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && w.before(&w.heap[c+1], &w.heap[c]) {
			c++
		}
		if !w.before(&w.heap[c], &ev) {
			break
		}
		w.set(i, w.heap[c])
		i = c
	}
	w.set(i, ev)
}
