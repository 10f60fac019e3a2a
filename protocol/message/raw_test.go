package message

import (
	"encoding/base64"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The byte-level variants must be the base64 ones minus the base64: same bytes, costs and errors.
func TestRawVariantsMatchBase64Ones(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		out := Outgoing{Content: NewText("hello bob", 7), SentAt: 9}

		data, cost, err := Build(s, rng(3), alice.Ed25519, bob.ID, out)
		require.NoError(t, err)
		raw, rawCost, err := BuildRaw(s, rng(3), alice.Ed25519, bob.ID, out)
		require.NoError(t, err)
		assert.Equal(t, data, base64.StdEncoding.EncodeToString(raw))
		assert.Equal(t, cost, rawCost)
		rcv, _, err := ReceiveRaw(s, bob.X25519, raw, nil)
		require.NoError(t, err)
		assert.Equal(t, out.Content, rcv.Content)

		for name, bad := range map[string]struct {
			to  identity.ID
			out Outgoing
		}{
			"no content":    {bob.ID, Outgoing{SentAt: 9}},
			"not a session": {identity.NewID(identity.PrefixGroup, bob.X25519.Public), out},
		} {
			_, cost, err := Build(s, rng(3), alice.Ed25519, bad.to, bad.out)
			_, rawCost, rawErr := BuildRaw(s, rng(3), alice.Ed25519, bad.to, bad.out)
			require.Error(t, err, name)
			assert.EqualError(t, rawErr, err.Error(), name)
			assert.Equal(t, cost, rawCost, name)
		}

		inputs := map[string][]byte{
			"message":       raw,
			"garbage":       []byte("not a websocket message"),
			"empty":         nil,
			"group type":    wrapRaw(Legacy, &Envelope{Type: ClosedGroupMessage, Timestamp: 1, Content: []byte{1}}),
			"flipped bit":   flipBit(raw, 8*(len(raw)-1)),
			"short content": wrapRaw(Legacy, &Envelope{Type: SessionMessage, Timestamp: 1, Content: []byte{1}}),
		}
		for name, x := range inputs {
			for _, self := range []testUser{bob, alice} {
				got, cost, err := Receive(s, self.X25519, base64.StdEncoding.EncodeToString(x))
				rawGot, rawCost, rawErr := ReceiveRaw(s, self.X25519, x, nil)
				assert.Equal(t, got, rawGot, name)
				assert.Equal(t, cost, rawCost, name)
				if err == nil {
					assert.NoError(t, rawErr, name)
				} else {
					assert.EqualError(t, rawErr, err.Error(), name)
				}
			}
		}
	})
}
