package storagerpc

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"filippo.io/edwards25519"
	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/require"
)

// testNow is the node's clock in the tests.
var testNow = time.UnixMilli(1_700_000_000_000)

var nowMs = testNow.UnixMilli()

func realSuite() cryptomode.Suite { return cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts) }
func modeledSuite() cryptomode.Suite {
	return cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
}

// testUser is a Session account: an Ed25519 key and its 05 Session ID.
type testUser struct {
	key ed25519.PrivateKey
	id  Pubkey
}

func newUser(t testing.TB, seed byte) testUser {
	t.Helper()
	var s [32]byte
	for i := range s {
		s[i] = seed + byte(i)
	}
	k := ed25519.NewKeyFromSeed(s[:])
	var ed [32]byte
	copy(ed[:], k[32:])
	x, err := ed25519ToX25519(ed)
	require.NoError(t, err)
	return testUser{key: k, id: Pubkey{Prefix: PrefixSessionID, Key: x}}
}

func (u testUser) signer(s cryptomode.Suite) *Signer {
	return &Signer{Suite: s, Account: u.id, Key: u.key}
}

// testGroup is a 03 account whose address is its Ed25519 key.
type testGroup struct {
	key ed25519.PrivateKey
	id  Pubkey
}

func newGroup(seed byte) testGroup {
	var s [32]byte
	for i := range s {
		s[i] = seed ^ byte(i*7)
	}
	k := ed25519.NewKeyFromSeed(s[:])
	g := testGroup{key: k, id: Pubkey{Prefix: PrefixGroup}}
	copy(g.id.Key[:], k[32:])
	return g
}

func (g testGroup) signer(s cryptomode.Suite) *Signer {
	return &Signer{Suite: s, Account: g.id, Key: g.key}
}

// Placeholder values for hand-written request bodies.
var (
	phPK   = "05" + strings.Repeat("ab", 32)
	phSig  = base64.RawStdEncoding.EncodeToString(make([]byte, 64))
	phEd   = strings.Repeat("cd", 32)
	phHash = "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"
)

// body builds {"method":m,"params":{p}} substituting PK, SIG, ED, HASH, NOW.
func body(method, params string) []byte {
	r := strings.NewReplacer("PK", phPK, "SIG", phSig, "ED", phEd, "HASH", phHash, "NOW", "1700000000000")
	return []byte(`{"method":"` + method + `","params":{` + r.Replace(params) + `}}`)
}

// addTorsion adds the point of order 2, (0, -1), to an Ed25519 public key: the result has the
// same X25519 form modulo torsion but is outside the prime-order subgroup.
func addTorsion(t testing.TB, pk [32]byte) [32]byte {
	t.Helper()
	p, err := new(edwards25519.Point).SetBytes(pk[:])
	require.NoError(t, err)
	var minusOne [32]byte
	copy(minusOne[:], testkit.Hex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
	tp, err := new(edwards25519.Point).SetBytes(minusOne[:])
	require.NoError(t, err)
	var out [32]byte
	copy(out[:], new(edwards25519.Point).Add(p, tp).Bytes())
	return out
}

// notAPoint returns an encoding that decodes to no curve point.
func notAPoint(t testing.TB) [32]byte {
	t.Helper()
	for y := byte(2); y < 255; y++ {
		var b [32]byte
		b[0] = y
		if _, err := new(edwards25519.Point).SetBytes(b[:]); err != nil {
			return b
		}
	}
	t.Fatal("no invalid encoding found")
	return [32]byte{}
}

// MustParsePubkey is ParsePubkey for constants in tests.
func MustParsePubkey(s string) Pubkey {
	pk, err := ParsePubkey(s)
	if err != nil {
		panic(err)
	}
	return pk
}

// signed is r with its signature made if it was deferred, as a reader of its bytes sees it and
// as a decoder gives it back.
func signed(r ExpireResult) ExpireResult {
	r.Signature, r.deferred = [64]byte(r.signature(false)), deferredSig{}
	return r
}
