package stats

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// twoRuns are the leakage sections of three seeds: adversary x's direct-level curve in the
// first two (the second ends at 50 s, half as long as the first), adversary y's full-path
// curve in the second only, and no leakage section in the third.
func twoRuns() []*results.Leakage {
	x1 := results.Adversary{Name: "x", Kind: "random", TTFC: results.TTFC{Direct: &results.Survival{Curve: [][2]float64{{0, 1}, {1, 0.8}, {10, 0.5}, {100, 0.5}}}}}
	x2 := results.Adversary{Name: "x", Kind: "random", TTFC: results.TTFC{Direct: &results.Survival{Curve: [][2]float64{{0, 0.9}, {1, 0.6}, {50, 0.4}}}}}
	y2 := results.Adversary{Name: "y", Kind: "operator", TTFC: results.TTFC{FullPath: &results.Survival{Curve: [][2]float64{{0, 1}, {2, 0.7}, {50, 0.7}}}}}
	return []*results.Leakage{{Adversaries: []results.Adversary{x1}}, {Adversaries: []results.Adversary{x2, y2}}, nil}
}

func TestAverageSurvival(t *testing.T) {
	sv := AverageSurvival(twoRuns())
	require.NotNil(t, sv)
	g := sv.GridS
	require.Len(t, g, SurvivalGridPoints)
	assert.Equal(t, 0.0, g[0])
	assert.Equal(t, 1.0, g[1], "the first positive time of any curve")
	assert.Equal(t, 100.0, g[len(g)-1], "the end of the longest curve")
	assert.True(t, slices.IsSorted(g))
	for i := 2; i < len(g); i++ {
		assert.InDelta(t, g[2]/g[1], g[i]/g[i-1], 1e-9, "evenly spaced on a log scale: one ratio from each time to the next")
	}

	x := sv.Curve("x", "direct")
	require.NotNil(t, x)
	assert.Equal(t, "random", x.Kind)
	// index is the first time of the grid at or after t seconds.
	index := func(t float64) int {
		i, _ := slices.BinarySearch(g, t)
		return i
	}
	// With two values a and b the interval is (a+b)/2 ± t(0.975; 1)·|a-b|/2, t(0.975; 1) = 12.7062.
	cases := []struct {
		name       string
		at         int
		n          int
		mean       float64
		halfWidth  float64
		noInterval bool
	}{
		{name: "time zero", at: 0, n: 2, mean: 0.95, halfWidth: 12.7062 * 0.05},
		{name: "on the first drop of both", at: 1, n: 2, mean: 0.7, halfWidth: 12.7062 * 0.1},
		{name: "between 1 s and 10 s", at: index(3), n: 2, mean: 0.7, halfWidth: 12.7062 * 0.1},
		{name: "the first run has dropped again", at: index(20), n: 2, mean: 0.55, halfWidth: 12.7062 * 0.05},
		{name: "the second run ended at 50 s", at: index(60), n: 1, mean: 0.5, noInterval: true},
		{name: "the end of the longest", at: len(g) - 1, n: 1, mean: 0.5, noInterval: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iv := x.S[tc.at]
			assert.Equal(t, tc.n, iv.N, "runs counted at %g s", g[tc.at])
			require.NotNil(t, iv.Mean)
			assert.InDelta(t, tc.mean, *iv.Mean, 1e-12)
			if tc.noInterval {
				assert.False(t, iv.Has())
				return
			}
			require.True(t, iv.Has())
			assert.InDelta(t, tc.mean-tc.halfWidth, *iv.Low, 1e-4)
			assert.InDelta(t, tc.mean+tc.halfWidth, *iv.High, 1e-4)
		})
	}

	y := sv.Curve("y", "full_path")
	require.NotNil(t, y, "a curve only one run has")
	assert.Equal(t, "operator", y.Kind)
	assert.Equal(t, 1, y.S[index(3)].N)
	assert.InDelta(t, 0.7, *y.S[index(3)].Mean, 1e-12)
	last := y.S[len(g)-1]
	assert.Equal(t, 0, last.N, "past the end of its only run")
	assert.Nil(t, last.Mean)

	assert.Nil(t, sv.Curve("y", "direct"), "y has no curve at the direct level")
	assert.Equal(t, []string{"x/direct", "y/full_path"}, func() []string {
		var keys []string
		for _, c := range sv.Curves {
			keys = append(keys, c.Adversary+"/"+c.Level)
		}
		return keys
	}(), "in the order of the first run that has each")
}

func TestAverageSurvivalWithoutCurves(t *testing.T) {
	cases := []struct {
		name string
		runs []*results.Leakage
	}{
		{"no runs", nil},
		{"no leakage", []*results.Leakage{nil, nil}},
		{"no curves", []*results.Leakage{{Adversaries: []results.Adversary{{Name: "link", Kind: "region"}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Nil(t, AverageSurvival(tc.runs))
		})
	}
}
