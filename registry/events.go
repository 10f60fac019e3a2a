package registry

import (
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// Events the registry reports with Env.Observe. They are small values; sinks switch on the type.

// BlockEvent is a new block.
type BlockEvent struct {
	Height         uint64
	Hash           [32]byte
	Active         int  // active nodes after the block
	Decommissioned int  // decommissioned nodes after the block
	Swarms         int  // swarms after the block
	Changed        bool // the list changed (someone joined, left, changed state or swarm)
}

func (BlockEvent) EventName() string { return "registry.block" }

// Registered is a node that became active through registration.
type Registered struct {
	Node   [32]byte
	Height uint64
}

func (Registered) EventName() string { return "registry.registered" }

// SwarmChanged is a node whose swarm changed: From is swarm.Unassigned for a node placed for
// the first time (or recommissioned), To is swarm.Unassigned for a node that left the active set.
type SwarmChanged struct {
	Node     [32]byte
	From, To swarm.ID
	Height   uint64
}

func (SwarmChanged) EventName() string { return "registry.swarm_changed" }

// SwarmCreated is a swarm id that did not exist before the block.
type SwarmCreated struct {
	Swarm  swarm.ID
	Height uint64
}

func (SwarmCreated) EventName() string { return "registry.swarm_created" }

// SwarmDissolved is a swarm id that no longer exists after the block.
type SwarmDissolved struct {
	Swarm  swarm.ID
	Height uint64
}

func (SwarmDissolved) EventName() string { return "registry.swarm_dissolved" }

// Reason says why a node failed its obligations or left.
type Reason uint8

// Reasons, combinable.
const (
	// ReasonUptimeProof: the last uptime proof is older than UptimeProofMaxAge.
	ReasonUptimeProof Reason = 1 << iota
	// ReasonUnreachable: reachability tests failed for longer than DecommissionAfter.
	ReasonUnreachable
	// ReasonCreditExhausted: a decommissioned node's credit ran out.
	ReasonCreditExhausted
	// ReasonLeft: the operator unregistered the node.
	ReasonLeft
)

func (r Reason) String() string {
	s := ""
	add := func(bit Reason, name string) {
		if r&bit != 0 {
			if s != "" {
				s += "+"
			}
			s += name
		}
	}
	add(ReasonUptimeProof, "uptime_proof")
	add(ReasonUnreachable, "unreachable")
	add(ReasonCreditExhausted, "credit_exhausted")
	add(ReasonLeft, "left")
	if s == "" {
		return "none"
	}
	return s
}

// Decommissioned is a node taken out of its swarm for failing its obligations, with enough
// credit to come back.
type Decommissioned struct {
	Node   [32]byte
	Reason Reason
	Credit time.Duration // credit when decommissioned
	Height uint64
}

func (Decommissioned) EventName() string { return "registry.decommissioned" }

// Recommissioned is a decommissioned node that passes again; it rejoins through the swarm
// assignment.
type Recommissioned struct {
	Node   [32]byte
	Credit time.Duration // credit it restarts with
	Height uint64
}

func (Recommissioned) EventName() string { return "registry.recommissioned" }

// Deregistered is a node removed from the list for good.
type Deregistered struct {
	Node   [32]byte
	Reason Reason
	Height uint64
}

func (Deregistered) EventName() string { return "registry.deregistered" }

// ListPublished is a list delivered to the nodes (ListDelay after its block).
type ListPublished struct {
	Height uint64
	Nodes  int // funded nodes in the list
	Pushes int // addresses it was pushed to
}

func (ListPublished) EventName() string { return "registry.list_published" }

// SeedRequest is a client's bootstrap request (/json_rpc) at a seed node: the seed learns the
// client's address and when it bootstrapped. Ground truth for leakage measurement.
type SeedRequest struct {
	From netip.Addr
	Size int // the request's wire size
}

func (SeedRequest) EventName() string { return "registry.seed_request" }
