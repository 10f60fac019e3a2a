package onion

import (
	"errors"
	"fmt"
	"strconv"
)

// The little bencoding onion requests need: the dict relays pass between hops and the lists of
// v4 server requests and responses. Byte strings and integers only, besides the containers;
// values are written with the bencode package's encoders, and read here by a decoder that skips
// what nobody asked for.

// maxBencodeDepth bounds nesting when skipping values nobody asked for, so hostile input cannot
// recurse deeply.
const maxBencodeDepth = 32

var errBencode = errors.New("bencode")

// bdecoder reads bencoded values from the front of b.
type bdecoder struct{ b []byte }

func (d *bdecoder) peek() (byte, bool) {
	if len(d.b) == 0 {
		return 0, false
	}
	return d.b[0], true
}

func (d *bdecoder) expect(c byte) error {
	if len(d.b) == 0 || d.b[0] != c {
		return fmt.Errorf("%w: expected %q", errBencode, c)
	}
	d.b = d.b[1:]
	return nil
}

// str reads a byte string "<len>:<bytes>". The length must be canonical (no leading zeros or
// sign) and within the input, so a length cannot make us allocate.
func (d *bdecoder) str() ([]byte, error) {
	i := 0
	for i < len(d.b) && i < 11 && d.b[i] >= '0' && d.b[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(d.b) || d.b[i] != ':' || (i > 1 && d.b[0] == '0') {
		return nil, fmt.Errorf("%w: bad string length", errBencode)
	}
	n, err := strconv.ParseUint(string(d.b[:i]), 10, 63)
	if err != nil || n > uint64(len(d.b)-i-1) {
		return nil, fmt.Errorf("%w: string length past the end of the input", errBencode)
	}
	s := d.b[i+1 : i+1+int(n)]
	d.b = d.b[i+1+int(n):]
	return s, nil
}

// integer reads "i<n>e" (canonical: no leading zeros, no "-0").
func (d *bdecoder) integer() (int64, error) {
	if err := d.expect('i'); err != nil {
		return 0, err
	}
	end := 0
	for end < len(d.b) && d.b[end] != 'e' && end < 21 {
		end++
	}
	if end >= len(d.b) || d.b[end] != 'e' {
		return 0, fmt.Errorf("%w: unterminated integer", errBencode)
	}
	digits := string(d.b[:end])
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != digits {
		return 0, fmt.Errorf("%w: bad integer %q", errBencode, digits)
	}
	d.b = d.b[end+1:]
	return n, nil
}

// skip reads and discards one value of any type.
func (d *bdecoder) skip(depth int) error {
	if depth > maxBencodeDepth {
		return fmt.Errorf("%w: nested too deeply", errBencode)
	}
	c, ok := d.peek()
	if !ok {
		return fmt.Errorf("%w: truncated", errBencode)
	}
	switch {
	case c == 'i':
		_, err := d.integer()
		return err
	case c >= '0' && c <= '9':
		_, err := d.str()
		return err
	case c == 'l' || c == 'd':
		d.b = d.b[1:]
		for {
			c, ok := d.peek()
			if !ok {
				return fmt.Errorf("%w: truncated", errBencode)
			}
			if c == 'e' {
				d.b = d.b[1:]
				return nil
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("%w: unexpected %q", errBencode, c)
}
