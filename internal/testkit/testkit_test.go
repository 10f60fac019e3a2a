package testkit

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records failures instead of reporting them, so that the test
// can check which cases WantNoError fails and which it stops.
type recorder struct {
	testing.TB
	failed, stopped bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) FailNow()              { r.failed, r.stopped = true, true }
func (r *recorder) Fatalf(string, ...any) { r.FailNow() }
func (r *recorder) Logf(string, ...any)   {}
func (r *recorder) Log(...any)            {}

func TestWantNoError(t *testing.T) {
	bad := errors.New(`no figure "x" in the summary`)
	tests := []struct {
		name                string
		err                 error
		want                string
		ok, failed, stopped bool
	}{
		{"success wanted and got", nil, "", true, false, false},
		{"success wanted, error got", bad, "", true, true, true},
		{"error wanted and got", bad, `no figure "x"`, false, false, false},
		{"error wanted, another got", bad, "no operator", false, true, false},
		{"error wanted, none got", nil, "no operator", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			// The recorder's FailNow notes the stop and returns, so WantNoError returns too.
			ok := WantNoError(r, tt.err, tt.want)
			assert.Equal(t, tt.ok, ok, "result")
			assert.Equal(t, tt.failed, r.failed, "failed")
			assert.Equal(t, tt.stopped, r.stopped, "stopped")
		})
	}
}

func TestHex(t *testing.T) {
	tests := []struct {
		in      string
		want    []byte
		stopped bool
	}{
		{"00ff10", []byte{0, 0xff, 0x10}, false},
		{"", []byte{}, false},
		{"0g", nil, true},
		{"abc", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := &recorder{TB: t}
			got := Hex(r, tt.in)
			assert.Equal(t, tt.stopped, r.stopped, "stopped")
			if !tt.stopped {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestSeeded(t *testing.T) {
	read := func(seed uint64) []byte {
		b := make([]byte, 32)
		_, err := io.ReadFull(Seeded(seed), b)
		require.NoError(t, err)
		return b
	}
	assert.Equal(t, read(7), read(7), "one seed, one stream")
	for _, other := range []uint64{0, 8, 7 + 1<<8, 7 + 1<<40, 7 + 1<<56} {
		assert.NotEqual(t, read(7), read(other), "seed %#x: every byte of the seed counts", other)
	}
}
