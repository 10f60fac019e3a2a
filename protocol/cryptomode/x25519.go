package cryptomode

import (
	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// x25519Base computes the public key of a secret (RFC 7748 X25519(k, 9)) as libsodium does:
// a fixed-base multiplication on the Edwards curve with precomputed tables, then the birational
// map to Montgomery u. It is about twice as fast as a Montgomery ladder from the base point,
// which is what crypto/ecdh does, and key generation is a third of an onion build's curve work.
// Clamping then reducing the scalar modulo the group order does not change s·B, since B has
// that order.
func x25519Base(secret *[32]byte) [32]byte {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(secret[:])
	if err != nil {
		panic("cryptomode: 32-byte scalar refused: " + err.Error()) // cannot happen: the length is fixed
	}
	var out [32]byte
	copy(out[:], new(edwards25519.Point).ScalarBaseMult(s).BytesMontgomery())
	return out
}

// x25519 is the RFC 7748 function X25519(k, u): the Montgomery ladder over the clamped scalar,
// in constant time. crypto/ecdh offers it only behind a private key whose construction also
// computes the public key, doubling the cost of every agreement.
func x25519(scalar, point *[32]byte) [32]byte {
	e := *scalar
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, t0, t1 field.Element
	if _, err := x1.SetBytes(point[:]); err != nil {
		panic("cryptomode: 32-byte point refused: " + err.Error()) // cannot happen: the length is fixed
	}
	x2.One()
	x3.Set(&x1)
	z3.One()
	swap := 0
	for pos := 254; pos >= 0; pos-- {
		bit := int(e[pos/8]>>uint(pos&7)) & 1
		swap ^= bit
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = bit

		t0.Subtract(&x3, &z3)
		t1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&t0, &x2)
		z2.Multiply(&z2, &t1)
		t0.Square(&t1)
		t1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&t1, &t0)
		t1.Subtract(&t1, &t0)
		z2.Square(&z2)
		z3.Mult32(&t1, 121666)
		x3.Square(&x3)
		t0.Add(&t0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&t1, &t0)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)
	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	var out [32]byte
	copy(out[:], x2.Bytes())
	return out
}
