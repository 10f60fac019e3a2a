package scenarios

import (
	"net/netip"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
)

// Docker mode measures leakage as live mode does (dockerLeakage): the clients' records come
// from the live driver, the nodes' from their processes' GET /events?leakage=1 (onion hops,
// direct requests; the registry's container, the clients' seed node, sends the seed requests),
// each with the address the node saw, the client's on the run's network, which worldEvent
// puts back to the client's world address. The processes stamp their events with this
// machine's clock, as the live driver stamps the clients' (the engine is local: the clients'
// addresses are added to its bridge), so both are on the run's clock from the same epoch.
// The sybil adversaries' nodes join as churn's joins do, in containers reserved at start. The
// link taps are the harness's link model's (the clients' and servers' links, both ways) and
// the nodes' own (node to node: each node shapes what it writes, FaultState.Taps), written to
// the one file under the model's lock.

// dockerLeakage is which leakage lines the nodes' processes must send: all of them for the
// leakage recorder, only the link taps when the run records the taps alone.
func (w *world) dockerLeakage() proc.LeakageQuery {
	switch {
	case w.leak != nil:
		return proc.LeakageAll
	case w.taps != nil:
		return proc.LeakageTaps
	}
	return proc.LeakageNone
}

// worldEvent is ev with the addresses the node saw (ip on the run's network) put back to
// the world's (world); ev itself for events that carry none.
func worldEvent(ev actor.Event, world func(ip netip.Addr) netip.Addr) actor.Event {
	from := func(a netip.Addr) netip.Addr {
		if !a.IsValid() {
			return a
		}
		return world(a)
	}
	switch e := ev.(type) {
	case node.OnionHop:
		e.From = from(e.From)
		return e
	case node.RequestServed:
		e.From = from(e.From)
		return e
	case registry.SeedRequest:
		e.From = from(e.From)
		return e
	case proc.LinkTapped:
		e.From, e.To = from(e.From), from(e.To)
		return e
	}
	return ev
}

// addDockerNodeRow adds the leakage table's row of a node running in container m, placed as
// spec (operator, region, the provider of the address the plan gave it, and the sybil
// adversary that registered it): its address and keys are the container's.
func (w *world) addDockerNodeRow(m proc.Member, spec placement.Spec) {
	if w.leak == nil {
		return
	}
	w.leak.T.AddNode(leakage.NodeInfo{Name: m.Name, Addr: m.Addr, Ed25519: m.Keys(w.sc.Seed).Ed25519Public, Operator: spec.Operator,
		Provider: leakage.ProviderOf(spec.Addr.Addr()), Region: spec.Region, Sybil: w.sybilOf[spec.Name]})
}

// recordNodeTap writes a write a node's link model shaped (to another node) to the link taps
// file, under the harness model's lock, as liveTap's.
func (w *world) recordNodeTap(t proc.LinkTapped) {
	w.links(func(*netem.Network) { w.taps.Record(t.From, t.To, t.Size, t.SentNS, t.ArriveNS, t.OK) })
}
