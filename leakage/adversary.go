package leakage

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
)

// Adversary kinds.
const (
	KindRandom       = "random"
	KindOperator     = "operator"
	KindProvider     = "provider"
	KindRegion       = "region"
	KindGlobalTiming = "global-timing"
	KindSybil        = "sybil"
)

// DefaultFractions and DefaultDraws are a random adversary's defaults.
var DefaultFractions = []float64{0.01, 0.05, 0.10, 0.20}

const (
	DefaultDraws = 16
	// MaxDraws is the draws of one fraction: each node's membership is one uint64 bit mask,
	// so one AND tests every draw.
	MaxDraws = 64
)

// Spec is one adversary as a scenario describes it (see the scenarios package for the keys).
type Spec struct {
	Name string
	Kind string
	// Fractions and Draws: random coalitions of Fractions of the nodes, Draws of each.
	Fractions []float64
	Draws     int
	// Operators: the k largest operators (kind operator).
	Operators int
	// Provider: "1" is the provider (a /16 block) with the most nodes, "2" the next, ...; or
	// a block written "a.b.0.0/16". View is "seized" (full node view) or "link".
	Provider string
	View     string
	// Region: the region whose links are watched (kind region).
	Region string
	// Fraction (kind sybil): the new nodes it registers, as a share of the network's first
	// nodes; the world builder adds them and marks them NodeInfo.Sybil = Name.
	Fraction float64
	// Servers (kind server): the roles of the servers it runs ("file", "push", "community").
	Servers []string
}

// group is one adversary's coalitions, as bit masks: bit d of node[i] says node i is in draw
// d's coalition; for a link observer, bit 0 of node[i] and client[c] say their access links are
// watched.
type group struct {
	name     string
	kind     string
	fraction *float64
	link     bool
	draws    int
	node     []uint64
	client   []uint64
	servers  []string // kind server: the roles it runs
}

// watchesEntry says whether a link observer sees the link from client c to guard node n: it
// watches the client's access link or the guard's.
func (g *group) watchesEntry(c, n int32) bool {
	return (c >= 0 && g.client[c] != 0) || (n >= 0 && g.node[n] != 0)
}

// watchesExit says whether a link observer sees the link from last hop `last` to destination
// node dest: it watches either node's access link.
func (g *group) watchesExit(last, dest int32) bool {
	return (last >= 0 && g.node[last] != 0) || (dest >= 0 && g.node[dest] != 0)
}

// rankedOperators lists operator numbers by node count, largest first (ties: lower number).
func rankedOperators(nodes []NodeInfo) []int {
	count := map[int]int{}
	for _, n := range nodes {
		if n.Sybil == "" {
			count[n.Operator]++
		}
	}
	ops := make([]int, 0, len(count))
	for op := range count {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, b int) int { return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b)) })
	return ops
}

// rankedProviders lists provider blocks by node count, largest first (ties: lower address).
func rankedProviders(nodes []NodeInfo) []netip.Prefix {
	count := map[netip.Prefix]int{}
	for _, n := range nodes {
		if n.Sybil == "" {
			count[n.Provider]++
		}
	}
	ps := make([]netip.Prefix, 0, len(count))
	for p := range count {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), a.Addr().Compare(b.Addr()))
	})
	return ps
}

// ResolveProvider finds the provider a spec names among nodes' providers.
func ResolveProvider(name string, nodes []NodeInfo) (netip.Prefix, error) {
	ranked := rankedProviders(nodes)
	if k, err := strconv.Atoi(name); err == nil {
		if k < 1 || k > len(ranked) {
			return netip.Prefix{}, fmt.Errorf("no provider of rank %d: the network has %d providers (/16 blocks), ranked 1 (most nodes) to %d", k, len(ranked), len(ranked))
		}
		return ranked[k-1], nil
	}
	p, err := netip.ParsePrefix(name)
	if err != nil || p.Bits() != 16 || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("a provider is a rank (1 = the /16 with most nodes) or a /16 block such as 51.15.0.0/16")
	}
	if !slices.Contains(ranked, p.Masked()) {
		return netip.Prefix{}, fmt.Errorf("no node is in %s", p)
	}
	return p.Masked(), nil
}

// CheckAgainst refuses a spec naming an operator rank or provider the nodes do not have.
// It returns the key (relative to the adversary) and the reason.
func (s Spec) CheckAgainst(nodes []NodeInfo) (key string, err error) {
	switch s.Kind {
	case KindOperator:
		if n := len(rankedOperators(nodes)); s.Operators > n {
			return "operators", fmt.Errorf("the network has %d operators", n)
		}
	case KindProvider:
		if _, err := ResolveProvider(s.Provider, nodes); err != nil {
			return "provider", err
		}
	}
	return "", nil
}

// groups turns the specs into coalitions over t's nodes and clients. Random coalitions are
// drawn from stream(name), a stream of their own per fraction, so every arm of an experiment
// with the same seed and network faces the same coalitions.
func groups(specs []Spec, t *Tables, stream func(string) *rand.Rand) ([]group, error) {
	var out []group
	n := len(t.Nodes)
	for _, s := range specs {
		name := s.Name
		if name == "" {
			name = s.Kind
		}
		switch s.Kind {
		case KindRandom:
			fr := s.Fractions
			if len(fr) == 0 {
				fr = DefaultFractions
			}
			draws := s.Draws
			if draws == 0 {
				draws = DefaultDraws
			}
			for _, f := range fr {
				out = append(out, group{name: fmt.Sprintf("%s-%g", name, f), kind: s.Kind, fraction: &f, draws: draws,
					node: randomCoalitions(name, f, draws, n, stream)})
			}
		case KindOperator:
			k := max(s.Operators, 1)
			ranked := rankedOperators(t.Nodes)
			if k > len(ranked) {
				return nil, fmt.Errorf("adversary %s: the network has %d operators, not %d", name, len(ranked), k)
			}
			top := ranked[:k]
			g := group{name: name, kind: s.Kind, draws: 1, node: make([]uint64, n)}
			for i, nd := range t.Nodes {
				if nd.Sybil == "" && slices.Contains(top, nd.Operator) {
					g.node[i] = 1
				}
			}
			out = append(out, g)
		case KindProvider:
			p, err := ResolveProvider(cmp.Or(s.Provider, "1"), t.Nodes)
			if err != nil {
				return nil, fmt.Errorf("adversary %s: %w", name, err)
			}
			g := group{name: name, kind: s.Kind, draws: 1, link: s.View == "link", node: make([]uint64, n)}
			for i, nd := range t.Nodes {
				if nd.Provider == p {
					g.node[i] = 1
				}
			}
			if g.link {
				g.client = make([]uint64, len(t.Clients)) // clients are not hosted there
			}
			out = append(out, g)
		case KindRegion, KindGlobalTiming:
			g := group{name: name, kind: s.Kind, draws: 1, link: true, node: make([]uint64, n), client: make([]uint64, len(t.Clients))}
			for i, nd := range t.Nodes {
				if s.Kind == KindGlobalTiming || nd.Region == s.Region {
					g.node[i] = 1
				}
			}
			for i, c := range t.Clients {
				if s.Kind == KindGlobalTiming || c.Region == s.Region {
					g.client[i] = 1
				}
			}
			out = append(out, g)
		case KindSybil:
			// Its coalition is the nodes it registered, which exist only from the moment it
			// registered them: exposure before then is zero by construction.
			f := s.Fraction
			g := group{name: name, kind: s.Kind, fraction: &f, draws: 1, node: make([]uint64, n)}
			for i, nd := range t.Nodes {
				if nd.Sybil == name {
					g.node[i] = 1
				}
			}
			out = append(out, g)
		case KindServer:
			if err := CheckServers(s.Servers); err != nil {
				return nil, fmt.Errorf("adversary %s: %w", name, err)
			}
			if len(s.Fractions) == 0 {
				out = append(out, group{name: name, kind: s.Kind, draws: 1, node: make([]uint64, n), servers: slices.Clone(s.Servers)})
				continue
			}
			// Its servers joined with random coalitions of nodes (pushJoin).
			draws := cmp.Or(s.Draws, DefaultDraws)
			for _, f := range s.Fractions {
				out = append(out, group{name: fmt.Sprintf("%s-%g", name, f), kind: s.Kind, fraction: &f, draws: draws,
					node: randomCoalitions(name, f, draws, n, stream), servers: slices.Clone(s.Servers)})
			}
		default:
			return nil, fmt.Errorf("adversary %s: kind %q is not supported", name, s.Kind)
		}
	}
	return out, nil
}

// randomCoalitions draws an adversary's coalitions of a fraction f of n nodes, draws of them,
// as bit masks per node, from the stream of its own the name and fraction give.
func randomCoalitions(name string, f float64, draws, n int, stream func(string) *rand.Rand) []uint64 {
	node := make([]uint64, n)
	r := stream(fmt.Sprintf("leakage/%s/%g", name, f))
	k := int(math.Round(f * float64(n)))
	idx := make([]int, n)
	for d := range draws {
		for i := range idx {
			idx[i] = i
		}
		// A partial Fisher-Yates shuffle: the first k are a uniform k-subset.
		for i := range k {
			j := i + r.IntN(n-i)
			idx[i], idx[j] = idx[j], idx[i]
			node[idx[i]] |= 1 << d
		}
	}
	return node
}
