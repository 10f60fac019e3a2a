package node

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

func onionNode(tn *testNet, i int) onion.Node {
	return onion.Node{Ed25519: tn.keys[i].Ed25519Public, X25519: tn.keys[i].X25519Public}
}

// postOnion sends a built onion to node guard from the test client.
func postOnion(t *testing.T, tn *testNet, guard int, body []byte) actor.Response {
	t.Helper()
	resp, err := tn.drv.Call(clientAddr, addrN(guard), actorReq(MethodOnion, body), time.Minute)
	require.NoError(t, err)
	return resp
}

func hopsSeen(tn *testNet) []OnionHop {
	var out []OnionHop
	for _, ev := range tn.drv.Events {
		if h, ok := ev.Event.(OnionHop); ok {
			out = append(out, h)
		}
	}
	return out
}

func TestOnionStoreThroughThreeHops(t *testing.T) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		for _, et := range []onion.EncType{onion.AESGCM, onion.XChaCha20} {
			t.Run(mode.String()+"/"+et.String(), func(t *testing.T) {
				suite := cryptomode.New(mode, cryptomode.DefaultCosts)
				tn := newTestNet(t, testSwarms, perSwarm, Config{Suite: suite})
				home := testSwarms[2]
				members := tn.membersOf(home)
				acct := accountIn(t, tn.list, home, suite, "onion")
				guard, mid, last := tn.membersOf(testSwarms[0])[0], tn.membersOf(testSwarms[0])[1], tn.membersOf(testSwarms[1])[0]
				dest := members[0]

				st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("through the onion"))
				rnd := actor.RandReader(rand.New(rand.NewPCG(5, 6)))
				path := onion.Path{Hops: []onion.Node{onionNode(tn, guard), onionNode(tn, mid), onionNode(tn, last)}, EncType: et}
				built, err := onion.BuildToNode(suite, rnd, path, onionNode(tn, dest), encode(st))
				require.NoError(t, err)

				resp := postOnion(t, tn, guard, built.Body)
				require.Equal(t, http.StatusOK, resp.Status, "%s", bodyOf(resp))
				nr, _, err := onion.OpenNodeResponse(suite.Costs(), built.Reply, onion.ResponseFormat{}, bodyOf(resp))
				require.NoError(t, err)
				require.Equal(t, 200, nr.Status, "%s", nr.Body)
				sr, err := storagerpc.DecodeStoreResponse(nr.Body)
				require.NoError(t, err)
				assert.Len(t, sr.Swarm, perSwarm)
				tn.drv.RunFor(time.Second)
				assert.Equal(t, perSwarm, stored(tn, sr.Hash))

				hops := hopsSeen(tn)
				require.Len(t, hops, 4)
				byRole := map[HopRole][]OnionHop{}
				for _, h := range hops {
					byRole[h.Role] = append(byRole[h.Role], h)
				}
				require.Len(t, byRole[HopRelay], 3)
				require.Len(t, byRole[HopDestination], 1)
				d := byRole[HopDestination][0]
				assert.Equal(t, "store", d.Method)
				assert.Equal(t, [33]byte(ownerOf(acct.pubkey)), d.Owner)
				assert.Equal(t, addrN(last).Addr(), d.From, "the destination sees the last hop")
				assert.Equal(t, 3, d.HopNo)
				// A timing observer needs arrivals: the request reaches each hop after the one
				// before it, and every hop is reported once it is done, not before it arrived.
				require.False(t, d.Arrived.IsZero(), "the destination's arrival")
				for _, h := range byRole[HopRelay] {
					assert.True(t, h.Arrived.Before(d.Arrived), "hop %d arrives before the destination", h.HopNo)
				}
				for _, ev := range tn.drv.Events {
					if h, ok := ev.Event.(OnionHop); ok {
						assert.False(t, ev.At.Before(h.Arrived), "hop %d reported before it arrived", h.HopNo)
					}
				}
				for _, h := range byRole[HopRelay] {
					if h.Guard {
						assert.Equal(t, clientAddr.Addr(), h.From, "only the guard sees the client")
						assert.Equal(t, tn.keys[mid].Ed25519Public, h.Next)
					} else {
						assert.NotEqual(t, clientAddr.Addr(), h.From)
					}
				}
			})
		}
	}
}

// fileServer answers any proxied request with a fixed body.
type fileServer struct{ got []actor.Request }

func (f *fileServer) Start(actor.Env) {}
func (f *fileServer) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	f.got = append(f.got, req)
	r.Respond(actor.Response{Status: 200, Body: []byte("server reply"), Size: 12})
}

func TestOnionFailures(t *testing.T) {
	serverAddr := addrN(8000)
	cfg := Config{Servers: map[string]actor.Addr{"files.example": serverAddr}}
	tn := newTestNet(t, testSwarms, perSwarm, cfg)
	fs := &fileServer{}
	tn.drv.Add(serverAddr, fs)
	rnd := actor.RandReader(rand.New(rand.NewPCG(7, 8)))
	acct := accountIn(t, tn.list, testSwarms[1], realSuite, "onion-fail")
	rpc := encode(&storagerpc.GetSwarm{Pubkey: acct.pubkey})
	path := func(hops ...int) onion.Path {
		p := onion.Path{}
		for _, h := range hops {
			p.Hops = append(p.Hops, onionNode(tn, h))
		}
		return p
	}
	stranger := onion.Node{Ed25519: [32]byte{1, 2, 3}, X25519: tn.keys[5].X25519Public}

	t.Run("next node not found", func(t *testing.T) {
		built, err := onion.BuildToNode(realSuite, rnd, path(0, 1), stranger, rpc)
		require.NoError(t, err)
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 502, resp.Status)
		assert.Equal(t, "Next node not found: "+hex.EncodeToString(stranger.Ed25519[:]), string(bodyOf(resp)))
	})
	t.Run("relay timeout", func(t *testing.T) {
		dead := 11
		built, err := onion.BuildToNode(realSuite, rnd, path(0, dead), onionNode(tn, 2), rpc)
		require.NoError(t, err)
		tn.drv.Crash(addrN(dead))
		defer tn.drv.Add(addrN(dead), tn.nodes[dead])
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 504, resp.Status)
		assert.Equal(t, "Request time out", string(bodyOf(resp)))
	})
	t.Run("wrong key: invalid ciphertext", func(t *testing.T) {
		p := path(0)
		p.Hops[0].X25519 = tn.keys[1].X25519Public
		built, err := onion.BuildToNode(realSuite, rnd, p, onionNode(tn, 2), rpc)
		require.NoError(t, err)
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 400, resp.Status)
		assert.Equal(t, "Invalid ciphertext", string(bodyOf(resp)))
	})
	t.Run("garbage frame", func(t *testing.T) {
		resp := postOnion(t, tn, 0, []byte{1, 2})
		assert.Equal(t, 400, resp.Status)
	})
	t.Run("relay request from a non-node", func(t *testing.T) {
		req := onion.Request{Ciphertext: []byte("x"), HopNo: 1}
		resp, err := tn.drv.Call(clientAddr, addrN(0), actorReq(MethodRelay, req.RelayBody()), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 403, resp.Status)
	})
	t.Run("hop limit", func(t *testing.T) {
		req := onion.Request{Ciphertext: []byte("x"), HopNo: onion.MaxHops + 1}
		resp, err := tn.drv.Call(addrN(1), addrN(0), actorReq(MethodRelay, req.RelayBody()), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 400, resp.Status)
		assert.Equal(t, "onion request max path length exceeded", string(bodyOf(resp)))
	})
	t.Run("proxy to an allowed server", func(t *testing.T) {
		built, err := onion.BuildToServer(realSuite, rnd, path(0, 1, 2), onion.Server{Host: "files.example", X25519: [32]byte{9}}, onion.V4Request{Method: "GET", Endpoint: "/file/1"})
		require.NoError(t, err)
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 200, resp.Status)
		assert.Equal(t, "server reply", string(bodyOf(resp)), "the relays pass the server's answer back unchanged")
		require.Len(t, fs.got, 1)
		assert.Equal(t, onion.V4Target, fs.got[0].Method)
	})
	t.Run("proxy to an unknown host goes nowhere", func(t *testing.T) {
		built, err := onion.BuildToServer(realSuite, rnd, path(0, 1, 2), onion.Server{Host: "evil.example", X25519: [32]byte{9}}, onion.V4Request{Method: "GET", Endpoint: "/"})
		require.NoError(t, err)
		calls := len(tn.drv.Calls)
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 502, resp.Status)
		for _, c := range tn.drv.Calls[calls:] {
			_, isNode := tn.nodes[0].view.fromAddr(c.To)
			assert.True(t, isNode || c.To == addrN(0), "a node only ever calls nodes (called %v)", c.To)
		}
	})
	t.Run("proxy target not allowed: encrypted 400", func(t *testing.T) {
		built, err := onion.BuildToServer(realSuite, rnd, path(0, 1), onion.Server{Host: "files.example", Target: "/admin", X25519: [32]byte{9}}, onion.V4Request{Method: "GET", Endpoint: "/"})
		require.NoError(t, err)
		resp := postOnion(t, tn, 0, built.Body)
		assert.Equal(t, 200, resp.Status, "an encrypted error travels as a 200")
		assert.Len(t, fs.got, 1, "nothing was posted")
	})
	t.Run("a destination learns the account inside a batch", func(t *testing.T) {
		st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("batched"))
		dest := tn.membersOf(testSwarms[1])[0]
		built, err := onion.BuildToNode(realSuite, rnd, path(0, 4), onionNode(tn, dest), encode(&storagerpc.Batch{Requests: []storagerpc.Request{st}}))
		require.NoError(t, err)
		before := len(tn.drv.Events)
		resp := postOnion(t, tn, 0, built.Body)
		require.Equal(t, 200, resp.Status)
		nr, _, err := onion.OpenNodeResponse(realSuite.Costs(), built.Reply, onion.ResponseFormat{}, bodyOf(resp))
		require.NoError(t, err)
		sub, err := storagerpc.DecodeBatchResponse(nr.Body)
		require.NoError(t, err)
		require.Len(t, sub, 1)
		assert.Equal(t, 200, sub[0].Code)
		found := false
		for _, ev := range tn.drv.Events[before:] {
			if h, ok := ev.Event.(OnionHop); ok && h.Role == HopDestination {
				found = true
				assert.Equal(t, "batch", h.Method)
				assert.Equal(t, [33]byte(ownerOf(acct.pubkey)), h.Owner)
			}
		}
		assert.True(t, found)
	})
	t.Run("not ready", func(t *testing.T) {
		tn2 := newTestNet(t, testSwarms[:1], 1, Config{})
		tn2.setList(listOf(5, nil, 0))
		built, err := onion.BuildToNode(realSuite, rnd, onion.Path{Hops: []onion.Node{onionNode(tn2, 0)}}, onionNode(tn2, 0), rpc)
		require.NoError(t, err)
		resp, err := tn2.drv.Call(clientAddr, addrN(0), actorReq(MethodOnion, built.Body), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 503, resp.Status)
	})
}

// A quiet node (Config.Quiet) answers as any other and reports the same events, but for the
// three it reports per request served, onion hop and forward answered.
func TestQuietNodeLeavesOutPerRequestEvents(t *testing.T) {
	perRequest := func(ev actor.Event) bool {
		switch ev.(type) {
		case RequestServed, OnionHop, ReplicationDone:
			return true
		}
		return false
	}
	run := func(quiet bool) (body []byte, kept, left []actortest.Observed) {
		suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
		tn := newTestNet(t, testSwarms, perSwarm, Config{Suite: suite, Quiet: quiet})
		acct := accountIn(t, tn.list, testSwarms[2], suite, "quiet")
		guard, mid, last := tn.membersOf(testSwarms[0])[0], tn.membersOf(testSwarms[0])[1], tn.membersOf(testSwarms[1])[0]
		st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("quietly"))
		// A store (forwarded to the swarm) and a retrieve, in one batch.
		rpc := encode(&storagerpc.Batch{Requests: []storagerpc.Request{st, &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}}})
		path := onion.Path{Hops: []onion.Node{onionNode(tn, guard), onionNode(tn, mid), onionNode(tn, last)}}
		built, err := onion.BuildToNode(suite, actor.RandReader(rand.New(rand.NewPCG(5, 6))), path, onionNode(tn, tn.membersOf(testSwarms[2])[0]), rpc)
		require.NoError(t, err)
		resp := postOnion(t, tn, guard, built.Body)
		require.Equal(t, http.StatusOK, resp.Status, "%s", bodyOf(resp))
		tn.drv.RunFor(time.Second)
		for _, ev := range tn.drv.Events {
			if perRequest(ev.Event) {
				left = append(left, ev)
			} else {
				kept = append(kept, ev)
			}
		}
		return bodyOf(resp), kept, left
	}
	loudBody, loudKept, loudLeft := run(false)
	quietBody, quietKept, quietLeft := run(true)
	assert.Equal(t, loudBody, quietBody, "the same answer")
	assert.Equal(t, loudKept, quietKept, "the same other events, at the same times")
	assert.NotEmpty(t, actortest.EventsOf[MessageStored](quietKept), "the store was applied")
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"RequestServed", len(actortest.EventsOf[RequestServed](loudLeft))},
		{"OnionHop", len(actortest.EventsOf[OnionHop](loudLeft))},
		{"ReplicationDone", len(actortest.EventsOf[ReplicationDone](loudLeft))},
	} {
		assert.NotZero(t, tc.n, "a node that is not quiet reports %s", tc.name)
	}
	assert.Empty(t, quietLeft, "a quiet node reports none of them")
}
