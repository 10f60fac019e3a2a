package store

import (
	"encoding/hex"
	"fmt"

	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// OwnerLen is the length of an owner in bytes: a network prefix (0x05 for Session IDs, 0x03
// for groups) and a 32-byte key.
const OwnerLen = 33

// Owner is the account messages are stored for, as the RPC's "pubkey" names it: prefix byte
// and key, 66 hex characters when written.
type Owner [OwnerLen]byte

// Prefix is the network prefix byte (the "type" of the real database's owners table).
func (o Owner) Prefix() byte { return o[0] }

// Key is the 32 key bytes after the prefix.
func (o Owner) Key() []byte { return o[1:] }

// String is the owner in hex, prefix included.
func (o Owner) String() string { return hex.EncodeToString(o[:]) }

// SwarmSpace is the owner's position in the swarm space (swarm.Space of the key; the prefix
// does not count).
func (o Owner) SwarmSpace() uint64 {
	return swarm.Space([32]byte(o[1:]))
}

// SwarmSpace is the swarm space position of a 32-byte key (no prefix), as read from a
// database. Shorter keys read as if zero-padded, so that no input panics.
func SwarmSpace(key []byte) uint64 {
	var k [32]byte
	copy(k[:], key)
	return swarm.Space(k)
}

// OwnerFromParts builds an owner from a prefix and a 32-byte key.
func OwnerFromParts(prefix byte, key []byte) (Owner, error) {
	var o Owner
	if len(key) != OwnerLen-1 {
		return o, fmt.Errorf("owner key has %d bytes, want %d", len(key), OwnerLen-1)
	}
	o[0] = prefix
	copy(o[1:], key)
	return o, nil
}

// ParseOwner reads an owner written as 66 hex characters (prefix included), as in a Session ID.
func ParseOwner(s string) (Owner, error) {
	var o Owner
	if len(s) != 2*OwnerLen {
		return o, fmt.Errorf("owner %q has %d characters, want %d hex characters (prefix byte and 32-byte key)", wireerr.Excerpt(s), len(s), 2*OwnerLen)
	}
	if _, err := hex.Decode(o[:], []byte(s)); err != nil {
		return Owner{}, fmt.Errorf("owner %q is not hex: %w", wireerr.Excerpt(s), err)
	}
	return o, nil
}

// SpaceRange is an arc of the swarm space: the positions x with Lo < x <= Hi, going up from Lo
// and wrapping past 2^64-1 to 0 when Hi < Lo. Lo == Hi is the whole space (the span of a lone
// swarm), so the zero SpaceRange is the whole space too. The exclusive lower and inclusive upper
// bound are the real server's (lower = (prev+id)/2 exclusive, upper = (id+next)/2 inclusive).
type SpaceRange struct {
	Lo, Hi uint64
}

// FullSpace is the whole swarm space.
var FullSpace = SpaceRange{}

// Contains reports whether position x lies in the range.
func (r SpaceRange) Contains(x uint64) bool {
	if r.Lo == r.Hi {
		return true
	}
	// Modular arithmetic handles the wrap: x is in (Lo, Hi] exactly when its distance above
	// Lo+1 is below the arc's length.
	return x-r.Lo-1 < r.Hi-r.Lo
}

// Full reports whether the range is the whole space.
func (r SpaceRange) Full() bool { return r.Lo == r.Hi }

func (r SpaceRange) String() string {
	if r.Full() {
		return "(all)"
	}
	return fmt.Sprintf("(%d, %d]", r.Lo, r.Hi)
}
