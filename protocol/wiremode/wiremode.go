// Package wiremode names the two forms requests take between the simulator's actors: the bytes
// of the real wire, or structural values carrying the exact length of those bytes.
//
// In structural form an onion request travels as its layers held as Go values, each with the
// exact length its ciphertext would have; the nodes and the client charge the CPU the real
// operations cost (the crypto suite's table), draw the same random bytes, and record the same
// sizes, but encrypt, encode and parse nothing. It needs modeled crypto: real crypto exists to
// produce and check the real bytes, which structural form never makes.
package wiremode

import "github.com/sessionsim/sessionsim/internal/enum"

// Mode selects the form requests take.
type Mode uint8

const (
	// Bytes sends every request and answer as the bytes of the real wire.
	Bytes Mode = iota
	// Structural sends onion requests and their answers as values with their exact sizes.
	Structural
)

var modeNames = enum.Names[Mode]{
	Type:  "Mode",
	Names: []string{Bytes: "bytes", Structural: "structural"},
}

func (m Mode) String() string { return modeNames.Name(m) }

// Parse reads a mode name as written in scenario files and flags.
func Parse(s string) (Mode, error) {
	return modeNames.Read(s, "wire mode", "")
}
