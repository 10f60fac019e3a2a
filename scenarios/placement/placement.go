// Package placement plans the service nodes of a world: who runs them (one large operator, then
// operators whose sizes follow a power law), where they are (region weights over the latency
// matrix's regions) and at which addresses (providers' /16s and operators' /24s). It is the world
// builder's planning; the registry only records what the plan registers.
package placement

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
)

// Config describes the service nodes of a world: how many, where they are, who runs them and
// at which addresses. Zero fields take the documented defaults.
//
// The shape follows what is known of the real network (about 2,000 nodes; the largest operator
// ran about 10% of them; nodes cluster on a few large European hosts): one large operator, then
// operators whose sizes follow a power law, each keeping most of its nodes in one region and in a
// few /24s of one provider's /16, so that /24s and /16s are shared within operators and, on
// popular providers, between them. The addresses are virtual; they only need the structure that
// client path selection (one node per /24) and leakage measurements look at.
type Config struct {
	// Seed and the node names give the keys: identity.Derive(Seed, name).
	Seed uint64
	// Nodes is how many nodes to plan.
	Nodes int
	// NamePrefix and FirstIndex name the nodes: NamePrefix + index. Defaults "node-" and 0
	// (plan later arrivals with a FirstIndex past the first plan's nodes).
	NamePrefix string
	FirstIndex int
	// FirstOperator numbers the plan's operators from it: a later plan (nodes that join during
	// the run) passes the count of operators planned before, so that its nodes are run by new
	// operators rather than counted with the first plan's largest. Default 0.
	FirstOperator int
	// Regions weights where nodes are (names of the latency matrix). Default
	// netem.DefaultNodeWeights.
	Regions map[string]float64
	// LargestOperatorShare is the fraction of nodes run by the largest operator. Default 0.10.
	LargestOperatorShare float64
	// OperatorSizeExponent is the power-law exponent of the other operators' sizes (P(k) ~
	// k^-exponent, k up to half the largest operator). Default 1.6.
	OperatorSizeExponent float64
	// HomeRegionShare is the fraction of an operator's nodes in its home region. Default 0.8.
	HomeRegionShare float64
	// SubnetReuse is the chance that an operator puts its next node in a /24 it already uses.
	// Default 0.7.
	SubnetReuse float64
	// StoragePort and OMQPort are the usual ports. Defaults 22021 and 22020.
	StoragePort, OMQPort uint16
	// CustomPortShare is the fraction of operators that use other ports. Default 0.1.
	CustomPortShare float64
}

// Spec is one planned node: its registration and its keys.
type Spec struct {
	registry.Registration
	Keys identity.Keys
}

func (c Config) fill() (Config, error) {
	if c.Nodes < 0 {
		return c, fmt.Errorf("placement: Nodes is %d: it must be 0 or more", c.Nodes)
	}
	if c.NamePrefix == "" {
		c.NamePrefix = "node-"
	}
	if c.FirstOperator < 0 {
		return c, fmt.Errorf("placement: FirstOperator is %d: it must be 0 or more", c.FirstOperator)
	}
	if c.FirstIndex < 0 {
		return c, fmt.Errorf("placement: FirstIndex is %d: it must be 0 or more", c.FirstIndex)
	}
	if c.Regions == nil {
		c.Regions = map[string]float64{}
		for _, w := range netem.DefaultNodeWeights() {
			c.Regions[w.Region] = w.Weight
		}
	}
	total := 0.0
	for name, w := range c.Regions {
		if !(w >= 0) || math.IsInf(w, 0) {
			return c, fmt.Errorf("placement: region %q has weight %v: weights must be finite and >= 0", name, w)
		}
		total += w
	}
	if total <= 0 {
		return c, errors.New("placement: no region has a positive weight")
	}
	fractions := []struct {
		name string
		v    *float64
		def  float64
	}{
		{"LargestOperatorShare", &c.LargestOperatorShare, 0.10},
		{"HomeRegionShare", &c.HomeRegionShare, 0.8},
		{"SubnetReuse", &c.SubnetReuse, 0.7},
		{"CustomPortShare", &c.CustomPortShare, 0.1},
	}
	for _, f := range fractions {
		if *f.v == 0 {
			*f.v = f.def
		}
		if !(*f.v > 0 && *f.v <= 1) {
			return c, fmt.Errorf("placement: %s is %v: it must be in (0, 1] (0 means the default, %v)", f.name, *f.v, f.def)
		}
	}
	if c.OperatorSizeExponent == 0 {
		c.OperatorSizeExponent = 1.6
	}
	if !(c.OperatorSizeExponent > 0) || math.IsInf(c.OperatorSizeExponent, 0) {
		return c, fmt.Errorf("placement: OperatorSizeExponent is %v: it must be positive", c.OperatorSizeExponent)
	}
	if c.StoragePort == 0 {
		c.StoragePort = 22021
	}
	if c.OMQPort == 0 {
		c.OMQPort = 22020
	}
	return c, nil
}

// Plan draws the nodes of a world from r. The same config and random stream give the same plan.
func Plan(cfg Config, r *rand.Rand) ([]Spec, error) {
	cfg, err := cfg.fill()
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("placement: no random source given")
	}
	if cfg.Nodes == 0 {
		return nil, nil
	}
	p := newPlanner(cfg, r)
	sizes := p.operatorSizes()
	// Operators' nodes get shuffled names, so a name says nothing about its operator.
	order := r.Perm(cfg.Nodes)
	specs := make([]Spec, cfg.Nodes)
	next := 0
	for op, size := range sizes {
		o := p.newOperator(op)
		for range size {
			i := order[next]
			next++
			region := o.home
			if r.Float64() >= cfg.HomeRegionShare {
				region = p.drawRegion()
			}
			ip := p.address(o, region)
			name := fmt.Sprintf("%s%d", cfg.NamePrefix, cfg.FirstIndex+i)
			keys := identity.Derive(cfg.Seed, name)
			specs[i] = Spec{
				Registration: registry.Registration{
					Name:     name,
					Ed25519:  keys.Ed25519Public,
					X25519:   keys.X25519Public,
					Addr:     netip.AddrPortFrom(ip, o.storagePort),
					OMQPort:  o.omqPort,
					Operator: cfg.FirstOperator + op,
					Region:   region,
				},
				Keys: keys,
			}
		}
	}
	return specs, nil
}

type planner struct {
	cfg     Config
	r       *rand.Rand
	regions []string  // sorted
	cum     []float64 // cumulative weights
	blocks  map[string][][2]byte
	used16  map[[2]byte]bool
	usedIP  map[netip.Addr]bool
}

type operator struct {
	home                 string
	storagePort, omqPort uint16
	block                map[string][2]byte   // its /16 per region
	subnets              map[[2]byte][]byte   // its /24s (third octet) per /16
	extraBlocks          map[string][][2]byte // further /16s of large operators
	large                bool
}

const blocksPerRegion = 8

func newPlanner(cfg Config, r *rand.Rand) *planner {
	p := &planner{cfg: cfg, r: r, blocks: map[string][][2]byte{}, used16: map[[2]byte]bool{}, usedIP: map[netip.Addr]bool{}}
	for name := range cfg.Regions {
		p.regions = append(p.regions, name)
	}
	sort.Strings(p.regions)
	total := 0.0
	for _, name := range p.regions {
		total += cfg.Regions[name]
		p.cum = append(p.cum, total)
	}
	// Each region has a few providers' /16s, from public-looking unicast space.
	for _, name := range p.regions {
		for range blocksPerRegion {
			p.newBlock(name)
		}
	}
	return p
}

// newBlock adds an unused /16 to a region's providers.
func (p *planner) newBlock(region string) [2]byte {
	var b [2]byte
	for {
		b = [2]byte{publicFirstOctet(p.r), byte(p.r.IntN(256))}
		if !p.used16[b] {
			break
		}
	}
	p.used16[b] = true
	p.blocks[region] = append(p.blocks[region], b)
	return b
}

// publicFirstOctet avoids 0/8, 10/8, 100/8 (shared address space), 127/8, 169/8, 172/8,
// 192/8, 198/8, 203/8 (which hold private, link-local, benchmark and documentation ranges) and
// 224 and above.
func publicFirstOctet(r *rand.Rand) byte {
	for {
		a := byte(1 + r.IntN(223))
		switch a {
		case 10, 100, 127, 169, 172, 192, 198, 203:
			continue
		}
		return a
	}
}

func (p *planner) drawRegion() string {
	x := p.r.Float64() * p.cum[len(p.cum)-1]
	i := sort.SearchFloat64s(p.cum, x)
	for i < len(p.cum)-1 && p.cum[i] <= x {
		i++ // x on a boundary belongs to the next region; zero weights are never drawn
	}
	return p.regions[i]
}

// operatorSizes: the largest operator first, then power-law sizes until every node has one.
func (p *planner) operatorSizes() []int {
	n := p.cfg.Nodes
	first := max(1, int(math.Round(p.cfg.LargestOperatorShare*float64(n))))
	first = min(first, n)
	sizes := []int{first}
	kmax := max(1, first/2)
	// Cumulative power-law weights over 1..kmax.
	cum := make([]float64, kmax)
	total := 0.0
	for k := 1; k <= kmax; k++ {
		total += math.Pow(float64(k), -p.cfg.OperatorSizeExponent)
		cum[k-1] = total
	}
	left := n - first
	for left > 0 {
		x := p.r.Float64() * total
		k := sort.SearchFloat64s(cum, x) + 1
		k = min(k, kmax, left)
		sizes = append(sizes, k)
		left -= k
	}
	return sizes
}

func (p *planner) newOperator(op int) *operator {
	o := &operator{
		home:        p.drawRegion(),
		storagePort: p.cfg.StoragePort,
		omqPort:     p.cfg.OMQPort,
		block:       map[string][2]byte{},
		subnets:     map[[2]byte][]byte{},
		extraBlocks: map[string][][2]byte{},
		large:       op == 0 && p.cfg.FirstOperator == 0,
	}
	if p.r.Float64() < p.cfg.CustomPortShare {
		base := uint16(20000 + p.r.IntN(9000))
		o.storagePort, o.omqPort = base+1, base
	}
	return o
}

// pickBlock chooses a provider /16 in a region, popular providers more often (weight 1/rank).
func (p *planner) pickBlock(region string) [2]byte {
	bs := p.blocks[region]
	total := 0.0
	for i := range bs {
		total += 1 / float64(i+1)
	}
	x := p.r.Float64() * total
	for i, b := range bs {
		x -= 1 / float64(i+1)
		if x < 0 {
			return b
		}
	}
	return bs[len(bs)-1]
}

// address gives an operator's next node a unique IP in region.
func (p *planner) address(o *operator, region string) netip.Addr {
	b, ok := o.block[region]
	if !ok {
		b = p.pickBlock(region)
		o.block[region] = b
	}
	// The largest operator spreads over a few providers.
	if o.large && p.r.Float64() < 0.15 {
		nb := p.pickBlock(region)
		if !slices.Contains(o.extraBlocks[region], nb) {
			o.extraBlocks[region] = append(o.extraBlocks[region], nb)
		}
	}
	if extra := o.extraBlocks[region]; len(extra) > 0 && p.r.IntN(len(extra)+1) > 0 {
		b = extra[p.r.IntN(len(extra))]
	}
	for tries := 0; ; tries++ {
		var c byte
		subs := o.subnets[b]
		if len(subs) > 0 && p.r.Float64() < p.cfg.SubnetReuse && tries < 64 {
			c = subs[p.r.IntN(len(subs))]
		} else {
			c = byte(p.r.IntN(256))
		}
		if tries > 0 && tries%256 == 0 {
			// This /16 looks full: the provider opens another block.
			b = p.newBlock(region)
			o.block[region] = b
		}
		ip, ok := p.freeHost(b, c)
		if !ok {
			continue // that /24 is full: try another
		}
		if !slices.Contains(subs, c) {
			o.subnets[b] = append(subs, c)
		}
		return ip
	}
}

// freeHost draws an unused host address in a /24.
func (p *planner) freeHost(b [2]byte, c byte) (netip.Addr, bool) {
	for range 32 {
		ip := netip.AddrFrom4([4]byte{b[0], b[1], c, byte(1 + p.r.IntN(254))})
		if !p.usedIP[ip] {
			p.usedIP[ip] = true
			return ip, true
		}
	}
	for d := 1; d <= 254; d++ {
		ip := netip.AddrFrom4([4]byte{b[0], b[1], c, byte(d)})
		if !p.usedIP[ip] {
			p.usedIP[ip] = true
			return ip, true
		}
	}
	return netip.Addr{}, false
}
