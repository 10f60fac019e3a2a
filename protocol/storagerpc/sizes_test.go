package storagerpc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quotedLen is the length of body written as a JSON string by encoding/json without HTML
// escaping, as an onion reply carries it.
func quotedLen(t testing.TB, body []byte) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(string(body)))
	return b.Len() - 1 // Encode's newline
}

// requireSize checks a counted size against the body written.
func requireSize(t testing.TB, body []byte, got BodySize, what string) {
	require.Equal(t, len(body), got.Len, "%s: length of %q", what, body)
	require.Equal(t, quotedLen(t, body), got.Quoted, "%s: quoted length of %q", what, body)
}

// sized is an answer written and counted.
type sized struct {
	name  string
	write func() []byte
	size  func() BodySize
}

// sampleAnswers is one answer of every kind, built with text (in hashes, keys, reasons and
// addresses, where a node's own text would be), n (in every number) and data (a message's data
// and oxend's result).
func sampleAnswers(t testing.TB, text string, n int64, data []byte) []sized {
	self, peer := newNode(1), newNode(2)
	alice := newUser(t, 1)
	own, _ := NewStoreResult(modeledSuite(), self.key, text, n, false)
	rem, _ := NewStoreResult(modeledSuite(), peer.key, text, n, true)
	failures := []*Failure{
		{Timeout: true}, {Code: "406", Reason: text}, {BadPeerResponse: true},
		{QueryFailure: true, Reason: text}, {QueryFailure: true}, {Code: text},
	}
	store := &StoreResponse{Self: self.hex, Hash: text, T: n, HF: HF{19, int(n % 7)},
		Swarm: []SwarmEntry[StoreResult]{{Node: self.hex, Result: own}, {Node: peer.hex, Result: rem}, {Node: text, Result: rem}}}
	for i, f := range failures {
		store.Swarm = append(store.Swarm, SwarmEntry[StoreResult]{Node: newNode(byte(10 + i)).hex, Failed: f})
	}
	store.Swarm = append(store.Swarm, SwarmEntry[StoreResult]{Node: self.hex + "x", Failed: failures[3]})

	del, _ := NewDeleteResult(modeledSuite(), self.key, &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text}}, []string{text, phHash})
	delAll, _ := NewDeleteAllResult(modeledSuite(), self.key, &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces},
		[]NSHash{{Namespace: -32768, Hash: text}, {Namespace: 5, Hash: phHash}, {Namespace: 11, Hash: text}})
	noneAll, _ := NewExpireAllResult(modeledSuite(), self.key, &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}, nil)
	hashes := &SwarmResponse[HashesResult]{Self: self.hex, T: n, HF: HF{19, 3}, Swarm: []SwarmEntry[HashesResult]{
		{Node: self.hex, Result: del}, {Node: peer.hex, Result: delAll}, {Node: text, Result: noneAll},
		{Node: newNode(3).hex, Failed: failures[1]}, {Node: newNode(4).hex, Failed: failures[3]},
	}}

	one := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text, phHash}, Expiries: []int64{n}, Mode: ExpireShorten}
	multi := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text, phHash}, Expiries: []int64{n, -n}}
	r1, _ := NewExpireResult(modeledSuite(), self.key, one, []int64{n}, []HashExpiry{{text, n}}, []HashExpiry{{phHash, n - 1}, {text, -n}})
	r2, _ := NewExpireResult(modeledSuite(), peer.key, multi, nil, []HashExpiry{{phHash, n}, {text, math.MinInt64}}, nil)
	r3, _ := NewExpireResult(modeledSuite(), self.key, one, nil, nil, nil)
	expire := &SwarmResponse[ExpireResult]{Self: self.hex, T: n, HF: HF{19, 4}, Swarm: []SwarmEntry[ExpireResult]{
		{Node: self.hex, Result: r1}, {Node: peer.hex, Result: r2}, {Node: text, Result: r3}, {Node: newNode(5).hex, Failed: failures[0]},
	}}

	retrieve := &RetrieveResponse{More: n%2 == 0, T: n, HF: HF{19, 3}, Messages: []RetrievedMessage{
		{Hash: text, Timestamp: n, Expiry: -n, Data: data}, {Hash: phHash, Timestamp: 0, Expiry: math.MaxInt64, Data: nil},
	}}
	sn := SnodeInfo{IP: text, PortHTTPS: uint16(n), PortOMQ: 0}
	copy(sn.PubkeyLegacy[:], data)
	swarm := &SwarmInfoResponse{Snodes: []SnodeInfo{sn, {IP: "10.0.0.1", PortHTTPS: 65535, PortOMQ: 9}}, SwarmID: uint64(n), T: n, HF: HF{19, 3}}
	info := &InfoResponse{Version: Version{2, int(n % 100), 0}, Timestamp: n, T: -n, HF: HF{19, 3}}
	expiries := &GetExpiriesResponse{Expiries: []HashExpiry{{text, n}, {phHash, 1}, {text, 2}}}
	oxend := &OxendResponse{Result: data, T: n, HF: HF{19, 3}}
	// A batch's results: written bodies, refusals, and answers measured rather than written.
	results := []SubResult{
		{Code: 200, Body: info.Append(nil)}, TextResult(401, text), ErrorResult(ErrBodyTooLarge),
		{Code: 200, Value: retrieve}, {Code: 200, Value: store}, {Code: 200, Value: expire},
		{Code: 200, Body: oxend.Append(nil)},
	}

	return []sized{
		{"store", func() []byte { return store.Append(nil) }, store.Size},
		{"delete", func() []byte { return AppendDeleteResponse(nil, hashes) }, func() BodySize { return DeleteResponseSize(hashes) }},
		{"expire_all", func() []byte { return AppendExpireAllResponse(nil, hashes) }, func() BodySize { return ExpireAllResponseSize(hashes) }},
		{"expire", func() []byte { return AppendExpireResponse(nil, expire) }, func() BodySize { return ExpireResponseSize(expire) }},
		{"retrieve", func() []byte { return retrieve.Append(nil) }, retrieve.Size},
		{"empty retrieve", func() []byte { return (&RetrieveResponse{}).Append(nil) }, (&RetrieveResponse{}).Size},
		{"get_swarm", func() []byte { return swarm.Append(nil) }, swarm.Size},
		{"info", func() []byte { return info.Append(nil) }, info.Size},
		{"get_expiries", func() []byte { return expiries.Append(nil) }, expiries.Size},
		{"oxend_request", func() []byte { return oxend.Append(nil) }, oxend.Size},
		{"batch", func() []byte { return AppendBatchResponse(nil, results) }, func() BodySize { return BatchResponseSize(results) }},
		{"empty batch", func() []byte { return AppendBatchResponse(nil, nil) }, func() BodySize { return BatchResponseSize(nil) }},
	}
}

// awkwardText is text a node's answers could hold: quotes, backslashes, control characters,
// the separators encoding/json escapes, non-ASCII and bytes that are not UTF-8.
var awkwardText = []string{
	"", phHash, `"\`, "\x00\x1f\x7f\b\f\n\r\t", "a\u2028b\u2029", "é😀<>&/", "\xff\xe2\x80", "\xed\xa0\x80",
}

// TestResponseSizes: every answer's counted size is the length of what is written, and of that
// written as the JSON string an onion reply carries.
func TestResponseSizes(t *testing.T) {
	for _, text := range awkwardText {
		for _, n := range []int64{0, 7, -1, nowMs, math.MaxInt64, math.MinInt64} {
			for _, data := range [][]byte{nil, []byte(`{"service_node_states":[]}`), []byte("\"\u2028\x01")} {
				for _, a := range sampleAnswers(t, text, n, data) {
					requireSize(t, a.write(), a.size(), a.name)
				}
			}
		}
	}
}

// TestMeasuredBatchResults: a batch writes a result measured rather than written (Body nil) as
// the body its value gives, so that the answer is the same as with the body written.
func TestMeasuredBatchResults(t *testing.T) {
	resp := &RetrieveResponse{Messages: []RetrievedMessage{{Hash: phHash, Timestamp: nowMs, Expiry: nowMs + 1, Data: []byte("abc")}}, T: nowMs, HF: HF{19, 3}}
	cases := []struct {
		name  string
		value any
		body  []byte
	}{
		{"retrieve", resp, resp.Append(nil)},
		{"store", &StoreResponse{Hash: phHash, T: nowMs}, (&StoreResponse{Hash: phHash, T: nowMs}).Append(nil)},
		{"expire", &SwarmResponse[ExpireResult]{T: nowMs}, AppendExpireResponse(nil, &SwarmResponse[ExpireResult]{T: nowMs})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			written := AppendBatchResponse(nil, []SubResult{{Code: 200, Body: tc.body, Value: tc.value}, TextResult(421, "x")})
			measured := []SubResult{{Code: 200, Value: tc.value}, TextResult(421, "x")}
			assert.Equal(t, string(written), string(AppendBatchResponse(nil, measured)))
			requireSize(t, written, BatchResponseSize(measured), tc.name)
		})
	}
	assert.Panics(t, func() { AppendBatchResponse(nil, []SubResult{{Code: 200, Value: &InfoResponse{}}}) },
		"an answer this package cannot write from its value")
}

// TestRequestLen: every request's counted length is that of its JSON.
func TestRequestLen(t *testing.T) {
	alice := newUser(t, 1)
	reqs := sampleRequests(t)
	for _, text := range awkwardText {
		reqs = append(reqs,
			&Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text, phHash}},
			&Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: -32768, LastHash: text, MaxSize: -8, MaxCount: math.MaxInt32},
			&OxendRequest{Endpoint: text, Params: []byte(`{"a":"` + "\u2028" + `"}`)},
			&Batch{Requests: []Request{&GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text}, Timestamp: math.MinInt64}}},
			NewStore(alice.id, NamespaceDefault, math.MaxInt64, 0, []byte(text)),
		)
	}
	for _, r := range reqs {
		t.Run(r.Method(), func(t *testing.T) {
			assert.Equal(t, len(EncodeRequest(r)), RequestLen(r))
		})
	}
}

// FuzzSizes holds the counted sizes of every answer, and the lengths of requests, to what is
// written.
func FuzzSizes(f *testing.F) {
	for i, text := range awkwardText {
		f.Add(text, int64(i)*nowMs-nowMs, []byte(text))
	}
	f.Fuzz(func(t *testing.T, text string, n int64, data []byte) {
		for _, a := range sampleAnswers(t, text, n, data) {
			requireSize(t, a.write(), a.size(), a.name)
		}
		alice := newUser(t, 1)
		exp := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{text}, Expiries: []int64{n, n / 3}, Mode: ExpireExtend}
		for _, r := range []Request{
			&Batch{Requests: []Request{
				NewStore(alice.id, Namespace(n), n, time.Duration(n), data),
				&Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: Namespace(n), LastHash: text, MaxSize: int(n)},
				exp,
			}},
			&OxendRequest{Endpoint: text},
		} {
			require.Equal(t, len(EncodeRequest(r)), RequestLen(r))
		}
	})
}

// plainPrefix stops where a byte-by-byte scan with plainByte stops, whatever the byte that
// stops it and wherever it stands in the eight-byte words.
func TestPlainPrefix(t *testing.T) {
	bytewise := func(s string) int {
		i := 0
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		return i
	}
	const plain = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ+/="
	for _, s := range []string{"", "a", "abcdefg", "abcdefgh", plain, "é", "\u2028", "\x7f\x20~"} {
		assert.Equal(t, bytewise(s), plainPrefix(s), "%q", s)
	}
	for n := 1; n <= 20; n++ {
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				b := []byte(plain[:n])
				b[at] = byte(c)
				require.Equal(t, bytewise(string(b)), plainPrefix(string(b)), "%q", b)
			}
		}
	}
}
