package message

import (
	"crypto/ed25519"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func supplementKeys(gens int) []GroupGenKey {
	var keys []GroupGenKey
	for g := range gens {
		k := make([]byte, GroupKeySize)
		k[0] = byte(g + 1)
		keys = append(keys, GroupGenKey{Generation: int64(g), Key: k, IssuedMs: 1_700_000_000_000 + int64(g)*60_000})
	}
	return keys
}

// TestGroupKeySupplementRoundTrip: the new member opens every key the group had; an existing
// member finds no entry for itself (not an error that removes it); the size is exact.
func TestGroupKeySupplementRoundTrip(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		sk, gx, ms := groupKeysFixture(t, s)
		keys := supplementKeys(3)
		data, cost, err := BuildGroupKeySupplement(s, rng(4), sk, gx, keys, [][32]byte{ms[3].Public})
		require.NoError(t, err)
		assert.Len(t, data, GroupKeySupplementSize(keys, 1))
		assert.GreaterOrEqual(t, cost, s.Costs().X25519+s.Costs().Ed25519Sign)
		assert.True(t, IsGroupKeySupplement(data))
		rekey, _, err := BuildGroupKeys(s, rng(5), sk, gx, 1, keys[1].Key, [][32]byte{ms[0].Public})
		require.NoError(t, err)
		assert.False(t, IsGroupKeySupplement(rekey), "a rekey is no supplement")
		_, err = ParseGroupKeys(data)
		assert.Error(t, err, "a supplement is no rekey")

		var gEd [32]byte
		copy(gEd[:], sk.Public().(ed25519.PublicKey))
		got, _, err := OpenGroupKeySupplement(s, data, gEd, gx.Public, ms[3])
		require.NoError(t, err)
		assert.Equal(t, keys, got)
		_, _, err = OpenGroupKeySupplement(s, data, gEd, gx.Public, ms[0])
		assert.ErrorIs(t, err, ErrNotInKeys)
		bad := append([]byte(nil), data...)
		bad[len(bad)-10] ^= 1
		_, _, err = OpenGroupKeySupplement(s, bad, gEd, gx.Public, ms[3])
		assert.ErrorIs(t, err, ErrBadSignature)
	})
}

// TestGroupKeySupplementSizes: the size grows by one encrypted key list per member and by one
// key entry per generation.
func TestGroupKeySupplementSizes(t *testing.T) {
	s := suiteFor(cryptomode.Modeled)
	sk, gx, ms := groupKeysFixture(t, s)
	for _, gens := range []int{1, 2, 12} {
		for _, n := range []int{1, 2, 4} {
			pubs := make([][32]byte, n)
			for i := range pubs {
				pubs[i] = ms[i].Public
			}
			keys := supplementKeys(gens)
			data, _, err := BuildGroupKeySupplement(s, rng(6), sk, gx, keys, pubs)
			require.NoError(t, err)
			assert.Len(t, data, GroupKeySupplementSize(keys, n), "%d generations, %d members", gens, n)
		}
	}
	// One generation for one member: the list l d 1:g i0e 1:k 32:... 1:t i1700000000000e e e
	// (66 bytes) sealed (82 bytes, "82:" in front), with the nonce, G and the signature.
	assert.Equal(t, 1+3+27+3+2+85+3+3+3+67+1, GroupKeySupplementSize(supplementKeys(1), 1))
	_, _, err := BuildGroupKeySupplement(s, rng(6), sk, gx, nil, [][32]byte{ms[0].Public})
	assert.Error(t, err)
}

func FuzzParseGroupKeySupplement(f *testing.F) {
	s := suiteFor(cryptomode.Modeled)
	sk, gx, ms := groupKeysFixture(f, s)
	data, _, err := BuildGroupKeySupplement(s, rng(7), sk, gx, supplementKeys(2), [][32]byte{ms[0].Public})
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("de"))
	f.Add([]byte("d1:+le1:Gi0ee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = IsGroupKeySupplement(b)
		_, _ = parseSupplementKeys(b)
		m, err := ParseGroupKeySupplement(b)
		if err != nil {
			return
		}
		if len(m.Signed) >= len(b) || len(m.Signature) != ed25519.SignatureSize {
			t.Fatalf("signed %d of %d bytes, signature %d bytes", len(m.Signed), len(b), len(m.Signature))
		}
	})
}

// TestKeyMessageSignatureLast: both kinds of key message give the signature and the bytes before
// its "~" entry as what it signs, and refuse a message with an entry after the signature, which
// the signature would not cover.
func TestKeyMessageSignatureLast(t *testing.T) {
	s := suiteFor(cryptomode.Modeled)
	sk, gx, ms := groupKeysFixture(t, s)
	rekey, _, err := BuildGroupKeys(s, rng(8), sk, gx, 1, make([]byte, GroupKeySize), [][32]byte{ms[0].Public})
	require.NoError(t, err)
	supplement, _, err := BuildGroupKeySupplement(s, rng(9), sk, gx, supplementKeys(1), [][32]byte{ms[0].Public})
	require.NoError(t, err)
	tests := []struct {
		name  string
		data  []byte
		parse func([]byte) (signed, sig []byte, err error)
	}{
		{"keys", rekey, func(b []byte) ([]byte, []byte, error) {
			m, err := ParseGroupKeys(b)
			if err != nil {
				return nil, nil, err
			}
			return m.Signed, m.Signature, nil
		}},
		{"supplement", supplement, func(b []byte) ([]byte, []byte, error) {
			m, err := ParseGroupKeySupplement(b)
			if err != nil {
				return nil, nil, err
			}
			return m.Signed, m.Signature, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, sig, err := tt.parse(tt.data)
			require.NoError(t, err)
			sigAt := len(tt.data) - 1 - ed25519.SignatureSize
			assert.Equal(t, tt.data[sigAt:len(tt.data)-1], sig)
			assert.Equal(t, tt.data[:sigAt-len("1:~64:")], signed, "everything before the \"~\" entry")

			v, _, err := bencode.Decode(tt.data)
			require.NoError(t, err)
			v.Dict = append(v.Dict, bencode.Entry{Key: []byte("~~"), Value: bencode.Value{Kind: bencode.Int}})
			_, _, err = tt.parse(bencode.AppendValue(nil, v))
			require.ErrorIs(t, err, ErrMissingField)
			assert.ErrorContains(t, err, "signature is not last")
		})
	}
}
