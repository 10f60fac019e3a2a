package onion

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// NodeResponse is a destination node's answer to an onion request, as the client reads it once
// the reply is open.
type NodeResponse struct {
	// Status is the RPC's HTTP status (the reply itself always travels with 200).
	Status int
	// Body is the RPC's response body: the content of the JSON string, or the raw JSON when the
	// client asked for an embedded JSON body and got one.
	Body []byte
}

// nodeReplyJSON is {"body","status"} in the order the storage server writes it.
type nodeReplyJSON struct {
	Body   any `json:"body"`
	Status int `json:"status"`
}

// SealNodeResponse is the destination node's reply: {"status","body"} sealed with the
// destination layer's key k and, unless f.Raw, base64-encoded. The cost includes a key agreement
// because the storage server derives the key again for the reply rather than keeping it.
func SealNodeResponse(s cryptomode.Suite, k Key, rnd io.Reader, f ResponseFormat, r NodeResponse) ([]byte, time.Duration, error) {
	sealed, cost, err := k.Seal(s.Costs(), rnd, encodeJSON(nodeReplyJSON{Body: replyBody(f, r.Body), Status: r.Status}))
	if err != nil {
		return nil, 0, fmt.Errorf("onion: sealing the response: %w", err)
	}
	cost += rederiveCost(s.Costs(), k.EncType)
	if f.Raw {
		return sealed, cost, nil
	}
	return base64.StdEncoding.AppendEncode(nil, sealed), cost, nil
}

// replyBody is the "body" of a destination's reply: a JSON string, or the JSON itself when the
// client asked for it embedded and it is JSON.
func replyBody(f ResponseFormat, body []byte) any {
	if f.EmbedJSON && json.Valid(body) {
		return json.RawMessage(body)
	}
	return string(body)
}

// OpenNodeResponse opens a destination node's reply with the key the builder returned
// (Built.Reply) and the format the client asked for. Failures wrap ErrBadResponse.
func OpenNodeResponse(c cryptomode.Costs, k Key, f ResponseFormat, reply []byte) (NodeResponse, time.Duration, error) {
	sealed := reply
	if !f.Raw {
		var err error
		if sealed, err = base64.StdEncoding.AppendDecode(nil, reply); err != nil {
			if sealed, err = base64.RawStdEncoding.AppendDecode(nil, reply); err != nil {
				return NodeResponse{}, 0, fmt.Errorf("%w: reply is not base64: %v", ErrBadResponse, err)
			}
		}
	}
	return openReply(c, k, sealed, decodeNodeReply)
}

// decodeNodeReply reads an opened destination reply, {"status": N, "body": ...}; a body given
// as a JSON string is its text, anything else its raw JSON.
func decodeNodeReply(plain []byte) (NodeResponse, error) {
	obj, err := parseObject(plain)
	if err != nil {
		return NodeResponse{}, fmt.Errorf("reply %v", err)
	}
	var r NodeResponse
	raw, ok := obj.Member("status")
	if !ok {
		return NodeResponse{}, errors.New(`reply without "status"`)
	}
	if r.Status, err = intField(raw); err != nil {
		return NodeResponse{}, fmt.Errorf(`reply "status": %v`, err)
	}
	if raw, ok := obj.Member("body"); ok {
		if raw.Kind == wirejson.String {
			r.Body = bytes.Clone(raw.Bytes())
		} else {
			r.Body = raw.Raw
		}
	}
	return r, nil
}

// openReply opens a sealed reply with the key its request was built with and decodes the
// plaintext; every failure wraps ErrBadResponse.
func openReply[R any](c cryptomode.Costs, k Key, sealed []byte, decode func([]byte) (R, error)) (R, time.Duration, error) {
	var zero R
	plain, cost, err := k.Open(c, sealed)
	if err != nil {
		return zero, cost, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	r, err := decode(plain)
	if err != nil {
		return zero, cost, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return r, cost, nil
}

// ErrorResponse is a node's answer to a failed hop, as the storage server sends it. Plain-text
// failures travel with their own status and text. Encrypted ones (Error.Encrypted) travel like a
// destination's reply: status 200 and, as body, {"status","body"} sealed with the layer's key
// (Peeled.Reply, which Peel returns along with those failures) and base64-encoded.
func ErrorResponse(s cryptomode.Suite, reply Key, rnd io.Reader, e *Error) (status int, body []byte, cost time.Duration, err error) {
	if !e.Encrypted() {
		return e.Status(), []byte(e.Text()), 0, nil
	}
	body, cost, err = SealNodeResponse(s, reply, rnd, ResponseFormat{}, NodeResponse{Status: e.Status(), Body: []byte(e.Text())})
	if err != nil {
		return 0, nil, 0, err
	}
	return 200, body, cost, nil
}

// rederiveCost is what a destination spends deriving the reply key again from its secret and
// the ephemeral key, as the storage server and the community servers do.
func rederiveCost(c cryptomode.Costs, e EncType) time.Duration {
	return c.X25519 + deriveCost(c, e)
}

// V4Request is the request a v4 onion carries to a server: bencoded l<n>:<json>[<m>:<body>]e
// with json {"method","endpoint","headers"}.
type V4Request struct {
	Method   string
	Endpoint string
	Headers  map[string]string
	// Body is sent as the list's second element; nil sends none.
	Body []byte
}

type v4RequestJSON struct {
	Method   string            `json:"method"`
	Endpoint string            `json:"endpoint"`
	Headers  map[string]string `json:"headers"`
}

// EncodeV4Request bencodes r. Header names are written in sorted order.
func EncodeV4Request(r V4Request) ([]byte, error) {
	if r.Method == "" || r.Endpoint == "" {
		return nil, fmt.Errorf("%w: a v4 request needs a method and an endpoint", ErrBadInput)
	}
	h := r.Headers
	if h == nil {
		h = map[string]string{}
	}
	return encodeV4(encodeJSON(v4RequestJSON{Method: r.Method, Endpoint: r.Endpoint, Headers: h}), r.Body), nil
}

// DecodeV4Request reads what EncodeV4Request writes; a server calls it on the opened layer.
func DecodeV4Request(b []byte) (V4Request, error) {
	obj, body, err := decodeV4Object(b, "v4 request")
	if err != nil {
		return V4Request{}, err
	}
	r := V4Request{Body: body}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"method", &r.Method}, {"endpoint", &r.Endpoint}} {
		raw, ok := obj.Member(f.name)
		if !ok {
			return V4Request{}, fmt.Errorf("v4 request without %q", f.name)
		}
		if *f.dst, err = stringField(raw); err != nil {
			return V4Request{}, fmt.Errorf("v4 request %q: %w", f.name, err)
		}
	}
	if r.Headers, err = v4Headers(obj, "v4 request"); err != nil {
		return V4Request{}, err
	}
	return r, nil
}

// V4Response is a server's answer to a v4 onion request: bencoded
// l<n>:{"code","headers"}[<m>:<body>]e, sealed binary (no base64).
type V4Response struct {
	Code    int
	Headers map[string]string
	// Body is the list's second element; nil when the server sent none.
	Body []byte
}

type v4ResponseJSON struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
}

// EncodeV4Response bencodes r.
func EncodeV4Response(r V4Response) []byte {
	h := r.Headers
	if h == nil {
		h = map[string]string{}
	}
	return encodeV4(encodeJSON(v4ResponseJSON{Code: r.Code, Headers: h}), r.Body)
}

// DecodeV4Response reads what EncodeV4Response writes.
func DecodeV4Response(b []byte) (V4Response, error) {
	obj, body, err := decodeV4Object(b, "v4 response")
	if err != nil {
		return V4Response{}, err
	}
	r := V4Response{Body: body}
	raw, ok := obj.Member("code")
	if !ok {
		return V4Response{}, fmt.Errorf(`v4 response without "code"`)
	}
	if r.Code, err = intField(raw); err != nil {
		return V4Response{}, fmt.Errorf(`v4 response "code": %w`, err)
	}
	if r.Headers, err = v4Headers(obj, "v4 response"); err != nil {
		return V4Response{}, err
	}
	return r, nil
}

// SealV4Response is a server's reply: r bencoded and sealed with the key of the layer the request
// came in (from OpenServerRequest). Like the node's, its cost includes deriving the key again.
func SealV4Response(s cryptomode.Suite, k Key, rnd io.Reader, r V4Response) ([]byte, time.Duration, error) {
	sealed, cost, err := k.Seal(s.Costs(), rnd, EncodeV4Response(r))
	if err != nil {
		return nil, 0, fmt.Errorf("onion: sealing the v4 response: %w", err)
	}
	return sealed, cost + rederiveCost(s.Costs(), k.EncType), nil
}

// OpenV4Response opens a server's reply with Built.Reply. Failures wrap ErrBadResponse.
func OpenV4Response(c cryptomode.Costs, k Key, reply []byte) (V4Response, time.Duration, error) {
	return openReply(c, k, reply, DecodeV4Response)
}

// OpenServerRequest is the server's side of a v4 onion request: body is what the last hop
// POSTed (the whole layer it decrypted: LE32(N), the server's blob, the routing JSON with the
// server layer's ephemeral_key and enc_type). It returns the request and the key to seal the
// reply with. Failures are *Error of KindBadRequest (framing, JSON, the v4 encoding) or
// KindInvalidCiphertext.
func OpenServerRequest(s cryptomode.Suite, self cryptomode.X25519KeyPair, body []byte) (V4Request, Key, time.Duration, error) {
	layer, _, err := parseFramed(body)
	if err != nil {
		return V4Request{}, Key{}, 0, err
	}
	plain, k, cost, err := OpenLayer(s, layer.EncType, self, layer.EphemeralKey, layer.Ciphertext)
	if err != nil {
		return V4Request{}, Key{}, cost, err
	}
	req, err := DecodeV4Request(plain)
	if err != nil {
		return V4Request{}, k, cost, badRequest("%v", err)
	}
	return req, k, cost, nil
}

func encodeV4(meta, body []byte) []byte {
	out := make([]byte, 0, len(meta)+len(body)+24)
	out = append(out, 'l')
	out = bencode.AppendString(out, meta)
	if body != nil {
		out = bencode.AppendString(out, body)
	}
	return append(out, 'e')
}

// decodeV4 reads l<n>:<json>[<m>:<body>]e; body is nil when absent.
func decodeV4(b []byte) (meta, body []byte, err error) {
	l, err := decodeWhole(b, bencode.List)
	if err != nil {
		return nil, nil, err
	}
	if len(l.List) != 1 && len(l.List) != 2 {
		return nil, nil, fmt.Errorf("a list of %d values, want the JSON and an optional body", len(l.List))
	}
	if meta, err = bencodeString(&l.List[0], "the JSON"); err != nil {
		return nil, nil, err
	}
	if len(l.List) == 2 {
		body, err = bencodeString(&l.List[1], "the body")
	}
	return meta, body, err
}

// decodeV4Object reads a v4 request or response (what names it in errors) down to its JSON
// object and its body.
func decodeV4Object(b []byte, what string) (obj wirejson.Value, body []byte, err error) {
	meta, body, err := decodeV4(b)
	if err == nil {
		obj, err = parseObject(meta)
	}
	if err != nil {
		return wirejson.Value{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	return obj, body, nil
}

// v4Headers reads the optional "headers" of a v4 request's or response's JSON object.
func v4Headers(obj wirejson.Value, what string) (map[string]string, error) {
	raw, ok := obj.Member("headers")
	if !ok {
		return nil, nil
	}
	h, err := headersField(raw)
	if err != nil {
		return nil, fmt.Errorf("%s headers: %w", what, err)
	}
	return h, nil
}
