// Package cryptomode names the two crypto modes of the protocol library and the CPU cost table
// that the modeled mode reports instead of doing curve operations.
//
// Real mode produces and opens the real bytes. Modeled mode produces values of the same wire
// sizes that expose the same fields to each party, performs no curve operations, and reports
// what the real operations would have cost so the simulator can charge it to the host's CPU.
package cryptomode

import (
	"time"

	"github.com/sessionsim/sessionsim/internal/enum"
)

// Mode selects real or modeled cryptography.
type Mode uint8

const (
	// Real does every cryptographic operation on the real bytes.
	Real Mode = iota
	// Modeled keeps sizes and visibility and reports costs, without curve operations.
	Modeled
)

var modeNames = enum.Names[Mode]{
	Type:    "Mode",
	Names:   []string{Real: "real", Modeled: "modeled"},
	Aliases: map[string]Mode{"modelled": Modeled},
}

func (m Mode) String() string { return modeNames.Name(m) }

// Parse reads a mode name as written in scenario files and flags.
func Parse(s string) (Mode, error) {
	return modeNames.Read(s, "crypto mode", "")
}

// Costs is the CPU time of each primitive on one core. Compound operations (an onion layer, a
// sealed message) are charged as the sum of their primitives.
type Costs struct {
	X25519        time.Duration // one scalar multiplication (crypto/ecdh)
	X25519KeyGen  time.Duration // one fresh key pair
	Ed25519Sign   time.Duration
	Ed25519Verify time.Duration
	AESGCMPerKiB  time.Duration // AES-256-GCM, per KiB sealed or opened
	XChaChaPerKiB time.Duration // XChaCha20-Poly1305, per KiB
	SealedBoxBase time.Duration // crypto_box_seal/open fixed part (key exchange and hashing)
	SealedBoxKiB  time.Duration // crypto_box_seal/open per KiB
	HashPerKiB    time.Duration // BLAKE2b / SHA-256 per KiB
}

// DefaultCosts were measured on the project's reference machine (2 cores, Go, one core used);
// `make bench` reports the same primitives so the table can be checked on another machine.
var DefaultCosts = Costs{
	X25519:        45 * time.Microsecond,
	X25519KeyGen:  44 * time.Microsecond,
	Ed25519Sign:   23 * time.Microsecond,
	Ed25519Verify: 52 * time.Microsecond,
	AESGCMPerKiB:  260 * time.Nanosecond,
	XChaChaPerKiB: 600 * time.Nanosecond,
	SealedBoxBase: 134 * time.Microsecond,
	SealedBoxKiB:  1 * time.Microsecond,
	HashPerKiB:    1 * time.Microsecond,
}

// PerKiB scales a per-KiB cost to n bytes, rounding up to whole nanoseconds.
func PerKiB(c time.Duration, n int) time.Duration {
	return time.Duration((int64(c)*int64(n) + 1023) / 1024)
}
