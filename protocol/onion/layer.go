package onion

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// EncType is the symmetric cipher of an onion layer. The zero value is aes-gcm, the default the
// storage server assumes when a request names none.
type EncType uint8

const (
	// AESGCM is AES-256-GCM keyed with HMAC-SHA256("LOKI", shared secret); wire: 12-byte IV,
	// ciphertext, 16-byte tag.
	AESGCM EncType = iota
	// XChaCha20 is XChaCha20-Poly1305-IETF keyed with BLAKE2b-256(shared || client ephemeral
	// public || node public); wire: 24-byte nonce, ciphertext, 16-byte tag.
	XChaCha20
)

// ParseEncType reads an enc_type value as the storage server does: "aes-gcm" or "gcm",
// "xchacha20" or "xchacha20-poly1305". An absent enc_type means aes-gcm; callers pass "" for it.
// The server also knows "aes-cbc", which no client sends over onion requests; it is refused.
func ParseEncType(s string) (EncType, error) {
	return encTypeNames.Read(s, "encryption type", "")
}

var encTypeNames = enum.Names[EncType]{
	Type:    "EncType",
	Names:   []string{AESGCM: "aes-gcm", XChaCha20: "xchacha20"},
	Aliases: map[string]EncType{"": AESGCM, "gcm": AESGCM, "xchacha20-poly1305": XChaCha20},
}

// String is the name written in requests: "aes-gcm" or "xchacha20".
func (e EncType) String() string { return encTypeNames.Name(e) }

// NonceSize is the length of the nonce that starts a sealed layer.
func (e EncType) NonceSize() int {
	if e == XChaCha20 {
		return chacha20poly1305.NonceSizeX
	}
	return 12
}

// Overhead is how many bytes sealing adds: nonce plus 16-byte tag (28 for aes-gcm, 40 for
// xchacha20).
func (e EncType) Overhead() int { return e.NonceSize() + 16 }

func (e EncType) valid() bool { return e == AESGCM || e == XChaCha20 }

// Key is the symmetric key of one layer together with its cipher. The client derives it from
// its ephemeral secret and the node's public key, the node from its secret and the ephemeral
// public key; both get the same key. The destination layer's Key also seals the response.
type Key struct {
	EncType EncType
	Key     [32]byte
}

// ClientKey derives the key of a layer the client encrypts with ephemeral pair eph to a node (or
// server) whose X25519 public key is peer.
func ClientKey(s cryptomode.Suite, e EncType, eph cryptomode.X25519KeyPair, peer [32]byte) (Key, time.Duration, error) {
	return layerKey(s, e, eph, peer, &eph.Public, &peer)
}

// NodeKey derives the key of a layer a node (or server) with key pair self receives under the
// client's ephemeral public key eph.
func NodeKey(s cryptomode.Suite, e EncType, self cryptomode.X25519KeyPair, eph [32]byte) (Key, time.Duration, error) {
	return layerKey(s, e, self, eph, &eph, &self.Public)
}

// layerKey is both sides' derivation: the shared secret of own and peer, hashed with the
// client's and the node's public keys in that order whichever side computes it.
func layerKey(s cryptomode.Suite, e EncType, own cryptomode.X25519KeyPair, peer [32]byte, clientPub, nodePub *[32]byte) (Key, time.Duration, error) {
	if !e.valid() {
		return Key{}, 0, fmt.Errorf("%w: %v", ErrBadInput, e)
	}
	shared, cost, err := s.SharedSecret(own, peer)
	if err != nil {
		return Key{}, cost, fmt.Errorf("onion layer key: %w", err)
	}
	k, kc := deriveKey(s.Costs(), e, &shared, clientPub, nodePub)
	return k, cost + kc, nil
}

var lokiSalt = []byte("LOKI")

// deriveKey turns a shared secret into the layer key, at deriveCost.
func deriveKey(c cryptomode.Costs, e EncType, shared, clientPub, nodePub *[32]byte) (Key, time.Duration) {
	k := Key{EncType: e}
	switch e {
	case XChaCha20:
		h, _ := blake2b.New256(nil)
		h.Write(shared[:])
		h.Write(clientPub[:])
		h.Write(nodePub[:])
		h.Sum(k.Key[:0])
	default:
		m := hmac.New(sha256.New, lokiSalt)
		m.Write(shared[:])
		m.Sum(k.Key[:0])
	}
	return k, deriveCost(c, e)
}

// deriveCost is the hashing that turns a shared secret into a layer key: BLAKE2b over the 96
// bytes of secret and keys, or HMAC-SHA256 over two 64-byte blocks plus the 32-byte secret and
// the inner digest. Both the first derivation and a destination's re-derivation for its reply
// pay it.
func deriveCost(c cryptomode.Costs, e EncType) time.Duration {
	if e == XChaCha20 {
		return cryptomode.PerKiB(c.HashPerKiB, 96)
	}
	return cryptomode.PerKiB(c.HashPerKiB, 2*64+32+32)
}

// Seal encrypts plaintext under k with a nonce read from rnd: nonce || ciphertext || tag. The
// cost is the symmetric cipher's over the plaintext.
func (k Key) Seal(c cryptomode.Costs, rnd io.Reader, plaintext []byte) ([]byte, time.Duration, error) {
	aead, err := k.aead()
	if err != nil {
		return nil, 0, err
	}
	ns := aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, 0, fmt.Errorf("onion: reading a nonce: %w", err)
	}
	out = aead.Seal(out, out[:ns], plaintext, nil)
	return out, SymmetricCost(c, k.EncType, len(plaintext)), nil
}

// errAuth is the cause behind every layer that does not open.
var errAuth = errors.New("message authentication failed")

// Open decrypts and authenticates what Seal produced. Any change to nonce, ciphertext or tag,
// or the wrong key, fails with an error wrapping ErrInvalidCiphertext.
func (k Key) Open(c cryptomode.Costs, sealed []byte) ([]byte, time.Duration, error) {
	aead, err := k.aead()
	if err != nil {
		return nil, 0, err
	}
	ns := aead.NonceSize()
	if len(sealed) < ns+aead.Overhead() {
		return nil, 0, &Error{Kind: KindInvalidCiphertext,
			Err: fmt.Errorf("%s layer of %d bytes is shorter than its %d-byte overhead", k.EncType, len(sealed), ns+aead.Overhead())}
	}
	n := len(sealed) - ns - aead.Overhead()
	cost := SymmetricCost(c, k.EncType, n)
	pt, err := aead.Open(make([]byte, 0, n), sealed[:ns], sealed[ns:], nil)
	if err != nil {
		return nil, cost, &Error{Kind: KindInvalidCiphertext, Err: errAuth}
	}
	return pt, cost, nil
}

func (k Key) aead() (cipher.AEAD, error) {
	switch k.EncType {
	case AESGCM:
		b, err := aes.NewCipher(k.Key[:])
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case XChaCha20:
		return chacha20poly1305.NewX(k.Key[:])
	}
	return nil, fmt.Errorf("%w: unknown enc type %v", ErrBadInput, k.EncType)
}

// SymmetricCost is the CPU time of sealing or opening n bytes with e.
func SymmetricCost(c cryptomode.Costs, e EncType, n int) time.Duration {
	if e == XChaCha20 {
		return cryptomode.PerKiB(c.XChaChaPerKiB, n)
	}
	return cryptomode.PerKiB(c.AESGCMPerKiB, n)
}

// encryptTo seals plaintext to a peer under a fresh ephemeral key drawn from rnd, as the client
// does for every layer.
func encryptTo(s cryptomode.Suite, e EncType, rnd io.Reader, peer [32]byte, plaintext []byte) ([]byte, Key, [32]byte, time.Duration, error) {
	eph, cost, err := s.NewX25519(rnd)
	if err != nil {
		return nil, Key{}, [32]byte{}, cost, fmt.Errorf("onion: ephemeral key: %w", err)
	}
	k, kc, err := ClientKey(s, e, eph, peer)
	cost += kc
	if err != nil {
		return nil, Key{}, [32]byte{}, cost, err
	}
	sealed, sc, err := k.Seal(s.Costs(), rnd, plaintext)
	return sealed, k, eph.Public, cost + sc, err
}

// OpenLayer decrypts one bare layer (nonce || ciphertext || tag) that the holder of self
// receives under the ephemeral public key eph. It returns the plaintext and the layer key, which
// the destination uses again to seal its response.
func OpenLayer(s cryptomode.Suite, e EncType, self cryptomode.X25519KeyPair, eph [32]byte, sealed []byte) ([]byte, Key, time.Duration, error) {
	k, cost, err := NodeKey(s, e, self, eph)
	if err != nil {
		return nil, Key{}, cost, &Error{Kind: KindInvalidCiphertext, Err: err}
	}
	pt, oc, err := k.Open(s.Costs(), sealed)
	return pt, k, cost + oc, err
}
