package node

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// Endpoints a node answers. Clients use the first two; nodes call each other on the "sn."
// methods (the storage server's OxenMQ commands) and test each other with the ping.
const (
	// MethodStorageRPC is the direct storage RPC: POST /storage_rpc/v1 with a JSON body.
	MethodStorageRPC = "/storage_rpc/v1"
	// MethodOnion is where clients post onion requests to their guard.
	MethodOnion = onion.GuardEndpoint
	// MethodRelay is how a node passes an onion request to the next node.
	MethodRelay = onion.RelayEndpoint
	// MethodPing is the reachability test.
	MethodPing = "/ping_test/v1"
	// MethodForward carries a recursive request (store, delete, expire, ...) from the swarm
	// member that received it to the others, which validate and apply it again.
	MethodForward = "sn.storage_cc"
	// MethodData carries a batch of messages pushed on a swarm change.
	MethodData = "sn.data"
	// MethodDataReady is the ready handshake before a push (v2.11): the receiver answers OK
	// once its own list puts it in the swarm the sender pushes for.
	MethodDataReady = "sn.data_ready"
	// MethodList delivers a service-node list to the node (pushed by the registry).
	MethodList = "sn.list"
)

// Node is a service node: one storage server with its store. It implements actor.Actor and
// actor.Stopper; all its methods run on its actor loop.
type Node struct {
	cfg      *Config // shared by the nodes with equal settings (Views.configs)
	strategy Strategy
	stopped  bool
	// ed is the Ed25519 key (seed || public, Go's form): the node's identity and signing key.
	// The node keeps it and its X25519 pair rather than identity.Keys, which holds the private
	// key a second time, on the heap.
	ed     [ed25519.PrivateKeySize]byte
	x25519 cryptomode.X25519KeyPair
	// edHex is the public key in hex, as the node names itself in every recursive answer.
	edHex string
	// convertKey is cfg.KeyMemo.Convert, taken once: a method value made per request is an
	// allocation per request.
	convertKey func(ed [32]byte) ([32]byte, error)
	st         store.Store
	env        actor.Env
	rnd        io.Reader

	view *view
	// swarm is the node's swarm in view, looked up once per list: every request asks.
	swarm   swarm.ID
	limiter *rateLimiter
	reach   *reachScheduler

	// pending is a list given before Start, applied when the node starts.
	pending *registry.List

	reachTimer actor.Timer
	reachAt    int64 // unix ns of the armed reachability wake-up; 0 when none is armed
	retries    *retryQueue
	transfers  map[transferKey]*transfer
	monitors   map[store.Owner][]*monitorSub // push subscriptions by account (monitor.go)
}

// New makes a node with keys (its Ed25519 identity and X25519 onion key) and store st.
func New(cfg Config, keys identity.Keys, st store.Store) (*Node, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	if st == nil {
		return nil, fmt.Errorf("node %x: no store given", keys.Ed25519Public[:4])
	}
	if len(keys.Ed25519Private) != ed25519.PrivateKeySize || !bytes.Equal(keys.Ed25519Private[32:], keys.Ed25519Public[:]) {
		return nil, fmt.Errorf("node %x: keys have no Ed25519 private key of their public key: derive them with identity.FromSeed or identity.Derive", keys.Ed25519Public[:4])
	}
	kp, _, err := cfg.Suite.X25519FromSecret(keys.X25519Secret)
	if err != nil {
		return nil, fmt.Errorf("node %x: X25519 key: %w", keys.Ed25519Public[:4], err)
	}
	shared := cfg.Views.configs.Of(cfg)
	n := &Node{
		cfg:      shared,
		strategy: cfg.Strategy(),
		x25519:   kp,
		st:       st,
		limiter:  newRateLimiter(cfg.RateLimit),
		reach:    newReachScheduler(&shared.Reachability, keys.Ed25519Public),
	}
	copy(n.ed[:], keys.Ed25519Private)
	n.edHex = hexKey(n.Ed25519())
	n.convertKey = shared.KeyMemo.Convert
	n.retries = newRetryQueue(n)
	return n, nil
}

// signing is the node's Ed25519 private key; it aliases the node's copy.
func (n *Node) signing() ed25519.PrivateKey { return n.ed[:] }

// Start brings the node up: timers for the expiry sweep, list polling, uptime proofs and
// reachability tests.
func (n *Node) Start(env actor.Env) {
	n.env = env
	n.rnd = actor.RandReader(env.Rand())
	if l := n.pending; l != nil {
		n.pending = nil
		n.applyList(l)
	}
	n.every(n.cfg.CleanupInterval, n.cleanup)
	if n.hasRegistry() {
		if n.cfg.ListPoll > 0 {
			n.pollList()
			n.every(n.cfg.ListPoll, n.pollList)
		}
		if n.cfg.UptimeProofInterval > 0 {
			n.sendUptimeProof()
			n.every(n.cfg.UptimeProofInterval, n.sendUptimeProof)
		}
	}
	n.scheduleReach()
}

// Stop is a graceful shutdown: timers stop rescheduling themselves.
func (n *Node) Stop() { n.stopped = true }

// every runs f every d, starting d from now.
func (n *Node) every(d time.Duration, f func()) {
	if d <= 0 {
		return
	}
	var tick func()
	tick = func() {
		if n.stopped {
			return
		}
		f()
		n.env.After(d, tick)
	}
	n.env.After(d, tick)
}

// Ed25519 is the node's identity key.
func (n *Node) Ed25519() [32]byte { return [32]byte(n.ed[32:]) }

// Keys are the keys the node was made with, rebuilt from its own copies: a node restarted after
// a crash is made with them, so whoever restarts it need not keep a second copy.
func (n *Node) Keys() identity.Keys {
	return identity.Keys{
		Seed:           [32]byte(n.ed[:32]),
		Ed25519Private: bytes.Clone(n.ed[:]),
		Ed25519Public:  n.Ed25519(),
		X25519Secret:   n.x25519.Secret,
		X25519Public:   n.x25519.Public,
	}
}

// Store is the node's message store (for tests and the world's measurements).
func (n *Node) Store() store.Store { return n.st }

// Swarm is the node's swarm in its current list (swarm.Unassigned when it has none).
func (n *Node) Swarm() swarm.ID {
	if n.view == nil {
		return swarm.Unassigned
	}
	return n.swarm
}

// ListHeight is the height of the list the node uses (0 before it has one).
func (n *Node) ListHeight() uint64 {
	if n.view == nil {
		return 0
	}
	return n.view.height
}

// PendingRetries is the number of failed forwards the node keeps for another attempt.
func (n *Node) PendingRetries() int { return n.retries.len() }

// PendingTransfers is the number of swarm-change pushes not yet acknowledged.
func (n *Node) PendingTransfers() int { return len(n.transfers) }

// ready is the storage server's snode_ready: the node serves only once its list puts it in a
// swarm.
func (n *Node) ready() bool { return n.Swarm() != swarm.Unassigned }

// now is the current time in ms since the epoch, as the RPC uses it.
func (n *Node) nowMS() int64 { return n.env.Now().UnixMilli() }

// endpoints are the methods that serve each endpoint.
var endpoints = map[string]func(n *Node, from actor.Addr, req actor.Request, r actor.Responder){
	MethodStorageRPC: (*Node).handleStorageRPC,
	MethodOnion:      (*Node).handleGuard,
	MethodRelay:      (*Node).handleRelay,
	MethodPing:       (*Node).handlePing,
	MethodForward:    (*Node).handleForward,
	MethodData:       (*Node).handleData,
	MethodDataReady:  (*Node).handleDataReady,
	MethodList:       (*Node).handleListPush,
	MethodMonitor:    (*Node).handleMonitor,
}

// Handle dispatches a request by endpoint.
func (n *Node) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	serve, ok := endpoints[req.Method]
	if !ok {
		respondText(r, overHTTPS, http.StatusNotFound, "POST "+req.Method+" Not Found")
		return
	}
	serve(n, from, req, r)
}

// handlePing serves MethodPing: an empty 200 is the reachability test passed.
func (n *Node) handlePing(_ actor.Addr, _ actor.Request, r actor.Responder) {
	respondText(r, overHTTPS, http.StatusOK, "")
}

// SetList applies a service-node list directly (the world builder and tests; in a running
// network the registry delivers lists). The list is shared, never modified. Before Start it
// is kept and applied when the node starts.
func (n *Node) SetList(l *registry.List) {
	if n.env == nil {
		n.pending = l
		return
	}
	n.applyList(l)
}

func (n *Node) applyList(l *registry.List) {
	if l == nil {
		return
	}
	if n.view != nil && l.Height < n.view.height {
		return // an older list arriving late
	}
	if n.view != nil && l.Height == n.view.height && l.BlockHash == n.view.hash {
		return // already seen
	}
	old := n.view
	cur := n.cfg.Views.of(l)
	n.view, n.swarm = cur, cur.swarmOf(n.Ed25519())
	ev := deriveEvents(old, cur, n.Ed25519())
	n.env.Observe(ListApplied{Height: l.Height, Nodes: len(cur.all), Swarms: cur.ring.Len(), Swarm: ev.ours})
	prev := swarm.Unassigned
	if old != nil {
		prev = old.swarmOf(n.Ed25519())
	}
	if prev != ev.ours || len(ev.newMembers) > 0 || len(ev.newSwarms) > 0 {
		n.env.Observe(SwarmChanged{
			Height: l.Height, Old: prev, New: ev.ours, Joined: ev.joined, Dissolved: ev.dissolved,
			NewMembers: len(ev.newMembers), NewSwarms: len(ev.newSwarms),
		})
	}
	if ev.ours == swarm.Unassigned {
		return
	}
	n.onSwarmEvents(ev)
	n.scheduleReach()
}

// cleanup is the periodic expiry sweep; it also forgets rate-limit buckets that have refilled,
// as the storage server does on the same 10 s timer.
func (n *Node) cleanup() {
	n.limiter.clean(n.env.Now())
	n.pruneMonitors()
	c, err := n.st.CleanExpired(n.nowMS())
	if err == nil && c > 0 {
		n.env.Observe(ExpiredSwept{Messages: c})
	}
}

// bodyBytes is a request's body as bytes (nil when it is not bytes).
func bodyBytes(req actor.Request) ([]byte, bool) {
	b, ok := req.Body.([]byte)
	return b, ok
}
