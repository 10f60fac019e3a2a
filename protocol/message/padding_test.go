package message

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaddedLen(t *testing.T) {
	// libsession: 160*ceil((n+2)/160) (pad_message); legacy: one byte less, the 2024 clients'
	// getPaddedMessageLength(n+1) - 1.
	tests := []struct{ n, libsession, legacy int }{
		{0, 160, 159}, {1, 160, 159}, {157, 160, 159}, {158, 160, 159}, {159, 320, 319}, {160, 320, 319},
		{317, 320, 319}, {318, 320, 319}, {319, 480, 479}, {1024, 1120, 1119},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.libsession, Libsession.PaddedLen(tt.n), "libsession n=%d", tt.n)
		assert.Equal(t, tt.legacy, Legacy.PaddedLen(tt.n), "legacy n=%d", tt.n)
	}
}

func TestPadUnpadRoundTrip(t *testing.T) {
	for _, enc := range encodings {
		for n := 0; n <= 400; n++ {
			content := bytes.Repeat([]byte{0xab}, n)
			if n > 0 {
				content[n-1] = 0 // content may end in zeros or 0x80: the marker is found from the end
			}
			if n > 1 {
				content[n-2] = 0x80
			}
			p := enc.Pad(content)
			require.Len(t, p, enc.PaddedLen(n))
			assert.Equal(t, byte(0x80), p[n])
			assert.Equal(t, make([]byte, len(p)-n-1), p[n+1:])
			by, ok := PaddedBy(len(p))
			assert.True(t, ok)
			assert.Equal(t, enc, by, "n=%d", n)
			got, err := Unpad(p)
			require.NoError(t, err, "%v n=%d", enc, n)
			assert.Equal(t, content, got, "%v n=%d", enc, n)
		}
	}
}

func TestPaddedBy(t *testing.T) {
	tests := []struct {
		n    int
		want Encoding
		ok   bool
	}{
		{160, Libsession, true}, {320, Libsession, true}, {159, Legacy, true}, {479, Legacy, true},
		{0, 0, false}, {5, 0, false}, {161, 0, false}, {318, 0, false},
	}
	for _, tt := range tests {
		got, ok := PaddedBy(tt.n)
		assert.Equal(t, tt.ok, ok, "n=%d", tt.n)
		if tt.ok {
			assert.Equal(t, tt.want, got, "n=%d", tt.n)
		}
	}
}

// Unpad reports malformed padding but still returns what libsession's unpad_message keeps.
func TestUnpadMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"empty", nil, []byte{}},
		{"all zeros", make([]byte, 159), []byte{}},
		{"zeros without marker", []byte{1, 2, 3, 0, 0}, []byte{1, 2, 3}},
		{"other byte last", []byte{0x80, 0x81}, []byte{0x80, 0x81}},
		{"unpadded content", []byte("hello"), []byte("hello")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unpad(tt.in)
			assert.ErrorIs(t, err, ErrBadPadding)
			assert.Equal(t, "padding", decodeError(t, err).Layer)
			assert.Equal(t, string(tt.want), string(got))
		})
	}
}

func FuzzUnpad(f *testing.F) {
	f.Add(Libsession.Pad([]byte("hello")))
	f.Add(Legacy.Pad([]byte("hello")))
	f.Add([]byte{0x80})
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Unpad(b)
		if len(got) > len(b) || !bytes.Equal(got, b[:len(got)]) {
			t.Fatalf("Unpad(%x) = %x is not a prefix", b, got)
		}
		rest := b[len(got):]
		if err != nil {
			if !errors.Is(err, ErrBadPadding) {
				t.Fatalf("unexpected error %v", err)
			}
			// What is kept is all but trailing zeros, ending in a byte that is not the marker.
			if !bytes.Equal(rest, make([]byte, len(rest))) || (len(got) > 0 && got[len(got)-1] == 0x80) {
				t.Fatalf("Unpad(%x) kept %x after a padding error", b, got)
			}
			return
		}
		// What unpads is got || 0x80 || zeros.
		if len(rest) == 0 || rest[0] != 0x80 || !bytes.Equal(rest[1:], make([]byte, len(rest)-1)) {
			t.Fatalf("Unpad(%x) = %x is not a prefix before the marker", b, got)
		}
	})
}
