package scenarios

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/sim"
)

// TestWorldEvent: what a node reports of a client, at the client's address on the run's
// network, is put back to the client's world address; the nodes' own addresses and events
// that carry none are left alone.
func TestWorldEvent(t *testing.T) {
	sock, world := netip.MustParseAddr("10.200.1.11"), netip.MustParseAddr("10.0.3.7")
	nodeIP := netip.MustParseAddr("10.200.2.10")
	toWorld := func(ip netip.Addr) netip.Addr {
		if ip == sock {
			return world
		}
		return ip
	}
	tests := []struct {
		name    string
		in, out actor.Event
	}{
		{"a guard hop", node.OnionHop{From: sock, Guard: true, HopNo: 1}, node.OnionHop{From: world, Guard: true, HopNo: 1}},
		{"a relay hop", node.OnionHop{From: nodeIP, HopNo: 2, Role: node.HopRelay}, node.OnionHop{From: nodeIP, HopNo: 2, Role: node.HopRelay}},
		{"a direct request", node.RequestServed{Method: "retrieve", Via: node.ViaDirect, From: sock}, node.RequestServed{Method: "retrieve", Via: node.ViaDirect, From: world}},
		{"a seed request", registry.SeedRequest{From: sock, Size: 90}, registry.SeedRequest{From: world, Size: 90}},
		{"a link tap", proc.LinkTapped{From: nodeIP, To: sock, Size: 10, OK: true}, proc.LinkTapped{From: nodeIP, To: world, Size: 10, OK: true}},
		{"no address", node.OnionHop{Role: node.HopFailed}, node.OnionHop{Role: node.HopFailed}},
		{"another event", node.MessageStored{Hash: "h"}, node.MessageStored{Hash: "h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.out, worldEvent(tt.in, toWorld))
		})
	}
}

// TestDockerDriverWorldIP: a client spawned on its address of the run's network is known by
// its world address; one on a gateway port (no address of its own) is not told apart, and an
// address nobody has (a node's) is left as it is.
func TestDockerDriverWorldIP(t *testing.T) {
	sc := Default()
	sc.Nodes.Count, sc.Clients.Count = 3, 2
	w, err := buildWorld(sc, nil, nil)
	require.NoError(t, err)
	gateway := netip.MustParseAddr("10.200.0.1")
	clientAddrs := []netip.Addr{netip.MustParseAddr("10.200.1.11")}
	d := newDockerDriver(w.eng, w.net, gateway, clientAddrs, proc.NewFaults())
	defer d.Close()
	host := func(i int) sim.HostID {
		h, ok := w.eng.HostByIP(w.clients[i].addr.Addr())
		require.True(t, ok)
		return h
	}
	// Nothing runs: the driver has not started (spawns wait for it).
	a, err := d.Spawn(host(0), 5000, "c0", nil)
	require.NoError(t, err)
	b, err := d.Spawn(host(1), 5000, "c1", nil)
	require.NoError(t, err)
	assert.Equal(t, a.Addr(), d.worldIP(clientAddrs[0]))
	assert.Equal(t, netip.AddrPortFrom(clientAddrs[0], 5000), d.socket(a))
	assert.Equal(t, netip.AddrPortFrom(gateway, firstClientPort), d.socket(b), "out of addresses: a gateway port")
	assert.Equal(t, gateway, d.worldIP(gateway), "the gateway is no one's")
	other := netip.MustParseAddr("10.200.3.10")
	assert.Equal(t, other, d.worldIP(other))
}

// TestDockerModeMeasuresLeakage runs a world of 10 nodes and 20 desktop clients in containers
// for 2 minutes with a leakage section (make test-docker): a random coalition of every node,
// the largest operator, a sybil registering 2 nodes 10 s into the sending, and the link taps.
// The nodes' records come over their event streams; the test checks them against what the
// clients recorded of the same requests (every reached request's guard and destination hops,
// on the run's clock, at the nodes of its path), the summary's section against facts of the
// run, and the taps file for the links on both sides of the containers; nothing of the run
// may be left.
func TestDockerModeMeasuresLeakage(t *testing.T) {
	d, sc := dockerTestWorld(t, 0)
	sc.Nodes.Count, sc.Clients.Count = 10, 20
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Clients.GuardTest = "own-id"
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, false, 0
	sc.Warmup, sc.Duration, sc.Drain = 20*time.Second, 90*time.Second, 10*time.Second
	sc.Workload.MessagesPerHour = 120
	sc.Registry.BlockInterval = 5 * time.Second // the sybil nodes are listed within the run
	sc.Leakage = Leakage{LinkTaps: true, Adversaries: []Adversary{
		{Kind: "random", Fractions: []float64{1}},
		{Kind: "operator"},
		{Kind: "sybil", Fraction: 0.2, At: 10 * time.Second},
	}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())

	var taps bytes.Buffer
	w, s, err := run(sc, RunOptions{ReplicationSample: 20 * time.Second, LinkTaps: &taps, OnDocker: d.started})
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	l := s.Leakage
	require.NotNil(t, l, "docker mode writes the leakage section")
	t.Logf("sent %d delivered %d; %d active clients, %d active pairs, %.2f guard candidates tested", s.Messages.Sent, s.Messages.Delivered,
		l.ActiveClients, l.ActivePairs, l.GuardCandidatesTestedMean)
	for _, a := range l.Adversaries {
		t.Logf("%s: nodes %.1f exposure direct %v g+d %v full %v", a.Name, a.Nodes, deref(a.Exposure.Direct),
			deref(a.Exposure.GuardAndDestination), deref(a.Exposure.FullPath))
		for name, v := range map[string]*float64{"direct": a.Exposure.Direct, "guard and destination": a.Exposure.GuardAndDestination, "full path": a.Exposure.FullPath} {
			if v != nil {
				assert.GreaterOrEqual(t, *v, 0.0, "%s %s", a.Name, name)
				assert.LessOrEqual(t, *v, 1.0, "%s %s", a.Name, name)
			}
		}
	}
	require.Positive(t, l.ActiveClients)
	assert.GreaterOrEqual(t, l.GuardCandidatesTestedMean, 1.0, "every active client tested a guard")

	rec := w.leak
	t.Run("the nodes' records match the clients'", func(t *testing.T) {
		// The sybil's 2 containers joined and are its coalition; the coalition of every node
		// holds them too.
		assert.Equal(t, 2.0, adversary(t, l, "sybil").Nodes)
		assert.Equal(t, float64(len(rec.T.Nodes)), adversary(t, l, "random-1").Nodes)
		assert.Len(t, rec.T.Nodes, sc.Nodes.Count+2)
		op := adversary(t, l, "operator")
		assert.Positive(t, op.Nodes, "the largest operator runs nodes")
		all := adversary(t, l, "random-1")
		require.NotNil(t, all.Exposure.Direct)
		assert.Equal(t, 1.0, *all.Exposure.Direct, "every node together sees every active client's own-ID guard test")
		require.NotNil(t, all.Exposure.GuardAndDestination)
		assert.Positive(t, *all.Exposure.GuardAndDestination)

		// A node records a guard hop when the request arrives, the client the request once it
		// has ended, answered or timed out (client.Config.RequestTimeout): a guard hop that
		// arrived a timeout and the streams' 5 s before the end belongs to a request sent by
		// then that the client recorded; a later one's request may still be out at the end.
		settled := sc.Warmup + sc.Duration + sc.Drain - client.DefaultConfig(client.Desktop).RequestTimeout - 5*time.Second
		var guards, settledGuards, settledSent, dests, reached, unmatched int
		for i := range rec.Hop {
			h := &rec.Hop[i]
			if h.Guard() {
				guards++
				if h.Arrived <= settled {
					settledGuards++
				}
				assert.GreaterOrEqual(t, h.PrevClient(), int32(0), "a guard hop's client address is a client's world address")
			}
			if h.Role() == node.HopDestination {
				dests++
			}
			assert.GreaterOrEqual(t, h.Node, int32(0), "a hop is at a node of the tables")
		}
		end := sc.Warmup + sc.Duration + sc.Drain - 5*time.Second // streams may still carry the last hops
		for i := range rec.Onion {
			o := &rec.Onion[i]
			if o.Sent <= settled {
				settledSent++
			}
			path := rec.Hops(o.Path())
			if !o.Reached() || o.Dest < 0 || len(path) == 0 || o.Done > end {
				continue
			}
			reached++
			guard, dest := false, false
			for j := range rec.Hop {
				h := &rec.Hop[j]
				if h.Arrived < o.Sent || h.Arrived > o.Done {
					continue // on the run's clock, the node got it while the client waited
				}
				guard = guard || (h.Guard() && h.Node == path[0] && h.PrevClient() == o.Client)
				dest = dest || (h.Role() == node.HopDestination && h.Node == o.Dest && h.PrevNode() == path[len(path)-1])
			}
			if !guard || !dest {
				unmatched++
			}
		}
		t.Logf("%d onion requests sent (%d by %v), %d reached before the end; %d guard hops (%d by %v), %d destination hops, %d direct requests, %d seed requests",
			len(rec.Onion), settledSent, settled, reached, guards, settledGuards, settled, dests, len(rec.Direct), len(rec.Seed))
		require.Positive(t, reached)
		assert.Zero(t, unmatched, "every reached request has its guard and destination hop at its path's nodes")
		assert.LessOrEqual(t, settledGuards, settledSent, "no guard hop without a request sent")
		assert.GreaterOrEqual(t, guards, reached)
		assert.Positive(t, len(rec.Direct), "the guard tests reached the nodes as direct requests")
		assert.Positive(t, len(rec.Seed), "the clients bootstrapped from the registry's container")
		for _, d := range rec.Direct {
			assert.GreaterOrEqual(t, d.Client, int32(0), "a direct request's address is a client's world address")
		}
	})
	t.Run("the link taps", func(t *testing.T) {
		zr, err := gzip.NewReader(bytes.NewReader(taps.Bytes()))
		require.NoError(t, err)
		rows, err := csv.NewReader(zr).ReadAll()
		require.NoError(t, err)
		require.Greater(t, len(rows), 1)
		var clientLinks, nodeLinks, sybilLinks int
		for _, row := range rows[1:] {
			from, to := netip.MustParseAddr(row[2]), netip.MustParseAddr(row[3])
			fromNode, toNode := rec.T.NodeByIP(from), rec.T.NodeByIP(to)
			fromClient, toClient := rec.T.ClientByIP(from), rec.T.ClientByIP(to)
			switch {
			case fromNode >= 0 && toNode >= 0:
				nodeLinks++
				if rec.T.Nodes[fromNode].Sybil != "" {
					sybilLinks++
				}
			case fromClient >= 0 && toNode >= 0, fromNode >= 0 && toClient >= 0:
				clientLinks++
			}
		}
		t.Logf("%d taps: %d between clients and nodes, %d between nodes (%d from sybil nodes)", len(rows)-1, clientLinks, nodeLinks, sybilLinks)
		assert.Positive(t, clientLinks, "the harness's link model taps the clients' links, the nodes at their container addresses")
		assert.Positive(t, nodeLinks, "the nodes tap their links to each other")
		assert.Positive(t, sybilLinks, "a sybil node's container among them")
	})
	d.nothingLeft(t)
}
