package leakage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Transit and layer overhead of the synthetic onion requests: the destination sees a request
// 200 ms after its guard, 300 bytes smaller.
const (
	synthTransit  = 200 * time.Millisecond
	synthOverhead = 300
)

// request plays one onion request of client c naming account acc, sent at `sent` with size
// bytes at the guard, through nodes c, c+1, c+2 to c+3 (mod the node count), as the
// client, every hop and the destination report it.
func (s *synthetic) request(c, acc int, sent time.Duration, size int, store bool) {
	n := len(s.r.T.Nodes)
	s.route(c, acc, [4]int{c % n, (c + 1) % n, (c + 2) % n, (c + 3) % n}, sent, synthTransit, size, store)
}

// route plays one onion request of client c naming account acc through nodes (guard, middle,
// last hop, destination), sent at `sent` with size bytes at the guard; the destination sees it
// transit after the guard, and the client has its answer synthTransit + 410 ms after sending,
// whenever the destination saw it.
func (s *synthetic) route(c, acc int, nodes [4]int, sent, transit time.Duration, size int, store bool) {
	tb := s.r.T
	hop := func(i int) NodeInfo { return tb.Nodes[nodes[i]] }
	at := func(d time.Duration) time.Time { return s.epoch.Add(sent + d) }
	arrive := []time.Duration{10 * time.Millisecond, 80 * time.Millisecond, 140 * time.Millisecond, 10*time.Millisecond + transit}
	done := 10*time.Millisecond + synthTransit + 400*time.Millisecond
	for i := range 3 {
		from := tb.Clients[c].Addr.Addr()
		if i > 0 {
			from = hop(i - 1).Addr.Addr()
		}
		s.r.Observe(at(done-time.Duration(i)*time.Millisecond), hop(i).Addr, node.OnionHop{From: from, Arrived: at(arrive[i]), HopNo: i, Guard: i == 0,
			Role: node.HopRelay, Next: hop(i + 1).Ed25519, BytesIn: size - 100*i, BytesOut: 500})
	}
	var sizes []int
	if store {
		sizes = []int{size - synthOverhead - 200}
	}
	s.r.Observe(at(done-5*time.Millisecond), hop(3).Addr, node.OnionHop{From: hop(2).Addr.Addr(), Arrived: at(arrive[3]), HopNo: 3,
		Role: node.HopDestination, Method: "batch", Accounts: [][33]byte{tb.Clients[acc].ID}, Sizes: sizes, BytesIn: size - synthOverhead, BytesOut: 400})
	method := "retrieve"
	if store {
		method = "store"
	}
	s.r.Observe(at(done), tb.Clients[c].Addr, client.OnionRoundTrip{Method: method, Guard: hop(0).Addr, Dest: hop(3).Addr, RTT: done,
		Status: 200, Path: []actor.Addr{hop(0).Addr, hop(1).Addr, hop(2).Addr}, Account: tb.Clients[acc].ID, Size: size})
}

// analyzeAll runs Analyze with one random adversary of the given fraction (one draw) over a
// run of length end.
func analyzeAll(t *testing.T, s *synthetic, fraction float64, end time.Duration) results.Adversary {
	t.Helper()
	l, err := Analyze(s.r, []Spec{{Kind: KindRandom, Fractions: []float64{fraction}, Draws: 1}}, end, seededStream(3))
	require.NoError(t, err)
	require.Len(t, l.Adversaries, 1)
	return l.Adversaries[0]
}

// pollsInPairs has 12 clients poll their own IDs 5 times in the first minute; clients 2m and
// 2m+1 send within 20 ms of each other, so timing alone cannot tell them apart, but their
// sizes differ by 200 bytes. Other clients' requests are seconds apart.
func pollsInPairs() *synthetic {
	s := newSynthetic(16, 12)
	for k := range 5 {
		for c := range 12 {
			sent := time.Duration(k)*10*time.Second + time.Duration(c/2)*time.Second + time.Duration(c%2)*20*time.Millisecond
			s.request(c, c, sent, 2000+200*(c%2), false)
		}
	}
	return s
}

func TestLinkabilityPerfectTiming(t *testing.T) {
	s := pollsInPairs()
	a := analyzeAll(t, s, 1, time.Minute)
	l := a.Linkability["1m"]
	require.NotNil(t, l, "a one-minute run has one one-minute window")
	assert.Nil(t, a.Linkability["10m"], "a window longer than the run is not measured")
	require.NotNil(t, l.TPRAtFPR1e3)
	assert.Equal(t, 1.0, *l.TPRAtFPR1e3, "every client's own ID is linked")
	require.NotNil(t, l.Precision)
	assert.Equal(t, 1.0, *l.Precision, "no negative reaches the threshold")
	assert.EqualValues(t, 12, l.Positives)
	assert.EqualValues(t, 12*11, l.Negatives, "every other pair seen on both sides")
	// The ROC reaches TPR 1 at FPR 0: every negative scores below every positive.
	require.GreaterOrEqual(t, len(l.ROC), 2)
	assert.Equal(t, [2]float64{0, 1}, l.ROC[1])

	// Timing alone confuses the partners that send together: their negatives score as
	// high as the true pairs, so at FPR 1e-3 nothing is linked.
	require.NotNil(t, l.TimingOnly)
	require.NotNil(t, l.TimingOnly.TPRAtFPR1e3)
	assert.LessOrEqual(t, *l.TimingOnly.TPRAtFPR1e3, *l.TPRAtFPR1e3, "timing only never beats timing and size")
	assert.Zero(t, *l.TimingOnly.TPRAtFPR1e3)

	require.NotNil(t, a.Exposure.Correlation)
	assert.Equal(t, 1.0, *a.Exposure.Correlation, "every client linked at the end of the window")
	require.NotNil(t, a.TTFC.Correlation)
	require.NotEmpty(t, a.Timeline.Correlation)
	assert.Equal(t, 1.0, a.Timeline.Correlation[len(a.Timeline.Correlation)-1])
}

func TestNothingSeenNothingLinked(t *testing.T) {
	s := pollsInPairs()
	for c := range 4 {
		s.request(c, c^1, 55*time.Second+time.Duration(c)*time.Second, 3000, true)
	}
	a := analyzeAll(t, s, 0, time.Minute)
	l := a.Linkability["1m"]
	require.NotNil(t, l)
	assert.Nil(t, l.TPRAtFPR1e3, "no pair was seen on both sides")
	assert.Nil(t, l.Precision)
	assert.Zero(t, l.Positives)
	require.NotNil(t, a.Exposure.Correlation)
	assert.Zero(t, *a.Exposure.Correlation)
	assert.Nil(t, a.AnonymitySet, "no store was seen")
	require.NotNil(t, a.ContactGraph)
	assert.Zero(t, *a.ContactGraph.F1)
	assert.Zero(t, *a.ContactGraph.Recall)
	assert.Nil(t, a.ContactGraph.Precision, "nothing inferred")
}

func TestAnonymitySetOfALoneClient(t *testing.T) {
	s := newSynthetic(8, 2)
	for k := range 3 {
		s.request(0, 1, time.Duration(k)*5*time.Second, 2500, true)
	}
	a := analyzeAll(t, s, 1, time.Minute)
	require.NotNil(t, a.AnonymitySet)
	assert.Equal(t, 3, a.AnonymitySet.Stores)
	assert.Equal(t, 1.0, *a.AnonymitySet.Median, "the only client online is the sender")
	assert.Equal(t, 1.0, *a.AnonymitySet.P10)
	assert.Equal(t, 1.0, *a.AnonymitySet.FloorMedian)
	assert.Equal(t, [][3]float64{{1, 2, 1}}, a.AnonymitySet.Histogram)
}

func TestAnonymitySetShrinksWithTheAttack(t *testing.T) {
	// Ten clients online, each storing to the next, seconds apart: one client matches each
	// store, so its posterior is far narrower than the ten online.
	s := newSynthetic(16, 10)
	for k := range 3 {
		for c := range 10 {
			s.request(c, (c+1)%10, time.Duration(k)*12*time.Second+time.Duration(c)*time.Second, 2500+40*c, true)
		}
	}
	a := analyzeAll(t, s, 1, time.Minute)
	require.NotNil(t, a.AnonymitySet)
	assert.Equal(t, 10.0, a.AnonymitySet.Online)
	assert.Less(t, *a.AnonymitySet.Median, 2.0)
}

func TestContactGraphRecovery(t *testing.T) {
	// A ring of ten clients, each writing three times to each neighbour, every request
	// seconds from any other: with every node in the coalition each store follows exactly
	// its sender's request, so exactly the true edges pass (F1 1; above 0.9 would still be
	// a good recovery). With no node nothing is inferred.
	build := func() *synthetic {
		s := newSynthetic(16, 10)
		s.r.T.Contacts = make([][]int, 10)
		for c := range 10 {
			s.r.T.Contacts[c] = []int{(c + 9) % 10, (c + 1) % 10}
		}
		at := time.Duration(0)
		for range 3 {
			for c := range 10 {
				for _, o := range s.r.T.Contacts[c] {
					s.request(c, o, at, 2500, true)
					at += 2 * time.Second
				}
			}
		}
		return s
	}
	cases := []struct {
		fraction float64
		f1       float64
	}{{1, 1}, {0, 0}}
	for _, tc := range cases {
		a := analyzeAll(t, build(), tc.fraction, 3*time.Minute)
		require.NotNil(t, a.ContactGraph)
		assert.Equal(t, 10, a.ContactGraph.Edges)
		assert.Equal(t, tc.f1, *a.ContactGraph.F1, "fraction %v", tc.fraction)
	}
}

func TestAttackIsDeterministic(t *testing.T) {
	run := func() string {
		s := pollsInPairs()
		for c := range 12 {
			s.request(c, (c+3)%12, 30*time.Second+time.Duration(c)*700*time.Millisecond, 2600, true)
		}
		l, err := Analyze(s.r, []Spec{{Kind: KindRandom, Fractions: []float64{0.5}, Draws: 16}}, 2*time.Minute, seededStream(9))
		require.NoError(t, err)
		b, err := json.Marshal(l)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, run(), run())
}
