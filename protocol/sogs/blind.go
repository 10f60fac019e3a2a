// Package sogs is the wire format of community servers (session-pysogs, "SOGS v3") as clients
// use them: 15-blinded IDs, the X-SOGS-* request signature headers, the batched poll a client
// sends each server, and the server's answer. Sizes are those of the real JSON, byte for byte;
// the decoders are what a server and a client run on them. Pure functions, no Env: each
// function that does crypto returns its CPU cost for the caller to charge.
package sogs

import (
	"crypto/ed25519"
	"crypto/sha512"
	"time"

	"filippo.io/edwards25519"
	"golang.org/x/crypto/blake2b"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// Blinded is a user's identity towards one community server: the 15-blinded ID and the
// blinded signing scalar. The apps derive it once per server and keep it.
type Blinded struct {
	ID     identity.ID // 0x15 + kA
	scalar *edwards25519.Scalar
	prefix [32]byte // the nonce half of SHA-512(Ed25519 seed), as Ed25519 signing uses it
}

// Public is the blinded Ed25519 public key kA.
func (b Blinded) Public() []byte { return b.ID[1:] }

// Blind15 derives the 15-blinded identity of the account with Ed25519 seed seed (32 bytes) towards the server whose X25519 (or Ed25519)
// public key is server: k = BLAKE2b-512(server) reduced mod L, ka = k * a with a the clamped
// Ed25519 secret scalar, kA = ka * B (libsession-util src/blinding.cpp blind15_key_pair;
// session-pysogs sogs/crypto.py blinded15_id). The real derivation is done in both crypto
// modes (it is one scalar multiplication a client makes once per server); its cost, returned,
// is charged as one X25519 multiplication and two hashes.
func Blind15(c cryptomode.Costs, seed []byte, server [32]byte) (Blinded, time.Duration) {
	kHash := blake2b.Sum512(server[:])
	k, _ := edwards25519.NewScalar().SetUniformBytes(kHash[:])
	h := sha512.Sum512(seed[:32])
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	ka := edwards25519.NewScalar().Multiply(k, a)
	kA := new(edwards25519.Point).ScalarBaseMult(ka)
	var id identity.ID
	id[0] = byte(identity.PrefixBlinded15)
	copy(id[1:], kA.Bytes())
	b := Blinded{ID: id, scalar: ka}
	copy(b.prefix[:], h[32:])
	return b, c.X25519 + 2*cryptomode.PerKiB(c.HashPerKiB, 64)
}

// sign makes an Ed25519 signature over msg with the blinded scalar, which ed25519.Verify
// accepts under kA: r = H(prefix || kA || msg), R = rB, S = r + H(R || kA || msg) ka. In
// modeled crypto the suite's stand-in signature under kA is made instead; both are 64 bytes.
func (b Blinded) sign(suite cryptomode.Suite, msg []byte) ([]byte, time.Duration) {
	if suite.Mode() != cryptomode.Real {
		// The modeled suite signs with the public half of the key it is given.
		priv := make(ed25519.PrivateKey, ed25519.PrivateKeySize)
		copy(priv[32:], b.Public())
		return suite.Sign(priv, msg)
	}
	rh := sha512.New()
	rh.Write(b.prefix[:])
	rh.Write(b.Public())
	rh.Write(msg)
	r, _ := edwards25519.NewScalar().SetUniformBytes(rh.Sum(nil))
	R := new(edwards25519.Point).ScalarBaseMult(r)
	hh := sha512.New()
	hh.Write(R.Bytes())
	hh.Write(b.Public())
	hh.Write(msg)
	h, _ := edwards25519.NewScalar().SetUniformBytes(hh.Sum(nil))
	s := edwards25519.NewScalar().MultiplyAdd(h, b.scalar, r)
	return append(R.Bytes(), s.Bytes()...), suite.Costs().Ed25519Sign
}
