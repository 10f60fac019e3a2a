package scenarios

// The end-to-end tests of this package each build a world of their own and run it on one
// worker, sharing nothing but the read-only runs below, so they call t.Parallel: go test runs
// GOMAXPROCS of them at once, two on a 2-core machine, instead of leaving a core idle once the
// other packages are done. Tests that run worlds on several workers, change package variables
// or the environment, or start processes or containers stay sequential.

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// defaultQuickRun is the one run of the default scenario shortened, under modeled crypto, on one
// worker, that several tests check from their own side: its quick checks (TestQuickSuite), the
// structural form against it (TestStructuralSameSummary) and more workers against it
// (TestWorldWorkersGiveOneResult). The run is deterministic, so running it once for all of
// them checks the same as running it for each; they only read it.
type defaultQuickRun struct {
	sum  results.Summary
	taps []byte
	// used and why are what the run told RunOptions.OnWorkers.
	used int
	why  string
	err  error
}

var (
	defaultQuickOnce sync.Once
	defaultQuick     defaultQuickRun
)

// sharedDefaultQuick returns the run of the default scenario shortened, making it on first use.
// Callers must not change what it holds (copy the summary before editing a field).
func sharedDefaultQuick(t *testing.T) *defaultQuickRun {
	t.Helper()
	defaultQuickOnce.Do(func() {
		r := &defaultQuick
		sc, err := Load("default", LoadOptions{Quick: true, Sets: []string{"crypto=modeled"}})
		if r.err = err; err != nil {
			return
		}
		var taps bytes.Buffer
		r.sum, r.err = Run(sc, RunOptions{Version: "test", Workers: 1, LinkTaps: &taps,
			OnWorkers: func(u int, why string) { r.used, r.why = u, why }})
		r.taps = taps.Bytes()
	})
	require.NoError(t, defaultQuick.err, "the default scenario shortened")
	return &defaultQuick
}
