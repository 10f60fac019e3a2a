package message

import (
	"fmt"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

// ConversionCost is the CPU time of one Ed25519 to X25519 public key conversion with its
// checks (a point decompression, a subgroup check and a field inversion), which a receiver does
// for every message to learn the sender's Session ID. cryptomode.Costs has no entry for it; it
// measured 0.85 of an Ed25519 verification in the same run (BenchmarkPrimitives), which puts it
// at 44 us against the reference table's 52 us verification.
const ConversionCost = 44 * time.Microsecond

// SenderKeys converts a sender's Ed25519 key to its X25519 form, as identity.Ed25519ToX25519
// does: a receiver that opens many messages from the same senders may pass a memo of the
// conversions (identity.X25519Memo.Convert). nil converts afresh. Either way the conversion's
// CPU time (ConversionCost) is charged.
type SenderKeys func(ed [32]byte) ([32]byte, error)

// senderX25519 converts a sender's Ed25519 key to the X25519 key of its Session ID, through keys
// when it is given. The conversion is real in both modes: Ed25519 keys are real, and a Session
// ID must be the real one.
func senderX25519(pub [32]byte, keys SenderKeys) ([32]byte, error) {
	var x [32]byte
	var err error
	if keys != nil {
		x, err = keys(pub)
	} else {
		x, err = identity.Ed25519ToX25519(pub[:])
	}
	if err != nil {
		return x, fmt.Errorf("%w: %v", ErrBadSenderKey, err)
	}
	return x, nil
}

// sessionKey returns the X25519 key of a 05 Session ID.
func sessionKey(id identity.ID) ([32]byte, error) {
	if id.Prefix() != identity.PrefixSession {
		return [32]byte{}, fmt.Errorf("%w: %s is a %v ID, want a Session ID (05)", ErrBadKey, id, id.Prefix())
	}
	return id.Key(), nil
}
