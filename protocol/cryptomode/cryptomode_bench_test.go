package cryptomode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/nacl/box"
)

// BenchmarkCostTable measures every primitive of Costs on this machine and reports the table's
// figure next to it ("table-ns") and their ratio ("measured/table"), so DefaultCosts can be
// checked or remeasured: go test -run '^$' -bench CostTable ./protocol/cryptomode
func BenchmarkCostTable(b *testing.B) {
	c := DefaultCosts
	msg := make([]byte, 1024)
	cases := []struct {
		name  string
		table time.Duration
		setup func(b *testing.B) func()
	}{
		{"X25519", c.X25519, func(b *testing.B) func() {
			priv, pub := benchECDH(b, 1), benchECDH(b, 2).PublicKey()
			return func() {
				if _, err := priv.ECDH(pub); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"X25519KeyGen", c.X25519KeyGen, func(b *testing.B) func() {
			sec := bytes.Repeat([]byte{7}, 32)
			return func() {
				if _, err := ecdh.X25519().NewPrivateKey(sec); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"Ed25519Sign", c.Ed25519Sign, func(b *testing.B) func() {
			priv := ed25519.NewKeyFromSeed(make([]byte, 32))
			return func() { ed25519.Sign(priv, msg[:100]) }
		}},
		{"Ed25519Verify", c.Ed25519Verify, func(b *testing.B) func() {
			priv := ed25519.NewKeyFromSeed(make([]byte, 32))
			pub, sig := priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg[:100])
			return func() {
				if !ed25519.Verify(pub, msg[:100], sig) {
					b.Fatal("signature does not verify")
				}
			}
		}},
		{"AESGCM-1KiB", c.AESGCMPerKiB, func(b *testing.B) func() {
			blk, _ := aes.NewCipher(make([]byte, 32))
			aead, _ := cipher.NewGCM(blk)
			return benchSeal(aead, msg)
		}},
		{"XChaCha20Poly1305-1KiB", c.XChaChaPerKiB, func(b *testing.B) func() {
			aead, _ := chacha20poly1305.NewX(make([]byte, 32))
			return benchSeal(aead, msg)
		}},
		{"SealedBox-1KiB", c.SealedBoxBase + c.SealedBoxKiB, func(b *testing.B) func() {
			pub, _, err := box.GenerateKey(rand.NewChaCha8([32]byte{1}))
			if err != nil {
				b.Fatal(err)
			}
			r := rand.NewChaCha8([32]byte{2})
			out := make([]byte, 0, len(msg)+box.AnonymousOverhead)
			return func() {
				if _, err := box.SealAnonymous(out[:0], msg, pub, r); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"BLAKE2b-1KiB", c.HashPerKiB, func(b *testing.B) func() {
			return func() { blake2b.Sum256(msg) }
		}},
		{"SHA256-1KiB", c.HashPerKiB, func(b *testing.B) func() {
			return func() { sha256.Sum256(msg) }
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			op := tc.setup(b)
			n := 0
			for b.Loop() {
				op()
				n++
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(n)
			b.ReportMetric(float64(tc.table.Nanoseconds()), "table-ns")
			b.ReportMetric(perOp/float64(tc.table.Nanoseconds()), "measured/table")
		})
	}
}

// BenchmarkSuite measures the suites' operations as callers use them, with pairs made by the
// suite (whose parsed key it keeps). "real/SharedSecret-handmade" uses a pair built by hand, which
// crypto/ecdh parses on each use, computing the public key again: twice the cost.
func BenchmarkSuite(b *testing.B) {
	for _, m := range []Mode{Real, Modeled} {
		s := New(m, DefaultCosts)
		self, _, err := s.X25519FromSecret([32]byte{1})
		if err != nil {
			b.Fatal(err)
		}
		peer, _, err := s.X25519FromSecret([32]byte{2})
		if err != nil {
			b.Fatal(err)
		}
		priv := ed25519.NewKeyFromSeed(make([]byte, 32))
		msg := make([]byte, 100)
		sig, _ := s.Sign(priv, msg)
		r := rand.NewChaCha8([32]byte{3})
		b.Run(m.String()+"/NewX25519", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.NewX25519(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.String()+"/SharedSecret", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.SharedSecret(self, peer.Public); err != nil {
					b.Fatal(err)
				}
			}
		})
		if m == Real {
			handmade := X25519KeyPair{Secret: self.Secret, Public: self.Public}
			b.Run(m.String()+"/SharedSecret-handmade", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := s.SharedSecret(handmade, peer.Public); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(m.String()+"/Sign", func(b *testing.B) {
			for b.Loop() {
				s.Sign(priv, msg)
			}
		})
		b.Run(m.String()+"/Verify", func(b *testing.B) {
			for b.Loop() {
				s.Verify(priv.Public().(ed25519.PublicKey), msg, sig)
			}
		})
	}
}

func benchECDH(b *testing.B, seed byte) *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchSeal(aead cipher.AEAD, msg []byte) func() {
	nonce := make([]byte, aead.NonceSize())
	out := make([]byte, 0, len(msg)+aead.Overhead())
	return func() { out = aead.Seal(out[:0], nonce, msg, nil) }
}
