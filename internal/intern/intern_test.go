package intern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type settings struct {
	Name  string
	Items []int
	Peers map[string]int
}

// TestPoolOf checks that equal values (slices and maps compared by content) share one copy,
// that a different one gets its own, and that the copy does not alias the caller's variable.
func TestPoolOf(t *testing.T) {
	var p Pool[settings]
	cases := []struct {
		name  string
		v     settings
		first int // index of the first value given that it must share with
	}{
		{"first", settings{Name: "a", Items: []int{1, 2}}, 0},
		{"equal content, other slice", settings{Name: "a", Items: []int{1, 2}}, 0},
		{"other name", settings{Name: "b", Items: []int{1, 2}}, 2},
		{"other items", settings{Name: "a", Items: []int{1, 3}}, 3},
		{"with a map", settings{Name: "a", Peers: map[string]int{"x": 1}}, 4},
		{"equal map", settings{Name: "a", Peers: map[string]int{"x": 1}}, 4},
	}
	got := make([]*settings, len(cases))
	for i, tc := range cases {
		v := tc.v
		got[i] = p.Of(v)
		require.Equal(t, tc.v, *got[i], tc.name)
		assert.Same(t, got[tc.first], got[i], tc.name)
		v.Name = "changed"
		assert.NotEqual(t, "changed", got[i].Name, "%s: the pool keeps a copy", tc.name)
	}
	assert.Equal(t, 4, p.Len())
}
