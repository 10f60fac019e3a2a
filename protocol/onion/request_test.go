package onion

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitCombined(t *testing.T) {
	tests := []struct {
		name       string
		in         []byte
		blob, rest string
		ok         bool
	}{
		{"empty", nil, "", "", false},
		{"short prefix", []byte{1, 0, 0}, "", "", false},
		{"zero length", []byte{0, 0, 0, 0, '{', '}'}, "", "{}", true},
		{"blob and json", append([]byte{3, 0, 0, 0}, "abc{}"...), "abc", "{}", true},
		{"blob only", append([]byte{3, 0, 0, 0}, "abc"...), "abc", "", true},
		{"length past end", append([]byte{4, 0, 0, 0}, "abc"...), "", "", false},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 'x'}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blob, rest, err := SplitCombined(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.blob, string(blob))
			assert.Equal(t, tt.rest, string(rest))
			assert.Equal(t, tt.in, AppendCombined(nil, blob, rest))
		})
	}
}

func TestParseGuardRequest(t *testing.T) {
	key := strings.Repeat("ab", 32)
	frame := func(json string) []byte { return AppendCombined(nil, []byte("sealed"), []byte(json)) }
	tests := []struct {
		name string
		body []byte
		want Request
		kind Kind
	}{
		{"minimal", frame(`{"ephemeral_key":"` + key + `"}`), Request{EncType: AESGCM}, 0},
		{"spaces", frame(` { "ephemeral_key" : "` + key + `" , "enc_type" : "xchacha20" } `), Request{EncType: XChaCha20}, 0},
		{"gcm alias", frame(`{"ephemeral_key":"` + key + `","enc_type":"gcm"}`), Request{EncType: AESGCM}, 0},
		{"poly1305 alias", frame(`{"ephemeral_key":"` + key + `","enc_type":"xchacha20-poly1305"}`), Request{EncType: XChaCha20}, 0},
		{"upper-case hex", frame(`{"ephemeral_key":"` + strings.ToUpper(key) + `"}`), Request{}, 0},
		{"hop_no", frame(`{"ephemeral_key":"` + key + `","hop_no":5}`), Request{HopNo: 5}, 0},
		{"negative hop_no", frame(`{"ephemeral_key":"` + key + `","hop_no":-3}`), Request{HopNo: 0}, 0},
		{"unknown keys ignored", frame(`{"ephemeral_key":"` + key + `","x":[1,2]}`), Request{}, 0},
		{"no key", frame(`{"enc_type":"aes-gcm"}`), Request{}, KindBadRequest},
		{"key case matters", frame(`{"EPHEMERAL_KEY":"` + key + `"}`), Request{}, KindBadRequest},
		{"short key", frame(`{"ephemeral_key":"abcd"}`), Request{}, KindBadRequest},
		{"key not hex", frame(`{"ephemeral_key":"` + strings.Repeat("zz", 32) + `"}`), Request{}, KindBadRequest},
		{"key not a string", frame(`{"ephemeral_key":12}`), Request{}, KindBadRequest},
		{"bad enc_type", frame(`{"ephemeral_key":"` + key + `","enc_type":"aes-cbc"}`), Request{}, KindBadRequest},
		{"hop_no string", frame(`{"ephemeral_key":"` + key + `","hop_no":"2"}`), Request{}, KindBadRequest},
		{"not json", frame(`ephemeral_key`), Request{}, KindBadRequest},
		{"json array", frame(`["ephemeral_key"]`), Request{}, KindBadRequest},
		{"json null", frame(`null`), Request{}, KindBadRequest},
		{"trailing garbage", frame(`{"ephemeral_key":"` + key + `"}x`), Request{}, KindBadRequest},
		{"no frame", []byte{1, 2}, Request{}, KindBadRequest},
		{"too large", make([]byte, MaxBodySize+1), Request{}, KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGuardRequest(tt.body)
			if tt.kind != 0 {
				assert.Equal(t, tt.kind, hopError(t, err).Kind)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "sealed", string(got.Ciphertext))
			assert.Equal(t, key, hex.EncodeToString(got.EphemeralKey[:]))
			assert.Equal(t, tt.want.EncType, got.EncType)
			assert.Equal(t, tt.want.HopNo, got.HopNo)
		})
	}
}

func TestGuardBodyRoundTrip(t *testing.T) {
	for _, r := range []Request{
		{Ciphertext: []byte("x"), EncType: AESGCM},
		{Ciphertext: bytes.Repeat([]byte{7}, 300), EncType: XChaCha20, HopNo: 3, EphemeralKey: [32]byte{1, 2, 3}},
	} {
		body := r.GuardBody()
		got, err := ParseGuardRequest(body)
		require.NoError(t, err)
		assert.Equal(t, r, got)
	}
	// The JSON the real clients write: sorted keys, no spaces, hop_no only when asked for.
	r := Request{Ciphertext: []byte("ct"), EncType: XChaCha20}
	_, meta, err := SplitCombined(r.GuardBody())
	require.NoError(t, err)
	assert.Equal(t, `{"enc_type":"xchacha20","ephemeral_key":"`+strings.Repeat("00", 32)+`"}`, string(meta))
}

// countingReader fails the test if more than limit bytes are read from it.
type countingReader struct {
	n, limit int64
	t        *testing.T
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		c.t.Errorf("read past %d bytes", c.limit)
		return 0, errors.New("read too far")
	}
	n := int64(len(p))
	n = min(n, c.limit-c.n)
	c.n += n
	return int(n), nil
}

func TestReadGuardRequestLimits(t *testing.T) {
	r := &countingReader{limit: 1 << 40, t: t}
	_, err := ReadGuardRequest(r, MaxBodySize+1)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Zero(t, r.n, "a declared length over the limit is refused before reading")

	r = &countingReader{limit: MaxBodySize + 1, t: t}
	_, err = ReadGuardRequest(r, -1)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.EqualValues(t, MaxBodySize+1, r.n, "an undeclared body is read one byte past the limit, no further")

	want := Request{Ciphertext: []byte("abc"), EncType: XChaCha20, EphemeralKey: [32]byte{9}}
	got, err := ReadGuardRequest(bytes.NewReader(want.GuardBody()), -1)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = ReadGuardRequest(io.MultiReader(bytes.NewReader([]byte{1}), errReader{}), -1)
	assert.ErrorIs(t, err, ErrBadRequest)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestRelayBody(t *testing.T) {
	r := Request{Ciphertext: []byte("ciphertext"), EphemeralKey: [32]byte{0: 0xaa, 31: 0xbb}, EncType: XChaCha20, HopNo: 2}
	body := r.RelayBody()
	want := "d4:data10:ciphertext8:enc_type9:xchacha2013:ephemeral_key32:" + string(r.EphemeralKey[:]) + "6:hop_noi2ee"
	assert.Equal(t, want, string(body))
	got, err := ParseRelayRequest(body)
	require.NoError(t, err)
	assert.Equal(t, r, got)
}

func TestParseRelayRequest(t *testing.T) {
	key := "32:" + strings.Repeat("k", 32)
	tests := []struct {
		name string
		body string
		want Request
		kind Kind
	}{
		{"defaults", "d4:data2:ct13:ephemeral_key" + key + "e", Request{HopNo: 1, EncType: AESGCM}, 0},
		{"hop 0 counts as 1", "d4:data2:ct13:ephemeral_key" + key + "6:hop_noi0ee", Request{HopNo: 1}, 0},
		{"hop 15", "d4:data2:ct13:ephemeral_key" + key + "6:hop_noi15ee", Request{HopNo: 15}, 0},
		{"unknown keys skipped", "d1:ali1ee4:data2:ct13:ephemeral_key" + key + "1:fd1:xi1ee1:zi0ee", Request{HopNo: 1}, 0},
		{"gcm alias", "d4:data2:ct8:enc_type3:gcm13:ephemeral_key" + key + "e", Request{HopNo: 1}, 0},
		{"hop 16", "d4:data2:ct13:ephemeral_key" + key + "6:hop_noi16ee", Request{}, KindTooManyHops},
		{"no data", "d13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"no key", "d4:data2:cte", Request{}, KindBadRelay},
		{"short key", "d4:data2:ct13:ephemeral_key3:abce", Request{}, KindBadRelay},
		{"bad enc_type", "d4:data2:ct8:enc_type3:cbc13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"keys out of order", "d13:ephemeral_key" + key + "4:data2:cte", Request{}, KindBadRelay},
		{"string past end", "d4:data99:ct13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"unterminated", "d4:data2:ct13:ephemeral_key" + key, Request{}, KindBadRelay},
		{"trailing", "d4:data2:ct13:ephemeral_key" + key + "ex", Request{}, KindBadRelay},
		{"not a dict", "l4:datae", Request{}, KindBadRelay},
		{"leading zero length", "d04:data2:ct13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"hop not an integer", "d4:data2:ct13:ephemeral_key" + key + "6:hop_no1:2e", Request{}, KindBadRelay},
		{"empty", "", Request{}, KindBadRelay},
		{"data not a string", "d4:datai1e13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"key not a string", "d4:data2:ct13:ephemeral_keyi1ee", Request{}, KindBadRelay},
		// Unknown values are read by the one strict decoder, not skipped unchecked.
		{"unknown dict keys out of order", "d1:ad1:bi1e1:ai2ee4:data2:ct13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
		{"unknown integer not canonical", "d1:ai01e4:data2:ct13:ephemeral_key" + key + "e", Request{}, KindBadRelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRelayRequest([]byte(tt.body))
			if tt.kind != 0 {
				assert.Equal(t, tt.kind, hopError(t, err).Kind)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ct", string(got.Ciphertext))
			assert.Equal(t, strings.Repeat("k", 32), string(got.EphemeralKey[:]))
			assert.Equal(t, tt.want.HopNo, got.HopNo)
			assert.Equal(t, tt.want.EncType, got.EncType)
		})
	}
	_, err := ParseRelayRequest(make([]byte, MaxBodySize+1))
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestErrorAnswers(t *testing.T) {
	next := [32]byte{0: 0xfe, 31: 0x01}
	nextHex := hex.EncodeToString(next[:])
	tests := []struct {
		err       *Error
		status    int
		text      string
		encrypted bool
		sentinel  error
	}{
		{&Error{Kind: KindInvalidCiphertext}, 400, "Invalid ciphertext", false, ErrInvalidCiphertext},
		{&Error{Kind: KindInvalidJSON}, 400, "Invalid json", true, ErrInvalidJSON},
		{&Error{Kind: KindInvalidURL}, 400, "Invalid url", true, ErrInvalidURL},
		{&Error{Kind: KindTooManyHops}, 400, "onion request max path length exceeded", false, ErrTooManyHops},
		{&Error{Kind: KindTooLarge}, 413, "Request body too large", false, ErrTooLarge},
		{badRequest("no key"), 400, "Error parsing onion request: no key", false, ErrBadRequest},
		{badRelay("no data"), 400, "Invalid internal onion request: no data", false, ErrBadRelay},
		{NextNodeNotFound(next), 502, "Next node not found: " + nextHex, false, ErrNextNodeNotFound},
		{SnodeNotReady(next), 503, "Snode not ready: " + nextHex, false, ErrSnodeNotReady},
		{&Error{Kind: KindSnodeNotReady}, 503, "Snode not ready", false, ErrSnodeNotReady},
		{RequestTimeout(), 504, "Request time out", false, ErrTimeout},
		{ProxyFailed(true, "Timeout was reached"), 504, "Timeout was reached", false, ErrProxyFailed},
		{ProxyFailed(false, "Couldn't connect to server"), 502, "Couldn't connect to server", false, ErrProxyFailed},
	}
	for _, tt := range tests {
		t.Run(tt.err.Kind.String(), func(t *testing.T) {
			assert.Equal(t, tt.status, tt.err.Status())
			assert.Equal(t, tt.text, tt.err.Text())
			assert.Equal(t, tt.encrypted, tt.err.Encrypted())
			assert.ErrorIs(t, tt.err, tt.sentinel)
			assert.NotErrorIs(t, tt.err, ErrBadResponse)
			assert.Contains(t, tt.err.Error(), tt.text)
		})
	}
	assert.NotErrorIs(t, NextNodeNotFound(next), ErrTimeout)
}
