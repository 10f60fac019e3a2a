// Package wireerr is what the decoders of the wire formats (bencode, wirejson and the protobuf
// codec pb) share about failing: one error type for a failure at a byte offset of the input. The
// causes stay each decoder's own sentinels (tested with errors.Is) and each decoder names the
// value kinds its errors print in its own table, so the texts the tests and fuzz corpora pin are
// data in the decoder, not code here. Every parser that quotes the text it refuses (Session IDs,
// store owners, command-line arguments) cuts it with Excerpt.
package wireerr

import "fmt"

// Error is a decoding failure at a byte offset of the input. Its text is
// "<format> at byte <offset>: <cause>".
type Error struct {
	// Format names the encoding in the text: "bencode", "json", "protobuf".
	Format string
	Offset int
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s at byte %d: %v", e.Format, e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// excerptLen is how much of a refused input an error quotes.
const excerptLen = 80

// Excerpt is s as an error quotes it: whole, or its first 80 bytes and "...", so that an error
// about a pasted blob stays one readable line.
func Excerpt(s string) string {
	if len(s) > excerptLen {
		return s[:excerptLen] + "..."
	}
	return s
}
