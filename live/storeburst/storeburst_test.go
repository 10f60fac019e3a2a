package storeburst

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	acked := map[string]int{"a": 0, "b": 1, "c": 1, "d": 1}
	held := []map[string]bool{{"a": true, "c": true}, {"b": true}, {}}
	v := Check(acked, held, 1)
	assert.Equal(t, []string{"d"}, v.Lost, "d is on no node")
	assert.Equal(t, 3, v.ByVictim)
	assert.Equal(t, 1, v.VictimKept, "only b is in the victim's own store")
}
