package onion

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

const (
	// GuardEndpoint is where a client posts an onion request to its guard.
	GuardEndpoint = "/onion_req/v2"
	// RelayEndpoint is the command a node sends the next hop's request with (the storage
	// server's OxenMQ "sn.onion_request").
	RelayEndpoint = "sn.onion_request"
	// MaxBodySize is the largest request body a node reads (10 MiB, the HTTPS body limit; the
	// node-to-node channel has the same limit).
	MaxBodySize = 10 << 20
	// MaxHops is the highest hop number a relay accepts. The guard is hop 0 unless the client
	// asks for another start, and every forward adds one.
	MaxHops = 15
)

// Request is one layer on its way to a node: the ciphertext and what the node needs to open it.
// A client posts it to the guard framed (GuardBody); a node passes it to the next hop bencoded
// (RelayBody), which is how the storage server carries the hop number.
type Request struct {
	Ciphertext []byte
	// Layer is the layer in structural form, in place of Ciphertext (see Layer).
	Layer        *Layer
	EphemeralKey [32]byte
	EncType      EncType
	// HopNo is the receiving node's hop number: 0 at the guard (or the start the client asked
	// for), and one more at every forward.
	HopNo int
}

// SplitCombined splits the combined form used by the guard's request and inside every layer:
// uint32 little-endian N, N bytes, then the rest (JSON). It never allocates: the parts alias b.
func SplitCombined(b []byte) (blob, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%d bytes is too short for the 4-byte length prefix", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("length prefix %d is past the end of the %d bytes that follow", n, len(b)-4)
	}
	return b[4 : 4+n], b[4+n:], nil
}

// AppendCombined appends LE32(len(blob)) || blob || rest to dst.
func AppendCombined(dst, blob, rest []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(blob)))
	dst = append(dst, blob...)
	return append(dst, rest...)
}

// GuardBody is the body a client posts to the guard's GuardEndpoint: the ciphertext framed with
// {"enc_type","ephemeral_key"} (and "hop_no" when HopNo is not 0), keys sorted and without
// spaces as the real clients write them.
func (r Request) GuardBody() []byte {
	out := make([]byte, 0, 4+len(r.Ciphertext)+128)
	out = AppendCombined(out, r.Ciphertext, nil)
	out = append(out, `{"enc_type":"`...)
	out = append(out, r.EncType.String()...)
	out = append(out, `","ephemeral_key":"`...)
	out = hex.AppendEncode(out, r.EphemeralKey[:])
	out = append(out, '"')
	if r.HopNo != 0 {
		out = append(out, `,"hop_no":`...)
		out = strconv.AppendInt(out, int64(r.HopNo), 10)
	}
	return append(out, '}')
}

// ParseGuardRequest parses the body posted to a guard; the ciphertext aliases body. Failures are
// *Error of KindTooLarge or KindBadRequest, answered 413 or 400 as the storage server does.
func ParseGuardRequest(body []byte) (Request, error) {
	r, obj, err := parseFramed(body)
	if err != nil {
		return Request{}, err
	}
	if raw, ok := obj.Member("hop_no"); ok {
		if r.HopNo, err = intField(raw); err != nil {
			return Request{}, badRequest("hop_no: %v", err)
		}
		r.HopNo = max(0, r.HopNo)
	}
	return r, nil
}

// parseFramed reads what a guard and a v4 server both receive: the combined form (the ciphertext,
// then a JSON object with "ephemeral_key" and an optional "enc_type"). It returns the layer, hop
// number 0 and ciphertext aliasing body, and the object for the caller's own fields. Failures are
// *Error of KindTooLarge or KindBadRequest.
func parseFramed(body []byte) (Request, wirejson.Value, error) {
	if len(body) > MaxBodySize {
		return Request{}, wirejson.Value{}, &Error{Kind: KindTooLarge}
	}
	ct, meta, err := SplitCombined(body)
	if err != nil {
		return Request{}, wirejson.Value{}, badRequest("%v", err)
	}
	obj, err := parseObject(meta)
	if err != nil {
		return Request{}, wirejson.Value{}, badRequest("%v", err)
	}
	r := Request{Ciphertext: ct}
	key, ok := obj.Member("ephemeral_key")
	if !ok {
		return Request{}, wirejson.Value{}, badRequest(`no "ephemeral_key"`)
	}
	if r.EphemeralKey, err = hexKey(key); err != nil {
		return Request{}, wirejson.Value{}, badRequest("ephemeral_key: %v", err)
	}
	if raw, ok := obj.Member("enc_type"); ok {
		if r.EncType, err = encTypeField(raw); err != nil {
			return Request{}, wirejson.Value{}, badRequest("enc_type: %v", err)
		}
	}
	return r, obj, nil
}

// ReadGuardRequest reads and parses a guard's request body from r. A declared contentLength over
// MaxBodySize is refused before reading anything, and reading stops one byte past the limit, so
// a large body is never held whole; pass -1 when the length is unknown.
func ReadGuardRequest(r io.Reader, contentLength int64) (Request, error) {
	if contentLength > MaxBodySize {
		return Request{}, &Error{Kind: KindTooLarge}
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		buf.Grow(int(contentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, MaxBodySize+1))
	if err != nil {
		return Request{}, badRequest("reading the body: %v", err)
	}
	if n > MaxBodySize {
		return Request{}, &Error{Kind: KindTooLarge}
	}
	return ParseGuardRequest(buf.Bytes())
}

// RelayBody is what a node sends the next hop on RelayEndpoint: the bencoded dict
// {"data", "enc_type", "ephemeral_key" (32 raw bytes), "hop_no"}, keys in bencode order.
func (r Request) RelayBody() []byte {
	et := r.EncType.String()
	out := make([]byte, 0, len(r.Ciphertext)+96)
	out = append(out, 'd')
	out = bencode.AppendString(out, []byte("data"))
	out = bencode.AppendString(out, r.Ciphertext)
	out = bencode.AppendString(out, []byte("enc_type"))
	out = bencode.AppendString(out, []byte(et))
	out = bencode.AppendString(out, []byte("ephemeral_key"))
	out = bencode.AppendString(out, r.EphemeralKey[:])
	out = bencode.AppendString(out, []byte("hop_no"))
	out = bencode.AppendInt(out, int64(r.HopNo))
	return append(out, 'e')
}

// ParseRelayRequest parses what the previous hop sent on RelayEndpoint. A missing hop_no or one
// below 1 counts as 1; one above MaxHops is refused with KindTooManyHops. Other failures are
// KindTooLarge or KindBadRelay.
func ParseRelayRequest(body []byte) (Request, error) {
	if len(body) > MaxBodySize {
		return Request{}, &Error{Kind: KindTooLarge}
	}
	r, err := decodeRelay(body)
	if err != nil {
		return Request{}, badRelay("%v", err)
	}
	if r.HopNo > MaxHops {
		return Request{}, &Error{Kind: KindTooManyHops, Err: fmt.Errorf("hop %d of at most %d", r.HopNo, MaxHops)}
	}
	return r, nil
}

// decodeRelay reads the dict of RelayBody. Keys it does not know are skipped (they must still be
// valid bencode), as the storage server's dict consumer does.
func decodeRelay(body []byte) (Request, error) {
	d, err := decodeWhole(body, bencode.Dict)
	if err != nil {
		return Request{}, err
	}
	var r Request
	data, ok := d.Get("data")
	if !ok {
		return Request{}, errors.New("required data payload not found")
	}
	if r.Ciphertext, err = bencodeString(data, "data"); err != nil {
		return Request{}, err
	}
	if v, ok := d.Get("enc_type"); ok {
		s, err := bencodeString(v, "enc_type")
		if err != nil {
			return Request{}, err
		}
		if r.EncType, err = ParseEncType(string(s)); err != nil {
			return Request{}, err
		}
	}
	key, ok := d.Get("ephemeral_key")
	if !ok {
		return Request{}, errors.New("ephemeral key not found")
	}
	s, err := bencodeString(key, "ephemeral_key")
	if err != nil {
		return Request{}, err
	}
	if len(s) != len(r.EphemeralKey) {
		return Request{}, fmt.Errorf("ephemeral key of %d bytes, want 32", len(s))
	}
	copy(r.EphemeralKey[:], s)
	r.HopNo = 1
	if v, ok := d.Get("hop_no"); ok {
		if v.Kind != bencode.Int {
			return Request{}, fmt.Errorf("hop_no is a %v, want an integer", v.Kind)
		}
		r.HopNo = int(min(max(v.Int, 1), math.MaxInt32))
	}
	return r, nil
}

// decodeWhole decodes b, which must be exactly one bencoded value of the given kind.
func decodeWhole(b []byte, want bencode.Kind) (bencode.Value, error) {
	v, n, err := bencode.Decode(b)
	switch {
	case err != nil:
		return v, err
	case n != len(b):
		return v, fmt.Errorf("bencode: %d bytes after the %v", len(b)-n, v.Kind)
	case v.Kind != want:
		return v, fmt.Errorf("bencode: a %v, want a %v", v.Kind, want)
	}
	return v, nil
}

// bencodeString is v's bytes when it is a string.
func bencodeString(v *bencode.Value, what string) ([]byte, error) {
	if v.Kind != bencode.String {
		return nil, fmt.Errorf("%s is a %v, want a string", what, v.Kind)
	}
	return v.Str, nil
}

// encodeJSON marshals v without HTML escaping and without the trailing newline, matching the
// compact output of the real clients and servers.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own fixed types are encoded here; they always marshal.
		panic(fmt.Sprintf("onion: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
