// Package bencode reads and writes the bencoding ("bt" format) of the Session wire formats: the
// dict relays pass between onion hops, the lists of v4 onion requests and responses, the
// plaintext of new-group messages and the swarm-forwarded storage requests (whose sizes are
// computed with StringLen and IntLen). Values are integers i<n>e, byte strings <len>:<bytes>,
// lists l...e and dictionaries d...e with keys in ascending byte order.
//
// There is one decoder, Decode, and it is strict (canonical integers and lengths, strictly
// ascending unique dictionary keys at every level, at most MaxDepth levels of nesting), because
// readers of the format (oxenc's bt_dict_consumer) look keys up by walking them in order and would
// silently miss keys in any other order. Writers append to a byte slice: AppendInt and
// AppendString for the fixed layouts the protocol writes field by field, AppendValue for a whole
// decoded value.
package bencode

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// MaxDepth bounds the nesting of lists and dictionaries the decoder accepts.
const MaxDepth = 64

// Kind is the type of a decoded value.
type Kind uint8

// The value kinds.
const (
	Int Kind = iota + 1
	String
	List
	Dict
)

var kindNames = enum.Names[Kind]{Type: "Kind", Names: []string{Int: "integer", String: "string", List: "list", Dict: "dict"}}

func (k Kind) String() string { return kindNames.Name(k) }

// Value is one decoded value. Str aliases the decoder's input.
type Value struct {
	Kind Kind
	Int  int64
	Str  []byte
	List []Value
	Dict []Entry // in ascending key order
}

// Entry is one dictionary item.
type Entry struct {
	Key   []byte
	Value Value
}

// Get returns the value stored under key in a dictionary.
func (v *Value) Get(key string) (*Value, bool) {
	for i := range v.Dict {
		if string(v.Dict[i].Key) == key {
			return &v.Dict[i].Value, true
		}
	}
	return nil, false
}

// Causes of decoding failures; test with errors.Is. They arrive wrapped in a *wireerr.Error.
var (
	ErrTruncated = errors.New("truncated input")
	ErrSyntax    = errors.New("invalid syntax")
	ErrKeyOrder  = errors.New("dictionary keys not in strictly ascending order")
	ErrDepth     = errors.New("nesting too deep")
)

// Decode reads one value from the start of b and returns it with the number of bytes it took;
// what follows is the caller's (new-group messages are followed by zero padding).
func Decode(b []byte) (Value, int, error) {
	d := decoder{buf: b}
	v, err := d.value(0)
	return v, d.off, err
}

type decoder struct {
	buf []byte
	off int
}

func (d *decoder) fail(at int, err error, detail string) error {
	if detail != "" {
		err = fmt.Errorf("%w: %s", err, detail)
	}
	return &wireerr.Error{Format: "bencode", Offset: at, Err: err}
}

func (d *decoder) value(depth int) (Value, error) {
	if d.off >= len(d.buf) {
		return Value{}, d.fail(d.off, ErrTruncated, "")
	}
	switch c := d.buf[d.off]; {
	case c == 'i':
		d.off++
		n, err := d.integer('e', true)
		return Value{Kind: Int, Int: n}, err
	case c >= '0' && c <= '9':
		s, err := d.str()
		return Value{Kind: String, Str: s}, err
	case c == 'l', c == 'd':
		if depth >= MaxDepth {
			return Value{}, d.fail(d.off, ErrDepth, fmt.Sprintf("more than %d levels", MaxDepth))
		}
		d.off++
		if c == 'l' {
			return d.list(depth)
		}
		return d.dict(depth)
	default:
		return Value{}, d.fail(d.off, ErrSyntax, fmt.Sprintf("unexpected byte 0x%02x", c))
	}
}

func (d *decoder) list(depth int) (Value, error) {
	v := Value{Kind: List}
	for {
		if d.off >= len(d.buf) {
			return v, d.fail(d.off, ErrTruncated, "list not closed")
		}
		if d.buf[d.off] == 'e' {
			d.off++
			return v, nil
		}
		item, err := d.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.List = append(v.List, item)
	}
}

func (d *decoder) dict(depth int) (Value, error) {
	v := Value{Kind: Dict}
	for {
		if d.off >= len(d.buf) {
			return v, d.fail(d.off, ErrTruncated, "dict not closed")
		}
		c := d.buf[d.off]
		if c == 'e' {
			d.off++
			return v, nil
		}
		if c < '0' || c > '9' {
			return v, d.fail(d.off, ErrSyntax, "dictionary key is not a string")
		}
		at := d.off
		k, err := d.str()
		if err != nil {
			return v, err
		}
		if n := len(v.Dict); n > 0 && bytes.Compare(v.Dict[n-1].Key, k) >= 0 {
			return v, d.fail(at, ErrKeyOrder, fmt.Sprintf("%q after %q", k, v.Dict[n-1].Key))
		}
		item, err := d.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.Dict = append(v.Dict, Entry{Key: k, Value: item})
	}
}

// integer reads a canonical decimal up to the terminator: no leading zeros, no "-0", no empty
// digits, and a sign only where signed.
func (d *decoder) integer(term byte, signed bool) (int64, error) {
	start := d.off
	end := bytes.IndexByte(d.buf[d.off:], term)
	if end < 0 {
		return 0, d.fail(start, ErrTruncated, "number not terminated")
	}
	digits := d.buf[start : start+end]
	neg := signed && len(digits) > 0 && digits[0] == '-'
	body := digits
	if neg {
		body = digits[1:]
	}
	if len(body) == 0 || (body[0] == '0' && (len(body) > 1 || neg)) {
		return 0, d.fail(start, ErrSyntax, fmt.Sprintf("non-canonical number %q", digits))
	}
	for _, c := range body {
		if c < '0' || c > '9' {
			return 0, d.fail(start, ErrSyntax, fmt.Sprintf("non-digit in number %q", digits))
		}
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, d.fail(start, ErrSyntax, fmt.Sprintf("number %q out of range", digits))
	}
	d.off = start + end + 1
	return n, nil
}

func (d *decoder) str() ([]byte, error) {
	start := d.off
	n, err := d.integer(':', false)
	if err != nil {
		return nil, err
	}
	if n > int64(len(d.buf)-d.off) {
		d.off = start
		return nil, d.fail(start, ErrTruncated, fmt.Sprintf("string of %d bytes, %d left", n, len(d.buf)-start))
	}
	s := d.buf[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

// AppendValue appends v's encoding. Dict entries are written in the order given; Decode returns
// them in the ascending order the format requires.
func AppendValue(b []byte, v Value) []byte {
	switch v.Kind {
	case Int:
		return AppendInt(b, v.Int)
	case String:
		return AppendString(b, v.Str)
	case List:
		b = append(b, 'l')
		for _, x := range v.List {
			b = AppendValue(b, x)
		}
		return append(b, 'e')
	case Dict:
		b = append(b, 'd')
		for _, e := range v.Dict {
			b = AppendString(b, e.Key)
			b = AppendValue(b, e.Value)
		}
		return append(b, 'e')
	}
	panic(fmt.Sprintf("bencode: appending a value of %v", v.Kind))
}

// AppendInt appends i<n>e.
func AppendInt(b []byte, n int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, 'e')
}

// AppendString appends <len>:<s>.
func AppendString(b []byte, s []byte) []byte {
	return append(AppendStringHeader(b, len(s)), s...)
}

// AppendStringHeader appends the <n>: that starts an n-byte string, for a caller that writes
// the string's bytes itself (a sealed box written in place).
func AppendStringHeader(b []byte, n int) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ':')
}

// StringLen is the encoded length of an n-byte string.
func StringLen(n int) int { return digits(int64(n)) + 1 + n }

// IntLen is the encoded length of an integer.
func IntLen(n int64) int { return digits(n) + 2 }

// digits is the length of n in decimal. It formats into a stack buffer rather than a string
// because sizes are computed for every message sent.
func digits(n int64) int {
	var b [20]byte // len("-9223372036854775808")
	return len(strconv.AppendInt(b[:0], n, 10))
}
