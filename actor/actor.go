// Package actor is the seam between the actors of the simulated network (service nodes, clients,
// seed nodes, the service-node list, file servers) and the drivers that run them.
//
// An actor is single-threaded and never touches the clock, the network or randomness directly:
// everything outside it comes through its Env. The in-process simulator (package sim) supplies an
// Env with virtual time and a modelled network; a real-time driver supplies one with the wall
// clock and real connections. Because the actors only see this package, the same node and client
// code runs in every mode.
//
// # Concurrency
//
// One actor's callbacks (Start, Handle, Stop, and the functions passed to After and Call) never
// run concurrently with each other, so an actor's own state needs no locks, and actors hold none.
// The simulator runs all actors on one loop, one callback at a time. The real-time driver (package
// live) gives each actor a mailbox of its own and runs its callbacks one at a time, in the order
// they arrived, on the mailbox's goroutine or, when the actor is idle, on the goroutine that
// brought the callback; so callbacks may run on different goroutines, but never two at once. An
// actor's Go methods that a world or a test calls from outside (a registry's Register, a client's
// GoOffline, ...) have to run as callbacks of that actor too (the driver's Invoke).
//
// Some state is shared between actors to save memory and work: an index of the service-node
// lists, a memo of key conversions, the clients' directory of nodes. Such an object belongs to
// the world, which makes it and hands it to the actors through their configs; none is kept in
// package-level variables. Shared objects are not safe for concurrent use, and each one's doc
// comment says what a real-time driver must serialise (or give each actor its own of); the one
// that actors change while others read it (a group chat's state, client.Group) takes a lock
// that the real-time driver's world hands it (client.Group.Guard). None of node, client and
// registry holds a mutex of its own.
// Values that cross the seam (requests, responses, published service-node lists) are immutable
// and may be read from any goroutine.
package actor

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// Addr is where an actor listens: an IP address and port, as the peers of a real node would see
// it. In the simulator the addresses are virtual; the IP is what a node learns about whoever
// connects to it, which is what leakage measurements are built on.
type Addr = netip.AddrPort

// AddrKey packs an IPv4 address and port into 48 bits, for tables that find actors by address
// on every call: a uint64 hashes and compares faster than an Addr, whose zone is a pointer.
// Other addresses report false; the key is never 0 for a real port (1 to 65535).
func AddrKey(addr Addr) (uint64, bool) {
	ip := addr.Addr()
	if !ip.Is4() {
		return 0, false
	}
	b := ip.As4()
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(addr.Port()), true
}

// Request is one call from an actor to another. Requests are values: once handed to Call the
// sender must not change Body again, and the receiver must not change it either (it may be shared
// with other receivers of the same forward). Size is the real wire size in bytes (headers
// included), which the network model uses for serialization and bandwidth.
type Request struct {
	// Method names the endpoint, for dispatch and metrics: for example "/storage_rpc/v1" or
	// "/onion_req/v2".
	Method string
	// Body is the payload: []byte on the wire formats, or a typed value in modeled crypto mode.
	Body any
	// Size is the number of bytes this request takes on the wire.
	Size int
}

// Response answers a Request. Status follows HTTP (200 OK, 421 wrong swarm, 502 next node not
// found, ...). The same immutability rules as Request apply.
type Response struct {
	Status int
	Body   any
	Size   int
}

// Responder sends the single response to one incoming request. It may be called later than the
// Handle call that received it (for example after forwarding an onion request), but at most once;
// further calls are ignored.
type Responder interface {
	Respond(Response)
}

// Timer is a pending After callback. Stop cancels it; it reports whether the callback had not run
// yet. The zero Timer is valid and stopping it does nothing.
type Timer struct {
	id      uint64
	stopper TimerStopper
}

// TimerStopper is implemented by drivers to cancel their timers by id.
type TimerStopper interface {
	StopTimer(id uint64) bool
}

// NewTimer is for drivers: it wraps a driver's timer id.
func NewTimer(id uint64, s TimerStopper) Timer { return Timer{id: id, stopper: s} }

// Stop cancels the timer; true if the callback had not yet run and now never will.
func (t Timer) Stop() bool {
	if t.stopper == nil {
		return false
	}
	return t.stopper.StopTimer(t.id)
}

// Event is something an actor observed, for metrics and leakage measurement. Events are typed
// values; sinks switch on their concrete types.
type Event interface {
	// EventName is a stable short name, used in events.jsonl and in counters.
	EventName() string
}

// Env is everything an actor may use of the outside world. All callbacks (After, Call's done,
// Handle) run on the actor's own loop, one at a time (see the package comment).
type Env interface {
	// Self is this actor's own address.
	Self() Addr
	// Now is the current time: virtual in the simulator. Within one callback it advances only
	// through Work.
	Now() time.Time
	// After runs f on this actor's loop once d has passed. d < 0 is treated as 0.
	After(d time.Duration, f func()) Timer
	// Call sends req to the actor at to. done runs exactly once on this actor's loop: with the
	// response, or with an error when no response came within timeout (ErrTimeout), the address
	// has no actor (ErrUnreachable), or the connection failed. A response arriving after the
	// timeout is dropped (and counted by the driver).
	Call(to Addr, req Request, timeout time.Duration, done func(Response, error))
	// Rand is this actor's own random stream, derived from (scenario seed, actor name), so that
	// adding an actor does not change what the others draw.
	Rand() *rand.Rand
	// Work charges cost of CPU time to this actor's host. Work queues behind earlier work on the
	// host's cores, and everything the actor does afterwards in this callback (sends, replies,
	// timers) happens when the work is done.
	Work(cost time.Duration)
	// Observe reports an event to the run's sinks (metrics, leakage ground truth).
	Observe(ev Event)
}

// Actor is one node, client or server. Start is called once, before any other method, when the
// actor comes up; Handle for every request addressed to it.
type Actor interface {
	Start(env Env)
	Handle(from Addr, req Request, r Responder)
}

// Stopper is implemented by actors that need to know when they are shut down gracefully (a node
// leaving). A crash does not call it.
type Stopper interface {
	Stop()
}
