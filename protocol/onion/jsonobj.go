package onion

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Every hop parses a small JSON object, so this is on the hot path of the simulator: one pass
// that validates the JSON and finds the object's top-level members, keeping their values raw,
// costs a fraction of decoding into a map (or even of json.Valid). Keys match case-sensitively, as
// in the storage server's parser (encoding/json's struct matching would not), a repeated key
// takes its last value, as there, and invalid UTF-8 is refused, as there.

// jsonMember is one top-level member of an object; raw is its value's JSON text.
type jsonMember struct {
	key []byte
	raw []byte
}

type jsonObj []jsonMember

// maxJSONDepth is encoding/json's nesting limit, so both accept the same documents.
const maxJSONDepth = 10000

// parseObject checks that b is exactly one JSON object (whitespace around it allowed) and splits
// it into members. Keys and raw values alias b unless a key has escapes.
func parseObject(b []byte) (jsonObj, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("json: invalid UTF-8")
	}
	sc := jsonScanner{b: b}
	sc.space()
	if !sc.next('{') {
		return nil, sc.fail("an object")
	}
	obj := make(jsonObj, 0, 8)
	sc.space()
	if !sc.next('}') {
		for {
			start := sc.i
			escaped, ok := sc.str()
			if !ok {
				return nil, sc.fail("a string key")
			}
			key := b[start+1 : sc.i-1]
			if escaped {
				var k string
				if err := json.Unmarshal(b[start:sc.i], &k); err != nil {
					return nil, fmt.Errorf("json: key: %w", err)
				}
				key = []byte(k)
			}
			sc.space()
			if !sc.next(':') {
				return nil, sc.fail("':'")
			}
			sc.space()
			start = sc.i
			if !sc.value() {
				return nil, sc.fail("a value")
			}
			obj = append(obj, jsonMember{key: key, raw: b[start:sc.i]})
			sc.space()
			if sc.next('}') {
				break
			}
			if !sc.next(',') {
				return nil, sc.fail("',' or '}'")
			}
			sc.space()
		}
	}
	sc.space()
	if sc.i != len(b) {
		return nil, sc.fail("the end")
	}
	return obj, nil
}

// get returns the raw value of key; the last one when the key repeats.
func (o jsonObj) get(key string) ([]byte, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == key {
			return o[i].raw, true
		}
	}
	return nil, false
}

// jsonScanner validates JSON (RFC 8259 grammar) as it moves through b.
type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

func (s *jsonScanner) fail(want string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("json: unexpected end, want %s", want)
	}
	return fmt.Errorf("json: unexpected %q at offset %d, want %s", s.b[s.i], s.i, want)
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScanner) next(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		return s.container('}', true)
	case c == '[':
		return s.container(']', false)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

// container scans an object (members) or array after its opening bracket.
func (s *jsonScanner) container(end byte, members bool) bool {
	if s.depth++; s.depth > maxJSONDepth {
		return false
	}
	defer func() { s.depth-- }()
	s.i++
	s.space()
	if s.next(end) {
		return true
	}
	for {
		if members {
			if _, ok := s.str(); !ok {
				return false
			}
			s.space()
			if !s.next(':') {
				return false
			}
			s.space()
		}
		if !s.value() {
			return false
		}
		s.space()
		if s.next(end) {
			return true
		}
		if !s.next(',') {
			return false
		}
		s.space()
	}
}

// str scans a string, reporting whether it has escapes.
func (s *jsonScanner) str() (escaped, ok bool) {
	if !s.next('"') {
		return false, false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, true
		case c < 0x20:
			return false, false
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return false, false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return false, false
					}
				}
				s.i += 6
			default:
				return false, false
			}
		default:
			s.i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *jsonScanner) literal(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') && !s.digits() {
		return false
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits scans one or more digits.
func (s *jsonScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func stringField(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errors.New("not a string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func hexKey(raw []byte) ([32]byte, error) {
	var k [32]byte
	if len(raw) == 66 && raw[0] == '"' && raw[65] == '"' {
		if _, err := hex.Decode(k[:], raw[1:65]); err == nil {
			return k, nil
		}
	}
	s, err := stringField(raw)
	if err != nil {
		return k, err
	}
	if len(s) != 64 {
		return k, fmt.Errorf("%d hex digits, want 64", len(s))
	}
	_, err = hex.Decode(k[:], []byte(s))
	return k, err
}

func encTypeField(raw []byte) (EncType, error) {
	s, err := stringField(raw)
	if err != nil {
		return 0, err
	}
	return ParseEncType(s)
}

// intField reads a JSON number as an int the way the storage server's get<int>() does: a
// fraction is truncated; values beyond int32 are clamped.
func intField(raw []byte) (int, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, errors.New("not a number")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s out of range", raw)
	}
	return int(min(max(f, math.MinInt32), math.MaxInt32)), nil
}

func boolField(raw []byte) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("not a boolean")
}
