package message

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/nacl/box"
)

func TestSealBoxInteropWithNaCl(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	bob := user(t, bobSeed)
	for _, n := range []int{0, 1, 159, 1024, 5000} {
		msg := bytes.Repeat([]byte{byte(n)}, n)

		// Ours opens with x/crypto's crypto_box_seal_open.
		sealed, cost, err := SealBox(s, rng(uint64(n)), bob.X25519.Public, msg)
		require.NoError(t, err)
		assert.Len(t, sealed, n+SealedBoxOverhead)
		assert.Positive(t, cost)
		got, ok := box.OpenAnonymous(nil, sealed, &bob.X25519.Public, &bob.X25519.Secret)
		require.True(t, ok, "nacl/box opens our sealed box of %d bytes", n)
		assert.True(t, bytes.Equal(msg, got))

		// Theirs opens with ours.
		theirs, err := box.SealAnonymous(nil, msg, &bob.X25519.Public, rng(uint64(n)+1000))
		require.NoError(t, err)
		mine, _, err := OpenBox(s, bob.X25519, theirs)
		require.NoError(t, err, "we open nacl/box's sealed box of %d bytes", n)
		assert.True(t, bytes.Equal(msg, mine))
	}
}

func TestSealBoxSameRandomnessSameBytes(t *testing.T) {
	// With the same ephemeral randomness, ours and x/crypto's are the same bytes.
	s := suiteFor(cryptomode.Real)
	bob := user(t, bobSeed)
	msg := []byte("the same bytes as libsodium")
	ours, _, err := SealBox(s, rng(7), bob.X25519.Public, msg)
	require.NoError(t, err)
	theirs, err := box.SealAnonymous(nil, msg, &bob.X25519.Public, rng(7))
	require.NoError(t, err)
	assert.Equal(t, theirs, ours)
}

func TestSealBoxBothModes(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		bob := user(t, bobSeed)
		alice := user(t, aliceSeed)
		msg := []byte("sealed for bob")
		sealed, _, err := SealBox(s, rng(1), bob.X25519.Public, msg)
		require.NoError(t, err)
		require.Len(t, sealed, len(msg)+SealedBoxOverhead)

		got, cost, err := OpenBox(s, bob.X25519, sealed)
		require.NoError(t, err)
		assert.Equal(t, msg, got)
		assert.Positive(t, cost)

		_, _, err = OpenBox(s, alice.X25519, sealed)
		assert.ErrorIs(t, err, ErrDecrypt, "wrong recipient")

		for i := 0; i < len(sealed)*8; i++ {
			_, _, err := OpenBox(s, bob.X25519, flipBit(sealed, i))
			require.ErrorIs(t, err, ErrDecrypt, "bit %d flipped", i)
		}

		_, _, err = OpenBox(s, bob.X25519, sealed[:SealedBoxOverhead-1])
		assert.ErrorIs(t, err, ErrTooShort)
	})
}

func FuzzOpenBox(f *testing.F) {
	s := suiteFor(cryptomode.Real)
	bob := user(f, bobSeed)
	sealed, _, err := SealBox(s, rng(1), bob.X25519.Public, []byte("hello"))
	require.NoError(f, err)
	f.Add(sealed)
	f.Add(make([]byte, SealedBoxOverhead))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, err := OpenBox(s, bob.X25519, b)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrTooShort) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(got) != len(b)-SealedBoxOverhead {
			t.Fatalf("opened %d bytes from %d", len(got), len(b))
		}
	})
}
