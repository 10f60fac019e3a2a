package message

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/edwards25519"
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
	// The receiver does not know the sender's encoding: one Receive opens both.
	for _, m := range modes {
		s := suiteFor(m)
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		for name, c := range contents {
			for _, enc := range encodings {
				t.Run(m.String()+"/"+enc.String()+"/"+name, func(t *testing.T) {
					data, cost, err := Build(s, rng(3), alice.Ed25519, bob.ID, Outgoing{Content: c, SentAt: 1_712_345_678_999, Encoding: enc})
					require.NoError(t, err)
					assert.Positive(t, cost)
					assert.Len(t, data, StoredSize(enc, c, 1_712_345_678_999))

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
}

// What each encoding puts around the sealed box, read back from Build's output.
func TestBuildFraming(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		c := NewText("hello", 1_712_345_678_901)
		tests := []struct {
			enc          Encoding
			verb, path   string
			sourceDevice uint32
			proSig       int
			padded       int
		}{
			{Libsession, "", "", 1, ProSigLen, 160},
			{Legacy, RequestVerb, RequestPath, 0, 0, 159},
		}
		for _, tt := range tests {
			data, _, err := Build(s, rng(9), alice.Ed25519, bob.ID, Outgoing{Content: c, SentAt: 7, Encoding: tt.enc})
			require.NoError(t, err)
			raw, err := base64.StdEncoding.DecodeString(data)
			require.NoError(t, err)
			req, err := UnmarshalWebSocketMessage(raw)
			require.NoError(t, err)
			assert.Equal(t, tt.verb, req.Verb, "%v", tt.enc)
			assert.Equal(t, tt.path, req.Path, "%v", tt.enc)
			env, err := UnmarshalEnvelope(req.Body)
			require.NoError(t, err)
			assert.Equal(t, Envelope{Type: SessionMessage, Timestamp: 7, SourceDevice: tt.sourceDevice, Content: env.Content, ProSig: env.ProSig}, *env)
			assert.Len(t, env.ProSig, tt.proSig, "%v", tt.enc)
			assert.Len(t, env.Content, tt.padded+SealOverhead, "%v", tt.enc)
			o, _, err := Open(s, bob.X25519, env.Content)
			require.NoError(t, err)
			assert.Equal(t, tt.enc.Pad(c.Marshal()), o.Padded, "%v", tt.enc)
			if tt.enc == Libsession && s.Mode() == cryptomode.Real {
				// The decoy is R || S: R a point, S a reduced scalar, as a real signature.
				_, err := new(edwards25519.Point).SetBytes(env.ProSig[:32])
				assert.NoError(t, err, "R is a curve point")
				_, err = edwards25519.NewScalar().SetCanonicalBytes(env.ProSig[32:])
				assert.NoError(t, err, "S is a canonical scalar")
			}
		}
	})
}

func TestReceiveCostIsSumOfSteps(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	c := s.Costs()
	alice, bob := user(t, aliceSeed), user(t, bobSeed)
	content := NewText(strings.Repeat("k", 1024), 1)
	// libsession's decoy proSig costs a fixed-base multiplication, charged as a signature.
	tests := []struct {
		enc        Encoding
		signatures time.Duration
	}{{Libsession, 2}, {Legacy, 1}}
	for _, tt := range tests {
		inner := tt.enc.PaddedLen(content.EncodedLen()) + senderKeyLen + signatureLen
		data, sealCost, err := Build(s, rng(1), alice.Ed25519, bob.ID, Outgoing{Content: content, SentAt: 1, Encoding: tt.enc})
		require.NoError(t, err)
		assert.Equal(t, tt.signatures*c.Ed25519Sign+c.X25519KeyGen+c.X25519+cryptomode.PerKiB(c.SealedBoxKiB, inner), sealCost, "%v", tt.enc)

		_, openCost, err := Receive(s, bob.X25519, data)
		require.NoError(t, err)
		assert.Equal(t, c.X25519+cryptomode.PerKiB(c.SealedBoxKiB, inner)+c.Ed25519Verify+ConversionCost, openCost, "%v", tt.enc)
	}
}

func TestSealedMessageTamperingFails(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		box, _, err := Seal(s, rng(5), alice.Ed25519, bob.X25519.Public, Libsession.Pad(NewText("hi", 1).Marshal()))
		require.NoError(t, err)
		require.Len(t, box, 160+SealOverhead)
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
			_, _, err := Receive(s, bob.X25519, WrapEnvelope(Legacy, env))
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
		padded := Libsession.Pad(NewText("hi", 1).Marshal())
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
			{"message changed", sealRaw(t, s, carol.X25519.Public, Libsession.Pad(NewText("ho", 1).Marshal()), a, signedFor(carol.X25519.Public))},
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
	box, _, err := Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, Libsession.Pad([]byte{0x0b}))
	require.NoError(t, err)
	_, _, err = Receive(s, bob.X25519, WrapEnvelope(Legacy, &Envelope{Type: SessionMessage, Timestamp: 1, Content: box}))
	assert.Equal(t, "Content", decodeError(t, err).Layer, "undecodable content")

	_, _, err = Receive(s, bob.X25519, WrapEnvelope(Legacy, &Envelope{Type: ClosedGroupMessage, Timestamp: 1, Content: box}))
	assert.ErrorIs(t, err, ErrEnvelopeType)

	_, _, err = Receive(s, bob.X25519, base64.StdEncoding.EncodeToString([]byte{0x08, 0x01}))
	assert.ErrorIs(t, err, ErrNotRequest)
}

func TestReceiveAcceptsWhatLibsessionAccepts(t *testing.T) {
	s := suiteFor(cryptomode.Real)
	alice, bob := user(t, aliceSeed), user(t, bobSeed)
	content := NewText("hi", 1)
	seal := func(plain []byte) []byte {
		box, _, err := Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, plain)
		require.NoError(t, err)
		return box
	}
	padded := seal(Libsession.Pad(content.Marshal()))
	decoy := make([]byte, ProSigLen)
	tests := []struct {
		name string
		env  Envelope
		want error // nil: opens to content
	}{
		{"no padding at all", Envelope{Type: SessionMessage, Timestamp: 1, Content: seal(content.Marshal())}, nil},
		{"zeros without marker", Envelope{Type: SessionMessage, Timestamp: 1, Content: seal(append(content.Marshal(), 0, 0, 0))}, nil},
		{"legacy padding", Envelope{Type: SessionMessage, Timestamp: 1, Content: seal(Legacy.Pad(content.Marshal()))}, nil},
		{"empty source, device 1", Envelope{Type: SessionMessage, Timestamp: 1, SourceDevice: 1, Content: padded}, nil},
		{"source a Session ID", Envelope{Type: SessionMessage, Source: aliceID, Timestamp: 1, Content: padded, ProSig: decoy}, nil},
		{"proSig too short", Envelope{Type: SessionMessage, Timestamp: 1, Content: padded, ProSig: decoy[:63]}, ErrEnvelopeField},
		{"proSig too long", Envelope{Type: SessionMessage, Timestamp: 1, Content: padded, ProSig: append(decoy, 0)}, ErrEnvelopeField},
		{"source not an ID", Envelope{Type: SessionMessage, Source: "05ab", Timestamp: 1, Content: padded}, ErrEnvelopeField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range encodings {
				got, _, err := Receive(s, bob.X25519, WrapEnvelope(enc, &tt.env))
				if tt.want != nil {
					assert.ErrorIs(t, err, tt.want)
					assert.Equal(t, "Envelope", decodeError(t, err).Layer)
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, content, got.Content)
			}
		})
	}
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
	box, _, err := Seal(s, rng(1), alice.Ed25519, bob.X25519.Public, Libsession.Pad([]byte("x")))
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
	for _, enc := range encodings {
		data, _, err := Build(s, rng(1), alice.Ed25519, bob.ID, Outgoing{Content: NewText("hi", 1), SentAt: 1, Encoding: enc})
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add("CAE=")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		r, _, err := Receive(s, bob.X25519, data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrTooShort) &&
				!errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrBadSenderKey) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if r.Content == nil {
			t.Fatal("no error and no content")
		}
	})
}
