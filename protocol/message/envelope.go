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
	envType      = 1
	envSource    = 2
	envTimestamp = 5
	envContent   = 8

	wsType    = 1
	wsRequest = 2

	reqVerb = 1
	reqPath = 2
	reqBody = 3
	reqID   = 4

	// wsTypeRequest is WebSocketMessage.Type.REQUEST.
	wsTypeRequest = 1
)

// The request line the clients put around every 1:1 envelope, a leftover of Signal's websocket
// API that nothing reads any more but every client still writes and expects.
const (
	RequestVerb = "PUT"
	RequestPath = "/api/v1/message"
)

// Envelope carries an encrypted Content with its type and sending time.
type Envelope struct {
	Type EnvelopeType
	// Source is set only on group messages: the group's ID in hex.
	Source    string
	Timestamp uint64 // ms
	Content   []byte
}

// EncodedLen is the encoded length of e.
func (e *Envelope) EncodedLen() int {
	return pb.SizeUint(envType, uint64(e.Type)) + sizeString(envSource, e.Source) +
		pb.SizeUint(envTimestamp, e.Timestamp) + sizeBytesOpt(envContent, e.Content)
}

// AppendTo appends the encoding of e to b. Type and timestamp are required, so they are always
// written.
func (e *Envelope) AppendTo(b []byte) []byte {
	b = pb.AppendUint(b, envType, uint64(e.Type))
	b = appendString(b, envSource, e.Source)
	b = pb.AppendUint(b, envTimestamp, e.Timestamp)
	return appendBytesOpt(b, envContent, e.Content)
}

// Marshal encodes e.
func (e *Envelope) Marshal() []byte { return e.AppendTo(make([]byte, 0, e.EncodedLen())) }

// UnmarshalEnvelope decodes an Envelope; type and timestamp must be present. Content aliases b.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	const layer = "Envelope"
	e := &Envelope{}
	var seenType, seenTS bool
	d := pb.NewDecoder(b)
	err := eachField(layer, d, func(f int, wt pb.WireType) (err error) {
		var v uint64
		switch f {
		case envType:
			v, err = uintField(d, f, wt)
			e.Type, seenType = EnvelopeType(v), true
		case envSource:
			e.Source, err = stringField(d, f, wt)
		case envTimestamp:
			e.Timestamp, err = uintField(d, f, wt)
			seenTS = true
		case envContent:
			e.Content, err = optBytesField(d, f, wt)
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !seenType {
		return nil, decodeErr(layer, fmt.Errorf("%w: type (1)", ErrMissingField))
	}
	if !seenTS {
		return nil, decodeErr(layer, fmt.Errorf("%w: timestamp (5)", ErrMissingField))
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

// EncodedLen is the encoded length of r.
func (r *WebSocketRequest) EncodedLen() int {
	// The clients set id to 0 explicitly, and protobufjs writes explicitly set fields even when
	// zero, so id is always on the wire.
	return sizeString(reqVerb, r.Verb) + sizeString(reqPath, r.Path) +
		sizeBytesOpt(reqBody, r.Body) + pb.SizeUint(reqID, r.ID)
}

// AppendTo appends the encoding of r to b.
func (r *WebSocketRequest) AppendTo(b []byte) []byte {
	b = appendString(b, reqVerb, r.Verb)
	b = appendString(b, reqPath, r.Path)
	b = appendBytesOpt(b, reqBody, r.Body)
	return pb.AppendUint(b, reqID, r.ID)
}

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
	err := eachField(layer, d, func(f int, wt pb.WireType) (err error) {
		switch f {
		case wsType:
			typ, err = uintField(d, f, wt)
		case wsRequest:
			req, err = bytesField(d, f, wt)
			seenReq = true
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
	return unmarshalWebSocketRequest(req)
}

func unmarshalWebSocketRequest(b []byte) (*WebSocketRequest, error) {
	r := &WebSocketRequest{}
	d := pb.NewDecoder(b)
	err := eachField("WebSocketRequestMessage", d, func(f int, wt pb.WireType) (err error) {
		switch f {
		case reqVerb:
			r.Verb, err = stringField(d, f, wt)
		case reqPath:
			r.Path, err = stringField(d, f, wt)
		case reqBody:
			r.Body, err = optBytesField(d, f, wt)
		case reqID:
			r.ID, err = uintField(d, f, wt)
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// WrapEnvelope frames an envelope as the clients store it: WebSocketMessage{REQUEST, PUT
// /api/v1/message, body = envelope, id 0}, then standard base64 for the store's "data".
func WrapEnvelope(e *Envelope) string {
	return base64.StdEncoding.EncodeToString(wrapRaw(e))
}

// wrapRaw is WrapEnvelope without the base64: the bytes the store request carries once its JSON
// "data" is decoded, which is what the simulated client hands to storage directly.
func wrapRaw(e *Envelope) []byte {
	r := WebSocketRequest{Verb: RequestVerb, Path: RequestPath, Body: e.Marshal()}
	return MarshalWebSocketMessage(&r)
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
