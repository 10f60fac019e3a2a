package node

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackedInts checks that every value written reads back, neighbours untouched, for widths
// that do and do not divide a word, across a reset that reuses the memory.
func TestPackedInts(t *testing.T) {
	cases := []struct {
		name     string
		n, bound int
	}{
		{"one value, zero bits", 1, 1},
		{"bits", 100, 2},
		{"11 bits straddle words", 2000, 2000},
		{"16 bits", 300, 65536},
		{"31 bits", 50, 1 << 31},
		{"empty", 0, 10},
	}
	var p packedInts
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.words = append(p.words[:0], 0xffffffffffffffff) // leftovers a reset must clear
			p.reset(tc.n, tc.bound)
			require.Equal(t, tc.n, p.len())
			for i := range tc.n {
				require.Zero(t, p.get(i), "value %d after reset", i)
			}
			r := rand.New(rand.NewPCG(1, 2))
			want := make([]int, tc.n)
			for range 3 * tc.n {
				i := r.IntN(tc.n)
				want[i] = r.IntN(tc.bound)
				p.set(i, want[i])
			}
			for i := range tc.n {
				assert.Equal(t, want[i], p.get(i), "value %d", i)
			}
			p.truncate(tc.n / 2)
			assert.Equal(t, tc.n/2, p.len())
		})
	}
}
