// Package wirejson is the one JSON reader of the wire formats: the storage RPC requests and the
// nodes' answers, and the small objects of onion requests (routing, the guard's frame, the
// destination's reply, the v4 request and response headers).
//
// It reads what the storage server's parser (nlohmann json) reads: strict RFC 8259 grammar,
// strings of valid UTF-8 whose \u escapes pair their surrogates, integers told apart as the
// server does (IntKind), and the last of a repeated object key winning (Value.Member). It differs
// in one way: nesting is bounded by MaxDepth, where the server has no bound, so that hostile input
// cannot recurse deeply. It builds a light tree of byte spans in one pass, without reflection and
// without copying strings (a store's data string runs to 100 KB), and the nodes of the simulator
// read every onion hop's JSON with it.
package wirejson

import (
	"errors"
	"math"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// MaxDepth is the deepest nesting of arrays and objects Parse accepts. No client or server of
// the network nests more than a few levels.
const MaxDepth = 512

// Kind is the type of a parsed value.
type Kind uint8

// The value kinds.
const (
	Null Kind = iota
	False
	True
	Number
	String
	Array
	Object
)

var kindNames = enum.Names[Kind]{Type: "Kind", Names: []string{
	Null: "null", False: "boolean", True: "boolean", Number: "number", String: "string",
	Array: "array", Object: "object",
}}

func (k Kind) String() string { return kindNames.Name(k) }

// Value is one parsed value. Raw is the value's exact text (quotes included for strings) and
// aliases Parse's input. Objects keep their Members in document order, arrays their Elems.
type Value struct {
	Kind    Kind
	Raw     []byte
	Members []Member
	Elems   []Value
	escaped bool // strings only: the literal holds backslash escapes
}

// Member is one object member. Key is decoded; it aliases the input unless it has escapes.
type Member struct {
	Key   []byte
	Value Value
}

// Causes of parse failures; test with errors.Is. They arrive wrapped in a *wireerr.Error.
var (
	// ErrSyntax: the text is not JSON (the grammar, an unescaped control character, trailing
	// text after the value).
	ErrSyntax = errors.New("invalid json")
	// ErrUTF8: a string holds bytes that are not UTF-8.
	ErrUTF8 = errors.New("invalid UTF-8 in a string")
	// ErrSurrogate: a \u escape is half of a surrogate pair without the other half.
	ErrSurrogate = errors.New("unpaired surrogate escape")
	// ErrDepth: arrays and objects nest deeper than MaxDepth.
	ErrDepth = errors.New("nesting deeper than wirejson.MaxDepth")
)

// Parse reads a whole document: one value, optionally surrounded by whitespace.
func Parse(data []byte) (Value, error) {
	p := parser{data: data}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return Value{}, p.fail(p.pos, ErrSyntax)
	}
	return v, nil
}

type parser struct {
	data  []byte
	pos   int
	depth int
}

func (p *parser) fail(at int, err error) error {
	return &wireerr.Error{Format: "json", Offset: at, Err: err}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (Value, error) {
	if p.pos >= len(p.data) {
		return Value{}, p.fail(p.pos, ErrSyntax)
	}
	start := p.pos
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.container(Object, '}')
	case c == '[':
		return p.container(Array, ']')
	case c == '"':
		esc, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: String, escaped: esc, Raw: p.data[start:p.pos]}, nil
	case c == 't':
		return p.literal("true", True)
	case c == 'f':
		return p.literal("false", False)
	case c == 'n':
		return p.literal("null", Null)
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return Value{}, err
		}
		return Value{Kind: Number, Raw: p.data[start:p.pos]}, nil
	}
	return Value{}, p.fail(p.pos, ErrSyntax)
}

func (p *parser) literal(word string, k Kind) (Value, error) {
	end := p.pos + len(word)
	if end > len(p.data) || string(p.data[p.pos:end]) != word {
		return Value{}, p.fail(p.pos, ErrSyntax)
	}
	v := Value{Kind: k, Raw: p.data[p.pos:end]}
	p.pos = end
	return v, nil
}

// container reads an object or an array from its opening bracket to the closing one.
func (p *parser) container(k Kind, end byte) (Value, error) {
	start := p.pos
	if p.depth++; p.depth > MaxDepth {
		return Value{}, p.fail(start, ErrDepth)
	}
	defer func() { p.depth-- }()
	p.pos++
	v := Value{Kind: k}
	p.skipSpace()
	// Room for the first few values up front: most objects on the wire have a handful of
	// members, and growing from one costs an allocation per doubling.
	const firstCap = 4
	if p.pos < len(p.data) && p.data[p.pos] == end {
		p.pos++
		v.Raw = p.data[start:p.pos]
		return v, nil
	}
	for {
		if k == Object {
			key, err := p.key()
			if err != nil {
				return Value{}, err
			}
			val, err := p.value()
			if err != nil {
				return Value{}, err
			}
			if v.Members == nil {
				v.Members = make([]Member, 0, firstCap)
			}
			v.Members = append(v.Members, Member{Key: key, Value: val})
		} else {
			e, err := p.value()
			if err != nil {
				return Value{}, err
			}
			if v.Elems == nil {
				v.Elems = make([]Value, 0, firstCap)
			}
			v.Elems = append(v.Elems, e)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Value{}, p.fail(p.pos, ErrSyntax)
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case end:
			p.pos++
			v.Raw = p.data[start:p.pos]
			return v, nil
		default:
			return Value{}, p.fail(p.pos, ErrSyntax)
		}
	}
}

// key reads a member's key and the ':' after it, and returns the decoded key.
func (p *parser) key() ([]byte, error) {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return nil, p.fail(p.pos, ErrSyntax)
	}
	ks := p.pos
	esc, err := p.str()
	if err != nil {
		return nil, err
	}
	key := p.data[ks+1 : p.pos-1]
	if esc {
		key = unescape(nil, key)
	}
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != ':' {
		return nil, p.fail(p.pos, ErrSyntax)
	}
	p.pos++
	p.skipSpace()
	return key, nil
}

// plainByte marks bytes that may appear unescaped in a string without further checks.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans a string literal starting at the opening quote, validating escapes and UTF-8, and
// reports whether it contains escapes.
func (p *parser) str() (escaped bool, err error) {
	d := p.data
	i := p.pos + 1
	for {
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		if i >= len(d) {
			return false, p.fail(i, ErrSyntax)
		}
		switch c := d[i]; {
		case c == '"':
			p.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			n, err := escapeLen(d[i:])
			if err != nil {
				return false, p.fail(i, err)
			}
			i += n
		case c < 0x20:
			return false, p.fail(i, ErrSyntax)
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return false, p.fail(i, ErrUTF8)
			}
			i += size
		}
	}
}

// escapeLen validates the escape sequence at the start of s (s[0] == '\\') and returns its
// length. A high surrogate must be followed by an escaped low surrogate and a low surrogate may
// not stand alone, as the server's parser requires.
func escapeLen(s []byte) (int, error) {
	if len(s) < 2 {
		return 0, ErrSyntax
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			return 0, ErrSyntax
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
				return 0, ErrSurrogate
			}
			lo, ok := hex4(s[8:])
			if !ok {
				return 0, ErrSyntax
			}
			if lo < 0xDC00 || lo > 0xDFFF {
				return 0, ErrSurrogate
			}
			return 12, nil
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, ErrSurrogate
		}
		return 6, nil
	}
	return 0, ErrSyntax
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unescape appends the decoded form of a validated string body (without quotes) to dst.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(s[i+2:])
			if r >= 0xD800 && r <= 0xDBFF {
				lo, _ := hex4(s[i+8:])
				dst = utf8.AppendRune(dst, utf16.DecodeRune(r, lo))
				i += 12
				continue
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return p.fail(i, ErrSyntax)
	}
	if i < len(d) && d[i] == '.' {
		if i = digits(d, i+1); d[i-1] == '.' {
			return p.fail(i, ErrSyntax)
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		if i = digits(d, i); i == start {
			return p.fail(i, ErrSyntax)
		}
	}
	p.pos = i
	return nil
}

// digits returns the index of the first byte at or after i that is not a decimal digit.
func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// Bytes returns a string's decoded bytes; the result aliases the input when the literal has no
// escapes. It is only meaningful for a String.
func (v Value) Bytes() []byte {
	body := v.Raw[1 : len(v.Raw)-1]
	if !v.escaped {
		return body
	}
	return unescape(make([]byte, 0, len(body)), body)
}

// Text is Bytes as a string.
func (v Value) Text() string { return string(v.Bytes()) }

// Bool is the value of true or false; isBool is false for every other kind.
func (v Value) Bool() (b, isBool bool) { return v.Kind == True, v.Kind == True || v.Kind == False }

// IntKind classifies a number as the server's parser does: is_number_unsigned (a literal without
// a minus sign, fraction or exponent that fits in 64 bits), is_number_integer (that, or a negative
// literal that fits in int64); floats are neither.
type IntKind uint8

// The integer kinds.
const (
	NotInteger IntKind = iota
	Unsigned
	Signed
)

// Integer classifies a number and returns its value as the int64 the server's get<int64_t>()
// would produce (unsigned values above MaxInt64 wrap, as a C++ cast does).
func (v Value) Integer() (int64, IntKind) {
	if v.Kind != Number {
		return 0, NotInteger
	}
	digits := v.Raw
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, NotInteger // fraction or exponent: a float
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, NotInteger // too large for 64 bits: the parser falls back to a float
		}
		u = u*10 + d
	}
	if !neg {
		return int64(u), Unsigned
	}
	if u > 1<<63 {
		return 0, NotInteger
	}
	return -int64(u), Signed
}

// Member finds an object's member by key: the last one, as a repeated key keeps its last value.
func (v Value) Member(key string) (Value, bool) {
	for i := len(v.Members) - 1; i >= 0; i-- {
		if string(v.Members[i].Key) == key {
			return v.Members[i].Value, true
		}
	}
	return Value{}, false
}

// UniqueMembers returns an object's members with repeated keys reduced to their last
// occurrence, in document order of those last occurrences.
func (v Value) UniqueMembers() []Member {
	seen := make(map[string]int, len(v.Members))
	for i, m := range v.Members {
		seen[string(m.Key)] = i
	}
	if len(seen) == len(v.Members) {
		return v.Members
	}
	out := make([]Member, 0, len(seen))
	for i, m := range v.Members {
		if seen[string(m.Key)] == i {
			out = append(out, m)
		}
	}
	return out
}

// StringLen is the length of b written as a JSON string by encoding/json without HTML escaping,
// the encoder of the onion replies, computed without writing it: the quotes; \" \\ \b \f \n \r
// \t as two bytes; the other control bytes, U+2028, U+2029 and every byte that is not part of
// valid UTF-8 as six (\u00XX, \u2028, \u2029, \ufffd); everything else as is.
func StringLen[T string | []byte](b T) int {
	n := 2 + len(b)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n++
			case c < 0x20:
				n += 5
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(b[i:min(i+utf8.UTFMax, len(b))]))
		switch {
		case r == utf8.RuneError && size == 1:
			n += 5 // one byte becomes \ufffd
		case r == '\u2028' || r == '\u2029':
			n += 3 // three bytes become six
		}
		i += size
	}
	return n
}
