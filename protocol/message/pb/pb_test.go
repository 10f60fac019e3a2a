package pb

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

func TestVarintRoundTrip(t *testing.T) {
	tests := []struct {
		v    uint64
		wire []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x01}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{300, []byte{0xac, 0x02}},
		{1<<35 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x7f}},
		{math.MaxUint64, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tt := range tests {
		got := AppendVarint(nil, tt.v)
		assert.Equal(t, tt.wire, got, "encoding %d", tt.v)
		assert.Equal(t, len(tt.wire), SizeVarint(tt.v), "size of %d", tt.v)
		d := NewDecoder(got)
		v, err := d.Uint()
		require.NoError(t, err)
		assert.Equal(t, tt.v, v)
		assert.True(t, d.Done())
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	var b []byte
	b = AppendUint(b, 1, 6)
	b = AppendString(b, 2, "hello")
	b = AppendFixed64(b, 3, 0x0102030405060708)
	b = AppendBytes(b, 100, []byte{0xde, 0xad})
	b = AppendBool(b, 5, true)
	want := SizeUint(1, 6) + SizeBytes(2, 5) + SizeFixed64(3) + SizeBytes(100, 2) + SizeUint(5, 1)
	require.Equal(t, want, len(b))

	d := NewDecoder(b)
	assert.Equal(t, Varint, nextField(t, d, 1))
	v, err := d.Uint()
	require.NoError(t, err)
	assert.EqualValues(t, 6, v)

	assert.Equal(t, Bytes, nextField(t, d, 2))
	s, err := d.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(s))

	require.NoError(t, d.Expect(3, nextField(t, d, 3), Fixed64))
	x, err := d.Fixed64()
	require.NoError(t, err)
	assert.EqualValues(t, 0x0102030405060708, x)

	require.NoError(t, d.Skip(nextField(t, d, 100)))

	nextField(t, d, 5)
	ok, err := d.Bool()
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, d.Done())
}

// nextField reads the next field key, which must be field want's, and returns its wire type.
func nextField(t *testing.T, d *Decoder, want int) WireType {
	t.Helper()
	f, wt, err := d.Next()
	require.NoError(t, err)
	require.Equal(t, want, f)
	return wt
}

func TestDecoderErrors(t *testing.T) {
	readKey := func(d *Decoder) error { _, _, err := d.Next(); return err }
	tests := []struct {
		name string
		in   []byte
		read func(d *Decoder) error
		want error
	}{
		{"truncated key", []byte{0x80}, readKey, ErrTruncated},
		{"field zero", []byte{0x00}, readKey, ErrFieldNumber},
		{"start group", []byte{0x0b}, readKey, ErrWireType},
		{"end group", []byte{0x0c}, readKey, ErrWireType},
		{"wire type 6", []byte{0x0e}, readKey, ErrWireType},
		{"field too large", AppendVarint(nil, uint64(MaxField+1)<<3), readKey, ErrFieldNumber},
		{"varint 11 bytes", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, func(d *Decoder) error { _, err := d.Uint(); return err }, ErrOverflow},
		{"varint bit 64", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, func(d *Decoder) error { _, err := d.Uint(); return err }, ErrOverflow},
		{"bytes past end", []byte{0x05, 'a', 'b'}, func(d *Decoder) error { _, err := d.Bytes(); return err }, ErrTruncated},
		{"bytes huge length", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, func(d *Decoder) error { _, err := d.Bytes(); return err }, ErrTruncated},
		{"fixed64 short", []byte{1, 2, 3}, func(d *Decoder) error { _, err := d.Fixed64(); return err }, ErrTruncated},
		{"fixed32 short", []byte{1, 2, 3}, func(d *Decoder) error { _, err := d.Fixed32(); return err }, ErrTruncated},
		{"expect mismatch", nil, func(d *Decoder) error { return d.Expect(1, Bytes, Varint) }, ErrWireType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(NewDecoder(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var pe *wireerr.Error
			assert.True(t, errors.As(err, &pe), "error is a *wireerr.Error")
		})
	}
}

// walk reads every field of b generically, recursing into length-delimited values that parse
// as messages, as a decoder of unknown input would.
func walk(b []byte, depth int) error {
	d := NewDecoder(b)
	for !d.Done() {
		_, wt, err := d.Next()
		if err != nil {
			return err
		}
		if wt == Bytes && depth < 8 {
			inner, err := d.Bytes()
			if err != nil {
				return err
			}
			_ = walk(inner, depth+1)
			continue
		}
		if err := d.Skip(wt); err != nil {
			return err
		}
	}
	return nil
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x08, 0x06, 0x28, 0x01, 0x42, 0x02, 0xaa, 0xbb})
	f.Add([]byte{0x0a, 0x04, 0x0a, 0x02, 'h', 'i', 0x78, 0x01})
	f.Add([]byte{0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := walk(b, 0)
		if err != nil {
			var pe *wireerr.Error
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(b) {
				t.Fatalf("error %v is not a *wireerr.Error with an offset inside the input", err)
			}
		}
	})
}
