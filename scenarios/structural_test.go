package scenarios

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// structuralCase is a scenario run on bytes and in structural form, whose summaries must match.
type structuralCase struct {
	name string
	load func(t *testing.T) Scenario
	// onBytes, if set, is the summary of load's scenario on bytes that other tests made
	// already (sharedDefaultQuick); the case then runs only the structural form.
	onBytes func(t *testing.T) results.Summary
}

// loadModeled loads a built-in scenario under modeled crypto with the --set overrides sets.
func loadModeled(name string, quick bool, sets ...string) func(t *testing.T) Scenario {
	return func(t *testing.T) Scenario {
		sc, err := Load(name, LoadOptions{Quick: quick, Sets: append([]string{"crypto=modeled"}, sets...)})
		require.NoError(t, err)
		return sc
	}
}

// withChurnAndFaults is a scenario under node churn and every kind of fault: crashes of path
// nodes and of random nodes, a regional partition, degraded phone links.
func withChurnAndFaults(load func(t *testing.T) Scenario) func(t *testing.T) Scenario {
	return func(t *testing.T) Scenario {
		sc := load(t)
		sc.Nodes.Churn.CrashesPerHour, sc.Nodes.Churn.JoinsPerHour = 30, 30
		at := sc.Warmup + sc.Duration/4
		sc.Faults = []Fault{
			{Kind: "crash", At: at, Target: "paths", Fraction: 0.05},
			{Kind: "crash", At: at + time.Minute, Target: "random", Fraction: 0.05},
			{Kind: "partition", At: at, For: time.Minute, Regions: []string{"eu-west-1"}},
			{Kind: "degrade", At: 0, Target: "phones", Fraction: 0.5, AddedLatency: 150 * time.Millisecond, Loss: 0.03},
		}
		require.NoError(t, sc.Validate())
		return sc
	}
}

// TestStructuralSameSummary: for the same seed, wire=structural gives byte for byte the summary
// of wire=bytes under modeled crypto (the leakage section included), apart from the wire field
// itself, on the default scenario, on a scenario under churn and faults, and on the leakage
// scenario (once more with padded onion requests and cover traffic), shortened to fit the test budget. SESSIONSIM_TEST_STRUCTURAL=full runs them at the
// sizes of `make test-structural` (the default scenario whole; 2,000 nodes and 1,000 clients
// under churn and faults; the leakage scenario's 2,000 nodes and its adversaries, with 400
// clients for 3 minutes).
func TestStructuralSameSummary(t *testing.T) {
	endToEnd(t, "end-to-end runs")
	cases := []structuralCase{
		{"default", loadModeled("default", true), func(t *testing.T) results.Summary { return sharedDefaultQuick(t).sum }},
		{"churn-and-faults", withChurnAndFaults(loadModeled("large", true, "clients.count=400")), nil},
		{"leakage", loadModeled("leakage", true, "clients.count=200", "duration=3m"), nil},
		// Padded onion requests and cover traffic: the client measures a structural request's
		// padded length instead of padding its bytes.
		{"padded", loadModeled("leakage", true, "clients.count=200", "duration=3m", "clients.onion_padding=512,1024,4096", "clients.cover_traffic=60"), nil},
	}
	if os.Getenv("SESSIONSIM_TEST_STRUCTURAL") == "full" {
		cases = []structuralCase{
			{"default", loadModeled("default", false), nil},
			{"churn-and-faults", withChurnAndFaults(loadModeled("large", false, "clients.count=1000", "duration=3m")), nil},
			{"leakage", loadModeled("leakage", false, "clients.count=400", "duration=3m", "warmup=1m", "drain=1m"), nil},
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The runs share nothing: on a machine with cores to spare they go side by side.
			t.Parallel()
			sc := tc.load(t)
			require.Equal(t, "bytes", sc.Wire, "the default form")
			var want string
			if tc.onBytes != nil {
				want = encodeWithoutWire(t, sc, tc.onBytes(t))
			} else {
				want = summaryWithoutWire(t, sc)
			}
			sc.Wire = "structural"
			require.NoError(t, sc.Validate())
			got := summaryWithoutWire(t, sc)
			assert.Equal(t, want, got, "structural form changes nothing a run reports")
		})
	}
}

// summaryWithoutWire runs sc and returns its summary.json without the wire field, the only one
// that may differ between the forms; it checks that field first.
func summaryWithoutWire(t *testing.T, sc Scenario) string {
	t.Helper()
	s, err := Run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	return encodeWithoutWire(t, sc, s)
}

// encodeWithoutWire is summaryWithoutWire for the summary s of a run of sc made already; s is a
// copy, so clearing its wire field leaves a shared run as it was.
func encodeWithoutWire(t *testing.T, sc Scenario, s results.Summary) string {
	t.Helper()
	require.Equal(t, sc.Wire, s.Wire, "the summary reports the form")
	require.NotZero(t, s.Messages.Sent, "the run sent messages")
	s.Wire = ""
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	return string(b)
}
