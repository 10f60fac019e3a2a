package actor

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bytes are the stream's Uint64 draws, low byte first, one draw per started 8 bytes: keys
// and nonces drawn in the simulator depend on exactly this.
func TestRandReader(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 17, 32} {
		got := make([]byte, n)
		read, err := RandReader(rand.New(rand.NewPCG(1, 2))).Read(got)
		require.NoError(t, err)
		assert.Equal(t, n, read)

		src := rand.New(rand.NewPCG(1, 2))
		want := []byte{}
		for len(want) < n {
			want = binary.LittleEndian.AppendUint64(want, src.Uint64())
		}
		assert.Equal(t, want[:n], got, "%d bytes", n)
	}
}

// Discard leaves the stream where a Read of as many bytes leaves it.
func TestRandReaderDiscard(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 12, 24, 32} {
		read, skipped := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
		_, err := RandReader(read).Read(make([]byte, n))
		require.NoError(t, err)
		RandReader(skipped).(interface{ Discard(int) }).Discard(n)
		assert.Equal(t, read.Uint64(), skipped.Uint64(), "%d bytes", n)
	}
}
