package sim

import (
	"math/rand/v2"
	"time"
)

// Network is the link model messages cross between hosts: it says when a message arrives, or
// that it never does. The engine owns the hosts and their numbers and tells the model of each
// host as it is added; everything else about links (regions, rates, loss, partitions and
// degradations over time) belongs to the model and is configured on it directly, by whoever
// builds the world.
//
// The engine calls it from its event loop, one call at a time, with virtual times in unix
// nanoseconds. For runs to repeat, a model must answer the same calls in the same order the same
// way, drawing randomness only from the stream Transit is handed.
type Network interface {
	// AddHost attaches a new host. Hosts are numbered from 0 in the order the engine adds them,
	// so id is the number of hosts added before. link is the host's HostConfig.Link, passed on
	// untouched. An error refuses the host: the engine then adds nothing.
	AddHost(id HostID, link any) error
	// Transit carries a message of size bytes that leaves host from for host to at time at,
	// and returns when it has fully arrived, or ok=false if it never arrives (lost, or cut off
	// by a partition). r is the sending host's own random stream.
	Transit(from, to HostID, size int, at int64, r *rand.Rand) (arrive int64, ok bool)
	// Reachable reports whether two hosts can exchange messages at time at. A call between
	// hosts that cannot fails with ErrUnreachable after RTT, as a refused connection would,
	// rather than waiting for its timeout.
	Reachable(from, to HostID, at int64) bool
	// RTT is the mean round trip between two hosts over idle links: how long a caller takes to
	// learn that nothing listens at an address, or that a partition is in the way.
	RTT(from, to HostID) time.Duration

	// MinLatency is a lower bound of every Transit between two different hosts: how far in
	// virtual time hosts on different workers may run apart (Config.Workers). 0 means none is
	// known, and the engine then runs on one worker. A model that gives one must deliver a
	// message from a host to itself at once (Land returns leg.Sent): the sender's worker queues
	// it without waiting for Land.
	MinLatency() time.Duration
	// Depart and Land are Transit in two halves, for an engine on several workers: Transit(...)
	// is Land(Depart(..., r), 0), with the same draws from r in the same order. Depart is the
	// sender's side and may run concurrently for senders in different groups of hosts. Land is
	// the receiver's side and the model's accounting. Each receiver's legs land in the order a
	// one-worker engine would have called Transit. If LandApart(n) has said true, the legs of
	// receivers in different groups (host h in group h mod n) land at the same time, each
	// group's on one goroutine at a time with its number as worker, so a model keeps what Land
	// counts per group; otherwise they land one at a time, all in the one-worker order, with
	// worker 0.
	Depart(from, to HostID, size int, at int64, r *rand.Rand) Leg
	LandApart(n int) bool
	Land(leg *Leg, worker int) (arrive int64, ok bool)
}

// Leg is a message between Network.Depart and Network.Land.
type Leg struct {
	From, To HostID
	Size     int
	Sent     int64    // unix ns at which it left
	Model    [6]int64 // the model's own state between the two halves
}
