package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// Endpoints of the registry and of the nodes it delivers lists to.
const (
	// MethodReport takes a reachability result (Body: Report).
	MethodReport = "registry/report"
	// MethodProof takes an uptime proof (Body: UptimeProof).
	MethodProof = "registry/proof"
	// MethodGetList answers the current list (*List, status 200), or 304 with no body when the
	// request's Body is a ListRequest naming the hash of the list the caller already has.
	MethodGetList = "registry/list"
	// MethodJSONRPC is the seed-node API (oxend's /json_rpc): get_n_service_nodes and its
	// aliases, JSON in and out ([]byte bodies).
	MethodJSONRPC = "/json_rpc"
	// MethodList is the endpoint of nodes and seed nodes that lists are pushed to (Body: *List).
	MethodList = "sn.list"
)

// Report is one reachability test result, sent by the tester.
type Report struct {
	Tester, Tested [32]byte
	Passed         bool
}

// UptimeProof is a node's periodic proof that it is up.
type UptimeProof struct {
	Ed25519 [32]byte
}

// ListRequest asks for the list unless the caller has the one with this block hash.
type ListRequest struct {
	Known [32]byte
}

// Wire sizes: reports and proofs are small OxenMQ messages (a real uptime proof, with versions,
// ports and a signature, is a few hundred bytes); JSON answers carry HTTP headers.
const (
	ReportSize           = 120
	ProofSize            = 400
	ListRequestSize      = 80
	httpResponseOverhead = 160
	pushTimeout          = 10 * time.Second
	statusNotModified    = http.StatusNotModified
)

// NewReportRequest is the request a tester sends to report a result.
func NewReportRequest(tester, tested [32]byte, passed bool) actor.Request {
	return actor.Request{Method: MethodReport, Body: Report{Tester: tester, Tested: tested, Passed: passed}, Size: ReportSize}
}

// NewProofRequest is the request a node sends with its uptime proof.
func NewProofRequest(ed [32]byte) actor.Request {
	return actor.Request{Method: MethodProof, Body: UptimeProof{Ed25519: ed}, Size: ProofSize}
}

// NewListRequest asks for the list; known is the block hash of the list the caller has (zero
// for none).
func NewListRequest(known [32]byte) actor.Request {
	return actor.Request{Method: MethodGetList, Body: ListRequest{Known: known}, Size: ListRequestSize}
}

// Registry is the service-node list as an actor: it makes a block every BlockInterval, pushes
// each new list to every funded node and seed node ListDelay after its block (nodes may also
// pull it with MethodGetList), takes reachability reports and uptime proofs, and serves the
// seed-node API.
//
// Lists are pushed, not only pulled, so that every node learns a change at the same delay
// after the block whatever its polling phase; a pull returns the list published last.
//
// Its Go methods (Register, List, SwarmOf, ...) are for the world builder and tests. They are
// safe to call from any goroutine; in the simulator, call them from world functions (engine.At)
// or before the run, so that they happen at a defined virtual time.
type Registry struct {
	mu        sync.Mutex
	ledger    *Ledger
	env       actor.Env
	published *List
	lastBlock time.Time
	stopped   bool
}

// New makes a registry with no nodes.
func New(cfg Config) (*Registry, error) {
	l, err := NewLedger(cfg)
	if err != nil {
		return nil, err
	}
	return &Registry{ledger: l, published: l.List()}, nil
}

// Register records a node; it becomes active at the next block (at Start, for nodes
// registered before the run).
func (g *Registry) Register(r Registration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Register(r)
}

// Leave unregisters a node at the next block.
func (g *Registry) Leave(ed [32]byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Leave(ed)
}

// Bootstrap makes the first block at now, before the run, and publishes its list at once, so
// the world can hand every node its list (node.SetList) before the nodes start. Start then
// continues from this block.
func (g *Registry) Bootstrap(now time.Time) (*List, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ledger.Height() > 0 {
		return nil, errors.New("registry: Bootstrap after the first block")
	}
	g.ledger.Block(now)
	g.lastBlock = now
	g.published = g.ledger.List()
	return g.published, nil
}

// Start schedules the blocks. Without Bootstrap, the first block (the genesis of the run) is
// made at the start time and its list published at once; it runs as a timer, so nodes spawned
// at the same instant as the registry (after it) receive that list too.
func (g *Registry) Start(env actor.Env) {
	g.mu.Lock()
	g.env = env
	genesis := g.ledger.Height() == 0
	g.mu.Unlock()
	if genesis {
		env.After(0, func() { g.block(true) })
	} else {
		g.scheduleBlock()
	}
}

// Stop ends block production (a graceful shutdown).
func (g *Registry) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
}

func (g *Registry) scheduleBlock() {
	g.mu.Lock()
	next := g.lastBlock.Add(g.ledger.cfg.BlockInterval)
	g.mu.Unlock()
	g.env.After(next.Sub(g.env.Now()), func() { g.block(false) })
}

// block makes a block; immediate publishes its list now instead of after ListDelay.
func (g *Registry) block(immediate bool) {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return
	}
	now := g.env.Now()
	res := g.ledger.Block(now)
	g.lastBlock = now
	list := g.ledger.List()
	delay := g.ledger.cfg.ListDelay
	g.mu.Unlock()

	for _, ev := range res.Events {
		g.env.Observe(ev)
	}
	if res.Changed || immediate {
		if immediate {
			g.publish(list)
		} else {
			g.env.After(delay, func() { g.publish(list) })
		}
	}
	g.scheduleBlock()
}

// publish makes list the one nodes pull, and pushes it to every node funded in it or in the
// list before (so deregistered nodes learn they are out) and to the seed nodes.
func (g *Registry) publish(list *List) {
	g.mu.Lock()
	prev := g.published
	if prev != nil && prev.Height > list.Height {
		g.mu.Unlock()
		return // a later list was published already
	}
	g.published = list
	seeds := slices.Clone(g.ledger.cfg.Seeds)
	size := g.ledger.cfg.ListSize
	g.mu.Unlock()

	targets := make([]actor.Addr, 0, len(list.Nodes)+len(seeds))
	for _, p := range list.Nodes {
		targets = append(targets, p.Addr)
	}
	if prev != nil && prev != list {
		for _, p := range prev.Nodes {
			if _, still := list.Find(p.Ed25519); !still {
				targets = append(targets, p.Addr)
			}
		}
	}
	targets = append(targets, seeds...)
	req := actor.Request{Method: MethodList, Body: list, Size: size}
	for _, to := range targets {
		g.env.Call(to, req, pushTimeout, func(actor.Response, error) {})
	}
	g.env.Observe(ListPublished{Height: list.Height, Nodes: len(list.Nodes), Pushes: len(targets)})
}

// Handle serves reports, proofs, list pulls and the seed-node API.
func (g *Registry) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	switch req.Method {
	case MethodReport:
		rep, ok := req.Body.(Report)
		if p, isPtr := req.Body.(*Report); isPtr && p != nil {
			rep, ok = *p, true
		}
		if !ok {
			respondText(r, http.StatusBadRequest, "registry/report: body must be a registry.Report")
			return
		}
		g.mu.Lock()
		err := g.ledger.Report(rep.Tester, rep.Tested, rep.Passed, g.env.Now())
		g.mu.Unlock()
		respondErr(r, err)
	case MethodProof:
		pr, ok := req.Body.(UptimeProof)
		if p, isPtr := req.Body.(*UptimeProof); isPtr && p != nil {
			pr, ok = *p, true
		}
		if !ok {
			respondText(r, http.StatusBadRequest, "registry/proof: body must be a registry.UptimeProof")
			return
		}
		g.mu.Lock()
		err := g.ledger.UptimeProof(pr.Ed25519, g.env.Now())
		g.mu.Unlock()
		respondErr(r, err)
	case MethodGetList:
		var known [32]byte
		switch b := req.Body.(type) {
		case ListRequest:
			known = b.Known
		case *ListRequest:
			if b != nil {
				known = b.Known
			}
		}
		g.mu.Lock()
		list, size := g.published, g.ledger.cfg.ListSize
		g.mu.Unlock()
		if known != ([32]byte{}) && known == list.BlockHash {
			r.Respond(actor.Response{Status: statusNotModified, Size: httpResponseOverhead})
			return
		}
		r.Respond(actor.Response{Status: http.StatusOK, Body: list, Size: size})
	case MethodJSONRPC:
		body, ok := req.Body.([]byte)
		if !ok {
			respondText(r, http.StatusBadRequest, "/json_rpc: body must be JSON bytes")
			return
		}
		g.mu.Lock()
		list := g.published
		g.mu.Unlock()
		out := JSONRPC(list, body, g.env.Rand())
		r.Respond(actor.Response{Status: http.StatusOK, Body: out, Size: len(out) + httpResponseOverhead})
	default:
		respondText(r, http.StatusNotFound, "POST "+req.Method+" Not Found")
	}
}

func respondText(r actor.Responder, status int, msg string) {
	r.Respond(actor.Response{Status: status, Body: []byte(msg), Size: len(msg) + httpResponseOverhead})
}

func respondErr(r actor.Responder, err error) {
	switch {
	case err == nil:
		r.Respond(actor.Response{Status: http.StatusOK, Size: httpResponseOverhead})
	case errors.Is(err, errNotRegistered):
		respondText(r, http.StatusNotFound, err.Error())
	default:
		respondText(r, http.StatusBadRequest, err.Error())
	}
}

// Height is the last block's height.
func (g *Registry) Height() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Height()
}

// List is the list of the last block that changed it (nodes receive it ListDelay later).
func (g *Registry) List() *List {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.List()
}

// Published is the list nodes have been given (or can pull) now.
func (g *Registry) Published() *List {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.published
}

// Node is a node's record.
func (g *Registry) Node(ed [32]byte) (Record, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Node(ed)
}

// Nodes is every record (deregistered included), sorted by key.
func (g *Registry) Nodes() []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Nodes()
}

// SwarmOf is an active node's swarm.
func (g *Registry) SwarmOf(ed [32]byte) (swarm.ID, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.SwarmOf(ed)
}

// SwarmFor is the swarm that owns an account.
func (g *Registry) SwarmFor(id identity.ID) (swarm.ID, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.SwarmFor(id)
}

// Swarms is the swarm ids, ascending.
func (g *Registry) Swarms() []swarm.ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Swarms()
}

// Members is a swarm's nodes in key order.
func (g *Registry) Members(id swarm.ID) []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ledger.Members(id)
}

// Credit is a node's downtime credit now.
func (g *Registry) Credit(ed [32]byte) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var now time.Time
	if g.env != nil {
		now = g.env.Now()
	} else {
		now = g.lastBlock
	}
	return g.ledger.Credit(ed, now)
}

// SeedNode answers clients' bootstrap requests (get_n_service_nodes on /json_rpc) from the lists
// the registry pushes to it, as the real seed nodes (oxend nodes at well-known addresses) do.
type SeedNode struct {
	mu   sync.Mutex
	env  actor.Env
	list *List
	// answers keeps the answers that depend only on the list and the request (no limit, so no
	// random selection): every client bootstraps with the same request, and a 2,000-node answer
	// is half a megabyte to build. Cleared when the list changes. Answers are never modified
	// after they are sent, so they are shared.
	answers map[string][]byte
}

// NewSeedNode makes a seed node that starts with list (nil: an empty list until the first push).
func NewSeedNode(list *List) *SeedNode {
	if list == nil {
		list = &List{}
	}
	return &SeedNode{list: list}
}

// Start keeps the environment.
func (s *SeedNode) Start(env actor.Env) { s.env = env }

// Handle takes pushed lists and answers JSON-RPC.
func (s *SeedNode) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	switch req.Method {
	case MethodList:
		l, ok := req.Body.(*List)
		if !ok || l == nil {
			respondText(r, http.StatusBadRequest, "sn.list: body must be a *registry.List")
			return
		}
		s.mu.Lock()
		if l.Height >= s.list.Height && l != s.list {
			s.list = l
			clear(s.answers)
		}
		s.mu.Unlock()
		r.Respond(actor.Response{Status: http.StatusOK, Size: httpResponseOverhead})
	case MethodJSONRPC:
		body, ok := req.Body.([]byte)
		if !ok {
			respondText(r, http.StatusBadRequest, "/json_rpc: body must be JSON bytes")
			return
		}
		s.mu.Lock()
		out, cached := s.answers[string(body)]
		list := s.list
		s.mu.Unlock()
		if !cached {
			out = JSONRPC(list, body, s.env.Rand())
			if deterministicRequest(body) {
				s.mu.Lock()
				if s.list == list {
					if s.answers == nil {
						s.answers = map[string][]byte{}
					}
					s.answers[string(body)] = out
				}
				s.mu.Unlock()
			}
		}
		r.Respond(actor.Response{Status: http.StatusOK, Body: out, Size: len(out) + httpResponseOverhead})
	default:
		respondText(r, http.StatusNotFound, "POST "+req.Method+" Not Found")
	}
}

// List is the list the seed node serves.
func (s *SeedNode) List() *List {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list
}

// deterministicRequest reports whether a /json_rpc request's answer depends only on the list:
// a valid request with no random selection (limit 0).
func deterministicRequest(body []byte) bool {
	var req struct {
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	p, err := ParseServiceNodesParams(req.Params)
	return err == nil && p.Limit == 0
}
