package cryptomode

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/blake2b"
)

// X25519KeyPair is an X25519 key pair. In modeled mode the public key is not a curve point, but
// it has the same size and plays the same role.
type X25519KeyPair struct {
	Secret [32]byte
	Public [32]byte
}

// Suite is the set of asymmetric operations the protocol uses, in one of the two modes. Every
// operation also returns the CPU time the real operation costs (from Costs), in both modes, so
// that the simulator charges the same virtual CPU whatever the mode. Symmetric ciphers and hashes
// are cheap and run for real in both modes.
type Suite interface {
	Mode() Mode
	Costs() Costs
	// NewX25519 makes a fresh (ephemeral) key pair from 32 bytes of r.
	NewX25519(r io.Reader) (X25519KeyPair, time.Duration, error)
	// X25519FromSecret completes a key pair whose secret is known (a node's or a user's).
	X25519FromSecret(secret [32]byte) (X25519KeyPair, time.Duration, error)
	// SharedSecret is the X25519 agreement between self and peer; both sides of a pair get the
	// same value.
	SharedSecret(self X25519KeyPair, peer [32]byte) ([32]byte, time.Duration, error)
	// Sign makes an Ed25519 signature (64 bytes).
	Sign(priv ed25519.PrivateKey, msg []byte) ([]byte, time.Duration)
	// Verify checks an Ed25519 signature.
	Verify(pub []byte, msg, sig []byte) (bool, time.Duration)
}

// ErrLowOrderPoint is returned by SharedSecret when the peer's key gives an all-zero secret.
var ErrLowOrderPoint = errors.New("x25519: peer public key is a low-order point")

// New returns the suite for a mode, charging costs c.
func New(m Mode, c Costs) Suite {
	if m == Modeled {
		return modeled{c}
	}
	return real{c}
}

type real struct{ c Costs }

func (real) Mode() Mode     { return Real }
func (s real) Costs() Costs { return s.c }

func (s real) NewX25519(r io.Reader) (X25519KeyPair, time.Duration, error) {
	var sec [32]byte
	if _, err := io.ReadFull(r, sec[:]); err != nil {
		return X25519KeyPair{}, 0, fmt.Errorf("x25519 key generation: reading randomness: %w", err)
	}
	kp, _, err := s.X25519FromSecret(sec)
	return kp, s.c.X25519KeyGen, err
}

func (s real) X25519FromSecret(secret [32]byte) (X25519KeyPair, time.Duration, error) {
	return X25519KeyPair{Secret: secret, Public: x25519Base(&secret)}, s.c.X25519KeyGen, nil
}

func (s real) SharedSecret(self X25519KeyPair, peer [32]byte) ([32]byte, time.Duration, error) {
	out := x25519(&self.Secret, &peer)
	if out == ([32]byte{}) {
		return out, s.c.X25519, ErrLowOrderPoint
	}
	return out, s.c.X25519, nil
}

func (s real) Sign(priv ed25519.PrivateKey, msg []byte) ([]byte, time.Duration) {
	return ed25519.Sign(priv, msg), s.c.Ed25519Sign
}

func (s real) Verify(pub []byte, msg, sig []byte) (bool, time.Duration) {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false, 0
	}
	return ed25519.Verify(pub, msg, sig), s.c.Ed25519Verify
}

// modeled replaces curve operations with hashes of the public values. It is not secure against
// anyone (whoever knows both public keys knows the "shared" secret), which is fine inside the
// simulator: what a party can see is decided by who holds which value, not by breaking crypto.
// Sizes, formats and failure behaviour (wrong key, wrong message) are those of the real suite.
type modeled struct{ c Costs }

func (modeled) Mode() Mode     { return Modeled }
func (s modeled) Costs() Costs { return s.c }

const modeledPublicPrefix = "sessionsim-modeled-x25519-public"

// modeledPublic maps a secret to its stand-in public key: the hash of a fixed prefix and the
// secret, assembled on the stack since ephemeral keys are made for every onion layer.
func modeledPublic(secret [32]byte) [32]byte {
	var in [len(modeledPublicPrefix) + 32]byte
	copy(in[:], modeledPublicPrefix)
	copy(in[len(modeledPublicPrefix):], secret[:])
	return blake2b.Sum256(in[:])
}

func (s modeled) NewX25519(r io.Reader) (X25519KeyPair, time.Duration, error) {
	var kp X25519KeyPair
	if _, err := io.ReadFull(r, kp.Secret[:]); err != nil {
		return kp, 0, fmt.Errorf("x25519 key generation: reading randomness: %w", err)
	}
	kp.Public = modeledPublic(kp.Secret)
	return kp, s.c.X25519KeyGen, nil
}

// X25519FromSecret in modeled mode also uses the real conversion, so that long-term keys (a
// node's, a user's Session ID) are the real ones and interoperate with real-mode tools; only
// per-message operations are modeled.
func (s modeled) X25519FromSecret(secret [32]byte) (X25519KeyPair, time.Duration, error) {
	return real(s).X25519FromSecret(secret)
}

func (s modeled) SharedSecret(self X25519KeyPair, peer [32]byte) ([32]byte, time.Duration, error) {
	// Hash the two public keys in byte order, so that both sides of a pair get the same value.
	a, b := self.Public, peer
	if bytes.Compare(b[:], a[:]) < 0 {
		a, b = b, a
	}
	var out [32]byte
	modeledShared.sumCopy(out[:0], a[:], b[:]) // the copy keeps a and b, and out, on the stack
	return out, s.c.X25519, nil
}

func (s modeled) Sign(priv ed25519.PrivateKey, msg []byte) ([]byte, time.Duration) {
	return modeledSignature(signerPublic(priv), msg), s.c.Ed25519Sign
}

// signerPublic is the public key of priv.
func signerPublic(priv ed25519.PrivateKey) []byte {
	if len(priv) == ed25519.PrivateKeySize {
		return priv[ed25519.SeedSize:] // what Public copies out
	}
	return priv.Public().(ed25519.PublicKey)
}

// SignTo is s.Sign with the signature written to sig, for a caller that keeps it in an array:
// the modeled suite, which signs every request a modeled run sends, then allocates nothing.
// msg does not escape, so a caller may build it on its stack.
func SignTo(s Suite, sig *[ed25519.SignatureSize]byte, priv ed25519.PrivateKey, msg []byte) time.Duration {
	switch s := s.(type) {
	case modeled:
		modeledSigner.sumCopy(sig[:0], signerPublic(priv), msg)
		return s.c.Ed25519Sign
	case real:
		copy(sig[:], ed25519.Sign(priv, msg))
		return s.c.Ed25519Sign
	}
	// Another Suite's Sign may keep msg: it gets a copy.
	b, cost := s.Sign(priv, bytes.Clone(msg))
	copy(sig[:], b)
	return cost
}

// SignCost is the CPU time SignTo charges for a signature by s, for a caller that charges it
// at once and makes the signature only when its bytes are read; ok is false when the signature
// is to be made at once. Only the modeled suite puts it off: it charges Costs().Ed25519Sign
// whatever the message, and runs in structural form, which never reads some signatures' bytes.
// A real suite's signatures are real work, which a live run spends in place of the charged time
// (putting it off would move it to whenever the bytes are written), and another package's
// suite may charge by the message.
func SignCost(s Suite) (time.Duration, bool) {
	if m, ok := s.(modeled); ok {
		return m.c.Ed25519Sign, true
	}
	return 0, false
}

// Verify is s.Verify for a caller that builds msg on its stack, as a node does for the
// retrieves it checks: msg does not escape, and the modeled suite then allocates nothing.
func Verify(s Suite, pub, msg, sig []byte) (bool, time.Duration) {
	switch s := s.(type) {
	case modeled:
		if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return false, 0
		}
		return modeledSigner.matchesCopy(sig, pub, msg), s.c.Ed25519Verify
	case real:
		return s.Verify(pub, msg, sig)
	}
	// Another Suite's Verify may keep msg: it gets a copy.
	return s.Verify(pub, bytes.Clone(msg), sig)
}

func (s modeled) Verify(pub []byte, msg, sig []byte) (bool, time.Duration) {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false, 0
	}
	return modeledSigner.matches(sig, pub, msg), s.c.Ed25519Verify
}

// modeledSignature is 64 bytes that depend on the signer's public key and the whole message, so
// a changed message or a different signer fails verification as a real signature would.
func modeledSignature(pub []byte, msg []byte) []byte {
	return modeledSigner.sum(make([]byte, 0, ed25519.SignatureSize), pub, msg)
}

// The keyed hashes modeled crypto stands on, each with its own key.
var (
	modeledSigner = newKeyedHash(blake2b.Size, "sessionsim-modeled-ed25519")
	modeledShared = newKeyedHash(blake2b.Size256, "sessionsim-modeled-x25519-shared")
)

// keyedHash hands out keyed BLAKE2b states of one size and key: a modeled run hashes at every
// signature, verification and key agreement, and a fresh state is a few hundred bytes to
// allocate and clear each time. A pool, since suites are shared by the workers of a world.
//
// Keyed BLAKE2b compresses the key, padded to a block, before any input: one block in two or
// three of every modeled signature and key agreement. keyed is the state just after that block,
// computed once, and each hash starts from it instead of compressing the key again; the digests
// are those of blake2b.New(size, key) for any input that is not empty (an empty one, whose key
// block is also the final one, is hashed from scratch).
type keyedHash struct {
	pool  sync.Pool
	size  int
	key   string
	keyed []byte // the state after the key block, in blake2b's marshalled form
}

// pooledHash is a state with room for one digest, so that a verification compares without
// allocating one and a key agreement's secret stays on the caller's stack.
type pooledHash struct {
	h   hash.Hash
	out [blake2b.Size]byte
	in  []byte // sumCopy's inputs
	// fresh marks a state made for an empty input, which does not go back to the pool.
	fresh bool
}

func newKeyedHash(size int, key string) *keyedHash {
	k := &keyedHash{size: size, key: key, keyed: keyedState(size, key)}
	k.pool.New = func() any {
		h, err := blake2b.New(size, nil)
		if err != nil {
			panic(fmt.Sprintf("cryptomode: BLAKE2b-%d: %v", size*8, err))
		}
		p := &pooledHash{h: h}
		k.restart(p)
		return p
	}
	return k
}

// The layout of blake2b's marshalled state (golang.org/x/crypto/blake2b, MarshalBinary): a
// 3-byte identifier, the chain value h[0..7] and the byte counter c[0..1] as big-endian uint64s,
// the digest size, the block buffer and the number of bytes in it. The test that compares every
// keyed hash with blake2b.New's fails if it changes.
const (
	stateH0     = 3
	stateBlock  = stateH0 + 8*8 + 2*8 + 1
	stateOffset = stateBlock + blake2b.BlockSize
)

// keyedState is the marshalled state of keyed BLAKE2b after its key block. An unkeyed state
// differs from a keyed one, before any input, only in the key length that h[0] is parameterised
// with and in the key waiting in its buffer; with both set, one byte written makes it compress
// the key block, and that byte is then dropped from the buffer.
func keyedState(size int, key string) []byte {
	h, err := blake2b.New(size, nil)
	if err != nil {
		panic(fmt.Sprintf("cryptomode: BLAKE2b-%d: %v", size*8, err))
	}
	st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("cryptomode: BLAKE2b state: %v", err))
	}
	h0 := binary.BigEndian.Uint64(st[stateH0:])
	binary.BigEndian.PutUint64(st[stateH0:], h0^uint64(len(key))<<8)
	copy(st[stateBlock:stateOffset], key)
	st[stateOffset] = blake2b.BlockSize
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		panic(fmt.Sprintf("cryptomode: BLAKE2b state: %v", err))
	}
	h.Write([]byte{0})
	if st, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		panic(fmt.Sprintf("cryptomode: BLAKE2b state: %v", err))
	}
	st[stateBlock], st[stateOffset] = 0, 0
	return st
}

// acquire is a state for len(a)+len(b) bytes of input: a pooled one, after the key block, unless
// there are none.
func (k *keyedHash) acquire(a, b []byte) *pooledHash {
	if len(a)+len(b) == 0 {
		return k.fresh()
	}
	return k.pool.Get().(*pooledHash)
}

// release restarts a pooled state and returns it to the pool; a fresh one is dropped.
func (k *keyedHash) release(p *pooledHash) {
	if p.fresh {
		return
	}
	k.restart(p)
	k.pool.Put(p)
}

// restart sets p's state to the one after the key block.
func (k *keyedHash) restart(p *pooledHash) {
	if err := p.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.keyed); err != nil {
		panic(fmt.Sprintf("cryptomode: BLAKE2b state: %v", err))
	}
}

// fresh is a keyed state from scratch, for the empty input that the state after the key block
// cannot hash.
func (k *keyedHash) fresh() *pooledHash {
	h, err := blake2b.New(k.size, []byte(k.key))
	if err != nil {
		panic(fmt.Sprintf("cryptomode: keyed BLAKE2b-%d: %v", k.size*8, err))
	}
	return &pooledHash{h: h, fresh: true}
}

// sum appends the keyed hash of a then b to dst.
func (k *keyedHash) sum(dst, a, b []byte) []byte {
	p := k.acquire(a, b)
	p.h.Write(a)
	p.h.Write(b)
	// Summing into the pooled buffer, not dst, keeps a caller's stack array off the heap.
	dst = append(dst, p.h.Sum(p.out[:0])...)
	k.release(p)
	return dst
}

// sumCopy is sum for inputs that must not escape (a message on a caller's stack): they are
// copied into the pooled state, and the hash, which keeps what it is given as far as escape
// analysis can tell, reads the copy.
func (k *keyedHash) sumCopy(dst, a, b []byte) []byte {
	p := k.acquire(a, b)
	p.writeCopy(a, b)
	dst = append(dst, p.h.Sum(p.out[:0])...)
	k.release(p)
	return dst
}

// writeCopy writes a then b to the state through the copy in p.in, so that they do not escape.
func (p *pooledHash) writeCopy(a, b []byte) {
	p.in = append(append(p.in[:0], a...), b...)
	p.h.Write(p.in)
}

// matches reports, in constant time, whether want is the keyed hash of a then b.
func (k *keyedHash) matches(want, a, b []byte) bool {
	p := k.acquire(a, b)
	p.h.Write(a)
	p.h.Write(b)
	return k.compare(p, want)
}

// matchesCopy is matches for inputs that must not escape, copied as sumCopy copies them.
func (k *keyedHash) matchesCopy(want, a, b []byte) bool {
	p := k.acquire(a, b)
	p.writeCopy(a, b)
	return k.compare(p, want)
}

// compare finishes matches: it compares p's digest with want and releases p.
func (k *keyedHash) compare(p *pooledHash, want []byte) bool {
	ok := subtle.ConstantTimeCompare(p.h.Sum(p.out[:0]), want) == 1
	k.release(p)
	return ok
}
