package message

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildReceiveRoundTrip(t *testing.T) {
	contents := map[string]*Content{
		"text":  NewText("hello bob", 1_712_345_678_901),
		"empty": {},
		"full":  fullContent(),
		"1 KiB": NewText(strings.Repeat("k", 1024), 1_712_345_678_901),
	}
	for _, m := range modes {
		s := suiteFor(m)
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		for name, c := range contents {
			t.Run(m.String()+"/"+name, func(t *testing.T) {
				data, cost, err := Build(s, rng(3), alice.Ed25519, bob.ID, Outgoing{Content: c, SentAt: 1_712_345_678_999})
				require.NoError(t, err)
				assert.Positive(t, cost)
				assert.Len(t, data, StoredSize(c, 1_712_345_678_999))

				got, cost, err := Receive(s, bob.X25519, data)
				require.NoError(t, err)
				assert.Positive(t, cost)
				assert.Equal(t, aliceID, got.SenderID.String())
				assert.Equal(t, alice.Ed25519.Public().(ed25519.PublicKey), ed25519.PublicKey(got.SenderEd25519[:]))
				assert.EqualValues(t, 1_712_345_678_999, got.SentAt)
				assert.Equal(t, c, got.Content)

				_, _, err = Receive(s, alice.X25519, data)
				assert.ErrorIs(t, err, ErrDecrypt, "wrong recipient")
			})
		}
	}
}

func TestReceiveCostIsSumOfSteps(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	c := s.Costs()
	alice, bob := user(t, aliceSeed), user(t, bobSeed)
	content := NewText(strings.Repeat("k", 1024), 1)
	padded := PaddedLen(content.EncodedLen())
	inner := padded + senderKeyLen + signatureLen

	data, sealCost, err := Build(s, rng(1), alice.Ed25519, bob.ID, Outgoing{Content: content, SentAt: 1})
	require.NoError(t, err)
	assert.Equal(t, c.Ed25519Sign+c.X25519KeyGen+c.X25519+cryptomode.PerKiB(c.SealedBoxKiB, inner), sealCost)

	_, openCost, err := Receive(s, bob.X25519, data)
	require.NoError(t, err)
	assert.Equal(t, c.X25519+cryptomode.PerKiB(c.SealedBoxKiB, inner)+c.Ed25519Verify+ConversionCost, openCost)
}

func TestSealedMessageTamperingFails(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		box, _, err := Seal(s, rng(5), alice.Ed25519, bob.X25519.Public, Pad(NewText("hi", 1).Marshal()))
		require.NoError(t, err)
		require.Len(t, box, 159+SealOverhead)
		for i := 0; i < len(box)*8; i++ {
			_, _, err := Open(s, bob.X25519, flipBit(box, i))
			require.ErrorIs(t, err, ErrDecrypt, "bit %d flipped", i)
		}
		// The envelope's content is that box: flipping any of its bits in the stored data
		// fails too. (The framing around it, verb, path and timestamp, is not authenticated,
		// in the real clients either.)
		env := &Envelope{Type: SessionMessage, Timestamp: 1, Content: box}
		for i := 0; i < len(box)*8; i += 7 {
			env.Content = flipBit(box, i)
			_, _, err := Receive(s, bob.X25519, WrapEnvelope(env))
			require.ErrorIs(t, err, ErrDecrypt, "bit %d flipped", i)
		}
	})
}

// sealRaw seals an arbitrary inner plaintext (M || A || SIG) as Seal does, so that tests can
// forge what is inside a valid box.
func sealRaw(t *testing.T, s cryptomode.Suite, to [32]byte, m []byte, a []byte, sig []byte) []byte {
	t.Helper()
	inner := append(append(append([]byte(nil), m...), a...), sig...)
	box, _, err := SealBox(s, rng(9), to, inner)
	require.NoError(t, err)
	return box
}

func TestBadSignatureDetected(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		carol := user(t, "ffeeddccbbaa99887766554433221100")
		padded := Pad(NewText("hi", 1).Marshal())
		a := alice.Ed25519.Public().(ed25519.PublicKey)

		signedFor := func(to [32]byte) []byte {
			sig, _ := s.Sign(alice.Ed25519, append(append(append([]byte(nil), padded...), a...), to[:]...))
			return sig
		}
		tests := []struct {
			name string
			box  []byte
		}{
			// Bob forwards Alice's message to Carol: the signature names Bob as recipient.
			{"re-sealed to another recipient", sealRaw(t, s, carol.X25519.Public, padded, a, signedFor(bob.X25519.Public))},
			{"signature zeroed", sealRaw(t, s, carol.X25519.Public, padded, a, make([]byte, 64))},
			{"claimed sender differs", sealRaw(t, s, carol.X25519.Public, padded, bob.Ed25519.Public().(ed25519.PublicKey), signedFor(carol.X25519.Public))},
			{"message changed", sealRaw(t, s, carol.X25519.Public, Pad(NewText("ho", 1).Marshal()), a, signedFor(carol.X25519.Public))},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := Open(s, carol.X25519, tt.box)
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrBadSignature)
			})
		}
		// The control: the same construction with a right signature opens.
		o, _, err := Open(s, carol.X25519, sealRaw(t, s, carol.X25519.Public, padded, a, signedFor(carol.X25519.Public)))
		require.NoError(t, err)
		assert.Equal(t, aliceID, o.SenderID().String())
	})
}

func TestOpenShortInner(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	bob := user(t, bobSeed)
	box, _, err := SealBox(s, rng(1), bob.X25519.Public, make([]byte, 95))
	require.NoError(t, err)
	_, _, err = Open(s, bob.X25519, box)
	assert.ErrorIs(t, err, ErrTooShort)
}

func TestReceiveRejectsOtherLayers(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	alice, bob := user(t, aliceSeed), user(t, bobSeed)
	box, _, err := Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, []byte("no padding marker"))
	require.NoError(t, err)
	_, _, err = Receive(s, bob.X25519, WrapEnvelope(&Envelope{Type: SessionMessage, Timestamp: 1, Content: box}))
	assert.ErrorIs(t, err, ErrBadPadding)

	box, _, err = Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, Pad([]byte{0x0b}))
	require.NoError(t, err)
	_, _, err = Receive(s, bob.X25519, WrapEnvelope(&Envelope{Type: SessionMessage, Timestamp: 1, Content: box}))
	assert.Equal(t, "Content", decodeError(t, err).Layer, "undecodable content")

	_, _, err = Receive(s, bob.X25519, WrapEnvelope(&Envelope{Type: ClosedGroupMessage, Timestamp: 1, Content: box}))
	assert.ErrorIs(t, err, ErrEnvelopeType)

	_, _, err = Receive(s, bob.X25519, base64.StdEncoding.EncodeToString([]byte{0x08, 0x01}))
	assert.ErrorIs(t, err, ErrNotRequest)
}

func TestModesProduceIdenticalSizes(t *testing.T) {
	real, modeled := suiteFor(cryptomode.Real), suiteFor(cryptomode.Modeled)
	ra, rb := user(t, aliceSeed), user(t, bobSeed)
	ma, mb := user(t, aliceSeed), user(t, bobSeed)
	for _, n := range []int{0, 1, 100, 150, 151, 1000, 4096} {
		c := NewText(strings.Repeat("z", n), 1_712_345_678_901)
		rd, _, err := Build(real, rng(1), ra.Ed25519, rb.ID, Outgoing{Content: c, SentAt: 1_712_345_678_901})
		require.NoError(t, err)
		md, _, err := Build(modeled, rng(1), ma.Ed25519, mb.ID, Outgoing{Content: c, SentAt: 1_712_345_678_901})
		require.NoError(t, err)
		assert.Equal(t, len(rd), len(md), "body %d", n)
		assert.NotEqual(t, rd, md, "modeled mode does not reproduce real ciphertext")
	}
}

func FuzzOpen(f *testing.F) {
	s := suiteFor(cryptomode.Real)
	alice, bob := user(f, aliceSeed), user(f, bobSeed)
	box, _, err := Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, Pad([]byte("x")))
	require.NoError(f, err)
	f.Add(box)
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, _, err := Open(s, bob.X25519, b)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrTooShort) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrBadSenderKey) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(o.Padded) != len(b)-SealOverhead {
			t.Fatalf("opened %d bytes of content from %d", len(o.Padded), len(b))
		}
	})
}

func FuzzReceive(f *testing.F) {
	s := suiteFor(cryptomode.Modeled)
	alice, bob := user(f, aliceSeed), user(f, bobSeed)
	data, _, err := Build(s, rng(1), alice.Ed25519, bob.ID, Outgoing{Content: NewText("hi", 1), SentAt: 1})
	require.NoError(f, err)
	f.Add(data)
	f.Add("CAE=")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		r, _, err := Receive(s, bob.X25519, data)
		if err == nil && r.Content == nil {
			t.Fatal("no error and no content")
		}
	})
}
