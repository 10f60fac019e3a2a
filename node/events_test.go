package node

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEnumNames(t *testing.T) {
	tests := []struct {
		v    fmt.Stringer
		want string
	}{
		{FromClient, "client"},
		{FromSwarmPush, "swarm-push"},
		{Source(0), "unknown"},
		{FromSwarmPush + 1, "unknown"},
		{MoveNewMember, "new-member"},
		{MoveDissolved, "dissolved"},
		{MoveReason(200), "unknown"},
		{HopRelay, "relay"},
		{HopFailed, "failed"},
		{HopRole(0), "unknown"},
		{ViaDirect, "direct"},
		{ViaPeer, "peer"},
		{ViaPeer + 1, "unknown"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.v.String(), "%T(%d)", tt.v, tt.v)
	}
}
