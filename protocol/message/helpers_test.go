package message

import (
	"crypto/ed25519"
	"io"
	"testing"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var modes = []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled}

var encodings = []Encoding{Libsession, Legacy}

func suiteFor(m cryptomode.Mode) cryptomode.Suite { return cryptomode.New(m, cryptomode.DefaultCosts) }

// inEachMode runs test once in each crypto mode, as a subtest named after it, with its suite.
func inEachMode(t *testing.T, test func(t *testing.T, s cryptomode.Suite)) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { test(t, suiteFor(m)) })
	}
}

// decodeError is err as the *DecodeError every decoding failure must be.
func decodeError(t testing.TB, err error) *DecodeError {
	t.Helper()
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	return de
}

// rng is testkit.Seeded, the stream the protocol tests draw from.
func rng(seed uint64) io.Reader { return testkit.Seeded(seed) }

// The two identities of protocol.md's vectors.
const (
	aliceSeed = "0123456789abcdef0123456789abcdef"
	aliceID   = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
	bobSeed   = "00112233445566778899aabbccddeeff"
	bobID     = "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
)

// testUser is one account's keys as the tests use them.
type testUser struct {
	Ed25519 ed25519.PrivateKey
	X25519  cryptomode.X25519KeyPair
	ID      identity.ID
}

// user derives an account from a 16-byte seed in hex. Long-term keys are the same in both
// modes, so the real suite completes the X25519 pair.
func user(t testing.TB, seedHex string) testUser {
	t.Helper()
	k, err := identity.FromSeed(testkit.Hex(t, seedHex))
	require.NoError(t, err)
	kp, _, err := suiteFor(cryptomode.Real).X25519FromSecret(k.X25519Secret)
	require.NoError(t, err)
	return testUser{Ed25519: k.Ed25519Private, X25519: kp, ID: k.SessionID()}
}

// flipBit returns a copy of b with bit i flipped.
func flipBit(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i/8] ^= 1 << (i % 8)
	return c
}

// fuzzRoundTrip fuzzes a decoder from seeds: every failure is a *DecodeError naming its layer,
// and whatever decodes re-encodes, in size(v) bytes, to bytes that decode to an equal value.
func fuzzRoundTrip[T any](f *testing.F, decode func([]byte) (T, error), encode func(T) []byte, size func(T) int, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			decodeError(t, err)
			return
		}
		out := encode(v)
		require.Len(t, out, size(v), "the size computed without encoding")
		again, err := decode(out)
		require.NoError(t, err, "re-encoded value does not decode")
		assert.Equal(t, v, again)
	})
}
