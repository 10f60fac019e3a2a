package registry_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeNode stands in for a service node: it keeps the lists pushed to it, sends an uptime proof
// every ProofEvery, and reports a failed test of Suspect every minute once Suspect is set.
type fakeNode struct {
	env      actor.Env
	key      [32]byte
	registry actor.Addr
	lists    []received
	suspect  [32]byte
}

type received struct {
	at   time.Time
	list *registry.List
}

const proofEvery = 5 * time.Minute

func (n *fakeNode) Start(env actor.Env) {
	n.env = env
	var proof, report func()
	proof = func() {
		env.Call(n.registry, registry.NewProofRequest(n.key), 5*time.Second, func(actor.Response, error) {})
		env.After(proofEvery, proof)
	}
	report = func() {
		if n.suspect != ([32]byte{}) {
			env.Call(n.registry, registry.NewReportRequest(n.key, n.suspect, false), 5*time.Second, func(actor.Response, error) {})
		}
		env.After(time.Minute, report)
	}
	proof()
	env.After(time.Minute, report)
}

func (n *fakeNode) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	if req.Method == registry.MethodList {
		n.lists = append(n.lists, received{at: n.env.Now(), list: req.Body.(*registry.List)})
	}
	r.Respond(actor.Response{Status: http.StatusOK})
}

// simNet is the registry, a seed node and fakeNodes on the real engine, with one fixed latency
// instead of a link model.
type simNet struct {
	engine *sim.Engine
	reg    *registry.Registry
	regAt  actor.Addr
	seedAt actor.Addr
	nodes  []*fakeNode
	addrs  []actor.Addr
	regs   []registry.Registration
	events actortest.Log
}

const latency = 20 * time.Millisecond

func newSimNet(t *testing.T, n int, cfg registry.Config) *simNet {
	t.Helper()
	e, err := sim.New(sim.Config{Seed: 7, Latency: latency})
	require.NoError(t, err)
	sn := &simNet{engine: e}
	e.AddSink(sn.events.Add)

	regHost, err := e.AddHost(sim.HostConfig{Name: "registry"})
	require.NoError(t, err)
	seedHost, err := e.AddHost(sim.HostConfig{Name: "seed"})
	require.NoError(t, err)
	seed := registry.NewSeedNode(nil)
	sn.seedAt, err = e.Spawn(seedHost, 443, "seed", seed)
	require.NoError(t, err)

	cfg.Seeds = []actor.Addr{sn.seedAt}
	sn.reg, err = registry.New(cfg)
	require.NoError(t, err)

	sn.regs = registry.Registrations(7, 0, n)
	for _, r := range sn.regs {
		require.NoError(t, sn.reg.Register(r))
	}
	// The registry's address must be known before the nodes start; spawn it first but make
	// the first block before anything runs.
	sn.regAt, err = e.Spawn(regHost, 22000, "registry", sn.reg)
	require.NoError(t, err)
	for _, s := range sn.regs {
		h, err := e.AddHost(sim.HostConfig{Name: s.Name, IP: s.Addr.Addr()})
		require.NoError(t, err)
		fn := &fakeNode{key: s.Ed25519, registry: sn.regAt}
		addr, err := e.Spawn(h, s.Addr.Port(), s.Name, fn)
		require.NoError(t, err)
		require.Equal(t, s.Addr, addr)
		sn.nodes = append(sn.nodes, fn)
		sn.addrs = append(sn.addrs, addr)
	}
	return sn
}

func TestRegistryOnEngine(t *testing.T) {
	sn := newSimNet(t, 30, registry.ShortConfig())
	epoch := sn.engine.Epoch()

	sn.engine.RunFor(time.Minute)
	// The genesis block is made and published at once.
	require.Equal(t, uint64(1), sn.reg.Height())
	require.Len(t, sn.reg.Swarms(), 4)
	for i, n := range sn.nodes {
		require.NotEmpty(t, n.lists, "node %d got no list", i)
		assert.Equal(t, uint64(1), n.lists[0].list.Height)
		assert.Equal(t, epoch.Add(latency), n.lists[0].at)
	}

	// Crash one node; the others report it failing. It misses proofs and reachability.
	victimIdx := 4
	victim := sn.regs[victimIdx].Ed25519
	victimSwarm, ok := sn.reg.SwarmOf(victim)
	require.True(t, ok)
	crashAt := sn.engine.Now()
	require.NoError(t, sn.engine.Crash(sn.addrs[victimIdx]))
	for i, n := range sn.nodes {
		if i != victimIdx {
			n.suspect = victim
		}
	}
	sn.engine.RunFor(30 * time.Minute)

	rec, ok := sn.reg.Node(victim)
	require.True(t, ok)
	require.Equal(t, registry.StateDecommissioned, rec.State)
	dec := actortest.EventsOf[registry.Decommissioned](sn.events)
	require.Len(t, dec, 1)
	assert.Equal(t, registry.ReasonUnreachable, dec[0].Reason&registry.ReasonUnreachable)
	decAt := rec.DecommissionedAt
	// Reachability failures began at crash + 1 min; DecommissionAfter is 10 min; the first
	// block at or after that decides.
	assert.False(t, decAt.Before(crashAt.Add(11*time.Minute)))
	assert.True(t, decAt.Before(crashAt.Add(13*time.Minute+time.Second)))

	// Every live node received the list without the victim ListDelay after that block.
	for i, n := range sn.nodes {
		if i == victimIdx {
			continue
		}
		found := false
		for _, r := range n.lists {
			if p, ok := r.list.Find(victim); ok && !p.Active() {
				assert.Equal(t, decAt.Add(10*time.Second).Add(latency), r.at, "node %d", i)
				found = true
				break
			}
		}
		assert.True(t, found, "node %d never learned of the decommission", i)
	}
	// The victim's old swarm is whole again (or dissolved into others).
	if members := sn.reg.Members(victimSwarm); len(members) > 0 {
		assert.GreaterOrEqual(t, len(members), 5)
	}
	published := actortest.EventsOf[registry.ListPublished](sn.events)
	require.NotEmpty(t, published)
	assert.Equal(t, 30+1, published[0].Pushes, "30 nodes and the seed")
	assert.NotEmpty(t, actortest.EventsOf[registry.BlockEvent](sn.events))
	assert.Equal(t, uint64(1+31*60/120), sn.reg.Height())
}

// On the engine, with the reports and proofs arriving over the network, the obligations quorum
// decommissions a crashed node in the block after the first quorum that tests it once its
// validators see it fail, and not before.
func TestRegistryQuorumOnEngine(t *testing.T) {
	cfg := registry.QuorumConfig()
	sn := newSimNet(t, 30, cfg)
	epoch := sn.engine.Epoch()
	sn.engine.RunFor(time.Minute)
	quorums := map[uint64]registry.Quorum{}
	keep := func() {
		q, ok := sn.reg.Quorum(sn.reg.Height())
		require.True(t, ok)
		quorums[q.Height] = q
	}
	keep()

	victimIdx := 4
	victim := sn.regs[victimIdx].Ed25519
	require.NoError(t, sn.engine.Crash(sn.addrs[victimIdx]))
	require.NoError(t, sn.reg.Halt(victim))
	for i, n := range sn.nodes {
		if i != victimIdx {
			n.suspect = victim
		}
	}
	var decAt uint64
	for sn.reg.Height() < 40 {
		sn.engine.RunFor(cfg.BlockInterval)
		keep()
		rec, _ := sn.reg.Node(victim)
		_, inSwarm := sn.reg.SwarmOf(victim)
		if rec.State == registry.StateActive {
			require.True(t, inSwarm, "block %d: in its swarm until voted out", sn.reg.Height())
		} else if decAt == 0 {
			decAt = sn.reg.Height()
		}
	}
	// Every node reports each minute: the first failure of the victim arrives just after 2 min,
	// so it is unreachable for DecommissionAfter (10 min) in every live validator's view from
	// the block at 14 min, height 8.
	want := registry.DecidedAt(quorums, sn.reg.Height(), victim, 8, 1, func(_ uint64, v [32]byte) bool { return v != victim })
	require.NotZero(t, want)
	assert.Equal(t, want, decAt)
	dec := actortest.EventsOf[registry.Decommissioned](sn.events)
	require.Len(t, dec, 1)
	assert.Equal(t, want, dec[0].Height)
	assert.NotZero(t, dec[0].Reason&registry.ReasonUnreachable)
	rec, _ := sn.reg.Node(victim)
	assert.Equal(t, epoch.Add(time.Duration(want-1)*cfg.BlockInterval), rec.DecommissionedAt)
}

// client calls one endpoint once and keeps the answer.
type client struct {
	to   actor.Addr
	req  actor.Request
	resp actor.Response
	err  error
	done bool
}

func (c *client) Start(env actor.Env) {
	env.Call(c.to, c.req, 10*time.Second, func(r actor.Response, err error) {
		c.resp, c.err, c.done = r, err, true
	})
}
func (c *client) Handle(actor.Addr, actor.Request, actor.Responder) {}

func (sn *simNet) ask(t *testing.T, name string, to actor.Addr, req actor.Request) actor.Response {
	t.Helper()
	h, err := sn.engine.AddHost(sim.HostConfig{Name: name})
	require.NoError(t, err)
	c := &client{to: to, req: req}
	_, err = sn.engine.Spawn(h, 1000, name, c)
	require.NoError(t, err)
	sn.engine.RunFor(time.Second)
	require.True(t, c.done)
	require.NoError(t, c.err)
	return c.resp
}

func TestSeedAndPull(t *testing.T) {
	sn := newSimNet(t, 20, registry.ShortConfig())
	sn.engine.RunFor(time.Second)

	body := []byte(`{"jsonrpc":"2.0","id":"0","method":"get_n_service_nodes","params":{"active_only":true,"limit":12,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}}`)
	for _, to := range []actor.Addr{sn.seedAt, sn.regAt} {
		resp := sn.ask(t, fmt.Sprint("client-", to), to, actor.Request{Method: registry.MethodJSONRPC, Body: body, Size: len(body) + 200})
		require.Equal(t, http.StatusOK, resp.Status)
		out := resp.Body.([]byte)
		assert.Equal(t, transport.HTTPSResponseSize(http.StatusOK, transport.JSON, len(out)), resp.Size, "charged as the HTTPS response that carries it")
		var env struct {
			Result struct {
				States []map[string]any `json:"service_node_states"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal(out, &env))
		assert.Len(t, env.Result.States, 12)
	}

	list := sn.reg.Published()
	resp := sn.ask(t, "puller", sn.regAt, registry.NewListRequest([32]byte{}))
	require.Equal(t, http.StatusOK, resp.Status)
	assert.Same(t, list, resp.Body.(*registry.List))
	resp = sn.ask(t, "poller", sn.regAt, registry.NewListRequest(list.BlockHash))
	assert.Equal(t, http.StatusNotModified, resp.Status)
	assert.Nil(t, resp.Body)

	resp = sn.ask(t, "stranger", sn.regAt, registry.NewProofRequest([32]byte{9}))
	assert.Equal(t, http.StatusNotFound, resp.Status)
	resp = sn.ask(t, "garbage", sn.regAt, actor.Request{Method: registry.MethodReport, Body: "x"})
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	resp = sn.ask(t, "lost", sn.regAt, actor.Request{Method: "/nope"})
	assert.Equal(t, http.StatusNotFound, resp.Status)
}

func TestRegistryDeterministic(t *testing.T) {
	trace := func() []string {
		sn := newSimNet(t, 25, registry.ShortConfig())
		sn.engine.RunFor(2 * time.Minute)
		require.NoError(t, sn.engine.Crash(sn.addrs[3]))
		for i, n := range sn.nodes {
			if i != 3 {
				n.suspect = sn.regs[3].Ed25519
			}
		}
		// A node joins later.
		late := registry.Registrations(7, 25, 1)[0]
		sn.engine.At(sn.engine.Now().Add(10*time.Minute), func() { require.NoError(t, sn.reg.Register(late)) })
		sn.engine.RunFor(40 * time.Minute)
		var out []string
		for _, o := range sn.events {
			out = append(out, fmt.Sprintf("%s %+v", o.Event.EventName(), o))
		}
		return out
	}
	a, b := trace(), trace()
	require.Equal(t, a, b)
	joined := false
	for _, s := range a {
		joined = joined || len(s) > 19 && s[:19] == "registry.registered"
	}
	assert.True(t, joined)
}

func TestBootstrap(t *testing.T) {
	reg, err := registry.New(registry.ShortConfig())
	require.NoError(t, err)
	e, err := sim.New(sim.Config{Seed: 1})
	require.NoError(t, err)
	for _, r := range registry.Registrations(1, 0, 14) {
		require.NoError(t, reg.Register(r))
	}
	list, err := reg.Bootstrap(e.Now())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), list.Height)
	assert.Equal(t, 14, list.ActiveCount())
	assert.Len(t, list.Ring().IDs(), 2)
	_, err = reg.Bootstrap(e.Now())
	assert.Error(t, err)

	h, err := e.AddHost(sim.HostConfig{Name: "r"})
	require.NoError(t, err)
	_, err = e.Spawn(h, 1, "registry", reg)
	require.NoError(t, err)
	e.RunFor(5 * time.Minute)
	assert.Equal(t, uint64(3), reg.Height(), "blocks continue from the bootstrap block")
}
