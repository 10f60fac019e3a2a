package metrics

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		draw func() float64
	}{
		{"uniform ms", func() float64 { return 1 + r.Float64()*999 }},
		{"lognormal us", func() float64 { return math.Exp(8 + 1.5*r.NormFloat64()) }},
		{"exponential", func() float64 { return 1 + r.ExpFloat64()*200 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			vals := make([]float64, 50000)
			for i := range vals {
				vals[i] = tc.draw()
				h.Add(vals[i])
			}
			sort.Float64s(vals)
			require.Equal(t, uint64(len(vals)), h.Count())
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				assert.InEpsilon(t, exact, h.Quantile(q), 0.011, "q=%v", q)
			}
			assert.Equal(t, vals[0], h.Min())
			assert.Equal(t, vals[len(vals)-1], h.Max())
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	assert.Zero(t, h.Quantile(0.5))
	assert.Zero(t, h.Mean())
	h.Add(-3)
	h.Add(math.NaN())
	h.Add(0.5)
	assert.Equal(t, uint64(3), h.Count())
	assert.Zero(t, h.Quantile(0.99))

	var a, b Histogram
	for i := 1; i <= 100; i++ {
		a.Add(float64(i))
		b.Add(float64(i + 100))
	}
	a.Merge(&b)
	assert.Equal(t, uint64(200), a.Count())
	assert.InEpsilon(t, 100.0, a.Quantile(0.5), 0.011)
	assert.Equal(t, 200.0, a.Max())
	assert.Equal(t, 1.0, a.Min())
}
