package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/registry"
)

// fuzzNet is one small network shared by the fuzz targets' iterations: what a request stored
// stays, which is what a real node sees too.
func fuzzNet(f *testing.F) *testNet {
	tn := newTestNet(f, testSwarms, 2, Config{RateLimit: RateLimit{Disabled: true}})
	return tn
}

// checkAnswer fails on answers no node may give: no status, or a body that is not bytes for a
// client endpoint.
func checkAnswer(t *testing.T, resp actor.Response, err error) {
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if resp.Status < 100 || resp.Status > 599 {
		t.Fatalf("status %d", resp.Status)
	}
	if _, ok := resp.Body.([]byte); !ok && resp.Body != nil {
		t.Fatalf("body of type %T", resp.Body)
	}
}

func FuzzStorageRPC(f *testing.F) {
	tn := fuzzNet(f)
	acct := accountIn(f, tn.list, testSwarms[0], realSuite, "fuzz")
	now := nowMS(tn)
	st := storagerpc.NewStore(acct.pubkey, 0, now, time.Hour, []byte("seed"))
	signed := storagerpc.NewStore(acct.pubkey, 2, now, time.Hour, []byte("seed2"))
	signed.Sign(acct.signer)
	ret := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
	ret.Sign(acct.signer, now)
	del := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{storagerpc.MessageHash(acct.pubkey, 0, []byte("seed"))}}
	del.Sign(acct.signer)
	exp := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: del.Messages, Expiries: []int64{now + 60_000}, Mode: storagerpc.ExpireExtend}
	exp.Sign(acct.signer)
	for _, r := range []storagerpc.Request{
		st, signed, ret, del, exp,
		&storagerpc.GetSwarm{Pubkey: acct.pubkey}, &storagerpc.Info{}, storagerpc.NewGetServiceNodes(),
		&storagerpc.Batch{Requests: []storagerpc.Request{st, ret, &storagerpc.Info{}}},
		&storagerpc.Batch{Sequence: true, Requests: []storagerpc.Request{signed, del}},
	} {
		f.Add(encode(r))
	}
	f.Add([]byte(`{"method":"store","params":{"pubkey":"05","data":1}}`))
	f.Add([]byte(`{"method":"batch","params":{"requests":[{"method":"batch","params":{}}]}}`))
	f.Add([]byte(`{"method":"oxend_request","params":{"endpoint":"get_service_nodes","params":{"limit":-1,"fields":["x"]}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	members := tn.membersOf(testSwarms[0])
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(tn.drv.Events)
		resp, err := tn.drv.Call(clientAddr, addrN(members[0]), actorReq(MethodStorageRPC, body), time.Minute)
		checkAnswer(t, resp, err)
		if _, perr := storagerpc.ParseRequest(body); perr != nil {
			if resp.Status != storagerpc.StatusOf(perr) {
				t.Fatalf("unparsable body answered %d, want %d", resp.Status, storagerpc.StatusOf(perr))
			}
			for _, ev := range tn.drv.Events[before:] {
				if _, stored := ev.Event.(MessageStored); stored {
					t.Fatal("an unparsable request stored something")
				}
			}
		}
		tn.drv.Events = tn.drv.Events[:before]
	})
}

func FuzzOnionGuard(f *testing.F) {
	tn := fuzzNet(f)
	acct := accountIn(f, tn.list, testSwarms[1], realSuite, "fuzz-onion")
	rnd := actor.RandReader(rand.New(rand.NewPCG(1, 1)))
	path := onion.Path{Hops: []onion.Node{onionNode(tn, 0), onionNode(tn, 2)}}
	for _, rpc := range [][]byte{encode(&storagerpc.GetSwarm{Pubkey: acct.pubkey}), []byte("not json"), encode(&storagerpc.Info{})} {
		built, err := onion.BuildToNode(realSuite, rnd, path, onionNode(tn, 4), rpc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(built.Body)
	}
	f.Add([]byte{0, 0, 0, 0, '{', '}'})
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(tn.drv.Events)
		resp, err := tn.drv.Call(clientAddr, addrN(0), actorReq(MethodOnion, body), 2*time.Minute)
		checkAnswer(t, resp, err)
		tn.drv.Events = tn.drv.Events[:before]
	})
}

func FuzzOnionRelay(f *testing.F) {
	tn := fuzzNet(f)
	f.Add(onion.Request{Ciphertext: []byte("x"), HopNo: 3}.RelayBody())
	f.Add([]byte("d4:data0:e"))
	f.Add([]byte("le"))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(tn.drv.Events)
		resp, err := tn.drv.Call(addrN(1), addrN(0), actorReq(MethodRelay, body), 2*time.Minute)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp.Status < 100 || resp.Status > 599 {
			t.Fatalf("status %d", resp.Status)
		}
		tn.drv.Events = tn.drv.Events[:before]
	})
}

// FuzzPeerBodies sends the node-to-node endpoints bodies of the wrong type or nil contents:
// they must be refused, never panic.
func FuzzPeerBodies(f *testing.F) {
	tn := fuzzNet(f)
	f.Add(uint8(0), []byte("x"))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		bodies := []any{b, nil, &Forward{}, &DataBatch{}, &DataReady{}, (*Forward)(nil), (*DataBatch)(nil),
			&Forward{Request: (*storagerpc.Store)(nil)}, &Forward{Request: &storagerpc.Info{}}, &Forward{Request: &storagerpc.Store{}},
			&DataBatch{Messages: []store.Message{{}}}, (*registry.List)(nil), &registry.List{}}
		methods := []string{MethodForward, MethodData, MethodDataReady, MethodList, MethodPing, string(b)}
		req := actor.Request{Method: methods[int(which)%len(methods)], Body: bodies[int(which/6)%len(bodies)]}
		resp, err := tn.drv.Call(addrN(1), addrN(0), req, time.Minute)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp.Status == 0 {
			t.Fatal("no status")
		}
	})
}
