package message

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

// Group key messages (libsession-util src/config/groups/keys.cpp, Keys::rekey): the message an
// admin stores in the group's keys namespace (12) when it issues a new group encryption key, as
// on a member's removal. It is the bencoded dict
//
//	{"#": 24-byte nonce, "G": generation, "K": the key encrypted for admins,
//	 "k": [the key encrypted for each member, then junk entries up to a multiple of 75],
//	 "~": the group's Ed25519 signature of everything before it}
//
// each encrypted key being XChaCha20-Poly1305 of the 32-byte key (48 bytes). A member's entry
// is under H(aB || A || B): the X25519 agreement of the group's key a with the member's B,
// hashed with both public keys (BLAKE2b-256 keyed "SessionGroupKeyMemberKey"); the admins'
// under a BLAKE2b-256 keyed hash of the group seed ("SessionGroupKeyAdminKey"). A member finds
// its entry by trying each one, as libsession does. libsession derives the key and nonce
// deterministically from the member list and the group seed so that two admins issue the same
// key; here the key is the caller's and the nonce is read from r (same sizes).
const (
	// GroupKeysMultiple: include/session/config/groups/keys.hpp, MESSAGE_KEY_MULTIPLE: the
	// member list is padded with junk entries to a multiple of 75.
	GroupKeysMultiple = 75
	// GroupKeyEntrySize is one encrypted key: the key and the Poly1305 tag.
	GroupKeyEntrySize = GroupKeySize + chacha20poly1305.Overhead
	groupKeysNonce    = chacha20poly1305.NonceSizeX
)

var (
	groupMemberKeyHash = []byte("SessionGroupKeyMemberKey")
	groupAdminKeyHash  = []byte("SessionGroupKeyAdminKey")
)

// ErrNotInKeys: a key message holds no entry this member can open (it was removed).
var ErrNotInKeys = errors.New("no key entry for this member")

// groupKeysEntries is the number of member entries for n members, junk included.
func groupKeysEntries(n int) int {
	if r := n % GroupKeysMultiple; r != 0 || n == 0 {
		n += GroupKeysMultiple - r
	}
	return n
}

// GroupKeysSize is the length of BuildGroupKeys's output for generation gen and n members.
func GroupKeysSize(gen int64, n int) int {
	e := groupKeysEntries(n)
	return 1 + bencode.StringLen(1) + bencode.StringLen(groupKeysNonce) +
		bencode.StringLen(1) + bencode.IntLen(gen) +
		bencode.StringLen(1) + bencode.StringLen(GroupKeyEntrySize) +
		bencode.StringLen(1) + 2 + e*bencode.StringLen(GroupKeyEntrySize) +
		signatureEntryLen
}

// groupMemberKey is the key of a member's entry: BLAKE2b-256 keyed "SessionGroupKeyMemberKey"
// of the X25519 agreement, the group's X25519 public key and the member's.
func groupMemberKey(shared, groupX, memberX [32]byte) []byte {
	h, _ := blake2b.New256(groupMemberKeyHash)
	h.Write(shared[:])
	h.Write(groupX[:])
	h.Write(memberX[:])
	return h.Sum(nil)
}

// appendMemberEntries appends to a key message's member list, for each member, plain sealed
// with XChaCha20-Poly1305 under the member's key (groupMemberKey) and nonce, as a bencoded
// string. A member whose agreement fails is skipped, as libsession does. It returns the cost of
// the agreements and encryptions.
func appendMemberEntries(out []byte, s cryptomode.Suite, groupX cryptomode.X25519KeyPair, members [][32]byte, nonce, plain []byte) ([]byte, time.Duration) {
	var cost time.Duration
	for _, m := range members {
		shared, c, err := s.SharedSecret(groupX, m)
		cost += c
		if err != nil {
			continue
		}
		aead, _ := chacha20poly1305.NewX(groupMemberKey(shared, groupX.Public, m))
		cost += cryptomode.PerKiB(s.Costs().XChaChaPerKiB, len(plain))
		out = bencode.AppendStringHeader(out, len(plain)+aead.Overhead())
		out = aead.Seal(out, nonce, plain, nil)
	}
	return out, cost
}

// groupAdminKey is the admins' key: BLAKE2b-256 keyed "SessionGroupKeyAdminKey" of the seed.
func groupAdminKey(groupSK ed25519.PrivateKey) []byte {
	h, _ := blake2b.New256(groupAdminKeyHash)
	h.Write(groupSK.Seed())
	return h.Sum(nil)
}

// BuildGroupKeys makes the key message of generation gen carrying key for the members whose
// X25519 public keys are given, signed with the group's Ed25519 key; groupX is the group's
// X25519 key pair (the conversion of its Ed25519 key). It charges one X25519 agreement per
// member, the encryptions and the signature.
func BuildGroupKeys(s cryptomode.Suite, r io.Reader, groupSK ed25519.PrivateKey, groupX cryptomode.X25519KeyPair, gen int64, key []byte, members [][32]byte) ([]byte, time.Duration, error) {
	if len(key) != GroupKeySize {
		return nil, 0, fmt.Errorf("building group keys: %w: key has %d bytes, want %d", ErrBadKey, len(key), GroupKeySize)
	}
	if len(groupSK) != ed25519.PrivateKeySize {
		return nil, 0, fmt.Errorf("building group keys: %w: group key has %d bytes, want 64", ErrBadKey, len(groupSK))
	}
	var nonce [groupKeysNonce]byte
	if _, err := io.ReadFull(r, nonce[:]); err != nil {
		return nil, 0, fmt.Errorf("building group keys: reading nonce: %w", err)
	}
	var cost time.Duration
	seal := func(dst, k []byte) []byte {
		aead, _ := chacha20poly1305.NewX(k)
		cost += cryptomode.PerKiB(s.Costs().XChaChaPerKiB, GroupKeySize)
		return aead.Seal(dst, nonce[:], key, nil)
	}
	out := make([]byte, 0, GroupKeysSize(gen, len(members)))
	out = append(out, 'd')
	out = bencode.AppendString(out, []byte("#"))
	out = bencode.AppendString(out, nonce[:])
	out = bencode.AppendString(out, []byte("G"))
	out = bencode.AppendInt(out, gen)
	out = bencode.AppendString(out, []byte("K"))
	out = bencode.AppendStringHeader(out, GroupKeyEntrySize)
	out = seal(out, groupAdminKey(groupSK))
	out = bencode.AppendString(out, []byte("k"))
	out = append(out, 'l')
	out, c := appendMemberEntries(out, s, groupX, members, nonce[:], key)
	cost += c
	junk := make([]byte, GroupKeyEntrySize)
	for n := len(members); n < groupKeysEntries(len(members)); n++ {
		if _, err := io.ReadFull(r, junk); err != nil {
			return nil, cost, fmt.Errorf("building group keys: reading junk: %w", err)
		}
		out = bencode.AppendString(out, junk)
	}
	out = append(out, 'e')
	out, c = appendSignature(out, s, groupSK)
	return out, cost + c, nil
}

// appendSignature ends a key message: its "~", the group's signature of every byte before it,
// and the dictionary's end.
func appendSignature(out []byte, s cryptomode.Suite, groupSK ed25519.PrivateKey) ([]byte, time.Duration) {
	sig, cost := s.Sign(groupSK, out)
	out = bencode.AppendString(out, []byte("~"))
	out = bencode.AppendString(out, sig)
	return append(out, 'e'), cost
}

// signatureEntryLen is the length of what appendSignature writes: the "~" entry and the dict's end.
var signatureEntryLen = bencode.StringLen(1) + bencode.StringLen(ed25519.SignatureSize) + 1

// readSignature reads what appendSignature ended key message data with (v is data decoded):
// the signature and the bytes it covers, everything before it. The "~" entry must be the last
// ("~" sorts after every other key): an entry after it would be signed by nobody.
func readSignature(v *bencode.Value, data []byte) (sig, signed []byte, err error) {
	if sig, err = dictString(v, "~", "signature", ed25519.SignatureSize); err != nil {
		return nil, nil, err
	}
	n := len(data) - signatureEntryLen
	if n < 0 || data[n+2] != '~' {
		return nil, nil, decodeErr("bencode", fmt.Errorf("%w: signature is not last", ErrMissingField))
	}
	return sig, data[:n], nil
}

// GroupKeysMessage is a decoded key message.
type GroupKeysMessage struct {
	Generation int64
	Nonce      []byte
	Admin      []byte
	Entries    [][]byte
	Signed     []byte // the bytes the signature covers
	Signature  []byte
}

// decodeKeysDict reads what a key message and a key supplement share: one bencoded dict with a
// nonce ("#") and a generation ("G"). what names the message in errors.
func decodeKeysDict(data []byte, what string) (bencode.Value, []byte, int64, error) {
	v, n, err := bencode.Decode(data)
	if err != nil {
		return v, nil, 0, decodeErr("bencode", err)
	}
	if n != len(data) || v.Kind != bencode.Dict {
		return v, nil, 0, decodeErr("bencode", fmt.Errorf("%w: %s must be one dict", ErrMissingField, what))
	}
	nonce, err := dictString(&v, "#", "nonce", groupKeysNonce)
	if err != nil {
		return v, nil, 0, err
	}
	g, ok := v.Get("G")
	if !ok || g.Kind != bencode.Int || g.Int < 0 {
		return v, nil, 0, decodeErr("bencode", fmt.Errorf("%w: generation (\"G\") must be a non-negative integer", ErrMissingField))
	}
	return v, nonce, g.Int, nil
}

// ParseGroupKeys decodes a key message without verifying or decrypting anything.
func ParseGroupKeys(data []byte) (*GroupKeysMessage, error) {
	v, nonce, gen, err := decodeKeysDict(data, "group keys")
	if err != nil {
		return nil, err
	}
	m := &GroupKeysMessage{Nonce: nonce, Generation: gen}
	if m.Admin, err = dictString(&v, "K", "admin key", GroupKeyEntrySize); err != nil {
		return nil, err
	}
	k, ok := v.Get("k")
	if !ok || k.Kind != bencode.List {
		return nil, decodeErr("bencode", fmt.Errorf("%w: member keys (\"k\") must be a list", ErrMissingField))
	}
	for _, e := range k.List {
		if e.Kind != bencode.String || len(e.Str) != GroupKeyEntrySize {
			return nil, decodeErr("bencode", fmt.Errorf("%w: a member key must be a %d-byte string", ErrMissingField, GroupKeyEntrySize))
		}
		m.Entries = append(m.Entries, e.Str)
	}
	if m.Signature, m.Signed, err = readSignature(&v, data); err != nil {
		return nil, err
	}
	return m, nil
}

// OpenGroupKeys verifies a key message with the group's Ed25519 public key and finds the key in
// the entry of the member self (its X25519 key pair; groupX is the group's X25519 public key).
// A member the message leaves out gets ErrNotInKeys with the generation.
func OpenGroupKeys(s cryptomode.Suite, data []byte, groupEd, groupX [32]byte, self cryptomode.X25519KeyPair) (gen int64, key []byte, cost time.Duration, err error) {
	m, err := ParseGroupKeys(data)
	if err != nil {
		return 0, nil, 0, err
	}
	ok, c := s.Verify(groupEd[:], m.Signed, m.Signature)
	cost += c
	if !ok {
		return m.Generation, nil, cost, fmt.Errorf("group keys: %w: the group's signature does not verify", ErrBadSignature)
	}
	shared, c, err := s.SharedSecret(self, groupX)
	cost += c
	if err != nil {
		return m.Generation, nil, cost, fmt.Errorf("group keys: %w", err)
	}
	aead, _ := chacha20poly1305.NewX(groupMemberKey(shared, groupX, self.Public))
	for _, e := range m.Entries {
		cost += cryptomode.PerKiB(s.Costs().XChaChaPerKiB, GroupKeySize)
		if k, err := aead.Open(nil, m.Nonce, e, nil); err == nil {
			return m.Generation, k, cost, nil
		}
	}
	return m.Generation, nil, cost, ErrNotInKeys
}
