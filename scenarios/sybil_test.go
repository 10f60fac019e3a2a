package scenarios

import (
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSybilEntersThroughPoolRefresh registers sybil nodes a minute into the sending period of
// a small network that runs past the desktop clients' pool refreshes (5 min after start, then
// hourly), with guards replaced every 5 minutes so that refreshed pools turn into guard tests.
func TestSybilEntersThroughPoolRefresh(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := small(t, "modeled")
	sc.Name = "sybil-e2e"
	// The structural form: the summary of wire=bytes (this run gave the same both ways), in a
	// third of the time; what is measured is which nodes the clients' pools and guards reach.
	sc.Wire = "structural"
	sc.Nodes.Count = 30
	sc.Clients.Count = 40
	sc.Workload.MessagesPerHour = 2
	sc.Duration = 66 * time.Minute
	sc.Drain = time.Minute
	sc.Clients.GuardLifetime = 5 * time.Minute
	const at = time.Minute
	sc.Leakage.Adversaries = []Adversary{{Name: "sybil", Kind: "sybil", Fraction: 0.5, At: at}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())

	w, sum, err := run(sc, RunOptions{})
	require.NoError(t, err)
	require.NotNil(t, sum.Leakage)
	a := adversary(t, sum.Leakage, "sybil")
	assert.Equal(t, "sybil", a.Kind)
	require.NotNil(t, a.Fraction)
	assert.Equal(t, 0.5, *a.Fraction)
	assert.Equal(t, 15.0, a.Nodes, "round(0.5 x 30) new nodes")
	assert.Len(t, w.nodes, 45, "they joined the world")

	joined := sc.Warmup + at
	tl := a.Timeline
	require.NotEmpty(t, tl.TS)
	before := 0
	for k, ts := range tl.TS {
		if time.Duration(ts*float64(time.Second)) >= joined {
			break
		}
		before++
		assert.Zero(t, tl.Direct[k], "direct at %vs, before the sybils registered", ts)
		assert.Zero(t, tl.GuardAndDestination[k], "guard_and_destination at %vs", ts)
		assert.Zero(t, tl.FullPath[k], "full_path at %vs", ts)
	}
	require.Positive(t, before, "the timeline has points before they registered")
	// Clients installed their pools in the warmup; the desktop refreshes its own 5 min after
	// it started (then hourly), the phones theirs 2 h after install: until the first refresh
	// only a client whose pool shrank can have met a sybil.
	refresh := client.DefaultConfig(client.Desktop).PoolRefreshFirst
	beforeRefresh := 0.0
	for k, ts := range tl.TS {
		if time.Duration(ts*float64(time.Second)) < refresh {
			beforeRefresh = tl.Direct[k]
		}
	}
	require.NotNil(t, a.Exposure.Direct)
	assert.Greater(t, *a.Exposure.Direct, beforeRefresh+0.2, "guard tests of refreshed pools reached the sybils: %v at %v", tl.Direct, tl.TS)
}
