package bencode

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		used int
	}{
		{"i0e", Int, 3},
		{"i-42e", Int, 5},
		{"i9223372036854775807e", Int, 21},
		{"0:", String, 2},
		{"4:spam", String, 6},
		{"le", List, 2},
		{"li1e3:abce", List, 10},
		{"de", Dict, 2},
		{"d0:i1e1:a3:xyz1:dli1eee", Dict, 23},
		{"d1:ai1ee\x00\x00\x00", Dict, 8},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, n, err := Decode([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.kind, v.Kind)
			assert.Equal(t, tt.used, n)
			assert.Equal(t, tt.in[:n], string(AppendValue(nil, v)))
		})
	}
}

func str(s string) Value { return Value{Kind: String, Str: []byte(s)} }

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"zero", Value{Kind: Int}, "i0e"},
		{"negative", Value{Kind: Int, Int: -7}, "i-7e"},
		{"min int", Value{Kind: Int, Int: math.MinInt64}, "i-9223372036854775808e"},
		{"empty string", str(""), "0:"},
		{"binary string", str("\x00e:\xff"), "4:\x00e:\xff"},
		{"empty list", Value{Kind: List}, "le"},
		{"empty dict", Value{Kind: Dict}, "de"},
		{"list", Value{Kind: List, List: []Value{{Kind: Int, Int: 1}, str("ab"), {Kind: List}}}, "li1e2:ablee"},
		{"dict", Value{Kind: Dict, Dict: []Entry{
			{Key: []byte(""), Value: Value{Kind: Int, Int: 1}},
			{Key: []byte("a"), Value: Value{Kind: Dict, Dict: []Entry{{Key: []byte("x"), Value: str("y")}}}},
			{Key: []byte("ab"), Value: Value{Kind: List, List: []Value{str("")}}},
		}}, "d0:i1e1:ad1:x1:ye2:abl0:ee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := AppendValue([]byte("prefix"), tt.v)
			require.Equal(t, "prefix"+tt.want, string(enc))
			got, n, err := Decode(enc[len("prefix"):])
			require.NoError(t, err)
			assert.Equal(t, len(tt.want), n)
			assert.Equal(t, tt.v, got)
		})
	}
	assert.Panics(t, func() { AppendValue(nil, Value{}) }, "a value of no kind has no encoding")
}

func TestDecodeGet(t *testing.T) {
	v, _, err := Decode([]byte("d0:i1e1:a3:xyz1:s2:zze"))
	require.NoError(t, err)
	ver, ok := v.Get("")
	require.True(t, ok)
	assert.EqualValues(t, 1, ver.Int)
	a, ok := v.Get("a")
	require.True(t, ok)
	assert.Equal(t, "xyz", string(a.Str))
	_, ok = v.Get("d")
	assert.False(t, ok)
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrTruncated},
		{"i", ErrTruncated},
		{"i12", ErrTruncated},
		{"ie", ErrSyntax},
		{"i-e", ErrSyntax},
		{"i-0e", ErrSyntax},
		{"i01e", ErrSyntax},
		{"i1x2e", ErrSyntax},
		{"i99999999999999999999e", ErrSyntax},
		{"5:abc", ErrTruncated},
		{"05:abcde", ErrSyntax},
		{"-1:a", ErrSyntax},
		{"3", ErrTruncated},
		{"l", ErrTruncated},
		{"li1e", ErrTruncated},
		{"d", ErrTruncated},
		{"d1:a", ErrTruncated},
		{"di1ei2ee", ErrSyntax},
		{"d1:bi1e1:ai2ee", ErrKeyOrder},
		{"d1:ai1e1:ai2ee", ErrKeyOrder},
		{"x", ErrSyntax},
		{string(bytes.Repeat([]byte("l"), MaxDepth+1)), ErrDepth},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, _, err := Decode([]byte(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var se *wireerr.Error
			assert.True(t, errors.As(err, &se))
		})
	}
}

func TestLengths(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 99, 100, 12345} {
		assert.Equal(t, len(AppendString(nil, make([]byte, n))), StringLen(n), "string of %d", n)
	}
	for _, n := range []int64{0, 1, -1, 10, -99, 1 << 40, math.MinInt64, math.MaxInt64} {
		assert.Equal(t, len(AppendInt(nil, n)), IntLen(n), "int %d", n)
	}
	// Sizes are computed for every message sent: they must not allocate.
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = StringLen(123456) + IntLen(math.MinInt64) }))
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("d0:i1e1:a32:0123456789abcdef0123456789abcdef1:d5:hello1:s64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefe"))
	f.Add([]byte("li1e3:abcd1:xleee"))
	f.Add([]byte("i-12e"))
	f.Add([]byte("d1:bi1e1:ai2ee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Decode(b)
		if err != nil {
			var se *wireerr.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *wireerr.Error", err)
			}
			return
		}
		if n < 1 || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		// The decoder accepts only canonical encodings, so re-encoding gives the same bytes.
		if got := AppendValue(nil, v); !bytes.Equal(got, b[:n]) {
			t.Fatalf("re-encoding %q gave %q", b[:n], got)
		}
	})
}
