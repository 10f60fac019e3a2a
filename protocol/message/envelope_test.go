package message

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvelopeVector(t *testing.T) {
	// Worked by hand: type(1)=6, timestamp(5)=1, content(8)=aabb; no source on 1:1 messages.
	e := Envelope{Type: SessionMessage, Timestamp: 1, Content: []byte{0xaa, 0xbb}}
	assert.Equal(t, "080628014202aabb", hex.EncodeToString(e.Marshal()))

	// WebSocketMessage{type(1)=1, request(2){verb(1) "PUT", path(2) "/api/v1/message",
	// body(3) 00, id(4) 0}}.
	r := WebSocketRequest{Verb: RequestVerb, Path: RequestPath, Body: []byte{0}}
	want := "0801" + "121b" + "0a03505554" + "120f2f6170692f76312f6d657373616765" + "1a0100" + "2000"
	assert.Equal(t, want, hex.EncodeToString(MarshalWebSocketMessage(&r)))
}

func TestWrapVectors(t *testing.T) {
	// Worked by hand from the .proto field numbers (type 1, timestamp 5, sourceDevice 7,
	// content 8, proSig 11; request verb 1, path 2, body 3, requestId 4), fields in number order.
	decoy := bytes.Repeat([]byte{0xcc}, ProSigLen)
	tests := []struct {
		enc  Encoding
		env  Envelope
		want string
		size int
	}{
		{Libsession, Envelope{Type: SessionMessage, Timestamp: 1, SourceDevice: 1, Content: []byte{0xaa, 0xbb}, ProSig: decoy},
			// WebSocketMessage{type 1, request(84)}; request{verb "", path "", body(76), id 0};
			// envelope: 0806 2801 3801 4202aabb 5a40 cc*64 = 2+2+2+4+66 = 76 bytes.
			"0801" + "1254" + "0a00" + "1200" + "1a4c" + "0806" + "2801" + "3801" + "4202aabb" + "5a40" + strings.Repeat("cc", 64) + "2000",
			2 + 2 + 84},
		{Legacy, Envelope{Type: SessionMessage, Timestamp: 1, Content: []byte{0xaa, 0xbb}},
			// request{verb "PUT", path "/api/v1/message", body(8), id 0} = 5+17+10+2 = 34 bytes.
			"0801" + "1222" + "0a03505554" + "120f2f6170692f76312f6d657373616765" + "1a08" + "080628014202aabb" + "2000",
			2 + 2 + 34},
	}
	for _, tt := range tests {
		raw := wrapRaw(tt.enc, &tt.env)
		assert.Equal(t, tt.want, hex.EncodeToString(raw), "%v", tt.enc)
		assert.Len(t, raw, tt.size, "%v", tt.enc)
		got, err := unwrapRaw(raw)
		require.NoError(t, err)
		assert.Equal(t, &tt.env, got)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	tests := []Envelope{
		{Type: SessionMessage, Timestamp: 1_712_345_678_901, Content: []byte("sealed")},
		{Type: ClosedGroupMessage, Source: "03" + aliceID[2:], Timestamp: 0, Content: []byte("x")},
		{Type: SessionMessage},
	}
	for _, e := range tests {
		b := e.Marshal()
		require.Equal(t, e.EncodedLen(), len(b))
		got, err := UnmarshalEnvelope(b)
		require.NoError(t, err)
		assert.Equal(t, &e, got)

		for _, enc := range encodings {
			got, err = UnwrapEnvelope(WrapEnvelope(enc, &e))
			require.NoError(t, err)
			assert.Equal(t, &e, got, "%v", enc)
		}
	}
}

func TestEnvelopeDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"no type", []byte{0x28, 0x01}, ErrMissingField},
		{"no timestamp", []byte{0x08, 0x06}, ErrMissingField},
		{"content as varint", []byte{0x08, 0x06, 0x28, 0x01, 0x40, 0x01}, pb.ErrWireType},
		{"truncated content", []byte{0x08, 0x06, 0x28, 0x01, 0x42, 0x05}, pb.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalEnvelope(tt.in)
			assert.ErrorIs(t, err, tt.want)
			assert.Equal(t, "Envelope", decodeError(t, err).Layer)
		})
	}
}

func TestWebSocketDecodeErrors(t *testing.T) {
	env := (&Envelope{Type: SessionMessage, Timestamp: 5}).Marshal()
	response := pb.AppendBytes(pb.AppendUint(nil, 1, 2), 3, []byte{0x08, 0x01})
	noRequest := pb.AppendUint(nil, 1, 1)
	badRequest := pb.AppendBytes(pb.AppendUint(nil, 1, 1), 2, []byte{0x0a, 0x09})
	emptyBody := MarshalWebSocketMessage(&WebSocketRequest{Verb: "PUT"})
	tests := []struct {
		name string
		data string
		want error
	}{
		{"not base64", "!!!", base64.CorruptInputError(0)},
		{"response", base64.StdEncoding.EncodeToString(response), ErrNotRequest},
		{"no request", base64.StdEncoding.EncodeToString(noRequest), ErrNotRequest},
		{"bare envelope", base64.StdEncoding.EncodeToString(env), ErrNotRequest},
		{"truncated request", base64.StdEncoding.EncodeToString(badRequest), pb.ErrTruncated},
		{"empty body", base64.StdEncoding.EncodeToString(emptyBody), ErrMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnwrapEnvelope(tt.data)
			assert.ErrorIs(t, err, tt.want)
			decodeError(t, err)
		})
	}
}

func FuzzUnmarshalEnvelope(f *testing.F) {
	fuzzRoundTrip(f, UnmarshalEnvelope, (*Envelope).Marshal, (*Envelope).EncodedLen,
		(&Envelope{Type: SessionMessage, Timestamp: 1, Content: []byte{1}}).Marshal(),
		(&Envelope{Type: ClosedGroupMessage, Source: "03ab", Timestamp: 1 << 40}).Marshal(),
		(&Envelope{Type: SessionMessage, Timestamp: 1, SourceDevice: 1, Content: []byte{1}, ProSig: make([]byte, ProSigLen)}).Marshal(),
		[]byte{0x08, 0x06},
	)
}

func FuzzUnmarshalWebSocketMessage(f *testing.F) {
	fuzzRoundTrip(f, UnmarshalWebSocketMessage, MarshalWebSocketMessage, wsLen,
		MarshalWebSocketMessage(&WebSocketRequest{Verb: RequestVerb, Path: RequestPath, Body: []byte{8, 6, 0x28, 1}}),
		MarshalWebSocketMessage(&WebSocketRequest{Body: []byte{8, 6, 0x28, 1, 0x38, 1}}),
		pb.AppendUint(nil, 1, 2),
		[]byte{0x08, 0x01, 0x12, 0x00},
	)
}
