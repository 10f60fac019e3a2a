package live_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
)

// TestRealActorsDeliverAMessage runs the real actors on the live driver: the registry, a seed
// node, service nodes with the memory store and two desktop clients, on loopback sockets in
// real time, with real cryptography. One client writes to the other until the message is
// delivered: every node-to-node body (forwards, their results, lists) crosses as bytes.
func TestRealActorsDeliverAMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small network in real time")
	}
	// World addresses, as the simulator places them; the driver binds loopback ones.
	d := live.New(live.Config{Codec: bodies.Codec(), Translate: true})
	defer d.Close()
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)

	regAddr := netip.MustParseAddrPort("198.51.100.1:22022")
	seeds := []actor.Addr{netip.MustParseAddrPort("198.51.100.2:443")}
	rc := registry.DefaultConfig()
	rc.Seeds = seeds
	reg, err := registry.New(rc)
	require.NoError(t, err)

	const nodes = 12
	keys := make([]identity.Keys, nodes)
	addrs := make([]actor.Addr, nodes)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		keys[i] = identity.Derive(1, name)
		// Each node in a /24 of its own: clients build paths across distinct subnets.
		addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, byte(10 + i), 1}), 22021)
		require.NoError(t, reg.Register(registry.Registration{Name: name, Ed25519: keys[i].Ed25519Public, X25519: keys[i].X25519Public, Addr: addrs[i], OMQPort: 22020, Region: "eu-central-1"}))
	}
	list, err := reg.Bootstrap(time.Now())
	require.NoError(t, err)
	require.NoError(t, d.Spawn(regAddr, "registry", reg))
	require.NoError(t, d.Spawn(seeds[0], "seed-1", registry.NewSeedNode(list)))
	for i := range nodes {
		cfg := node.DefaultConfig()
		cfg.Suite, cfg.Registry = suite, regAddr
		// Shared memos are not safe across goroutines: every node gets its own.
		cfg.Views, cfg.KeyMemo, cfg.Servers = node.NewViews(), identity.NewX25519Memo(), map[string]actor.Addr{}
		n, err := node.New(cfg, keys[i], memory.New(memory.Config{}))
		require.NoError(t, err)
		n.SetList(list)
		require.NoError(t, d.Spawn(addrs[i], fmt.Sprintf("node-%d", i), n))
	}

	var mu sync.Mutex
	var received []client.MessageReceived
	var sent int
	names := map[string]int{}
	d.AddSink(func(_ time.Time, _ actor.Addr, ev actor.Event) {
		mu.Lock()
		defer mu.Unlock()
		names[ev.EventName()]++
		switch e := ev.(type) {
		case client.MessageReceived:
			received = append(received, e)
		case client.MessageSent:
			sent++
		}
	})
	clients := make([]*client.Client, 2)
	caddrs := make([]actor.Addr, 2)
	for i := range clients {
		cfg := client.DefaultConfig(client.Desktop)
		cfg.Suite, cfg.Directory, cfg.Seeds = suite, client.NewDirectory(), seeds
		c, err := client.New(cfg, identity.Derive(1, fmt.Sprintf("client-%d", i)))
		require.NoError(t, err)
		clients[i] = c
		caddrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 64, 2, byte(i + 1)}), 40000)
		require.NoError(t, d.Spawn(caddrs[i], fmt.Sprintf("client-%d", i), c))
	}
	to := clients[1].ID()
	from := clients[0].ID()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(2 * time.Second)
		mu.Lock()
		for _, r := range received {
			if r.From == from && r.Namespace == 0 {
				mu.Unlock()
				t.Logf("delivered after %d sends; driver %+v", sent, d.Stats())
				return
			}
		}
		mu.Unlock()
		require.NoError(t, d.Invoke(caddrs[0], func() { _ = clients[0].Send(to, 100) }))
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("no message delivered in 60s (%d sent); driver %+v; events %v", sent, d.Stats(), names)
}
