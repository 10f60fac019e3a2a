package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// actorEnv is one incarnation of an actor at an address, and its actor.Env. A restarted actor
// gets a new actorEnv, so callbacks owed to the old one (its timers, its calls' done) are
// recognised and dropped. The fields every event reads come first and fill one cache line.
type actorEnv struct {
	e     *Engine
	a     actor.Actor
	rng   stream
	host  HostID
	port  uint16
	alive bool

	addr actor.Addr
	name string
	inc  uint32 // incarnation number at this address
}

var _ actor.Env = (*actorEnv)(nil)

// time is the actor's clock: the event's time moved on by Work within its own callback, and the
// engine's clock otherwise.
func (a *actorEnv) time() int64 {
	if e := a.e; e.current == a {
		return e.cursor
	}
	return a.e.now
}

func (a *actorEnv) Self() actor.Addr { return a.addr }
func (a *actorEnv) Now() time.Time   { return unixTime(a.time()) }
func (a *actorEnv) Rand() *rand.Rand { return &a.rng.r }

func (a *actorEnv) After(d time.Duration, f func()) actor.Timer {
	if !a.alive {
		return actor.Timer{}
	}
	return a.e.after(a, a.time()+int64(max(d, 0)), f)
}

func (a *actorEnv) Work(cost time.Duration) {
	if cost <= 0 || !a.alive {
		return
	}
	end := a.e.work(a.host, a.time(), int64(cost))
	if a.e.current == a {
		a.e.cursor = end
	}
}

func (a *actorEnv) Observe(ev actor.Event) {
	if !a.alive || len(a.e.sinks) == 0 {
		return
	}
	at := unixTime(a.time())
	for _, s := range a.e.sinks {
		s(at, a.addr, ev)
	}
}

// Spawn starts actor a at port on host h and calls its Start. name seeds the actor's random
// stream (default: the address). Spawning at an address whose actor crashed starts a new
// incarnation there, with a stream of its own.
func (e *Engine) Spawn(h HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	if int(h) >= len(e.hosts) {
		return actor.Addr{}, fmt.Errorf("sim: spawn on unknown host %d: the world has %d hosts", h, len(e.hosts))
	}
	if a == nil {
		return actor.Addr{}, errors.New("sim: spawn of a nil actor")
	}
	if port == 0 {
		return actor.Addr{}, fmt.Errorf("sim: spawn on host %s: port 0 is not an address", e.hosts[h].name)
	}
	addr := netip.AddrPortFrom(e.hosts[h].ip, port)
	var inc uint32
	if old := e.actorAt(addr); old != nil {
		if old.alive {
			return actor.Addr{}, fmt.Errorf("sim: spawn at %v: an actor already runs there; Crash, Stop or Replace it first", addr)
		}
		inc = old.inc + 1
	}
	if name == "" {
		name = addr.String()
	}
	e.start(&actorEnv{e: e, a: a, addr: addr, name: name, host: h, port: port, inc: inc})
	return addr, nil
}

func (e *Engine) start(env *actorEnv) {
	e.seedStream(&env.rng, domainActor, env.name, env.inc)
	env.alive = true
	e.setActor(env)
	fr := e.enter(env)
	env.a.Start(env)
	e.leave(fr)
}

// Crash kills the actor at addr without warning: its pending timers never fire, calls in flight
// to it time out at their callers, and calls it made never call back.
func (e *Engine) Crash(addr actor.Addr) error {
	env, err := e.liveActor(addr)
	if err != nil {
		return fmt.Errorf("sim: crash: %w", err)
	}
	env.alive = false
	return nil
}

// Stop shuts the actor at addr down gracefully: its Stop runs first (as a callback of the actor,
// so it may still reply or send), then it is gone as after Crash.
func (e *Engine) Stop(addr actor.Addr) error {
	env, err := e.liveActor(addr)
	if err != nil {
		return fmt.Errorf("sim: stop: %w", err)
	}
	if s, ok := env.a.(actor.Stopper); ok {
		fr := e.enter(env)
		s.Stop()
		e.leave(fr)
	}
	env.alive = false
	return nil
}

// Replace crashes the actor at addr if it still runs and starts a in its place, on the same host
// and with the same name; the new incarnation draws from a new random stream.
func (e *Engine) Replace(addr actor.Addr, a actor.Actor) error {
	old := e.actorAt(addr)
	if old == nil {
		return fmt.Errorf("sim: replace at %v: no actor was ever spawned there", addr)
	}
	if a == nil {
		return errors.New("sim: replace with a nil actor")
	}
	old.alive = false
	e.start(&actorEnv{e: e, a: a, addr: addr, name: old.name, host: old.host, port: old.port, inc: old.inc + 1})
	return nil
}

// Alive reports whether an actor runs at addr.
func (e *Engine) Alive(addr actor.Addr) bool {
	env := e.actorAt(addr)
	return env != nil && env.alive
}

// HostOf is the host of the actor (running or not) last spawned at addr.
func (e *Engine) HostOf(addr actor.Addr) (HostID, bool) {
	env := e.actorAt(addr)
	if env == nil {
		return 0, false
	}
	return env.host, true
}

func (e *Engine) liveActor(addr actor.Addr) (*actorEnv, error) {
	env := e.actorAt(addr)
	if env == nil || !env.alive {
		return nil, fmt.Errorf("no actor runs at %v", addr)
	}
	return env, nil
}

// actorAt finds the latest incarnation at addr. IPv4 addresses, which the engine hands out,
// are looked up by a 48-bit integer key: hashing it is much cheaper than hashing a netip.AddrPort.
func (e *Engine) actorAt(addr actor.Addr) *actorEnv {
	if k, ok := addrKey(addr); ok {
		return e.actors4[k]
	}
	return e.actors6[addr]
}

func (e *Engine) setActor(env *actorEnv) {
	if k, ok := addrKey(env.addr); ok {
		e.actors4[k] = env
		return
	}
	e.actors6[env.addr] = env
}

func addrKey(addr actor.Addr) (uint64, bool) {
	ip := addr.Addr()
	if !ip.Is4() {
		return 0, false
	}
	b := ip.As4()
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(addr.Port()), true
}
