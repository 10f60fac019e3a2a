package registry

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
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

// Wire sizes of the ledger's own traffic. The chain is not simulated, so reports, uptime proofs
// and list pulls stand for the oxend messages that carry them and are charged a fixed size of
// the same order (a real uptime proof, with versions, ports and a signature, is a few hundred
// bytes). Answers over HTTPS, the seed-node API's included, are charged their exact size.
const (
	ReportSize        = 120
	ProofSize         = 400
	ListRequestSize   = 80
	pushTimeout       = 10 * time.Second
	statusNotModified = http.StatusNotModified
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
// Its Go methods (Register, List, SwarmOf, ...) are for the world builder and tests. Like its
// callbacks they must not run concurrently with one another: in the simulator, call them from
// world functions (engine.At) or before the run, so that they happen at a defined virtual time;
// a real-time driver must run them on the registry's own loop.
type Registry struct {
	ledger    *Ledger
	env       actor.Env
	published *List
	// api serves the seed-node API from the published list.
	api       seedAPI
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
	return g.ledger.Register(r)
}

// Leave unregisters a node at the next block.
func (g *Registry) Leave(ed [32]byte) error {
	return g.ledger.Leave(ed)
}

// Halt records that a node's machine stopped, its oxend with it: it casts no more votes.
func (g *Registry) Halt(ed [32]byte) error {
	return g.ledger.Halt(ed)
}

// Unhalt records that a halted node's machine runs again: its oxend votes again.
func (g *Registry) Unhalt(ed [32]byte) error {
	return g.ledger.Unhalt(ed)
}

// Bootstrap makes the first block at now, before the run, and publishes its list at once, so
// the world can hand every node its list (node.SetList) before the nodes start. Start then
// continues from this block.
func (g *Registry) Bootstrap(now time.Time) (*List, error) {
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
	g.env = env
	if g.ledger.Height() == 0 {
		env.After(0, func() { g.block(true) })
	} else {
		g.scheduleBlock()
	}
}

// Stop ends block production (a graceful shutdown).
func (g *Registry) Stop() {
	g.stopped = true
}

func (g *Registry) scheduleBlock() {
	next := g.lastBlock.Add(g.ledger.cfg.BlockInterval)
	g.env.After(next.Sub(g.env.Now()), func() { g.block(false) })
}

// block makes a block; immediate publishes its list now instead of after ListDelay.
func (g *Registry) block(immediate bool) {
	if g.stopped {
		return
	}
	now := g.env.Now()
	res := g.ledger.Block(now)
	g.lastBlock = now
	list := g.ledger.List()
	for _, ev := range res.Events {
		g.env.Observe(ev)
	}
	if res.Changed || immediate {
		if immediate {
			g.publish(list)
		} else {
			g.env.After(g.ledger.cfg.ListDelay, func() { g.publish(list) })
		}
	}
	g.scheduleBlock()
}

// publish makes list the one nodes pull, and pushes it to every node funded in it or in the
// list before (so deregistered nodes learn they are out) and to the seed nodes.
func (g *Registry) publish(list *List) {
	prev := g.published
	if prev != nil && prev.Height > list.Height {
		return // a later list was published already
	}
	g.published = list
	seeds := g.ledger.cfg.Seeds

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
	req := actor.Request{Method: MethodList, Body: list, Size: g.ledger.cfg.ListSize}
	for _, to := range targets {
		g.env.Call(to, req, pushTimeout, func(actor.Response, error) {})
	}
	g.env.Observe(ListPublished{Height: list.Height, Nodes: len(list.Nodes), Pushes: len(targets)})
}

// Handle serves reports, proofs, list pulls and the seed-node API.
func (g *Registry) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	switch req.Method {
	case MethodReport:
		rep, ok := bodyAs[Report](req.Body)
		if !ok {
			respondText(r, http.StatusBadRequest, "registry/report: body must be a registry.Report")
			return
		}
		respondErr(r, g.ledger.Report(rep.Tester, rep.Tested, rep.Passed, g.env.Now()))
	case MethodProof:
		pr, ok := bodyAs[UptimeProof](req.Body)
		if !ok {
			respondText(r, http.StatusBadRequest, "registry/proof: body must be a registry.UptimeProof")
			return
		}
		respondErr(r, g.ledger.UptimeProof(pr.Ed25519, g.env.Now()))
	case MethodGetList:
		lr, _ := bodyAs[ListRequest](req.Body) // no ListRequest: the caller has no list
		if lr.Known != ([32]byte{}) && lr.Known == g.published.BlockHash {
			respondStatus(r, statusNotModified)
			return
		}
		r.Respond(actor.Response{Status: http.StatusOK, Body: g.published, Size: g.ledger.cfg.ListSize})
	case MethodJSONRPC:
		// Where clients bootstrap from the registry (docker mode: it is their seed node), it
		// learns what a seed node does.
		g.env.Observe(SeedRequest{From: from.Addr(), Size: req.Size})
		g.api.setList(g.published)
		g.api.answer(req, r, g.env.Rand())
	default:
		respondText(r, http.StatusNotFound, "POST "+req.Method+" Not Found")
	}
}

// bodyAs reads a request body sent as a T or as a non-nil *T.
func bodyAs[T any](body any) (T, bool) {
	switch b := body.(type) {
	case T:
		return b, true
	case *T:
		if b != nil {
			return *b, true
		}
	}
	var zero T
	return zero, false
}

// respondText answers with a plain-text body, charged as the HTTPS response that carries it.
func respondText(r actor.Responder, status int, msg string) {
	r.Respond(actor.Response{Status: status, Body: []byte(msg), Size: transport.HTTPSResponseSize(status, transport.Text, len(msg))})
}

// respondStatus answers with a bare status and no body.
func respondStatus(r actor.Responder, status int) {
	r.Respond(actor.Response{Status: status, Size: transport.HTTPSResponseSize(status, "", 0)})
}

func respondErr(r actor.Responder, err error) {
	switch {
	case err == nil:
		respondStatus(r, http.StatusOK)
	case errors.Is(err, errNotRegistered):
		respondText(r, http.StatusNotFound, err.Error())
	default:
		respondText(r, http.StatusBadRequest, err.Error())
	}
}

// Height is the last block's height.
func (g *Registry) Height() uint64 {
	return g.ledger.Height()
}

// List is the list of the last block that changed it (nodes receive it ListDelay later).
func (g *Registry) List() *List {
	return g.ledger.List()
}

// Published is the list nodes have been given (or can pull) now.
func (g *Registry) Published() *List {
	return g.published
}

// Node is a node's record.
func (g *Registry) Node(ed [32]byte) (Record, bool) {
	return g.ledger.Node(ed)
}

// Nodes is every record (deregistered included), sorted by key.
func (g *Registry) Nodes() []Record {
	return g.ledger.Nodes()
}

// SwarmOf is an active node's swarm.
func (g *Registry) SwarmOf(ed [32]byte) (swarm.ID, bool) {
	return g.ledger.SwarmOf(ed)
}

// SwarmFor is the swarm that owns an account.
func (g *Registry) SwarmFor(id identity.ID) (swarm.ID, bool) {
	return g.ledger.SwarmFor(id)
}

// Swarms is the swarm ids, ascending.
func (g *Registry) Swarms() []swarm.ID {
	return g.ledger.Swarms()
}

// Members is a swarm's nodes in key order.
func (g *Registry) Members(id swarm.ID) []Record {
	return g.ledger.Members(id)
}

// Quorum is the obligations quorum of block height, from its block until its validators vote.
func (g *Registry) Quorum(height uint64) (Quorum, bool) {
	return g.ledger.Quorum(height)
}

// Credit is a node's downtime credit now.
func (g *Registry) Credit(ed [32]byte) (time.Duration, bool) {
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
	env actor.Env
	api seedAPI
}

// NewSeedNode makes a seed node that starts with list (nil: an empty list until the first push).
func NewSeedNode(list *List) *SeedNode { return NewSharedSeedNode(list, nil) }

// NewSharedSeedNode is NewSeedNode for a seed node that keeps its answers in kept, which the
// other seed nodes run on the same goroutine may share: they are pushed the same lists, so each
// answer is then built and held once, not once per seed node. nil keeps its own.
func NewSharedSeedNode(list *List, kept *SeedAnswers) *SeedNode {
	if list == nil {
		list = &List{}
	}
	s := &SeedNode{api: seedAPI{kept: kept}}
	s.api.setList(list)
	return s
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
		if l.Height >= s.api.list.Height {
			s.api.setList(l)
		}
		respondStatus(r, http.StatusOK)
	case MethodJSONRPC:
		s.env.Observe(SeedRequest{From: from.Addr(), Size: req.Size})
		s.api.answer(req, r, s.env.Rand())
	default:
		respondText(r, http.StatusNotFound, "POST "+req.Method+" Not Found")
	}
}

// List is the list the seed node serves.
func (s *SeedNode) List() *List { return s.api.list }

// seedAPI answers /json_rpc from one list at a time, for the seed nodes and the registry.
// Answers that depend only on the list and the request (no limit, so no random selection) are
// kept until the list changes: every client bootstraps with the same request, and a 2,000-node
// answer is half a megabyte to build. Answers are never modified after they are sent, so they
// are shared.
type seedAPI struct {
	list *List
	// entries serves the answers that are not kept (nil until the first).
	entries *Entries
	kept    *SeedAnswers // nil until the first answer kept
}

// SeedAnswers are the answers kept for one list, by request: for the newest of the lists the
// seed nodes sharing them serve. The zero value is ready to use. Seed nodes share one only if
// one goroutine runs them all: it is read and written as they answer.
type SeedAnswers struct {
	list    *List
	answers map[string][]byte
}

// get is the answer kept for body from list l.
func (a *SeedAnswers) get(l *List, body []byte) ([]byte, bool) {
	if a.list != l {
		return nil, false
	}
	out, ok := a.answers[string(body)]
	return out, ok
}

// keep keeps out as the answer to body from list l, unless the answers kept are of a later
// list (a seed node not pushed the newest yet), which it leaves alone.
func (a *SeedAnswers) keep(l *List, body, out []byte) {
	if a.list != l {
		if a.list != nil && a.list.Height > l.Height {
			return
		}
		a.list = l
		clear(a.answers)
	}
	if a.answers == nil {
		a.answers = map[string][]byte{}
	}
	a.answers[string(body)] = out
}

// forgetBefore drops the answers kept if they are of a list older than l.
func (a *SeedAnswers) forgetBefore(l *List) {
	if a.list != nil && a.list.Height < l.Height {
		a.list = nil
		clear(a.answers)
	}
}

// setList makes l the list answers come from.
func (s *seedAPI) setList(l *List) {
	if l == s.list {
		return
	}
	s.list, s.entries = l, nil
	if s.kept != nil {
		s.kept.forgetBefore(l)
	}
}

func (s *seedAPI) answer(req actor.Request, r actor.Responder, rng *rand.Rand) {
	body, ok := req.Body.([]byte)
	if !ok {
		respondText(r, http.StatusBadRequest, "/json_rpc: body must be JSON bytes")
		return
	}
	if s.kept == nil {
		s.kept = &SeedAnswers{}
	}
	out, cached := s.kept.get(s.list, body)
	switch {
	case cached:
	case deterministicRequest(body):
		// The answer is kept whole; keeping its encoded entries as well would hold them twice.
		out = JSONRPC(NewEntries(s.list), body, rng)
		s.kept.keep(s.list, body, out)
	default:
		if s.entries == nil {
			s.entries = NewEntries(s.list)
		}
		out = JSONRPC(s.entries, body, rng)
	}
	r.Respond(actor.Response{Status: http.StatusOK, Body: out, Size: transport.HTTPSResponseSize(http.StatusOK, transport.JSON, len(out))})
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
