package scenarios

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContactGraph(t *testing.T) {
	cases := []struct {
		name string
		n    int
		w    Workload
	}{
		{"small-world no rewire", 50, Workload{Graph: "small-world", Contacts: 6}},
		{"small-world rewired", 200, Workload{Graph: "small-world", Contacts: 6, Rewire: 0.3}},
		{"random", 100, Workload{Graph: "random", Contacts: 4}},
		{"tiny", 3, Workload{Graph: "random", Contacts: 6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := ContactGraph(tc.n, tc.w, rand.New(rand.NewPCG(7, 7)))
			require.Len(t, g, tc.n)
			for i, cs := range g {
				assert.True(t, sort.IntsAreSorted(cs))
				assert.NotContains(t, cs, i, "no self-loop")
				assert.GreaterOrEqual(t, len(cs), 1)
				for _, j := range cs {
					assert.Contains(t, g[j], i, "undirected")
				}
			}
			again := ContactGraph(tc.n, tc.w, rand.New(rand.NewPCG(7, 7)))
			assert.Equal(t, g, again, "deterministic")
		})
	}
	ring := ContactGraph(50, Workload{Graph: "small-world", Contacts: 6}, rand.New(rand.NewPCG(1, 1)))
	assert.Equal(t, []int{1, 2, 3, 47, 48, 49}, ring[0], "unrewired ring links 3 neighbours a side")
}

func TestMessageSizeClipped(t *testing.T) {
	z := SizeDist{Median: 100, Sigma: 2, Min: 10, Max: 1000}
	r := rand.New(rand.NewPCG(3, 4))
	below := 0
	for range 20000 {
		s := MessageSize(z, r)
		require.GreaterOrEqual(t, s, 10)
		require.LessOrEqual(t, s, 1000)
		if s < 100 {
			below++
		}
	}
	assert.InDelta(t, 0.5, float64(below)/20000, 0.02, "median holds")
}
