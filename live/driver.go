package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Config is the driver's set-up. The zero value of a field takes the default its comment names.
type Config struct {
	// Timeout is a call's timeout when the caller gives none (default 10s, as the simulator's),
	// and how long the body of a request from a client that is no actor may take to arrive.
	Timeout time.Duration
	// MaxConnsPerPeer bounds the connections one actor keeps to one peer (default 4); further
	// calls wait for a free connection, within their timeout.
	MaxConnsPerPeer int
	// MaxBody is the largest request or response body accepted, in bytes (default 16 MiB, above
	// the storage server's largest request); a larger request is answered 413, a larger response
	// fails its call (actor.ErrUnreachable).
	MaxBody int64
	// SpinWork makes Env.Work burn the CPU for its cost (a busy loop on the actor's goroutine)
	// instead of doing nothing. Off by default: real cryptography does its own work.
	SpinWork bool
	// Codec encodes the bodies that are Go values (default NewCodec(): bytes only).
	Codec *Codec
	// Translate lets actors live at any addresses (the world's, as placed for the simulator):
	// each gets a loopback address of its own to bind and dial from, and the driver translates
	// in both directions, so actors only ever see world addresses. Without it, actors must be
	// spawned at loopback addresses (127.x.y.z).
	Translate bool
	// WrapConn, if set, wraps every connection an actor dials or accepts, with the actor's own
	// address as local: the link model's hook (linkconn.Model.Wrap). Both addresses are world
	// addresses (see Translate).
	WrapConn func(c net.Conn, local, remote netip.Addr) net.Conn
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxConnsPerPeer <= 0 {
		c.MaxConnsPerPeer = 4
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 16 << 20
	}
	if c.Codec == nil {
		c.Codec = NewCodec()
	}
	return c
}

// Sink receives observed events, as the simulator's sinks do (same signature).
type Sink func(at time.Time, from actor.Addr, ev actor.Event)

// Stats counts what the driver did; every field only grows.
type Stats struct {
	Calls       uint64 // Env.Call made
	Responses   uint64 // calls answered
	TimedOut    uint64 // calls ended by their timeout (a response after it is dropped)
	Unreachable uint64 // calls that found nothing listening, or whose connection failed
	Handled     uint64 // requests delivered to an actor's Handle
}

// Driver runs actors in real time on loopback sockets. Make one with New and Close it.
type Driver struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	world sync.Mutex // held by sinks, world timers and Do (see the package comment)
	sinks []Sink

	addrs *addrTable // nil unless Config.Translate

	mu     sync.Mutex
	actors map[actor.Addr]*env
	timers timerSet // the world timers (AfterFunc)

	calls, responses, timedOut, unreachable, handled atomic.Uint64
	closed                                           atomic.Bool
}

// New starts a driver.
func New(cfg Config) *Driver {
	ctx, cancel := context.WithCancel(context.Background())
	d := &Driver{cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, actors: map[actor.Addr]*env{}}
	if cfg.Translate {
		d.addrs = newAddrTable()
	}
	return d
}

// SocketAddr is where the actor at world address addr has its socket (addr itself without
// Config.Translate).
func (d *Driver) SocketAddr(addr actor.Addr) actor.Addr {
	return netip.AddrPortFrom(d.addrs.real(addr.Addr()), addr.Port())
}

// Now is the wall clock.
func (d *Driver) Now() time.Time { return time.Now() }

// AddSink registers a receiver of observed events; add sinks before spawning actors.
func (d *Driver) AddSink(s Sink) {
	d.world.Lock()
	defer d.world.Unlock()
	if s != nil {
		d.sinks = append(d.sinks, s)
	}
}

// Stats reports the counters so far.
func (d *Driver) Stats() Stats {
	return Stats{Calls: d.calls.Load(), Responses: d.responses.Load(), TimedOut: d.timedOut.Load(), Unreachable: d.unreachable.Load(), Handled: d.handled.Load()}
}

// Do runs f now under the world lock: with no event sink and no world timer running.
func (d *Driver) Do(f func()) {
	d.world.Lock()
	defer d.world.Unlock()
	f()
}

// AfterFunc runs f under the world lock once d has passed, outside any actor.
func (d *Driver) AfterFunc(after time.Duration, f func()) actor.Timer {
	id := d.timers.after(after, func(id uint64) {
		if d.timers.take(id) && !d.closed.Load() {
			d.Do(f)
		}
	})
	return actor.NewTimer(id, d)
}

// StopTimer cancels a world timer (actor.TimerStopper).
func (d *Driver) StopTimer(id uint64) bool { return d.timers.stop(id) }

// Spawn starts actor a listening at addr (a loopback address, 127.x.y.z, unless
// Config.Translate) and runs its Start on
// its own goroutine. name is for errors and logs. Spawning where an actor was crashed or
// stopped starts a new incarnation there.
func (d *Driver) Spawn(addr actor.Addr, name string, a actor.Actor) error {
	if a == nil {
		return errors.New("live: spawn of a nil actor")
	}
	if !addr.IsValid() || addr.Port() == 0 {
		return fmt.Errorf("live: spawn of %s at %v: an address needs an IP and a port", name, addr)
	}
	if d.closed.Load() {
		return fmt.Errorf("live: spawn of %s: the driver is closed", name)
	}
	d.mu.Lock()
	if old := d.actors[addr]; old != nil && old.alive.Load() {
		d.mu.Unlock()
		return fmt.Errorf("live: spawn of %s at %v: an actor already runs there; Crash or Stop it first", name, addr)
	}
	d.mu.Unlock()
	e, err := d.newEnv(addr, name, a)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.actors[addr] = e
	d.mu.Unlock()
	return nil
}

func (d *Driver) liveEnv(addr actor.Addr) (*env, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.actors[addr]
	if e == nil || !e.alive.Load() || e.stopping.Load() {
		return nil, fmt.Errorf("no actor runs at %v", addr)
	}
	return e, nil
}

// Alive reports whether an actor runs at addr.
func (d *Driver) Alive(addr actor.Addr) bool {
	_, err := d.liveEnv(addr)
	return err == nil
}

// Invoke queues f as a callback of the actor at addr, as if one of its timers had fired. Unlike
// the simulator's, it returns before f has run: a world function holding the world lock must
// not wait for an actor that may be waiting for that lock to report an event.
func (d *Driver) Invoke(addr actor.Addr, f func()) error {
	e, err := d.liveEnv(addr)
	if err != nil {
		return fmt.Errorf("live: invoke: %w", err)
	}
	e.mb.post(func() {
		if e.alive.Load() {
			f()
		}
	})
	return nil
}

// Crash kills the actor at addr without warning: its listener and connections close (callers
// see a reset), its timers never fire and its calls never call back.
func (d *Driver) Crash(addr actor.Addr) error {
	e, err := d.liveEnv(addr)
	if err != nil {
		return fmt.Errorf("live: crash: %w", err)
	}
	e.kill()
	return nil
}

// Pause freezes the actor at addr, as SIGSTOP freezes a process: its sockets stay open and
// accept, but nothing it would run does (requests to it, its timers, the outcomes of its calls
// queue in its mailbox), so its callers time out; Resume runs what queued, in order. Pausing a
// paused actor is refused.
func (d *Driver) Pause(addr actor.Addr) error {
	e, err := d.liveEnv(addr)
	if err != nil {
		return fmt.Errorf("live: pause: %w", err)
	}
	if e.paused.Swap(true) {
		return fmt.Errorf("live: pause: the actor at %v is paused already", addr)
	}
	e.mb.setPaused(true)
	return nil
}

// Resume lets the paused actor at addr run again: what it missed while paused runs now.
func (d *Driver) Resume(addr actor.Addr) error {
	e, err := d.liveEnv(addr)
	if err != nil {
		return fmt.Errorf("live: resume: %w", err)
	}
	if !e.paused.Swap(false) {
		return fmt.Errorf("live: resume: the actor at %v is not paused", addr)
	}
	e.mb.setPaused(false)
	return nil
}

// Paused reports whether the actor at addr runs but is paused.
func (d *Driver) Paused(addr actor.Addr) bool {
	e, err := d.liveEnv(addr)
	return err == nil && e.paused.Load()
}

// Stop shuts the actor at addr down gracefully: its Stop runs on its goroutine (it may still
// reply or send), then it is gone as after Crash. Stop returns at once; Alive is false from now.
func (d *Driver) Stop(addr actor.Addr) error {
	e, err := d.liveEnv(addr)
	if err != nil {
		return fmt.Errorf("live: stop: %w", err)
	}
	e.stopping.Store(true)
	if e.paused.Swap(false) {
		e.mb.setPaused(false) // a frozen process takes its signal once it runs again
	}
	e.mb.post(func() {
		if s, ok := e.a.(actor.Stopper); ok {
			s.Stop()
		}
		// Let the replies and sends Stop made leave before the sockets close.
		go func() {
			time.Sleep(100 * time.Millisecond)
			e.kill()
		}()
	})
	return nil
}

// Close crashes every actor, cancels every timer and call, and waits for the actors'
// goroutines to end.
func (d *Driver) Close() {
	if d.closed.Swap(true) {
		return
	}
	d.cancel()
	d.mu.Lock()
	envs := make([]*env, 0, len(d.actors))
	for _, e := range d.actors {
		envs = append(envs, e)
	}
	d.mu.Unlock()
	d.timers.stopAll()
	for _, e := range envs {
		e.kill()
	}
	for _, e := range envs {
		<-e.mb.done
	}
}

func (d *Driver) observe(at time.Time, from actor.Addr, ev actor.Event) {
	d.world.Lock()
	defer d.world.Unlock()
	for _, s := range d.sinks {
		s(at, from, ev)
	}
}
