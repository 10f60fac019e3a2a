package storagerpc

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader records how much was read, to check that a too-large body is not read whole.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadBody(t *testing.T) {
	b, err := ReadBody(strings.NewReader("hello"), 5)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))

	b, err = ReadBody(strings.NewReader(""), MaxBodySize)
	require.NoError(t, err)
	assert.Empty(t, b)

	// One byte over: refused with 413, having read at most limit+1 bytes of a huge stream.
	huge := &countingReader{r: io.LimitReader(zeroReader{}, 1<<40)}
	_, err = ReadBody(huge, MaxBodySize)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, StatusOf(err))
	assert.LessOrEqual(t, huge.n, int64(MaxBodySize+1))

	_, err = ReadBody(strings.NewReader("123456"), 5)
	assert.ErrorIs(t, err, ErrBodyTooLarge)

	broken := errors.New("connection reset")
	_, err = ReadBody(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)), 10)
	assert.ErrorIs(t, err, broken)
	assert.Equal(t, http.StatusInternalServerError, StatusOf(err))

	_, err = ReadBody(bytes.NewReader(nil), -1)
	assert.Error(t, err)

	assert.NoError(t, CheckContentLength(MaxBodySize, MaxBodySize))
	assert.ErrorIs(t, CheckContentLength(MaxBodySize+1, MaxBodySize), ErrBodyTooLarge)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestErrorBody(t *testing.T) {
	status, text := ErrorBody(ErrBodyTooLarge)
	assert.Equal(t, 413, status)
	assert.Equal(t, "Request body too large", string(text))
	status, text = ErrorBody(NotReady("not in any swarm"))
	assert.Equal(t, 503, status)
	assert.Equal(t, "Service node is not ready: not in any swarm\n", string(text))
	status, text = ErrorBody(errors.New("disk on fire"))
	assert.Equal(t, 500, status)
	assert.Equal(t, "request failed", string(text))
	assert.Equal(t, 200, StatusOf(nil))
	assert.Contains(t, ErrRateLimited.Error(), "429")
}
