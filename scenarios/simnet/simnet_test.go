package simnet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// regionOf is the region and access link of the host at ip.
func regionOf(t *testing.T, n *Net, ip netip.Addr) (string, netem.Profile) {
	t.Helper()
	h, ok := n.Engine.HostByIP(ip)
	require.True(t, ok, "a host at %v", ip)
	r, err := n.Links.Region(simlink.ID(h))
	require.NoError(t, err)
	p, err := n.Links.Profile(simlink.ID(h))
	require.NoError(t, err)
	return n.Links.Matrix().Name(r), p
}

func TestNewPlacesRegistryAndSeeds(t *testing.T) {
	tests := []struct {
		name      string
		regions   []string
		seeds     int
		seedAreIn []string
	}{
		{"no seed nodes", []string{"eu-central-1"}, 0, nil},
		{"seeds take the regions in turn", []string{"eu-central-1", "us-east-1"}, 3, []string{"eu-central-1", "us-east-1", "eu-central-1"}},
		{"one region for all", []string{"ap-southeast-1"}, 2, []string{"ap-southeast-1", "ap-southeast-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(Config{Engine: sim.Config{Seed: 1}, Regions: tc.regions, SeedNodes: tc.seeds})
			require.NoError(t, err)
			assert.Equal(t, uint16(registryPort), n.RegistryAddr.Port())
			region, profile := regionOf(t, n, n.RegistryAddr.Addr())
			assert.Equal(t, tc.regions[0], region, "the registry is in the first region")
			assert.Equal(t, netem.DataCentre, profile)
			require.Len(t, n.Seeds, tc.seeds)
			for i, s := range n.Seeds {
				assert.Equal(t, uint16(seedPort), s.Port())
				region, profile := regionOf(t, n, s.Addr())
				assert.Equal(t, tc.seedAreIn[i], region, "seed %d", i)
				assert.Equal(t, seedProfile, profile)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no region", Config{}, "no region"},
		{"a region the matrix lacks", Config{Regions: []string{"mars-north-1"}}, "mars-north-1"},
		{"a bad link model", Config{Regions: []string{"eu-central-1"}, Links: netem.Config{PathJitter: -1}}, "network model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestAddClientUsesTheAppsLink(t *testing.T) {
	tests := []struct {
		platform client.Platform
		want     netem.Profile
	}{
		{client.Desktop, netem.Broadband},
		{client.IOS, netem.Mobile4G},
		{client.Android, netem.Mobile4G},
	}
	n, err := New(Config{Regions: []string{"eu-central-1"}})
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.platform.String(), func(t *testing.T) {
			h, addr, err := n.AddClient("client-"+tc.platform.String(), "us-west-2", tc.platform)
			require.NoError(t, err)
			assert.Equal(t, n.Engine.HostIP(h), addr.Addr())
			assert.Equal(t, uint16(ClientPort), addr.Port())
			region, profile := regionOf(t, n, addr.Addr())
			assert.Equal(t, "us-west-2", region)
			assert.Equal(t, tc.want, profile)
		})
	}
}

// TestNodesAndSeedsGetTheLists lays a network out, checks that every node is registered and
// listed at its planned address, and, once started, that the list with a node registered later
// is pushed to every node and to the seed node.
func TestNodesAndSeedsGetTheLists(t *testing.T) {
	n, err := New(Config{Engine: sim.Config{Seed: 3}, Regions: []string{"eu-central-1"}, SeedNodes: 1})
	require.NoError(t, err)
	var events actortest.Log
	n.Engine.AddSink(events.Add)
	specs, err := placement.Plan(placement.Config{Seed: 3, Nodes: 13}, n.Engine.Stream("plan"))
	require.NoError(t, err)
	late := specs[12]
	specs = specs[:12]
	for _, s := range specs {
		h, err := n.AddNode(s.Registration)
		require.NoError(t, err)
		assert.Equal(t, s.Addr.Addr(), n.Engine.HostIP(h), "%s is at its planned address", s.Name)
		region, profile := regionOf(t, n, s.Addr.Addr())
		assert.Equal(t, s.Region, region)
		assert.Equal(t, netem.DataCentre, profile)
	}
	_, err = n.AddNode(specs[0].Registration)
	assert.Error(t, err, "a node's address is taken once")

	list, err := n.Registry.Bootstrap(n.Engine.Now())
	require.NoError(t, err)
	require.Len(t, list.Nodes, len(specs))
	for _, s := range specs {
		p, ok := list.Find(s.Ed25519)
		require.True(t, ok, "%s is listed", s.Name)
		assert.Equal(t, s.Addr, p.Addr)
	}
	require.NoError(t, n.Start(list))
	assert.True(t, n.Engine.Alive(n.RegistryAddr), "the registry runs")
	assert.True(t, n.Engine.Alive(n.Seeds[0]), "the seed node runs")

	_, err = n.AddNode(late.Registration)
	require.NoError(t, err)
	n.Engine.RunFor(5 * time.Minute)
	published := actortest.EventsOf[registry.ListPublished](events)
	require.NotEmpty(t, published)
	last := published[len(published)-1]
	assert.Equal(t, len(specs)+1, last.Nodes, "the late node is listed")
	assert.Equal(t, last.Nodes+1, last.Pushes, "the list goes to every node and to the seed node")
}
