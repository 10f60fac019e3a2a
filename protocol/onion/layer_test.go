package onion

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Vectors from libsession-util's public onion request tests: a node with key pair (B, b)
// opens layers a client sealed under ephemeral key A.
func TestLayerVectors(t *testing.T) {
	s := suite(cryptomode.Real)
	A := key32(t, "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540")
	B := key32(t, "caea52c5b0c316d85ffb53ea536826618b13dee40685f166f632653114526a78")
	b := key32(t, "8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1")
	node, _, err := s.X25519FromSecret(b)
	require.NoError(t, err)
	require.Equal(t, B, node.Public, "the vector's node key pair")

	gcm := "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61"
	xchacha := "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032"
	tests := []struct {
		name   string
		enc    EncType
		sealed string
		ok     bool
	}{
		{"aes-gcm", AESGCM, gcm, true},
		{"aes-gcm ciphertext bit", AESGCM, "1eb6ae1cd72f60999486365759bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61", false},
		{"aes-gcm tag bit", AESGCM, "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b69", false},
		{"aes-gcm given xchacha20", AESGCM, xchacha, false},
		{"xchacha20", XChaCha20, xchacha, true},
		{"xchacha20 tag bit", XChaCha20, "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b033", false},
		{"xchacha20 nonce bit", XChaCha20, "9e1a3abe60eff3ea5c23556ccfe225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032", false},
		{"xchacha20 given aes-gcm", XChaCha20, gcm, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, _, cost, err := OpenLayer(s, tt.enc, node, A, testkit.Hex(t, tt.sealed))
			assert.Positive(t, cost)
			if !tt.ok {
				assert.ErrorIs(t, err, ErrInvalidCiphertext)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Hello world", string(pt))
		})
	}
}

// The framed vectors of libsession-util's parser test: JSON with spaces, as a guard receives it.
func TestGuardVectors(t *testing.T) {
	s := suite(cryptomode.Real)
	A := key32(t, "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652")
	a := key32(t, "d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1")
	B := key32(t, "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726")
	b := key32(t, "2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb")
	node, _, err := s.X25519FromSecret(b)
	require.NoError(t, err)
	require.Equal(t, B, node.Public)
	client, _, err := s.X25519FromSecret(a)
	require.NoError(t, err)
	require.Equal(t, A, client.Public)

	tests := []struct {
		enc  EncType
		body string
	}{
		{AESGCM, "270000009525d587d188c92a966eef0e7162bef99a6171a124575b998072a8ee7eb265e0b6f0930ed96504" +
			"7b22656e635f74797065223a20226165732d67636d222c2022657068656d6572616c5f6b6579223a202238" +
			"31363765393736373230303563363639613438383538633639383935663339356361323335323139616333" +
			"6637613432313030323262316639313065363532227d"},
		{XChaCha20, "33000000e440bc244ddcafd947b86fc5a964aa58de54a6d75cc0f0f3840db14b6c1176a8e2e0a04d5fbdf9" +
			"8f23adee1edc8362ab99b10b7b22656e635f74797065223a2022786368616368613230222c202265706865" +
			"6d6572616c5f6b6579223a2022383136376539373637323030356336363961343838353863363938393566" +
			"33393563613233353231396163336637613432313030323262316639313065363532227d"},
	}
	for _, tt := range tests {
		t.Run(tt.enc.String(), func(t *testing.T) {
			in, err := ParseGuardRequest(testkit.Hex(t, tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.enc, in.EncType)
			assert.Equal(t, A, in.EphemeralKey)
			pt, k, _, err := OpenLayer(s, in.EncType, node, in.EphemeralKey, in.Ciphertext)
			require.NoError(t, err)
			assert.Equal(t, "Hello world", string(pt))

			// The reply sealed with the layer's key opens at the client, whose key agrees.
			reply, _, err := k.Seal(s.Costs(), seeded(1), []byte("Goodbye world"))
			require.NoError(t, err)
			assert.Len(t, reply, tt.enc.Overhead()+13)
			ck, _, err := ClientKey(s, tt.enc, client, B)
			require.NoError(t, err)
			assert.Equal(t, k, ck)
			got, _, err := ck.Open(s.Costs(), reply)
			require.NoError(t, err)
			assert.Equal(t, "Goodbye world", string(got))
		})
	}
}

func TestParseEncType(t *testing.T) {
	tests := []struct {
		in   string
		want EncType
		ok   bool
	}{
		{"", AESGCM, true},
		{"aes-gcm", AESGCM, true},
		{"gcm", AESGCM, true},
		{"xchacha20", XChaCha20, true},
		{"xchacha20-poly1305", XChaCha20, true},
		{"aes-cbc", 0, false},
		{"AES-GCM", 0, false},
		{"chacha20", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEncType(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, "aes-gcm", AESGCM.String())
	assert.Equal(t, "xchacha20", XChaCha20.String())
	assert.Equal(t, 28, AESGCM.Overhead())
	assert.Equal(t, 40, XChaCha20.Overhead())
}

func TestLayerRoundTrip(t *testing.T) {
	for _, m := range modes {
		for _, e := range encTypes {
			for _, n := range []int{0, 1, 19, 1024, 70000} {
				t.Run(fmt.Sprintf("%v/%v/%d", m, e, n), func(t *testing.T) {
					s := suite(m)
					nodes := makeNodes(t, s, 7, 2)
					r := seeded(uint64(n))
					pt := bytes.Repeat([]byte{0xa5}, n)
					sealed, ck, eph, cost, err := encryptTo(s, e, r, nodes[0].X25519, pt)
					require.NoError(t, err)
					assert.Len(t, sealed, n+e.Overhead())
					assert.Equal(t, s.Costs().X25519KeyGen+s.Costs().X25519+SymmetricCost(s.Costs(), e, n), cost-keyDerivationCost(s.Costs(), e))

					got, nk, _, err := OpenLayer(s, e, nodes[0].KP, eph, sealed)
					require.NoError(t, err)
					assert.Equal(t, pt, got)
					assert.Equal(t, ck, nk)

					_, _, _, err = OpenLayer(s, e, nodes[1].KP, eph, sealed)
					assert.ErrorIs(t, err, ErrInvalidCiphertext, "another node's key")
					other := XChaCha20
					if e == XChaCha20 {
						other = AESGCM
					}
					_, _, _, err = OpenLayer(s, other, nodes[0].KP, eph, sealed)
					assert.ErrorIs(t, err, ErrInvalidCiphertext, "the other cipher")
				})
			}
		}
	}
}

// keyDerivationCost is the hashing part of a layer key: what the reply's re-derivation costs
// beyond the key agreement.
func keyDerivationCost(c cryptomode.Costs, e EncType) time.Duration {
	return rederiveCost(c, e) - c.X25519
}

// Every single bit of a sealed layer (nonce, ciphertext, tag) is authenticated.
func TestLayerEveryBitFlipFails(t *testing.T) {
	for _, m := range modes {
		for _, e := range encTypes {
			t.Run(fmt.Sprintf("%v/%v", m, e), func(t *testing.T) {
				s := suite(m)
				nodes := makeNodes(t, s, 3, 1)
				sealed, _, eph, _, err := encryptTo(s, e, seeded(9), nodes[0].X25519, []byte(`{"method":"info","params":{}}`))
				require.NoError(t, err)
				for i := range len(sealed) * 8 {
					bad := bytes.Clone(sealed)
					bad[i/8] ^= 1 << (i % 8)
					_, _, _, err := OpenLayer(s, e, nodes[0].KP, eph, bad)
					require.ErrorIs(t, err, ErrInvalidCiphertext, "bit %d", i)
				}
				for _, n := range []int{0, 1, e.Overhead() - 1} {
					_, _, _, err := OpenLayer(s, e, nodes[0].KP, eph, sealed[:n])
					assert.ErrorIs(t, err, ErrInvalidCiphertext, "truncated to %d", n)
				}
			})
		}
	}
}
