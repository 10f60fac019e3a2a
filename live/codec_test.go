package live

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
)

// counter is a Go-value body for tests: 8 bytes on the wire.
type counter struct{ N uint64 }

func counterCodec() *Codec {
	c := NewCodec()
	Register(c, "counter",
		func(v *counter) ([]byte, error) { return binary.BigEndian.AppendUint64(nil, v.N), nil },
		func(b []byte) (*counter, error) {
			if len(b) != 8 {
				return nil, errors.New("a counter is 8 bytes")
			}
			return &counter{N: binary.BigEndian.Uint64(b)}, nil
		})
	return c
}

func TestGoValueBodiesTravelAsBytes(t *testing.T) {
	d := newDriver(t, Config{Codec: counterCodec()})
	b := addr("127.77.20.2:22021")
	require.NoError(t, d.Spawn(b, "b", &fnActor{handle: func(_ actor.Addr, req actor.Request, r actor.Responder) {
		c := req.Body.(*counter)
		r.Respond(actor.Response{Status: 200, Body: &counter{N: c.N + 1}, Size: 8})
	}}))
	o := callOnce(t, d, addr("127.77.20.1:22021"), b, actor.Request{Method: "sn.count", Body: &counter{N: 41}, Size: 8}, time.Second)
	require.NoError(t, o.err)
	assert.Equal(t, &counter{N: 42}, o.resp.Body)
}

func TestUnencodableBodyFailsTheCall(t *testing.T) {
	d := newDriver(t, Config{})
	b := addr("127.77.21.2:22021")
	require.NoError(t, d.Spawn(b, "b", echo(nil)))
	o := callOnce(t, d, addr("127.77.21.1:22021"), b, actor.Request{Method: "/x", Body: &counter{}}, time.Second)
	require.Error(t, o.err)
	assert.ErrorContains(t, o.err, "no encoding for a body of type *live.counter")
}

func TestCodecRefusals(t *testing.T) {
	c := counterCodec()
	assert.Equal(t, []string{"bytes", "counter", "none"}, c.Kinds())
	_, err := c.Decode("nope", nil)
	assert.ErrorContains(t, err, `unknown body kind "nope"`)
	_, err = c.Decode(KindNone, []byte{1})
	assert.Error(t, err)
	_, err = c.Decode("counter", []byte{1})
	assert.ErrorContains(t, err, "8 bytes")
	assert.Panics(t, func() {
		Register(c, "counter", func(*counter) ([]byte, error) { return nil, nil }, func([]byte) (*counter, error) { return nil, nil })
	})
}

func FuzzCodecDecode(f *testing.F) {
	c := counterCodec()
	f.Add("counter", []byte{0, 0, 0, 0, 0, 0, 0, 7})
	f.Add("bytes", []byte("x"))
	f.Add("none", []byte{})
	f.Add("", []byte{1})
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		v, err := c.Decode(kind, b)
		if err != nil {
			return
		}
		k, out, err := c.Encode(v)
		require.NoError(t, err)
		if kind != "" {
			assert.Equal(t, kind, k)
		}
		assert.Equal(t, len(b), len(out))
	})
}
