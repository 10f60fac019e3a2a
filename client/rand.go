package client

import "math/rand/v2"

// randReader reads bytes from an actor's random stream, for the protocol functions that take an
// io.Reader (ephemeral keys, nonces): in the simulator every byte is then reproducible.
type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := rr.r.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return len(p), nil
}
