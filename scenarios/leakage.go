package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// Leakage is the scenario's leakage section (see package leakage and the README).
type Leakage struct {
	// Adversaries are evaluated together on the same run.
	Adversaries []Adversary `yaml:"adversaries"`
	// Horizon, when set, evaluates the adversaries over this much virtual time in the
	// path-selection mode (see horizon.go) instead of over the run; 0 (the default) evaluates
	// the full simulation.
	Horizon time.Duration `yaml:"horizon,omitempty"`
	// LinkTaps, when true, records every transmission on every link (hosts, sent and arrival
	// times, bytes) to the results directory's link taps file (leakage.LinkTaps); off by
	// default, when the send path pays one nil check.
	LinkTaps bool `yaml:"link_taps,omitempty"`
}

// Adversary is one adversary: Kind is random, operator, provider, region, global-timing or
// sybil.
type Adversary struct {
	// Name labels it in the summary; default the kind.
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Fractions (random): the shares of nodes in a coalition; default 0.01, 0.05, 0.10, 0.20.
	Fractions []float64 `yaml:"fractions,omitempty"`
	// Draws (random): coalitions drawn per fraction, 1 to 64; default 16.
	Draws int `yaml:"draws,omitempty"`
	// Operators (operator): the k largest operators together; default 1.
	Operators int `yaml:"operators,omitempty"`
	// Provider (provider): a rank ("1" is the /16 block with most nodes) or a block such as
	// "51.15.0.0/16"; default "1". View: "seized" (its nodes' full view; default) or "link"
	// (timing and sizes on its nodes' links).
	Provider string `yaml:"provider,omitempty"`
	View     string `yaml:"view,omitempty"`
	// Region (region): the region whose links, client access links included, are watched.
	Region string `yaml:"region,omitempty"`
	// Fraction (sybil): the new nodes it registers, as a share of nodes.count (0.1 with 2,000
	// nodes registers 200), in (0, 1]. At: when, counted like faults' at from the end of the
	// warmup. They are one operator's, in a /16 of their own, and reach clients only as any new
	// node does: through the node list, pool refreshes and guard reselection.
	Fraction float64       `yaml:"fraction,omitempty"`
	At       time.Duration `yaml:"at,omitempty"`
	// Servers (server): the roles of the servers it runs: file, push, community (all
	// community servers together). With Fractions (and Draws), its servers are joined with
	// random coalitions of those shares of the nodes, one adversary per fraction: the push
	// server's notification times against the coalition's guards (leakage.pushJoin).
	Servers []string `yaml:"servers,omitempty"`
}

// fillLeakage writes the adversaries' defaults, so the resolved scenario says them.
func (s *Scenario) fillLeakage() {
	if len(s.Leakage.Adversaries) == 0 {
		s.Leakage.Adversaries = nil // no section: the resolved scenario stays as it was without one
	}
	for i := range s.Leakage.Adversaries {
		a := &s.Leakage.Adversaries[i]
		if a.Name == "" {
			a.Name = a.Kind
		}
		switch a.Kind {
		case leakage.KindRandom:
			if len(a.Fractions) == 0 {
				a.Fractions = slices.Clone(leakage.DefaultFractions)
			}
			if a.Draws == 0 {
				a.Draws = leakage.DefaultDraws
			}
		case leakage.KindServer:
			if len(a.Fractions) > 0 && a.Draws == 0 {
				a.Draws = leakage.DefaultDraws
			}
		case leakage.KindOperator:
			if a.Operators == 0 {
				a.Operators = 1
			}
		case leakage.KindProvider:
			if a.Provider == "" {
				a.Provider = "1"
			}
			if a.View == "" {
				a.View = "seized"
			}
		}
	}
}

// specs is the leakage package's form of the adversaries.
func (l Leakage) specs() []leakage.Spec {
	out := make([]leakage.Spec, len(l.Adversaries))
	for i, a := range l.Adversaries {
		out[i] = leakage.Spec{Name: a.Name, Kind: a.Kind, Fractions: a.Fractions, Draws: a.Draws,
			Operators: a.Operators, Provider: a.Provider, View: a.View, Region: a.Region, Fraction: a.Fraction, Servers: a.Servers}
	}
	return out
}

// validateLeakage checks the adversaries; region says whether a region exists.
func (s *Scenario) validateLeakage(region func(string) error) error {
	if h := s.Leakage.Horizon; h < 0 || (h > 0 && len(s.Leakage.Adversaries) == 0) {
		return bad("leakage.horizon", h, "must be a positive duration such as 90d or 720h, with leakage.adversaries to evaluate over it (0 evaluates the run itself)")
	}
	names := map[string]bool{}
	var planned []leakage.NodeInfo // the network the scenario will plan, when an adversary needs it
	sybils := 0
	for i, a := range s.Leakage.Adversaries {
		key := func(k string) string { return fmt.Sprintf("leakage.adversaries[%d].%s", i, k) }
		notFor := func(k string, set bool) error {
			if set {
				return bad(key(k), "set", fmt.Sprintf("does not apply to kind %q; remove it", a.Kind))
			}
			return nil
		}
		switch a.Kind {
		case leakage.KindRandom, leakage.KindOperator, leakage.KindProvider, leakage.KindRegion, leakage.KindGlobalTiming, leakage.KindSybil, leakage.KindServer:
		default:
			return bad(key("kind"), a.Kind, "must be random, operator, provider, region, global-timing, sybil or server")
		}
		name := a.Name
		if name == "" {
			name = a.Kind
		}
		if names[name] {
			return bad(key("name"), name, "another adversary has this name; give each a name of its own")
		}
		names[name] = true
		for _, err := range []error{
			notFor("fractions", a.Kind != leakage.KindRandom && a.Kind != leakage.KindServer && len(a.Fractions) > 0),
			notFor("draws", a.Kind != leakage.KindRandom && (a.Kind != leakage.KindServer || len(a.Fractions) == 0) && a.Draws != 0),
			notFor("operators", a.Kind != leakage.KindOperator && a.Operators != 0),
			notFor("provider", a.Kind != leakage.KindProvider && a.Provider != ""),
			notFor("view", a.Kind != leakage.KindProvider && a.View != ""),
			notFor("region", a.Kind != leakage.KindRegion && a.Region != ""),
			notFor("fraction", a.Kind != leakage.KindSybil && a.Fraction != 0),
			notFor("at", a.Kind != leakage.KindSybil && a.At != 0),
			notFor("servers", a.Kind != leakage.KindServer && len(a.Servers) > 0),
		} {
			if err != nil {
				return err
			}
		}
		for j, f := range a.Fractions {
			if err := fraction(fmt.Sprintf("%s[%d]", key("fractions"), j), f, 0, 1); err != nil {
				return err
			}
		}
		if a.Draws < 0 || a.Draws > leakage.MaxDraws {
			return bad(key("draws"), a.Draws, fmt.Sprintf("must be between 1 and %d (0 means the default, %d)", leakage.MaxDraws, leakage.DefaultDraws))
		}
		if a.Operators < 0 {
			return bad(key("operators"), a.Operators, "must be 1 or more: the k largest operators")
		}
		if a.View != "" && a.View != "seized" && a.View != "link" {
			return bad(key("view"), a.View, "must be \"seized\" (full node view) or \"link\" (timing and sizes only)")
		}
		if a.Kind == leakage.KindSybil {
			if !(a.Fraction > 0 && a.Fraction <= 1) {
				return bad(key("fraction"), a.Fraction, "must be above 0 and at most 1: the new nodes as a share of nodes.count")
			}
			if end := s.Duration + s.Drain; a.At < 0 || a.At >= end {
				return bad(key("at"), a.At, fmt.Sprintf("must be within the run: from 0 (the end of the warmup, as for faults) to before duration + drain, %v", end))
			}
			if err := s.checkSybil(i, sybils, a); err != nil {
				return err
			}
			sybils++
		}
		if a.Kind == leakage.KindServer {
			if err := leakage.CheckServers(a.Servers); err != nil {
				return bad(key("servers"), a.Servers, err.Error())
			}
		}
		if a.Kind == leakage.KindRegion {
			if a.Region == "" {
				return bad(key("region"), a.Region, "name the region whose links are watched")
			}
			if err := region(a.Region); err != nil {
				return bad(key("region"), a.Region, err.Error())
			}
		}
		if a.Kind == leakage.KindOperator || a.Kind == leakage.KindProvider {
			if planned == nil {
				var err error
				if planned, err = s.plannedNodes(); err != nil {
					return bad("nodes", s.Nodes.Count, err.Error())
				}
			}
			spec := s.Leakage.specs()[i]
			if spec.Kind == leakage.KindOperator && spec.Operators == 0 {
				spec.Operators = 1
			}
			if spec.Kind == leakage.KindProvider && spec.Provider == "" {
				spec.Provider = "1"
			}
			if k, err := spec.CheckAgainst(planned); err != nil {
				var v any = a.Operators
				if k == "provider" {
					v = a.Provider
				}
				return bad(key(k), v, err.Error())
			}
		}
	}
	return nil
}

// plannedNodes is the placement the world builder will draw for the scenario's first nodes
// (the same config and stream), as leakage tables.
func (s *Scenario) plannedNodes() ([]leakage.NodeInfo, error) {
	specs, err := placement.Plan(s.placementConfig(s.Nodes.Count, 0), sim.WorldStream(s.Seed, planStream(0)))
	if err != nil {
		return nil, err
	}
	out := make([]leakage.NodeInfo, len(specs))
	for i, sp := range specs {
		out[i] = nodeInfo(sp)
	}
	return out, nil
}

// planStream names the stream of the plan whose first node is numbered first.
func planStream(first int) string { return fmt.Sprintf("plan-%d", first) }

// placementConfig is the plan of count nodes numbered from first.
func (s *Scenario) placementConfig(count, first int) placement.Config {
	return placement.Config{Seed: s.Seed, Regions: s.Nodes.Regions, LargestOperatorShare: s.Nodes.LargestOperatorShare, Nodes: count, FirstIndex: first}
}

func nodeInfo(sp placement.Spec) leakage.NodeInfo {
	return leakage.NodeInfo{Name: sp.Name, Addr: sp.Addr, Ed25519: sp.Ed25519, Operator: sp.Operator, Region: sp.Region}
}
