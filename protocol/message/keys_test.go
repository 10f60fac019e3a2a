package message

import (
	"crypto/ed25519"
	"testing"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserKeysMatchBothSuites(t *testing.T) {
	// A user's X25519 public key is the Montgomery form of its Ed25519 key, and both suites
	// complete the same pair from the secret, so modeled receivers open real senders' messages.
	for _, m := range modes {
		for _, tt := range []struct{ seed, id string }{{aliceSeed, aliceID}, {bobSeed, bobID}} {
			k, err := identity.FromSeed(testkit.Hex(t, tt.seed))
			require.NoError(t, err)
			kp, _, err := suiteFor(m).X25519FromSecret(k.X25519Secret)
			require.NoError(t, err)
			assert.Equal(t, k.X25519Public, kp.Public, "%v %s", m, tt.seed)
			assert.Equal(t, tt.id, user(t, tt.seed).ID.String())
		}
	}
}

// A sender's key converts, or is refused, alike afresh and through a memo of the conversions,
// asked twice (a refusal is not remembered).
func TestSenderX25519Rejects(t *testing.T) {
	var identityPoint [32]byte
	identityPoint[0] = 1 // y = 1: the neutral element, of small order
	var notPoint [32]byte
	notPoint[0] = 2
	var good [32]byte
	copy(good[:], user(t, aliceSeed).Ed25519.Public().(ed25519.PublicKey))
	for _, tc := range []struct {
		name string
		keys SenderKeys
	}{{"afresh", nil}, {"memo", identity.NewX25519Memo().Convert}} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				_, err := senderX25519(identityPoint, tc.keys)
				assert.ErrorIs(t, err, ErrBadSenderKey)
				_, err = senderX25519(notPoint, tc.keys)
				assert.ErrorIs(t, err, ErrBadSenderKey)
				x, err := senderX25519(good, tc.keys)
				require.NoError(t, err)
				assert.Equal(t, aliceID[2:], identity.NewID(identity.PrefixSession, x).String()[2:])
			}
		})
	}
}

func TestOpenRejectsUnusableSenderKey(t *testing.T) {
	// Modeled signatures depend only on public values, so a sender key that is a small-order
	// point can carry a signature that verifies; the conversion must then refuse it.
	s := suiteFor(modes[1])
	bob := user(t, bobSeed)
	var bad [32]byte
	bad[0] = 1
	priv := ed25519.PrivateKey(append(make([]byte, 32), bad[:]...))
	box, _, err := Seal(s, rng(1), priv, bob.X25519.Public, Libsession.Pad([]byte("x")))
	require.NoError(t, err)
	_, _, err = Open(s, bob.X25519, box)
	assert.ErrorIs(t, err, ErrBadSenderKey)
}

func TestBuildRefusesNonSessionRecipient(t *testing.T) {
	s := suiteFor(modes[0])
	alice := user(t, aliceSeed)
	group := identity.NewID(identity.PrefixGroup, [32]byte{1})
	_, _, err := Build(s, rng(1), alice.Ed25519, group, Outgoing{Content: NewText("x", 1), SentAt: 1})
	assert.ErrorIs(t, err, ErrBadKey)
}
