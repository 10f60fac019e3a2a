package message

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"golang.org/x/crypto/chacha20poly1305"
)

// Supplemental key messages (libsession-util src/config/groups/keys.cpp, Keys::key_supplement):
// when an admin adds a member it hands the new member the keys the group already has instead
// of issuing a new one (a rekey is only for a removal). The message, stored in the keys
// namespace (12) like a rekey, is the bencoded dict
//
//	{"#": 24-byte nonce, "+": [for each new member, XChaCha20-Poly1305 of the key list],
//	 "G": the newest generation, "~": the group's Ed25519 signature of everything before it}
//
// where the key list is the bencoded list of {"g": generation, "k": 32-byte key, "t": the
// key's timestamp in ms}, one per key the admin holds, and each member's copy is encrypted
// under the same member key as its rekey entry, H(aB || A || B). libsession derives the nonce
// from the members, the key list and the group seed; here it is read from r (same size).

// GroupGenKey is one key generation of a group: its number, key and issue time.
type GroupGenKey struct {
	Generation int64
	Key        []byte
	IssuedMs   int64
}

// appendSupplementKeys appends the bencoded key list.
func appendSupplementKeys(b []byte, keys []GroupGenKey) []byte {
	b = append(b, 'l')
	for _, k := range keys {
		b = append(b, 'd')
		b = bencode.AppendString(b, []byte("g"))
		b = bencode.AppendInt(b, k.Generation)
		b = bencode.AppendString(b, []byte("k"))
		b = bencode.AppendString(b, k.Key)
		b = bencode.AppendString(b, []byte("t"))
		b = bencode.AppendInt(b, k.IssuedMs)
		b = append(b, 'e')
	}
	return append(b, 'e')
}

// supplementKeysLen is len(appendSupplementKeys(nil, keys)).
func supplementKeysLen(keys []GroupGenKey) int {
	n := 2
	for _, k := range keys {
		n += 2 + 3*bencode.StringLen(1) + bencode.IntLen(k.Generation) + bencode.StringLen(len(k.Key)) + bencode.IntLen(k.IssuedMs)
	}
	return n
}

// GroupKeySupplementSize is the length of BuildGroupKeySupplement's output for keys and n new
// members.
func GroupKeySupplementSize(keys []GroupGenKey, n int) int {
	entry := bencode.StringLen(supplementKeysLen(keys) + chacha20poly1305.Overhead)
	return 1 + bencode.StringLen(1) + bencode.StringLen(groupKeysNonce) +
		bencode.StringLen(1) + 2 + n*entry +
		bencode.StringLen(1) + bencode.IntLen(keys[len(keys)-1].Generation) +
		signatureEntryLen
}

// BuildGroupKeySupplement makes the supplemental key message giving keys (oldest first) to the
// new members whose X25519 public keys are given, signed with the group's Ed25519 key; groupX
// is the group's X25519 key pair. It charges one X25519 agreement and one encryption per member
// and the signature.
func BuildGroupKeySupplement(s cryptomode.Suite, r io.Reader, groupSK ed25519.PrivateKey, groupX cryptomode.X25519KeyPair, keys []GroupGenKey, members [][32]byte) ([]byte, time.Duration, error) {
	if len(keys) == 0 || len(members) == 0 {
		return nil, 0, fmt.Errorf("building a key supplement: %w: no keys or no members", ErrMissingField)
	}
	for _, k := range keys {
		if len(k.Key) != GroupKeySize {
			return nil, 0, fmt.Errorf("building a key supplement: %w: key has %d bytes, want %d", ErrBadKey, len(k.Key), GroupKeySize)
		}
	}
	if len(groupSK) != ed25519.PrivateKeySize {
		return nil, 0, fmt.Errorf("building a key supplement: %w: group key has %d bytes, want 64", ErrBadKey, len(groupSK))
	}
	var nonce [groupKeysNonce]byte
	if _, err := io.ReadFull(r, nonce[:]); err != nil {
		return nil, 0, fmt.Errorf("building a key supplement: reading nonce: %w", err)
	}
	plain := appendSupplementKeys(nil, keys)
	var cost time.Duration
	out := make([]byte, 0, GroupKeySupplementSize(keys, len(members)))
	out = append(out, 'd')
	out = bencode.AppendString(out, []byte("#"))
	out = bencode.AppendString(out, nonce[:])
	out = bencode.AppendString(out, []byte("+"))
	out = append(out, 'l')
	out, cost = appendMemberEntries(out, s, groupX, members, nonce[:], plain)
	out = append(out, 'e')
	out = bencode.AppendString(out, []byte("G"))
	out = bencode.AppendInt(out, keys[len(keys)-1].Generation)
	out, c := appendSignature(out, s, groupSK)
	return out, cost + c, nil
}

// IsGroupKeySupplement reports whether a keys-namespace message is a supplement (it has a "+"
// list) rather than a rekey; it decodes nothing else.
func IsGroupKeySupplement(data []byte) bool {
	v, n, err := bencode.Decode(data)
	if err != nil || n != len(data) || v.Kind != bencode.Dict {
		return false
	}
	p, ok := v.Get("+")
	return ok && p.Kind == bencode.List
}

// GroupKeySupplement is a decoded supplemental key message.
type GroupKeySupplement struct {
	Generation int64
	Nonce      []byte
	Entries    [][]byte
	Signed     []byte
	Signature  []byte
}

// ParseGroupKeySupplement decodes a supplemental key message without verifying or decrypting.
func ParseGroupKeySupplement(data []byte) (*GroupKeySupplement, error) {
	v, nonce, gen, err := decodeKeysDict(data, "a key supplement")
	if err != nil {
		return nil, err
	}
	m := &GroupKeySupplement{Nonce: nonce, Generation: gen}
	p, ok := v.Get("+")
	if !ok || p.Kind != bencode.List {
		return nil, decodeErr("bencode", fmt.Errorf("%w: member keys (\"+\") must be a list", ErrMissingField))
	}
	for _, e := range p.List {
		if e.Kind != bencode.String || len(e.Str) < chacha20poly1305.Overhead {
			return nil, decodeErr("bencode", fmt.Errorf("%w: a member's keys must be a string of at least %d bytes", ErrMissingField, chacha20poly1305.Overhead))
		}
		m.Entries = append(m.Entries, e.Str)
	}
	if m.Signature, m.Signed, err = readSignature(&v, data); err != nil {
		return nil, err
	}
	return m, nil
}

// parseSupplementKeys reads a decrypted key list.
func parseSupplementKeys(plain []byte) ([]GroupGenKey, error) {
	v, n, err := bencode.Decode(plain)
	if err != nil || n != len(plain) || v.Kind != bencode.List || len(v.List) == 0 {
		return nil, decodeErr("bencode", fmt.Errorf("%w: a key list must be a non-empty list", ErrMissingField))
	}
	var out []GroupGenKey
	for i := range v.List {
		d := &v.List[i]
		g, okG := d.Get("g")
		t, okT := d.Get("t")
		if d.Kind != bencode.Dict || !okG || !okT || g.Kind != bencode.Int || t.Kind != bencode.Int || g.Int < 0 {
			return nil, decodeErr("bencode", fmt.Errorf("%w: a key entry needs g, k and t", ErrMissingField))
		}
		k, err := dictString(d, "k", "key", GroupKeySize)
		if err != nil {
			return nil, err
		}
		out = append(out, GroupGenKey{Generation: g.Int, Key: k, IssuedMs: t.Int})
	}
	return out, nil
}

// OpenGroupKeySupplement verifies a supplement with the group's Ed25519 public key and finds the
// entry of member self (its X25519 key pair; groupX is the group's X25519 public key). A member
// the supplement is not for gets ErrNotInKeys: a supplement is for the new members only.
func OpenGroupKeySupplement(s cryptomode.Suite, data []byte, groupEd, groupX [32]byte, self cryptomode.X25519KeyPair) ([]GroupGenKey, time.Duration, error) {
	m, err := ParseGroupKeySupplement(data)
	if err != nil {
		return nil, 0, err
	}
	ok, cost := s.Verify(groupEd[:], m.Signed, m.Signature)
	if !ok {
		return nil, cost, fmt.Errorf("key supplement: %w: the group's signature does not verify", ErrBadSignature)
	}
	shared, c, err := s.SharedSecret(self, groupX)
	cost += c
	if err != nil {
		return nil, cost, fmt.Errorf("key supplement: %w", err)
	}
	aead, _ := chacha20poly1305.NewX(groupMemberKey(shared, groupX, self.Public))
	for _, e := range m.Entries {
		cost += cryptomode.PerKiB(s.Costs().XChaChaPerKiB, len(e))
		if plain, err := aead.Open(nil, m.Nonce, e, nil); err == nil {
			keys, err := parseSupplementKeys(plain)
			return keys, cost, err
		}
	}
	return nil, cost, ErrNotInKeys
}
