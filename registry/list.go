package registry

import (
	"bytes"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// Peer is one funded service node as a list describes it. Active nodes have a swarm;
// decommissioned nodes are listed with swarm.Unassigned (storage servers still test them).
type Peer struct {
	Ed25519 [32]byte
	X25519  [32]byte
	// Addr is the storage server's public address: public_ip and storage_port.
	Addr actor.Addr
	// Swarm is the node's swarm; swarm.Unassigned when it is decommissioned.
	Swarm swarm.ID
	// OMQPort is the storage server's OxenMQ port (storage_lmq_port).
	OMQPort uint16
	// RegistrationHeight is the block the node registered in.
	RegistrationHeight uint64
	// StateHeight is the block the node became active in, or was decommissioned in.
	StateHeight uint64
	// LastUptimeProof is when the node's last uptime proof arrived (Unix seconds; 0 for none
	// since its last decommission).
	LastUptimeProof int64
	// DecommissionCount is how many times the node was decommissioned.
	DecommissionCount uint32
	// EarnedDowntimeBlocks is the node's downtime credit in blocks (negative when a
	// decommissioned node has used it up).
	EarnedDowntimeBlocks int64
}

// Active reports whether the peer is in a swarm.
func (p Peer) Active() bool { return p.Swarm != swarm.Unassigned }

// List is one version of the service-node list: the block it belongs to and every funded node
// (active and decommissioned), sorted by Ed25519 key. A List is immutable once published: the
// registry hands the same *List to every node, so nobody may modify it, and it holds no hidden
// state, so any number of goroutines may read it.
type List struct {
	Height    uint64
	BlockHash [32]byte
	// Time is the block's timestamp.
	Time                 time.Time
	Hardfork             [2]int
	StorageServerVersion [3]int
	Nodes                []Peer
}

// cmpKey orders Ed25519 keys bytewise: the order of a list's nodes and of the ledger's walks
// over its nodes, which keeps every block's results deterministic.
func cmpKey(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }

func comparePeer(p Peer, k [32]byte) int { return cmpKey(p.Ed25519, k) }

// Find returns the node with this Ed25519 key.
func (l *List) Find(ed [32]byte) (Peer, bool) {
	if l == nil {
		return Peer{}, false
	}
	i, ok := slices.BinarySearchFunc(l.Nodes, ed, comparePeer)
	if !ok {
		return Peer{}, false
	}
	return l.Nodes[i], true
}

// Ring is the active swarms.
func (l *List) Ring() swarm.Ring {
	if l == nil {
		return swarm.Ring{}
	}
	ids := make([]swarm.ID, 0, len(l.Nodes)/swarm.IdealSwarmSize+1)
	for _, p := range l.Nodes {
		if p.Active() {
			ids = append(ids, p.Swarm)
		}
	}
	return swarm.NewRing(ids)
}

// Members is the active nodes of swarm id, in key order.
func (l *List) Members(id swarm.ID) []Peer {
	if l == nil || id == swarm.Unassigned {
		return nil
	}
	var out []Peer
	for _, p := range l.Nodes {
		if p.Swarm == id {
			out = append(out, p)
		}
	}
	return out
}

// ActiveCount is the number of active nodes.
func (l *List) ActiveCount() int {
	if l == nil {
		return 0
	}
	n := 0
	for _, p := range l.Nodes {
		if p.Active() {
			n++
		}
	}
	return n
}
