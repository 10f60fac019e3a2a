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

// Every hop parses a small JSON object, so this is on the hot path of the simulator: a scan for
// the top-level members, keeping their values raw, costs a fraction of decoding into a map. Keys
// match case-sensitively, as in the storage server's parser (encoding/json's struct matching would
// not), and a repeated key takes its last value, as there.

// jsonMember is one top-level member of an object; raw is its value's JSON text.
type jsonMember struct {
	key []byte
	raw []byte
}

type jsonObj []jsonMember

var errNotObject = errors.New("json: not an object")

// parseObject checks that b is one valid JSON object and splits it into members. The raw values
// alias b. Invalid UTF-8 is refused, as the storage server's parser refuses it.
func parseObject(b []byte) (jsonObj, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("json: invalid UTF-8")
	}
	if !json.Valid(b) {
		// Decode only to say what is wrong; the validity scan is the fast path.
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
		return nil, errors.New("json: invalid")
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return nil, errNotObject
	}
	obj := make(jsonObj, 0, 8)
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return obj, nil
	}
	for {
		end := valueEnd(b, i) // the key: a string
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(b[i:end], &k); err != nil {
				return nil, fmt.Errorf("json: key: %w", err)
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // past ':'
		end = valueEnd(b, i)
		obj = append(obj, jsonMember{key: key, raw: b[i:end]})
		i = skipSpace(b, end)
		if b[i] == '}' {
			return obj, nil
		}
		i = skipSpace(b, i+1) // past ','
	}
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

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at b[i]. b is known to be valid
// JSON, so it only has to track strings and nesting.
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			i++
			for b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
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
