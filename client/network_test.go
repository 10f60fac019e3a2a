package client_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// simNet is a small Session network on the real engine: the registry, one seed node, service
// nodes and clients.
type simNet struct {
	t       testing.TB
	e       *sim.Engine
	reg     *registry.Registry
	seed    actor.Addr
	clients []*client.Client
	addrs   []actor.Addr
	events  actortest.Log
}

const netSeed = 7

func newSimNet(t testing.TB, nodes int, platforms []client.Platform, mode cryptomode.Mode) *simNet {
	t.Helper()
	network, err := simlink.New(netem.Config{})
	require.NoError(t, err)
	e, err := sim.New(sim.Config{Seed: netSeed, Network: network})
	require.NoError(t, err)
	sn := &simNet{t: t, e: e}
	e.AddSink(sn.events.Add)
	suite := cryptomode.New(mode, cryptomode.DefaultCosts)

	regHost, err := e.AddHost(sim.HostConfig{Name: "registry", Link: simlink.Host{Region: "eu-central-1", Profile: netem.DataCentre}})
	require.NoError(t, err)
	regAddr := netip.AddrPortFrom(e.HostIP(regHost), 22022)
	sn.seed = netip.AddrPortFrom(e.HostIP(regHost), 443)
	sn.reg, err = registry.New(registry.Config{Seed: netSeed, Seeds: []actor.Addr{sn.seed}})
	require.NoError(t, err)

	specs, err := placement.Plan(placement.Config{Seed: netSeed, Nodes: nodes}, e.Stream("plan"))
	require.NoError(t, err)
	for _, s := range specs {
		require.NoError(t, sn.reg.Register(s.Registration))
	}
	list, err := sn.reg.Bootstrap(e.Now())
	require.NoError(t, err)
	// The nodes share the world's list index and key memo, as the world builder's do.
	nodeConf := node.Config{Suite: suite, Registry: regAddr, Views: node.NewViews(), KeyMemo: identity.NewX25519Memo()}
	for _, s := range specs {
		h, err := e.AddHost(sim.HostConfig{Name: s.Name, IP: s.Addr.Addr(), Link: simlink.Host{Region: s.Region, Profile: netem.DataCentre}})
		require.NoError(t, err)
		n, err := node.New(nodeConf, s.Keys, memory.New(memory.Config{}))
		require.NoError(t, err)
		n.SetList(list)
		_, err = e.Spawn(h, s.Addr.Port(), s.Name, n)
		require.NoError(t, err)
	}
	_, err = e.Spawn(regHost, regAddr.Port(), "registry", sn.reg)
	require.NoError(t, err)
	_, err = e.Spawn(regHost, sn.seed.Port(), "seed", registry.NewSeedNode(list))
	require.NoError(t, err)

	dir := client.NewDirectory()
	for k, p := range platforms {
		profile := netem.Broadband
		if p != client.Desktop {
			profile = netem.Mobile4G
		}
		name := fmt.Sprintf("client-%d", k)
		h, err := e.AddHost(sim.HostConfig{Name: name, Link: simlink.Host{Region: "eu-west-1", Profile: profile}})
		require.NoError(t, err)
		cfg := client.DefaultConfig(p)
		cfg.Seeds, cfg.Directory, cfg.Suite = []actor.Addr{sn.seed}, dir, suite
		c, err := client.New(cfg, identity.Derive(netSeed, name))
		require.NoError(t, err)
		addr, err := e.Spawn(h, 5000, name, c)
		require.NoError(t, err)
		sn.clients = append(sn.clients, c)
		sn.addrs = append(sn.addrs, addr)
	}
	return sn
}

// do runs f as client k (the runner's way of driving a client).
func (sn *simNet) do(k int, f func()) { require.NoError(sn.t, sn.e.Invoke(sn.addrs[k], f)) }

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
			sn := newSimNet(t, 12, []client.Platform{client.Desktop, client.IOS, client.Android}, mode)
			sn.e.RunFor(30 * time.Second)
			for k, c := range sn.clients {
				require.Len(t, c.Paths(), 2, "client %d has its paths", k)
			}
			for k := range sn.clients {
				sn.send(k, (k+1)%3, 100+k)
			}
			sn.e.RunFor(time.Minute)

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
	sn.e.RunFor(30 * time.Second)
	paths := sn.clients[0].Paths()
	require.Len(t, paths, 2)
	victim := paths[0][1]
	require.NoError(t, sn.e.Crash(victim))

	for range 3 {
		sn.send(0, 1, 200)
		sn.e.RunFor(20 * time.Second)
	}
	sn.e.RunFor(time.Minute)

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
	sn.e.RunFor(30 * time.Second)
	sn.do(1, sn.clients[1].GoOffline)
	for range 3 {
		sn.send(0, 1, 300)
		sn.e.RunFor(5 * time.Second)
	}
	sn.e.RunFor(time.Minute)
	assert.Empty(t, netEvents[client.MessageReceived](sn, sn.addrs[1]), "nothing arrives while offline")
	require.Len(t, netEvents[client.StoreResult](sn, sn.addrs[0]), 3)

	back := sn.e.Now()
	sn.do(1, sn.clients[1].GoOnline)
	sn.e.RunFor(30 * time.Second)
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
		keys := make([]identity.Keys, n)
		for k := range keys {
			keys[k] = identity.Derive(netSeed, fmt.Sprintf("idle-%d", k))
		}
		sn.e.RunFor(10 * time.Second)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for k := range n {
			h, err := sn.e.AddHost(sim.HostConfig{Name: fmt.Sprintf("idle-%d", k), Link: simlink.Host{Region: "eu-west-1", Profile: netem.Broadband}})
			require.NoError(b, err)
			cfg := client.DefaultConfig(client.Platform(k % 3))
			cfg.Seeds, cfg.Directory, cfg.Suite = []actor.Addr{sn.seed}, dir, suite
			c, err := client.New(cfg, keys[k])
			require.NoError(b, err)
			_, err = sn.e.Spawn(h, 5000, fmt.Sprintf("idle-%d", k), c)
			require.NoError(b, err)
			sn.clients = append(sn.clients, c)
		}
		sn.events = nil
		sn.e.RunFor(30 * time.Second)
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
