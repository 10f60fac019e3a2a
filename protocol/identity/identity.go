// Package identity derives Session identities: Ed25519 keys from a seed, the X25519 keys a
// Session ID is made of, and the typed 33-byte IDs (Session, group, blinded) that name accounts
// and swarm owners.
//
// A Session account is an Ed25519 seed. Its Session ID is 0x05 followed by the X25519 (Montgomery)
// form of the Ed25519 public key, so that one key signs and the same key, converted, receives
// sealed boxes. Simulated actors get their keys from (scenario seed, actor name) so that a run is
// reproducible and adding an actor changes nobody else's keys.
package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"

	"filippo.io/edwards25519"
)

// SeedSize is the full Ed25519 seed; RecoverySeedSize is what a recovery phrase encodes (the
// rest of the Ed25519 seed is zero).
const (
	SeedSize         = 32
	RecoverySeedSize = 16
)

// Keys is one identity's key material. Ed25519Private is the 64-byte Go form (seed || public).
type Keys struct {
	Seed           [32]byte
	Ed25519Private ed25519.PrivateKey
	Ed25519Public  [32]byte
	X25519Secret   [32]byte
	X25519Public   [32]byte
}

// FromSeed derives every key from a 16-byte recovery seed (padded with 16 zero bytes, as the
// apps do), a 32-byte Ed25519 seed, or a 64-byte libsodium secret key (seed || public key; the
// public half must match the seed).
func FromSeed(seed []byte) (Keys, error) {
	var s [32]byte
	switch len(seed) {
	case RecoverySeedSize, SeedSize:
		copy(s[:], seed)
	case ed25519.PrivateKeySize:
		copy(s[:], seed[:32])
		k := fromSeed32(s)
		if string(k.Ed25519Public[:]) != string(seed[32:]) {
			return Keys{}, fmt.Errorf("identity: 64-byte secret key: its public half does not belong to its seed half; pass the 32-byte seed instead")
		}
		return k, nil
	default:
		return Keys{}, fmt.Errorf("identity: seed is %d bytes: want %d (recovery seed), %d (Ed25519 seed) or %d (seed || public key)",
			len(seed), RecoverySeedSize, SeedSize, ed25519.PrivateKeySize)
	}
	return fromSeed32(s), nil
}

// fromSeed32 cannot fail: every 32-byte string is an Ed25519 seed, and the public key derived
// from a seed is always a valid point of the prime-order subgroup.
func fromSeed32(s [32]byte) Keys {
	k := Keys{Seed: s, Ed25519Private: ed25519.NewKeyFromSeed(s[:])}
	copy(k.Ed25519Public[:], k.Ed25519Private[32:])
	k.X25519Secret = X25519SecretFromSeed(s)
	p, err := new(edwards25519.Point).SetBytes(k.Ed25519Public[:])
	if err != nil {
		// Unreachable: NewKeyFromSeed only produces canonical encodings of curve points.
		panic("identity: Ed25519 public key from a seed does not decode: " + err.Error())
	}
	copy(k.X25519Public[:], p.BytesMontgomery())
	return k
}

// X25519SecretFromSeed is libsodium's crypto_sign_ed25519_sk_to_curve25519: the clamped first
// half of SHA-512(seed), which is also the Ed25519 signing scalar, so the X25519 key pair matches
// the Montgomery form of the Ed25519 public key.
func X25519SecretFromSeed(seed [32]byte) [32]byte {
	h := sha512.Sum512(seed[:])
	var s [32]byte
	copy(s[:], h[:32])
	s[0] &= 248
	s[31] &= 127
	s[31] |= 64
	return s
}

// Derive makes the keys of a simulated actor from the scenario seed and the actor's name. The
// same (seed, name) always gives the same keys; different names give unrelated keys.
func Derive(seed uint64, name string) Keys {
	h := sha256.New()
	h.Write([]byte("sessionsim/identity/v1\x00"))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	var s [32]byte
	h.Sum(s[:0])
	return fromSeed32(s)
}

// SessionID is the account's ID: 0x05 + X25519 public key.
func (k Keys) SessionID() ID { return NewID(PrefixSession, k.X25519Public) }

// GroupID is the ID of a group whose Ed25519 key these are: 0x03 + Ed25519 public key.
func (k Keys) GroupID() ID { return NewID(PrefixGroup, k.Ed25519Public) }

// Ed25519ToX25519 converts an Ed25519 public key to its X25519 (Montgomery) form, as libsodium's
// crypto_sign_ed25519_pk_to_curve25519 does. The storage server uses it to check that the
// `pubkey_ed25519` a client signs with belongs to the 05 Session ID it acts for. Like libsodium
// it refuses keys that do not decode, small-order points and points outside the prime-order
// subgroup, since those would let several Ed25519 keys claim one Session ID.
func Ed25519ToX25519(pub []byte) ([32]byte, error) {
	var out [32]byte
	if len(pub) != ed25519.PublicKeySize {
		return out, fmt.Errorf("identity: Ed25519 public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return out, fmt.Errorf("identity: Ed25519 public key %x is not a curve point: %w", pub, err)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return out, fmt.Errorf("identity: Ed25519 public key %x is a small-order point", pub)
	}
	// p*L == identity <=> p is in the prime-order subgroup; L itself is not a reduced scalar,
	// so compute p*(L-1) + p.
	q := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(orderMinusOne, p, zeroScalar)
	if q.Add(q, p).Equal(edwards25519.NewIdentityPoint()) != 1 {
		return out, fmt.Errorf("identity: Ed25519 public key %x has a torsion component (not in the prime-order subgroup)", pub)
	}
	copy(out[:], p.BytesMontgomery())
	return out, nil
}

var zeroScalar = edwards25519.NewScalar()

// orderMinusOne is L-1 for the Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493.
var orderMinusOne = func() *edwards25519.Scalar {
	le := [32]byte{
		0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(le[:])
	if err != nil {
		panic("identity: L-1 is not canonical: " + err.Error())
	}
	return s
}()
