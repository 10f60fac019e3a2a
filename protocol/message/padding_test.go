package message

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaddedLen(t *testing.T) {
	// 160*ceil((n+2)/160) - 1, the clients' getPaddedMessageLength(n+1) - 1.
	tests := []struct{ n, want int }{
		{0, 159}, {1, 159}, {157, 159}, {158, 159}, {159, 319}, {160, 319},
		{317, 319}, {318, 319}, {319, 479}, {1024, 1119},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PaddedLen(tt.n), "n=%d", tt.n)
	}
}

func TestPadUnpadRoundTrip(t *testing.T) {
	for n := 0; n <= 400; n++ {
		content := bytes.Repeat([]byte{0xab}, n)
		if n > 0 {
			content[n-1] = 0 // content may end in zeros or 0x80: the marker is found from the end
		}
		if n > 1 {
			content[n-2] = 0x80
		}
		p := Pad(content)
		require.Len(t, p, PaddedLen(n))
		assert.Equal(t, byte(0x80), p[n])
		assert.Equal(t, make([]byte, len(p)-n-1), p[n+1:])
		got, err := Unpad(p)
		require.NoError(t, err, "n=%d", n)
		assert.Equal(t, content, got, "n=%d", n)
	}
}

func TestUnpadRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"all zeros", make([]byte, 159)},
		{"no marker", []byte{1, 2, 3, 0, 0}},
		{"other byte last", []byte{0x80, 0x81}},
		{"unpadded content", []byte("hello")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unpad(tt.in)
			assert.ErrorIs(t, err, ErrBadPadding)
			decodeError(t, err)
		})
	}
}

func FuzzUnpad(f *testing.F) {
	f.Add(Pad([]byte("hello")))
	f.Add([]byte{0x80})
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Unpad(b)
		if err != nil {
			if !errors.Is(err, ErrBadPadding) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// What unpads is got || 0x80 || zeros.
		if len(got) >= len(b) || b[len(got)] != 0x80 || !bytes.Equal(b[len(got)+1:], make([]byte, len(b)-len(got)-1)) {
			t.Fatalf("Unpad(%x) = %x is not a prefix before the marker", b, got)
		}
	})
}
