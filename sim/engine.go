// Package sim is the deterministic simulation engine: a virtual clock, an event queue ordered by
// (time, key), hosts with CPU cores and network links, and actors that run on them through the
// actor.Env seam.
//
// Callbacks run one at a time per host. Time advances only from event to event, and every random
// draw comes from a stream derived from (seed, name), so one seed gives one run, byte for byte,
// whatever GOMAXPROCS is. An event's key is (the number of the actor that scheduled it, that
// actor's own count of events), world functions first: it breaks ties in time by what the
// scheduling actor itself did, never by how other actors' events happened to interleave.
//
// That is what lets one world run on several workers (Config.Workers) with the result of one:
// hosts are partitioned into groups, each with its own queue, which the N workers claim; from
// the earliest pending event T, the workers run every group's events before T + the network's
// MinLatency (a window) in parallel, since no message can cross from another host sooner; what
// they send to other hosts and what actors observe is handed over at the window's end, merged
// in the order one worker would have produced it; world functions run alone between windows
// (parallel.go). On one worker everything runs on the caller's goroutine.
//
// An actor's Env is its view of the engine. Within one callback, Now starts at the event's time and
// moves forward only through Work, which queues on the host's cores: what the actor does after
// Work (send, reply, set a timer) happens when the work is done. Messages cross the link model, a
// Network the engine is given (or an ideal network of fixed latency): a Call's request and its
// response each take a Transit, and Call's done runs exactly once, with the response, ErrTimeout
// or ErrUnreachable (wrapped in an *actor.CallError).
//
// The engine is built for worlds of ~100,000 actors, where time goes into memory latency rather
// than arithmetic. Per-event work allocates nothing in steady state: events are 24-byte values
// in a calendar queue (queue.go), timers and calls live in pooled records named by slot and
// generation, and call deadlines wait in per-duration FIFO lanes because most are cancelled
// (lane.go).
package sim

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// DefaultEpoch is where virtual time starts unless Config.Epoch says otherwise.
var DefaultEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Config sets up an Engine. The zero value of a field means its default.
type Config struct {
	// Seed drives every random stream of the run.
	Seed uint64
	// Epoch is the virtual time the run starts at. Default: DefaultEpoch (2025-01-01T00:00:00Z).
	Epoch time.Time
	// Network is the link model messages cross; the engine adds every host to it, in AddHost.
	// Nil means an ideal network where every message takes Latency.
	Network Network
	// Latency is the one-way delay of every message when Network is nil. Zero is a valid value:
	// messages then arrive at the instant they are sent, after the events already due then.
	Latency time.Duration
	// DefaultTimeout applies to calls made with a timeout <= 0. Default: 30 s.
	DefaultTimeout time.Duration
	// Cores is the number of CPU cores of hosts whose HostConfig leaves it 0. Default: 1.
	Cores int
	// Progress, if set, is called during runs every ProgressEvents events and whenever virtual
	// time has moved ProgressInterval past the previous call.
	Progress func(Progress)
	// ProgressEvents defaults to 1,000,000.
	ProgressEvents uint64
	// ProgressInterval defaults to one virtual second.
	ProgressInterval time.Duration
	// Workers is the number of workers (goroutines, one per core) the hosts are spread over;
	// 0 or 1 means one. More need a network with a minimum latency between hosts; without one
	// the engine runs on one worker and Engine.Workers says why. The result is the same for
	// every number of workers, provided that actors on different hosts share nothing they
	// change, and that actor callbacks leave the engine's own methods (At, AfterFunc, Spawn,
	// Crash, ...) to world functions. With more than one, sinks and Progress are called at the
	// end of each window (in the one-worker order, with each event's own time), when the
	// engine's clock has moved on to the window's end.
	Workers int
}

// Defaults for Config.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultProgressEvents   = 1_000_000
	DefaultProgressInterval = time.Second
	maxCores                = 4096
)

// Progress is what a progress hook is told.
type Progress struct {
	Now     time.Time     // current virtual time
	Elapsed time.Duration // virtual time since the epoch
	Events  uint64        // events run so far
}

// Sink receives the events actors report with Env.Observe, with the virtual time and the
// reporting actor's address.
type Sink func(at time.Time, from actor.Addr, ev actor.Event)

// Stats counts what the engine did.
type Stats struct {
	// Events is the number of callbacks run: timers, world functions, requests handled, calls
	// completed. Cancelled timers and superseded timeouts are not counted.
	Events uint64
	// Calls is the number of Env.Call invocations by live actors.
	Calls uint64
	// Responses counts calls completed with a response.
	Responses uint64
	// TimedOut counts calls completed with ErrTimeout.
	TimedOut uint64
	// Unreachable counts calls completed with ErrUnreachable.
	Unreachable uint64
	// LateReplies counts responses that arrived after their call had timed out, and were dropped.
	LateReplies uint64
	// Lost counts requests and responses the network dropped in flight (a connection that gave
	// up after repeated loss, or a partition that started while the call was open).
	Lost uint64
	// Queued is the number of entries in the event queue: cancelled ones not yet discarded
	// included, and each lane of call deadlines counted once.
	Queued int
}

// Engine runs one simulated world. It is not safe for concurrent use: the world calls it from one
// goroutine, and with several workers it runs their goroutines only inside its Run methods, and
// calls the world's functions, sinks and progress hook from the goroutine that called them.
type Engine struct {
	cfg     Config
	net     Network
	latency int64
	timeout time.Duration

	epoch, now int64  // unix ns
	worldSeq   uint64 // events scheduled by world functions so far: their keys' counter
	started    uint64 // actors started so far, incarnations included: their numbers in keys
	q          *eventQueue
	stale      int // queue entries known to be cancelled

	timers     []timerRec
	timerFree  []uint32
	callChunks []*[callChunk]callRec
	ncalls     uint32
	callFree   []uint32
	lanes      []lane
	lastLane   int

	hosts   []hostRec
	cores   []int64 // per host, cores[coreOff:coreOff+ncores]: unix ns at which each core is free
	byIP    map[netip.Addr]HostID
	nextIP  uint32
	actors4 actorTable               // IPv4 actors by actor.AddrKey
	actors6 map[actor.Addr]*actorEnv // the others

	held map[*actorEnv][]event // the events of paused actors, until they resume (pause.go)

	current *actorEnv // actor whose callback is running, nil in world functions
	cursor  int64     // the running actor's clock: the event's time moved on by its Work
	running bool
	sinks   []Sink
	stats   Stats

	progEvents uint64
	progAt     int64

	// Several workers (parallel.go). The engine the world talks to is their coordinator: it
	// keeps the world functions' queue and the tables of hosts and actors, and each group of
	// hosts an Engine of its own for its hosts' events (below, a worker is such a group).
	par         *parallel
	coordinator bool
	oneWorker   string     // why one worker runs although more were asked for
	shard       uint32     // a worker's number
	last        event      // a worker's latest event, in key order: the tag of what it sends
	outbox      []parcel   // a worker's messages of the current window, in the order it sent them
	to          [][]uint32 // to[i]: the places in outbox of the messages to worker i's hosts
	from        []int      // a worker's place in each worker's to[its number] while it lands
	seen        []sighting // a worker's observations of the current window
	panicked    any        // what a worker's callback panicked with, for the coordinator
}

// timerRec is a pending After or At callback.
type timerRec struct {
	f     func()
	owner *actorEnv // nil for world functions
	gen   uint32
}

// New creates an engine with no hosts.
func New(cfg Config) (*Engine, error) {
	if cfg.Epoch.IsZero() {
		cfg.Epoch = DefaultEpoch
	}
	if cfg.Epoch.Year() < 1700 || cfg.Epoch.Year() > 2200 {
		return nil, fmt.Errorf("sim: epoch %v is outside the years 1700-2200 that virtual time can hold", cfg.Epoch)
	}
	if cfg.Latency < 0 {
		return nil, fmt.Errorf("sim: negative latency %v", cfg.Latency)
	}
	if cfg.DefaultTimeout < 0 {
		return nil, fmt.Errorf("sim: negative default timeout %v", cfg.DefaultTimeout)
	}
	if cfg.Cores < 0 || cfg.Cores > maxCores {
		return nil, fmt.Errorf("sim: %d cores per host; use 1 to %d", cfg.Cores, maxCores)
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("sim: %d workers; use 1 or more", cfg.Workers)
	}
	if cfg.ProgressInterval < 0 {
		return nil, fmt.Errorf("sim: negative progress interval %v", cfg.ProgressInterval)
	}
	cfg.DefaultTimeout = cmp.Or(cfg.DefaultTimeout, DefaultTimeout)
	cfg.Cores = cmp.Or(cfg.Cores, 1)
	cfg.ProgressEvents = cmp.Or(cfg.ProgressEvents, DefaultProgressEvents)
	cfg.ProgressInterval = cmp.Or(cfg.ProgressInterval, DefaultProgressInterval)
	e := &Engine{
		cfg:     cfg,
		net:     cfg.Network,
		latency: int64(cfg.Latency),
		timeout: cfg.DefaultTimeout,
		epoch:   cfg.Epoch.UnixNano(),
		q:       new(eventQueue),
		byIP:    make(map[netip.Addr]HostID),
		actors6: make(map[actor.Addr]*actorEnv),
	}
	e.now = e.epoch
	e.q.start(e.now)
	e.progEvents = cfg.ProgressEvents
	e.progAt = e.now + int64(cfg.ProgressInterval)
	e.setUpWorkers(cfg.Workers)
	return e, nil
}

// Seed is the run's seed.
func (e *Engine) Seed() uint64 { return e.cfg.Seed }

// Now is the current virtual time.
func (e *Engine) Now() time.Time { return unixTime(e.now) }

// Epoch is the virtual time the run started at.
func (e *Engine) Epoch() time.Time { return unixTime(e.epoch) }

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// Stats reports the counters so far.
// With several workers Queued counts each worker's lanes once.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Queued = e.q.len()
	if e.coordinator {
		for _, w := range e.par.groups {
			ws := w.stats
			s.Events += ws.Events
			s.Calls += ws.Calls
			s.Responses += ws.Responses
			s.TimedOut += ws.TimedOut
			s.Unreachable += ws.Unreachable
			s.LateReplies += ws.LateReplies
			s.Lost += ws.Lost
			s.Queued += w.q.len()
		}
	}
	return s
}

// AddSink registers a receiver of observed events. Sinks run in registration order.
func (e *Engine) AddSink(s Sink) {
	if s != nil {
		e.sinks = append(e.sinks, s)
		e.share()
	}
}

// At runs f at virtual time t (now, if t is in the past), outside any actor. The returned timer
// cancels it.
func (e *Engine) At(t time.Time, f func()) actor.Timer {
	return e.after(nil, clampTime(t), f)
}

// AfterFunc runs f once d of virtual time has passed, outside any actor.
func (e *Engine) AfterFunc(d time.Duration, f func()) actor.Timer {
	return e.after(nil, e.now+int64(max(d, 0)), f)
}

func clampTime(t time.Time) int64 {
	switch {
	case t.Year() < 1700:
		return math.MinInt64
	case t.Year() > 2200:
		return math.MaxInt64
	}
	return t.UnixNano()
}

func (e *Engine) after(owner *actorEnv, at int64, f func()) actor.Timer {
	if f == nil {
		return actor.Timer{}
	}
	if owner == nil && e.par != nil && e.par.inWindow {
		panic("sim: At or AfterFunc called from an actor's callback while workers run; with several workers only world functions and sinks may schedule world functions")
	}
	slot, ok := e.newTimer()
	if !ok {
		return actor.Timer{}
	}
	rec := &e.timers[slot]
	rec.f, rec.owner = f, owner
	e.schedule(at, kindTimer, slot, rec.gen, owner)
	return actor.NewTimer(uint64(rec.gen)<<32|uint64(slot), e)
}

func (e *Engine) newTimer() (uint32, bool) {
	if n := len(e.timerFree); n > 0 {
		slot := e.timerFree[n-1]
		e.timerFree = e.timerFree[:n-1]
		return slot, true
	}
	if len(e.timers) >= maxSlots {
		return 0, false
	}
	e.timers = append(e.timers, timerRec{gen: 1})
	return uint32(len(e.timers) - 1), true
}

func (e *Engine) releaseTimer(slot uint32) {
	rec := &e.timers[slot]
	rec.f, rec.owner = nil, nil
	rec.gen++
	if rec.gen == 0 {
		rec.gen = 1
	}
	e.timerFree = append(e.timerFree, slot)
}

// StopTimer implements actor.TimerStopper.
func (e *Engine) StopTimer(id uint64) bool {
	slot, gen := uint32(id), uint32(id>>32)
	if int(slot) >= len(e.timers) || e.timers[slot].gen != gen || e.timers[slot].f == nil {
		return false
	}
	e.releaseTimer(slot)
	e.cancelled()
	return true
}

// schedule queues an event made on behalf of origin (an actor, or nil for a world function);
// times in the past run now.
func (e *Engine) schedule(at int64, k kind, slot, gen uint32, origin *actorEnv) {
	e.push(at, e.key(origin), k, slot, gen)
}

// push queues an event whose key is taken.
func (e *Engine) push(at int64, seq uint64, k kind, slot, gen uint32) {
	e.q.push(event{at: max(at, e.now), seq: seq, ref: slot<<kindBits | uint32(k), gen: gen})
}

// originBits is the room a key leaves for its origin's own count of events; the origin's number
// takes the rest, which bounds the actors a run may start (incarnations included) to
// 2^(64-originBits) - 1.
const (
	originBits = 40
	maxActors  = 1<<(64-originBits) - 1
)

// key is the tie-break of the next event origin schedules: (the actor's number, counted from 1
// in the order actors were started, and its own count of events), world functions (nil, number
// 0) first. It depends only on what the origin itself has done, never on the order in which
// other actors' events ran, so the order of events is the same whichever hosts share a queue:
// the property that lets hosts run on several workers with one result. The count lives in the
// actor's own record, which the event touches anyway.
func (e *Engine) key(origin *actorEnv) uint64 {
	if origin == nil {
		e.worldSeq++
		return e.worldSeq
	}
	origin.keys++
	return origin.keys
}

// cancelled notes one more dead entry in the queue and sweeps the queue when they are many, so
// that timers stopped and calls answered long before their deadline do not slow every push and
// pop. The sweep keeps (time, seq) order, so it cannot change what runs when.
func (e *Engine) cancelled() {
	e.stale++
	if e.stale < 1024 || e.stale < e.q.len()/2 {
		return
	}
	e.q.filter(e.live)
	e.stale = 0
}

func (e *Engine) live(ev *event) bool {
	slot := ev.slot()
	switch ev.kind() {
	case kindTimer:
		return e.timers[slot].gen == ev.gen
	case kindLane, kindLate:
		return true
	}
	return e.call(slot).gen == ev.gen
}

// Step runs the next queued event (or discards it if it was cancelled). It reports false when
// the queue is empty. Step must not be called from inside a callback. With several workers it
// runs every event of the earliest instant any host or world function has one.
func (e *Engine) Step() bool {
	if e.running {
		return false
	}
	if e.coordinator {
		t, ok := e.nextWorkerEvent()
		if e.q.len() > 0 && (!ok || e.q.peek().at < t) {
			t, ok = e.q.peek().at, true
		}
		if ok {
			e.RunUntil(unixTime(t))
		}
		return ok
	}
	if e.q.len() == 0 {
		return false
	}
	e.running = true
	e.step()
	e.running = false
	return true
}

// RunUntil runs every event due at or before t, then leaves the clock at t (if t is later than
// now). It must not be called from inside a callback; there it returns at once.
func (e *Engine) RunUntil(t time.Time) {
	if e.running {
		return
	}
	end := clampTime(t)
	e.running = true
	if e.coordinator {
		e.runParallel(end)
	} else {
		for e.q.len() > 0 && e.q.peek().at <= end {
			e.step()
		}
	}
	e.running = false
	if end > e.now {
		e.now = end
	}
	if e.coordinator {
		for _, w := range e.par.groups {
			w.now = e.now
		}
	}
}

// RunFor runs for d of virtual time from now.
func (e *Engine) RunFor(d time.Duration) {
	e.RunUntil(unixTime(e.now + int64(max(d, 0))))
}

// Run runs until no event is left. A world with periodic timers never empties: use RunUntil.
func (e *Engine) Run() {
	if e.running {
		return
	}
	if e.coordinator {
		e.RunUntil(unixTime(math.MaxInt64))
		return
	}
	e.running = true
	for e.q.len() > 0 {
		e.step()
	}
	e.running = false
}

func (e *Engine) step() {
	ev := e.q.pop()
	e.now = ev.at
	e.dispatch(ev)
	if e.cfg.Progress != nil && (e.stats.Events >= e.progEvents || e.now >= e.progAt) {
		e.progEvents = e.stats.Events + e.cfg.ProgressEvents
		e.progAt = e.now + int64(e.cfg.ProgressInterval)
		e.cfg.Progress(Progress{Now: unixTime(e.now), Elapsed: time.Duration(e.now - e.epoch), Events: e.stats.Events})
	}
}

// dispatch runs one event popped from the queue, at its time.
func (e *Engine) dispatch(ev event) {
	slot := ev.slot()
	switch ev.kind() {
	case kindTimer:
		e.fireTimer(slot, ev.gen)
	case kindRequest:
		e.deliverRequest(e.call(slot))
	case kindResponse:
		e.deliverResponse(e.call(slot))
	case kindTimeout:
		e.expire(e.call(slot), ev.gen)
	case kindFail:
		e.failCall(e.call(slot))
	case kindLane:
		e.fireLane(slot)
	case kindLate:
		e.stats.LateReplies++
	}
}

func (e *Engine) fireTimer(slot, gen uint32) {
	rec := &e.timers[slot]
	if rec.gen != gen {
		e.stale--
		return
	}
	f, owner := rec.f, rec.owner
	if owner != nil && owner.paused {
		owner.hold(kindTimer, slot, gen)
		return
	}
	e.releaseTimer(slot)
	if owner == nil {
		e.stats.Events++
		f()
		return
	}
	if !owner.alive {
		return
	}
	e.stats.Events++
	fr := e.enter(owner)
	f()
	e.leave(fr)
}

// frame is what enter saves of the running callback, for leave to restore: callbacks nest when
// a callback spawns, stops or invokes another actor.
type frame struct {
	a      *actorEnv
	cursor int64
}

// enter makes a the running actor, its clock starting at the event's time.
func (e *Engine) enter(a *actorEnv) frame {
	fr := frame{e.current, e.cursor}
	if a != e.current {
		e.cursor = e.now
	}
	e.current = a
	return fr
}

func (e *Engine) leave(fr frame) { e.current, e.cursor = fr.a, fr.cursor }
