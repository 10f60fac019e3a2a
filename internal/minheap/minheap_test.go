package minheap

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is a timed step with a sequence number breaking ties, as the project's queues order them.
type step struct{ at, seq int }

func (a step) Before(b step) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func TestPopsInOrder(t *testing.T) {
	tests := []struct {
		name string
		at   []int
	}{
		{"empty", nil},
		{"one", []int{5}},
		{"ascending", []int{1, 2, 3, 4}},
		{"descending", []int{4, 3, 2, 1}},
		{"ties keep insertion order", []int{2, 1, 2, 1, 2}},
		{"random", rand.New(rand.NewPCG(1, 2)).Perm(200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap[step]
			want := make([]step, len(tt.at))
			for i, at := range tt.at {
				h.Push(step{at, i})
				want[i] = step{at, i}
			}
			slices.SortFunc(want, func(a, b step) int {
				if a.Before(b) {
					return -1
				}
				return 1
			})
			require.Equal(t, len(want), h.Len())
			var got []step
			for h.Len() > 0 {
				first := h.Min()
				popped := h.Pop()
				assert.Equal(t, first, popped, "Min is what Pop returns")
				got = append(got, popped)
			}
			assert.Equal(t, len(want), len(got))
			if len(want) > 0 {
				assert.Equal(t, want, got)
			}
		})
	}
}

func TestInterleavedPushAndPop(t *testing.T) {
	var h Heap[step]
	h.Push(step{10, 0})
	h.Push(step{5, 1})
	assert.Equal(t, step{5, 1}, h.Pop())
	h.Push(step{7, 2})
	h.Push(step{10, 3})
	assert.Equal(t, []step{{7, 2}, {10, 0}, {10, 3}}, []step{h.Pop(), h.Pop(), h.Pop()})
	assert.Zero(t, h.Len())
}
