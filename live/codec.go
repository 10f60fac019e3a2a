package live

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Kinds of body every Codec knows: no body, and bytes as they are.
const (
	KindNone  = "none"
	KindBytes = "bytes"
)

// Codec turns request and response bodies into bytes on the wire and back. The kind of a body
// travels with it (a header), so the receiver knows which decoder to run; the bytes are the
// body's real encoding. Register a kind for every Go value the actors pass as a body.
//
// A Codec is filled before the driver starts and only read afterwards, so it needs no lock.
type Codec struct {
	byName map[string]kind
	byType map[reflect.Type]kind
}

type kind struct {
	name   string
	encode func(any) (params string, data []byte, err error)
	decode func(params string, data []byte) (any, error)
}

// NewCodec is a Codec that knows only no body (nil) and []byte.
func NewCodec() *Codec {
	c := &Codec{byName: map[string]kind{}, byType: map[reflect.Type]kind{}}
	Register(c, KindBytes,
		func(b []byte) ([]byte, error) { return b, nil },
		func(b []byte) ([]byte, error) { return b, nil })
	return c
}

// Register teaches c the body type T under name: enc gives its bytes on the wire and dec reads
// them back. Registering a name or a type twice panics: it is a programming error.
func Register[T any](c *Codec, name string, enc func(T) ([]byte, error), dec func([]byte) (T, error)) {
	RegisterParams(c, name,
		func(v T) (string, []byte, error) { b, err := enc(v); return "", b, err },
		func(params string, b []byte) (T, error) {
			if params != "" {
				var zero T
				return zero, fmt.Errorf("a %s body takes no parameters, got %q", name, params)
			}
			return dec(b)
		})
}

// RegisterParams is Register for a body whose encoding leaves some of the value out of its
// bytes: enc also gives params, a short text that travels beside the bytes (in the kind header,
// after a ';'), as an OxenMQ message's other parts travel beside its data part. params must not
// contain a newline.
func RegisterParams[T any](c *Codec, name string, enc func(T) (params string, data []byte, err error), dec func(params string, data []byte) (T, error)) {
	t := reflect.TypeFor[T]()
	if _, dup := c.byName[name]; dup || name == KindNone || strings.ContainsAny(name, ";\r\n") {
		panic(fmt.Sprintf("live: body kind %q registered twice or malformed", name))
	}
	if _, dup := c.byType[t]; dup {
		panic(fmt.Sprintf("live: body type %v registered twice", t))
	}
	k := kind{
		name:   name,
		encode: func(v any) (string, []byte, error) { return enc(v.(T)) },
		decode: func(params string, b []byte) (any, error) { return dec(params, b) },
	}
	c.byName[name], c.byType[t] = k, k
}

// Encode gives body's kind (with its parameters, if any) and its bytes.
func (c *Codec) Encode(body any) (string, []byte, error) {
	if body == nil {
		return KindNone, nil, nil
	}
	k, ok := c.byType[reflect.TypeOf(body)]
	if !ok {
		return "", nil, fmt.Errorf("live: no encoding for a body of type %T (known kinds: %v); register one with live.Register", body, c.Kinds())
	}
	params, b, err := k.encode(body)
	if err != nil {
		return "", nil, fmt.Errorf("live: encoding a %s body: %w", k.name, err)
	}
	if params != "" {
		if strings.ContainsAny(params, "\r\n") {
			return "", nil, fmt.Errorf("live: the parameters of a %s body contain a newline", k.name)
		}
		return k.name + ";" + params, b, nil
	}
	return k.name, b, nil
}

// Decode reads a body of the named kind (as Encode gave it, parameters included).
func (c *Codec) Decode(name string, b []byte) (any, error) {
	name, params, _ := strings.Cut(name, ";")
	if name == KindNone || name == "" {
		if len(b) > 0 {
			return nil, fmt.Errorf("live: a body of kind %q has %d bytes", KindNone, len(b))
		}
		return nil, nil
	}
	k, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("live: unknown body kind %q (known kinds: %v)", name, c.Kinds())
	}
	v, err := k.decode(params, b)
	if err != nil {
		return nil, fmt.Errorf("live: decoding a %s body: %w", name, err)
	}
	return v, nil
}

// Kinds lists the kinds c knows, sorted.
func (c *Codec) Kinds() []string {
	out := []string{KindNone}
	for n := range c.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
