package scenarios

// The end-to-end tests of this package each build worlds of their own and run them, sharing
// nothing but the read-only runs below, so they call t.Parallel through endToEnd: go test runs
// GOMAXPROCS of them at once, two on a 2-core machine, instead of leaving a core idle once the
// other packages are done. That includes worlds on several workers, whose workers wait for one
// another at every window (a run on 2 workers kept 0.8-0.9 of a core busy here). Tests that
// change package variables or the environment, start processes or containers, or time real
// sockets (TestSimAndLiveAgree: beside a simulated world its live onion round trips slowed by
// half) stay sequential, but for the docker-mode tests: they run beside one another, two
// worlds at a time in the lanes of dockerLanes, and make test-docker runs them alone (-run
// TestDocker), not beside the simulated worlds.

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// sharedRun is one run of a scenario on one worker that several tests check, each from its own
// side. A run is deterministic, so one run checked by all of them checks what a run each would;
// they only read it. A copy of the summary may have its own fields set (a copy's Wire or
// Leakage cleared), but the maps, slices and pointed-to values it holds are the shared run's:
// never write into them. Leave the world as it ended.
type sharedRun struct {
	w    *world
	sum  results.Summary
	taps []byte
	// used and why are what the run told RunOptions.OnWorkers.
	used int
	why  string
	err  error
	// ended is the summary's JSON as the run ended: each test that used the run checks at its
	// end that the summary still encodes to it, so that one that wrote into it fails instead
	// of changing what the others check.
	ended []byte
}

// sharedRuns holds the runs made so far, by resolved scenario: two tests that ask for the same
// scenario, however they built it, get the same run.
var sharedRuns = struct {
	sync.Mutex
	byScenario map[string]func() *sharedRun
}{byScenario: map[string]func() *sharedRun{}}

// runShared returns the run of sc on one worker (Version "test", the link taps kept), making it
// on first use; a test that asks while another makes it waits for that run.
func runShared(t *testing.T, sc Scenario) *sharedRun {
	t.Helper()
	key, err := sc.YAML()
	require.NoError(t, err)
	sharedRuns.Lock()
	get, ok := sharedRuns.byScenario[string(key)]
	if !ok {
		get = sync.OnceValue(func() *sharedRun {
			r := &sharedRun{}
			var taps bytes.Buffer
			r.w, r.sum, r.err = run(sc, RunOptions{Version: "test", Workers: 1, LinkTaps: &taps,
				OnWorkers: func(u int, why string) { r.used, r.why = u, why }})
			r.taps = taps.Bytes()
			if r.err == nil {
				r.ended, r.err = json.Marshal(r.sum)
			}
			return r
		})
		sharedRuns.byScenario[string(key)] = get
	}
	sharedRuns.Unlock()
	r := get()
	require.NoError(t, r.err, "the shared run of %s", sc.Name)
	t.Cleanup(func() {
		now, err := json.Marshal(r.sum)
		require.NoError(t, err)
		assert.Equal(t, string(r.ended), string(now), "the shared run's summary is as it ended: no test wrote into it")
	})
	return r
}

// sharedDefaultQuick returns the run of the default scenario shortened, under modeled crypto,
// that several tests check: its quick checks (TestQuickSuite), the structural form against it
// (TestStructuralSameSummary), more workers against it (TestWorldWorkersGiveOneResult) and
// nodes that report every event against it (TestQuietNodesSameSummary).
func sharedDefaultQuick(t *testing.T) *sharedRun {
	t.Helper()
	return runShared(t, loadModeled("default", true)(t))
}
