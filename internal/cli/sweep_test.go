package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
)

// childEnv, set in a test process's environment, makes the test binary act as sessionsim, so
// the runs of `run --seeds` and `sweep` (children of this binary) run in tests without a
// separate build.
const childEnv = "CLI_TEST_AS_SESSIONSIM" // not SESSIONSIM_*, which names scenario keys

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(Execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	// Without asChildren a child would run this test binary's tests again, and so on: refuse.
	selfExecutable = func() (string, error) {
		if os.Getenv(childEnv) != "1" {
			return "", errors.New("this test did not call asChildren, so it may not start runs")
		}
		return os.Executable()
	}
	os.Exit(m.Run())
}

// asChildren lets this test's experiments start children of the test binary.
func asChildren(t *testing.T) {
	t.Setenv(childEnv, "1")
}

// tinyRun is smallRun shortened further: each run well under a second. Its clients send at
// one uniform rate without replies: six clients with the default's heavy-tailed rates may send
// nothing in a minute, and a run without messages fails the default's checks.
var tinyRun = append([]string{"--set", "duration=1m", "--set", "workload.activity=uniform", "--set", "workload.reply_probability=0"}, smallRun...)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestSweepEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2 arms x 2 seeds of a small scenario, twice")
	}
	asChildren(t)
	dir := t.TempDir()
	// The runs carry no checks: with six messages each, the default scenario's delivery checks
	// pass or fail with a single message, by chance of the seed, and the sweep is under test here.
	noChecks := []string{"--set", "checks="}
	sweep := func(out string, extra ...string) (int, string, string) {
		args := append([]string{"sweep", "default", "--param", "clients.paths=1,2", "--seeds", "2", "--jobs", "2", "--out", out}, append(noChecks, tinyRun...)...)
		return runCLI(append(args, extra...)...)
	}
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	code, stdout, stderr := sweep(first)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "arm-02-clients.paths=2")
	assert.Contains(t, stderr, "4 of 4 runs done, 0 running, 0 left")
	for _, f := range []string{stats.SweepFile, stats.SweepCSV, stats.SweepHTML} {
		assert.FileExists(t, filepath.Join(first, f))
	}
	code, _, stderr = sweep(second)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, readFile(t, filepath.Join(first, stats.SweepFile)), readFile(t, filepath.Join(second, stats.SweepFile)), "the same sweep gives the same sweep.json")
	assert.Equal(t, readFile(t, filepath.Join(first, stats.SweepCSV)), readFile(t, filepath.Join(second, stats.SweepCSV)))

	var e stats.Experiment
	require.NoError(t, results.ReadJSON(filepath.Join(first, stats.SweepFile), &e))
	assert.Equal(t, []uint64{1, 2}, e.Seeds)
	require.Len(t, e.Arms, 2)
	assert.Equal(t, []stats.Setting{{Key: "clients.paths", Value: "2"}}, e.Arms[1].Settings)
	ratio := e.Arms[1].Figure("delivery_ratio")
	require.NotNil(t, ratio)
	assert.NotNil(t, ratio.Diff, "the second arm is compared with the first")
	assert.Nil(t, e.Arms[0].Figure("delivery_ratio").Diff)

	// A run of the sweep is the same bytes as the plain run with its seed and settings.
	plain := filepath.Join(dir, "plain")
	code, _, stderr = runCLI(append([]string{"run", "default", "-q", "--seed", "2", "--out", plain, "--set", "clients.paths=2"}, append(noChecks, tinyRun...)...)...)
	require.Equal(t, exitOK, code, stderr)
	armDir := filepath.Join(first, "arm-02-clients.paths=2", "seed-2")
	assert.Equal(t, readFile(t, filepath.Join(plain, results.SummaryFile)), readFile(t, filepath.Join(armDir, results.SummaryFile)))

	// Resuming after one run's directory is lost runs that one alone.
	kept := filepath.Join(first, "arm-01-clients.paths=1", "seed-1", results.RunFile)
	before, err := os.Stat(kept)
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(armDir))
	code, _, stderr = sweep(first, "--resume")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "3 runs already complete, kept")
	assert.Contains(t, stderr, "4 of 4 runs done")
	assert.NotContains(t, stderr, "2 running", "one run left, so one at a time")
	after, err := os.Stat(kept)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime(), "a finished run is not run again")
	assert.FileExists(t, filepath.Join(armDir, results.SummaryFile))
	assert.Equal(t, readFile(t, filepath.Join(second, stats.SweepFile)), readFile(t, filepath.Join(first, stats.SweepFile)))

	// A run interrupted before it finished (its INCOMPLETE marker) is run again too.
	require.NoError(t, os.WriteFile(filepath.Join(armDir, results.IncompleteMarker), nil, 0o644))
	code, _, stderr = sweep(first, "--resume")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "3 runs already complete, kept")
	assert.NoFileExists(t, filepath.Join(armDir, results.IncompleteMarker))
}

func TestRunSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario on 2 seeds")
	}
	asChildren(t)
	out := filepath.Join(t.TempDir(), "seeds")
	code, stdout, stderr := runCLI(append([]string{"run", "default", "--seeds", "2", "--seed", "5", "--jobs", "2", "--out", out,
		"--set", "checks=messages.sent <= -1"}, tinyRun...)...)
	assert.Equal(t, exitChecks, code, "each seed's checks are evaluated: exit 3 when one fails")
	assert.Contains(t, stderr, "checks failed in seeds seeds 5, 6")
	assert.Contains(t, stdout, "delivery_ratio")
	for _, s := range []string{"seed-5", "seed-6"} {
		assert.FileExists(t, filepath.Join(out, s, results.SummaryFile))
		assert.FileExists(t, filepath.Join(out, s, results.JUnitFile))
	}
	var e stats.Experiment
	require.NoError(t, results.ReadJSON(filepath.Join(out, stats.AggregateFile), &e))
	assert.Equal(t, "seeds", e.Kind)
	assert.Equal(t, []uint64{5, 6}, e.Seeds)
	assert.Equal(t, []uint64{5, 6}, e.Arms[0].ChecksFailed)
	sent := e.Arms[0].Figure("messages.sent")
	require.NotNil(t, sent)
	assert.Equal(t, 2, sent.N)
	assert.True(t, sent.Has(), "two seeds give an interval")
	assert.FileExists(t, filepath.Join(out, stats.AggregateText))
}

// writeRun writes a results directory holding only a summary, as a finished run leaves it.
func writeRun(t *testing.T, dir string, s results.Summary) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, results.WriteJSON(dir, results.SummaryFile, s))
}

// synthetic is a summary of seed with a given delivery ratio and onion p99.
func synthetic(seed uint64, ratio, p99 float64) results.Summary {
	return results.Summary{Schema: results.SchemaVersion, Scenario: "synthetic", Seed: seed, DeliveryRatio: &ratio,
		OnionRTTMs: results.Percentiles{Count: 100, P99: p99}, Messages: results.Messages{Sent: 100}}
}

// writeSeeds writes an experiment of several seeds as `run --seeds` leaves it.
func writeSeeds(t *testing.T, dir string, runs []results.Summary) {
	t.Helper()
	var dirs []string
	var seeds []uint64
	for _, s := range runs {
		d := seedDir(dir, s.Seed)
		writeRun(t, d, s)
		dirs, seeds = append(dirs, d), append(seeds, s.Seed)
	}
	arm, schema, err := collectArm("seeds", nil, dirs, seeds)
	require.NoError(t, err)
	require.NoError(t, results.WriteJSON(dir, stats.AggregateFile, stats.Experiment{Kind: "seeds", Schema: schema, Scenario: "synthetic", Seeds: seeds, Arms: []stats.Arm{arm}}))
}

func TestCompareVerdicts(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	// B delivers 0.01 more on every seed (better), its onion p99 is 30-50 ms higher (worse);
	// messages.sent is the same. C is B measured on other seeds: unpaired, the seed-to-seed
	// spread hides the change that pairing finds.
	writeSeeds(t, a, []results.Summary{synthetic(1, 0.90, 500), synthetic(2, 0.95, 600), synthetic(3, 0.85, 700)})
	writeSeeds(t, b, []results.Summary{synthetic(1, 0.91, 530), synthetic(2, 0.96, 650), synthetic(3, 0.86, 740)})
	writeSeeds(t, c, []results.Summary{synthetic(7, 0.91, 530), synthetic(8, 0.96, 650), synthetic(9, 0.86, 740)})
	cases := []struct {
		name     string
		args     []string
		code     int
		paired   bool
		verdicts map[string]string
		shown    []string // what the text says is shown, in its header
	}{
		{"paired", []string{a, b}, exitOK, true, map[string]string{"delivery_ratio": stats.Better, "onion_rtt_ms.p99": stats.Worse, "messages.sent": stats.NoChange},
			[]string{"seeds 1-3)\n", "B - A with 95% intervals, paired by seed"}},
		{"reversed", []string{b, a}, exitOK, true, map[string]string{"delivery_ratio": stats.Worse, "onion_rtt_ms.p99": stats.Better}, nil},
		{"unpaired", []string{a, c}, exitOK, false, map[string]string{"delivery_ratio": stats.NoChange, "onion_rtt_ms.p99": stats.NoChange},
			[]string{"seeds 7-9)\n", "B - A with 95% intervals, unpaired (Welch)"}},
		{"json file and rule held", []string{filepath.Join(a, stats.AggregateFile), b, "--fail-on", "delivery_ratio<-0.001"}, exitOK, true, map[string]string{"delivery_ratio": stats.Better}, nil},
		{"rule broken", []string{b, a, "--fail-on", "delivery_ratio<-0.001"}, exitChecks, true, nil, nil},
		{"rule on the latency", []string{a, b, "--fail-on", "onion_rtt_ms.p99 >= 25"}, exitChecks, true, nil, nil},
		{"single runs", []string{seedDir(a, 1), seedDir(b, 1)}, exitOK, true, map[string]string{"delivery_ratio": stats.NoVerdict, "messages.sent": stats.NoChange},
			[]string{"(run of \"synthetic\", seed 1)\n", "B - A without intervals: a side of a single run", `only an exact tie gets a verdict ("no significant change")`}},
		{"a single run against seeds", []string{seedDir(a, 1), b}, exitOK, false, map[string]string{"delivery_ratio": stats.NoVerdict},
			[]string{"B - A without intervals"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out", strings.ReplaceAll(tc.name, " ", "-"))
			code, stdout, stderr := runCLI(append(append([]string{"compare"}, tc.args...), "--out", out)...)
			require.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stdout, "B - A")
			for _, w := range tc.shown {
				assert.Contains(t, stdout, w)
			}
			assert.NotContains(t, stdout, "1 more figures")
			var cmp stats.Comparison
			require.NoError(t, results.ReadJSON(filepath.Join(out, stats.CompareFile), &cmp))
			require.Len(t, cmp.Arms, 1)
			assert.Equal(t, tc.paired, cmp.Arms[0].Paired)
			for fig, want := range tc.verdicts {
				f := cmp.Arms[0].Figure(fig)
				require.NotNil(t, f, fig)
				assert.Equal(t, want, f.Verdict, fig)
			}
			assert.FileExists(t, filepath.Join(out, stats.CompareHTML))
		})
	}
}

func TestExperimentsRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	writeSeeds(t, filepath.Join(dir, "a"), []results.Summary{synthetic(1, 0.9, 500), synthetic(2, 0.9, 500)})
	future := filepath.Join(dir, "future")
	require.NoError(t, os.MkdirAll(future, 0o755))
	require.NoError(t, results.WriteJSON(future, stats.AggregateFile, stats.Experiment{Kind: "seeds", Schema: results.SchemaVersion + 1, Seeds: []uint64{1}, Arms: []stats.Arm{{Name: "seeds"}}}))
	sweepOf := func(name, scenario string, params []stats.Param) string {
		d := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, results.WriteJSON(d, sweepPlanFile, sweepPlan{Scenario: scenario, Params: params, Seeds: []uint64{1, 2}}))
		return d
	}
	otherScenario := sweepOf("other-scenario", "large", []stats.Param{{Key: "clients.paths", Values: []string{"1", "2"}}})
	busy := filepath.Join(dir, "busy")
	require.NoError(t, os.MkdirAll(busy, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o644))
	sweep := func(args ...string) []string { return append([]string{"sweep", "default", "--seeds", "2"}, args...) }
	cases := []struct {
		name    string
		args    []string
		want    []string
		written string // a path that must not exist afterwards
	}{
		{"unknown key", sweep("--param", "nodes.cuont=1,2", "--out", filepath.Join(dir, "s1")), []string{"--param nodes.cuont=1", `scenario --set: key "nodes.cuont"`, "no scenario key that --set can change"}, filepath.Join(dir, "s1")},
		{"value that does not parse", sweep("--param", "clients.paths=1,two", "--out", filepath.Join(dir, "s2")), []string{"--param clients.paths=two", `key "clients.paths" = two`}, filepath.Join(dir, "s2")},
		{"value the key does not take", sweep("--param", "clients.guard_test=own-id,bogus", "--out", filepath.Join(dir, "s3")), []string{"--param clients.guard_test=bogus", `"clients.guard_test" = bogus`}, filepath.Join(dir, "s3")},
		{"no param", sweep("--out", filepath.Join(dir, "s4")), []string{"no --param"}, filepath.Join(dir, "s4")},
		{"param without values", sweep("--param", "clients.paths", "--out", filepath.Join(dir, "s5")), []string{"expected KEY=V1,V2"}, filepath.Join(dir, "s5")},
		{"empty value", sweep("--param", "clients.paths=1,,2", "--out", filepath.Join(dir, "s6")), []string{"an empty value"}, filepath.Join(dir, "s6")},
		{"key twice", sweep("--param", "clients.paths=1", "--param", "clients.paths=2", "--out", filepath.Join(dir, "s7")), []string{"given twice"}, filepath.Join(dir, "s7")},
		{"seed as a param", sweep("--param", "seed=1,2", "--out", filepath.Join(dir, "s14")), []string{"--param seed", "--seeds"}, filepath.Join(dir, "s14")},
		{"no seeds", sweep("--param", "clients.paths=1", "--seeds", "0", "--out", filepath.Join(dir, "s8")), []string{"--seeds 0"}, filepath.Join(dir, "s8")},
		{"no jobs", sweep("--param", "clients.paths=1", "--jobs", "0", "--out", filepath.Join(dir, "s9")), []string{"--jobs 0"}, filepath.Join(dir, "s9")},
		{"bad seed", sweep("--param", "clients.paths=1", "--seed", "x", "--out", filepath.Join(dir, "s10")), []string{`--seed "x"`}, filepath.Join(dir, "s10")},
		{"resume another scenario", sweep("--param", "clients.paths=1,2", "--out", otherScenario, "--resume"), []string{`holds a sweep of scenario "large", not "default"`}, filepath.Join(otherScenario, "arm-01-clients.paths=1")},
		{"sweep where a sweep is", sweep("--param", "clients.paths=1,2", "--out", otherScenario), []string{"already holds a sweep; give --resume"}, filepath.Join(otherScenario, "arm-01-clients.paths=1")},
		{"resume a directory of other files", sweep("--param", "clients.paths=1", "--out", busy, "--resume"), []string{"holds no sweep to resume"}, filepath.Join(busy, "sweep-plan.json")},
		{"resume without out", sweep("--param", "clients.paths=1", "--resume"), []string{"--resume needs --out"}, "runs"},
		{"more runs at once than memory holds", sweep("--param", "clients.paths=1,2", "--seeds", "8", "--set", "clients.count=1000000", "--set", "duration=1m", "--set", "drain=0s", "--jobs", "16", "--out", filepath.Join(dir, "s13")), []string{"--jobs 16", "lower --jobs to"}, filepath.Join(dir, "s13")},
		{"seeds into a used directory", []string{"run", "--seeds", "2", "--out", busy}, []string{"already holds files"}, filepath.Join(busy, "seed-1")},
		{"seeds into no directory", []string{"run", "--seeds", "2", "--out", filepath.Join(busy, "notes.txt", "s")}, []string{"--out " + filepath.Join(busy, "notes.txt", "s") + ": mkdir", "give a directory that can be created"}, filepath.Join(busy, "notes.txt", "s")},
		{"sweep into no directory", sweep("--param", "clients.paths=1,2", "--out", filepath.Join(busy, "notes.txt", "s")), []string{"--out " + filepath.Join(busy, "notes.txt", "s") + ": open", "give a directory that can be created"}, filepath.Join(busy, "notes.txt", "s")},
		{"seeds with a profile", []string{"run", "--seeds", "2", "--cpuprofile", filepath.Join(dir, "p"), "--out", filepath.Join(dir, "s11")}, []string{"--cpuprofile"}, filepath.Join(dir, "s11")},
		{"seeds with a heap profile", []string{"run", "--seeds", "2", "--memprofile", filepath.Join(dir, "p"), "--out", filepath.Join(dir, "s15")}, []string{"--memprofile"}, filepath.Join(dir, "s15")},
		{"seeds, bad scenario", []string{"run", "--seeds", "2", "--set", "nodes.cuont=3", "--out", filepath.Join(dir, "s12")}, []string{`"nodes.cuont"`}, filepath.Join(dir, "s12")},
		{"compare another schema", []string{"compare", filepath.Join(dir, "a"), future, "--out", filepath.Join(dir, "c1")}, []string{"side B:", "summary schema 2, this build reads schema 1"}, filepath.Join(dir, "c1")},
		{"compare no results", []string{"compare", filepath.Join(dir, "a"), busy, "--out", filepath.Join(dir, "c2")}, []string{"side B:", "no summary.json here"}, filepath.Join(dir, "c2")},
		{"compare a missing path", []string{"compare", filepath.Join(dir, "nowhere"), busy, "--out", filepath.Join(dir, "c3")}, []string{"side A:", "nowhere: no such file or directory; give a run's results directory, a --seeds output or a sweep"}, filepath.Join(dir, "c3")},
		{"compare a file of another kind", []string{"compare", filepath.Join(busy, "notes.txt"), filepath.Join(dir, "a"), "--out", filepath.Join(dir, "c7")}, []string{"side A:", "notes.txt", "give a run's results directory, a --seeds output or a sweep (or its aggregate.json or sweep.json)"}, filepath.Join(dir, "c7")},
		{"compare into no directory", []string{"compare", filepath.Join(dir, "a"), filepath.Join(dir, "a"), "--out", filepath.Join(busy, "notes.txt", "c")}, []string{"--out " + filepath.Join(busy, "notes.txt", "c"), "not a directory", "give a directory that can be created"}, filepath.Join(busy, "notes.txt", "c")},
		{"rule on no figure", []string{"compare", filepath.Join(dir, "a"), filepath.Join(dir, "a"), "--fail-on", "delivery_rate<0", "--out", filepath.Join(dir, "c4")}, []string{`--fail-on "delivery_rate<0"`, "closest: delivery_ratio"}, filepath.Join(dir, "c4")},
		{"rule without comparison", []string{"compare", filepath.Join(dir, "a"), filepath.Join(dir, "a"), "--fail-on", "delivery_ratio", "--out", filepath.Join(dir, "c5")}, []string{"no comparison"}, filepath.Join(dir, "c5")},
		{"rule without number", []string{"compare", filepath.Join(dir, "a"), filepath.Join(dir, "a"), "--fail-on", "delivery_ratio<lots", "--out", filepath.Join(dir, "c6")}, []string{`threshold "lots" is not a number`}, filepath.Join(dir, "c6")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(dir)
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one message: %q", stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.NoFileExists(t, tc.written, "nothing written")
			assert.NoDirExists(t, tc.written, "nothing written")
		})
	}
}

func TestProgressEstimatesTimeLeft(t *testing.T) {
	var b strings.Builder
	p := progressState{w: &b, label: "sweep", total: 4, left: 4, start: time.Now().Add(-10 * time.Second)}
	p.started()
	p.started()
	assert.Contains(t, b.String(), "0 of 4 runs done, 2 running, 2 left; estimating the time left")
	p.finished() // one run in 10 s: 3 more (1 running, 2 left) take about 30 s
	assert.Regexp(t, `1 of 4 runs done, 1 running, 2 left; about 3\ds left`, b.String())
}

func TestRunAllStopsWhenInterrupted(t *testing.T) {
	asChildren(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before the first run started
	r := runner{scenario: "default", jobs: 2, label: "sweep"}
	failed, err := r.runAll(ctx, []job{{dir: filepath.Join(dir, "seed-1"), seed: 1}, {dir: filepath.Join(dir, "seed-2"), seed: 2}})
	assert.Empty(t, failed)
	var ee *exitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, exitFailure, ee.code)
	assert.ErrorContains(t, err, "--resume continues it")
	assert.NoDirExists(t, filepath.Join(dir, "seed-1"), "no run started")
}

func TestChecksFailedError(t *testing.T) {
	cases := []struct {
		name   string
		failed [][]uint64
		want   string
	}{
		{"none", [][]uint64{nil, nil}, ""},
		{"one seed", [][]uint64{{2}, nil}, "checks failed in arm-01 seed 2 (verdicts in each run's junit.xml)"},
		{"seeds of two arms", [][]uint64{{1, 2, 3}, {1, 3}}, "checks failed in arm-01 seeds 1-3; arm-02 seeds 1, 3 (verdicts in each run's junit.xml)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e stats.Experiment
			for i, f := range tc.failed {
				e.Arms = append(e.Arms, stats.Arm{Name: fmt.Sprintf("arm-%02d", i+1), ChecksFailed: f})
			}
			err := checksFailedError(e)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, exitChecks, ee.code)
			assert.EqualError(t, err, tc.want)
		})
	}
}

// TestSweepResumeNamesQuick: a sweep resumed with --quick when it started without (or the
// other way round) is refused naming --quick, not the scenario's file, environment or --set.
func TestSweepResumeNamesQuick(t *testing.T) {
	cases := []struct {
		name          string
		started, then []string
		want          string
	}{
		{"started with --quick", []string{"--quick"}, nil, "was started with --quick; resume it with --quick"},
		{"started without", nil, []string{"--quick"}, "was started without --quick; resume it without"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sweep")
			sweep := func(extra ...string) []string {
				return append([]string{"sweep", "default", "--param", "clients.paths=1,2", "--seeds", "1", "--out", out, "-q"}, extra...)
			}
			code, _, stderr := runCLI(sweep(append([]string{"--emit", "k8s"}, tc.started...)...)...)
			require.Equal(t, exitOK, code, stderr)
			code, _, stderr = runCLI(sweep(append([]string{"--resume"}, tc.then...)...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "environment or --set differ")
			assert.NoDirExists(t, filepath.Join(out, "arm-01-clients.paths=1"), "nothing run")
		})
	}
}
