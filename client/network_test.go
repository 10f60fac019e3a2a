package client_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/sim"
)

// simNet is a small Session network on the real engine: the registry, one seed node, service
// nodes and clients.
type simNet struct {
	*simnet.Net
	t       testing.TB
	clients []*client.Client
	addrs   []actor.Addr
	events  actortest.Log
	dir     *client.Directory
	suite   cryptomode.Suite
	servers map[string]actor.Addr // the nodes' table of servers (node.Config.Servers)
}

const netSeed = 7

func newSimNet(t testing.TB, nodes int, platforms []client.Platform, mode cryptomode.Mode) *simNet {
	t.Helper()
	net, err := simnet.New(simnet.Config{Engine: sim.Config{Seed: netSeed}, Regions: []string{"eu-central-1"}, SeedNodes: 1})
	require.NoError(t, err)
	sn := &simNet{Net: net, t: t, servers: map[string]actor.Addr{}}
	sn.Engine.AddSink(sn.events.Add)
	suite := cryptomode.New(mode, cryptomode.DefaultCosts)

	specs, err := placement.Plan(placement.Config{Seed: netSeed, Nodes: nodes}, sn.Engine.Stream("plan"))
	require.NoError(t, err)
	hosts := make([]sim.HostID, len(specs))
	for i, s := range specs {
		hosts[i], err = net.AddNode(s.Registration)
		require.NoError(t, err)
	}
	list, err := net.Registry.Bootstrap(sn.Engine.Now())
	require.NoError(t, err)
	// The nodes share the world's list index and key memo, as the world builder's do.
	sn.servers, sn.suite = map[string]actor.Addr{}, suite
	nodeConf := node.Config{Suite: suite, Registry: net.RegistryAddr, Views: node.NewViews(), KeyMemo: identity.NewX25519Memo(), Servers: sn.servers}
	for i, s := range specs {
		n, err := node.New(nodeConf, s.Keys, memory.New(memory.Config{}))
		require.NoError(t, err)
		n.SetList(list)
		_, err = sn.Engine.Spawn(hosts[i], s.Addr.Port(), s.Name, n)
		require.NoError(t, err)
	}
	require.NoError(t, net.Start(list))

	dir := client.NewDirectory()
	sn.dir = dir
	for k, p := range platforms {
		sn.spawnClient(fmt.Sprintf("client-%d", k), p, dir, suite)
	}
	return sn
}

// spawnClient starts a client running app p in eu-west-1; mods change its configuration.
func (sn *simNet) spawnClient(name string, p client.Platform, dir *client.Directory, suite cryptomode.Suite, mods ...func(*client.Config)) {
	h, addr, err := sn.AddClient(name, "eu-west-1", p)
	require.NoError(sn.t, err)
	cfg := client.DefaultConfig(p)
	cfg.Seeds, cfg.Directory, cfg.Suite = sn.Seeds, dir, suite
	for _, mod := range mods {
		mod(&cfg)
	}
	c, err := client.New(cfg, identity.Derive(netSeed, name))
	require.NoError(sn.t, err)
	_, err = sn.Engine.Spawn(h, simnet.ClientPort, name, c)
	require.NoError(sn.t, err)
	sn.clients = append(sn.clients, c)
	sn.addrs = append(sn.addrs, addr)
}

// addServer places a server on its own host in eu-central-1, known to every node as host, with
// keys derived from name like every actor's; newActor makes it with its X25519 key pair. It
// returns the server's address and how clients address it.
func (sn *simNet) addServer(name, host string, newActor func(kp cryptomode.X25519KeyPair) actor.Actor) (actor.Addr, onion.Server) {
	sn.t.Helper()
	h, addr, err := sn.AddServer(name, "eu-central-1", 2)
	require.NoError(sn.t, err)
	keys := identity.Derive(netSeed, name)
	kp, _, err := sn.suite.X25519FromSecret(keys.X25519Secret)
	require.NoError(sn.t, err)
	_, err = sn.Engine.Spawn(h, simnet.ServerPort, name, newActor(kp))
	require.NoError(sn.t, err)
	sn.servers[host] = addr
	return addr, onion.Server{Host: host, X25519: kp.Public}
}

// do runs f as client k (the runner's way of driving a client).
func (sn *simNet) do(k int, f func()) { require.NoError(sn.t, sn.Engine.Invoke(sn.addrs[k], f)) }

func (sn *simNet) send(from, to int, size int) {
	sn.do(from, func() { sn.clients[from].Send(sn.clients[to].ID(), size) })
}

func netEvents[T actor.Event](sn *simNet, from actor.Addr) []T {
	var out []T
	for _, s := range sn.events {
		if t, ok := s.Event.(T); ok && (from == actor.Addr{} || s.From == from) {
			out = append(out, t)
		}
	}
	return out
}

// delivered maps each received hash to the receiving client.
func (sn *simNet) delivered() map[string][]int {
	out := map[string][]int{}
	for _, s := range sn.events {
		if r, ok := s.Event.(client.MessageReceived); ok {
			out[r.Hash] = append(out[r.Hash], slices.Index(sn.addrs, s.From))
		}
	}
	return out
}

func TestNetworkDeliversEndToEnd(t *testing.T) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		t.Run(mode.String(), func(t *testing.T) {
			platforms := []client.Platform{client.Desktop, client.IOS, client.Android}
			sn := newSimNet(t, 12, platforms, mode)
			sn.Engine.RunFor(30 * time.Second)
			for k, c := range sn.clients {
				cfg := client.DefaultConfig(platforms[k])
				require.Len(t, c.Paths(), cfg.Paths+cfg.FilePaths, "client %d has its paths", k)
			}
			for k := range sn.clients {
				sn.send(k, (k+1)%3, 100+k)
			}
			sn.Engine.RunFor(time.Minute)

			sent := netEvents[client.MessageSent](sn, actor.Addr{})
			require.Len(t, sent, 3)
			for _, r := range netEvents[client.StoreResult](sn, actor.Addr{}) {
				assert.Equal(t, client.OK, r.Failure)
			}
			got := sn.delivered()
			for k, s := range sent {
				assert.Equal(t, []int{(k + 1) % 3}, got[s.Hash], "message %d reached its recipient once", k)
			}
			for _, r := range netEvents[client.MessageReceived](sn, actor.Addr{}) {
				assert.Contains(t, []identity.ID{sn.clients[0].ID(), sn.clients[1].ID(), sn.clients[2].ID()}, r.From)
			}
			for _, g := range netEvents[client.GarbageReceived](sn, actor.Addr{}) {
				t.Errorf("garbage on a healthy network: %v", g.Kind)
			}
			rtts := netEvents[client.OnionRoundTrip](sn, actor.Addr{})
			require.NotEmpty(t, rtts)
			for _, r := range rtts {
				assert.Equal(t, client.OK, r.Failure, "%s via %v", r.Method, r.Guard)
				assert.Positive(t, r.RTT)
			}
		})
	}
}

func TestNetworkRebuildsPathAroundDeadNode(t *testing.T) {
	sn := newSimNet(t, 12, []client.Platform{client.Desktop, client.Desktop}, cryptomode.Modeled)
	sn.Engine.RunFor(30 * time.Second)
	paths := sn.clients[0].Paths()
	require.Len(t, paths, 2)
	victim := paths[0][1]
	require.NoError(t, sn.Engine.Crash(victim))

	for range 3 {
		sn.send(0, 1, 200)
		sn.Engine.RunFor(20 * time.Second)
	}
	sn.Engine.RunFor(time.Minute)

	for _, p := range sn.clients[0].Paths() {
		assert.NotContains(t, p, victim, "the dead node left the paths")
	}
	assert.Positive(t, sn.clients[0].Stats().PathRebuilds, "the path through the dead node was repaired or replaced")
	got := sn.delivered()
	sent := netEvents[client.MessageSent](sn, sn.addrs[0])
	require.Len(t, sent, 3)
	for _, s := range sent {
		assert.Equal(t, []int{1}, got[s.Hash], "every message arrived once")
	}
	stored := netEvents[client.StoreResult](sn, sn.addrs[0])
	require.Len(t, stored, 3)
	for _, r := range stored {
		assert.Equal(t, client.OK, r.Failure)
	}
	var failed []client.OnionRoundTrip
	for _, r := range netEvents[client.OnionRoundTrip](sn, sn.addrs[0]) {
		if r.Failure != client.OK {
			failed = append(failed, r)
		}
	}
	t.Logf("failed onion requests: %+v", failed)
	assert.NotEmpty(t, failed, "the dead hop made requests fail")
}

func TestNetworkOfflineClientCatchesUp(t *testing.T) {
	sn := newSimNet(t, 12, []client.Platform{client.Android, client.IOS}, cryptomode.Modeled)
	sn.Engine.RunFor(30 * time.Second)
	sn.do(1, sn.clients[1].GoOffline)
	for range 3 {
		sn.send(0, 1, 300)
		sn.Engine.RunFor(5 * time.Second)
	}
	sn.Engine.RunFor(time.Minute)
	assert.Empty(t, netEvents[client.MessageReceived](sn, sn.addrs[1]), "nothing arrives while offline")
	require.Len(t, netEvents[client.StoreResult](sn, sn.addrs[0]), 3)

	back := sn.Engine.Now()
	sn.do(1, sn.clients[1].GoOnline)
	sn.Engine.RunFor(30 * time.Second)
	got := sn.delivered()
	sent := netEvents[client.MessageSent](sn, sn.addrs[0])
	require.Len(t, sent, 3)
	for _, s := range sent {
		assert.Equal(t, []int{1}, got[s.Hash])
	}
	for _, s := range sn.events {
		if _, ok := s.Event.(client.MessageReceived); ok {
			assert.Less(t, s.At.Sub(back), 10*time.Second, "caught up at once")
		}
	}
}

// BenchmarkIdleClientOnEngine measures the heap one started, polling client takes on the real
// engine (its state, its host and actor records, its pending timers), in modeled crypto, next
// to 50 nodes.
func BenchmarkIdleClientOnEngine(b *testing.B) {
	const n = 1000
	for b.Loop() {
		sn := newSimNet(b, 50, nil, cryptomode.Modeled)
		suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
		dir := client.NewDirectory()
		sn.Engine.RunFor(10 * time.Second)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for k := range n {
			sn.spawnClient(fmt.Sprintf("idle-%d", k), client.Platform(k%3), dir, suite)
		}
		sn.events = nil
		sn.Engine.RunFor(30 * time.Second)
		sn.events = nil
		runtime.GC()
		runtime.ReadMemStats(&m1)
		for _, c := range sn.clients {
			require.Len(b, c.Paths(), 2)
		}
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/n, "bytes/client")
		runtime.KeepAlive(sn)
	}
}
