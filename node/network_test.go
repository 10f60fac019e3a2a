package node

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/sim"
)

// simNet is a network of nodes and the registry on the real engine and link model.
type simNet struct {
	*simnet.Net
	t       testing.TB
	cfg     Config
	nodes   map[[32]byte]*Node
	addrs   map[[32]byte]actor.Addr
	hosts   map[[32]byte]sim.HostID
	client  *probe
	planned int
	r       *rand.Rand
}

// probe is a client actor the test drives with Invoke.
type probe struct{ env actor.Env }

func (p *probe) Start(env actor.Env)                               { p.env = env }
func (p *probe) Handle(actor.Addr, actor.Request, actor.Responder) {}

const simNetSeed = 42

func newSimNet(t testing.TB, nodes int, cfg Config, rcfg registry.Config) *simNet {
	return newSeededSimNet(t, simNetSeed, nodes, cfg, rcfg)
}

// newSeededSimNet is newSimNet with its own seed for the engine, the registry and the plan.
func newSeededSimNet(t testing.TB, seed uint64, nodes int, cfg Config, rcfg registry.Config) *simNet {
	t.Helper()
	net, err := simnet.New(simnet.Config{Engine: sim.Config{Seed: seed}, Registry: rcfg, Regions: []string{"eu-central-1"}})
	require.NoError(t, err)
	sn := &simNet{Net: net, t: t, cfg: cfg, nodes: map[[32]byte]*Node{}, addrs: map[[32]byte]actor.Addr{}, hosts: map[[32]byte]sim.HostID{}, r: net.Engine.Stream("test")}
	sn.cfg.Registry = net.RegistryAddr
	// The nodes share the world's list index and key memo, as the world builder's do.
	sn.cfg.Views, sn.cfg.KeyMemo = NewViews(), identity.NewX25519Memo()

	specs := sn.plan(nodes)
	list, err := sn.Registry.Bootstrap(sn.Engine.Now())
	require.NoError(t, err)
	for _, s := range specs {
		sn.spawn(s, list)
	}
	require.NoError(t, net.Start(list))

	h, _, err := net.AddClient("client", "eu-west-1", client.Desktop)
	require.NoError(t, err)
	sn.client = &probe{}
	_, err = sn.Engine.Spawn(h, simnet.ClientPort, "client", sn.client)
	require.NoError(t, err)
	return sn
}

// plan draws n more nodes, places their hosts and registers them.
func (sn *simNet) plan(n int) []placement.Spec {
	specs, err := placement.Plan(placement.Config{Seed: sn.Engine.Seed(), Nodes: n, FirstIndex: sn.planned, NamePrefix: fmt.Sprintf("node-%d-", sn.planned)}, sn.r)
	require.NoError(sn.t, err)
	sn.planned += n
	for _, s := range specs {
		sn.hosts[s.Ed25519], err = sn.AddNode(s.Registration)
		require.NoError(sn.t, err)
	}
	return specs
}

// spawn starts the node of s on its host; list (may be nil) is given before it starts.
func (sn *simNet) spawn(s placement.Spec, list *registry.List) {
	n, err := New(sn.cfg, s.Keys, memory.New(memory.Config{}))
	require.NoError(sn.t, err)
	if list != nil {
		n.SetList(list)
	}
	_, err = sn.Engine.Spawn(sn.hosts[s.Ed25519], s.Addr.Port(), s.Name, n)
	require.NoError(sn.t, err)
	sn.nodes[s.Ed25519] = n
	sn.addrs[s.Ed25519] = s.Addr
}

// store posts a store for a fresh account to a random member of its swarm (as the registry
// has it), runs until the answer, which must be 200, and returns the hash.
func (sn *simNet) store(i int) (string, storagerpc.Pubkey) {
	list := sn.Registry.Published()
	acct := accountIn(sn.t, list, sn.randomSwarm(list), realSuite, fmt.Sprintf("user-%d", i))
	r := storagerpc.NewStore(acct.pubkey, 0, sn.Engine.Now().UnixMilli(), 14*24*time.Hour, []byte(fmt.Sprintf("message %d", i)))
	owner, _ := list.Ring().Owner(swarm.Space(acct.pubkey.Key))
	members := list.Members(owner)
	var to actor.Addr
	for _, k := range sn.r.Perm(len(members)) {
		if sn.Engine.Alive(members[k].Addr) {
			to = members[k].Addr
			break
		}
	}
	resp := sn.call(sn.t, to, encode(r))
	require.Equal(sn.t, 200, resp.Status)
	return storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data), acct.pubkey
}

// call sends body to the node at to from the client, as a storage RPC, and runs the engine
// until the answer.
func (sn *simNet) call(t testing.TB, to actor.Addr, body []byte) actor.Response {
	t.Helper()
	var (
		resp actor.Response
		err  error
		done bool
	)
	req := actor.Request{Method: MethodStorageRPC, Body: body, Size: transport.HTTPSRequestSize(to, MethodStorageRPC, transport.JSON, len(body))}
	require.NoError(t, sn.Engine.Invoke(sn.client.env.Self(), func() {
		sn.client.env.Call(to, req, 10*time.Second, func(r actor.Response, e error) { resp, err, done = r, e, true })
	}))
	for !done && sn.Engine.Step() {
	}
	require.True(t, done, "no answer")
	require.NoError(t, err)
	return resp
}

func (sn *simNet) randomSwarm(l *registry.List) swarm.ID {
	ids := l.Ring().IDs()
	return ids[sn.r.IntN(len(ids))]
}

// holders lists the live nodes holding hash.
func (sn *simNet) holders(hash string) [][32]byte {
	var out [][32]byte
	for k, n := range sn.nodes {
		if !sn.Engine.Alive(sn.addrs[k]) {
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
	sn := newSimNet(t, 30, Config{}, registry.Config{})
	sn.Engine.RunFor(5 * time.Second)
	list := sn.Registry.Published()
	for i := range 40 {
		start := sn.Engine.Now()
		hash, pk := sn.store(i)
		assert.Less(t, sn.Engine.Now().Sub(start), time.Second, "message %d answered", i)
		owner, _ := list.Ring().Owner(swarm.Space(pk.Key))
		var want [][32]byte
		for _, p := range list.Members(owner) {
			want = append(want, p.Ed25519)
		}
		assert.ElementsMatch(t, want, sn.holders(hash), "message %d one second after its store", i)
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
	// The pooled reports decide at once, so that the swarms re-form within the run.
	rcfg := registry.Config{DecommissionAfter: 6 * time.Minute, UptimeProofMaxAge: 10 * time.Minute, Obligations: registry.ObligationsPooled}
	sn := newSeededSimNet(t, seed, 30, cfg, rcfg)
	var res churnResult
	sn.Engine.AddSink(func(_ time.Time, _ actor.Addr, ev actor.Event) {
		if m, ok := ev.(SwarmDataMoved); ok && m.OK {
			res.moved++
		}
	})
	sn.Engine.RunFor(5 * time.Second)
	var hashes []string
	for i := range 60 {
		h, _ := sn.store(i)
		hashes = append(hashes, h)
	}

	// The smallest swarm of at least 7 loses two members.
	list := sn.Registry.Published()
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
		require.NoError(t, sn.Engine.Crash(sn.addrs[k]))
	}
	// Operators register four new nodes, and start their storage servers a few minutes
	// later, once the registry has already put them in swarms: members that push at once
	// find nobody there.
	newcomers := sn.plan(4)
	startAt := sn.Engine.Now().Add(4 * time.Minute)
	// Keep storing during the churn, then wait until both dead nodes are decommissioned and a
	// few more blocks have passed.
	deadline := sn.Engine.Now().Add(40 * time.Minute)
	settledAt := time.Time{}
	for i := 60; sn.Engine.Now().Before(deadline); i++ {
		if newcomers != nil && !sn.Engine.Now().Before(startAt) {
			for _, s := range newcomers {
				sn.spawn(s, nil)
			}
			newcomers = nil
		}
		if i%3 == 0 {
			h, _ := sn.store(i)
			hashes = append(hashes, h)
		}
		sn.Engine.RunFor(10 * time.Second)
		if settledAt.IsZero() {
			gone := 0
			for _, k := range dead {
				if r, ok := sn.Registry.Node(k); ok && r.State != registry.StateActive {
					gone++
				}
			}
			if gone == len(dead) {
				settledAt = sn.Engine.Now()
				deadline = settledAt.Add(5 * time.Minute)
			}
		}
	}
	res.decommission = !settledAt.IsZero()

	final := sn.Registry.Published()
	ring := final.Ring()
	res.messages, res.minCopies = len(hashes), 1<<30
	for _, h := range hashes {
		holders := sn.holders(h)
		res.minCopies = min(res.minCopies, len(holders))
		if len(holders) < 5 {
			res.underFive++
		}
		m, _ := sn.anyCopy(h)
		owner, _ := ring.Owner(m.Owner.SwarmSpace())
		for _, p := range final.Members(owner) {
			if !sn.Engine.Alive(p.Addr) {
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
func (sn *simNet) anyCopy(hash string) (store.Message, bool) {
	for _, n := range sn.nodes {
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
