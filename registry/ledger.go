package registry

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// NodeState is where a registered node stands.
type NodeState uint8

const (
	// StatePending: registered, active from the next block.
	StatePending NodeState = iota
	// StateActive: in a swarm, storing and relaying.
	StateActive
	// StateDecommissioned: failed its obligations but had credit; out of its swarm, still
	// listed and tested, back (unassigned) as soon as it passes again.
	StateDecommissioned
	// StateDeregistered: gone from the list for good.
	StateDeregistered
)

var nodeStateNames = enum.Names[NodeState]{Type: "NodeState", Names: []string{
	StatePending:        "pending",
	StateActive:         "active",
	StateDecommissioned: "decommissioned",
	StateDeregistered:   "deregistered",
}}

func (s NodeState) String() string { return nodeStateNames.Name(s) }

// Registration is what an operator registers for a node.
type Registration struct {
	// Name is the node's actor name (the world derives its keys from the scenario seed and it).
	Name    string
	Ed25519 [32]byte
	X25519  [32]byte
	// Addr is the storage server's public IP and HTTPS port.
	Addr    actor.Addr
	OMQPort uint16
	// Operator numbers the operator running the node; Region is where its host is.
	Operator int
	Region   string
}

// ReachStats are reachability reports about one node, as an oxend keeps those of its storage
// server: when the node last passed, when it last failed, and when the current run of failures
// began (zero: never).
type ReachStats struct {
	LastReachable, FirstUnreachable, LastUnreachable time.Time
}

// Record is the registry's whole view of one node.
type Record struct {
	Registration
	State NodeState
	// Swarm is the node's swarm (swarm.Unassigned unless active).
	Swarm              swarm.ID
	RegistrationHeight uint64
	// StateHeight is the block of the last state change (activation, decommission, ...).
	StateHeight uint64
	// ActiveSince is the start of the current (or, when decommissioned, the last) active period.
	ActiveSince time.Time
	// DecommissionedAt is when the current decommission began.
	DecommissionedAt  time.Time
	DecommissionCount int
	// RecommissionCredit is the credit banked at registration or the last recommission; the
	// credit grows from there with time active.
	RecommissionCredit time.Duration
	// LastProof is the last uptime proof (reset by a decommission); EffectiveProof is set on
	// recommission so the node is not judged on a stale proof at once.
	LastProof, EffectiveProof time.Time
	// Reach is the reports of every tester about the node pooled, as if one oxend received them
	// all: what ObligationsPooled judges by. In the quorum mode each validator judges by its own
	// storage server's reports instead.
	Reach ReachStats
	// Leaving: the operator unregistered the node; it leaves at the next block.
	Leaving bool
	// Halted: the node's machine stopped (Halt), its oxend with it, so it casts no more votes.
	Halted bool
}

// BlockResult is what one block did.
type BlockResult struct {
	Height uint64
	Hash   [32]byte
	// Changed: the list changed (a new List was made).
	Changed bool
	// Events are the block's events in a fixed order: the block, then per node in key order
	// (state changes, then swarm changes), then created and dissolved swarms.
	Events []actor.Event
}

// Ledger is the service-node list's state machine: registrations, reports and proofs come in,
// and every block applies the obligation rules and oxen-core's swarm assignment. It has no
// clock: every method takes the time. It is deterministic and not safe for concurrent use.
type Ledger struct {
	cfg    Config
	height uint64
	hash   [32]byte
	time   time.Time
	nodes  map[[32]byte]*Record
	// keys are the keys of nodes in key order, kept as nodes register so that a block, which
	// visits every node in that order, does not sort them again.
	keys   [][32]byte
	swarms swarm.State
	list   *List
	// dirty: something the list shows changed since the last list was made.
	dirty bool
	// views are the validators' own reachability records (quorum mode): views[tested][tester]
	// is the run of failures tester's storage server is reporting about tested. A pass deletes
	// the record, since a node whose last test passed and a node never tested vote alike, so
	// only failing pairs take memory.
	views map[[32]byte]map[[32]byte]ReachStats
	// quorums are the obligations quorums drawn and not yet voted on, by height.
	quorums map[uint64]Quorum
	// pending are the state changes the last block's quorum decided; this block applies them.
	pending map[[32]byte]stateChange
}

// NewLedger makes an empty ledger with the config's defaults filled in.
func NewLedger(cfg Config) (*Ledger, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	l := &Ledger{cfg: cfg, nodes: map[[32]byte]*Record{},
		views: map[[32]byte]map[[32]byte]ReachStats{}, quorums: map[uint64]Quorum{}}
	l.list = l.buildList()
	return l, nil
}

// Config is the ledger's config with defaults filled in.
func (l *Ledger) Config() Config { return l.cfg }

// Register records a node; it becomes active (and is placed in a swarm) in the next block. A
// deregistered node may register again; a node that is still registered may not.
func (l *Ledger) Register(r Registration) error {
	if old, ok := l.nodes[r.Ed25519]; ok && old.State != StateDeregistered {
		return fmt.Errorf("registry: node %x (%s) is already registered (%v)", r.Ed25519[:4], old.Name, old.State)
	}
	if !r.Addr.IsValid() {
		return fmt.Errorf("registry: node %x (%s): no valid storage address", r.Ed25519[:4], r.Name)
	}
	if r.X25519 == ([32]byte{}) {
		x, err := identity.Ed25519ToX25519(r.Ed25519[:])
		if err != nil {
			return fmt.Errorf("registry: node %q: %w", r.Name, err)
		}
		r.X25519 = x
	}
	if _, ok := l.nodes[r.Ed25519]; !ok {
		i, _ := slices.BinarySearchFunc(l.keys, r.Ed25519, cmpKey)
		l.keys = slices.Insert(l.keys, i, r.Ed25519)
	}
	l.nodes[r.Ed25519] = &Record{Registration: r, State: StatePending, Swarm: swarm.Unassigned}
	return nil
}

// registered is the record of a node that is registered and not deregistered; what names the
// call in the error otherwise.
func (l *Ledger) registered(ed [32]byte, what string) (*Record, error) {
	r, ok := l.nodes[ed]
	if !ok || r.State == StateDeregistered {
		return nil, fmt.Errorf("registry: %s %x: %w", what, ed[:4], errNotRegistered)
	}
	return r, nil
}

// Leave unregisters a node: it is deregistered at the next block.
func (l *Ledger) Leave(ed [32]byte) error {
	r, err := l.registered(ed, "node")
	if err != nil {
		return err
	}
	r.Leaving = true
	return nil
}

// Report records one reachability test of tested by tester, in the pooled record and in the
// tester's own. A pass clears the run of failures; a failure starts one (or extends it). Reports
// about or from nodes that are not registered are refused.
func (l *Ledger) Report(tester, tested [32]byte, passed bool, now time.Time) error {
	if _, err := l.registered(tester, "report from"); err != nil {
		return err
	}
	r, err := l.registered(tested, "report about")
	if err != nil {
		return err
	}
	r.Reach = r.Reach.record(passed, now)
	if l.cfg.Obligations != ObligationsQuorum {
		return nil
	}
	own := l.views[tested]
	if passed {
		delete(own, tester)
		if len(own) == 0 {
			delete(l.views, tested)
		}
		return nil
	}
	if own == nil {
		own = map[[32]byte]ReachStats{}
		l.views[tested] = own
	}
	own[tester] = own[tester].record(false, now)
	return nil
}

// record is s with one more test result.
func (s ReachStats) record(passed bool, now time.Time) ReachStats {
	if passed {
		s.LastReachable = now
		s.FirstUnreachable = time.Time{}
	} else {
		s.LastUnreachable = now
		if s.FirstUnreachable.IsZero() {
			s.FirstUnreachable = now
		}
	}
	return s
}

// Halt records that a node's machine stopped: its oxend, on the same machine, casts no more
// votes. The node's storage server and uptime proofs stop with the machine; the registry learns
// of those only by their absence.
func (l *Ledger) Halt(ed [32]byte) error { return l.setHalted(ed, "halt of", true) }

// Unhalt records that a halted node's machine runs again (a restart after a crash, a hang that
// ended): its oxend votes again. Its uptime proofs resume as its storage server sends them.
func (l *Ledger) Unhalt(ed [32]byte) error { return l.setHalted(ed, "unhalt of", false) }

// setHalted marks a registered node's machine down or up; what names the call in its error.
func (l *Ledger) setHalted(ed [32]byte, what string, halted bool) error {
	r, err := l.registered(ed, what)
	if err != nil {
		return err
	}
	r.Halted = halted
	return nil
}

// UptimeProof records a node's uptime proof.
func (l *Ledger) UptimeProof(ed [32]byte, now time.Time) error {
	r, err := l.registered(ed, "uptime proof from")
	if err != nil {
		return err
	}
	r.LastProof = now
	return nil
}

// reachable is oxen's reachable_stats::reachable: true if the last report passed, false if it
// failed recently, unknown (ok=false) if it failed long ago.
func (l *Ledger) reachable(s ReachStats, now time.Time) (reachable, known bool) {
	if !s.LastReachable.Before(s.LastUnreachable) {
		return true, true
	}
	if s.LastUnreachable.After(now.Add(-l.cfg.ReachFailureValidity)) {
		return false, true
	}
	return false, false
}

// unreachableFor: the node failed recently and has been failing, with no pass in between, for
// at least d.
func (l *Ledger) unreachableFor(s ReachStats, d time.Duration, now time.Time) bool {
	ok, known := l.reachable(s, now)
	if ok || !known {
		return false
	}
	return !s.FirstUnreachable.After(now.Add(-d))
}

// failing is oxen-core's obligations check (quorum_cop::check_service_node,
// cryptonote_core/service_node_quorum_cop.cpp) of r at now by an oxend whose reachability
// reports about r are reach: why it fails (0: it passes). The uptime proofs are the same for
// every oxend. Of the other checks, the simulated oxends take part in no checkpoint, pulse or
// timesync quorum and run no lokinet, so those pass.
func (l *Ledger) failing(r *Record, reach ReachStats, now time.Time) Reason {
	var why Reason
	last := r.LastProof
	if r.EffectiveProof.After(last) {
		last = r.EffectiveProof
	}
	if last.IsZero() || now.Sub(last) > l.cfg.UptimeProofMaxAge {
		why |= ReasonUptimeProof
	}
	if l.unreachableFor(reach, l.cfg.DecommissionAfter, now) {
		why |= ReasonUnreachable
	}
	return why
}

// judge is what the obligation rules make of r at now, for an oxend whose reachability reports
// about r are reach and which reckons credit at creditAt (change false: nothing), as
// quorum_cop::process_quorums votes (cryptonote_core/service_node_quorum_cop.cpp): a passing
// decommissioned node comes back (to StateActive); a failing active node goes out, decommissioned
// if its credit reaches MinimumCredit, else deregistered; a failing decommissioned node is left
// alone while it has credit and deregistered once it has none.
func (l *Ledger) judge(r *Record, reach ReachStats, now, creditAt time.Time) (to NodeState, why Reason, change bool) {
	why = l.failing(r, reach, now)
	credit := l.credit(r, creditAt)
	switch {
	case why == 0 && r.State == StateDecommissioned:
		return StateActive, 0, true
	case why == 0:
		return 0, 0, false
	case r.State == StateDecommissioned && credit >= 0:
		return 0, 0, false
	case r.State == StateDecommissioned:
		return StateDeregistered, why | ReasonCreditExhausted, true
	case credit >= l.cfg.MinimumCredit:
		return StateDecommissioned, why, true
	default:
		return StateDeregistered, why, true
	}
}

// Credit is a node's downtime credit at now: the banked credit plus what it earned while active
// (capped), minus, when decommissioned, the time it has been down. Negative once a
// decommissioned node has used it all.
func (l *Ledger) Credit(ed [32]byte, now time.Time) (time.Duration, bool) {
	r, ok := l.nodes[ed]
	if !ok {
		return 0, false
	}
	return l.credit(r, now), true
}

func (l *Ledger) credit(r *Record, now time.Time) time.Duration {
	var up time.Duration
	switch r.State {
	case StateActive:
		up = now.Sub(r.ActiveSince)
	case StateDecommissioned:
		up = r.DecommissionedAt.Sub(r.ActiveSince)
	}
	c := r.RecommissionCredit + l.earned(up)
	c = min(c, l.cfg.MaxCredit)
	if r.State == StateDecommissioned {
		c -= now.Sub(r.DecommissionedAt)
	}
	return c
}

// earned is up * CreditPerPeriod / CreditPeriod without overflowing (days of nanoseconds
// squared do not fit in 64 bits).
func (l *Ledger) earned(up time.Duration) time.Duration {
	if up <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(up), uint64(l.cfg.CreditPerPeriod))
	if hi >= uint64(l.cfg.CreditPeriod) {
		return l.cfg.MaxCredit // the quotient overflows: far beyond any cap
	}
	q, _ := bits.Div64(hi, lo, uint64(l.cfg.CreditPeriod))
	if q > uint64(l.cfg.MaxCredit) {
		return l.cfg.MaxCredit
	}
	return time.Duration(q)
}

// Block makes the next block at now: unregistered nodes leave; the state changes (decommission,
// deregistration, recommission) the obligations quorum decided in the last block are applied,
// or with ObligationsPooled every funded node registered before this block is judged at once;
// new registrations become active; if the active set changed the swarms are reassigned with
// the block hash; and in the quorum mode the block's quorum is drawn and the one drawn
// ReorgSafetyBlocks + 1 blocks before decides.
func (l *Ledger) Block(now time.Time) BlockResult {
	l.height++
	l.hash = BlockHash(l.cfg.Seed, l.height)
	l.time = now
	h := l.height
	res := BlockResult{Height: h, Hash: l.hash}

	keys := l.keys
	beforeSwarm := make(map[[32]byte]swarm.ID)
	oldIDs := l.swarms.IDs()
	activeChanged := false
	var nodeEvents []actor.Event

	leave := func(r *Record) {
		if r.State == StateActive {
			if id, ok := l.swarms.SwarmOf(r.Ed25519); ok {
				if _, seen := beforeSwarm[r.Ed25519]; !seen {
					beforeSwarm[r.Ed25519] = id
				}
			}
			l.swarms.Remove(r.Ed25519)
			activeChanged = true
		}
		r.Swarm = swarm.Unassigned
	}

	deregister := func(k [32]byte, r *Record, why Reason) {
		leave(r)
		r.State, r.StateHeight, r.Leaving = StateDeregistered, h, false
		delete(l.views, k)
		l.dirty = true
		nodeEvents = append(nodeEvents, Deregistered{Node: k, Reason: why, Height: h})
	}
	// The state changes the last block's quorum decided; the pooled mode judges here instead.
	decided := l.pending
	l.pending = nil
	for _, k := range keys {
		r := l.nodes[k]
		switch {
		case r.State == StateDeregistered || r.State == StatePending:
			continue
		case r.Leaving:
			deregister(k, r, ReasonLeft)
			continue
		}
		var to NodeState
		var why Reason
		if l.cfg.Obligations == ObligationsPooled {
			to, why, _ = l.judge(r, r.Reach, now, now)
		} else if c, ok := decided[k]; ok && canApply(r, c) {
			to, why = c.to, c.why
		}
		switch to {
		case StateDeregistered:
			deregister(k, r, why)
		case StateDecommissioned:
			credit := l.credit(r, now)
			leave(r)
			l.dirty = true
			r.State, r.StateHeight = StateDecommissioned, h
			r.DecommissionedAt = now
			r.DecommissionCount++
			// As oxend does, forget the proofs: the node must prove itself again.
			r.LastProof, r.EffectiveProof = time.Time{}, time.Time{}
			nodeEvents = append(nodeEvents, Decommissioned{Node: k, Reason: why, Credit: credit, Height: h})
		case StateActive:
			atDecomm := l.credit(r, r.DecommissionedAt)
			down := now.Sub(r.DecommissionedAt)
			r.RecommissionCredit = max(0, atDecomm-RecommissionPenalty*down)
			r.State, r.StateHeight = StateActive, h
			r.ActiveSince = now
			r.EffectiveProof = now
			l.swarms.Add(k)
			activeChanged = true
			l.dirty = true
			nodeEvents = append(nodeEvents, Recommissioned{Node: k, Credit: r.RecommissionCredit, Height: h})
		}
	}

	// Registrations of this block.
	for _, k := range keys {
		r := l.nodes[k]
		if r.State != StatePending {
			continue
		}
		r.State = StateActive
		r.RegistrationHeight, r.StateHeight = h, h
		r.ActiveSince = now
		r.RecommissionCredit = l.cfg.InitialCredit
		r.DecommissionCount = 0
		r.Reach = ReachStats{}
		if r.LastProof.IsZero() {
			// The operator's node is running when it registers: count that as its first proof.
			r.LastProof = now
		}
		l.swarms.Add(k)
		activeChanged = true
		l.dirty = true
		nodeEvents = append(nodeEvents, Registered{Node: k, Height: h})
	}

	var swarmEvents []actor.Event
	if activeChanged {
		for _, mv := range l.swarms.Block(l.hash) {
			if _, seen := beforeSwarm[mv.Key]; !seen {
				beforeSwarm[mv.Key] = mv.From
			}
		}
		l.dirty = true
	}
	// One event per node whose swarm differs from before the block, in key order.
	changedKeys := slices.SortedFunc(maps.Keys(beforeSwarm), cmpKey)
	for _, k := range changedKeys {
		to, ok := l.swarms.SwarmOf(k)
		if !ok {
			to = swarm.Unassigned
		}
		from := beforeSwarm[k]
		l.nodes[k].Swarm = to
		if from != to {
			swarmEvents = append(swarmEvents, SwarmChanged{Node: k, From: from, To: to, Height: h})
		}
	}
	newIDs := l.swarms.IDs()
	for _, id := range newIDs {
		if _, found := slices.BinarySearch(oldIDs, id); !found {
			swarmEvents = append(swarmEvents, SwarmCreated{Swarm: id, Height: h})
		}
	}
	for _, id := range oldIDs {
		if _, found := slices.BinarySearch(newIDs, id); !found {
			swarmEvents = append(swarmEvents, SwarmDissolved{Swarm: id, Height: h})
		}
	}

	if l.dirty {
		l.list = l.buildList()
		l.dirty = false
		res.Changed = true
	}
	if l.cfg.Obligations == ObligationsQuorum {
		l.runQuorums(h, keys, now)
	}
	active, decomm := l.counts()
	res.Events = append(res.Events, BlockEvent{Height: h, Hash: l.hash, Active: active, Decommissioned: decomm,
		Swarms: len(newIDs), Changed: res.Changed})
	res.Events = append(res.Events, nodeEvents...)
	res.Events = append(res.Events, swarmEvents...)
	return res
}

func (l *Ledger) counts() (active, decommissioned int) {
	for _, r := range l.nodes {
		switch r.State {
		case StateActive:
			active++
		case StateDecommissioned:
			decommissioned++
		}
	}
	return active, decommissioned
}

// buildList makes the list of the current block: every active and decommissioned node, sorted
// by key.
func (l *Ledger) buildList() *List {
	list := &List{
		Height:               l.height,
		BlockHash:            l.hash,
		Time:                 l.time,
		Hardfork:             l.cfg.Hardfork,
		StorageServerVersion: l.cfg.StorageServerVersion,
	}
	for _, r := range l.nodes {
		if r.State != StateActive && r.State != StateDecommissioned {
			continue
		}
		p := Peer{
			Ed25519:            r.Ed25519,
			X25519:             r.X25519,
			Addr:               r.Addr,
			Swarm:              swarm.Unassigned,
			OMQPort:            r.OMQPort,
			RegistrationHeight: r.RegistrationHeight,
			StateHeight:        r.StateHeight,
			DecommissionCount:  uint32(r.DecommissionCount),
		}
		if r.State == StateActive {
			p.Swarm = r.Swarm
		}
		if !r.LastProof.IsZero() {
			p.LastUptimeProof = r.LastProof.Unix()
		}
		p.EarnedDowntimeBlocks = int64(l.credit(r, l.time) / l.cfg.BlockInterval)
		list.Nodes = append(list.Nodes, p)
	}
	slices.SortFunc(list.Nodes, func(a, b Peer) int { return cmpKey(a.Ed25519, b.Ed25519) })
	return list
}

// Height is the last block's height (0 before the first block).
func (l *Ledger) Height() uint64 { return l.height }

// BlockHash is the last block's hash.
func (l *Ledger) BlockHash() [32]byte { return l.hash }

// List is the current list (made in the last block that changed it). Do not modify it.
func (l *Ledger) List() *List { return l.list }

// Node returns a copy of a node's record (deregistered nodes included).
func (l *Ledger) Node(ed [32]byte) (Record, bool) {
	r, ok := l.nodes[ed]
	if !ok {
		return Record{}, false
	}
	return *r, true
}

// Nodes returns copies of every record, sorted by key.
func (l *Ledger) Nodes() []Record {
	out := make([]Record, 0, len(l.nodes))
	for _, r := range l.nodes {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Record) int { return cmpKey(a.Ed25519, b.Ed25519) })
	return out
}

// SwarmOf is an active node's swarm (false when the node is not active or not yet placed).
func (l *Ledger) SwarmOf(ed [32]byte) (swarm.ID, bool) {
	r, ok := l.nodes[ed]
	if !ok || r.State != StateActive || r.Swarm == swarm.Unassigned {
		return swarm.Unassigned, false
	}
	return r.Swarm, true
}

// Swarms is the swarm ids, ascending.
func (l *Ledger) Swarms() []swarm.ID { return l.swarms.IDs() }

// SwarmFor is the swarm that owns an account (Session ID, group ID, ...).
func (l *Ledger) SwarmFor(id identity.ID) (swarm.ID, bool) {
	return swarm.Owner(l.swarms.IDs(), swarm.SpaceOf(id))
}

// Members is the nodes of a swarm, in key order.
func (l *Ledger) Members(id swarm.ID) []Record {
	keys := l.swarms.Members(id)
	out := make([]Record, len(keys))
	for i, k := range keys {
		out[i] = *l.nodes[k]
	}
	return out
}
