package checks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func TestMeasure(t *testing.T) {
	assert.Equal(t, []string{
		"by_cause.timeout",
		"by_platform.ios.count", "by_platform.ios.max", "by_platform.ios.mean",
		"by_platform.ios.p50", "by_platform.ios.p90", "by_platform.ios.p99",
		"delivery_ratio",
		"leakage.adversaries[name=operator].exposure.direct", "leakage.adversaries[name=operator].exposure.linked",
		"leakage.adversaries[name=operator].nodes",
		"leakage.adversaries[name=random-0.05].exposure.direct", "leakage.adversaries[name=random-0.05].exposure.linked",
		"leakage.adversaries[name=random-0.05].nodes",
	}, Measure(leakSample()), "map keys and named elements expanded; the timeline left out; a null figure listed")

	figures := Measure(results.Summary{})
	assert.Contains(t, figures, "delivery_ratio")
	assert.Contains(t, figures, "onion_rtt_ms.p99")
	assert.NotContains(t, figures, "seed")
	assert.NotContains(t, figures, "schema")
	for _, f := range figures {
		_, err := Parse(f + " >= 0")
		assert.NoError(t, err, "every measured figure is one a check may name: %s", f)
	}
}

func TestCollect(t *testing.T) {
	a, b := leakSample(), leakSample()
	b.ByCause = map[string]uint64{"refused": 2}
	b.ByPlatform = nil
	b.DeliveryRatio = nil
	figures, values := Collect([]any{a, b})
	require.Len(t, values, 2)
	at := func(run int, fig string) *float64 {
		for i, f := range figures {
			if f == fig {
				return values[run][i]
			}
		}
		t.Fatalf("no figure %s in %v", fig, figures)
		return nil
	}
	assert.Equal(t, 3.0, *at(0, "by_cause.timeout"))
	assert.Equal(t, 0.0, *at(0, "by_cause.refused"), "a cause one run never saw counts 0 there")
	assert.Equal(t, 2.0, *at(1, "by_cause.refused"))
	assert.Equal(t, 640.0, *at(0, "by_platform.ios.p50"))
	assert.Nil(t, at(1, "by_platform.ios.p50"), "a platform the run did not have")
	assert.Nil(t, at(1, "delivery_ratio"), "null in the run")
	assert.Nil(t, at(0, "leakage.adversaries[name=random-0.05].exposure.linked"))
	assert.Equal(t, 0.3, *at(1, "leakage.adversaries[name=operator].exposure.linked"))
}
