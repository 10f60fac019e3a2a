package leakage

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKaplanMeier(t *testing.T) {
	s := time.Second
	cases := []struct {
		name     string
		events   []time.Duration
		censored []time.Duration
		at       map[time.Duration]float64
	}{
		{"no events", nil, []time.Duration{5 * s, 7 * s}, map[time.Duration]float64{0: 1, 10 * s: 1}},
		{"all at once", []time.Duration{2 * s, 2 * s}, nil, map[time.Duration]float64{s: 1, 2 * s: 0}},
		// Textbook: events at 1, 3; censored at 2. S(1) = 2/3; at 3 one of one at risk: 0.
		{"censoring leaves the risk set", []time.Duration{s, 3 * s}, []time.Duration{2 * s}, map[time.Duration]float64{s: 2.0 / 3, 2 * s: 2.0 / 3, 3 * s: 0}},
		// An event and a censoring at the same time: the event counts the censored one at risk.
		{"tie with a censoring", []time.Duration{2 * s}, []time.Duration{2 * s, 4 * s}, map[time.Duration]float64{2 * s: 2.0 / 3, 5 * s: 2.0 / 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := kaplanMeier(tc.events, tc.censored)
			for at, want := range tc.at {
				assert.InDelta(t, want, k.at(at), 1e-12, "S(%v)", at)
			}
		})
	}
}

// synthetic is a network for the analysis: nodes 10.0.0.x, clients 20.0.0.x, each
// client's guard test at node c, then one onion request for its own ID through nodes c+1, c+2,
// c+3 to node c+4.
type synthetic struct {
	r       *Recorder
	epoch   time.Time
	clients int
}

func newSynthetic(nodes, clients int) *synthetic {
	tb := NewTables()
	for i := range nodes {
		tb.AddNode(NodeInfo{Name: "n", Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 1}), 22021),
			Ed25519: [32]byte{byte(i), byte(i >> 8), 1}, Operator: i % 3, Region: "r"})
	}
	for c := range clients {
		tb.AddClient(ClientInfo{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{20, 0, byte(c / 256), byte(c % 256)}), 40000),
			ID: identity.ID{5, byte(c), byte(c >> 8), 9}, Region: "r", Platform: []string{"desktop", "ios"}[c%2]})
	}
	epoch := time.Unix(1_700_000_000, 0)
	return &synthetic{r: NewRecorder(tb, epoch), epoch: epoch, clients: clients}
}

// seededStream gives Analyze its random streams by name, reproducibly: a name's stream depends
// only on seed and the name's length.
func seededStream(seed uint64) func(string) *rand.Rand {
	return func(name string) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(len(name)))) }
}

func (s *synthetic) play() {
	tb := s.r.T
	n := len(tb.Nodes)
	for c := range s.clients {
		cl := tb.Clients[c]
		start := s.epoch.Add(time.Duration(c) * time.Second)
		guard := tb.Nodes[c%n]
		s.r.Observe(start, guard.Addr, node.RequestServed{Method: "get_swarm", Via: node.ViaDirect, Status: 200,
			From: cl.Addr.Addr(), Accounts: [][33]byte{cl.ID}})
		var path []actor.Addr
		for j := 1; j <= 3; j++ {
			path = append(path, tb.Nodes[(c+j)%n].Addr)
		}
		s.r.Observe(start.Add(2*time.Second), cl.Addr, client.OnionRoundTrip{Method: "retrieve", Guard: path[0],
			Dest: tb.Nodes[(c+4)%n].Addr, RTT: time.Second, Status: 200, Path: path, Account: cl.ID, Size: 900})
	}
}

func TestAnalyzeSynthetic(t *testing.T) {
	cases := []struct {
		name     string
		fraction float64
		// want is the exposure at every level, and whether the direct compromise is at t=0.
		want    float64
		atStart bool
	}{
		{"nobody", 0, 0, false},
		{"everybody", 1, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynthetic(20, 30)
			s.play()
			specs := []Spec{{Kind: KindRandom, Fractions: []float64{tc.fraction}, Draws: 8}}
			l, err := Analyze(s.r, specs, time.Hour, seededStream(1))
			require.NoError(t, err)
			require.Len(t, l.Adversaries, 1)
			a := l.Adversaries[0]
			assert.Equal(t, 30, l.ActiveClients)
			assert.Zero(t, l.GuardCandidatesTestedMean, "no GuardTested events were played")
			for _, v := range []*float64{a.Exposure.Direct, a.Exposure.GuardAndDestination, a.Exposure.FullPath} {
				require.NotNil(t, v)
				assert.Equal(t, tc.want, *v)
			}
			require.NotNil(t, a.Exposure.Correlation)
			assert.Zero(t, *a.Exposure.Correlation, "no hop was recorded: the attack saw nothing to correlate")
			if tc.atStart {
				assert.Equal(t, 0.0, *a.TTFC.Direct.MedianS)
				// Onion requests leave 1 s after the guard test and count when they return.
				assert.InDelta(t, 2.0, *a.TTFC.FullPath.MedianS, 0.1)
			} else {
				assert.Nil(t, a.TTFC.Direct.MedianS)
			}
		})
	}
}

func TestCoalitionsAreExactAndReproducible(t *testing.T) {
	s := newSynthetic(200, 1)
	stream := seededStream(7)
	specs := []Spec{{Name: "r", Kind: KindRandom, Fractions: []float64{0.05, 0.2}, Draws: 64}, {Kind: KindOperator, Operators: 2}}
	a, err := groups(specs, s.r.T, stream)
	require.NoError(t, err)
	b, err := groups(specs, s.r.T, stream)
	require.NoError(t, err)
	require.Len(t, a, 3)
	assert.Equal(t, a[0].node, b[0].node, "the same stream draws the same coalitions")
	for gi, want := range []int{10, 40} {
		for d := range 64 {
			members := 0
			for _, m := range a[gi].node {
				members += int(m >> d & 1)
			}
			assert.Equal(t, want, members, "fraction group %d draw %d", gi, d)
		}
	}
	ops := 0
	for i, m := range a[2].node {
		if m != 0 {
			ops++
			assert.Contains(t, []int{0, 1}, s.r.T.Nodes[i].Operator, "operators 0 and 1 are the two largest (67 nodes each vs 66)")
		}
	}
	assert.Equal(t, 134, ops)
}

func TestSybilCoalitionIsItsOwnNodes(t *testing.T) {
	s := newSynthetic(30, 1)
	// Forty sybil nodes of one operator in a /16 of their own: more than any of the network's
	// three operators (10 nodes each) and than its one provider block (30).
	for i := range 40 {
		s.r.T.AddNode(NodeInfo{Name: "s", Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 0, byte(i), 1}), 22021),
			Ed25519: [32]byte{byte(i), 0, 2}, Operator: 1 << 30, Region: "r", Sybil: "sy"})
	}
	specs := []Spec{{Name: "sy", Kind: KindSybil, Fraction: 0.5}, {Kind: KindOperator}, {Kind: KindProvider, Provider: "1"}}
	gs, err := groups(specs, s.r.T, nil)
	require.NoError(t, err)
	require.Len(t, gs, 3)
	for i, nd := range s.r.T.Nodes {
		assert.Equal(t, nd.Sybil == "sy", gs[0].node[i] == 1, "node %d in the sybil coalition", i)
		assert.False(t, nd.Sybil != "" && gs[1].node[i] != 0, "sybil node %d counted as the largest operator", i)
		assert.False(t, nd.Sybil != "" && gs[2].node[i] != 0, "sybil node %d counted as the largest provider", i)
	}
	require.NotNil(t, gs[0].fraction)
	assert.Equal(t, 0.5, *gs[0].fraction)
	_, err = Spec{Kind: KindOperator, Operators: 4}.CheckAgainst(s.r.T.Nodes)
	assert.Error(t, err, "the sybil operator is not one of the network's three")
}
