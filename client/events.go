package client

import (
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// Cause says why a node or a path was dropped.
type Cause uint8

const (
	CauseStrikes       Cause = iota + 1 // the node failed cfg.NodeStrikes times
	CauseNotFound                       // a relay answered "Next node not found" for it
	CausePathFailures                   // the path failed cfg.PathFailures times
	CauseLeftPool                       // a pool refresh no longer lists the node
	CauseNoReplacement                  // a hop was dropped and the pool had no node to replace it
	CauseGuardLifetime                  // the guard reached Config.GuardLifetime (the node stays in the pool)
	CauseFreshGuards                    // another path was dropped and Config.FreshGuardsOnDrop gave up every guard (the node stays in the pool)
)

var causeNames = enum.Names[Cause]{Type: "Cause", Names: []string{
	CauseStrikes: "strikes", CauseNotFound: "next-node-not-found", CausePathFailures: "path-failures",
	CauseLeftPool: "left-pool", CauseNoReplacement: "no-replacement", CauseGuardLifetime: "guard-lifetime",
	CauseFreshGuards: "fresh-guards",
}}

func (c Cause) String() string { return causeNames.Name(c) }

// Failure says why a request or an operation failed; 0 is success.
type Failure uint8

const (
	OK              Failure = iota
	FailTimeout             // no answer within the timeout (charged to the path)
	FailUnreachable         // the guard could not be reached (charged to the path)
	FailPath                // a relay answered an error (502, 503, 504, ...)
	FailNoPath              // no onion path could be built
	FailNoPool              // no usable snode pool (bootstrap failed)
	FailNoSwarm             // the recipient's swarm could not be found
	FailWrongSwarm          // 421 after the retry on another member and a pool refresh
	FailRejected            // the destination refused the request (4xx/5xx other than 421)
	FailClockSkew           // 406 or 425: the node thinks the clock is wrong
	FailBadResponse         // the answer did not decrypt or parse
	FailOffline             // the client went offline while the request was out
)

var failureNames = enum.Names[Failure]{Type: "Failure", Names: []string{
	OK: "ok", FailTimeout: "timeout", FailUnreachable: "unreachable", FailPath: "path-error",
	FailNoPath: "no-path", FailNoPool: "no-pool", FailNoSwarm: "no-swarm", FailWrongSwarm: "wrong-swarm",
	FailRejected: "rejected", FailClockSkew: "clock-skew", FailBadResponse: "bad-response",
	FailOffline: "offline",
}}

func (f Failure) String() string { return failureNames.Name(f) }

// GarbageKind classifies data a client could not use. Garbage is counted and reported once per
// kind (GarbageReceived); the client carries on.
type GarbageKind uint8

const (
	GarbageMalformedResponse GarbageKind = iota // an RPC answer that does not parse
	GarbageOnionResponse                        // an onion answer that does not decrypt
	GarbageMalformedMessage                     // stored data that is not base64 / a WebSocketMessage / an Envelope
	GarbageUndecryptable                        // a sealed box that does not open with our key
	GarbageBadSignature                         // a message whose sender signature does not verify
	garbageKinds
)

var garbageNames = enum.Names[GarbageKind]{Type: "GarbageKind", Names: []string{
	GarbageMalformedResponse: "malformed-response", GarbageOnionResponse: "onion-response",
	GarbageMalformedMessage: "malformed-message", GarbageUndecryptable: "undecryptable",
	GarbageBadSignature: "bad-signature",
}}

func (g GarbageKind) String() string { return garbageNames.Name(g) }

// MessageSent: Send was called. At is the moment of the call, the start of the end-to-end
// latency (the event itself is observed once the message is encrypted, a little later). Hash is
// the message hash the recipient will see.
type MessageSent struct {
	Hash string
	To   identity.ID
	At   time.Time
	Body int  // body bytes the user typed
	Size int  // bytes stored (base64 data)
	Kind Kind // what the message carries (text unless the sender said otherwise)
}

// StoreResult: the message was stored (at least one swarm member accepted it) or every attempt
// failed.
type StoreResult struct {
	Hash     string
	To       identity.ID
	Failure  Failure // OK on success: the cause of the last failure otherwise
	Attempts int
	Node     actor.Addr // the swarm member of the last attempt
}

// MessageReceived: a message was decrypted and verified for the first time (duplicates from
// other swarm members or later polls are not reported).
type MessageReceived struct {
	Hash      string
	From      identity.ID
	Namespace int16
	Size      int
	// Background: decrypted in a poll a push notification woke the phone for (push.go).
	Background bool
}

// SyncCopyStored: the sync copy of a sent message reached the client's own swarm (Failure OK),
// or was given up.
type SyncCopyStored struct {
	Hash     string
	Failure  Failure
	Attempts int
	Node     actor.Addr // the own-swarm member of the last attempt
}

// ConfigPushed: the client stored its changed config messages in its own swarm (a sequence of
// signed stores, TTL configTTL, with a delete of the messages they supersede), or tried to.
// Stored and Failed list the config namespaces whose store succeeded or did not; Sizes the
// stored data of each namespace in Stored (bytes, before base64); Deleted the hashes the delete
// named (0 without one) and DeleteFailed whether it did not succeed; Sent whether the request
// left the client.
type ConfigPushed struct {
	Stored       []int16
	Sizes        []int
	Failed       []int16
	Deleted      int
	DeleteFailed bool
	Sent         bool
}

// ConfigExpiryResult: a poll carried an expire of the client's Hashes config messages (ConfigExpiry).
// Sent is whether the poll left the client; Status is the expire's own status in the answer (0
// without one), Members the swarm members whose part succeeded and Updated the (member, hash)
// expiries those members report changed.
type ConfigExpiryResult struct {
	Hashes  int
	Sent    bool
	Status  int
	Members int
	Updated int
}

// OnionRoundTrip: one onion request, from the guard call to the decrypted answer (or failure).
// It is observed when the answer (or the failure) arrives: the request left RTT earlier.
type OnionRoundTrip struct {
	Method string // the RPC method at the destination
	// Namespaces lists, per subrequest that names a namespace, its namespace (a poll's
	// retrieves, a store's namespace); empty for a request that names none.
	Namespaces []int16
	Guard      actor.Addr
	Dest       actor.Addr // the destination node; zero for a server
	// Server is the host name of the destination server (file, push or community server) of a
	// v4 request; empty for a node.
	Server  string
	RTT     time.Duration
	Status  int // the destination's status, or the relay's on a path error; 0 without an answer
	Failure Failure
	// Cover marks a dummy poll (Config.CoverPollsPerHour): ground truth only, nothing on the
	// wire tells it from a real poll.
	Cover bool
	// Path is every hop, guard first, as the request was sent; Account the Session ID the
	// request is for (the recipient of a store, the client itself for its polls, the owner of
	// a swarm looked up; zero when it names none); Size the request's wire size at the guard.
	// They are ground truth for leakage measurement.
	Path    []actor.Addr
	Account identity.ID
	Size    int
}

// ClockRejected: a destination refused sub-requests of one onion request with 406 (Status406 of
// them) or 425 (Status425), which the apps take for a clock out of sync. Skew is how far the
// client's network time was from the nodes' clocks when it sent the request (negative:
// behind), ground truth only.
type ClockRejected struct {
	Method    string
	Skew      time.Duration
	Status406 int
	Status425 int
}

// PathBuilt: a path was built (Rebuild false for the first set of paths).
type PathBuilt struct {
	Guard        actor.Addr
	GuardEd25519 [32]byte
	Hops         int
	Rebuild      bool
	Rebuilds     uint32 // paths rebuilt by this client so far
	// Path is every hop of the new path, guard first (a rotation keeps the guard).
	Path []actor.Addr
	// File marks a file path (Config.FilePaths), which no request uses.
	File bool
}

// PathDropped: a path and its guard were given up.
type PathDropped struct {
	Guard        actor.Addr
	GuardEd25519 [32]byte
	Cause        Cause
}

// NodeDropped: a node left this client's pool.
type NodeDropped struct {
	Node        actor.Addr
	NodeEd25519 [32]byte
	Cause       Cause
}

// PoolSource is where a pool came from.
type PoolSource uint8

const (
	FromSeeds PoolSource = iota
	FromSnodes
)

var poolSourceNames = enum.Names[PoolSource]{Type: "PoolSource", Names: []string{FromSeeds: "seeds", FromSnodes: "snodes"}}

func (s PoolSource) String() string { return poolSourceNames.Name(s) }

// PoolRefreshed: the snode pool was fetched (or the attempt failed).
type PoolRefreshed struct {
	Source  PoolSource
	Size    int // nodes in the pool afterwards
	Failure Failure
}

// SwarmLookup: a swarm was fetched with get_swarm, adopted from a 421 answer, or computed from
// the pool's swarm ids (Local, Config.LocalSwarms: no request was sent).
type SwarmLookup struct {
	Owner   identity.ID
	Members int
	From421 bool
	Local   bool
	Failure Failure
}

// GuardTested: a guard candidate answered the direct get_swarm test (or not). Account is the
// Session ID the test named (the client's own: the candidate learns it with the client's
// address), zero for a test that names none. Method is the RPC the direct test sent, empty
// when the test sent none (a candidate judged from the node list).
type GuardTested struct {
	Guard   actor.Addr
	OK      bool
	Account identity.ID
	Method  string
}

// GuardSelection: one guard selection finished: Tested candidates were tried (in rounds of as
// many as guards were missing) and Guards are the client's guards afterwards.
type GuardSelection struct {
	Tested  int
	Guards  []actor.Addr
	Failure Failure
}

// GarbageReceived: the first garbage of a kind this client saw (later ones are only counted; see
// Client.Stats).
type GarbageReceived struct {
	Kind GarbageKind
}

func (MessageSent) EventName() string        { return "client.message_sent" }
func (StoreResult) EventName() string        { return "client.store_result" }
func (MessageReceived) EventName() string    { return "client.message_received" }
func (OnionRoundTrip) EventName() string     { return "client.onion_rtt" }
func (SyncCopyStored) EventName() string     { return "client.sync_copy_stored" }
func (ConfigPushed) EventName() string       { return "client.config_pushed" }
func (ConfigExpiryResult) EventName() string { return "client.config_expiry" }
func (PathBuilt) EventName() string          { return "client.path_built" }
func (PathDropped) EventName() string        { return "client.path_dropped" }
func (NodeDropped) EventName() string        { return "client.node_dropped" }
func (PoolRefreshed) EventName() string      { return "client.pool_refreshed" }
func (SwarmLookup) EventName() string        { return "client.swarm_lookup" }
func (GuardTested) EventName() string        { return "client.guard_tested" }
func (GuardSelection) EventName() string     { return "client.guard_selection" }
func (GarbageReceived) EventName() string    { return "client.garbage" }
func (ClockRejected) EventName() string      { return "client.clock_rejected" }
