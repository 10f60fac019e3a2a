package leakage

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkWorld is a synthetic network for the link attack: 60 clients store to their own
// accounts (what matters is the destination) as Poisson processes of one request every 15 s
// over 10 minutes, client c through guard c, middle 60, last hop 61 + c%10 to destination
// node 71 + c%5, so three clients share each link into a destination. transit(c) is how long
// after the guard the destination sees client c's request, or a negative number for a time
// drawn independently of the send anywhere in the run.
func linkWorld(transit func(c int) time.Duration) *synthetic {
	const clients = 60
	run := 10 * time.Minute
	s := newSynthetic(80, clients)
	r := rand.New(rand.NewPCG(7, 11))
	for c := range clients {
		for sent := time.Duration(r.ExpFloat64() * 15 * float64(time.Second)); sent < run-time.Second; sent += time.Duration(r.ExpFloat64() * 15 * float64(time.Second)) {
			d := transit(c)
			if d < 0 {
				d = time.Duration(r.Int64N(int64(run))) - sent - 10*time.Millisecond
			}
			s.route(c, c, [4]int{c, 60, 61 + c%10, 71 + c%5}, sent, d, 2500, true)
		}
	}
	return s
}

// globalTiming analyzes s with one global timing observer over a ten-minute run.
func globalTiming(t *testing.T, s *synthetic) results.Adversary {
	t.Helper()
	stream := func(name string) *rand.Rand { return rand.New(rand.NewPCG(5, uint64(len(name)))) }
	l, err := Analyze(s.r, []Spec{{Kind: KindGlobalTiming}}, 10*time.Minute, stream)
	require.NoError(t, err)
	require.Len(t, l.Adversaries, 1)
	return l.Adversaries[0]
}

// rocArea is the area under a ROC curve of [fpr, tpr] points, by trapezoids.
func rocArea(pts [][2]float64) float64 {
	area := 0.0
	for i := 1; i < len(pts); i++ {
		area += (pts[i][0] - pts[i-1][0]) * (pts[i][1] + pts[i-1][1]) / 2
	}
	return area
}

// One client's requests reach their destination 200 ms after its guard; everyone else's,
// including the two clients sharing its link, at times unrelated to their sending. The
// attack links that client to that destination at its threshold, with a score far above
// anyone else's there.
func TestLinkAttackFindsTheCorrelatedClient(t *testing.T) {
	s := linkWorld(func(c int) time.Duration {
		if c == 0 {
			return synthTransit
		}
		return -1
	})
	const dest = 71 // client 0's destination
	ob := observe(s.r)
	g := group{name: "global", link: true, draws: 1, node: make([]uint64, len(s.r.T.Nodes)), client: make([]uint64, len(s.r.T.Clients))}
	for i := range g.node {
		g.node[i] = 1
	}
	for i := range g.client {
		g.client[i] = 1
	}
	a := newActivity(s.r)
	acc := newROC()
	kept := map[[2]int32][]clientScore{}
	a.linkAttack(s.r, ob, newTruthIndex(s.r), &g, 10*time.Minute, 10*time.Minute, rand.New(rand.NewPCG(1, 2)), acc, newLinkScratch(len(s.r.T.Clients), ob.delta), kept)
	l, threshold := acc.result()
	require.NotNil(t, l.Threshold, "some score keeps the false-positive rate at 1e-3")
	scores, ok := kept[[2]int32{0, dest}]
	require.True(t, ok, "the destination took stores and was scored")
	var own, others float64
	for _, cs := range scores {
		if cs.client == 0 {
			own = cs.score
		} else {
			others = max(others, cs.score)
		}
	}
	assert.GreaterOrEqual(t, own, threshold, "client 0 is linked to its destination (scores %v)", scores)
	assert.Greater(t, own, 4*others, "far above anyone else's score there (scores %v)", scores)
	require.NotNil(t, l.TPRAtFPR1e3)
	assert.Positive(t, *l.TPRAtFPR1e3)
	assert.EqualValues(t, 60, l.Positives, "each client with its destination")
	assert.EqualValues(t, 60*4, l.Negatives, "each client with the other four destinations")
}

// With every request seen at its destination 200 ms after its guard, the attack links nearly
// every client to its destination. When every destination sees requests at times unrelated to
// their sending it has nothing to go on: true pairs score like the others, so the ROC curve
// follows the diagonal and at a false-positive rate of 1e-3 hardly any true pair is linked.
func TestLinkAttackSignalAndNoise(t *testing.T) {
	cases := []struct {
		name             string
		transit          time.Duration
		tprMin, tprMax   float64
		areaMin, areaMax float64
	}{
		{"every request in step", synthTransit, 0.8, 1, 0.95, 1},
		{"no request in step", -1, 0, 0.05, 0.45, 0.55},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := globalTiming(t, linkWorld(func(int) time.Duration { return tc.transit }))
			// One-minute windows: ten of them, pooled, for a ROC curve of a few thousand pairs.
			l := a.Linkability["1m"]
			require.NotNil(t, l)
			assert.Equal(t, "node", l.Target)
			assert.Nil(t, l.TimingOnly, "a link observer's attack is on timing alone")
			assert.Positive(t, l.Positives)
			require.NotNil(t, l.TPRAtFPR1e3)
			assert.GreaterOrEqual(t, *l.TPRAtFPR1e3, tc.tprMin)
			assert.LessOrEqual(t, *l.TPRAtFPR1e3, tc.tprMax)
			area := rocArea(l.ROC)
			assert.GreaterOrEqual(t, area, tc.areaMin, "ROC %v", l.ROC)
			assert.LessOrEqual(t, area, tc.areaMax, "ROC %v", l.ROC)
			assert.Nil(t, a.Exposure.Correlation, "a destination node is not a Session ID")
			assert.Nil(t, a.ContactGraph, "nor is anyone's contact")
			require.NotNil(t, a.AnonymitySet)
			assert.Positive(t, a.AnonymitySet.Stores)
		})
	}
}

func TestPearson(t *testing.T) {
	cases := []struct {
		name                     string
		k, sx, sxx, sy, syy, sxy int64
		want                     float64
	}{
		// x = y = (1, 0, 1, 0): r = 1.
		{"identical", 4, 2, 2, 2, 2, 2, 1},
		// x = (1, 0, 1, 0), y = (0, 1, 0, 1): r = -1.
		{"opposite", 4, 2, 2, 2, 2, 0, -1},
		// x = (1, 1, 0, 0), y = (1, 0, 1, 0): r = 0.
		{"unrelated", 4, 2, 2, 2, 2, 1, 0},
		// x = (2, 0, 0, 0), y = (1, 1, 0, 0): cov = 2/4 - (1/2)(1/2), r = 1/sqrt(3).
		{"counts", 4, 2, 4, 2, 2, 2, 1 / math.Sqrt(3)},
		{"constant x", 4, 4, 4, 2, 2, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, pearson(tc.k, tc.sx, tc.sxx, tc.sy, tc.syy, tc.sxy), 1e-12)
		})
	}
}

func TestScoreClass(t *testing.T) {
	cases := []struct {
		score float64
		want  int
	}{{1e-4, 1}, {0.1, 1}, {0.1001, 2}, {0.55, 6}, {0.9, 9}, {1, 10}}
	for _, tc := range cases {
		assert.Equal(t, tc.want, scoreClass(tc.score), "score %v", tc.score)
	}
}
