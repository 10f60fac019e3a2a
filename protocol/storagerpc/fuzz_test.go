package storagerpc

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// seedRequests are valid bodies of every method, for the fuzz corpora.
func seedRequests(t testing.TB) [][]byte {
	alice := newUser(t, 1)
	s := alice.signer(realSuite())
	st := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("config"))
	st.Sign(s)
	rt := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, LastHash: phHash, MaxSize: -5}
	rt.Sign(s, nowMs)
	del := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
	del.Sign(s)
	da := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}
	da.Sign(s, nowMs)
	ex := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs, nowMs}, Mode: ExpireExtend}
	ex.Sign(s)
	gr := groupRetrieve(realSuite(), NamespaceGroupKeys)
	reqs := []Request{
		NewStore(alice.id, 0, nowMs, time.Hour, []byte("hi")), st, rt, del, da, ex, gr,
		&DeleteBefore{SignedAccount: SignedAccount{Pubkey: alice.id}, Before: nowMs}, &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Expiry: nowMs},
		&GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{"x"}, Timestamp: nowMs},
		&GetSwarm{Pubkey: alice.id}, &Info{}, NewGetServiceNodes(),
		&Batch{Requests: []Request{st, rt}}, &Batch{Sequence: true, Requests: []Request{&Info{}}},
	}
	var out [][]byte
	for _, r := range reqs {
		out = append(out, EncodeRequest(r))
	}
	return append(out,
		body("store", `"pubKey":"PK","timestamp":"1700000000000","ttl":"86400000","data":"YWJj\/"`),
		body("store", `"pubkey":"PK","timestamp":NOW,"expiry":1700000100000,"data":"","subaccount":"`+strings.Repeat("0a", 36)+`","subaccount_sig":"SIG","signature":"SIG"`),
		body("retrieve", `"pubkey":"PK","namespace":-10,"lastHash":"HASH","max_count":4294967301`),
		body("expire", `"pubkey":"PK","signature":"SIG==","messages":"HASH","expiry":[NOW],"shorten":true`),
		[]byte(`{"method":"in\u0066o","params":{"x":[1.5e3,-0,"\ud83d\ude00",null,true,false]}}`),
		[]byte(`{"method":"batch","params":{"requests":[{"method":"batch","params":{"requests":[]}}]}}`),
		[]byte(`{"method":"oxend_request","params":{"endpoint":"get_service_nodes","params":null}}`),
	)
}

// FuzzParseRequest: no input panics; refusals are 400 *Errors; anything accepted survives being
// re-encoded by the client builders and parsed again unchanged.
func FuzzParseRequest(f *testing.F) {
	for _, b := range seedRequests(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseRequest(in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Text == "" {
				t.Fatalf("refusal is not a 400 *Error: %#v", err)
			}
			return
		}
		again, err := ParseRequest(EncodeRequest(r))
		if err != nil {
			t.Fatalf("re-encoded request refused: %v\nfirst: %#v\nwire: %s", err, r, EncodeRequest(r))
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip changed the request:\n%#v\n%#v", r, again)
		}
		// Checking must not panic either, whatever the values.
		_, _ = again.Check(CheckEnv{Now: testNow, Suite: modeledSuite()})
	})
}

// decodeRoundTrip fuzzes a decoder: no panics, errors wrap ErrBadResponse, and what decodes
// re-encodes to something that decodes to the same value.
func decodeRoundTrip[T any](f *testing.F, seeds [][]byte, decode func([]byte) (T, error), encode func(T) []byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := decode(in)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error does not wrap ErrBadResponse: %v", err)
			}
			return
		}
		out := encode(v)
		again, err := decode(out)
		if err != nil {
			t.Fatalf("re-encoded answer refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip changed the answer:\n%#v\n%#v", v, again)
		}
	})
}

func sampleStoreResponse(t testing.TB) []byte {
	self, peer := newNode(1), newNode(2)
	own, _ := NewStoreResult(realSuite(), self.key, vectorHash, nowMs, false)
	rem, _ := NewStoreResult(realSuite(), peer.key, vectorHash, nowMs, true)
	return (&StoreResponse{Self: self.hex, Hash: vectorHash, Swarm: []SwarmEntry[StoreResult]{
		{Node: self.hex, Result: own}, {Node: peer.hex, Result: rem},
		{Node: newNode(3).hex, Failed: &Failure{Timeout: true}},
		{Node: newNode(4).hex, Failed: &Failure{Code: "401", Reason: "nope"}},
		{Node: newNode(5).hex, Failed: &Failure{QueryFailure: true}},
	}, T: nowMs, HF: HF{19, 3}}).Append(nil)
}

func FuzzDecodeStoreResponse(f *testing.F) {
	decodeRoundTrip(f, [][]byte{sampleStoreResponse(f), []byte(`{"hf":[19,3],"swarm":{},"t":1}`)},
		DecodeStoreResponse, func(r *StoreResponse) []byte { return r.Append(nil) })
}

func sampleHashesResponse(t testing.TB, all bool) []byte {
	self := newNode(1)
	alice := newUser(t, 1)
	var res HashesResult
	if all {
		res, _ = NewDeleteAllResult(realSuite(), self.key, &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}, []NSHash{{Namespace: -10, Hash: phHash}, {Namespace: 3, Hash: vectorHash}})
	} else {
		res, _ = NewDeleteResult(realSuite(), self.key, &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}, []string{phHash})
	}
	return AppendDeleteResponse(nil, &SwarmResponse[HashesResult]{Self: self.hex, Swarm: []SwarmEntry[HashesResult]{
		{Node: self.hex, Result: res}, {Node: newNode(2).hex, Failed: &Failure{BadPeerResponse: true}},
	}, T: nowMs, HF: HF{19, 3}})
}

func FuzzDecodeDeleteResponse(f *testing.F) {
	decodeRoundTrip(f, [][]byte{sampleHashesResponse(f, false), sampleHashesResponse(f, true)},
		DecodeDeleteResponse, func(r *SwarmResponse[HashesResult]) []byte { return AppendDeleteResponse(nil, r) })
}

func FuzzDecodeExpireAllResponse(f *testing.F) {
	seeds := [][]byte{}
	for _, s := range [][]byte{sampleHashesResponse(f, false), sampleHashesResponse(f, true)} {
		seeds = append(seeds, []byte(strings.ReplaceAll(string(s), `"deleted"`, `"updated"`)))
	}
	decodeRoundTrip(f, seeds, DecodeExpireAllResponse, func(r *SwarmResponse[HashesResult]) []byte { return AppendExpireAllResponse(nil, r) })
}

func FuzzDecodeExpireResponse(f *testing.F) {
	self := newNode(1)
	alice := newUser(f, 1)
	req := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs}, Mode: ExpireShorten}
	res, _ := NewExpireResult(realSuite(), self.key, req, []int64{nowMs}, []HashExpiry{{phHash, nowMs}}, []HashExpiry{{vectorHash, nowMs - 5}})
	seed := AppendExpireResponse(nil, &SwarmResponse[ExpireResult]{Self: self.hex, Swarm: []SwarmEntry[ExpireResult]{{Node: self.hex, Result: res}}, T: nowMs, HF: HF{19, 4}})
	decodeRoundTrip(f, [][]byte{seed}, DecodeExpireResponse, func(r *SwarmResponse[ExpireResult]) []byte { return AppendExpireResponse(nil, r) })
}

func FuzzDecodeRetrieveResponse(f *testing.F) {
	seed := (&RetrieveResponse{Messages: []RetrievedMessage{{Hash: phHash, Timestamp: nowMs, Expiry: nowMs + 1, Data: []byte("abc")}}, More: true, T: nowMs, HF: HF{19, 3}}).Append(nil)
	decodeRoundTrip(f, [][]byte{seed, []byte(`{"hf":[19,3],"messages":[],"more":1,"t":5}`)},
		DecodeRetrieveResponse, func(r *RetrieveResponse) []byte { return r.Append(nil) })
}

func FuzzDecodeSwarmInfoResponse(f *testing.F) {
	sn := SnodeInfo{IP: "1.2.3.4", PortHTTPS: 443, PortOMQ: 22020}
	sn.PubkeyEd25519[0], sn.PubkeyX25519[0] = 1, 2
	seed := (&SwarmInfoResponse{Snodes: []SnodeInfo{sn}, SwarmID: 42, T: nowMs, HF: HF{19, 3}}).Append(nil)
	old := []byte(`{"hf":[19,3],"snodes":[{"ip":"1.2.3.4","port":"443","pubkey_ed25519":"` + strings.Repeat("01", 32) + `","pubkey_x25519":"` + strings.Repeat("02", 32) + `"}],"swarm":"FF","t":1}`)
	decodeRoundTrip(f, [][]byte{seed, old}, DecodeSwarmInfoResponse, func(r *SwarmInfoResponse) []byte { return r.Append(nil) })
}

func FuzzDecodeInfoResponse(f *testing.F) {
	seed := (&InfoResponse{Version: Version{2, 8, 0}, Timestamp: nowMs, T: nowMs, HF: HF{19, 3}}).Append(nil)
	decodeRoundTrip(f, [][]byte{seed}, DecodeInfoResponse, func(r *InfoResponse) []byte { return r.Append(nil) })
}

func FuzzDecodeGetExpiriesResponse(f *testing.F) {
	seed := (&GetExpiriesResponse{Expiries: []HashExpiry{{phHash, 1}, {vectorHash, 2}}}).Append(nil)
	decodeRoundTrip(f, [][]byte{seed, []byte(`{"expiries":{"a":1,"a":2}}`)}, DecodeGetExpiriesResponse, func(r *GetExpiriesResponse) []byte { return r.Append(nil) })
}

func FuzzDecodeOxendResponse(f *testing.F) {
	seed := (&OxendResponse{Result: []byte(`{"service_node_states":[{"public_ip":"1.2.3.4"}]}`), T: 1, HF: HF{19, 3}}).Append(nil)
	decodeRoundTrip(f, [][]byte{seed}, DecodeOxendResponse, func(r *OxendResponse) []byte { return r.Append(nil) })
}

func FuzzDecodeBatchResponse(f *testing.F) {
	seed := AppendBatchResponse(nil, []SubResult{{Code: 200, Body: []byte(`{"a":1}`)}, TextResult(401, "no")})
	decodeRoundTrip(f, [][]byte{seed, []byte(`{"results":[]}`)}, DecodeBatchResponse, func(r []SubResult) []byte { return AppendBatchResponse(nil, r) })
}
