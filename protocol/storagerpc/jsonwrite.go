package storagerpc

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// JSON writing. Responses are written the way the server's JSON library dumps them (compact,
// object keys in byte order, control characters as \u00xx, everything else including '/' and
// non-ASCII left as is), so that their lengths are the real wire sizes. Each encoder writes its
// keys in sorted order by hand; the tests check that they do.
//
// Every encoder writes through a jsonWriter, which either appends the text or only counts it:
// its length, and how much longer it would be as a JSON string written by encoding/json (the
// form an onion reply carries it in, wirejson.StringLen). Counting gives an answer's sizes
// (BodySize) without writing it, from the same encoders: the two differ only inside the
// writer's primitives below, which TestResponseSizes and FuzzSizes hold to the bytes written.

const hexDigits = "0123456789abcdef"

// plainByte marks the bytes a JSON string holds as they are, in one byte: printable ASCII but
// the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// shortEscapes is the letter after the backslash for the characters JSON escapes in two bytes;
// the other characters below 0x20 are written \u00xx.
var shortEscapes = [utf8.RuneSelf]byte{
	'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't',
}

// BodySize is the size of a JSON body this package writes, known without writing it: its length
// (Len), and its length as a JSON string written by encoding/json, quotes included (Quoted),
// which is how the body of an onion reply travels (onion.SealStructuralMeasured).
type BodySize struct {
	Len    int
	Quoted int
}

// jsonWriter appends JSON text to b or, when count is set, appends nothing and adds up its
// length (n) and the bytes that escaping it as a JSON string would add (esc). Functions called
// through an interface or a function value take and return it by value: a pointer passed so
// would move it to the heap, an allocation for every answer.
type jsonWriter struct {
	b     []byte
	count bool
	n     int
	esc   int
}

// counter is a jsonWriter that counts.
func counter() jsonWriter { return jsonWriter{count: true} }

// size is what a counting writer counted.
func (w *jsonWriter) size() BodySize { return BodySize{Len: w.n, Quoted: w.n + w.esc + 2} }

// char writes one ASCII byte of the syntax: brackets, braces, commas, colons, quotes.
func (w *jsonWriter) char(c byte) {
	if !w.count {
		w.b = append(w.b, c)
		return
	}
	w.n++
	if c == '"' || c == '\\' {
		w.esc++
	}
}

// lit writes fixed printable ASCII text: keys and literals with their punctuation.
func (w *jsonWriter) lit(s string) {
	if !w.count {
		w.b = append(w.b, s...)
		return
	}
	w.n += len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			w.esc++
		}
	}
}

// unsigned writes u in the base (10 or 16), unquoted.
func (w *jsonWriter) unsigned(u uint64, base int) {
	if !w.count {
		w.b = strconv.AppendUint(w.b, u, base)
		return
	}
	w.n++
	for b := uint64(base); u >= b; u /= b {
		w.n++
	}
}

// raw copies JSON text written elsewhere (a subrequest's answer, oxend's result).
func (w *jsonWriter) raw(b []byte) {
	if !w.count {
		w.b = append(w.b, b...)
		return
	}
	w.n += len(b)
	w.esc += wirejson.StringLen(b) - 2 - len(b)
}

// text writes s as a JSON string literal. Invalid UTF-8 is replaced by U+FFFD rather than
// failing: only server-generated text reaches here.
func (w *jsonWriter) text(s string) {
	t := *w // written on a copy held here, whose stores need no write barriers
	t.quote(s)
	*w = t
}

func (w *jsonWriter) quote(s string) {
	w.char('"')
	start := 0
	for i := 0; ; {
		if i += plainPrefix(s[i:]); i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				w.span(s[start:i])
				w.span("\ufffd") // U+FFFD, left as is in a JSON string too
				i++
				start = i
				continue
			}
			if w.count && (r == '\u2028' || r == '\u2029') {
				w.esc += 3 // written as they are, six bytes once escaped in a JSON string
			}
			i += size
			continue
		}
		w.span(s[start:i])
		w.char('\\')
		if e := shortEscapes[c]; e != 0 {
			w.char(e)
		} else {
			w.lit("u00")
			w.char(hexDigits[c>>4])
			w.char(hexDigits[c&0xf])
		}
		i++
		start = i
	}
	w.span(s[start:])
	w.char('"')
}

// plainPrefix is the length of the longest prefix of s whose bytes plainByte passes. It tests
// eight bytes at a time: most of what quote sees needs no escaping (hashes, keys, signatures),
// and testing it a byte at a time was 4% of the instructions of a 2,000-client full run.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// Each term has a high bit set exactly when some byte of x is, in order: at or above
		// 0x80, below 0x20 (the borrow of x-0x20 in a byte whose own high bit is clear), a
		// quote, a backslash (a zero byte of x^c, found the same way).
		q, b := x^(ones*'"'), x^(ones*'\\')
		if (x|(x-ones*0x20)&^x|(q-ones)&^q|(b-ones)&^b)&highs != 0 {
			break
		}
	}
	for i < len(s) && plainByte[s[i]] {
		i++
	}
	return i
}

// span writes a run of text that needs no escaping in JSON (a JSON string's own escaping of
// U+2028 and U+2029 aside, which text counts).
func (w *jsonWriter) span(s string) {
	if w.count {
		w.n += len(s)
		return
	}
	w.b = append(w.b, s...)
}

// number writes n in decimal, as JSON numbers and the signature messages both write it.
func (w *jsonWriter) number(n int64) {
	if w.count {
		w.n += decimalLen(n)
		return
	}
	w.b = strconv.AppendInt(w.b, n, 10)
}

// decimalLen is the length of n in decimal.
func decimalLen(n int64) int {
	l := 1
	u := uint64(n)
	if n < 0 {
		l, u = 2, -u
	}
	for ; u >= 10; u /= 10 {
		l++
	}
	return l
}

func (w *jsonWriter) truth(b bool) {
	if b {
		w.lit("true")
	} else {
		w.lit("false")
	}
}

// b64str writes b as a padded standard base64 JSON string, the encoding the server and the clients
// use for data and signatures.
func (w *jsonWriter) b64str(b []byte) {
	w.char('"')
	if w.count {
		w.n += base64.StdEncoding.EncodedLen(len(b))
	} else {
		w.b = base64.StdEncoding.AppendEncode(w.b, b)
	}
	w.char('"')
}

// hexstr writes b as a lowercase hex JSON string.
func (w *jsonWriter) hexstr(b []byte) {
	w.char('"')
	if w.count {
		w.n += hex.EncodedLen(len(b))
	} else {
		w.b = hex.AppendEncode(w.b, b)
	}
	w.char('"')
}

// texts writes a JSON array of strings.
func (w *jsonWriter) texts(ss []string) {
	w.char('[')
	for i, s := range ss {
		w.comma(i)
		w.text(s)
	}
	w.char(']')
}

// numbers writes a JSON array of numbers.
func (w *jsonWriter) numbers(ns ...int64) {
	w.char('[')
	for i, n := range ns {
		w.comma(i)
		w.number(n)
	}
	w.char(']')
}

// comma writes the comma before each element of an array but the first (i == 0).
func (w *jsonWriter) comma(i int) {
	if i > 0 {
		w.char(',')
	}
}

// appendJSONString appends s as a JSON string literal (jsonWriter.text).
func appendJSONString(dst []byte, s string) []byte {
	w := jsonWriter{b: dst}
	w.text(s)
	return w.b
}

// appendInt appends n in decimal, as the signature messages write it.
func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }
