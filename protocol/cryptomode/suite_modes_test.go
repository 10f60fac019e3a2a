package cryptomode

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/blake2b"
)

func hex32(t *testing.T, s string) [32]byte {
	t.Helper()
	var k [32]byte
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	require.Len(t, b, 32)
	copy(k[:], b)
	return k
}

// RFC 7748 section 6.1: long-term keys are the real ones in both modes, and the real agreement
// gives the RFC's shared secret.
func TestSuitesRFC7748(t *testing.T) {
	alice := hex32(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	bob := hex32(t, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
	for _, m := range []Mode{Real, Modeled} {
		s := New(m, DefaultCosts)
		a, cost, err := s.X25519FromSecret(alice)
		require.NoError(t, err)
		assert.Equal(t, DefaultCosts.X25519KeyGen, cost)
		b, _, err := s.X25519FromSecret(bob)
		require.NoError(t, err)
		assert.Equal(t, hex32(t, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), a.Public, "%v", m)
		assert.Equal(t, hex32(t, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), b.Public, "%v", m)
	}
	s := New(Real, DefaultCosts)
	a, _, _ := s.X25519FromSecret(alice)
	shared, cost, err := s.SharedSecret(a, hex32(t, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
	require.NoError(t, err)
	assert.Equal(t, DefaultCosts.X25519, cost)
	assert.Equal(t, hex32(t, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), shared)
}

func TestSuitesAgreeAndCharge(t *testing.T) {
	for _, m := range []Mode{Real, Modeled} {
		t.Run(m.String(), func(t *testing.T) {
			s := New(m, DefaultCosts)
			assert.Equal(t, m, s.Mode())
			assert.Equal(t, DefaultCosts, s.Costs())
			r := rand.NewChaCha8([32]byte{1})
			eph, cost, err := s.NewX25519(r)
			require.NoError(t, err)
			assert.Equal(t, DefaultCosts.X25519KeyGen, cost)
			node, _, err := s.X25519FromSecret([32]byte{0, 9}) // byte 0 is clamped: vary another
			require.NoError(t, err)
			other, _, err := s.X25519FromSecret([32]byte{0, 10})
			require.NoError(t, err)

			ab, cost, err := s.SharedSecret(eph, node.Public)
			require.NoError(t, err)
			assert.Equal(t, DefaultCosts.X25519, cost)
			ba, _, err := s.SharedSecret(node, eph.Public)
			require.NoError(t, err)
			assert.Equal(t, ab, ba, "both sides of a pair agree")
			ob, _, err := s.SharedSecret(other, eph.Public)
			require.NoError(t, err)
			assert.NotEqual(t, ab, ob, "another node does not get the secret")

			// Key generation draws exactly 32 bytes, so a seeded stream gives the same keys.
			r1, r2 := rand.NewChaCha8([32]byte{5}), rand.NewChaCha8([32]byte{5})
			k1, _, _ := s.NewX25519(r1)
			k2, _, _ := s.NewX25519(r2)
			assert.Equal(t, k1, k2)
			var next1, next2 [8]byte
			_, _ = r1.Read(next1[:])
			_, _ = r2.Read(next2[:])
			assert.Equal(t, next1, next2)
			_, _, err = s.NewX25519(bytes.NewReader(make([]byte, 31)))
			assert.Error(t, err, "a stream that runs dry")
		})
	}
}

func TestRealRefusesLowOrderPoints(t *testing.T) {
	s := New(Real, DefaultCosts)
	self, _, err := s.X25519FromSecret([32]byte{1})
	require.NoError(t, err)
	_, _, err = s.SharedSecret(self, [32]byte{})
	assert.ErrorIs(t, err, ErrLowOrderPoint)
}

func TestSuitesSignatures(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	otherPub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)).Public().(ed25519.PublicKey)
	msg := []byte("retrieve1700000000000")
	sigs := map[Mode][]byte{}
	for _, m := range []Mode{Real, Modeled} {
		t.Run(m.String(), func(t *testing.T) {
			s := New(m, DefaultCosts)
			sig, cost := s.Sign(priv, msg)
			assert.Len(t, sig, ed25519.SignatureSize)
			assert.Equal(t, DefaultCosts.Ed25519Sign, cost)
			sigs[m] = sig
			tests := []struct {
				name string
				pub  []byte
				msg  []byte
				sig  []byte
				ok   bool
				cost time.Duration
			}{
				{"valid", pub, msg, sig, true, DefaultCosts.Ed25519Verify},
				{"other message", pub, []byte("retrieve1700000000001"), sig, false, DefaultCosts.Ed25519Verify},
				{"other signer", otherPub, msg, sig, false, DefaultCosts.Ed25519Verify},
				{"flipped signature", pub, msg, append(bytes.Clone(sig[:63]), sig[63]^1), false, DefaultCosts.Ed25519Verify},
				{"short signature", pub, msg, sig[:63], false, 0},
				{"short key", pub[:31], msg, sig, false, 0},
			}
			for _, tt := range tests {
				ok, cost := s.Verify(tt.pub, tt.msg, tt.sig)
				assert.Equal(t, tt.ok, ok, tt.name)
				assert.Equal(t, tt.cost, cost, tt.name)
				// The package's Verify answers as the suite's, for its own suites and others.
				for _, vs := range []Suite{s, wrappedSuite{s}} {
					ok, cost := Verify(vs, tt.pub, tt.msg, tt.sig)
					assert.Equal(t, tt.ok, ok, tt.name)
					assert.Equal(t, tt.cost, cost, tt.name)
				}
			}
		})
	}
	assert.NotEqual(t, sigs[Real], sigs[Modeled], "a modeled signature is not a real one")
}

// wrappedSuite is a Suite of another type than this package's own.
type wrappedSuite struct{ Suite }

func TestSignToIsSign(t *testing.T) {
	costs := DefaultCosts
	costs.Ed25519Sign = 7 * time.Microsecond // not the default, so a cost taken elsewhere shows
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	for _, tt := range []struct {
		name string
		s    Suite
		msg  string
	}{
		{"real", New(Real, costs), "retrieve1700000000000"},
		{"real, empty", New(Real, costs), ""},
		{"modeled", New(Modeled, costs), "retrieve1700000000000"},
		{"modeled, empty", New(Modeled, costs), ""},
		{"another suite", wrappedSuite{New(Modeled, costs)}, "retrieve1700000000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			want, wantCost := s.Sign(priv, []byte(tt.msg))
			var sig [ed25519.SignatureSize]byte
			cost := SignTo(s, &sig, priv, []byte(tt.msg))
			assert.Equal(t, want, sig[:])
			assert.Equal(t, wantCost, cost)
			// SignCost lets the modeled suite's signatures be put off, and no other's.
			known, ok := SignCost(s)
			_, foreign := s.(wrappedSuite)
			assert.Equal(t, s.Mode() == Modeled && !foreign, ok)
			if ok {
				assert.Equal(t, cost, known)
			}
		})
	}
	// The message is built on the closure's stack, as the callers build theirs: one already on
	// the heap would not show it escaping.
	s := New(Modeled, costs)
	var sig [ed25519.SignatureSize]byte
	const msg = "retrieve1700000000000"
	allocs := testing.AllocsPerRun(100, func() {
		var m [len(msg)]byte
		copy(m[:], msg)
		SignTo(s, &sig, priv, m[:])
	})
	assert.Zero(t, allocs, "a modeled signature is written in place, keeping nothing of the message")
	pub := priv.Public().(ed25519.PublicKey)
	var ok bool
	allocs = testing.AllocsPerRun(100, func() {
		var m [len(msg)]byte
		copy(m[:], msg)
		ok, _ = Verify(s, pub, m[:], sig[:])
	})
	assert.True(t, ok)
	assert.Zero(t, allocs, "a modeled verification keeps nothing of the message")
}

func TestParseModeAndPerKiB(t *testing.T) {
	for in, want := range map[string]Mode{"real": Real, "modeled": Modeled, "modelled": Modeled} {
		got, err := Parse(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		if in != "modelled" {
			assert.Equal(t, in, got.String())
		}
	}
	_, err := Parse("fast")
	assert.Error(t, err)

	assert.Equal(t, time.Duration(0), PerKiB(time.Microsecond, 0))
	assert.Equal(t, time.Duration(1), PerKiB(time.Microsecond, 1), "rounds up")
	assert.Equal(t, 260*time.Nanosecond, PerKiB(260*time.Nanosecond, 1024))
	assert.Equal(t, 2*time.Microsecond, PerKiB(time.Microsecond, 2048))
}

// Modeled signatures and shared secrets are the keyed BLAKE2b of their inputs whether the state
// is fresh or handed on from an earlier call, so pooling the states changes no byte a run sees.
func TestModeledHashesAreTheKeyedHashOfTheirInputs(t *testing.T) {
	s := New(Modeled, DefaultCosts)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	self := X25519KeyPair{Secret: [32]byte{1}, Public: [32]byte{2}}
	for _, msg := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte("long "), 100)} {
		h, err := blake2b.New512([]byte("sessionsim-modeled-ed25519"))
		require.NoError(t, err)
		h.Write(pub)
		h.Write(msg)
		for range 3 {
			sig, _ := s.Sign(priv, msg)
			assert.Equal(t, h.Sum(nil), sig)
		}
	}
	for _, peer := range [][32]byte{{3}, {0}, {0xff}} {
		a, b := self.Public, peer
		if bytes.Compare(b[:], a[:]) < 0 {
			a, b = b, a
		}
		h, err := blake2b.New256([]byte("sessionsim-modeled-x25519-shared"))
		require.NoError(t, err)
		h.Write(a[:])
		h.Write(b[:])
		for range 3 {
			shared, _, err := s.SharedSecret(self, peer)
			require.NoError(t, err)
			assert.Equal(t, h.Sum(nil), shared[:])
		}
	}
}

// A keyed hash that starts from the state after its key block gives blake2b.New's digest at
// every length, the empty input and block boundaries included, through each of its entries and
// again from a state that went back to the pool.
func TestKeyedHashStartsAfterTheKeyBlock(t *testing.T) {
	for _, size := range []int{blake2b.Size256, blake2b.Size} {
		k := newKeyedHash(size, "a key for the test")
		msg := make([]byte, 3*blake2b.BlockSize+1)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		for n := range len(msg) + 1 {
			for _, split := range []int{0, n / 2, n} {
				a, b := msg[:split], msg[split:n]
				ref, err := blake2b.New(size, []byte("a key for the test"))
				require.NoError(t, err)
				ref.Write(msg[:n])
				want := ref.Sum(nil)
				for range 2 {
					require.Equal(t, want, k.sum(nil, a, b), "size %d, %d bytes split at %d", size, n, split)
					require.Equal(t, want, k.sumCopy(nil, a, b), "size %d, %d bytes split at %d", size, n, split)
					require.True(t, k.matches(want, a, b), "size %d, %d bytes split at %d", size, n, split)
					require.True(t, k.matchesCopy(want, a, b), "size %d, %d bytes split at %d", size, n, split)
				}
				other := bytes.Clone(want)
				other[0] ^= 1
				require.False(t, k.matches(other, a, b))
			}
		}
	}
}
