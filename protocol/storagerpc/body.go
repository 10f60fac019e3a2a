package storagerpc

import (
	"bytes"
	"fmt"
	"io"
)

// CheckContentLength refuses a declared body length over limit before anything is read, as the
// server does with Content-Length (413 "Request body too large").
func CheckContentLength(n, limit int64) error {
	if n > limit {
		return ErrBodyTooLarge
	}
	return nil
}

// ReadBody reads a whole request body of at most limit bytes (MaxBodySize for the storage RPC).
// It never holds more than limit+1 bytes: a longer body is refused with ErrBodyTooLarge (413)
// as soon as the extra byte arrives. Read errors are returned wrapped.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit < 0 {
		return nil, fmt.Errorf("reading request body: negative limit %d", limit)
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading request body after %d bytes: %w", n, err)
	}
	if n > limit {
		return nil, ErrBodyTooLarge
	}
	return buf.Bytes(), nil
}
