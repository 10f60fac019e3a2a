package identity

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// Prefix is the first byte of an ID, naming what kind of key follows.
type Prefix byte

// The prefixes the network uses.
const (
	// PrefixGroup: a group (closed group v2), followed by the group's Ed25519 public key.
	PrefixGroup Prefix = 0x03
	// PrefixSession: a Session account, followed by its X25519 public key.
	PrefixSession Prefix = 0x05
	// PrefixBlinded15 and PrefixBlinded25: community-blinded IDs (Ed25519 keys blinded per server).
	PrefixBlinded15 Prefix = 0x15
	PrefixBlinded25 Prefix = 0x25
)

var prefixNames = enum.Names[Prefix]{Type: "Prefix", Names: []string{
	PrefixGroup:     "group (03)",
	PrefixSession:   "session (05)",
	PrefixBlinded15: "blinded (15)",
	PrefixBlinded25: "blinded (25)",
}}

// Known reports whether p is one of the prefixes above.
func (p Prefix) Known() bool { return prefixNames.Known(p) }

// String names p with its byte in hex, the form IDs are written in, for unknown prefixes too.
func (p Prefix) String() string {
	if p.Known() {
		return prefixNames.Name(p)
	}
	return fmt.Sprintf("unknown (%02x)", byte(p))
}

// IDSize is the binary size of an ID; IDHexSize its hex form.
const (
	IDSize    = 33
	IDHexSize = 2 * IDSize
)

// ID is a prefixed public key: a Session ID, a group ID or a blinded ID. It is comparable and
// can be used as a map key.
type ID [IDSize]byte

// NewID joins a prefix and a key.
func NewID(p Prefix, key [32]byte) ID {
	var id ID
	id[0] = byte(p)
	copy(id[1:], key[:])
	return id
}

// String is the 66-character lowercase hex form used everywhere on the wire.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Prefix is the ID's first byte.
func (id ID) Prefix() Prefix { return Prefix(id[0]) }

// Key is the 32-byte public key after the prefix.
func (id ID) Key() [32]byte {
	var k [32]byte
	copy(k[:], id[1:])
	return k
}

// IsZero reports whether id is the zero value (no ID).
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText writes the hex form, so IDs appear as strings in JSON.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the hex form with the checks of ParseID.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Errors ParseID wraps; test with errors.Is. The *ParseError carries the details.
var (
	ErrIDLength = errors.New("wrong length")
	ErrIDHex    = errors.New("not hex")
	ErrIDPrefix = errors.New("unknown prefix")
)

// ParseError says why a string is not an ID.
type ParseError struct {
	Input string // the input, shortened if long
	Err   error  // ErrIDLength, ErrIDHex or ErrIDPrefix
	What  string // the details: lengths, offending character or prefix
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("identity: %q is not a Session/group ID: %v: %s", e.Input, e.Err, e.What)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParseID reads a 66-character hex ID (either case) with a known prefix.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != IDHexSize {
		return id, &ParseError{Input: wireerr.Excerpt(s), Err: ErrIDLength,
			What: fmt.Sprintf("%d characters, want %d (1 prefix byte + 32 key bytes in hex)", len(s), IDHexSize)}
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return id, &ParseError{Input: wireerr.Excerpt(s), Err: ErrIDHex,
				What: fmt.Sprintf("character %q at offset %d", s[i], i)}
		}
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, &ParseError{Input: wireerr.Excerpt(s), Err: ErrIDHex, What: err.Error()}
	}
	if !id.Prefix().Known() {
		return ID{}, &ParseError{Input: wireerr.Excerpt(s), Err: ErrIDPrefix,
			What: fmt.Sprintf("prefix %02x, want 05 (Session), 03 (group), 15 or 25 (blinded)", id[0])}
	}
	return id, nil
}

// ParseKey reads a 64-character hex public key (either case), as Ed25519 and X25519 keys are
// written in node lists and RPC parameters.
func ParseKey(s string) ([32]byte, error) {
	var k [32]byte
	if len(s) != 64 {
		return k, fmt.Errorf("identity: key %q is %d hex characters, want 64: %w", wireerr.Excerpt(s), len(s), ErrIDLength)
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return k, fmt.Errorf("identity: key %q has %q at offset %d: %w", wireerr.Excerpt(s), s[i], i, ErrIDHex)
		}
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
