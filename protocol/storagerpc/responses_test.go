package storagerpc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// requireSortedKeys walks a JSON document and checks that every object's keys are strictly
// ascending byte strings, which is how the server's JSON library writes them.
func requireSortedKeys(t *testing.T, doc []byte) {
	t.Helper()
	v, err := wirejson.Parse(doc)
	require.NoError(t, err, "%s", doc)
	var walk func(v wirejson.Value)
	walk = func(v wirejson.Value) {
		for i, m := range v.Members {
			if i > 0 {
				require.Less(t, string(v.Members[i-1].Key), string(m.Key), "keys out of order in %s", v.Raw)
			}
			walk(m.Value)
		}
		for _, e := range v.Elems {
			walk(e)
		}
	}
	walk(v)
	require.True(t, json.Valid(doc))
}

type testNode struct {
	key ed25519.PrivateKey
	hex string
}

func newNode(seed byte) testNode {
	var s [32]byte
	s[0], s[31] = seed, 0x5a
	k := ed25519.NewKeyFromSeed(s[:])
	return testNode{key: k, hex: NodeKeyHex(k.Public().(ed25519.PublicKey))}
}

func TestStoreResponse(t *testing.T) {
	suite := realSuite()
	self, peer, slow, broken := newNode(1), newNode(2), newNode(3), newNode(4)
	hash := vectorHash
	own, _ := NewStoreResult(suite, self.key, hash, nowMs+1000, false)
	remote, _ := NewStoreResult(suite, peer.key, hash, nowMs+2000, true)
	resp := &StoreResponse{
		Self: self.hex,
		Hash: hash,
		Swarm: []SwarmEntry[StoreResult]{
			{Node: slow.hex, Failed: &Failure{Timeout: true}},
			{Node: peer.hex, Result: remote},
			{Node: broken.hex, Failed: &Failure{Code: "406", Reason: "store signature timestamp too far from current time"}},
			{Node: self.hex, Result: own},
		},
		T:  nowMs,
		HF: HF{19, 3},
	}
	out := resp.Append(nil)
	requireSortedKeys(t, out)
	s := string(out)
	assert.True(t, strings.HasPrefix(s, `{"hash":"`+hash+`","hf":[19,3],"swarm":{`), s)
	assert.True(t, strings.HasSuffix(s, `},"t":1700000000000}`), s)
	// The peer's flag crossed the swarm link as 1; the node's own entry carries "t".
	assert.Contains(t, s, `"`+peer.hex+`":{"already":1,"expiry":1700000002000,`)
	assert.Contains(t, s, `"`+self.hex+`":{"expiry":1700000001000,"hash":"`+hash+`","signature":"`+base64.StdEncoding.EncodeToString(own.Signature[:])+`","t":1700000000000}`)
	assert.Contains(t, s, `"`+slow.hex+`":{"failed":true,"timeout":true}`)
	assert.Contains(t, s, `"`+broken.hex+`":{"code":"406","failed":true,"reason":"store signature timestamp too far from current time"}`)
	assert.Equal(t, http.StatusOK, resp.Status())
	assert.False(t, resp.AllFailed())

	got, err := DecodeStoreResponse(out)
	require.NoError(t, err)
	want := *resp
	want.Swarm = append([]SwarmEntry[StoreResult](nil), resp.Swarm...)
	sortEntries(want.Swarm)
	assert.Equal(t, &want, got)

	// Each member's signature is over the hash string, verifiable with its key.
	for _, e := range got.Swarm {
		if e.Failed != nil {
			continue
		}
		key, err := hex.DecodeString(e.Node)
		require.NoError(t, err)
		ok, _ := suite.Verify(key, StoreResultSigMessage(e.Result.Hash), e.Result.Signature[:])
		assert.True(t, ok, e.Node)
	}
}

func TestStoreResponseAllFailed(t *testing.T) {
	self, peer := newNode(1), newNode(2)
	resp := &StoreResponse{Self: self.hex, Swarm: []SwarmEntry[StoreResult]{
		{Node: self.hex, Failed: &Failure{QueryFailure: true}},
		{Node: peer.hex, Failed: &Failure{QueryFailure: true, Reason: "disk full"}},
	}, T: nowMs, HF: HF{19, 3}}
	out := resp.Append(nil)
	requireSortedKeys(t, out)
	s := string(out)
	assert.NotContains(t, s, `"hash":`)
	assert.Contains(t, s, `"`+self.hex+`":{"failed":true,"query_failure":true,"t":1700000000000}`)
	assert.Contains(t, s, `"`+peer.hex+`":{"failed":1,"query_failure":1,"reason":"disk full"}`)
	assert.True(t, resp.AllFailed())
	assert.Equal(t, http.StatusOK, resp.Status(), "the real server answers 200 even then")
	got, err := DecodeStoreResponse(out)
	require.NoError(t, err)
	assert.Equal(t, self.hex, got.Self)
	assert.True(t, got.AllFailed())
}

func TestDeleteResponses(t *testing.T) {
	suite := realSuite()
	alice := newUser(t, 1)
	self, peer := newNode(1), newNode(2)
	h1, h2, h3 := phHash, vectorHash, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	del := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{h2, h1}}
	own, _ := NewDeleteResult(suite, self.key, del, []string{h2, h1})
	assert.Equal(t, []string{h2, h1}, own.Hashes)
	other, _ := NewDeleteResult(suite, peer.key, del, nil)
	resp := &SwarmResponse[HashesResult]{Self: self.hex, Swarm: []SwarmEntry[HashesResult]{{Node: self.hex, Result: own}, {Node: peer.hex, Result: other}}, T: nowMs, HF: HF{19, 3}}
	out := AppendDeleteResponse(nil, resp)
	requireSortedKeys(t, out)
	assert.Contains(t, string(out), `{"deleted":["`+h2+`","`+h1+`"],"signature":"`)
	assert.Contains(t, string(out), `{"deleted":[],"signature":"`)
	got, err := DecodeDeleteResponse(out)
	require.NoError(t, err)
	require.Len(t, got.Swarm, 2)
	assert.Equal(t, http.StatusOK, DeleteStatus(&Delete{Required: true}, got))
	none := &SwarmResponse[HashesResult]{Swarm: []SwarmEntry[HashesResult]{{Node: peer.hex, Result: other}, {Node: self.hex, Failed: &Failure{Timeout: true}}}}
	assert.Equal(t, http.StatusNotFound, DeleteStatus(&Delete{Required: true}, none))
	assert.Equal(t, http.StatusOK, DeleteStatus(&Delete{}, none))
	for _, e := range got.Swarm {
		key, _ := hex.DecodeString(e.Node)
		ok, _ := suite.Verify(key, DeleteResultSigMessage(alice.id, del.Messages, e.Result.Hashes), e.Result.Signature[:])
		assert.True(t, ok)
		// A node lying about what it deleted is caught.
		ok, _ = suite.Verify(key, DeleteResultSigMessage(alice.id, del.Messages, []string{h3}), e.Result.Signature[:])
		assert.False(t, ok)
	}

	// delete_all over all namespaces: hashes grouped by namespace (keys as strings, in string
	// order) and signed in total hash order.
	da := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces, Timestamp: nowMs}
	all, _ := NewDeleteAllResult(suite, self.key, da, []NSHash{{Namespace: 5, Hash: h2}, {Namespace: -10, Hash: h3}, {Namespace: 5, Hash: h1}, {Namespace: 11, Hash: h3[:42] + "B"}})
	resp = &SwarmResponse[HashesResult]{Self: self.hex, Swarm: []SwarmEntry[HashesResult]{{Node: self.hex, Result: all}}, T: nowMs, HF: HF{19, 3}}
	out = AppendDeleteResponse(nil, resp)
	requireSortedKeys(t, out)
	assert.Contains(t, string(out), `{"deleted":{"-10":["`+h3+`"],"11":["`+h3[:42]+`B"],"5":["`+h2+`","`+h1+`"]},"signature":`)
	got, err = DecodeDeleteResponse(out)
	require.NoError(t, err)
	e := got.Swarm[0].Result
	assert.True(t, e.AllNS)
	assert.Equal(t, []string{h2, h3, h3[:42] + "B", h1}, e.Hashes)
	ok, _ := suite.Verify(self.key.Public().(ed25519.PublicKey), DeleteAllResultSigMessage(alice.id, nowMs, e.Hashes), e.Signature[:])
	assert.True(t, ok)

	// expire_all writes "signature" before "updated".
	ea := &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(2), Expiry: nowMs + 5}
	upd, _ := NewExpireAllResult(suite, self.key, ea, []NSHash{{Namespace: 2, Hash: h1}})
	out = AppendExpireAllResponse(nil, &SwarmResponse[HashesResult]{Self: self.hex, Swarm: []SwarmEntry[HashesResult]{{Node: self.hex, Result: upd}}, T: nowMs, HF: HF{19, 3}})
	requireSortedKeys(t, out)
	got, err = DecodeExpireAllResponse(out)
	require.NoError(t, err)
	assert.Equal(t, []string{h1}, got.Swarm[0].Result.Hashes)
}

func TestExpireResponse(t *testing.T) {
	suite := realSuite()
	alice := newUser(t, 1)
	self := newNode(1)
	req := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{vectorHash, phHash}, Expiries: []int64{nowMs + 60_000}, Mode: ExpireExtend}
	applied, _ := req.Apply(testNow)
	res, _ := NewExpireResult(suite, self.key, req, applied, []HashExpiry{{vectorHash, nowMs + 60_000}}, []HashExpiry{{phHash, nowMs + 90_000}})
	out := AppendExpireResponse(nil, &SwarmResponse[ExpireResult]{Self: self.hex, Swarm: []SwarmEntry[ExpireResult]{{Node: self.hex, Result: res}}, T: nowMs, HF: HF{19, 3}})
	requireSortedKeys(t, out)
	assert.Contains(t, string(out), `{"expiry":1700000060000,"signature":"`)
	assert.Contains(t, string(out), `"unchanged":{"`+phHash+`":1700000090000},"updated":["`+vectorHash+`"]}`)
	got, err := DecodeExpireResponse(out)
	require.NoError(t, err)
	assert.Equal(t, signed(res), got.Swarm[0].Result)
	msg := ExpireResultSigMessage(alice.id, res.Expiries, req.Messages, res.Updated, res.Unchanged)
	assert.Equal(t, alice.id.Hex()+"1700000060000"+vectorHash+phHash+vectorHash+phHash+"1700000090000", string(msg))
	ok, _ := suite.Verify(self.key.Public().(ed25519.PublicKey), msg, got.Swarm[0].Result.Signature[:])
	assert.True(t, ok)

	// Per-message expiries: the applied expiries of the updated messages, as a list.
	multi := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{vectorHash, phHash}, Expiries: []int64{nowMs + 1, nowMs + 2}}
	res, _ = NewExpireResult(suite, self.key, multi, nil, []HashExpiry{{phHash, nowMs + 2}, {vectorHash, nowMs + 1}}, nil)
	out = AppendExpireResponse(nil, &SwarmResponse[ExpireResult]{Self: self.hex, Swarm: []SwarmEntry[ExpireResult]{{Node: self.hex, Result: res}}, T: nowMs, HF: HF{19, 4}})
	requireSortedKeys(t, out)
	assert.Contains(t, string(out), `{"expiry":[1700000000001,1700000000002],"signature":`)
	assert.NotContains(t, string(out), "unchanged")
	got, err = DecodeExpireResponse(out)
	require.NoError(t, err)
	assert.Equal(t, signed(res), got.Swarm[0].Result)
}

func TestRetrieveResponse(t *testing.T) {
	resp := &RetrieveResponse{
		Messages: []RetrievedMessage{
			{Hash: vectorHash, Timestamp: nowMs, Expiry: nowMs + 1000, Data: []byte("abc 123")},
			{Hash: phHash, Timestamp: nowMs + 1, Expiry: nowMs + 2000, Data: []byte{}},
		},
		More: true, T: nowMs, HF: HF{19, 3},
	}
	out := resp.Append(nil)
	requireSortedKeys(t, out)
	assert.Equal(t, `{"hf":[19,3],"messages":[{"data":"YWJjIDEyMw==","expiration":1700000001000,"hash":"`+vectorHash+
		`","timestamp":1700000000000},{"data":"","expiration":1700000002000,"hash":"`+phHash+
		`","timestamp":1700000000001}],"more":true,"t":1700000000000}`, string(out))
	got, err := DecodeRetrieveResponse(out)
	require.NoError(t, err)
	assert.Equal(t, resp, got)
}

func TestSwarmInfoResponse(t *testing.T) {
	n1, n2 := newNode(1), newNode(2)
	var sn [2]SnodeInfo
	for i, n := range []testNode{n1, n2} {
		copy(sn[i].PubkeyEd25519[:], n.key[32:])
		sn[i].PubkeyLegacy = sn[i].PubkeyEd25519
		sn[i].PubkeyX25519[0] = byte(i + 1)
		sn[i].IP = "10.0.0." + string(rune('1'+i))
		sn[i].PortHTTPS, sn[i].PortOMQ = 22021, 22020
	}
	resp := &SwarmInfoResponse{Snodes: sn[:], SwarmID: 0x0123456789abcdef, T: nowMs, HF: HF{19, 3}}
	out := resp.Append(nil)
	requireSortedKeys(t, out)
	enc := base32.NewEncoding(base32zAlphabet).WithPadding(base32.NoPadding)
	assert.Contains(t, string(out), `{"address":"`+enc.EncodeToString(sn[0].PubkeyLegacy[:])+`.snode","ip":"10.0.0.1","port":"22021","port_https":22021,"port_omq":22020,"port_quic":22020,"pubkey_ed25519":"`+n1.hex+`"`)
	assert.Contains(t, string(out), `"swarm":"123456789abcdef","t":1700000000000}`)
	got, err := DecodeSwarmInfoResponse(out)
	require.NoError(t, err)
	assert.Equal(t, resp, got)

	// A node with no swarm for the account.
	none := &SwarmInfoResponse{SwarmID: InvalidSwarmID, T: nowMs, HF: HF{19, 3}}
	assert.Equal(t, `{"hf":[19,3],"snodes":[],"swarm":"ffffffffffffffff","t":1700000000000}`, string(none.Append(nil)))
}

func TestSmallResponses(t *testing.T) {
	info := &InfoResponse{Version: Version{2, 8, 0}, Timestamp: nowMs, T: nowMs, HF: HF{19, 3}}
	out := info.Append(nil)
	assert.Equal(t, `{"hf":[19,3],"t":1700000000000,"timestamp":1700000000000,"version":[2,8,0]}`, string(out))
	gi, err := DecodeInfoResponse(out)
	require.NoError(t, err)
	assert.Equal(t, info, gi)

	ge := &GetExpiriesResponse{Expiries: []HashExpiry{{vectorHash, 2}, {phHash, 1}}}
	out = ge.Append(nil)
	requireSortedKeys(t, out)
	gg, err := DecodeGetExpiriesResponse(out)
	require.NoError(t, err)
	assert.Equal(t, []HashExpiry{{vectorHash, 2}, {phHash, 1}}, gg.Expiries)

	ox := &OxendResponse{Result: []byte(`{"service_node_states":[]}`), T: nowMs, HF: HF{19, 3}}
	out = ox.Append(nil)
	requireSortedKeys(t, out)
	go2, err := DecodeOxendResponse(out)
	require.NoError(t, err)
	assert.Equal(t, ox, go2)
}

func TestBatchResponse(t *testing.T) {
	info := (&InfoResponse{Version: Version{2, 8, 0}, Timestamp: 1, T: 1, HF: HF{19, 3}}).Append(nil)
	results := []SubResult{
		{Code: 200, Body: info},
		TextResult(http.StatusUnauthorized, `retrieve: "quoted" \ text`+"\n"),
		ErrorResult(ErrBodyTooLarge),
		ErrorResult(assert.AnError),
	}
	out := AppendBatchResponse(nil, results)
	requireSortedKeys(t, out)
	assert.True(t, bytes.HasPrefix(out, []byte(`{"results":[{"body":{"hf":[19,3],`)))
	assert.Contains(t, string(out), `{"body":"retrieve: \"quoted\" \\ text\n","code":401}`)
	got, err := DecodeBatchResponse(out)
	require.NoError(t, err)
	assert.Equal(t, results, got)
	text, ok := got[1].Text()
	assert.True(t, ok)
	assert.Equal(t, `retrieve: "quoted" \ text`+"\n", text)
	_, ok = got[0].Text()
	assert.False(t, ok)
	assert.True(t, got[0].OK())
	assert.False(t, got[1].OK())
	assert.Equal(t, 413, got[2].Code)
	assert.Equal(t, 500, got[3].Code)
	rt, _ := got[3].Text()
	assert.Equal(t, "request failed", rt)
}

func TestDecodersRefuseGarbage(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"store":        func(b []byte) error { _, err := DecodeStoreResponse(b); return err },
		"retrieve":     func(b []byte) error { _, err := DecodeRetrieveResponse(b); return err },
		"swarm":        func(b []byte) error { _, err := DecodeSwarmInfoResponse(b); return err },
		"info":         func(b []byte) error { _, err := DecodeInfoResponse(b); return err },
		"delete":       func(b []byte) error { _, err := DecodeDeleteResponse(b); return err },
		"expire":       func(b []byte) error { _, err := DecodeExpireResponse(b); return err },
		"expire_all":   func(b []byte) error { _, err := DecodeExpireAllResponse(b); return err },
		"get_expiries": func(b []byte) error { _, err := DecodeGetExpiriesResponse(b); return err },
		"oxend":        func(b []byte) error { _, err := DecodeOxendResponse(b); return err },
		"batch":        func(b []byte) error { _, err := DecodeBatchResponse(b); return err },
	}
	for name, dec := range decoders {
		for _, in := range []string{"", "Request body too large", "[]", `{"t":"x"}`, `{"hf":[1],"t":1}`} {
			err := dec([]byte(in))
			assert.ErrorIs(t, err, ErrBadResponse, "%s(%q)", name, in)
		}
	}
}

func TestBase32z(t *testing.T) {
	enc := base32.NewEncoding(base32zAlphabet).WithPadding(base32.NoPadding)
	for _, in := range [][]byte{{}, {0}, {0xff}, {1, 2, 3, 4, 5}, bytes.Repeat([]byte{0xa5}, 32)} {
		assert.Equal(t, enc.EncodeToString(in), string(appendBase32z(nil, in)))
	}
}

// A member's store and expire results are signed over the messages StoreResultSigMessage and
// ExpireResultSigMessage return, whichever way the signing builds them, and not over another;
// an expire result's signature is charged when the result is made, and made then in real crypto
// but only when its bytes are read in modeled crypto.
func TestResultSignaturesCoverTheirMessages(t *testing.T) {
	alice := newUser(t, 1)
	self := newNode(1)
	pub := self.key.Public().(ed25519.PublicKey)
	req := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{vectorHash, phHash}, Expiries: []int64{nowMs + 60_000}, Mode: ExpireExtend}
	applied, _ := req.Apply(testNow)
	for _, tc := range []struct {
		name  string
		suite cryptomode.Suite
		// atOnce: the expire result is signed when it is made (real crypto does the real work
		// where the real node does it), not when its bytes are read.
		atOnce bool
	}{{"real", realSuite(), true}, {"modeled", modeledSuite(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := NewStoreResult(tc.suite, self.key, vectorHash, nowMs, false)
			ok, _ := tc.suite.Verify(pub, StoreResultSigMessage(vectorHash), st.Signature[:])
			assert.True(t, ok, "store")
			ok, _ = tc.suite.Verify(pub, StoreResultSigMessage(phHash), st.Signature[:])
			assert.False(t, ok, "store, another hash")

			ex, cost := NewExpireResult(tc.suite, self.key, req, applied, []HashExpiry{{vectorHash, nowMs + 60_000}}, []HashExpiry{{phHash, nowMs + 90_000}})
			assert.Equal(t, tc.suite.Costs().Ed25519Sign, cost, "the signature is charged at once")
			if tc.atOnce {
				assert.Equal(t, signed(ex), ex, "signed when made")
			} else {
				assert.NotEqual(t, signed(ex), ex, "signed when read")
			}
			fw, err := DecodeForwardedExpireResult(AppendForwardedExpireResult(nil, &ex))
			require.NoError(t, err)
			ex = signed(ex)
			assert.Equal(t, ex.Signature, fw.Signature, "a forwarded answer carries the signature")
			msg := ExpireResultSigMessage(alice.id, ex.Expiries, req.Messages, ex.Updated, ex.Unchanged)
			ok, _ = tc.suite.Verify(pub, msg, ex.Signature[:])
			assert.True(t, ok, "expire")
			ok, _ = tc.suite.Verify(pub, ExpireResultSigMessage(alice.id, ex.Expiries, req.Messages, nil, ex.Unchanged), ex.Signature[:])
			assert.False(t, ok, "expire, another message")
		})
	}
}
