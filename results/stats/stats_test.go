package stats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func p(f float64) *float64 { return &f }

// The expected ends are worked by hand from printed t tables: t(0.975; 1) = 12.7062,
// t(0.975; 2) = 4.30265, t(0.975; 4) = 2.77645, t(0.975; 9) = 2.26216.
func TestIntervals(t *testing.T) {
	cases := []struct {
		name       string
		iv         Interval
		n          int
		mean       *float64
		low, high  float64
		noInterval bool
	}{
		// mean 2, s = 1, s/sqrt(3) = 0.57735; 4.30265 x 0.57735 = 2.48414
		{name: "three seeds", iv: Mean([]float64{1, 2, 3}), n: 3, mean: p(2), low: -0.48414, high: 4.48414},
		// mean 11, s = sqrt(2), s/sqrt(2) = 1; 12.7062 x 1
		{name: "two seeds", iv: Mean([]float64{10, 12}), n: 2, mean: p(11), low: -1.7062, high: 23.7062},
		// 0..9: mean 4.5, s = 3.02765, s/sqrt(10) = 0.957427; 2.26216 x 0.957427 = 2.16585
		{name: "ten seeds", iv: Mean([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), n: 10, mean: p(4.5), low: 2.33415, high: 6.66585},
		{name: "constant", iv: Mean([]float64{7, 7, 7}), n: 3, mean: p(7), low: 7, high: 7},
		{name: "one seed", iv: Mean([]float64{5}), n: 1, mean: p(5), noInterval: true},
		{name: "no seed", iv: Mean(nil), noInterval: true},
		// differences 1, 2, 3: the three-seed interval above
		{name: "paired", iv: Paired([]float64{1, 2, 3}, []float64{2, 4, 6}), n: 3, mean: p(2), low: -0.48414, high: 4.48414},
		// equal variances 1/3 each: se = sqrt(2/3) = 0.816497, Welch df = 4; 2.77645 x 0.816497 = 2.26693
		{name: "unpaired", iv: Unpaired([]float64{1, 2, 3}, []float64{3, 4, 5}), n: 3, mean: p(2), low: -0.26693, high: 4.26693},
		{name: "unpaired constant", iv: Unpaired([]float64{1, 1}, []float64{3, 3}), n: 2, mean: p(2), low: 2, high: 2},
		{name: "unpaired one seed", iv: Unpaired([]float64{1}, []float64{3, 4}), n: 1, mean: p(2.5), noInterval: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.n, tc.iv.N)
			if tc.mean == nil {
				assert.Nil(t, tc.iv.Mean)
			} else {
				require.NotNil(t, tc.iv.Mean)
				assert.InDelta(t, *tc.mean, *tc.iv.Mean, 1e-9)
			}
			if tc.noInterval {
				assert.False(t, tc.iv.Has())
				return
			}
			require.True(t, tc.iv.Has())
			assert.InDelta(t, tc.low, *tc.iv.Low, 5e-5)
			assert.InDelta(t, tc.high, *tc.iv.High, 5e-5)
		})
	}
}

func TestVerdict(t *testing.T) {
	iv := func(mean, low, high float64) Interval {
		return Interval{N: 3, Mean: p(mean), Low: p(low), High: p(high)}
	}
	cases := []struct {
		name string
		diff Interval
		dir  Direction
		want string
	}{
		{"up, higher is better", iv(0.1, 0.05, 0.15), Higher, Better},
		{"up, lower is better", iv(0.1, 0.05, 0.15), Lower, Worse},
		{"down, lower is better", iv(-3, -4, -2), Lower, Better},
		{"down, higher is better", iv(-3, -4, -2), Higher, Worse},
		{"up, no direction", iv(0.1, 0.05, 0.15), None, Changed},
		{"interval holds 0", iv(0.1, -0.05, 0.25), Higher, NoChange},
		{"interval ends at 0", iv(0.1, 0, 0.2), Higher, NoChange},
		{"exactly nothing changed", iv(0, 0, 0), Lower, NoChange},
		{"one seed, equal", Interval{N: 1, Mean: p(0)}, Higher, NoChange},
		{"one seed, differs", Interval{N: 1, Mean: p(0.2)}, Higher, NoVerdict},
		{"nothing to compare", Interval{}, Higher, NoVerdict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Verdict(tc.diff, tc.dir))
		})
	}
}

func TestDirectionOf(t *testing.T) {
	cases := map[string]Direction{
		"delivery_ratio":                                        Higher,
		"onion_rtt_ms.p99":                                      Lower,
		"onion_rtt_ms.count":                                    None,
		"onion_rtt_ms_by_platform.ios.p50":                      Lower,
		"end_to_end_latency_online_ms.mean":                     Lower,
		"replication.min_copies":                                Higher,
		"replication.samples":                                   None,
		"messages.lost_by_cause.timeout":                        Lower,
		"messages.sent":                                         None,
		"leakage.adversaries[name=random-0.05].exposure.direct": Lower,
		"leakage.adversaries[name=operator].anonymity_set.p10":  Higher,
	}
	for fig, want := range cases {
		assert.Equal(t, want, DirectionOf(fig), fig)
	}
}

func TestArmAndDiffToFirst(t *testing.T) {
	figs := []string{"delivery_ratio", "onion_rtt_ms.p99"}
	arm := func(name string, ratio, rtt []*float64) Arm {
		tb := Table{Figures: figs}
		for i := range ratio {
			tb.Values = append(tb.Values, []*float64{ratio[i], rtt[i]})
		}
		return NewArm(name, nil, tb)
	}
	e := Experiment{Seeds: []uint64{1, 2, 3}, Arms: []Arm{
		arm("a", []*float64{p(0.90), p(0.80), p(0.85)}, []*float64{p(100), p(200), p(150)}),
		// each seed 0.1 better; the latency moves by seed-dependent amounts around 0
		arm("b", []*float64{p(1.00), p(0.90), p(0.95)}, []*float64{p(110), p(190), nil}),
	}}
	e.DiffToFirst()
	a, b := e.Arms[0], e.Arms[1]
	assert.Nil(t, a.Figures[0].Diff, "the first arm has no difference to itself")
	assert.InDelta(t, 0.85, *a.Figure("delivery_ratio").Mean, 1e-12)
	r := b.Figure("delivery_ratio")
	require.NotNil(t, r.Diff)
	assert.InDelta(t, 0.1, *r.Diff.Mean, 1e-12)
	assert.InDelta(t, 0.1, *r.Diff.Low, 1e-9, "the same gain on every seed: a zero-width paired interval")
	assert.Equal(t, Better, r.Verdict)
	rtt := b.Figure("onion_rtt_ms.p99")
	assert.Equal(t, 2, rtt.N, "a seed without the figure is left out")
	assert.Equal(t, 2, rtt.Diff.N, "pairs only where both runs have it")
	assert.Equal(t, NoChange, rtt.Verdict)
	assert.Nil(t, b.Figure("no.such"))
}
