package message

import (
	"errors"
	"fmt"
)

// Causes of failures when opening or decoding a message; test with errors.Is. Decoding failures
// arrive wrapped in a *DecodeError that names the layer.
var (
	// ErrMissingField: a field the format requires (Envelope type and timestamp, the
	// WebSocketMessage request, an attachment's id) is absent.
	ErrMissingField = errors.New("required field missing")
	// ErrNotRequest: the WebSocketMessage is not a REQUEST, so it carries no envelope.
	ErrNotRequest = errors.New("websocket message is not a request")
	// ErrEnvelopeType: the Envelope's type is not the one the caller opens (SESSION_MESSAGE for
	// 1:1 messages, CLOSED_GROUP_MESSAGE for groups).
	ErrEnvelopeType = errors.New("unexpected envelope type")
	// ErrEnvelopeField: an Envelope field has a length the receiving clients refuse (a 1:1
	// proSig not of 64 bytes, a source neither empty nor a Session ID).
	ErrEnvelopeField = errors.New("malformed envelope field")
	// ErrBadPadding: the padded plaintext does not end with 0x80 followed by zeros.
	ErrBadPadding = errors.New("malformed message padding")
	// ErrTooShort: a ciphertext or plaintext is shorter than its fixed overhead.
	ErrTooShort = errors.New("too short")
	// ErrDecrypt: authenticated decryption failed: the message is for another key, or it was
	// altered in transit.
	ErrDecrypt = errors.New("decryption failed")
	// ErrBadSignature: the sender's signature does not verify, so the claimed sender did not
	// write this message for this recipient.
	ErrBadSignature = errors.New("bad sender signature")
	// ErrBadSenderKey: the sender's Ed25519 key is not a usable curve point (it has no X25519
	// form, so it has no Session ID).
	ErrBadSenderKey = errors.New("invalid sender ed25519 key")
	// ErrCompressed: a group message carries zstd-compressed data ("z"), which this package does
	// not decompress.
	ErrCompressed = errors.New("compressed group message not supported")
	// ErrVersion: a group message's version tag is not 1.
	ErrVersion = errors.New("unsupported group message version")
	// ErrBadMAC: an attachment's HMAC does not match: wrong key, or altered.
	ErrBadMAC = errors.New("attachment MAC mismatch")
	// ErrBadDigest: an attachment's SHA-256 digest differs from the one the message carries.
	ErrBadDigest = errors.New("attachment digest mismatch")
	// ErrBadKey: a key has the wrong length, or an ID the wrong kind (a group ID where a
	// Session ID belongs, or the reverse).
	ErrBadKey = errors.New("invalid key or ID")
)

// DecodeError is a failure to decode one layer of a message.
type DecodeError struct {
	// Layer names the format: "Content", "DataMessage", "AttachmentPointer", "LokiProfile",
	// "Envelope", "WebSocketMessage", "WebSocketRequestMessage", "base64", "bencode", "padding".
	Layer string
	Err   error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("decoding %s: %v", e.Layer, e.Err) }
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(layer string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err
	}
	return &DecodeError{Layer: layer, Err: err}
}
