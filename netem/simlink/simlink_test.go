package simlink_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

func newEngine(t *testing.T) (*sim.Engine, *simlink.Network) {
	t.Helper()
	links, err := simlink.New(netem.Config{})
	require.NoError(t, err)
	e, err := sim.New(sim.Config{Network: links})
	require.NoError(t, err)
	return e, links
}

func TestAddHostRefusesBadLinks(t *testing.T) {
	tests := []struct {
		name string
		link any
		want string
	}{
		{"no link", nil, "link is a <nil>"},
		{"pointer", &simlink.Host{Region: "us-east-1"}, "link is a *simlink.Host"},
		{"other type", "us-east-1", "link is a string"},
		{"no region", simlink.Host{}, "needs a region (one of [us-east-1"},
		{"unknown region", simlink.Host{Region: "moon-1"}, `unknown region "moon-1"`},
		{"bad profile", simlink.Host{Region: "us-east-1", Profile: netem.Profile{Name: "bad", Loss: 2}}, "loss 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, links := newEngine(t)
			_, err := e.AddHost(sim.HostConfig{Name: "x", Link: tt.link})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Zero(t, e.Hosts(), "the engine adds nothing")
			assert.Zero(t, links.Model().Len(), "nor does the network")
		})
	}
}

// A host added to the network behind the engine's back breaks the shared numbering: the next
// host the engine adds is refused.
func TestAddHostKeepsNumbersInStep(t *testing.T) {
	e, links := newEngine(t)
	_, err := links.Model().AddHost(0, netem.Profile{})
	require.NoError(t, err)
	_, err = e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "us-east-1"}})
	assert.ErrorContains(t, err, "add every host through the engine")
	assert.Zero(t, e.Hosts())
}

// The engine's hosts are the network's, by number, and what the engine asks of the adapter is
// what netem answers.
func TestEngineHostsAreNetworkHosts(t *testing.T) {
	e, links := newEngine(t)
	net := links.Model()
	dc := netem.Profile{Name: "dc", Latency: time.Millisecond}
	regions := []string{"eu-central-1", "us-east-1", "us-east-1"}
	var hosts []sim.HostID
	for _, r := range regions {
		h, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: r, Profile: dc}})
		require.NoError(t, err)
		hosts = append(hosts, h)
	}
	require.Equal(t, len(regions), net.Len())
	for i, h := range hosts {
		region, err := net.Region(simlink.ID(h))
		require.NoError(t, err)
		assert.Equal(t, regions[i], net.Matrix().Name(region))
		p, err := net.Profile(simlink.ID(h))
		require.NoError(t, err)
		assert.Equal(t, dc, p)
	}

	fra, iad := hosts[0], hosts[1]
	rtt := net.BaseRTT(simlink.ID(fra), simlink.ID(iad))
	require.Greater(t, rtt, 4*time.Millisecond, "two access links both ways and the backbone")
	assert.Equal(t, rtt, links.RTT(fra, iad))

	at := e.Epoch().UnixNano()
	arrive, ok := links.Transit(fra, iad, 0, at, nil)
	require.True(t, ok)
	fraRegion, _ := net.Region(simlink.ID(fra))
	iadRegion, _ := net.Region(simlink.ID(iad))
	oneWay := 2*dc.Latency + net.Matrix().RTT(fraRegion, iadRegion)/2
	assert.Equal(t, oneWay, time.Duration(arrive-at), "an empty message on links without jitter: both access links and half the matrix RTT")

	cut := e.Epoch().Add(time.Minute)
	_, err := net.Partition(cut, []netem.HostID{simlink.ID(fra)}, []netem.HostID{simlink.ID(iad)})
	require.NoError(t, err)
	assert.True(t, links.Reachable(fra, iad, cut.UnixNano()-1))
	assert.False(t, links.Reachable(fra, iad, cut.UnixNano()))
	assert.True(t, links.Reachable(iad, hosts[2], cut.UnixNano()), "hosts outside the partition still talk")
	_, ok = links.Transit(fra, iad, 0, cut.UnixNano(), nil)
	assert.False(t, ok)
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := simlink.New(netem.Config{MSS: -1})
	assert.ErrorContains(t, err, "MSS")
}
