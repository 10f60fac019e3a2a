package node

import (
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// Events a node observes (env.Observe). They are small values: sinks count them for metrics
// and join the onion ones across nodes to measure what a coalition learns.

// Source says how a message reached a node.
type Source uint8

const (
	// FromClient: stored by a client request to this node (directly or as onion destination).
	FromClient Source = iota + 1
	// FromReplica: forwarded by the swarm member a client stored it with.
	FromReplica
	// FromSwarmPush: pushed when swarms changed (newcomer dump, new swarm, dissolved swarm).
	FromSwarmPush
)

var sourceNames = enum.Names[Source]{Type: "Source", Names: []string{FromClient: "client", FromReplica: "replica", FromSwarmPush: "swarm-push"}}

func (s Source) String() string { return sourceNames.Name(s) }

// MessageStored: a message was written here, or its hash was already known (New false; the
// expiry may have been extended).
type MessageStored struct {
	Hash      string
	Owner     [33]byte
	Namespace int16
	Size      int
	Expiry    int64 // ms since the epoch, after this store
	New       bool
	Source    Source
}

func (MessageStored) EventName() string { return "node.message_stored" }

// MonitorServed: a push server's monitor.messages request was answered: how many of its
// subscriptions were accepted (new or renewed) and refused. From is the subscriber.
type MonitorServed struct {
	From     netip.Addr
	Accepted int
	Refused  int
}

func (MonitorServed) EventName() string { return "node.monitor_served" }

// NotifySent: the node announced a newly stored message to a subscriber (notify.message);
// Size is the notice's wire size.
type NotifySent struct {
	Hash  string
	Owner [33]byte
	To    netip.Addr
	Size  int
}

func (NotifySent) EventName() string { return "node.notify_sent" }

// ReplicationSent: a recursive request (a store, delete, expire ...) was forwarded to a swarm
// member. Attempt is 0 for the first forward, then 1, 2, ... for retries.
type ReplicationSent struct {
	Method string
	Hash   string // the message hash, for stores
	// Owner is the account the request acts on (zero for one that names none), so that a sink
	// can charge the forward to the client whose request caused it.
	Owner   [33]byte
	Peer    [32]byte
	Attempt int
}

func (ReplicationSent) EventName() string { return "node.replication_sent" }

// ReplicationDone: a swarm member answered a forwarded request. OK is a 2xx answer; otherwise
// Status is the peer's status (0 for a timeout or unreachable peer), and Retry says whether
// the forward is kept for another attempt.
type ReplicationDone struct {
	Method  string
	Hash    string
	Peer    [32]byte
	Attempt int
	OK      bool
	Status  int
	Timeout bool
	Retry   bool
}

func (ReplicationDone) EventName() string { return "node.replication_done" }

// ReplicationDropped: a kept forward was given up (the peer left the swarm, the message
// expired, the peer refused it, or it got too old).
type ReplicationDropped struct {
	Method  string
	Hash    string
	Peer    [32]byte
	Attempt int
	Reason  string
}

func (ReplicationDropped) EventName() string { return "node.replication_dropped" }

// MoveReason says why data moves between nodes on a swarm change.
type MoveReason uint8

const (
	// MoveNewMember: a member's data for a node that joined its swarm.
	MoveNewMember MoveReason = iota + 1
	// MoveNewSwarm: data now owned by a swarm that did not exist before.
	MoveNewSwarm
	// MoveDissolved: everything a node of a dissolved swarm held, to the new owners.
	MoveDissolved
)

var moveReasonNames = enum.Names[MoveReason]{Type: "MoveReason", Names: []string{MoveNewMember: "new-member", MoveNewSwarm: "new-swarm", MoveDissolved: "dissolved"}}

func (r MoveReason) String() string { return moveReasonNames.Name(r) }

// SwarmDataMoved: one batch of messages sent to another node because swarms changed. Bytes is
// the push's size on the wire; OK is whether the receiver acknowledged it.
type SwarmDataMoved struct {
	To       [32]byte
	Reason   MoveReason
	Messages int
	Bytes    int
	OK       bool
}

func (SwarmDataMoved) EventName() string { return "node.swarm_data_moved" }

// SwarmChanged: the node applied a new service-node list that changed its swarm situation.
type SwarmChanged struct {
	Height     uint64
	Old, New   swarm.ID // Unassigned when not in a swarm
	Joined     bool
	Dissolved  bool
	NewMembers int
	NewSwarms  int
}

func (SwarmChanged) EventName() string { return "node.swarm_changed" }

// ListApplied: the node took a new version of the service-node list.
type ListApplied struct {
	Height uint64
	Nodes  int
	Swarms int
	Swarm  swarm.ID // the node's swarm in it
}

func (ListApplied) EventName() string { return "node.list_applied" }

// HopRole is what a node was for one onion request.
type HopRole uint8

const (
	// HopRelay: the node forwarded the request to another node.
	HopRelay HopRole = iota + 1
	// HopDestination: the node ran the RPC inside.
	HopDestination
	// HopProxy: the node posted the request to a server.
	HopProxy
	// HopFailed: the layer could not be opened or routed.
	HopFailed
)

var hopRoleNames = enum.Names[HopRole]{Type: "HopRole", Names: []string{HopRelay: "relay", HopDestination: "destination", HopProxy: "proxy", HopFailed: "failed"}}

func (r HopRole) String() string { return hopRoleNames.Name(r) }

// OnionHop is what a node learnt from one onion request: who handed it over (the previous
// hop's IP: a client's for a guard), its hop number, and what the layer told it. This is the
// ground truth for leakage measurement (package leakage); node logic never reads it.
type OnionHop struct {
	From netip.Addr
	// Arrived is when the request reached this node, before it opened the layer; the event
	// itself is reported when the hop is done (its answer passed back), so a timing observer
	// needs both.
	Arrived time.Time
	HopNo   int
	Guard   bool // received on the client endpoint (/onion_req/v2)
	Role    HopRole
	// Next is the next node's Ed25519 key (relay).
	Next [32]byte
	// BytesIn is the request's wire size as it reached this node; BytesOut the size of the
	// answer this node sent back (0 when it sent none), which is what a link observer times.
	BytesIn, BytesOut int
	// Method and Owner are the RPC the destination ran and the account it named (for a batch,
	// the first account its subrequests name; zero when none is named).
	Method string
	Owner  [33]byte
	// Accounts is every account the destination's request named, in request order, a batch's
	// subrequests included (Owner is the first). Namespaces and Sizes list, per subrequest
	// that names a namespace, its namespace and its data size (0 for a retrieve); the hashes
	// of stored messages are in the MessageStored events the same node reports at the same
	// moment (Source FromClient).
	Accounts   [][33]byte
	Namespaces []int16
	Sizes      []int
	// Host and Target are the server a proxy posted to.
	Host   string
	Target string
	// Status is what the node answered (the RPC's status for a destination, the relay's
	// outcome otherwise).
	Status int
}

func (OnionHop) EventName() string { return "node.onion_hop" }

// RateLimited: a direct client request was refused with 429.
type RateLimited struct {
	From netip.Addr
}

func (RateLimited) EventName() string { return "node.rate_limited" }

// Via says how a request reached the node.
type Via uint8

const (
	// ViaDirect: /storage_rpc/v1.
	ViaDirect Via = iota + 1
	// ViaOnion: as an onion request's destination.
	ViaOnion
	// ViaPeer: forwarded by a swarm member.
	ViaPeer
)

var viaNames = enum.Names[Via]{Type: "Via", Names: []string{ViaDirect: "direct", ViaOnion: "onion", ViaPeer: "peer"}}

func (v Via) String() string { return viaNames.Name(v) }

// RequestServed: the node answered a storage RPC (every method, batch subrequests included),
// with its status; errors are counted from these by status.
type RequestServed struct {
	Method string
	Via    Via
	Status int
	// From and Accounts are set for a direct request (ViaDirect) at its top level only: the
	// address it came from and every account it named, a batch's subrequests included. They
	// are what a node learns of whoever asks directly (a desktop guard test names the client's
	// own Session ID); package leakage joins them over coalitions.
	From     netip.Addr
	Accounts [][33]byte
}

func (RequestServed) EventName() string { return "node.request" }

// ReachTested: the node tested another node's reachability.
type ReachTested struct {
	Target           [32]byte
	Passed           bool
	PreviousFailures int
}

func (ReachTested) EventName() string { return "node.reach_tested" }

// ExpiredSwept: the periodic sweep removed expired messages.
type ExpiredSwept struct {
	Messages int
}

func (ExpiredSwept) EventName() string { return "node.expired_swept" }

// perRequestEvent is one of the events a node reports for every request served, onion hop and
// forward answered: those a quiet node (Config.Quiet) leaves out.
type perRequestEvent interface {
	actor.Event
	RequestServed | OnionHop | ReplicationDone
}

// observePerRequest reports ev unless the node is quiet. It checks before ev is boxed into an
// actor.Event, which is most of what a quiet node spares.
func observePerRequest[E perRequestEvent](n *Node, ev E) {
	if !n.cfg.Quiet {
		n.env.Observe(ev)
	}
}
