package storagerpc

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPushSize(t *testing.T) {
	type msg struct {
		hash       string
		ns         Namespace
		ts, expiry int64
		data       int
	}
	for _, tc := range []struct {
		name string
		msgs []msg
	}{
		{"empty", nil},
		{"one", []msg{{phHash, NamespaceDefault, nowMs, nowMs + 14*86_400_000, 1500}}},
		{"mixed", []msg{
			{vectorHash, NamespaceContacts, nowMs, nowMs + 3_600_000, 0},
			{phHash, -10, 1, 2, 76_800},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := []any{}
			sum := 0
			for _, m := range tc.msgs {
				list = append(list, []any{make([]byte, 33), m.hash, m.ts, m.expiry, make([]byte, m.data), int(m.ns)})
				sum += PushedMessageSize(len(m.hash), m.ns, m.ts, m.expiry, m.data)
			}
			assert.Equal(t, len(encodeBT(list)), PushSize(sum))
		})
	}
}
