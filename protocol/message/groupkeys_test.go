package message

import (
	"crypto/ed25519"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupKeysFixture is a group and four would-be members, each with its X25519 key pair.
func groupKeysFixture(t testing.TB, s cryptomode.Suite) (ed25519.PrivateKey, cryptomode.X25519KeyPair, []cryptomode.X25519KeyPair) {
	t.Helper()
	g := identity.Derive(1, "group")
	gx, _, err := s.X25519FromSecret(g.X25519Secret)
	require.NoError(t, err)
	var ms []cryptomode.X25519KeyPair
	for _, name := range []string{"a", "b", "c", "d"} {
		k := identity.Derive(1, name)
		p, _, err := s.X25519FromSecret(k.X25519Secret)
		require.NoError(t, err)
		ms = append(ms, p)
	}
	return g.Ed25519Private, gx, ms
}

func TestGroupKeysRoundTrip(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		sk, gx, ms := groupKeysFixture(t, s)
		key := make([]byte, GroupKeySize)
		key[0] = 7
		// Members a, b and c get the key; d was removed.
		pubs := [][32]byte{ms[0].Public, ms[1].Public, ms[2].Public}
		data, cost, err := BuildGroupKeys(s, rng(1), sk, gx, 3, key, pubs)
		require.NoError(t, err)
		assert.Len(t, data, GroupKeysSize(3, 3), "the size is computed exactly")
		// One agreement per member and the signature, plus the four small encryptions.
		assert.GreaterOrEqual(t, cost, 3*s.Costs().X25519+s.Costs().Ed25519Sign)
		assert.Less(t, cost, 3*s.Costs().X25519+s.Costs().Ed25519Sign+s.Costs().X25519)
		m, err := ParseGroupKeys(data)
		require.NoError(t, err)
		assert.Len(t, m.Entries, GroupKeysMultiple, "padded with junk to a multiple of 75")
		assert.EqualValues(t, 3, m.Generation)
		var gEd [32]byte
		copy(gEd[:], sk.Public().(ed25519.PublicKey))
		for i, self := range ms[:3] {
			gen, got, _, err := OpenGroupKeys(s, data, gEd, gx.Public, self)
			require.NoError(t, err, "member %d", i)
			assert.EqualValues(t, 3, gen)
			assert.Equal(t, key, got)
		}
		gen, got, _, err := OpenGroupKeys(s, data, gEd, gx.Public, ms[3])
		require.ErrorIs(t, err, ErrNotInKeys, "a removed member finds no entry")
		assert.EqualValues(t, 3, gen)
		assert.Nil(t, got)
		bad := append([]byte(nil), data...)
		bad[len(bad)-10] ^= 1
		_, _, _, err = OpenGroupKeys(s, bad, gEd, gx.Public, ms[0])
		require.ErrorIs(t, err, ErrBadSignature)
	})
}

func TestGroupKeysSizes(t *testing.T) {
	s := suiteFor(cryptomode.Modeled)
	sk, gx, ms := groupKeysFixture(t, s)
	key := make([]byte, GroupKeySize)
	for _, n := range []int{1, 4, 75, 76} {
		pubs := make([][32]byte, n)
		for i := range pubs {
			pubs[i] = ms[i%len(ms)].Public
		}
		data, _, err := BuildGroupKeys(s, rng(2), sk, gx, 12345, key, pubs)
		require.NoError(t, err)
		assert.Len(t, data, GroupKeysSize(12345, n), "%d members", n)
	}
	// 100 members take 150 entries of 48 bytes (51 bytes bencoded each).
	assert.Equal(t, 1+3+27+3+3+3+51+3+2+150*51+3+67+1, GroupKeysSize(1, 100))
}

func FuzzParseGroupKeys(f *testing.F) {
	s := suiteFor(cryptomode.Modeled)
	sk, gx, ms := groupKeysFixture(f, s)
	data, _, err := BuildGroupKeys(s, rng(3), sk, gx, 1, make([]byte, GroupKeySize), [][32]byte{ms[0].Public})
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("de"))
	f.Add([]byte("d1:#24:000000000000000000000000e"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseGroupKeys(b)
		if err != nil {
			return
		}
		if len(m.Signed) >= len(b) || len(m.Signature) != ed25519.SignatureSize {
			t.Fatalf("signed %d of %d bytes, signature %d bytes", len(m.Signed), len(b), len(m.Signature))
		}
	})
}
