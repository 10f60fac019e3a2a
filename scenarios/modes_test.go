package scenarios

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimAndLiveAgree runs the same small world (20 nodes, 50 clients) in sim mode and in live
// mode and compares delivery and the onion round-trip distributions. One minute of wall-clock
// time (skipped with -short); SESSIONSIM_TEST_LIVE=1 (make test-live) runs five minutes. The
// bounds are loose on purpose: live mode adds real TLS, HTTP and goroutine costs, so the
// distributions are close, not equal; the figures are logged for the README.
func TestSimAndLiveAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of real time")
	}
	total := time.Minute
	if os.Getenv("SESSIONSIM_TEST_LIVE") != "" {
		total = 5 * time.Minute
	}
	c, err := CompareModes(ModesScenario(total), RunOptions{ReplicationSample: 10 * time.Second}, nil)
	require.NoError(t, err)
	t.Logf("sim:  sent %d delivered %d lost %d onion %d p50 %.1f p99 %.1f ms (wall %v)", c.Sim.Sent, c.Sim.Delivered, c.Sim.Lost,
		c.Sim.OnionRoundTrips, c.Sim.OnionP50MS, c.Sim.OnionP99MS, c.Sim.Wall)
	t.Logf("live: sent %d delivered %d lost %d onion %d p50 %.1f p99 %.1f ms (wall %v)", c.Live.Sent, c.Live.Delivered, c.Live.Lost,
		c.Live.OnionRoundTrips, c.Live.OnionP50MS, c.Live.OnionP99MS, c.Live.Wall)
	t.Logf("KS distance %.3f (5%% critical %.3f), p50 live/sim %.3f, p99 live/sim %.3f, delivery live-sim %+.4f",
		c.KSDistance, c.KSCritical5, c.P50Ratio, c.P99Ratio, c.DeliveryDiff)

	require.NotNil(t, c.Sim.DeliveryRatio)
	require.NotNil(t, c.Live.DeliveryRatio)
	assert.Positive(t, c.Sim.Sent)
	assert.Positive(t, c.Live.Sent)
	assert.InDelta(t, *c.Sim.DeliveryRatio, *c.Live.DeliveryRatio, 0.05, "delivery within 5 points")
	assert.Less(t, c.KSDistance, 0.5, "the onion round trips overlap: the simulator's link model is what live mode applies")
	assert.InDelta(t, 1, c.P50Ratio, 0.5, "median onion round trip within half of the simulator's")
}

func TestModeComparisonStatistics(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	assert.InDelta(t, 0, ksDistance(a, []float64{5, 4, 3, 2, 1}), 1e-12, "same sample in another order")
	assert.InDelta(t, 1, ksDistance(a, []float64{10, 11, 12}), 1e-12, "disjoint samples")
	assert.InDelta(t, 0.4, ksDistance(a, []float64{3, 4, 5, 6, 7}), 1e-12, "shifted by two of five")
	assert.InDelta(t, 3, empiricalQuantile(a, 0.5), 1e-12)
}

func TestCompareModesRefusesWhatLiveRefuses(t *testing.T) {
	sc := ModesScenario(time.Minute)
	sc.Crypto = "modeled"
	_, err := CompareModes(sc, RunOptions{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "crypto")
}
