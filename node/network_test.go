package node

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storage"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// simWorld is a network of nodes and the registry on the real engine and link model.
type simWorld struct {
	t       testing.TB
	e       *sim.Engine
	reg     *registry.Registry
	regAddr actor.Addr
	cfg     Config
	nodes   map[[32]byte]*Node
	addrs   map[[32]byte]actor.Addr
	client  *probe
	planned int
	r       *rand.Rand
	seed    uint64
}

// probe is a client actor the test drives with Invoke.
type probe struct{ env actor.Env }

func (p *probe) Start(env actor.Env)                               { p.env = env }
func (p *probe) Handle(actor.Addr, actor.Request, actor.Responder) {}

const worldSeed = 42

func newSimWorld(t testing.TB, nodes int, cfg Config, rcfg registry.Config) *simWorld {
	return newSeededWorld(t, worldSeed, nodes, cfg, rcfg)
}

// newSeededWorld is newSimWorld with its own seed for the engine, the registry and the plan.
func newSeededWorld(t testing.TB, seed uint64, nodes int, cfg Config, rcfg registry.Config) *simWorld {
	t.Helper()
	network, err := simlink.New(netem.Config{})
	require.NoError(t, err)
	e, err := sim.New(sim.Config{Seed: seed, Network: network})
	require.NoError(t, err)
	rcfg.Seed = seed
	reg, err := registry.New(rcfg)
	require.NoError(t, err)
	w := &simWorld{t: t, e: e, reg: reg, cfg: cfg, nodes: map[[32]byte]*Node{}, addrs: map[[32]byte]actor.Addr{}, r: e.Stream("test"), seed: seed}

	regHost, err := e.AddHost(sim.HostConfig{Name: "registry", Link: simlink.Host{Region: "eu-central-1", Profile: netem.DataCentre}})
	require.NoError(t, err)
	w.regAddr = netip.AddrPortFrom(e.HostIP(regHost), 22022)
	w.cfg.Registry = w.regAddr
	// The nodes share the world's list index and key memo, as the world builder's do.
	w.cfg.Views, w.cfg.KeyMemo = NewViews(), identity.NewX25519Memo()

	specs := w.plan(nodes)
	for _, s := range specs {
		require.NoError(t, reg.Register(s.Registration))
	}
	list, err := reg.Bootstrap(e.Now())
	require.NoError(t, err)
	for _, s := range specs {
		w.spawn(s, list)
	}
	_, err = e.Spawn(regHost, w.regAddr.Port(), "registry", reg)
	require.NoError(t, err)

	ch, err := e.AddHost(sim.HostConfig{Name: "client", Link: simlink.Host{Region: "eu-west-1", Profile: netem.Broadband}})
	require.NoError(t, err)
	w.client = &probe{}
	_, err = e.Spawn(ch, 40000, "client", w.client)
	require.NoError(t, err)
	return w
}

// plan draws n more node registrations.
func (w *simWorld) plan(n int) []placement.Spec {
	specs, err := placement.Plan(placement.Config{Seed: w.seed, Nodes: n, FirstIndex: w.planned, NamePrefix: fmt.Sprintf("node-%d-", w.planned)}, w.r)
	require.NoError(w.t, err)
	w.planned += n
	return specs
}

// spawn starts a node for s on a host of its own; list (may be nil) is given before it starts.
func (w *simWorld) spawn(s placement.Spec, list *registry.List) {
	h, err := w.e.AddHost(sim.HostConfig{Name: s.Name, IP: s.Addr.Addr(), Link: simlink.Host{Region: s.Region, Profile: netem.DataCentre}})
	require.NoError(w.t, err)
	n, err := New(w.cfg, s.Keys, memory.New(memory.Config{}))
	require.NoError(w.t, err)
	if list != nil {
		n.SetList(list)
	}
	_, err = w.e.Spawn(h, s.Addr.Port(), s.Name, n)
	require.NoError(w.t, err)
	w.nodes[s.Ed25519] = n
	w.addrs[s.Ed25519] = s.Addr
}

// store posts a store for a fresh account to a random member of its swarm (as the registry
// has it), runs until the answer, which must be 200, and returns the hash.
func (w *simWorld) store(i int) (string, storage.Pubkey) {
	list := w.reg.Published()
	acct := accountIn(w.t, list, w.randomSwarm(list), realSuite, fmt.Sprintf("user-%d", i))
	r := storage.NewStore(acct.pubkey, 0, w.e.Now().UnixMilli(), 14*24*time.Hour, []byte(fmt.Sprintf("message %d", i)))
	owner, _ := list.Ring().Owner(swarm.Space(acct.pubkey.Key))
	members := list.Members(owner)
	var to actor.Addr
	for _, k := range w.r.Perm(len(members)) {
		if w.e.Alive(members[k].Addr) {
			to = members[k].Addr
			break
		}
	}
	resp := w.call(w.t, to, encode(r))
	require.Equal(w.t, 200, resp.Status)
	return storage.MessageHash(r.Pubkey, r.Namespace, r.Data), acct.pubkey
}

// call sends body to the node at to from the client, as a storage RPC, and runs the engine
// until the answer.
func (w *simWorld) call(t testing.TB, to actor.Addr, body []byte) actor.Response {
	t.Helper()
	var (
		resp actor.Response
		err  error
		done bool
	)
	req := actor.Request{Method: MethodStorageRPC, Body: body, Size: transport.HTTPSRequestSize(to, MethodStorageRPC, transport.JSON, len(body))}
	require.NoError(t, w.e.Invoke(w.client.env.Self(), func() {
		w.client.env.Call(to, req, 10*time.Second, func(r actor.Response, e error) { resp, err, done = r, e, true })
	}))
	for !done && w.e.Step() {
	}
	require.True(t, done, "no answer")
	require.NoError(t, err)
	return resp
}

func (w *simWorld) randomSwarm(l *registry.List) swarm.ID {
	ids := l.Ring().IDs()
	return ids[w.r.IntN(len(ids))]
}

// holders lists the live nodes holding hash.
func (w *simWorld) holders(hash string) [][32]byte {
	var out [][32]byte
	for k, n := range w.nodes {
		if !w.e.Alive(w.addrs[k]) {
			continue
		}
		if _, ok, _ := n.Store().Get(hash); ok {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b [32]byte) int { return cmpPeer(Peer{Ed25519: a}, Peer{Ed25519: b}) })
	return out
}

func TestStoreReachesSwarmWithinOneSecond(t *testing.T) {
	w := newSimWorld(t, 30, Config{}, registry.Config{})
	w.e.RunFor(5 * time.Second)
	list := w.reg.Published()
	for i := range 40 {
		start := w.e.Now()
		hash, pk := w.store(i)
		assert.Less(t, w.e.Now().Sub(start), time.Second, "message %d answered", i)
		owner, _ := list.Ring().Owner(swarm.Space(pk.Key))
		var want [][32]byte
		for _, p := range list.Members(owner) {
			want = append(want, p.Ed25519)
		}
		assert.ElementsMatch(t, want, w.holders(hash), "message %d one second after its store", i)
	}
}

// churnRun stores messages, kills 2 members of a swarm of 7 or more, registers new nodes, and
// runs until the registry has decommissioned the dead nodes and the swarms settled. It returns,
// per unexpired message, its live copies and whether every live member of its owner swarm holds
// it.
type churnResult struct {
	messages     int
	minCopies    int
	underFive    int
	notEveryone  int // messages some live member of the owner swarm lacks
	decommission bool
	moved        int // SwarmDataMoved batches acknowledged
}

func churnRun(t *testing.T, seed uint64, version string) churnResult {
	cfg := Config{Version: version, UptimeProofInterval: 2 * time.Minute}
	rcfg := registry.Config{DecommissionAfter: 6 * time.Minute, UptimeProofMaxAge: 10 * time.Minute}
	w := newSeededWorld(t, seed, 30, cfg, rcfg)
	var res churnResult
	w.e.AddSink(func(_ time.Time, _ actor.Addr, ev actor.Event) {
		if m, ok := ev.(SwarmDataMoved); ok && m.OK {
			res.moved++
		}
	})
	w.e.RunFor(5 * time.Second)
	var hashes []string
	for i := range 60 {
		h, _ := w.store(i)
		hashes = append(hashes, h)
	}

	// The smallest swarm of at least 7 loses two members.
	list := w.reg.Published()
	var victim swarm.ID
	for _, id := range list.Ring().IDs() {
		if n := len(list.Members(id)); n >= 7 && (victim == 0 || n < len(list.Members(victim))) {
			victim = id
		}
	}
	require.NotZero(t, victim, "a swarm of at least 7 exists")
	members := list.Members(victim)
	dead := [][32]byte{members[1].Ed25519, members[4].Ed25519}
	for _, k := range dead {
		require.NoError(t, w.e.Crash(w.addrs[k]))
	}
	// Operators register four new nodes, and start their storage servers a few minutes
	// later, once the registry has already put them in swarms: members that push at once
	// find nobody there.
	newcomers := w.plan(4)
	for _, s := range newcomers {
		require.NoError(t, w.reg.Register(s.Registration))
	}
	startAt := w.e.Now().Add(4 * time.Minute)
	// Keep storing during the churn, then wait until both dead nodes are decommissioned and a
	// few more blocks have passed.
	deadline := w.e.Now().Add(40 * time.Minute)
	settledAt := time.Time{}
	for i := 60; w.e.Now().Before(deadline); i++ {
		if newcomers != nil && !w.e.Now().Before(startAt) {
			for _, s := range newcomers {
				w.spawn(s, nil)
			}
			newcomers = nil
		}
		if i%3 == 0 {
			h, _ := w.store(i)
			hashes = append(hashes, h)
		}
		w.e.RunFor(10 * time.Second)
		if settledAt.IsZero() {
			gone := 0
			for _, k := range dead {
				if r, ok := w.reg.Node(k); ok && r.State != registry.StateActive {
					gone++
				}
			}
			if gone == len(dead) {
				settledAt = w.e.Now()
				deadline = settledAt.Add(5 * time.Minute)
			}
		}
	}
	res.decommission = !settledAt.IsZero()

	final := w.reg.Published()
	ring := final.Ring()
	res.messages, res.minCopies = len(hashes), 1<<30
	for _, h := range hashes {
		holders := w.holders(h)
		res.minCopies = min(res.minCopies, len(holders))
		if len(holders) < 5 {
			res.underFive++
		}
		m, _ := w.anyCopy(h)
		owner, _ := ring.Owner(m.Owner.SwarmSpace())
		for _, p := range final.Members(owner) {
			if !w.e.Alive(p.Addr) {
				continue
			}
			if _, ok := slices.BinarySearchFunc(holders, p.Ed25519, func(a, b [32]byte) int {
				return cmpPeer(Peer{Ed25519: a}, Peer{Ed25519: b})
			}); !ok {
				res.notEveryone++
				break
			}
		}
	}
	t.Logf("%s: %d messages, min live copies %d, %d under 5 copies, %d missing on some live owner-swarm member, %d batches moved; %d swarms of sizes %v",
		version, res.messages, res.minCopies, res.underFive, res.notEveryone, res.moved, ring.Len(), swarmSizes(final))
	return res
}

// anyCopy finds a copy of the message anywhere, dead nodes included.
func (w *simWorld) anyCopy(hash string) (store.Message, bool) {
	for _, n := range w.nodes {
		if msg, found, _ := n.Store().Get(hash); found {
			return msg, true
		}
	}
	return store.Message{}, false
}

func swarmSizes(l *registry.List) []int {
	var out []int
	for _, id := range l.Ring().IDs() {
		out = append(out, len(l.Members(id)))
	}
	slices.Sort(out)
	return out
}

func TestChurnKeepsFiveLiveCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("40 minutes of virtual time per run")
	}
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			res := churnRun(t, seed, "2.11")
			require.True(t, res.decommission, "the registry decommissioned the dead nodes")
			assert.GreaterOrEqual(t, res.minCopies, 5, "2.11: every unexpired message has at least 5 live copies")
			assert.Zero(t, res.notEveryone, "2.11: every live member of each owner swarm holds its messages")
			assert.Positive(t, res.moved, "2.11: the handshake waits for the newcomers, so its pushes land")

			// 2.8 pushes once, when the list changes, with no handshake and no retry. The
			// newcomers' servers start minutes after the registry put them in swarms, so every
			// push finds nobody, and the newcomers never get the messages stored before they
			// started. Stores still reach every live member when they are made, so the swarm
			// that lost two of its members keeps its survivors' copies, but no more: fewer than
			// 2.11, whose pushes reach the newcomers.
			old := churnRun(t, seed, "2.8")
			require.True(t, old.decommission)
			assert.Zero(t, old.moved, "2.8: no push is acknowledged")
			assert.Positive(t, old.notEveryone, "2.8: newcomers lack the messages stored before they started")
			assert.GreaterOrEqual(t, old.minCopies, 5, "2.8: the survivors keep their copies")
			assert.Less(t, old.minCopies, res.minCopies, "2.8 keeps fewer live copies than 2.11")
		})
	}
}
