package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

// library is the scenario library of issue 11; each one encodes what should happen in checks,
// full size and quick.
var library = []string{"default", "large", "churn", "region-outage", "operator-outage", "partition", "flash-crowd", "mobile-lossy", "replication", "leakage", "groups", "full"}

func TestLibraryScenarios(t *testing.T) {
	names := Builtins()
	for _, name := range library {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, names, name)
			src, ok := BuiltinSource(name)
			require.True(t, ok)
			assert.True(t, strings.HasPrefix(string(src), "#"), "the file opens with comments saying what it is for")
			s, err := Load(name, LoadOptions{})
			require.NoError(t, err)
			assert.Equal(t, name, s.Name)
			assert.NotEmpty(t, s.Description, "the one-line purpose `sessionsim scenarios` shows")
			assert.NotContains(t, s.Description, "\n")
			assert.NotEmpty(t, s.Checks, "checks encode what should happen")
			assert.NotEmpty(t, s.Quick.Checks, "a quick run has checks of its own")
			q, err := Load(name, LoadOptions{Quick: true})
			require.NoError(t, err, "the quick version is a valid scenario")
			assert.Equal(t, s.Quick.Checks, q.Checks)
		})
	}
}

// TestQuickSuite runs every built-in scenario with --quick and requires its quick checks to
// pass, with modeled crypto so that the suite stays within the test budget (make
// scenarios-quick runs the scenarios as they are).
func TestQuickSuite(t *testing.T) {
	endToEnd(t, "runs the scenario library shortened")
	for _, name := range library {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := Load(name, LoadOptions{Quick: true, Sets: []string{"crypto=modeled"}})
			require.NoError(t, err)
			cs, err := checks.ParseAll(sc.Checks)
			require.NoError(t, err)
			var s results.Summary
			if name == "default" {
				// The same run as the other tests of the default scenario shortened.
				s = runShared(t, sc).sum
			} else {
				s, err = Run(sc, RunOptions{})
				require.NoError(t, err)
			}
			verdicts := checks.Evaluate(cs, s)
			assert.Zero(t, results.ChecksFailed(verdicts), "quick checks of %s: %+v", name, verdicts)
		})
	}
}

// TestFullFitsReferenceMachine: the full scenario is not refused by the memory estimate on the
// reference machine (24 GiB), and its quick version stays small enough for the quick suite.
func TestFullFitsReferenceMachine(t *testing.T) {
	s, err := Load("full", LoadOptions{MachineMemory: 24 << 30})
	require.NoError(t, err)
	assert.Equal(t, 2000, s.Nodes.Count)
	assert.Equal(t, 100_000, s.Clients.Count)
	q, err := Load("full", LoadOptions{Quick: true, MachineMemory: 24 << 30})
	require.NoError(t, err)
	assert.Equal(t, 200, q.Nodes.Count)
	assert.Equal(t, 1000, q.Clients.Count)
	assert.Equal(t, 3*time.Minute, q.Duration)
}
