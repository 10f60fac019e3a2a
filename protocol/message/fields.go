package message

import (
	"fmt"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
)

// The protobuf messages of this package are described as field tables: each field is declared
// once, with its number, its wire type, where it lives in the Go struct and when it is written,
// and the table sizes, encodes and decodes the message from that. A message's size, its
// encoding and its decoder therefore cannot disagree about a field.

// field is one field of message type M. Decoding reads the value by the field's wire type and
// hands it to set: a varint or fixed64 field gets n, a length-delimited one raw (aliasing the
// input), so the decoder itself never passes through a func value and stays on the stack.
type field[M any] struct {
	num    int
	wt     pb.WireType
	size   func(m *M) int
	append func(b []byte, m *M) []byte
	set    func(m *M, n uint64, raw []byte) error
	// required names the field in the ErrMissingField error of a message that lacks it; "" for
	// an optional field.
	required string
}

// require marks f as one a decoded message must carry, name being its name in the .proto.
func (f field[M]) require(name string) field[M] {
	f.required = fmt.Sprintf("%s (%d)", name, f.num)
	return f
}

// fields is the table of message type M, in field-number order: the order the clients write
// fields in, so that encodings are byte for byte theirs. At most 64 fields (decode's seen mask).
type fields[M any] struct {
	// layer names the message in DecodeErrors.
	layer string
	list  []field[M]
}

func (fs *fields[M]) size(m *M) int {
	n := 0
	for i := range fs.list {
		n += fs.list[i].size(m)
	}
	return n
}

func (fs *fields[M]) appendTo(b []byte, m *M) []byte {
	for i := range fs.list {
		b = fs.list[i].append(b, m)
	}
	return b
}

// decode reads the message in b into m. Unknown fields are skipped; a known field that repeats
// is read again (the last one wins: simpler than protobuf's merging of repeated non-repeated
// message fields, and as safe, as no client sends one twice). Every failure is a DecodeError.
func (fs *fields[M]) decode(b []byte, m *M) error {
	var seen uint64 // bit i: fs.list[i] was read
	d := pb.NewDecoder(b)
	err := eachField(fs.layer, d, func(num int, wt pb.WireType) error {
		i := fs.index(num)
		if i < 0 {
			return d.Skip(wt)
		}
		f := &fs.list[i]
		if err := d.Expect(num, wt, f.wt); err != nil {
			return err
		}
		var (
			n   uint64
			raw []byte
			err error
		)
		switch f.wt {
		case pb.Varint:
			n, err = d.Uint()
		case pb.Fixed64:
			n, err = d.Fixed64()
		case pb.Bytes:
			raw, err = d.Bytes()
		}
		if err != nil {
			return err
		}
		seen |= 1 << i
		return f.set(m, n, raw)
	})
	if err != nil {
		return err
	}
	for i := range fs.list {
		if f := &fs.list[i]; f.required != "" && seen&(1<<i) == 0 {
			return decodeErr(fs.layer, fmt.Errorf("%w: %s", ErrMissingField, f.required))
		}
	}
	return nil
}

func (fs *fields[M]) index(num int) int {
	for i := range fs.list {
		if fs.list[i].num == num {
			return i
		}
	}
	return -1
}

// eachField calls field for every field left in d, in order, and returns the first error as a
// DecodeError of layer; a nested message's DecodeError passes through as it is, so the error
// names the innermost layer that failed. field reads the value through d, which the caller
// shares with it by closure: a decoder passed through the func value would escape to the heap.
func eachField(layer string, d *pb.Decoder, field func(f int, wt pb.WireType) error) error {
	for !d.Done() {
		f, wt, err := d.Next()
		if err == nil {
			err = field(f, wt)
		}
		if err != nil {
			return decodeErr(layer, err)
		}
	}
	return nil
}

// The field kinds. Each takes the field number and at, which points into the message; "opt"
// kinds are written only when not zero or empty, which is how the real clients leave unset
// fields out, and decode an empty value as the zero value so that decoding and re-encoding give
// equal values.

// optString is a string field written when non-empty.
func optString[M any](num int, at func(*M) *string) field[M] {
	return field[M]{
		num: num, wt: pb.Bytes,
		size:   func(m *M) int { return sizeString(num, *at(m)) },
		append: func(b []byte, m *M) []byte { return appendString(b, num, *at(m)) },
		set:    func(m *M, _ uint64, raw []byte) error { *at(m) = string(raw); return nil },
	}
}

// stringAlways is a string field written even when empty (fields the clients set explicitly).
func stringAlways[M any](num int, at func(*M) *string) field[M] {
	f := optString(num, at)
	f.size = func(m *M) int { return pb.SizeBytes(num, len(*at(m))) }
	f.append = func(b []byte, m *M) []byte { return pb.AppendString(b, num, *at(m)) }
	return f
}

// optBytes is a bytes field written when non-empty; decoded, it aliases the input.
func optBytes[M any](num int, at func(*M) *[]byte) field[M] {
	return field[M]{
		num: num, wt: pb.Bytes,
		size:   func(m *M) int { return sizeBytesOpt(num, *at(m)) },
		append: func(b []byte, m *M) []byte { return appendBytesOpt(b, num, *at(m)) },
		set: func(m *M, _ uint64, raw []byte) error {
			if len(raw) == 0 {
				raw = nil
			}
			*at(m) = raw
			return nil
		},
	}
}

// optUint is a varint field written when non-zero. A decoded value is truncated to T, as the
// clients' 32-bit fields are.
func optUint[M any, T ~uint32 | ~uint64](num int, at func(*M) *T) field[M] {
	f := uintAlways(num, at)
	f.size = func(m *M) int { return sizeUintOpt(num, uint64(*at(m))) }
	f.append = func(b []byte, m *M) []byte { return appendUintOpt(b, num, uint64(*at(m))) }
	return f
}

// uintAlways is a varint field written even when zero (required fields, and those the clients
// set explicitly).
func uintAlways[M any, T ~uint32 | ~uint64](num int, at func(*M) *T) field[M] {
	return field[M]{
		num: num, wt: pb.Varint,
		size:   func(m *M) int { return pb.SizeUint(num, uint64(*at(m))) },
		append: func(b []byte, m *M) []byte { return pb.AppendUint(b, num, uint64(*at(m))) },
		set:    func(m *M, n uint64, _ []byte) error { *at(m) = T(n); return nil },
	}
}

// fixed64Always is a fixed64 field written even when zero.
func fixed64Always[M any](num int, at func(*M) *uint64) field[M] {
	return field[M]{
		num: num, wt: pb.Fixed64,
		size:   func(*M) int { return pb.SizeFixed64(num) },
		append: func(b []byte, m *M) []byte { return pb.AppendFixed64(b, num, *at(m)) },
		set:    func(m *M, n uint64, _ []byte) error { *at(m) = n; return nil },
	}
}

// optMessage is an embedded message of table sub, written when the pointer is not nil.
func optMessage[M, S any](num int, at func(*M) **S, sub *fields[S]) field[M] {
	return field[M]{
		num: num, wt: pb.Bytes,
		size: func(m *M) int {
			if s := *at(m); s != nil {
				return pb.SizeBytes(num, sub.size(s))
			}
			return 0
		},
		append: func(b []byte, m *M) []byte {
			if s := *at(m); s != nil {
				b = sub.appendMessage(b, num, s)
			}
			return b
		},
		set: func(m *M, _ uint64, raw []byte) error {
			s := new(S)
			*at(m) = s
			return sub.decode(raw, s)
		},
	}
}

// repeatedMessage is a repeated embedded message of table sub, one field per element.
func repeatedMessage[M, S any](num int, at func(*M) *[]S, sub *fields[S]) field[M] {
	return field[M]{
		num: num, wt: pb.Bytes,
		size: func(m *M) int {
			n := 0
			for i := range *at(m) {
				n += pb.SizeBytes(num, sub.size(&(*at(m))[i]))
			}
			return n
		},
		append: func(b []byte, m *M) []byte {
			for i := range *at(m) {
				b = sub.appendMessage(b, num, &(*at(m))[i])
			}
			return b
		},
		set: func(m *M, _ uint64, raw []byte) error {
			var s S
			if err := sub.decode(raw, &s); err != nil {
				return err
			}
			*at(m) = append(*at(m), s)
			return nil
		},
	}
}

// appendMessage appends s as field num of an enclosing message.
func (fs *fields[M]) appendMessage(b []byte, num int, s *M) []byte {
	return pb.AppendMessage(b, num, fs.size(s), func(b []byte) []byte { return fs.appendTo(b, s) })
}

func sizeString(field int, s string) int {
	if s == "" {
		return 0
	}
	return pb.SizeBytes(field, len(s))
}

func sizeBytesOpt(field int, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return pb.SizeBytes(field, len(b))
}

func sizeUintOpt(field int, v uint64) int {
	if v == 0 {
		return 0
	}
	return pb.SizeUint(field, v)
}

func appendString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	return pb.AppendString(b, field, s)
}

func appendBytesOpt(b []byte, field int, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return pb.AppendBytes(b, field, v)
}

func appendUintOpt(b []byte, field int, v uint64) []byte {
	if v == 0 {
		return b
	}
	return pb.AppendUint(b, field, v)
}
