package onion

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// Structural form (wiremode.Structural): an onion request to a node travels as its layers held
// as values, each with the exact length its ciphertext would have, and the destination's answer
// travels back as its status and body with the exact length of the sealed reply. Nothing is
// encrypted, encoded or parsed, but every party charges the CPU the real operations cost (from
// the suite's Costs, as modeled crypto charges them), draws the same random bytes (ephemeral
// keys, nonces) from its stream, and sees the same lengths, so a run gives the same results as
// one on bytes under modeled crypto. Only node destinations have a structural form; requests to
// servers always travel as bytes.

// Layer is one sealed layer in structural form: what the node (or server) it is sealed to finds
// on opening it.
type Layer struct {
	// To is the X25519 public key the layer is sealed to. Any other node fails to open it, as it
	// would fail to authenticate the ciphertext.
	To      [32]byte
	EncType EncType
	// PlainLen is the length of the plaintext: LE32(inner length), the inner blob, the routing JSON.
	PlainLen int
	// Routing is what the routing JSON says (Deliver or Forward).
	Routing Routing
	// Inner is the next node's layer (Forward).
	Inner *Layer
	// Decoded is the RPC request as values (Deliver): a storage RPC request, which the
	// destination serves without parsing. Its JSON is never written; the client vouches that
	// parsing it would give these values, and PlainLen counts its length as sent.
	Decoded any
}

// SealedLen is the length of the layer's ciphertext: nonce, encrypted plaintext, tag.
func (l *Layer) SealedLen() int { return l.PlainLen + l.EncType.Overhead() }

// Structural reports whether the request carries its layer as a value (Layer) instead of
// Ciphertext.
func (r Request) Structural() bool { return r.Layer != nil }

// Wire is what a request to a node carries as its body and that body's length: the bytes of
// RelayBody, or the request itself in structural form with the length RelayBody would have.
func (r Request) Wire() (body any, n int) {
	if r.Structural() {
		return &r, r.RelayBodyLen()
	}
	b := r.RelayBody()
	return b, len(b)
}

// sealedLen is the length of the ciphertext in either form.
func (r Request) sealedLen() int {
	if r.Structural() {
		return r.Layer.SealedLen()
	}
	return len(r.Ciphertext)
}

// GuardBodyLen is len(r.GuardBody()), computed without writing it.
func (r Request) GuardBodyLen() int {
	n := 4 + r.sealedLen() + len(`{"enc_type":"`) + len(r.EncType.String()) + len(`","ephemeral_key":"`) + 2*32 + len(`"}`)
	if r.HopNo != 0 {
		n += len(`,"hop_no":`) + intLen(r.HopNo)
	}
	return n
}

// RelayBodyLen is len(r.RelayBody()), computed without writing it.
func (r Request) RelayBodyLen() int {
	return 1 + bencodeLen(len("data")) + bencodeLen(r.sealedLen()) +
		bencodeLen(len("enc_type")) + bencodeLen(len(r.EncType.String())) +
		bencodeLen(len("ephemeral_key")) + bencodeLen(32) +
		bencodeLen(len("hop_no")) + 2 + intLen(r.HopNo) + 1
}

// bencodeLen is the length of a bencoded string of n bytes: "<n>:" and the bytes.
func bencodeLen(n int) int { return intLen(n) + 1 + n }

// intLen is the length of n written in decimal.
func intLen(n int) int {
	var b [24]byte
	return len(strconv.AppendInt(b[:0], int64(n), 10))
}

// forwardRoutingLen is len(forwardRouting(...)): two hex keys and an enc type name.
func forwardRoutingLen(e EncType) int {
	return len(`{"destination":"`) + 2*32 + len(`","enc_type":"`) + len(e.String()) + len(`","ephemeral_key":"`) + 2*32 + len(`"}`)
}

// CheckGuardRequest applies ParseGuardRequest's checks to a request that came in structural
// form, whose body would be r.GuardBodyLen() bytes long. Failures are *Error of KindTooLarge.
func CheckGuardRequest(r *Request) (Request, error) {
	if r.GuardBodyLen() > MaxBodySize {
		return Request{}, &Error{Kind: KindTooLarge}
	}
	in := *r
	in.HopNo = max(0, in.HopNo)
	return in, nil
}

// CheckRelayRequest applies ParseRelayRequest's checks to a request that came in structural
// form: the hop number read as the bencoded one is (at least 1), the size and hop limits.
func CheckRelayRequest(r *Request) (Request, error) {
	if r.RelayBodyLen() > MaxBodySize {
		return Request{}, &Error{Kind: KindTooLarge}
	}
	in := *r
	in.HopNo = max(in.HopNo, 1)
	if in.HopNo > MaxHops {
		return Request{}, &Error{Kind: KindTooManyHops, Err: fmt.Errorf("hop %d of at most %d", in.HopNo, MaxHops)}
	}
	return in, nil
}

// drawLayerRandomness reads from rnd what encryptTo reads for a layer, in the same calls: the
// 32 bytes of the ephemeral secret, then the nonce. Structural form uses neither, but the
// stream must advance exactly as it does on bytes, since the caller's later draws depend on it.
func drawLayerRandomness(rnd io.Reader, e EncType) error {
	if err := discard(rnd, 32); err != nil {
		return fmt.Errorf("onion: ephemeral key: x25519 key generation: reading randomness: %w", err)
	}
	if err := discard(rnd, e.NonceSize()); err != nil {
		return fmt.Errorf("onion: reading a nonce: %w", err)
	}
	return nil
}

// discarder is a stream that can skip n bytes as a read of n bytes would consume them
// (actor.RandReader's streams).
type discarder interface{ Discard(n int) }

// discard reads n bytes (at most 32) from rnd and drops them, through Discard when rnd has it.
func discard(rnd io.Reader, n int) error {
	if d, ok := rnd.(discarder); ok {
		d.Discard(n)
		return nil
	}
	var buf [32]byte
	_, err := io.ReadFull(rnd, buf[:n])
	return err
}

// layerBuildCost is what encryptTo charges for a layer of plainLen bytes: a key pair, the key
// agreement and derivation, the encryption.
func layerBuildCost(c cryptomode.Costs, e EncType, plainLen int) time.Duration {
	return c.X25519KeyGen + c.X25519 + deriveCost(c, e) + SymmetricCost(c, e, plainLen)
}

// BuildToNodeStructural is BuildToNode in structural form: the guard's request (Built.Value)
// holds the layers as values, and the destination's the RPC request as values too (decoded,
// Layer.Decoded), whose JSON, rpcLen bytes long as sent (its padding included), is measured
// rather than written. It draws from rnd exactly what BuildToNode draws and charges exactly what
// it charges under modeled crypto for an RPC of rpcLen bytes; the request's length (Built.Wire)
// is that of BuildToNode's body.
func BuildToNodeStructural(c cryptomode.Costs, rnd io.Reader, p Path, dest Node, decoded any, rpcLen int) (Built, error) {
	if err := p.check(len(p.Hops)); err != nil {
		return Built{}, err
	}
	if decoded == nil {
		// The destination has nothing else to serve: the JSON is never written.
		return Built{}, fmt.Errorf("onion: %w: a structural request needs its RPC as values", ErrBadInput)
	}
	e := p.EncType
	// The layers share one allocation (each onion request a client sends).
	layers := make([]Layer, len(p.Hops)+1)
	l := &layers[len(p.Hops)]
	*l = Layer{To: dest.X25519, EncType: e, PlainLen: NodeLayerSize(rpcLen), Routing: Routing{Action: Deliver}, Decoded: decoded}
	if err := drawLayerRandomness(rnd, e); err != nil {
		return Built{}, fmt.Errorf("onion: destination layer: %w", err)
	}
	cost := layerBuildCost(c, e, l.PlainLen)
	next := dest.Ed25519
	for i := len(p.Hops) - 1; i >= 0; i-- {
		layers[i] = Layer{To: p.Hops[i].X25519, EncType: e, PlainLen: 4 + l.SealedLen() + forwardRoutingLen(e),
			Routing: Routing{Action: Forward, Destination: next, EncType: e}, Inner: l}
		l = &layers[i]
		if err := drawLayerRandomness(rnd, e); err != nil {
			return Built{}, fmt.Errorf("onion: layer of hop %d: %w", i, err)
		}
		cost += layerBuildCost(c, e, l.PlainLen)
		next = p.Hops[i].Ed25519
	}
	return Built{Value: &Request{Layer: l, EncType: e, HopNo: p.HopNo}, Reply: Key{EncType: e}, Cost: cost}, nil
}

// peelStructural is Peel for a request in structural form: the same costs (key agreement,
// derivation, decryption of the whole layer, charged also when the layer is not the node's),
// the same outcome, nothing decrypted.
func peelStructural(c cryptomode.Costs, self cryptomode.X25519KeyPair, in Request) (Peeled, error) {
	l, e := in.Layer, in.EncType
	if !e.valid() {
		return Peeled{}, &Error{Kind: KindInvalidCiphertext, Err: fmt.Errorf("%w: %v", ErrBadInput, e)}
	}
	cost := c.X25519 + deriveCost(c, e) + SymmetricCost(c, e, l.PlainLen)
	if l.To != self.Public || l.EncType != e {
		return Peeled{Cost: cost}, &Error{Kind: KindInvalidCiphertext, Err: errAuth}
	}
	p := Peeled{Routing: l.Routing, Reply: Key{EncType: e}, Cost: cost, Structural: true}
	switch l.Routing.Action {
	case Deliver:
		p.Decoded = l.Decoded
	case Forward:
		p.Next = Request{Layer: l.Inner, EncType: l.Routing.EncType, HopNo: in.HopNo + 1}
	default:
		return p, invalidJSON("routing: a structural layer with action %v", l.Routing.Action)
	}
	return p, nil
}

// Reply is a destination node's sealed answer in structural form.
type Reply struct {
	// Response is what the client reads once the reply is open.
	Response NodeResponse
	// Decoded is Response.Body as values, when the destination built the body from values it
	// passes along (a storage RPC batch's results), so that the client need not parse the body;
	// nil otherwise. The destination vouches that parsing the body gives these values. A reply
	// sealed by SealStructuralMeasured has no body at all (Response.Body nil): only Decoded.
	Decoded  any
	encType  EncType
	plainLen int // the {"body","status"} JSON
	wireLen  int // sealed, and base64-encoded unless raw
}

// WireLen is the length of the reply SealNodeResponse would have written.
func (r *Reply) WireLen() int { return r.wireLen }

// SealStructuralResponse is SealNodeResponse in structural form: the same nonce drawn from rnd,
// the same cost, the same length, nothing sealed; decoded is the body as values (Reply.Decoded),
// kept only when the client reads the body unchanged. The lengths are computed: the JSON string's
// escaping is counted as encoding/json escapes (wirejson.StringLen), which the tests hold to
// encodeJSON; a body asked for as embedded JSON (which no client asks for) or not valid UTF-8
// is encoded once and read back.
func SealStructuralResponse(s cryptomode.Suite, k Key, rnd io.Reader, f ResponseFormat, r NodeResponse, decoded any) (*Reply, time.Duration, error) {
	if err := drawReplyNonce(k, rnd); err != nil {
		return nil, 0, err
	}
	rep := &Reply{Response: r, encType: k.EncType}
	if f.EmbedJSON || !utf8.Valid(r.Body) {
		// An embedded body is compacted, and invalid UTF-8 replaced, on the way: the client
		// reads what the bytes would carry, so they are made and read once.
		plain := encodeJSON(nodeReplyJSON{Body: replyBody(f, r.Body), Status: r.Status})
		dec, err := decodeNodeReply(plain)
		if err != nil {
			return nil, 0, fmt.Errorf("onion: sealing the response: %w", err)
		}
		rep.plainLen, rep.Response = len(plain), dec
	} else {
		rep.plainLen = replyPlainLen(wirejson.StringLen(r.Body), r.Status)
		rep.Decoded = decoded
	}
	return rep, rep.sealed(s.Costs(), f), nil
}

// SealStructuralMeasured is SealStructuralResponse for a body that was measured, not written:
// the client reads its values (decoded, which must not be nil) in place of the body, so the
// reply carries only the status and the values, and its length comes from quotedLen, the
// body's length as a JSON string written by encoding/json (storagerpc.BodySize.Quoted). The
// body must be valid UTF-8 and f must not ask for an embedded JSON body, as for the bodies
// SealStructuralResponse passes values along with.
func SealStructuralMeasured(s cryptomode.Suite, k Key, rnd io.Reader, f ResponseFormat, status, quotedLen int, decoded any) (*Reply, time.Duration, error) {
	if f.EmbedJSON || decoded == nil {
		return nil, 0, fmt.Errorf("onion: sealing the response: %w: a measured body needs its values and a string body", ErrBadInput)
	}
	if err := drawReplyNonce(k, rnd); err != nil {
		return nil, 0, err
	}
	rep := &Reply{Response: NodeResponse{Status: status}, Decoded: decoded, encType: k.EncType, plainLen: replyPlainLen(quotedLen, status)}
	return rep, rep.sealed(s.Costs(), f), nil
}

// drawReplyNonce reads from rnd the nonce SealNodeResponse draws for a reply sealed with k, once
// k's cipher is known to be one.
func drawReplyNonce(k Key, rnd io.Reader) error {
	if !k.EncType.valid() {
		return fmt.Errorf("onion: sealing the response: %w: unknown enc type %v", ErrBadInput, k.EncType)
	}
	if err := discard(rnd, k.EncType.NonceSize()); err != nil {
		return fmt.Errorf("onion: sealing the response: onion: reading a nonce: %w", err)
	}
	return nil
}

// replyPlainLen is the length of the {"body","status"} JSON of a body quotedLen bytes long as
// a JSON string.
func replyPlainLen(quotedLen, status int) int {
	return len(`{"body":`) + quotedLen + len(`,"status":`) + intLen(status) + len(`}`)
}

// sealed sets the reply's wire length from its plaintext's and returns the sealing's cost.
func (r *Reply) sealed(c cryptomode.Costs, f ResponseFormat) time.Duration {
	r.wireLen = r.plainLen + r.encType.Overhead()
	if !f.Raw {
		r.wireLen = base64.StdEncoding.EncodedLen(r.wireLen)
	}
	return SymmetricCost(c, r.encType, r.plainLen) + rederiveCost(c, r.encType)
}

// OpenStructuralResponse is OpenNodeResponse for a reply in structural form: the decryption's
// cost, and the answer; a reply sealed under another cipher fails as its tag would.
func OpenStructuralResponse(c cryptomode.Costs, k Key, rep *Reply) (NodeResponse, time.Duration, error) {
	cost := SymmetricCost(c, rep.encType, rep.plainLen)
	if k.EncType != rep.encType {
		return NodeResponse{}, cost, fmt.Errorf("%w: %v", ErrBadResponse, &Error{Kind: KindInvalidCiphertext, Err: errAuth})
	}
	return rep.Response, cost, nil
}
