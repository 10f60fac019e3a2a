package placement

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanShape(t *testing.T) {
	specs, err := Plan(Config{Seed: 3, Nodes: 2000}, newRand(11))
	require.NoError(t, err)
	require.Len(t, specs, 2000)

	ips := map[netip.Addr]bool{}
	keys := map[[32]byte]bool{}
	perOp := map[int]int{}
	subnet24 := map[[3]byte]map[int]bool{} // operators per /24
	subnet16 := map[[2]byte]map[int]bool{}
	opSubnets := map[int]map[[3]byte]int{}
	regions := map[string]int{}
	defaultPort := 0
	for i, s := range specs {
		assert.Equal(t, "node-"+strconv.Itoa(i), s.Name)
		assert.Equal(t, identity.Derive(3, s.Name).Ed25519Public, s.Ed25519)
		x, err := identity.Ed25519ToX25519(s.Ed25519[:])
		require.NoError(t, err)
		assert.Equal(t, x, s.X25519, "the registered X25519 key is the Ed25519 key's")
		ip := s.Addr.Addr()
		require.True(t, ip.Is4())
		assert.False(t, ip.IsPrivate() || ip.IsLoopback() || ip.IsMulticast() || ip.IsUnspecified() || ip.IsLinkLocalUnicast(), "%v", ip)
		assert.False(t, ips[ip], "IP %v used twice", ip)
		ips[ip] = true
		assert.False(t, keys[s.Ed25519])
		keys[s.Ed25519] = true
		perOp[s.Operator]++
		a := ip.As4()
		k24, k16 := [3]byte{a[0], a[1], a[2]}, [2]byte{a[0], a[1]}
		if subnet24[k24] == nil {
			subnet24[k24] = map[int]bool{}
		}
		subnet24[k24][s.Operator] = true
		if subnet16[k16] == nil {
			subnet16[k16] = map[int]bool{}
		}
		subnet16[k16][s.Operator] = true
		if opSubnets[s.Operator] == nil {
			opSubnets[s.Operator] = map[[3]byte]int{}
		}
		opSubnets[s.Operator][k24]++
		regions[s.Region]++
		if s.Addr.Port() == 22021 {
			assert.Equal(t, uint16(22020), s.OMQPort)
			defaultPort++
		}
	}
	assert.Equal(t, 200, perOp[0], "the largest operator runs 10%")
	for op, n := range perOp {
		if op != 0 {
			assert.LessOrEqual(t, n, 100, "operator %d", op)
		}
	}
	assert.Greater(t, len(perOp), 50, "many operators")
	// The largest operator packs several nodes into a /24.
	maxIn24 := 0
	for _, n := range opSubnets[0] {
		maxIn24 = max(maxIn24, n)
	}
	assert.GreaterOrEqual(t, maxIn24, 5)
	// Some /24s and many /16s are shared between operators.
	shared24, shared16 := 0, 0
	for _, ops := range subnet24 {
		if len(ops) > 1 {
			shared24++
		}
	}
	for _, ops := range subnet16 {
		if len(ops) > 1 {
			shared16++
		}
	}
	assert.Greater(t, shared24, 0)
	assert.Greater(t, shared16, 10)
	assert.Less(t, len(subnet24), 2000/2, "nodes cluster in /24s")
	assert.Greater(t, defaultPort, 1500)
	// Roughly the default weights: eu-central-1 holds the most, 40% by weight.
	assert.InDelta(t, 0.40, float64(regions["eu-central-1"])/2000, 0.12)
	for r := range regions {
		assert.Contains(t, []string{"eu-central-1", "eu-west-1", "us-east-1", "us-west-2", "us-west-1",
			"ap-southeast-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-2", "sa-east-1"}, r)
	}
}

func TestPlanDeterministic(t *testing.T) {
	cfg := Config{Seed: 9, Nodes: 300, LargestOperatorShare: 0.2, Regions: map[string]float64{"a": 1, "b": 3}}
	a, err := Plan(cfg, newRand(4))
	require.NoError(t, err)
	b, err := Plan(cfg, newRand(4))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := Plan(cfg, newRand(5))
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
	n := 0
	for _, s := range a {
		if s.Operator == 0 {
			n++
		}
		assert.Contains(t, []string{"a", "b"}, s.Region)
	}
	assert.Equal(t, 60, n)

	later, err := Plan(Config{Seed: 9, Nodes: 3, FirstIndex: 300, NamePrefix: "late-"}, newRand(6))
	require.NoError(t, err)
	assert.Equal(t, "late-300", later[0].Name)
	assert.Equal(t, "late-302", later[2].Name)
}

func TestPlanSmallAndErrors(t *testing.T) {
	specs, err := Plan(Config{Nodes: 0}, newRand(1))
	require.NoError(t, err)
	assert.Empty(t, specs)
	specs, err = Plan(Config{Nodes: 1}, newRand(1))
	require.NoError(t, err)
	require.Len(t, specs, 1)

	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative nodes", Config{Nodes: -1}, "Nodes"},
		{"negative index", Config{Nodes: 1, FirstIndex: -1}, "FirstIndex"},
		{"bad weight", Config{Nodes: 1, Regions: map[string]float64{"a": math.NaN()}}, "weight"},
		{"zero weights", Config{Nodes: 1, Regions: map[string]float64{"a": 0}}, "positive weight"},
		{"share above 1", Config{Nodes: 1, LargestOperatorShare: 1.5}, "LargestOperatorShare"},
		{"negative share", Config{Nodes: 1, SubnetReuse: -0.1}, "SubnetReuse"},
		{"exponent", Config{Nodes: 1, OperatorSizeExponent: -2}, "OperatorSizeExponent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(tt.cfg, newRand(1))
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// A plan registers as is.
func TestPlanRegisters(t *testing.T) {
	specs, err := Plan(Config{Seed: 1, Nodes: 100}, newRand(2))
	require.NoError(t, err)
	l, err := registry.NewLedger(registry.Config{Seed: 1})
	require.NoError(t, err)
	for _, s := range specs {
		require.NoError(t, l.Register(s.Registration))
	}
	l.Block(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	assert.Len(t, l.Swarms(), 14)
	assert.Equal(t, 100, l.List().ActiveCount())
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// TestLaterPlanHasNewOperators: nodes planned after the first plan (joins during a run) are
// run by operators numbered past the first plan's, so they never count with its largest.
func TestLaterPlanHasNewOperators(t *testing.T) {
	first, err := Plan(Config{Seed: 2, Nodes: 200}, newRand(1))
	require.NoError(t, err)
	next := 0
	for _, s := range first {
		next = max(next, s.Operator+1)
	}
	for _, count := range []int{1, 5} {
		later, err := Plan(Config{Seed: 2, Nodes: count, FirstIndex: 200, FirstOperator: next}, newRand(uint64(count)))
		require.NoError(t, err)
		for _, s := range later {
			assert.GreaterOrEqual(t, s.Operator, next, "%s joins under a new operator", s.Name)
		}
	}
	_, err = Plan(Config{Seed: 2, Nodes: 1, FirstOperator: -1}, newRand(1))
	assert.ErrorContains(t, err, "FirstOperator")
}
