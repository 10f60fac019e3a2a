package message

import (
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/nacl/secretbox"
	//lint:ignore SA1019 HSalsa20 is crypto_box_beforenm's key step; no maintained package exposes it alone.
	"golang.org/x/crypto/salsa20/salsa"
)

// SealedBoxOverhead is what crypto_box_seal adds: the 32-byte ephemeral public key and the
// 16-byte Poly1305 tag.
const SealedBoxOverhead = 32 + secretbox.Overhead

// SealBox is libsodium's crypto_box_seal of msg to the X25519 public key to: a fresh ephemeral
// key pair from r, nonce = BLAKE2b-192(ephemeral public || to), and an XSalsa20-Poly1305 box under
// HSalsa20 of the X25519 shared secret (crypto_box_beforenm). Output: ephemeral public || box.
//
// The curve operations go through s, so modeled mode runs this same code on stand-in keys. The
// cost is the suite's (key generation and one agreement) plus the symmetric part per KiB.
func SealBox(s cryptomode.Suite, r io.Reader, to [32]byte, msg []byte) ([]byte, time.Duration, error) {
	eph, cost, err := s.NewX25519(r)
	if err != nil {
		return nil, cost, fmt.Errorf("sealing box: %w", err)
	}
	shared, c, err := s.SharedSecret(eph, to)
	cost += c
	if err != nil {
		return nil, cost, fmt.Errorf("sealing box to %x: %w", to, err)
	}
	key := boxKey(&shared)
	nonce := sealNonce(&eph.Public, &to)
	out := make([]byte, 0, SealedBoxOverhead+len(msg))
	out = append(out, eph.Public[:]...)
	out = secretbox.Seal(out, msg, &nonce, &key)
	return out, cost + cryptomode.PerKiB(s.Costs().SealedBoxKiB, len(msg)), nil
}

// OpenBox is crypto_box_seal_open with the recipient's key pair. It fails with ErrTooShort when
// box is shorter than SealedBoxOverhead and with ErrDecrypt when the box was sealed to another
// key or altered.
func OpenBox(s cryptomode.Suite, self cryptomode.X25519KeyPair, box []byte) ([]byte, time.Duration, error) {
	if len(box) < SealedBoxOverhead {
		return nil, 0, fmt.Errorf("opening sealed box: %w: %d bytes, need at least %d", ErrTooShort, len(box), SealedBoxOverhead)
	}
	var eph [32]byte
	copy(eph[:], box[:32])
	shared, cost, err := s.SharedSecret(self, eph)
	if err != nil {
		// A low-order ephemeral key is what a forged or corrupted box looks like; report it as
		// a failed decryption so callers need one check.
		return nil, cost, fmt.Errorf("opening sealed box: %w: %v", ErrDecrypt, err)
	}
	key := boxKey(&shared)
	nonce := sealNonce(&eph, &self.Public)
	body := box[32:]
	cost += cryptomode.PerKiB(s.Costs().SealedBoxKiB, len(body)-secretbox.Overhead)
	out, ok := secretbox.Open(nil, body, &nonce, &key)
	if !ok {
		return nil, cost, fmt.Errorf("opening sealed box: %w: it is for another recipient or was altered", ErrDecrypt)
	}
	return out, cost, nil
}

// boxKey is crypto_box_beforenm after the scalar multiplication: HSalsa20 with a zero nonce.
func boxKey(shared *[32]byte) [32]byte {
	var zero [16]byte
	var k [32]byte
	salsa.HSalsa20(&k, &zero, shared, &salsa.Sigma)
	return k
}

// sealNonce is BLAKE2b with a 24-byte output over the ephemeral and recipient public keys.
func sealNonce(eph, to *[32]byte) [24]byte {
	h, _ := blake2b.New(24, nil) // cannot fail: 24 is a valid size and there is no key
	h.Write(eph[:])
	h.Write(to[:])
	var n [24]byte
	h.Sum(n[:0])
	return n
}
