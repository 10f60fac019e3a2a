package onion

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

func TestNodeResponseFormats(t *testing.T) {
	s := suite(cryptomode.Real)
	k := Key{EncType: AESGCM, Key: [32]byte{1, 2, 3}}
	tests := []struct {
		name      string
		f         ResponseFormat
		body      string
		wantPlain string
	}{
		{"string body", ResponseFormat{}, `{"hf":[19,3]}`, `{"body":"{\"hf\":[19,3]}","status":200}`},
		{"embedded json", ResponseFormat{EmbedJSON: true}, `{"hf":[19,3]}`, `{"body":{"hf":[19,3]},"status":200}`},
		{"embedded non-json stays a string", ResponseFormat{EmbedJSON: true}, `Snode not ready`, `{"body":"Snode not ready","status":200}`},
		{"raw", ResponseFormat{Raw: true}, `<&>`, `{"body":"<&>","status":200}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, _, err := SealNodeResponse(s, k, seeded(1), tt.f, NodeResponse{Status: 200, Body: []byte(tt.body)})
			require.NoError(t, err)
			sealed := reply
			if !tt.f.Raw {
				sealed, err = base64.StdEncoding.DecodeString(string(reply))
				require.NoError(t, err)
			}
			plain, _, err := k.Open(s.Costs(), sealed)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPlain, string(plain))
			assert.Len(t, sealed, 12+len(tt.wantPlain)+16, "an aes-gcm reply is 12 + len + 16 bytes")

			got, _, err := OpenNodeResponse(s.Costs(), k, tt.f, reply)
			require.NoError(t, err)
			assert.Equal(t, NodeResponse{Status: 200, Body: []byte(tt.body)}, got)
		})
	}
}

func TestOpenNodeResponseFailures(t *testing.T) {
	s := suite(cryptomode.Real)
	k := Key{EncType: XChaCha20, Key: [32]byte{9}}
	seal := func(plain string) []byte {
		sealed, _, err := k.Seal(s.Costs(), seeded(2), []byte(plain))
		require.NoError(t, err)
		return []byte(base64.StdEncoding.EncodeToString(sealed))
	}
	good := seal(`{"body":"ok","status":200}`)
	unpadded := bytes.TrimRight(good, "=")
	tests := []struct {
		name  string
		reply []byte
		ok    bool
	}{
		{"good", good, true},
		{"unpadded base64", unpadded, true},
		{"not base64", []byte("!!!"), false},
		{"too short", []byte(base64.StdEncoding.EncodeToString(make([]byte, 10))), false},
		{"tampered", []byte(base64.StdEncoding.EncodeToString(append(mustB64(t, good)[:len(mustB64(t, good))-1], 0))), false},
		{"no status", seal(`{"body":"ok"}`), false},
		{"status a string", seal(`{"status":"200"}`), false},
		{"not an object", seal(`[200]`), false},
		{"no body is fine", seal(`{"status":204}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := OpenNodeResponse(s.Costs(), k, ResponseFormat{}, tt.reply)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrBadResponse)
			}
		})
	}
	other := Key{EncType: XChaCha20, Key: [32]byte{8}}
	_, _, err := OpenNodeResponse(s.Costs(), other, ResponseFormat{}, good)
	assert.ErrorIs(t, err, ErrBadResponse, "another request's key")
}

func mustB64(t *testing.T, b []byte) []byte {
	out, err := base64.StdEncoding.DecodeString(string(b))
	require.NoError(t, err)
	return out
}

func TestV4Encoding(t *testing.T) {
	req := V4Request{Method: "GET", Endpoint: "/room/x", Headers: map[string]string{"b": "2", "a": "1"}}
	enc, err := EncodeV4Request(req)
	require.NoError(t, err)
	assert.Equal(t, `l65:{"method":"GET","endpoint":"/room/x","headers":{"a":"1","b":"2"}}e`, string(enc))
	got, err := DecodeV4Request(enc)
	require.NoError(t, err)
	assert.Equal(t, req, got)

	req.Body = []byte{}
	enc, err = EncodeV4Request(req)
	require.NoError(t, err)
	assert.True(t, bytes.HasSuffix(enc, []byte("}0:e")), "an empty body is still sent")
	got, err = DecodeV4Request(enc)
	require.NoError(t, err)
	assert.Equal(t, req, got)

	noHeaders, err := EncodeV4Request(V4Request{Method: "GET", Endpoint: "/x"})
	require.NoError(t, err)
	assert.Contains(t, string(noHeaders), `"headers":{}`)

	resp := V4Response{Code: 200, Body: []byte("hi")}
	assert.Equal(t, `l25:{"code":200,"headers":{}}2:hie`, string(EncodeV4Response(resp)))
	gotResp, err := DecodeV4Response(EncodeV4Response(resp))
	require.NoError(t, err)
	assert.Equal(t, V4Response{Code: 200, Headers: map[string]string{}, Body: []byte("hi")}, gotResp)
}

func TestDecodeV4Failures(t *testing.T) {
	list := func(json string) string { return string(encodeV4([]byte(json), nil)) }
	tests := []string{
		``,
		`l`,
		`le`,
		`d2:{}e`,
		`l2:{}`,
		`l2:{}2:hie `,
		`l2:{}2:hi2:hie`,
		`l2:{}i1ee`,
		`li1ee`,
		`l9:{}e`,
		list(`[1]`),
		list(`{}`),
		list(`{"code":"200"}`),
		list(`{"code":200,"headers":1}`),
		list(`{"code":200,"headers":{"a":1}}`),
		list(`{"x":`),
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			_, err := DecodeV4Response([]byte(in))
			assert.Error(t, err)
		})
	}
	_, err := DecodeV4Response([]byte(list(`{"code":200}`)))
	require.NoError(t, err, "the well-formed baseline")
	for _, in := range []string{list(`{}`), list(`{"method":"GET"}`), list(`{"method":"GET","endpoint":7}`), list(`{"method":"GET","endpoint":"/x","headers":[]}`)} {
		_, err := DecodeV4Request([]byte(in))
		assert.Error(t, err, in)
	}
	_, err = DecodeV4Request([]byte(list(`{"method":"GET","endpoint":"/x"}`)))
	require.NoError(t, err, "the well-formed baseline")
}

func TestOpenServerRequestFailures(t *testing.T) {
	s := suite(cryptomode.Real)
	nodes := makeNodes(t, s, 81, 2)
	sealed, _, eph, _, err := encryptTo(s, AESGCM, seeded(1), nodes[1].X25519, []byte("not bencode"))
	require.NoError(t, err)
	frame := func(blob []byte, json string) []byte { return AppendCombined(nil, blob, []byte(json)) }
	ephHex := fmt.Sprintf("%x", eph)
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"not framed", []byte{1}, ErrBadRequest},
		{"no key", frame(sealed, `{"host":"h"}`), ErrBadRequest},
		{"bad enc_type", frame(sealed, `{"ephemeral_key":"`+ephHex+`","enc_type":"x"}`), ErrBadRequest},
		{"wrong enc_type", frame(sealed, `{"ephemeral_key":"`+ephHex+`","enc_type":"xchacha20"}`), ErrInvalidCiphertext},
		{"not a v4 request", frame(sealed, `{"ephemeral_key":"`+ephHex+`"}`), ErrBadRequest},
		{"too large", make([]byte, MaxBodySize+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := OpenServerRequest(s, nodes[1].KP, tt.body)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, _, _, err = OpenServerRequest(s, nodes[0].KP, frame(sealed, `{"ephemeral_key":"`+ephHex+`"}`))
	assert.ErrorIs(t, err, ErrInvalidCiphertext, "another server's key")
}
