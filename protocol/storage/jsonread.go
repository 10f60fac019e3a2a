package storage

import (
	"errors"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small JSON reader shaped after the parser the storage server uses (nlohmann
// json): strict RFC 8259 grammar, strings must be valid UTF-8 with valid surrogate pairs in \u
// escapes, integers are "unsigned" when written without a minus sign and they fit in 64 bits,
// "signed" when negative and they fit, and floating point otherwise; a repeated object key keeps
// its last value. It builds a light tree of byte spans in one pass so that a request is read
// without reflection and without copying its (possibly 100 KB) data string.

// maxDepth bounds nesting so that hostile input cannot exhaust the stack. The real server has no
// limit; no client nests anywhere near this deep.
const maxDepth = 512

type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNumber
	jString
	jArray
	jObject
)

// jvalue is one parsed JSON value. raw spans the value's exact bytes (quotes included for
// strings). Objects keep their members in document order; arrays their elements.
type jvalue struct {
	kind    jkind
	escaped bool // strings only: the literal contains backslash escapes
	raw     []byte
	members []jmember
	elems   []jvalue
}

type jmember struct {
	key []byte // decoded key
	val jvalue
}

var errJSON = errors.New("invalid json")

type jparser struct {
	data  []byte
	pos   int
	depth int
}

// parseJSON parses a whole document: one value, optionally surrounded by whitespace.
func parseJSON(data []byte) (jvalue, error) {
	p := jparser{data: data}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return jvalue{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return jvalue{}, errJSON
	}
	return v, nil
}

func (p *jparser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value() (jvalue, error) {
	if p.pos >= len(p.data) {
		return jvalue{}, errJSON
	}
	start := p.pos
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		esc, err := p.str()
		if err != nil {
			return jvalue{}, err
		}
		return jvalue{kind: jString, escaped: esc, raw: p.data[start:p.pos]}, nil
	case c == 't':
		return p.literal("true", jTrue)
	case c == 'f':
		return p.literal("false", jFalse)
	case c == 'n':
		return p.literal("null", jNull)
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return jvalue{}, err
		}
		return jvalue{kind: jNumber, raw: p.data[start:p.pos]}, nil
	}
	return jvalue{}, errJSON
}

func (p *jparser) literal(word string, k jkind) (jvalue, error) {
	end := p.pos + len(word)
	if end > len(p.data) || string(p.data[p.pos:end]) != word {
		return jvalue{}, errJSON
	}
	v := jvalue{kind: k, raw: p.data[p.pos:end]}
	p.pos = end
	return v, nil
}

func (p *jparser) object() (jvalue, error) {
	start := p.pos
	p.pos++ // '{'
	if p.depth++; p.depth > maxDepth {
		return jvalue{}, errJSON
	}
	defer func() { p.depth-- }()
	v := jvalue{kind: jObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		v.raw = p.data[start:p.pos]
		return v, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return jvalue{}, errJSON
		}
		ks := p.pos
		esc, err := p.str()
		if err != nil {
			return jvalue{}, err
		}
		key := p.data[ks+1 : p.pos-1]
		if esc {
			key = unescape(nil, key)
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return jvalue{}, errJSON
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return jvalue{}, err
		}
		v.members = append(v.members, jmember{key: key, val: val})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return jvalue{}, errJSON
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			v.raw = p.data[start:p.pos]
			return v, nil
		default:
			return jvalue{}, errJSON
		}
	}
}

func (p *jparser) array() (jvalue, error) {
	start := p.pos
	p.pos++ // '['
	if p.depth++; p.depth > maxDepth {
		return jvalue{}, errJSON
	}
	defer func() { p.depth-- }()
	v := jvalue{kind: jArray}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		v.raw = p.data[start:p.pos]
		return v, nil
	}
	for {
		e, err := p.value()
		if err != nil {
			return jvalue{}, err
		}
		v.elems = append(v.elems, e)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return jvalue{}, errJSON
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			v.raw = p.data[start:p.pos]
			return v, nil
		default:
			return jvalue{}, errJSON
		}
	}
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
func (p *jparser) str() (escaped bool, err error) {
	d := p.data
	i := p.pos + 1
	for {
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		if i >= len(d) {
			return false, errJSON
		}
		switch c := d[i]; {
		case c == '"':
			p.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			n, ok := escapeLen(d[i:])
			if !ok {
				return false, errJSON
			}
			i += n
		case c < 0x20:
			return false, errJSON
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return false, errJSON
			}
			i += size
		}
	}
}

// escapeLen validates the escape sequence at the start of s (s[0] == '\\') and returns its
// length. A high surrogate must be followed by an escaped low surrogate and a low surrogate may
// not stand alone, as the server's parser requires.
func escapeLen(s []byte) (int, bool) {
	if len(s) < 2 {
		return 0, false
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			return 0, false
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
				return 0, false
			}
			lo, ok := hex4(s[8:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return 0, false
			}
			return 12, true
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, false
		}
		return 6, true
	}
	return 0, false
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
func (p *jparser) number() error {
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return errJSON
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return errJSON
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return errJSON
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return nil
}

// Accessors. They follow the server's type tests: is_string, is_boolean, is_number_unsigned
// (a non-negative integer literal that fits in 64 bits), is_number_integer (unsigned or a
// negative literal that fits in int64), with floats being neither.

// strBytes returns a string's decoded bytes; the result aliases the input when the literal has
// no escapes.
func (v jvalue) strBytes() []byte {
	body := v.raw[1 : len(v.raw)-1]
	if !v.escaped {
		return body
	}
	return unescape(make([]byte, 0, len(body)), body)
}

func (v jvalue) str() string { return string(v.strBytes()) }

// intKind classifies a number as the server's parser does.
type intKind uint8

const (
	notInteger intKind = iota
	unsignedInt
	signedInt
)

// integer classifies a number and returns its value as the int64 the server's get<int64_t>()
// would produce (unsigned values above MaxInt64 wrap, as a C++ cast does).
func (v jvalue) integer() (int64, intKind) {
	if v.kind != jNumber {
		return 0, notInteger
	}
	digits := v.raw
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, notInteger // fraction or exponent: a float
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, notInteger // too large for 64 bits: the parser falls back to a float
		}
		u = u*10 + d
	}
	if !neg {
		return int64(u), unsignedInt
	}
	if u > 1<<63 {
		return 0, notInteger
	}
	return -int64(u), signedInt
}

// member finds the last member with the given key, as a repeated key keeps its last value.
func (v jvalue) member(key string) (jvalue, bool) {
	for i := len(v.members) - 1; i >= 0; i-- {
		if string(v.members[i].key) == key {
			return v.members[i].val, true
		}
	}
	return jvalue{}, false
}

// field is member with null treated as absent, as the server's field loader does.
func (v jvalue) field(key string) (jvalue, bool) {
	f, ok := v.member(key)
	if !ok || f.kind == jNull {
		return jvalue{}, false
	}
	return f, true
}

// uniqueMembers returns an object's members with repeated keys reduced to their last
// occurrence, in document order of those last occurrences.
func (v jvalue) uniqueMembers() []jmember {
	seen := make(map[string]int, len(v.members))
	for i, m := range v.members {
		seen[string(m.key)] = i
	}
	if len(seen) == len(v.members) {
		return v.members
	}
	out := make([]jmember, 0, len(seen))
	for i, m := range v.members {
		if seen[string(m.key)] == i {
			out = append(out, m)
		}
	}
	return out
}
