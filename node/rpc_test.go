package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

var testSwarms = []swarm.ID{1 << 62, 2 << 62, 3 << 62}

const perSwarm = 4

func nowMS(tn *testNet) int64 { return tn.drv.Now().UnixMilli() }

func encode(r storagerpc.Request) []byte { return storagerpc.EncodeRequest(r) }

// stored counts the nodes of tn whose store holds hash.
func stored(tn *testNet, hash string) int {
	c := 0
	for i, n := range tn.nodes {
		if tn.drv.Actor(addrN(i)) == nil {
			continue
		}
		if _, ok, _ := n.Store().Get(hash); ok {
			c++
		}
	}
	return c
}

func TestStoreRPC(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	home, members, acct := tn.homeAccount(t, 1, "acct")
	other := tn.membersOf(testSwarms[0])[0]
	stranger := accountIn(t, tn.list, home, realSuite, "stranger")
	require.NotEqual(t, stranger.pubkey, acct.pubkey)
	var data []byte // distinct per case, so that hashes differ
	day := 24 * time.Hour

	type tc struct {
		name       string
		to         int
		req        func(now int64) storagerpc.Request
		body       []byte // raw body instead of req
		wantStatus int
		wantText   string // substring of the refusal
		wantStored bool
	}
	signed := func(ns storagerpc.Namespace, ttl time.Duration, signer *storagerpc.Signer, skew int64) func(int64) storagerpc.Request {
		return func(now int64) storagerpc.Request {
			r := storagerpc.NewStore(acct.pubkey, ns, now+skew, ttl, data)
			r.Sign(signer)
			return r
		}
	}
	tests := []tc{
		{name: "public inbox, unsigned", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now, 14*day, data)
		}, wantStatus: 200, wantStored: true},
		{name: "private namespace, unsigned", to: members[1], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 2, now, day, data)
		}, wantStatus: 401, wantText: "signature required"},
		{name: "private namespace, signed", to: members[1], req: signed(2, day, acct.signer, 0), wantStatus: 200, wantStored: true},
		{name: "private namespace, bad signature", to: members[2], req: signed(3, day, stranger.signer, 0), wantStatus: 401, wantText: "verification failed"},
		{name: "wrong swarm", to: other, req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now, day, data)
		}, wantStatus: 421},
		{name: "too large", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now, day, make([]byte, storagerpc.MaxDataSize+1))
		}, wantStatus: 400, wantText: "exceeds maximum"},
		{name: "TTL too short", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now, 5*time.Second, data)
		}, wantStatus: 403, wantText: "TTL"},
		{name: "TTL over 14 days in the public inbox", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now, 15*day, data)
		}, wantStatus: 403},
		{name: "30 days allowed in a private namespace", to: members[0], req: signed(5, 30*day, acct.signer, 0), wantStatus: 200, wantStored: true},
		{name: "clock skew: timestamp ahead", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now+20_000, day, data)
		}, wantStatus: 406, wantText: "check your clock"},
		{name: "expired", to: members[0], req: func(now int64) storagerpc.Request {
			return storagerpc.NewStore(acct.pubkey, 0, now-3_600_000, 30*time.Minute, data)
		}, wantStatus: 406},
		{name: "signature timestamp skew", to: members[0], req: signed(2, day, acct.signer, -120_000), wantStatus: 406},
		{name: "malformed json", to: members[0], body: []byte(`{"method":"store","params":`), wantStatus: 400, wantText: "invalid json"},
		{name: "unknown method", to: members[0], body: []byte(`{"method":"frobnicate","params":{}}`), wantStatus: 400, wantText: "no method frobnicate"},
		{name: "missing field", to: members[0], body: []byte(`{"method":"store","params":{"pubkey":"` + acct.pubkey.Hex() + `","timestamp":1,"ttl":100000}}`), wantStatus: 400, wantText: "data"},
		{name: "wrong type", to: members[0], body: []byte(`{"method":"store","params":{"pubkey":"` + acct.pubkey.Hex() + `","timestamp":{},"ttl":100000,"data":"aGk"}}`), wantStatus: 400, wantText: "timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data = append([]byte(tc.name), bytes.Repeat([]byte("m"), 500)...)
			now := nowMS(tn)
			body := tc.body
			var hash string
			if tc.req != nil {
				r := tc.req(now)
				body = encode(r)
				s := r.(*storagerpc.Store)
				hash = storagerpc.MessageHash(s.Pubkey, s.Namespace, s.Data)
			}
			resp := tn.rpc(t, tc.to, body)
			require.Equal(t, tc.wantStatus, resp.Status, "body: %s", bodyOf(resp))
			if tc.wantText != "" {
				assert.Contains(t, string(bodyOf(resp)), tc.wantText)
			}
			if hash != "" {
				want := 0
				if tc.wantStored {
					want = perSwarm
				}
				tn.drv.RunFor(time.Second)
				assert.Equal(t, want, stored(tn, hash), "copies of the message")
			}
			switch tc.wantStatus {
			case 200:
				res, err := storagerpc.DecodeStoreResponse(bodyOf(resp))
				require.NoError(t, err)
				assert.Equal(t, hash, res.Hash)
				assert.Len(t, res.Swarm, perSwarm, "one entry per member")
				assert.False(t, res.AllFailed())
				for _, e := range res.Swarm {
					require.Nil(t, e.Failed, "member %s failed", e.Node)
					assert.Equal(t, hash, e.Result.Hash)
					var ed [32]byte
					copy(ed[:], testkit.Hex(t, e.Node))
					ok, _ := realSuite.Verify(ed[:], []byte(hash), e.Result.Signature[:])
					assert.True(t, ok, "each member signs the hash")
				}
			case 421:
				res, err := storagerpc.DecodeSwarmInfoResponse(bodyOf(resp))
				require.NoError(t, err)
				assert.Equal(t, uint64(home), res.SwarmID)
				var got []int
				for _, sn := range res.Snodes {
					got = append(got, tn.nodeOf(sn.PubkeyEd25519))
				}
				assert.ElementsMatch(t, members, got)
			}
		})
	}

	t.Run("repeat store is already there", func(t *testing.T) {
		r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), day, []byte("again"))
		first := tn.rpc(t, members[0], encode(r))
		require.Equal(t, 200, first.Status)
		second := tn.rpc(t, members[1], encode(r))
		require.Equal(t, 200, second.Status)
		res, err := storagerpc.DecodeStoreResponse(bodyOf(second))
		require.NoError(t, err)
		for _, e := range res.Swarm {
			assert.True(t, e.Result.Already, "member %s", e.Node)
		}
	})
}

func actorReq(method string, body []byte) actor.Request {
	return actor.Request{Method: method, Body: body, Size: len(body)}
}

func TestRetrieveRPC(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	home, members, acct := tn.homeAccount(t, 2, "acct")
	stranger := accountIn(t, tn.list, testSwarms[2], realSuite, "stranger")
	var hashes []string
	for i := range 5 {
		r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte(strings.Repeat("x", 100+i)))
		require.Equal(t, 200, tn.rpc(t, members[0], encode(r)).Status)
		hashes = append(hashes, storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data))
	}
	retrieve := func(signer *storagerpc.Signer, ns storagerpc.Namespace, last string, count int, at int64) []byte {
		r := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: ns, LastHash: last, MaxCount: count}
		if signer != nil {
			r.Sign(signer, at)
		}
		return encode(r)
	}
	tests := []struct {
		name       string
		to         int
		body       func(now int64) []byte
		wantStatus int
		wantHashes []string
		wantMore   bool
	}{
		{"signed, from any member", members[3], func(now int64) []byte { return retrieve(acct.signer, 0, "", 0, now) }, 200, hashes, false},
		{"unsigned", members[1], func(now int64) []byte { return retrieve(nil, 0, "", 0, now) }, 401, nil, false},
		{"bad signature", members[1], func(now int64) []byte { return retrieve(stranger.signer, 0, "", 0, now) }, 401, nil, false},
		{"clock skew", members[1], func(now int64) []byte { return retrieve(acct.signer, 0, "", 0, now-61_000) }, 406, nil, false},
		{"wrong swarm", tn.membersOf(testSwarms[0])[1], func(now int64) []byte { return retrieve(acct.signer, 0, "", 0, now) }, 421, nil, false},
		{"paged by count", members[0], func(now int64) []byte { return retrieve(acct.signer, 0, "", 2, now) }, 200, hashes[:2], true},
		// The server's LIMIT becomes max_count+1 = 0: no rows, and nothing more to page.
		{"max_count -1 returns nothing", members[0], func(now int64) []byte { return retrieve(acct.signer, 0, "", -1, now) }, 200, nil, false},
		{"after last hash", members[0], func(now int64) []byte { return retrieve(acct.signer, 0, hashes[2], 0, now) }, 200, hashes[3:], false},
		{"legacy closed group namespace needs no signature", members[0], func(now int64) []byte { return retrieve(nil, -10, "", 0, now) }, 200, nil, false},
		{"empty namespace", members[0], func(now int64) []byte { return retrieve(acct.signer, 2, "", 0, now) }, 200, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := tn.rpc(t, tc.to, tc.body(nowMS(tn)))
			require.Equal(t, tc.wantStatus, resp.Status, "body: %s", bodyOf(resp))
			if tc.wantStatus != 200 {
				return
			}
			res, err := storagerpc.DecodeRetrieveResponse(bodyOf(resp))
			require.NoError(t, err)
			var got []string
			for _, m := range res.Messages {
				got = append(got, m.Hash)
			}
			assert.Equal(t, tc.wantHashes, got)
			assert.Equal(t, tc.wantMore, res.More)
		})
	}
	t.Run("a node that left the swarm answers 421 though it still holds the data", func(t *testing.T) {
		l := *tn.list
		l.Height++
		l.Nodes = append([]Peer(nil), l.Nodes...)
		leaver := members[0]
		for i := range l.Nodes {
			if tn.nodeOf(l.Nodes[i].Ed25519) == leaver {
				l.Nodes[i].Swarm = testSwarms[0]
			}
		}
		tn.setList(&l)
		_, held, _ := tn.nodes[leaver].Store().Get(hashes[0])
		require.True(t, held, "leavers keep their data")
		resp := tn.rpc(t, leaver, retrieve(acct.signer, 0, "", 0, nowMS(tn)))
		assert.Equal(t, 421, resp.Status)
		res, err := storagerpc.DecodeSwarmInfoResponse(bodyOf(resp))
		require.NoError(t, err)
		assert.Equal(t, uint64(home), res.SwarmID)
		assert.Len(t, res.Snodes, perSwarm-1)
	})
}

func TestDeleteAndExpireRPCs(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	home, members, acct := tn.homeAccount(t, 0, "acct")
	stranger := accountIn(t, tn.list, home, realSuite, "stranger")
	put := func(ns storagerpc.Namespace, data string) string {
		r := storagerpc.NewStore(acct.pubkey, ns, nowMS(tn), time.Hour, []byte(data))
		if !ns.IsPublicInbox() {
			r.Sign(acct.signer)
		}
		resp := tn.rpc(t, members[0], encode(r))
		require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
		return storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data)
	}
	wrong := tn.membersOf(testSwarms[1])[0]

	t.Run("delete", func(t *testing.T) {
		h1, h2 := put(0, "d1"), put(0, "d2")
		tn.drv.RunFor(time.Second)
		bad := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h1}}
		bad.Sign(stranger.signer)
		assert.Equal(t, 401, tn.rpc(t, members[1], encode(bad)).Status)
		assert.Equal(t, 421, tn.rpc(t, wrong, encode(bad)).Status)
		assert.Equal(t, perSwarm, stored(tn, h1), "a refused delete deletes nothing")

		r := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h1}}
		r.Sign(acct.signer)
		resp := tn.rpc(t, members[1], encode(r))
		for _, res := range swarmResults(t, resp, storagerpc.DecodeDeleteResponse) {
			assert.Equal(t, []string{h1}, res.Hashes)
		}
		assert.Zero(t, stored(tn, h1))
		assert.Equal(t, perSwarm, stored(tn, h2))

		req := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h1}, Required: true}
		req.Sign(acct.signer)
		assert.Equal(t, 404, tn.rpc(t, members[2], encode(req)).Status, "required and nothing deleted")
	})

	t.Run("delete_all and delete_before", func(t *testing.T) {
		h1 := put(2, "c1")
		h2 := put(0, "c2")
		tn.drv.RunFor(time.Second)
		r := &storagerpc.DeleteAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.OneNamespace(2)}
		r.Sign(acct.signer, nowMS(tn))
		resp := tn.rpc(t, members[2], encode(r))
		require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
		assert.Zero(t, stored(tn, h1))
		assert.Equal(t, perSwarm, stored(tn, h2))

		skew := &storagerpc.DeleteAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.AllNamespaces}
		skew.Sign(acct.signer, nowMS(tn)-120_000)
		assert.Equal(t, 406, tn.rpc(t, members[2], encode(skew)).Status)

		tn.drv.RunFor(time.Second)
		db := &storagerpc.DeleteBefore{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.AllNamespaces, Before: nowMS(tn)}
		db.Sign(acct.signer)
		resp = tn.rpc(t, members[3], encode(db))
		require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
		assert.Zero(t, stored(tn, h2))
	})

	t.Run("expire, get_expiries, expire_all", func(t *testing.T) {
		h := put(0, "e1")
		tn.drv.RunFor(time.Second)
		target := nowMS(tn) + 10*60_000
		r := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}, Expiries: []int64{target}, Mode: storagerpc.ExpireShorten}
		r.Sign(acct.signer)
		resp := tn.rpc(t, members[0], encode(r))
		require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
		res, err := storagerpc.DecodeExpireResponse(bodyOf(resp))
		require.NoError(t, err)
		for _, e := range res.Swarm {
			require.Nil(t, e.Failed)
			assert.Equal(t, []string{h}, e.Result.Updated)
		}
		ge := &storagerpc.GetExpiries{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}}
		ge.Sign(acct.signer, nowMS(tn))
		resp = tn.rpc(t, members[3], encode(ge))
		require.Equal(t, 200, resp.Status)
		gr, err := storagerpc.DecodeGetExpiriesResponse(bodyOf(resp))
		require.NoError(t, err)
		require.Len(t, gr.Expiries, 1)
		assert.Equal(t, target, gr.Expiries[0].Expiry, "every member applied the expire")

		ext := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}, Expiries: []int64{target - 60_000}, Mode: storagerpc.ExpireExtend}
		ext.Sign(acct.signer)
		resp = tn.rpc(t, members[1], encode(ext))
		require.Equal(t, 200, resp.Status)
		res, err = storagerpc.DecodeExpireResponse(bodyOf(resp))
		require.NoError(t, err)
		for _, e := range res.Swarm {
			assert.Empty(t, e.Result.Updated, "extend never shortens")
			assert.Equal(t, []storagerpc.HashExpiry{{Hash: h, Expiry: target}}, e.Result.Unchanged)
		}

		bad := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}, Expiries: []int64{target}}
		bad.Sign(stranger.signer)
		assert.Equal(t, 401, tn.rpc(t, members[1], encode(bad)).Status)

		ea := &storagerpc.ExpireAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.AllNamespaces, Expiry: nowMS(tn) + 60_000}
		ea.Sign(acct.signer)
		resp = tn.rpc(t, members[2], encode(ea))
		require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
		for _, n := range members {
			e, err := tn.nodes[n].Store().GetExpiries(ownerOf(acct.pubkey), []string{h})
			require.NoError(t, err)
			require.Len(t, e, 1)
			assert.Equal(t, ea.Expiry, e[0].Expiry)
		}
	})
}

func TestBatchSequenceSwarmInfo(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	home, members, acct := tn.homeAccount(t, 1, "acct")
	elsewhere := accountIn(t, tn.list, testSwarms[2], realSuite, "elsewhere")
	ok := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("b1"))
	misrouted := storagerpc.NewStore(elsewhere.pubkey, 0, nowMS(tn), time.Hour, []byte("b2"))
	after := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("b3"))

	t.Run("batch runs everything", func(t *testing.T) {
		resp := tn.rpc(t, members[0], encode(&storagerpc.Batch{Requests: []storagerpc.Request{ok, misrouted, after}}))
		require.Equal(t, 200, resp.Status)
		res, err := storagerpc.DecodeBatchResponse(bodyOf(resp))
		require.NoError(t, err)
		require.Len(t, res, 3)
		assert.Equal(t, []int{200, 421, 200}, []int{res[0].Code, res[1].Code, res[2].Code})
	})
	t.Run("sequence stops at the first failure", func(t *testing.T) {
		resp := tn.rpc(t, members[0], encode(&storagerpc.Batch{Sequence: true, Requests: []storagerpc.Request{ok, misrouted, after}}))
		require.Equal(t, 200, resp.Status)
		res, err := storagerpc.DecodeBatchResponse(bodyOf(resp))
		require.NoError(t, err)
		require.Len(t, res, 2)
		assert.Equal(t, 421, res[1].Code)
		// The 421's swarm is a JSON object inside the batch, as the storage server embeds a JSON
		// body, so the client can take up the swarm it names.
		swarm, err := storagerpc.DecodeSwarmInfoResponse(res[1].Body)
		require.NoError(t, err, "421 body in the batch: %s", res[1].Body)
		assert.Equal(t, uint64(testSwarms[2]), swarm.SwarmID)
		assert.Len(t, swarm.Snodes, perSwarm)
	})
	t.Run("get_swarm answers from any node", func(t *testing.T) {
		resp := tn.rpc(t, tn.membersOf(testSwarms[0])[0], encode(&storagerpc.GetSwarm{Pubkey: acct.pubkey}))
		require.Equal(t, 200, resp.Status)
		res, err := storagerpc.DecodeSwarmInfoResponse(bodyOf(resp))
		require.NoError(t, err)
		assert.Equal(t, uint64(home), res.SwarmID)
		assert.Len(t, res.Snodes, perSwarm)
	})
	t.Run("info", func(t *testing.T) {
		resp := tn.rpc(t, members[0], encode(&storagerpc.Info{}))
		require.Equal(t, 200, resp.Status)
		res, err := storagerpc.DecodeInfoResponse(bodyOf(resp))
		require.NoError(t, err)
		assert.Equal(t, storagerpc.Version{2, 11, 0}, res.Version)
		assert.InDelta(t, nowMS(tn), res.Timestamp, 50, "the node's clock, one network hop ago")
	})
	t.Run("body over 10 MiB", func(t *testing.T) {
		resp := tn.rpc(t, members[0], make([]byte, storagerpc.MaxBodySize+1))
		assert.Equal(t, 413, resp.Status)
	})
	t.Run("unknown endpoint", func(t *testing.T) {
		resp, err := tn.drv.Call(clientAddr, addrN(members[0]), actorReq("/nope", nil), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 404, resp.Status)
	})
}

func TestRateLimitPerClientIP(t *testing.T) {
	cfg := Config{RateLimit: RateLimit{BucketSize: 5, Rate: 1, MaxClients: 100}}
	tn := newTestNet(t, testSwarms[:1], 1, cfg)
	body := encode(&storagerpc.Info{})
	var statuses []int
	for range 7 {
		statuses = append(statuses, tn.rpc(t, 0, body).Status)
	}
	assert.Equal(t, []int{200, 200, 200, 200, 200, 429, 429}, statuses)
	resp, err := tn.drv.Call(addrN(9001), addrN(0), actorReq(MethodStorageRPC, body), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status, "another IP has its own bucket")
	limited := 0
	for _, ev := range tn.drv.Events {
		if _, ok := ev.Event.(RateLimited); ok {
			limited++
		}
	}
	assert.Equal(t, 2, limited)
}

func TestNotReadyWithoutSwarm(t *testing.T) {
	tn := newTestNet(t, testSwarms[:1], 1, Config{})
	l := &registry.List{Height: 2, Nodes: []Peer{{Ed25519: tn.keys[0].Ed25519Public, Addr: addrN(0), Swarm: swarm.Unassigned}}}
	tn.setList(l)
	resp := tn.rpc(t, 0, encode(&storagerpc.Info{}))
	assert.Equal(t, 503, resp.Status)
}

// TestEndpoints sends every endpoint a request with no body from the test client: each is
// served (the ping passes; the others refuse the body or the sender), and an unknown one is not
// found.
func TestEndpoints(t *testing.T) {
	tests := []struct {
		method string
		status int
		text   string
	}{
		{MethodStorageRPC, http.StatusBadRequest, "invalid json"},
		{MethodOnion, http.StatusBadRequest, "body is not bytes"},
		{MethodRelay, http.StatusBadRequest, "body is not bytes"},
		{MethodPing, http.StatusOK, ""},
		{MethodForward, http.StatusBadRequest, "non-forwardable"},
		{MethodData, http.StatusBadRequest, "invalid data batch"},
		{MethodDataReady, http.StatusBadRequest, "invalid data_ready request"},
		{MethodList, http.StatusForbidden, "oxend"},
		{"/nowhere", http.StatusNotFound, "POST /nowhere Not Found"},
	}
	tn := newTestNet(t, testSwarms[:1], 1, Config{Registry: addrN(7000)})
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			resp, err := tn.drv.Call(clientAddr, addrN(0), actor.Request{Method: tc.method}, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.Status, "%s", bodyOf(resp))
			assert.Contains(t, string(bodyOf(resp)), tc.text)
		})
	}
}

func TestForwardable(t *testing.T) {
	tests := []struct {
		name string
		req  storagerpc.Request
		want bool
	}{
		{"store", &storagerpc.Store{}, true},
		{"delete", &storagerpc.Delete{}, true},
		{"delete_all", &storagerpc.DeleteAll{}, true},
		{"delete_before", &storagerpc.DeleteBefore{}, true},
		{"expire", &storagerpc.Expire{}, true},
		{"expire_all", &storagerpc.ExpireAll{}, true},
		{"nil store", (*storagerpc.Store)(nil), false},
		{"nil expire_all", (*storagerpc.ExpireAll)(nil), false},
		{"retrieve", &storagerpc.Retrieve{}, false},
		{"info", &storagerpc.Info{}, false},
		{"no request", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, forwardable(tc.req))
		})
	}
}

// TestSignedMethodsTable runs every signed account method through the same cases: valid,
// unsigned (the parser refuses it, naming the field), signed by someone else, sent to the
// wrong swarm, and (for methods with a signature timestamp) signed too long ago.
func TestSignedMethodsTable(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	home, members, acct := tn.homeAccount(t, 0, "table")
	wrong := tn.membersOf(testSwarms[2])[0]
	stranger := accountIn(t, tn.list, home, realSuite, "table-stranger")
	st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("table"))
	require.Equal(t, 200, tn.rpc(t, members[0], encode(st)).Status)
	h := storagerpc.MessageHash(st.Pubkey, st.Namespace, st.Data)

	type method struct {
		name string
		// build makes the request signed by s at time at (ms); s nil leaves it unsigned.
		build     func(s *storagerpc.Signer, at int64) storagerpc.Request
		timestamp bool // carries a signature timestamp checked against the clock
	}
	methods := []method{
		{"retrieve", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: 3}
			if s != nil {
				r.Sign(s, at)
			}
			return r
		}, true},
		{"get_expiries", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.GetExpiries{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}}
			if s != nil {
				r.Sign(s, at)
			}
			return r
		}, true},
		{"delete_all", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.DeleteAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.OneNamespace(7)}
			if s != nil {
				r.Sign(s, at)
			}
			return r
		}, true},
		{"delete", func(s *storagerpc.Signer, _ int64) storagerpc.Request {
			r := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}
			if s != nil {
				r.Sign(s)
			}
			return r
		}, false},
		{"delete_before", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.DeleteBefore{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.OneNamespace(7), Before: at}
			if s != nil {
				r.Sign(s)
			}
			return r
		}, false},
		{"expire", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{h}, Expiries: []int64{at + 3_000_000}, Mode: storagerpc.ExpireExtend}
			if s != nil {
				r.Sign(s)
			}
			return r
		}, false},
		{"expire_all", func(s *storagerpc.Signer, at int64) storagerpc.Request {
			r := &storagerpc.ExpireAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Namespace: storagerpc.OneNamespace(7), Expiry: at + 60_000}
			if s != nil {
				r.Sign(s)
			}
			return r
		}, false},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			now := nowMS(tn)
			cases := []struct {
				name   string
				to     int
				req    storagerpc.Request
				status int
			}{
				{"valid", members[1], m.build(acct.signer, now), 200},
				{"bad signature", members[1], m.build(stranger.signer, now), 401},
				{"wrong swarm", wrong, m.build(acct.signer, now), 421},
			}
			if m.timestamp {
				cases = append(cases, struct {
					name   string
					to     int
					req    storagerpc.Request
					status int
				}{"clock skew", members[2], m.build(acct.signer, now-5*60_000), 406})
			}
			for _, c := range cases {
				resp := tn.rpc(t, c.to, encode(c.req))
				assert.Equal(t, c.status, resp.Status, "%s: %s", c.name, bodyOf(resp))
				if c.status == 421 {
					res, err := storagerpc.DecodeSwarmInfoResponse(bodyOf(resp))
					require.NoError(t, err)
					assert.Equal(t, uint64(home), res.SwarmID)
				}
			}
			// Unsigned: refused before anything runs, with a 400 naming the signature. (An
			// unsigned retrieve that names no namespace is a 401 instead: TestRetrieveRPC.)
			resp := tn.rpc(t, members[0], unsigned(t, encode(m.build(acct.signer, now))))
			assert.Equal(t, 400, resp.Status, "%s", bodyOf(resp))
			assert.Contains(t, string(bodyOf(resp)), "signature")
		})
	}
	assert.Equal(t, perSwarm, stored(tn, h), "nothing above deleted the message")
}

// unsigned removes the signature (and what goes with it) from an encoded request.
func unsigned(t *testing.T, body []byte) []byte {
	var req map[string]any
	require.NoError(t, json.Unmarshal(body, &req))
	params := req["params"].(map[string]any)
	for _, k := range []string{"signature", "pubkey_ed25519"} {
		delete(params, k)
	}
	if req["method"] == "retrieve" {
		delete(params, "timestamp")
	}
	out, err := json.Marshal(req)
	require.NoError(t, err)
	return out
}

// A batch's retrieve, expire and store results carry the answers their JSON was written from (what a
// structural answer hands the client in place of the JSON): writing the value gives the JSON
// byte for byte, and parsing the JSON gives what the client reads from the value. Other
// results carry none and are parsed.
func TestBatchResultValuesMatchTheirJSON(t *testing.T) {
	got := servedBatch(t, false)
	require.False(t, got.measured)

	rv, ok := got.results[0].Value.(*storagerpc.RetrieveResponse)
	require.True(t, ok, "a retrieve result carries its answer")
	assert.Equal(t, got.results[0].Body, rv.Append(nil))
	rr, err := storagerpc.DecodeRetrieveResponse(got.results[0].Body)
	require.NoError(t, err)
	require.Len(t, rr.Messages, 1)
	assert.Equal(t, rr, rv)

	ev, ok := got.results[1].Value.(*storagerpc.SwarmResponse[storagerpc.ExpireResult])
	require.True(t, ok, "an expire result carries its answer")
	assert.Equal(t, got.results[1].Body, storagerpc.AppendExpireResponse(nil, ev))
	er, err := storagerpc.DecodeExpireResponse(got.results[1].Body)
	require.NoError(t, err)
	// The JSON keeps the swarm in node order and empty lists as empty: compare what each
	// member answered.
	byNode := func(r *storagerpc.SwarmResponse[storagerpc.ExpireResult]) map[string][]string {
		m := map[string][]string{}
		for _, e := range r.Swarm {
			require.Nil(t, e.Failed)
			m[e.Node] = e.Result.Updated
		}
		return m
	}
	require.Len(t, er.Swarm, perSwarm)
	assert.Equal(t, byNode(er), byNode(ev))

	assert.Nil(t, got.results[2].Value, "an info answer is parsed")

	sv, ok := got.results[3].Value.(*storagerpc.StoreResponse)
	require.True(t, ok, "a store result carries its answer")
	assert.Equal(t, got.results[3].Body, sv.Append(nil))
}

// servedBatch is the outcome of a batch of a retrieve, an expire, an info and a store served by
// a swarm member, measured or not (rpcCtx.measured).
func servedBatch(t *testing.T, measured bool) *outcome {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	_, members, acct := tn.homeAccount(t, 1, "acct")
	st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("kept \"as\" values"))
	require.Equal(t, 200, tn.rpc(t, members[0], encode(st)).Status)
	hash := storagerpc.MessageHash(st.Pubkey, st.Namespace, st.Data)
	tn.drv.RunFor(time.Second)

	rt := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
	rt.Sign(acct.signer, nowMS(tn))
	ex := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{hash}, Expiries: []int64{nowMS(tn) + 30*60_000}, Mode: storagerpc.ExpireShorten}
	ex.Sign(acct.signer)
	st2 := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("another"))
	body := encode(&storagerpc.Batch{Requests: []storagerpc.Request{rt, ex, &storagerpc.Info{}, st2}})

	n := tn.nodes[members[1]]
	var got *outcome
	tn.drv.Actor(addrN(members[1])).Do(func() {
		n.serveJSON(body, nil, measured, ViaDirect, clientAddr.Addr(), func(_ string, _ named, o outcome) { got = &o })
	})
	tn.drv.RunFor(time.Minute)
	require.NotNil(t, got)
	require.Len(t, got.results, 4)
	return got
}

// A measured batch (a structural onion's) writes neither itself nor the answers it keeps as
// values, and its size is that of the answer written from them.
func TestMeasuredBatchIsNotWritten(t *testing.T) {
	got := servedBatch(t, true)
	require.True(t, got.measured)
	assert.Nil(t, got.body, "the batch is not written")
	for _, k := range []int{0, 1, 3} {
		require.NotNil(t, got.results[k].Value, "result %d keeps its answer", k)
		assert.Nil(t, got.results[k].Body, "result %d is not written", k)
	}
	assert.NotEmpty(t, got.results[2].Body, "an info answer, which has no value, is written")
	written := storagerpc.AppendBatchResponse(nil, got.results)
	decoded, err := storagerpc.DecodeBatchResponse(written)
	require.NoError(t, err)
	require.Len(t, decoded, 4)
	assert.Equal(t, len(written), got.size.Len)
	var quoted bytes.Buffer
	enc := json.NewEncoder(&quoted)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(string(written)))
	assert.Equal(t, quoted.Len()-1, got.size.Quoted, "the length as an onion reply's JSON string")
}
