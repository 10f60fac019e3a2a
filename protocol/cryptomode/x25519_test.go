package cryptomode

import (
	"crypto/ecdh"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
)

// The hand-written ladder and fixed-base path must agree with crypto/ecdh on every input.
func TestX25519MatchesCryptoECDH(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	curve := ecdh.X25519()
	for i := range 500 {
		var a, b [32]byte
		for j := range a {
			a[j], b[j] = byte(r.Uint32()), byte(r.Uint32())
		}
		ka, err := curve.NewPrivateKey(a[:])
		require.NoError(t, err)
		kb, err := curve.NewPrivateKey(b[:])
		require.NoError(t, err)
		pubA := x25519Base(&a)
		require.Equal(t, ka.PublicKey().Bytes(), pubA[:], "public key %d", i)
		want, err := ka.ECDH(kb.PublicKey())
		require.NoError(t, err)
		pubB := [32]byte(kb.PublicKey().Bytes())
		got := x25519(&a, &pubB)
		require.Equal(t, want, got[:], "shared secret %d", i)
	}
}

// RFC 7748 section 5.2, first test vector.
func TestX25519RFC7748Vector(t *testing.T) {
	scalar := [32]byte(testkit.Hex(t, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"))
	u := [32]byte(testkit.Hex(t, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
	want := [32]byte(testkit.Hex(t, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"))
	assert.Equal(t, want, x25519(&scalar, &u))
}

func TestSharedSecretRefusesLowOrderPoints(t *testing.T) {
	s := New(Real, DefaultCosts)
	kp, _, err := s.X25519FromSecret([32]byte{1, 2, 3})
	require.NoError(t, err)
	_, _, err = s.SharedSecret(kp, [32]byte{}) // u = 0 is of small order
	assert.ErrorIs(t, err, ErrLowOrderPoint)
}

func BenchmarkX25519Base(b *testing.B) {
	k := [32]byte{7}
	for b.Loop() {
		x25519Base(&k)
	}
}

func BenchmarkX25519Ladder(b *testing.B) {
	k, u := [32]byte{7}, [32]byte{9}
	for b.Loop() {
		x25519(&k, &u)
	}
}

func BenchmarkECDHStdlib(b *testing.B) {
	k, _ := ecdh.X25519().NewPrivateKey(make([]byte, 32))
	u, _ := ecdh.X25519().NewPublicKey(append([]byte{9}, make([]byte, 31)...))
	for b.Loop() {
		_, _ = k.ECDH(u)
	}
}
