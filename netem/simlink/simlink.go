// Package simlink puts the netem link model under the simulation engine: Network implements
// sim.Network over a *netem.Network. It is the one place that knows both, so that neither sim
// nor netem imports the other.
package simlink

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/sim"
)

// Host is the sim.HostConfig.Link of a host on a netem network.
type Host struct {
	// Region is one of the network matrix's regions. Required.
	Region string
	// Profile is the host's access link (netem.DataCentre, netem.Broadband, ...). The zero
	// profile is an ideal link.
	Profile netem.Profile
}

// Network is a netem network as the engine sees it. The engine adds every host, so the network's
// hosts keep the engine's numbers: engine host h is netem host ID(h), which is what partitions,
// degradations and the network's other per-host methods take.
type Network struct {
	net *netem.Network
	tap Tap
}

// Tap is told of every message the network carries, as it leaves: its hosts, its size, when
// it left and when it arrives (unix ns), and ok=false, with arrive meaningless, for one that
// never arrives. It runs on the engine's event loop, in the order the engine sends (not
// strictly by sent time), so what it records is as deterministic as the run.
type Tap func(from, to sim.HostID, size int, sent, arrive int64, ok bool)

// SetTap makes the network tell t of every message from now on; nil, the default, stops it.
// Without a tap a message costs one nil check more than the model itself.
func (l *Network) SetTap(t Tap) { l.tap = t }

var _ sim.Network = (*Network)(nil)

// New builds an empty netem network from cfg, for an engine to fill with hosts.
func New(cfg netem.Config) (*Network, error) {
	n, err := netem.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Network{net: n}, nil
}

// Model is the netem network itself: for partitions, degradations and its statistics.
func (l *Network) Model() *netem.Network { return l.net }

// ID is the netem id of engine host h.
func ID(h sim.HostID) netem.HostID { return netem.HostID(h) }

// AddHost implements sim.Network: link must be a Host.
func (l *Network) AddHost(id sim.HostID, link any) error {
	h, ok := link.(Host)
	if !ok {
		return fmt.Errorf("simlink: the host's link is a %T; give it a simlink.Host with its region and access link", link)
	}
	m := l.net.Matrix()
	if h.Region == "" {
		return fmt.Errorf("simlink: the host needs a region (one of %v)", m.Regions())
	}
	region, err := m.Lookup(h.Region)
	if err != nil {
		return err
	}
	if got := l.net.Len(); got != int(id) {
		return fmt.Errorf("simlink: the engine adds host %d but the network has %d hosts; add every host through the engine", id, got)
	}
	_, err = l.net.AddHost(region, h.Profile)
	return err
}

// Transit implements sim.Network.
func (l *Network) Transit(from, to sim.HostID, size int, at int64, r *rand.Rand) (int64, bool) {
	arrive, ok := l.net.TransitNs(ID(from), ID(to), size, at, r)
	if l.tap != nil {
		l.tap(from, to, size, at, arrive, ok)
	}
	return arrive, ok
}

// Depart implements sim.Network.
func (l *Network) Depart(from, to sim.HostID, size int, at int64, r *rand.Rand) sim.Leg {
	leg := l.net.Depart(ID(from), ID(to), size, at, r)
	return sim.Leg{From: from, To: to, Size: leg.Size, Sent: at, Model: [6]int64{
		leg.Reach, leg.Ser, leg.Floor, leg.Post, int64(leg.Retrans), int64(leg.Fate)}}
}

// LandApart implements sim.Network: legs land apart, one shard of the model's counters per
// worker, unless a tap must hear of every message in the one-worker order.
func (l *Network) LandApart(workers int) bool {
	if l.tap != nil {
		return false
	}
	l.net.Shards(workers)
	return true
}

// Land implements sim.Network; the tap hears of the message here, when its arrival is known.
func (l *Network) Land(leg *sim.Leg, worker int) (int64, bool) {
	m := &leg.Model
	arrive, ok := l.net.LandOn(&netem.Leg{From: ID(leg.From), To: ID(leg.To), Size: leg.Size, Sent: leg.Sent,
		Reach: m[0], Ser: m[1], Floor: m[2], Post: m[3], Retrans: uint64(m[4]), Fate: netem.Fate(m[5])}, worker)
	if l.tap != nil {
		l.tap(leg.From, leg.To, leg.Size, leg.Sent, arrive, ok)
	}
	return arrive, ok
}

// MinLatency implements sim.Network.
func (l *Network) MinLatency() time.Duration { return l.net.MinLatency() }

// Reachable implements sim.Network.
func (l *Network) Reachable(from, to sim.HostID, at int64) bool {
	return l.net.ReachableNs(ID(from), ID(to), at)
}

// RTT implements sim.Network.
func (l *Network) RTT(from, to sim.HostID) time.Duration {
	return l.net.BaseRTT(ID(from), ID(to))
}
