// Package wireerr is what the decoders of the wire formats (bencode, wirejson and the protobuf
// codec pb) share about failing: one error type for a failure at a byte offset of the input, and
// the naming of the value kinds those errors print. The causes stay each decoder's own sentinels
// (tested with errors.Is) and each decoder names its kinds in its own table, so the texts the
// tests and fuzz corpora pin are data in the decoder, not code here.
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

// Name is the String of a decoder's kind enum: names[v], or "<typ>(<v>)" for a value the table
// does not name, so a corrupt kind still prints as something a reader can trace.
func Name[K ~uint8](names []string, v K, typ string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}
