package storagerpc

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"unicode/utf8"
)

// Append-style JSON writing. Responses are written the way the server's JSON library dumps
// them (compact, object keys in byte order, control characters as \u00xx, everything else
// including '/' and non-ASCII left as is), so that their lengths are the real wire sizes. Each
// encoder writes its keys in sorted order by hand; the tests check that they do.

const hexDigits = "0123456789abcdef"

// shortEscapes is the letter after the backslash for the characters JSON escapes in two bytes;
// the other characters below 0x20 are written \u00xx.
var shortEscapes = [utf8.RuneSelf]byte{
	'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't',
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 is replaced by U+FFFD
// rather than failing: only server-generated text reaches here.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		if e := shortEscapes[c]; e != 0 {
			dst = append(dst, '\\', e)
		} else {
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendKey appends "key": (with a leading comma unless first).
func appendKey(dst []byte, key string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendInt appends n in decimal, as JSON numbers and the signature messages both write it.
func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendInteger is appendInt for an int, for the arrays of hard-fork and version numbers.
func appendInteger(dst []byte, n int) []byte { return appendInt(dst, int64(n)) }

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendB64String appends b as a padded standard base64 JSON string, the encoding the server
// and the clients use for data and signatures.
func appendB64String(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func appendHexString(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendArray appends xs as a JSON array, each element written by elem.
func appendArray[T any](dst []byte, xs []T, elem func([]byte, T) []byte) []byte {
	dst = append(dst, '[')
	for i, x := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = elem(dst, x)
	}
	return append(dst, ']')
}
