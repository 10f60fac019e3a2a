package message

import (
	"encoding/base64"
	"fmt"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
)

// EnvelopeType is Envelope.type.
type EnvelopeType uint32

// Envelope types the Session clients send.
const (
	// SessionMessage is a 1:1 message: the content is a sealed box.
	SessionMessage EnvelopeType = 6
	// ClosedGroupMessage is a group message; in new (03) groups the whole envelope is encrypted
	// under the group key and its content is the unpadded Content.
	ClosedGroupMessage EnvelopeType = 7
)

const (
	envType         = 1
	envSource       = 2
	envTimestamp    = 5
	envSourceDevice = 7
	envContent      = 8
	envProSig       = 11

	wsType    = 1
	wsRequest = 2

	reqVerb = 1
	reqPath = 2
	reqBody = 3
	reqID   = 4

	// wsTypeRequest is WebSocketMessage.Type.REQUEST.
	wsTypeRequest = 1
)

// The request line the 2024 apps put around every 1:1 envelope, a leftover of Signal's websocket
// API that nothing reads any more. libsession-util's encode_for_1o1 (src/session_protocol.cpp)
// writes the fields empty instead ("Required but unused"), and no decoder looks at them.
const (
	RequestVerb = "PUT"
	RequestPath = "/api/v1/message"
)

// What libsession-util's encode_for_1o1 (src/session_protocol.cpp) puts in the Envelope besides
// type, timestamp and content.
const (
	// LibsessionSourceDevice is the Envelope's sourcedevice, "1 as per session-ios
	// MessageWrapper.swift".
	LibsessionSourceDevice = 1
	// ProSigLen is the length of the Envelope's proSig: an Ed25519 signature by the sender's
	// Session Pro key, or a decoy of the same form when the sender has none. libsession's
	// decode_envelope refuses a proSig of any other length and accepts none at all.
	ProSigLen = 64
)

// Envelope carries an encrypted Content with its type and sending time.
type Envelope struct {
	Type EnvelopeType
	// Source is set only on group messages: the group's ID in hex.
	Source    string
	Timestamp uint64 // ms
	// SourceDevice is 1 in what libsession encodes and absent (0) in the 2024 desktop's.
	SourceDevice uint32
	Content      []byte
	// ProSig is the sender's Session Pro signature over Content, or a decoy (ProSigLen bytes)
	// in libsession's encoding; absent in the 2024 apps'.
	ProSig []byte
}

// Type and timestamp are required, so they are always written.
var envelopeFields = fields[Envelope]{layer: "Envelope", list: []field[Envelope]{
	uintAlways(envType, func(e *Envelope) *EnvelopeType { return &e.Type }).require("type"),
	optString(envSource, func(e *Envelope) *string { return &e.Source }),
	uintAlways(envTimestamp, func(e *Envelope) *uint64 { return &e.Timestamp }).require("timestamp"),
	optUint(envSourceDevice, func(e *Envelope) *uint32 { return &e.SourceDevice }),
	optBytes(envContent, func(e *Envelope) *[]byte { return &e.Content }),
	optBytes(envProSig, func(e *Envelope) *[]byte { return &e.ProSig }),
}}

// EncodedLen is the encoded length of e.
func (e *Envelope) EncodedLen() int { return envelopeFields.size(e) }

// AppendTo appends the encoding of e to b.
func (e *Envelope) AppendTo(b []byte) []byte { return envelopeFields.appendTo(b, e) }

// Marshal encodes e.
func (e *Envelope) Marshal() []byte { return e.AppendTo(make([]byte, 0, e.EncodedLen())) }

// UnmarshalEnvelope decodes an Envelope; type and timestamp must be present. Content aliases b.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	e := &Envelope{}
	if err := envelopeFields.decode(b, e); err != nil {
		return nil, err
	}
	return e, nil
}

// WebSocketRequest is WebSocketRequestMessage, the request inside a WebSocketMessage.
type WebSocketRequest struct {
	Verb string
	Path string
	Body []byte
	ID   uint64
}

// The clients set verb, path and id explicitly (libsession to "", "" and 0), and protobufjs and
// proto2 C++ write explicitly set fields even when empty, so all three are always on the wire.
var webSocketRequestFields = fields[WebSocketRequest]{layer: "WebSocketRequestMessage", list: []field[WebSocketRequest]{
	stringAlways(reqVerb, func(r *WebSocketRequest) *string { return &r.Verb }),
	stringAlways(reqPath, func(r *WebSocketRequest) *string { return &r.Path }),
	optBytes(reqBody, func(r *WebSocketRequest) *[]byte { return &r.Body }),
	uintAlways(reqID, func(r *WebSocketRequest) *uint64 { return &r.ID }),
}}

// EncodedLen is the encoded length of r.
func (r *WebSocketRequest) EncodedLen() int { return webSocketRequestFields.size(r) }

// AppendTo appends the encoding of r to b.
func (r *WebSocketRequest) AppendTo(b []byte) []byte { return webSocketRequestFields.appendTo(b, r) }

// wsLen is the length of WebSocketMessage{type REQUEST, request r}.
func wsLen(r *WebSocketRequest) int {
	return pb.SizeUint(wsType, wsTypeRequest) + pb.SizeBytes(wsRequest, r.EncodedLen())
}

// MarshalWebSocketMessage encodes WebSocketMessage{type REQUEST, request r}.
func MarshalWebSocketMessage(r *WebSocketRequest) []byte {
	b := make([]byte, 0, wsLen(r))
	b = pb.AppendUint(b, wsType, wsTypeRequest)
	return pb.AppendMessage(b, wsRequest, r.EncodedLen(), r.AppendTo)
}

// UnmarshalWebSocketMessage decodes a WebSocketMessage and returns its request. A message whose
// type is not REQUEST, or that has no request, fails with ErrNotRequest. Body aliases b.
func UnmarshalWebSocketMessage(b []byte) (*WebSocketRequest, error) {
	const layer = "WebSocketMessage"
	var typ uint64
	var req []byte
	seenReq := false
	d := pb.NewDecoder(b)
	// Not a field table: the request is decoded only once the type says there is one.
	err := eachField(layer, d, func(f int, wt pb.WireType) (err error) {
		switch f {
		case wsType:
			if err = d.Expect(f, wt, pb.Varint); err == nil {
				typ, err = d.Uint()
			}
		case wsRequest:
			if err = d.Expect(f, wt, pb.Bytes); err == nil {
				req, err = d.Bytes()
				seenReq = true
			}
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if typ != wsTypeRequest {
		return nil, decodeErr(layer, fmt.Errorf("%w: type is %d, want %d (REQUEST)", ErrNotRequest, typ, wsTypeRequest))
	}
	if !seenReq {
		return nil, decodeErr(layer, fmt.Errorf("%w: request (2) absent", ErrNotRequest))
	}
	r := &WebSocketRequest{}
	if err := webSocketRequestFields.decode(req, r); err != nil {
		return nil, err
	}
	return r, nil
}

// WrapEnvelope frames an envelope as clients using encoding enc store it:
// WebSocketMessage{REQUEST, request line, body = envelope, id 0}, then standard base64 for the
// store's "data".
func WrapEnvelope(enc Encoding, e *Envelope) string {
	return base64.StdEncoding.EncodeToString(wrapRaw(enc, e))
}

// wrapRaw is WrapEnvelope without the base64: the bytes the store request carries once its JSON
// "data" is decoded, which is what the simulated client hands to storage directly.
func wrapRaw(enc Encoding, e *Envelope) []byte {
	r := enc.request(e.Marshal())
	return MarshalWebSocketMessage(&r)
}

// request is the WebSocketRequestMessage around an envelope in encoding e.
func (e Encoding) request(body []byte) WebSocketRequest {
	if e == Legacy {
		return WebSocketRequest{Verb: RequestVerb, Path: RequestPath, Body: body}
	}
	return WebSocketRequest{Body: body}
}

// UnwrapEnvelope reverses WrapEnvelope: base64, WebSocketMessage, Envelope. The verb and path are
// not checked, as the clients do not check them either.
func UnwrapEnvelope(data string) (*Envelope, error) {
	raw, err := decodeStored(data)
	if err != nil {
		return nil, err
	}
	return unwrapRaw(raw)
}

// decodeStored undoes the base64 of a stored "data" value, reporting failure as a DecodeError of
// the base64 layer.
func decodeStored(data string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, decodeErr("base64", err)
	}
	return raw, nil
}

// unwrapRaw is UnwrapEnvelope after the base64: WebSocketMessage, Envelope. Content aliases raw.
func unwrapRaw(raw []byte) (*Envelope, error) {
	req, err := UnmarshalWebSocketMessage(raw)
	if err != nil {
		return nil, err
	}
	if len(req.Body) == 0 {
		return nil, decodeErr("WebSocketRequestMessage", fmt.Errorf("%w: body (3) carries no envelope", ErrMissingField))
	}
	return UnmarshalEnvelope(req.Body)
}
