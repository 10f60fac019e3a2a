package message

import "fmt"

// paddingBlock is the block size of 1:1 message padding.
const paddingBlock = 160

// PaddedLen is the length of an n-byte Content after Pad.
//
// The clients inherited Signal's rule: the buffer is sized getPaddedMessageLength(n+1) - 1,
// where getPaddedMessageLength(x) rounds x+1 up to a multiple of 160. The "+1 -1" once left
// room for a cipher's own padding byte, so the result is one byte short of a multiple of 160:
// 160*ceil((n+2)/160) - 1 (0 -> 159, 158 -> 159, 159 -> 319). We keep it exactly, since it
// decides the stored size.
func PaddedLen(n int) int {
	return (n+2+paddingBlock-1)/paddingBlock*paddingBlock - 1
}

// Pad appends 0x80 to content and then zeros up to PaddedLen(len(content)). content is not
// modified.
func Pad(content []byte) []byte {
	out := make([]byte, PaddedLen(len(content)))
	copy(out, content)
	out[len(content)] = 0x80
	return out
}

// Unpad strips the padding Pad added: the last non-zero byte must be 0x80, and what precedes it
// is the content (a sub-slice of padded).
//
// The desktop client lets an unpadded buffer through when its last non-zero byte is not 0x80; we
// reject it instead, because every client pads, and a message without the marker is corrupt or
// forged. We do not insist on the exact length, because the marker alone is what the clients
// check.
func Unpad(padded []byte) ([]byte, error) {
	for i := len(padded) - 1; i >= 0; i-- {
		switch padded[i] {
		case 0x00:
			continue
		case 0x80:
			return padded[:i], nil
		default:
			return nil, &DecodeError{Layer: "padding",
				Err: fmt.Errorf("%w: last non-zero byte is 0x%02x at %d, want 0x80", ErrBadPadding, padded[i], i)}
		}
	}
	return nil, &DecodeError{Layer: "padding", Err: fmt.Errorf("%w: no 0x80 marker in %d bytes", ErrBadPadding, len(padded))}
}
