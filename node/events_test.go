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
		{Source(0), "Source(0)"},
		{FromSwarmPush + 1, "Source(4)"},
		{MoveNewMember, "new-member"},
		{MoveDissolved, "dissolved"},
		{MoveReason(200), "MoveReason(200)"},
		{HopRelay, "relay"},
		{HopFailed, "failed"},
		{HopRole(0), "HopRole(0)"},
		{ViaDirect, "direct"},
		{ViaPeer, "peer"},
		{ViaPeer + 1, "Via(4)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.v.String(), "%T(%d)", tt.v, tt.v)
	}
}
