package actor

import (
	"io"
	"math/rand/v2"
)

// RandReader adapts an actor's random stream (Env.Rand) to the io.Reader the protocol functions
// take for nonces and ephemeral keys, so that in the simulator every such byte is reproducible
// from the actor's seed. It lives at the seam, which owns the stream, because protocol stays free
// of actors and both node and client already import this package.
func RandReader(r *rand.Rand) io.Reader { return randReader{r} }

type randReader struct{ r *rand.Rand }

// Read fills p from successive Uint64 draws, low byte first; it never fails.
func (rr randReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := rr.r.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return len(p), nil
}

// Discard advances the stream past n bytes exactly as Read of n bytes would, without handing
// them over: structural onion layers draw randomness they never use, and a buffer handed to an
// io.Reader escapes to the heap (two allocations per onion request and reply otherwise).
func (rr randReader) Discard(n int) {
	for i := 0; i < n; i += 8 {
		rr.r.Uint64()
	}
}
