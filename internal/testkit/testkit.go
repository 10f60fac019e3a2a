// Package testkit holds the assertions the project's table tests share, so that a case's
// expectation is checked the same way in every package, and the seeded randomness their
// fixtures draw keys and ciphertexts from.
package testkit

import (
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// WantNoError checks err against the error a table case wants: one whose text contains want,
// or none when want is "" (and then stops the test on an error). It reports whether the case
// wants success, so that the caller checks the result only then.
func WantNoError(t testing.TB, err error, want string) bool {
	t.Helper()
	if want != "" {
		assert.ErrorContains(t, err, want)
		return false
	}
	require.NoError(t, err)
	return true
}

// Hex is the bytes hex string s spells, for test vectors; a bad s stops the test.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// Seeded is a deterministic randomness stream, as the simulator hands the protocol code: the
// same seed gives the same bytes, so the keys and ciphertexts a test draws from it are fixed.
func Seeded(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}
