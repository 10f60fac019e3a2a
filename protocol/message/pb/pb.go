// Package pb is a small hand-written codec for the protobuf wire format (proto2 subset: varint,
// fixed32, fixed64 and length-delimited fields), enough for the Session message types without a
// protobuf dependency.
//
// Encoding appends to a caller's slice and writes fields in the order the caller gives, which for
// the Session types is field-number order, the order protobufjs and the official runtimes use, so
// that our bytes equal the real clients' bytes. Size functions compute encoded lengths without
// building anything, so a message's wire size can be known before it exists.
//
// Decoding never panics and never allocates for the payload: Bytes returns sub-slices of the
// input. Every failure is a *wireerr.Error carrying the offset and one of the sentinel causes below.
package pb

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// WireType is the low three bits of a field key.
type WireType uint8

// The wire types. Groups (3 and 4) are deprecated and rejected by the decoder.
const (
	Varint     WireType = 0
	Fixed64    WireType = 1
	Bytes      WireType = 2
	StartGroup WireType = 3
	EndGroup   WireType = 4
	Fixed32    WireType = 5
)

var wireTypeNames = enum.Names[WireType]{Type: "wiretype", Names: []string{
	Varint: "varint", Fixed64: "fixed64", Bytes: "length-delimited", StartGroup: "start-group",
	EndGroup: "end-group", Fixed32: "fixed32",
}}

func (w WireType) String() string { return wireTypeNames.Name(w) }

// MaxField is the largest field number protobuf allows.
const MaxField = 1<<29 - 1

// Causes of decoding failures; test with errors.Is.
var (
	// ErrTruncated: the input ends inside a key, a value or a length-delimited field.
	ErrTruncated = errors.New("truncated input")
	// ErrOverflow: a varint is longer than 10 bytes or does not fit in 64 bits.
	ErrOverflow = errors.New("varint overflows 64 bits")
	// ErrFieldNumber: a key has field number 0 or above MaxField.
	ErrFieldNumber = errors.New("invalid field number")
	// ErrWireType: a key has an unknown or deprecated (group) wire type, or a known field arrives
	// with a wire type that does not match its declaration.
	ErrWireType = errors.New("unexpected wire type")
)

// SizeVarint is the encoded length of v as a varint (1 to 10 bytes).
func SizeVarint(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// SizeTag is the encoded length of a field key.
func SizeTag(field int) int { return SizeVarint(uint64(field) << 3) }

// SizeUint is the encoded length of a varint field holding v.
func SizeUint(field int, v uint64) int { return SizeTag(field) + SizeVarint(v) }

// SizeBytes is the encoded length of a length-delimited field with n payload bytes.
func SizeBytes(field int, n int) int { return SizeTag(field) + SizeVarint(uint64(n)) + n }

// SizeFixed64 is the encoded length of a fixed64 field.
func SizeFixed64(field int) int { return SizeTag(field) + 8 }

// AppendVarint appends v in base-128 varint form.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendTag appends a field key.
func AppendTag(b []byte, field int, wt WireType) []byte {
	return AppendVarint(b, uint64(field)<<3|uint64(wt))
}

// AppendUint appends a varint field. Negative int32/enum values must be passed sign-extended to
// 64 bits, as protobuf encodes them.
func AppendUint(b []byte, field int, v uint64) []byte {
	return AppendVarint(AppendTag(b, field, Varint), v)
}

// AppendBool appends a bool field.
func AppendBool(b []byte, field int, v bool) []byte {
	var x uint64
	if v {
		x = 1
	}
	return AppendUint(b, field, x)
}

// AppendBytes appends a length-delimited field.
func AppendBytes(b []byte, field int, v []byte) []byte {
	b = AppendVarint(AppendTag(b, field, Bytes), uint64(len(v)))
	return append(b, v...)
}

// AppendString appends a string field.
func AppendString(b []byte, field int, v string) []byte {
	b = AppendVarint(AppendTag(b, field, Bytes), uint64(len(v)))
	return append(b, v...)
}

// AppendFixed64 appends a fixed64 field (little-endian).
func AppendFixed64(b []byte, field int, v uint64) []byte {
	b = AppendTag(b, field, Fixed64)
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// AppendMessage appends a nested message as a length-delimited field: size is its encoded
// length (from its Size method) and enc appends it, so nothing is encoded twice.
func AppendMessage(b []byte, field int, size int, enc func([]byte) []byte) []byte {
	b = AppendVarint(AppendTag(b, field, Bytes), uint64(size))
	return enc(b)
}

// Decoder reads the fields of one message. The zero Decoder reads an empty message.
type Decoder struct {
	buf []byte
	off int
}

// NewDecoder reads the fields of the message encoded in b. b is not copied: values returned by
// Bytes alias it.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Done reports whether every field has been read.
func (d *Decoder) Done() bool { return d.off >= len(d.buf) }

// Offset is the position of the next unread byte.
func (d *Decoder) Offset() int { return d.off }

func (d *Decoder) fail(at int, err error) error {
	return &wireerr.Error{Format: "protobuf", Offset: at, Err: err}
}

func (d *Decoder) varint() (uint64, error) {
	start := d.off
	var v uint64
	for i := 0; i < 10; i++ {
		if d.off >= len(d.buf) {
			return 0, d.fail(start, ErrTruncated)
		}
		c := d.buf[d.off]
		d.off++
		if i == 9 && c > 1 {
			return 0, d.fail(start, ErrOverflow)
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, d.fail(start, ErrOverflow)
}

// Next reads the next field key. Call it only when !Done().
func (d *Decoder) Next() (field int, wt WireType, err error) {
	start := d.off
	k, err := d.varint()
	if err != nil {
		return 0, 0, err
	}
	f := k >> 3
	if f == 0 || f > MaxField {
		return 0, 0, d.fail(start, ErrFieldNumber)
	}
	wt = WireType(k & 7)
	switch wt {
	case Varint, Fixed64, Bytes, Fixed32:
	default:
		return 0, 0, d.fail(start, fmt.Errorf("%w: %v", ErrWireType, wt))
	}
	return int(f), wt, nil
}

// Uint reads a varint value.
func (d *Decoder) Uint() (uint64, error) { return d.varint() }

// Bool reads a varint value as a bool (any non-zero value is true, as in protobuf).
func (d *Decoder) Bool() (bool, error) {
	v, err := d.varint()
	return v != 0, err
}

// Fixed64 reads a little-endian 64-bit value.
func (d *Decoder) Fixed64() (uint64, error) {
	if len(d.buf)-d.off < 8 {
		return 0, d.fail(d.off, ErrTruncated)
	}
	b := d.buf[d.off : d.off+8]
	d.off += 8
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56, nil
}

// Fixed32 reads a little-endian 32-bit value.
func (d *Decoder) Fixed32() (uint32, error) {
	if len(d.buf)-d.off < 4 {
		return 0, d.fail(d.off, ErrTruncated)
	}
	b := d.buf[d.off : d.off+4]
	d.off += 4
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

// Bytes reads a length-delimited value; the result aliases the input.
func (d *Decoder) Bytes() ([]byte, error) {
	start := d.off
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.buf)-d.off) {
		return nil, d.fail(start, ErrTruncated)
	}
	v := d.buf[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return v, nil
}

// Skip reads and discards a value of wire type wt, for fields the caller does not know: newer
// clients add fields, and protobuf readers must step over them.
func (d *Decoder) Skip(wt WireType) error {
	var err error
	switch wt {
	case Varint:
		_, err = d.varint()
	case Fixed64:
		_, err = d.Fixed64()
	case Fixed32:
		_, err = d.Fixed32()
	case Bytes:
		_, err = d.Bytes()
	default:
		err = d.fail(d.off, fmt.Errorf("%w: %v", ErrWireType, wt))
	}
	return err
}

// Expect returns an ErrWireType error when a known field arrives with the wrong wire type.
func (d *Decoder) Expect(field int, got, want WireType) error {
	if got == want {
		return nil
	}
	return d.fail(d.off, fmt.Errorf("%w: field %d is %v, want %v", ErrWireType, field, got, want))
}
