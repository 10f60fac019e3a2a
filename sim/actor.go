package sim

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// actorEnv is one incarnation of an actor at an address, and its actor.Env. A restarted actor
// gets a new actorEnv, so callbacks owed to the old one (its timers, its calls' done) are
// recognised and dropped. The fields every event reads come first and fill one cache line.
type actorEnv struct {
	e      *Engine
	a      actor.Actor
	rng    stream
	host   HostID
	port   uint16
	alive  bool // set only through Engine.setAlive: the address table keeps a copy for callers
	paused bool // frozen (pause.go): its events wait in its engine's held

	addr actor.Addr
	name string
	inc  uint32 // incarnation number at this address
	keys uint64 // the key of the last event it scheduled (Engine.key)
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
	if e := a.e; e.par != nil {
		e.seen = append(e.seen, sighting{tag: e.mark(), at: at, from: a.addr, ev: ev})
		return
	}
	for _, s := range a.e.sinks {
		s(at, a.addr, ev)
	}
}

// Spawn starts actor a at port on host h and calls its Start. name seeds the actor's random
// stream (default: the address). Spawning at an address whose actor crashed starts a new
// incarnation there, with a stream of its own.
func (e *Engine) Spawn(h HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	e.worldOnly("Spawn")
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
	if err := e.start(&actorEnv{e: e.workerOf(h), a: a, addr: addr, name: name, host: h, port: port, inc: inc}); err != nil {
		return actor.Addr{}, err
	}
	return addr, nil
}

func (e *Engine) start(env *actorEnv) error {
	if e.started >= maxActors {
		return fmt.Errorf("sim: a run starts at most %d actors", maxActors)
	}
	e.started++
	env.keys = e.started << originBits
	e.seedStream(&env.rng, domainActor, env.name, env.inc)
	e.setActor(env)
	e.setAlive(env, true)
	e.share()
	fr := env.e.enter(env)
	env.a.Start(env)
	env.e.leave(fr)
	return nil
}

// Crash kills the actor at addr without warning: its pending timers never fire, calls in flight
// to it time out at their callers, and calls it made never call back. A paused actor dies as it
// is.
func (e *Engine) Crash(addr actor.Addr) error {
	env, err := e.liveActor("Crash", addr)
	if err != nil {
		return err
	}
	e.setAlive(env, false)
	if env.paused {
		env.thaw()
	}
	return nil
}

// Stop shuts the actor at addr down gracefully: its Stop runs first (as a callback of the actor,
// so it may still reply or send), then it is gone as after Crash.
func (e *Engine) Stop(addr actor.Addr) error {
	env, err := e.liveActor("Stop", addr)
	if err != nil {
		return err
	}
	if env.paused {
		env.thaw() // a frozen process takes its signal once it runs again
	}
	if s, ok := env.a.(actor.Stopper); ok {
		fr := env.e.enter(env)
		s.Stop()
		env.e.leave(fr)
	}
	e.setAlive(env, false)
	return nil
}

// Replace crashes the actor at addr if it still runs and starts a in its place, on the same host
// and with the same name; the new incarnation draws from a new random stream.
func (e *Engine) Replace(addr actor.Addr, a actor.Actor) error {
	e.worldOnly("Replace")
	old := e.actorAt(addr)
	if old == nil {
		return fmt.Errorf("sim: replace at %v: no actor was ever spawned there", addr)
	}
	if a == nil {
		return errors.New("sim: replace with a nil actor")
	}
	e.setAlive(old, false)
	if old.paused {
		old.thaw()
	}
	return e.start(&actorEnv{e: old.e, a: a, addr: addr, name: old.name, host: old.host, port: old.port, inc: old.inc + 1})
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

// liveActor is the running actor at addr, for the world function what (Crash, Pause, ...)
// that acts on it: it stops the run as worldOnly does where what may not be called, and its
// error, when nothing runs there, names what.
func (e *Engine) liveActor(what string, addr actor.Addr) (*actorEnv, error) {
	e.worldOnly(what)
	env := e.actorAt(addr)
	if env == nil || !env.alive {
		return nil, fmt.Errorf("sim: %s: no actor runs at %v", strings.ToLower(what), addr)
	}
	return env, nil
}

// actorAt finds the latest incarnation at addr.
func (e *Engine) actorAt(addr actor.Addr) *actorEnv {
	if k, ok := actor.AddrKey(addr); ok {
		if s := e.actors4.get(k); s != nil {
			return s.env
		}
		return nil
	}
	return e.actors6[addr]
}

// callee finds the actor a call to addr reaches, if one runs there, and its host. For IPv4
// addresses the table answers without reading the actor's record: a call's first event touches
// the callee's record anyway, and in a world of 100,000 actors reading it twice, at the call
// and 5 ms later at the delivery, costs two cache misses instead of one.
func (e *Engine) callee(addr actor.Addr) (*actorEnv, HostID, bool) {
	if k, ok := actor.AddrKey(addr); ok {
		if s := e.actors4.get(k); s != nil {
			return s.env, s.host, s.alive
		}
		return nil, 0, false
	}
	if env := e.actors6[addr]; env != nil && env.alive {
		return env, env.host, true
	}
	return nil, 0, false
}

// setAlive starts or ends env's life, in its record and in the address table's copy.
func (e *Engine) setAlive(env *actorEnv, alive bool) {
	env.alive = alive
	if k, ok := actor.AddrKey(env.addr); ok {
		e.actors4.setAlive(k, env, alive)
	}
}

func (e *Engine) setActor(env *actorEnv) {
	if k, ok := actor.AddrKey(env.addr); ok {
		e.actors4.put(k, env)
		return
	}
	e.actors6[env.addr] = env
}

// actorTable maps actor.AddrKeys to actors, for the IPv4 addresses the engine hands out (a key
// is never 0, since port 0 is refused). It is an open-addressing table with keys and values
// side by side, so a lookup usually reads a single cache line (a Go map reads its control word
// and its slot, typically two). Entries are never removed: a crashed actor stays, to be
// replaced.
type actorTable struct {
	slots []actorSlot
	n     int
	shift uint
}

type actorSlot struct {
	key   uint64 // 0: empty
	env   *actorEnv
	host  HostID // env.host
	alive bool   // env.alive (Engine.setAlive keeps them equal)
}

func (t *actorTable) index(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> t.shift)
}

// get finds key's slot: an empty one if key has none, nil if the table is empty.
func (t *actorTable) get(key uint64) *actorSlot {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.index(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key || s.key == 0 {
			return s
		}
	}
}

// setAlive copies env's life into key's slot, if env is the actor there.
func (t *actorTable) setAlive(key uint64, env *actorEnv, alive bool) {
	if s := t.get(key); s != nil && s.env == env {
		s.alive = alive
	}
}

func (t *actorTable) put(key uint64, env *actorEnv) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.index(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			*s = actorSlot{key, env, env.host, env.alive}
			return
		}
		if s.key == 0 {
			*s = actorSlot{key, env, env.host, env.alive}
			t.n++
			return
		}
	}
}

func (t *actorTable) grow() {
	old := t.slots
	size := max(64, 2*len(old))
	t.slots = make([]actorSlot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for _, s := range old {
		if s.key != 0 {
			t.put(s.key, s.env)
		}
	}
}
