package scenarios

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/scenarios/placement"
)

// sybilOperatorBase numbers the sybil adversaries' operators past any the placement draws
// (each plan numbers its operators from 0), so no sybil node shares an operator with the
// network's own.
const sybilOperatorBase = 1 << 30

// maxSybils is how many sybil adversaries have a /16 of their own, and maxSybilNodes how many
// nodes one holds (see sybilAddr).
const (
	maxSybils     = 256
	maxSybilNodes = 256 * 254
)

// sybilAddr is the address of the j-th node of the i-th sybil adversary: in 100.i.0.0/16, one
// node per /24 first (clients put at most one node of a /24 on a path, and an attacker who
// wants to be on paths spreads out). The placement never draws a first octet of 100 and the
// engine numbers the other hosts in 10/8, so the block is a provider of the sybil's own.
func sybilAddr(i, j int) netip.Addr {
	return netip.AddrFrom4([4]byte{100, byte(i), byte(j % 256), byte(1 + j/256)})
}

// sybilCount is the number of nodes a sybil adversary registers: fraction of nodes.count, at
// least one.
func (s *Scenario) sybilCount(fraction float64) int {
	return max(1, int(math.Round(fraction*float64(s.Nodes.Count))))
}

// sybilNodes is the nodes the scenario's sybil adversaries add, for the memory estimate.
func (s *Scenario) sybilNodes() int {
	n := 0
	for _, a := range s.Leakage.Adversaries {
		if a.Kind == leakage.KindSybil {
			n += s.sybilCount(a.Fraction)
		}
	}
	return n
}

// checkSybil refuses the i-th adversary, the sybil-th sybil, when its nodes do not fit the
// addresses it gets.
func (s *Scenario) checkSybil(i, sybil int, a Adversary) error {
	key := func(k string) string { return fmt.Sprintf("leakage.adversaries[%d].%s", i, k) }
	if sybil >= maxSybils {
		return bad(key("kind"), a.Kind, fmt.Sprintf("a scenario may have at most %d sybil adversaries", maxSybils))
	}
	if n := s.sybilCount(a.Fraction); n > maxSybilNodes {
		return bad(key("fraction"), a.Fraction, fmt.Sprintf("registers %d nodes, more than the %d a sybil's /16 holds", n, maxSybilNodes))
	}
	return nil
}

// scheduleSybils plans each sybil adversary's nodes and registers and starts them at its time,
// through the path churn's joins take: the registry lists them from its next block, nodes
// learn the new list, and clients meet them only when they refresh their pools or pick new
// guards.
func (w *world) scheduleSybils() error {
	i := 0
	for _, a := range w.sc.Leakage.Adversaries {
		if a.Kind != leakage.KindSybil {
			continue
		}
		pc := w.plan
		// One operator runs them all, in its home region mostly, as the placement places a
		// large operator's nodes.
		pc.LargestOperatorShare = 1
		pc.Nodes = w.sc.sybilCount(a.Fraction)
		pc.NamePrefix = fmt.Sprintf("sybil%d-", i)
		specs, err := placement.Plan(pc, w.eng.Stream("sybil/"+a.Name))
		if err != nil {
			return fmt.Errorf("planning sybil %s: %w", a.Name, err)
		}
		if w.sybilOf == nil {
			w.sybilOf = map[string]string{}
		}
		for j := range specs {
			specs[j].Addr = netip.AddrPortFrom(sybilAddr(i, j), specs[j].Addr.Port())
			specs[j].Operator = sybilOperatorBase + i
			w.sybilOf[specs[j].Name] = a.Name
		}
		w.drv.AfterFunc(w.sc.Warmup+a.At, func() {
			for _, sp := range specs {
				if w.docker != nil {
					// A container of the ones reserved at start; one that cannot start is
					// logged and its node left out (its container's start is logged too).
					if err := w.joinDockerNode(sp); err != nil {
						w.docker.log.Error("a sybil node's container", "sybil", a.Name, "node", sp.Name, "err", err)
					}
					continue
				}
				wn, err := w.addNodeHost(sp)
				if err == nil {
					err = w.spawnNode(wn, sp, nil)
				}
				if err != nil {
					// The names, keys and addresses are the sybil's own by construction, and
					// its regions were checked with the scenario: an error is a bug.
					panic(fmt.Sprintf("sybil %s: %v", a.Name, err))
				}
			}
		})
		i++
	}
	return nil
}
