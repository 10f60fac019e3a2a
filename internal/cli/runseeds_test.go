package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
)

// TestRunSeedsLeakage runs the leakage scenario, quick and tiny, on two seeds: every
// adversary's time-to-first-compromise curve of the runs is in the aggregate, averaged on one
// grid, and drawn on its page.
func TestRunSeedsLeakage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the leakage scenario, shrunk, on 2 seeds")
	}
	asChildren(t)
	out := filepath.Join(t.TempDir(), "seeds")
	// Its checks are for the real size: exit 3 is expected when a tiny run fails them.
	code, _, stderr := runCLI(append([]string{"run", "leakage", "--quick", "--seeds", "2", "--jobs", "2", "--out", out}, tinyRun...)...)
	require.Contains(t, []int{exitOK, exitChecks}, code, stderr)

	var runs []results.Summary
	for _, s := range []string{"seed-1", "seed-2"} {
		sum, err := results.ReadSummary(filepath.Join(out, s))
		require.NoError(t, err)
		require.NotNil(t, sum.Leakage)
		runs = append(runs, sum)
		var run results.Run
		require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(out, s, results.RunFile)), &run))
		assert.True(t, strings.HasSuffix(run.Command, " --quick"), "each seed runs quick, as asked: %s", run.Command)
	}
	var e stats.Experiment
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(out, stats.AggregateFile)), &e))
	sv := e.Arms[0].Survival
	require.NotNil(t, sv, "a leakage scenario's aggregate has its survival curves")
	require.Len(t, sv.GridS, stats.SurvivalGridPoints)
	second := map[string]results.TTFC{}
	for _, b := range runs[1].Leakage.Adversaries {
		second[b.Name] = b.TTFC
	}
	curves := 0
	for _, a := range runs[0].Leakage.Adversaries {
		for _, lv := range a.TTFC.All() {
			if lv.Value == nil {
				assert.Nil(t, sv.Curve(a.Name, lv.Key), "%s has no %s curve in the runs", a.Name, lv.Key)
				continue
			}
			curves++
			c := sv.Curve(a.Name, lv.Key)
			if !assert.NotNil(t, c, "%s at the %s level", a.Name, lv.Key) {
				continue
			}
			assert.Equal(t, a.Kind, c.Kind)
			require.Len(t, c.S, len(sv.GridS))
			// At time zero both runs count: the mean of their S(0).
			theirs := survivalOf(second[a.Name], lv.Key)
			require.NotNil(t, theirs, "the second run has %s at the %s level too", a.Name, lv.Key)
			assert.Equal(t, 2, c.S[0].N)
			require.NotNil(t, c.S[0].Mean)
			assert.InDelta(t, (lv.Value.At(0)+theirs.At(0))/2, *c.S[0].Mean, 1e-12, "%s at the %s level at time zero", a.Name, lv.Key)
		}
	}
	assert.Positive(t, curves)
	assert.Len(t, sv.Curves, curves, "no curve the runs lack")
	page := string(readFile(t, filepath.Join(out, stats.AggregateHTML)))
	assert.Contains(t, page, `id="leakage-ttfc-direct-random"`, "the random coalitions' direct-level chart")
}

// survivalOf is a level's curve by its name in summary.json.
func survivalOf(t results.TTFC, key string) *results.Survival {
	for _, lv := range t.All() {
		if lv.Key == key {
			return lv.Value
		}
	}
	return nil
}

// TestRunnerPassesWorkersOn: each run of a batch gets the --workers the batch was given, and
// its own default when none was.
func TestRunnerPassesWorkersOn(t *testing.T) {
	cases := []struct {
		workers int
		want    string
	}{
		{0, "run default --seed 5 --out d --quiet --progress none"},
		{3, "run default --seed 5 --out d --quiet --progress none --workers 3"},
	}
	for _, tc := range cases {
		r := runner{scenario: "default", workers: tc.workers}
		assert.Equal(t, tc.want, strings.Join(r.args(job{dir: "d", seed: 5}), " "))
	}
}
