package message

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fullContent() *Content {
	return &Content{
		DataMessage: &DataMessage{
			Body: "hello, world",
			Attachments: []AttachmentPointer{{
				ID: 0x0102030405060708, ContentType: "image/jpeg", Key: bytes.Repeat([]byte{7}, 64),
				Size: 123456, Digest: bytes.Repeat([]byte{9}, 32), FileName: "cat.jpg", Flags: 1,
				Width: 640, Height: 480, Caption: "a cat", URL: "http://filev2.getsession.org/file/12345",
			}, {ID: 0}},
			Flags:      2,
			ProfileKey: bytes.Repeat([]byte{1}, 32),
			Timestamp:  1_700_000_000_000,
			Profile:    &Profile{DisplayName: "Alice", ProfilePicture: "http://x/y", LastUpdateSeconds: 1_700_000_000},
		},
		ExpirationType:  ExpirationDeleteAfterSend,
		ExpirationTimer: 86400,
		SigTimestamp:    1_700_000_000_123,
	}
}

func TestContentVector(t *testing.T) {
	// Worked by hand from the .proto: Content{dataMessage(1){body(1) "hi"}, sigTimestamp(15) 1}.
	got := NewText("hi", 1).Marshal()
	assert.Equal(t, "0a040a0268697801", hex.EncodeToString(got))

	// An attachment's id is fixed64 and always written, even when zero.
	a := AttachmentPointer{}
	assert.Equal(t, "090000000000000000", hex.EncodeToString(a.AppendTo(nil)))

	// The profile is field 101: key 101<<3|2 = 810 = 0xaa 0x06.
	dm := DataMessage{Profile: &Profile{DisplayName: "A"}}
	assert.Equal(t, "aa06030a0141", hex.EncodeToString(dm.AppendTo(nil)))
}

func TestContentRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    *Content
	}{
		{"empty", &Content{}},
		{"text", NewText("hi there", 1_712_345_678_901)},
		{"empty data message", &Content{DataMessage: &DataMessage{}}},
		{"full", fullContent()},
		{"long body", NewText(string(bytes.Repeat([]byte("x"), 70_000)), 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.c.Marshal()
			require.Equal(t, tt.c.EncodedLen(), len(b), "EncodedLen matches the encoding")
			got, err := UnmarshalContent(b)
			require.NoError(t, err)
			assert.Equal(t, tt.c, got)
		})
	}
}

func TestContentSkipsUnknownFields(t *testing.T) {
	c := NewText("hi", 42)
	b := c.Marshal()
	// A typing message (field 6), a bool (field 106 in DataMessage would be nested; here a
	// top-level fixed32 and fixed64 of unknown numbers).
	b = pb.AppendBytes(b, 6, []byte{0x08, 0x01, 0x10, 0x00})
	b = append(pb.AppendTag(b, 99, pb.Fixed32), 1, 2, 3, 4)
	b = pb.AppendFixed64(b, 98, 7)
	got, err := UnmarshalContent(b)
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestContentDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		layer string
		want  error
	}{
		{"truncated", []byte{0x0a, 0x05, 0x0a}, "Content", pb.ErrTruncated},
		{"data message as varint", []byte{0x08, 0x01}, "Content", pb.ErrWireType},
		{"sigTimestamp as bytes", []byte{0x7a, 0x00}, "Content", pb.ErrWireType},
		{"body as varint", []byte{0x0a, 0x02, 0x08, 0x01}, "DataMessage", pb.ErrWireType},
		{"attachment without id", []byte{0x0a, 0x04, 0x12, 0x02, 0x12, 0x00}, "AttachmentPointer", ErrMissingField},
		{"attachment id as varint", []byte{0x0a, 0x04, 0x12, 0x02, 0x08, 0x01}, "AttachmentPointer", pb.ErrWireType},
		{"profile name as varint", []byte{0x0a, 0x05, 0xaa, 0x06, 0x02, 0x08, 0x01}, "LokiProfile", pb.ErrWireType},
		{"group wire type", []byte{0x0b}, "Content", pb.ErrWireType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalContent(tt.in)
			assert.ErrorIs(t, err, tt.want)
			assert.Equal(t, tt.layer, decodeError(t, err).Layer)
		})
	}
}

func FuzzUnmarshalContent(f *testing.F) {
	fuzzRoundTrip(f, UnmarshalContent, (*Content).Marshal, (*Content).EncodedLen,
		NewText("hi", 1).Marshal(),
		fullContent().Marshal(),
		[]byte{0x0a, 0x04, 0x12, 0x02, 0x12, 0x00},
		[]byte{0x0a, 0x05, 0xaa, 0x06, 0x02, 0x0a, 0x00},
		[]byte{0x0a, 0x02, 0x32, 0x00}, // an empty profile key, written but empty
	)
}
