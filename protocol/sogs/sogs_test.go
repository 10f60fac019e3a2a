package sogs

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// The vector of session-desktop ts/session/apis/open_group_api/sogsv3/sogsV3SendMessage test
// helper (headerTest): Ed25519 seed c010d8..., server key c3b3c6..., nonce 09d079..., time
// 1642472103, GET /room/the-best-room/messages/recent?limit=25.
func TestSignMatchesTheAppsVector(t *testing.T) {
	seed, _ := hex.DecodeString("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9")
	var server [32]byte
	hex.Decode(server[:], []byte("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d"))
	var nonce [NonceSize]byte
	hex.Decode(nonce[:], []byte("09d0799f2295990182c3ab3406fbfc5b"))
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)

	b, cost := Blind15(suite.Costs(), seed, server)
	assert.Positive(t, cost)
	assert.Equal(t, "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5", b.ID.String())

	path := "/room/the-best-room/messages/recent?limit=25"
	h, _ := Sign(suite, b, server, nonce, 1642472103, "GET", path, nil)
	assert.Equal(t, map[string]string{
		HeaderPubkey:    "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5",
		HeaderTimestamp: "1642472103",
		HeaderNonce:     "CdB5nyKVmQGCw6s0Bvv8Ww==",
		HeaderSignature: "gYqpWZX6fnF4Gb2xQM3xaXs0WIYEI49+B8q4mUUEg8Rw0ObaHUWfoWjMHMArAtP9QlORfiydsKWz1o6zdPVeCQ==",
	}, h)

	auth, _, err := Verify(suite, server, "GET", path, h, nil)
	require.NoError(t, err)
	assert.Equal(t, b.ID, auth.ID)
	_, _, err = Verify(suite, server, "GET", path+"0", h, nil)
	assert.ErrorIs(t, err, ErrAuth)
}

// TestModeledSameSizes: modeled crypto gives headers of the same sizes, which verify in that
// mode and not in the other.
func TestModeledSameSizes(t *testing.T) {
	seed := make([]byte, 32)
	var server [32]byte
	body := PollRequest([]RoomCursor{{Token: "lobby", Seqno: 12}})
	real := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	modeled := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	b, _ := Blind15(real.Costs(), seed, server)
	hr, _ := Sign(real, b, server, [NonceSize]byte{}, 1700000000, BatchMethod, BatchEndpoint, body)
	hm, _ := Sign(modeled, b, server, [NonceSize]byte{}, 1700000000, BatchMethod, BatchEndpoint, body)
	for k := range hr {
		assert.Len(t, hm[k], len(hr[k]), k)
	}
	assert.Len(t, hr[HeaderPubkey], 66)
	assert.Len(t, hr[HeaderNonce], 24)
	assert.Len(t, hr[HeaderSignature], 88)
	_, _, err := Verify(modeled, server, BatchMethod, BatchEndpoint, hm, body)
	assert.NoError(t, err)
	_, _, err = Verify(real, server, BatchMethod, BatchEndpoint, hm, body)
	assert.ErrorIs(t, err, ErrAuth)
}

func TestPollRoundTrip(t *testing.T) {
	rooms := []RoomCursor{{Token: "lobby", InfoUpdates: 3, Seqno: 7}, {Token: "dev"}}
	body := PollRequest(rooms)
	assert.Equal(t, `[{"method":"GET","path":"/capabilities"},{"method":"GET","path":"/room/lobby/pollInfo/3"},`+
		`{"method":"GET","path":"/room/lobby/messages/since/7?t=r\u0026reactors=5"},{"method":"GET","path":"/room/dev/pollInfo/0"},`+
		`{"method":"GET","path":"/room/dev/messages/since/0?t=r\u0026reactors=5"}]`, string(body))
	subs, err := ParseBatch(body)
	require.NoError(t, err)
	assert.Equal(t, []Sub{{Kind: "capabilities"}, {Kind: "pollInfo", Room: "lobby", Value: 3}, {Kind: "since", Room: "lobby", Value: 7},
		{Kind: "pollInfo", Room: "dev"}, {Kind: "since", Room: "dev"}}, subs)

	msgs := [][]byte{Message(1, 8, "15ab", 1700000000.5, []byte{1, 2, 3}, make([]byte, 64)), Message(2, 9, "15ab", 1700000001, []byte{4}, make([]byte, 64))}
	assert.Equal(t, `{"id":1,"session_id":"15ab","posted":1700000000.5,"seqno":8,"data":"AQID","signature":"`+strings.Repeat("A", 86)+`==","reactions":{}}`, string(msgs[0]))
	ok := map[string]string{"content-type": "application/json"}
	answer := BatchResponse([]SubResponse{
		{Code: http.StatusOK, Headers: ok, Body: Capabilities()},
		{Code: http.StatusOK, Headers: ok, Body: PollInfo("lobby", 5, 4)},
		{Code: http.StatusOK, Headers: ok, Body: Messages(msgs)},
		{Code: http.StatusNotFound, Headers: map[string]string{}, Body: []byte("null")},
		{Code: http.StatusNotFound, Headers: map[string]string{}, Body: []byte("null")},
	})
	got, err := ParsePollResponse(rooms, answer)
	require.NoError(t, err)
	assert.Equal(t, PollResult{Rooms: []RoomResult{
		{Token: "lobby", Code: http.StatusOK, New: 2, Seqno: 9, InfoUpdates: 4},
		{Token: "dev", Code: http.StatusNotFound},
	}}, got)
}

func TestParseBatchRefuses(t *testing.T) {
	for _, body := range []string{``, `{}`, `[]`, `[{"method":"POST","path":"/capabilities"}]`, `[{"method":"GET","path":"/room//pollInfo/1"}]`,
		`[{"method":"GET","path":"/room/a/messages/since/-1"}]`, `[{"method":"GET","path":"/room/a/messages/before/1"}]`, `[{"method":"GET","path":"/inbox"}]`,
		"[" + strings.Repeat(`{"method":"GET","path":"/capabilities"},`, MaxSubRequests) + `{"method":"GET","path":"/capabilities"}]`} {
		_, err := ParseBatch([]byte(body))
		assert.Error(t, err, body)
	}
}
