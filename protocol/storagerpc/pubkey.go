package storagerpc

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

// Pubkey is an account address: a one-byte network prefix (0x05 Session ID, 0x03 group, ...)
// and 32 key bytes. For 05 IDs the key is an X25519 key; for other prefixes an Ed25519 key.
type Pubkey struct {
	Prefix byte
	Key    [32]byte
}

// PrefixSessionID and PrefixGroup are the account prefixes Session uses.
const (
	PrefixSessionID byte = 0x05
	PrefixGroup     byte = 0x03
)

// ParsePubkey reads an account address the way the server does: 66 hex digits (either case) or
// the 33 raw bytes.
func ParsePubkey(s string) (Pubkey, error) {
	var pk Pubkey
	switch len(s) {
	case 66:
		var raw [33]byte
		if _, err := hex.Decode(raw[:], []byte(s)); err != nil {
			return pk, fmt.Errorf("pubkey %q: not hex: %w", s, err)
		}
		pk.Prefix = raw[0]
		copy(pk.Key[:], raw[1:])
		return pk, nil
	case 33:
		pk.Prefix = s[0]
		copy(pk.Key[:], s[1:])
		return pk, nil
	}
	return pk, fmt.Errorf("pubkey must be 66 hex digits (33 bytes), got %d characters", len(s))
}

// Hex is the 66-character lowercase form, prefix included.
func (p Pubkey) Hex() string {
	var b [66]byte
	return string(p.appendHex(b[:0]))
}

func (p Pubkey) String() string { return p.Hex() }

func (p Pubkey) appendHex(dst []byte) []byte {
	dst = append(dst, hexDigits[p.Prefix>>4], hexDigits[p.Prefix&0xf])
	return hex.AppendEncode(dst, p.Key[:])
}

// ID is the account in the identity package's form.
func (p Pubkey) ID() identity.ID { return identity.NewID(identity.Prefix(p.Prefix), p.Key) }

// PubkeyFromID is the account of an identity ID.
func PubkeyFromID(id identity.ID) Pubkey { return Pubkey{Prefix: byte(id.Prefix()), Key: id.Key()} }

// ErrBadEd25519 is returned when an Ed25519 public key cannot be converted to X25519.
var ErrBadEd25519 = errors.New("ed25519 public key is not a valid point of the prime-order subgroup")

// ed25519ToX25519 is the server's conversion of a 05 account's signing key (libsodium's
// crypto_sign_ed25519_pk_to_curve25519, which refuses non-points, small-order points and points
// outside the prime-order subgroup). It is a real conversion in both crypto modes.
func ed25519ToX25519(ed [32]byte) ([32]byte, error) {
	x, err := identity.Ed25519ToX25519(ed[:])
	if err != nil {
		return x, fmt.Errorf("%w: %w", ErrBadEd25519, err)
	}
	return x, nil
}
