package message

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

// ConversionCost is the CPU time of one Ed25519 to X25519 public key conversion with its
// checks (a point decompression, a subgroup check and a field inversion), which a receiver does
// for every message to learn the sender's Session ID. cryptomode.Costs has no entry for it; it
// measured 0.85 of an Ed25519 verification in the same run (BenchmarkPrimitives), which puts it
// at 44 us against the reference table's 52 us verification.
const ConversionCost = 44 * time.Microsecond

// senderX25519 converts a sender's Ed25519 key to the X25519 key of its Session ID. The
// conversion is real in both modes: Ed25519 keys are real, and a Session ID must be the real one.
func senderX25519(pub [32]byte) ([32]byte, error) {
	x, err := identity.Ed25519ToX25519(pub[:])
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

// conversions memoizes senderX25519. Receivers convert the same few senders' keys over and
// over, and the conversion is a real curve operation even in modeled mode, where it would
// otherwise dominate the simulator's own CPU time. The result is a pure function of the key, so
// the cache changes no outcome; it is bounded so that a run with unbounded distinct senders
// cannot grow it without limit.
var conversions struct {
	m sync.Map // [32]byte -> [32]byte
	n atomic.Int64
}

const maxCachedConversions = 1 << 20

func senderX25519Cached(pub [32]byte) ([32]byte, error) {
	if v, ok := conversions.m.Load(pub); ok {
		return v.([32]byte), nil
	}
	x, err := senderX25519(pub)
	if err == nil && conversions.n.Load() < maxCachedConversions {
		if _, loaded := conversions.m.LoadOrStore(pub, x); !loaded {
			conversions.n.Add(1)
		}
	}
	return x, err
}
