package message

import (
	"fmt"

	"github.com/sessionsim/sessionsim/internal/enum"
)

// paddingBlock is the block size of 1:1 message padding (libsession-util
// include/session/session_protocol.hpp COMMUNITY_OR_1O1_MSG_PADDING; session-desktop
// ts/session/crypto/BufferPadding.ts PADDING_BYTE).
const paddingBlock = 160

// paddingMarker ends the content inside the padding: libsession-util src/session_protocol.cpp
// PADDING_TERMINATING_BYTE.
const paddingMarker = 0x80

// Encoding is how a client frames and pads a 1:1 message. Both open each other's messages: the
// decoders of both generations skip the fields and padding the other writes.
type Encoding uint8

const (
	// Libsession is what every 2026 app sends through libsession-util's encode_for_1o1
	// (src/session_protocol.cpp): the Content padded to a multiple of 160, an Envelope with
	// sourcedevice 1 and a 64-byte decoy proSig, inside a WebSocketRequestMessage with empty
	// verb and path.
	Libsession Encoding = iota
	// Legacy is what the 2024 apps sent: the Content padded to one byte short of a multiple of
	// 160 (session-desktop ts/session/crypto/BufferPadding.ts; the phones kept Signal's
	// PushTransportDetails with the same rule), an Envelope without sourcedevice or proSig,
	// inside a request "PUT /api/v1/message" (the desktop's framing).
	Legacy
)

var encodingNames = enum.Names[Encoding]{
	Type:  "Encoding",
	Names: []string{Libsession: "libsession", Legacy: "legacy"},
}

func (e Encoding) String() string { return encodingNames.Name(e) }

// ParseEncoding reads an encoding name as written in scenario files: "libsession" or "legacy".
func ParseEncoding(s string) (Encoding, error) {
	return encodingNames.Read(s, "message encoding", "")
}

// PaddedLen is the length of an n-byte Content after e.Pad.
//
// libsession's pad_message adds the marker and then 160 - (n+1) mod 160 bytes, so the result is
// 160*ceil((n+2)/160) (0 -> 160, 158 -> 160, 159 -> 320): a whole block of zeros when the
// marker alone would fill the last one.
//
// The 2024 apps inherited Signal's rule: the buffer is sized getPaddedMessageLength(n+1) - 1,
// where getPaddedMessageLength(x) rounds x+1 up to a multiple of 160. The "+1 -1" once left
// room for a cipher's own padding byte, so the result is one byte short of libsession's:
// 160*ceil((n+2)/160) - 1 (0 -> 159, 158 -> 159, 159 -> 319).
func (e Encoding) PaddedLen(n int) int {
	l := (n + 2 + paddingBlock - 1) / paddingBlock * paddingBlock
	if e == Legacy {
		l--
	}
	return l
}

// Pad appends 0x80 to content and then zeros up to e.PaddedLen(len(content)). content is not
// modified.
func (e Encoding) Pad(content []byte) []byte {
	out := make([]byte, e.PaddedLen(len(content)))
	copy(out, content)
	out[len(content)] = paddingMarker
	return out
}

// PaddedBy names the encoding whose padding gives an n-byte padded plaintext; ok is false when
// n is neither encoding's length, so the sender padded some other way or not at all.
func PaddedBy(n int) (e Encoding, ok bool) {
	switch n % paddingBlock {
	case 0:
		return Libsession, n > 0
	case paddingBlock - 1:
		return Legacy, true
	}
	return 0, false
}

// Unpad strips the padding either encoding adds, as libsession-util's unpad_message
// (src/session_protocol.cpp) does: trailing zeros, then one 0x80 marker. content is what the
// clients go on to decode as the Content (a sub-slice of padded), also when err is not nil.
//
// err, an ErrBadPadding in a DecodeError of layer "padding", says that padded does not end in
// 0x80 and zeros. The clients accept such a plaintext anyway: libsession stops at the first
// trailing byte that is neither zero nor the marker and takes everything before it as
// unpadded, and the 2024 desktop (BufferPadding.ts removeMessagePadding) did the same. So the
// receiving side decodes content and only reports err; a tool shows both.
func Unpad(padded []byte) (content []byte, err error) {
	i := len(padded)
	for i > 0 && padded[i-1] == 0 {
		i--
	}
	switch {
	case i == 0:
		return padded[:0], &DecodeError{Layer: "padding", Err: fmt.Errorf("%w: no 0x80 marker in %d bytes", ErrBadPadding, len(padded))}
	case padded[i-1] == paddingMarker:
		return padded[:i-1], nil
	}
	return padded[:i], &DecodeError{Layer: "padding",
		Err: fmt.Errorf("%w: last non-zero byte is 0x%02x at %d, want 0x80", ErrBadPadding, padded[i-1], i-1)}
}
