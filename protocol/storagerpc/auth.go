package storagerpc

import (
	"crypto/ed25519"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Auth is the authentication a signed request carries.
type Auth struct {
	// Signature is the Ed25519 signature of the method's signature message.
	Signature [64]byte
	// Ed25519 is the `pubkey_ed25519` parameter: for 05 accounts, the Ed25519 key the client
	// signs with, which must convert to the X25519 key of the account.
	Ed25519    [32]byte
	HasEd25519 bool
	// Subaccount, when set, authorises another key (a group member) to act on the account.
	Subaccount *Subaccount
}

// SubaccountTokenLen is the length of a subaccount token: prefix, flags, two reserved bytes and
// the subaccount's Ed25519 key.
const SubaccountTokenLen = 36

// Access is the permission bits of a subaccount token.
type Access uint8

// Subaccount permissions.
const (
	AccessRead      Access = 1 << 0
	AccessWrite     Access = 1 << 1 // store, and extend expiries
	AccessDelete    Access = 1 << 2 // delete, and shorten expiries
	AccessAnyPrefix Access = 1 << 3 // valid for any network prefix of the account key
)

// Subaccount is a token granting a key access to an account, signed by the account's owner.
type Subaccount struct {
	Token     [SubaccountTokenLen]byte
	Signature [64]byte
}

// NewSubaccountToken builds a token for key on accounts with prefix.
func NewSubaccountToken(prefix byte, access Access, key [32]byte) [SubaccountTokenLen]byte {
	var t [SubaccountTokenLen]byte
	t[0] = prefix
	t[1] = byte(access)
	copy(t[4:], key[:])
	return t
}

func (s *Subaccount) prefix() byte      { return s.Token[0] }
func (s *Subaccount) access() Access    { return Access(s.Token[1]) }
func (s *Subaccount) key() []byte       { return s.Token[4:] }
func (s *Subaccount) has(a Access) bool { return s.access()&a == a }

// Signer signs requests for an account. For a Session ID account (05) Key is the user's Ed25519
// key and requests carry `pubkey_ed25519`; for a group (03) it is the group's key, or the
// member's key together with Subaccount.
type Signer struct {
	Suite      cryptomode.Suite
	Account    Pubkey
	Key        ed25519.PrivateKey
	Subaccount *Subaccount
}

// sign signs msg with s and sets the request's Auth to the signature and the account fields that
// go with it; it returns the signing cost. Every request's Sign method is this call on its own
// SigMessage.
func (acct *SignedAccount) sign(s *Signer, msg []byte) time.Duration {
	var a Auth
	if s.Account.Prefix == PrefixSessionID && s.Subaccount == nil {
		a.HasEd25519 = true
		copy(a.Ed25519[:], s.Key[32:])
	}
	if s.Subaccount != nil {
		sa := *s.Subaccount
		a.Subaccount = &sa
	}
	acct.Auth = a
	// Signed in place: every request a client sends is signed here.
	return cryptomode.SignTo(s.Suite, &acct.Auth.Signature, s.Key, msg)
}

// verifyOptions carries what signature verification needs beyond the request.
type verifyOptions struct {
	suite      cryptomode.Suite
	access     Access
	skipRevoke bool
	revoked    func(account Pubkey, token [SubaccountTokenLen]byte) bool
	convert    func(ed [32]byte) ([32]byte, error)
}

// verify checks a request signature as the server does: for a 05 account with pubkey_ed25519,
// that key must convert to the account's X25519 key and is the verifying key (otherwise the
// account key itself is); a subaccount must be unrevoked, allowed on this prefix, hold the
// needed access and be signed by that key, and then its own key verifies the request.
func verify(o verifyOptions, acct *SignedAccount, msg []byte) (bool, time.Duration) {
	account, a := acct.Pubkey, &acct.Auth
	var cost time.Duration
	// The key is sliced from the request, not from the local copy, which would then be moved
	// to the heap for every verification.
	pk := acct.Pubkey.Key[:]
	if account.Prefix == PrefixSessionID && a.HasEd25519 {
		convert := o.convert
		if convert == nil {
			convert = ed25519ToX25519
		}
		// The server's conversion checks subgroup membership with a scalar multiplication;
		// charge it as one, whatever the mode and whether the result was cached.
		cost += o.suite.Costs().X25519
		x, err := convert(a.Ed25519)
		if err != nil || x != account.Key {
			return false, cost
		}
		pk = a.Ed25519[:]
	}
	if sa := a.Subaccount; sa != nil {
		if !o.skipRevoke && o.revoked != nil && o.revoked(account, sa.Token) {
			return false, cost
		}
		if sa.prefix() != account.Prefix && !sa.has(AccessAnyPrefix) {
			return false, cost
		}
		if !sa.has(o.access) {
			return false, cost
		}
		ok, c := o.suite.Verify(pk, sa.Token[:], sa.Signature[:])
		cost += c
		if !ok {
			return false, cost
		}
		pk = sa.key()
	}
	// msg does not escape here, so that a check may build it on its stack.
	ok, c := cryptomode.Verify(o.suite, pk, msg, a.Signature[:])
	return ok, cost + c
}

// SignSubaccount issues the token granting member (an Ed25519 public key) access to the group
// whose Ed25519 key is groupKey, signed with that key, as the group's admin hands each member
// one (libsession-util src/config/groups/keys.cpp, Keys::swarm_make_subaccount). libsession
// puts a blinded form of the member's key in the token and signs requests with the matching
// blinded key, so the nodes never see the member's own key; here the token carries the key
// the member signs with, which has the same size and takes the same verifications.
func SignSubaccount(s cryptomode.Suite, groupKey ed25519.PrivateKey, access Access, member [32]byte) (*Subaccount, time.Duration) {
	sa := &Subaccount{Token: NewSubaccountToken(PrefixGroup, access, member)}
	sig, cost := s.Sign(groupKey, sa.Token[:])
	copy(sa.Signature[:], sig)
	return sa, cost
}
