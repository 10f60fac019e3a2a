package simlink_test

import (
	"math/rand/v2"
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

// tapped is one message as a tap was told of it.
type tapped struct {
	from, to     sim.HostID
	size         int
	sent, arrive int64
	ok           bool
}

// A tap is told of every message as the model carried it, lost ones included, and of nothing
// once removed.
func TestTapSeesEveryMessage(t *testing.T) {
	e, links := newEngine(t)
	lossy := netem.Profile{Name: "lossy", Latency: time.Millisecond, Loss: 1}
	a, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "us-east-1"}})
	require.NoError(t, err)
	b, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "eu-central-1"}})
	require.NoError(t, err)
	c, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "eu-central-1", Profile: lossy}})
	require.NoError(t, err)
	var got []tapped
	links.SetTap(func(from, to sim.HostID, size int, sent, arrive int64, ok bool) {
		got = append(got, tapped{from, to, size, sent, arrive, ok})
	})
	at := e.Epoch().UnixNano()
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		from, to sim.HostID
		size     int
	}{{a, b, 100}, {b, a, 5000}, {a, c, 10}}
	var want []tapped
	for i, tt := range tests {
		sent := at + int64(i)*int64(time.Second)
		arrive, ok := links.Transit(tt.from, tt.to, tt.size, sent, r)
		want = append(want, tapped{tt.from, tt.to, tt.size, sent, arrive, ok})
	}
	assert.Equal(t, want, got)
	assert.True(t, got[0].ok && got[1].ok, "the ideal links deliver")
	assert.False(t, got[2].ok, "a link losing every packet delivers nothing, and the tap hears of it")

	links.SetTap(nil)
	links.Transit(a, b, 1, at, r)
	assert.Len(t, got, len(tests), "a removed tap hears nothing more")
}

// The send path allocates nothing, with or without a tap.
func TestTransitAllocatesNothing(t *testing.T) {
	for _, name := range []string{"no tap", "a tap"} {
		t.Run(name, func(t *testing.T) {
			e, links := newEngine(t)
			a, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "us-east-1", Profile: netem.Broadband}})
			require.NoError(t, err)
			b, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "eu-central-1", Profile: netem.Mobile4G}})
			require.NoError(t, err)
			n := 0
			if name == "a tap" {
				links.SetTap(func(sim.HostID, sim.HostID, int, int64, int64, bool) { n++ })
			}
			r := rand.New(rand.NewPCG(1, 2))
			at := e.Epoch().UnixNano()
			allocs := testing.AllocsPerRun(1000, func() {
				at += int64(time.Millisecond)
				links.Transit(a, b, 1200, at, r)
			})
			assert.Zero(t, allocs)
			if name == "a tap" {
				assert.Equal(t, 1001, n, "told of every message (AllocsPerRun runs once more to warm up)")
			}
		})
	}
}
