package identity

import (
	"sync"
	"sync/atomic"
)

// The storage server converts the `pubkey_ed25519` of every authenticated 05 request (about
// 80 us of curve arithmetic). The conversion is a pure function, so one process-wide table
// serves every simulated node at no cost to determinism.
var x25519Cache struct {
	m sync.Map // [32]byte -> [32]byte
	n atomic.Int64
}

// maxCachedConversions bounds the table (about 100 bytes an entry): well above the accounts of
// the largest simulated world; past it conversions are simply not remembered.
const maxCachedConversions = 1 << 20

// Ed25519ToX25519Cached is Ed25519ToX25519 with a process-wide memo of successful conversions,
// safe for concurrent use. Failures are not remembered.
func Ed25519ToX25519Cached(pub []byte) ([32]byte, error) {
	if len(pub) == 32 {
		if v, ok := x25519Cache.m.Load([32]byte(pub)); ok {
			return v.([32]byte), nil
		}
	}
	x, err := Ed25519ToX25519(pub)
	if err != nil {
		return x, err
	}
	if x25519Cache.n.Load() < maxCachedConversions {
		if _, loaded := x25519Cache.m.LoadOrStore([32]byte(pub), x); !loaded {
			x25519Cache.n.Add(1)
		}
	}
	return x, nil
}
