package node

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// TestChargedSizesAreEncodedSizes runs every kind of message a node sends or answers in real
// crypto and checks the size charged to the network against the length of its encoding in the
// transport's framing. Bodies that are bytes are measured as they are; node-to-node bodies
// that travel as Go values are measured with protocol/storagerpc's size functions, which its own
// tests check against an independent bencoder.
func TestChargedSizesAreEncodedSizes(t *testing.T) {
	serverAddr := addrN(8000)
	tn := newTestNet(t, testSwarms, perSwarm, Config{Suite: realSuite, Servers: map[string]actor.Addr{"files.example": serverAddr}})
	tn.drv.Add(serverAddr, &fileServer{})
	home, members, acct := tn.homeAccount(t, 1, "sizes")
	rnd := actor.RandReader(rand.New(rand.NewPCG(3, 4)))

	// Client RPCs and their forwards: store, retrieve, delete, expire, and one at the wrong
	// swarm.
	var hashes []string
	for i := range 3 {
		st := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte(fmt.Sprintf("message %d of some length", i)))
		require.Equal(t, http.StatusOK, tn.rpc(t, members[0], encode(st)).Status)
		hashes = append(hashes, storagerpc.MessageHash(st.Pubkey, st.Namespace, st.Data))
	}
	tn.drv.RunFor(time.Second)
	retrieve := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
	retrieve.Sign(acct.signer, nowMS(tn))
	require.Equal(t, http.StatusOK, tn.rpc(t, members[1], encode(retrieve)).Status)
	ex := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: hashes[:2], Expiries: []int64{nowMS(tn) + 60_000}, Mode: storagerpc.ExpireShorten}
	ex.Sign(acct.signer)
	require.Equal(t, http.StatusOK, tn.rpc(t, members[0], encode(ex)).Status)
	del := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: hashes[2:]}
	del.Sign(acct.signer)
	require.Equal(t, http.StatusOK, tn.rpc(t, members[0], encode(del)).Status)
	require.Equal(t, http.StatusMisdirectedRequest, tn.rpc(t, tn.membersOf(testSwarms[0])[0], encode(retrieve)).Status)

	// Onion requests: to a node through three hops, and to a server.
	guard, mid, last := tn.membersOf(testSwarms[0])[0], tn.membersOf(testSwarms[0])[1], tn.membersOf(testSwarms[2])[0]
	path := onion.Path{Hops: []onion.Node{onionNode(tn, guard), onionNode(tn, mid), onionNode(tn, last)}}
	built, err := onion.BuildToNode(realSuite, rnd, path, onionNode(tn, members[2]), encode(retrieve))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, postOnion(t, tn, guard, built.Body).Status)
	built, err = onion.BuildToServer(realSuite, rnd, path, onion.Server{Host: "files.example", X25519: [32]byte{9}}, onion.V4Request{Method: "GET", Endpoint: "/file/1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, postOnion(t, tn, guard, built.Body).Status)

	// A newcomer in the swarm: the members push it the swarm's messages.
	j := tn.joiner(t, Config{Suite: realSuite})
	tn.setList(withNode(tn.list, Peer{Ed25519: tn.keys[j].Ed25519Public, X25519: tn.keys[j].X25519Public, Addr: addrN(j), Swarm: home}))
	tn.drv.RunFor(time.Minute)

	// A reachability test.
	e := tn.drv.Actor(addrN(0))
	peer, ok := tn.nodes[0].view.find(tn.keys[1].Ed25519Public)
	require.True(t, ok)
	e.Do(func() { tn.nodes[0].testReach(peer, 0) })
	tn.drv.RunFor(time.Minute)

	mqReply := func(bodyLen int) int { return transport.MQReplySize(3, bodyLen) }
	body := func(v any) int {
		b, ok := v.([]byte)
		require.True(t, ok, "a %T body", v)
		return len(b)
	}
	tests := []struct {
		name  string
		reply bool // the size checked is the answer's, not the request's
		match func(c actortest.Call) bool
		want  func(c actortest.Call) int
	}{
		{"client RPC answer (JSON)", true,
			func(c actortest.Call) bool {
				return c.Req.Method == MethodStorageRPC && c.Resp.Status != http.StatusBadRequest
			},
			func(c actortest.Call) int {
				return transport.HTTPSResponseSize(c.Resp.Status, transport.JSON, body(c.Resp.Body))
			}},
		{"forward to a swarm peer", false,
			func(c actortest.Call) bool { return c.Req.Method == MethodForward },
			func(c actortest.Call) int {
				return transport.MQRequestSize(MethodForward, storagerpc.ForwardSize(c.Req.Body.(*Forward).Request))
			}},
		{"peer's store result", true,
			func(c actortest.Call) bool { _, ok := c.Resp.Body.(*storagerpc.StoreResult); return ok },
			func(c actortest.Call) int {
				return mqReply(storagerpc.ForwardedStoreResultSize(c.Resp.Body.(*storagerpc.StoreResult)))
			}},
		{"peer's delete result", true,
			func(c actortest.Call) bool { _, ok := c.Resp.Body.(*storagerpc.HashesResult); return ok },
			func(c actortest.Call) int {
				return mqReply(storagerpc.ForwardedHashesResultSize(c.Resp.Body.(*storagerpc.HashesResult)))
			}},
		{"peer's expire result", true,
			func(c actortest.Call) bool { _, ok := c.Resp.Body.(*storagerpc.ExpireResult); return ok },
			func(c actortest.Call) int {
				return mqReply(storagerpc.ForwardedExpireResultSize(c.Resp.Body.(*storagerpc.ExpireResult)))
			}},
		{"onion hop forward", false,
			func(c actortest.Call) bool { return c.Req.Method == MethodRelay },
			func(c actortest.Call) int { return transport.MQRequestSize(MethodRelay, body(c.Req.Body)) }},
		{"onion reply to the previous hop", true,
			func(c actortest.Call) bool { return c.Req.Method == MethodRelay },
			func(c actortest.Call) int { return mqReply(body(c.Resp.Body)) }},
		{"onion reply to the client", true,
			func(c actortest.Call) bool { return c.Req.Method == MethodOnion },
			func(c actortest.Call) int {
				return transport.HTTPSResponseSize(c.Resp.Status, transport.Binary, body(c.Resp.Body))
			}},
		{"proxied request to a server", false,
			func(c actortest.Call) bool { return c.To == serverAddr },
			func(c actortest.Call) int {
				return transport.HTTPSRequestSize(serverAddr, c.Req.Method, transport.Binary, body(c.Req.Body))
			}},
		{"ready handshake", false,
			func(c actortest.Call) bool { return c.Req.Method == MethodDataReady },
			func(c actortest.Call) int { return transport.MQRequestSize(MethodDataReady, 8) }},
		{"replication push", false,
			func(c actortest.Call) bool { return c.Req.Method == MethodData },
			func(c actortest.Call) int {
				sum := 0
				for _, m := range c.Req.Body.(*DataBatch).Messages {
					sum += storagerpc.PushedMessageSize(len(m.Hash), storagerpc.Namespace(m.Namespace), m.Timestamp, m.Expiry, m.Len())
				}
				return transport.MQRequestSize(MethodData, storagerpc.PushSize(sum))
			}},
		{"push acknowledged", true,
			func(c actortest.Call) bool { return c.Req.Method == MethodData },
			func(c actortest.Call) int { return mqReply(body(c.Resp.Body)) }},
		{"reachability ping", false,
			func(c actortest.Call) bool { return c.Req.Method == MethodPing },
			func(c actortest.Call) int { return transport.HTTPSRequestSize(c.To, MethodPing, "", 0) }},
		{"ping answer", true,
			func(c actortest.Call) bool { return c.Req.Method == MethodPing },
			func(c actortest.Call) int { return transport.HTTPSResponseSize(c.Resp.Status, transport.Text, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			for _, c := range tn.drv.Calls {
				if tc.reply && !c.Answered || !tc.match(c) {
					continue
				}
				seen++
				got := c.Req.Size
				if tc.reply {
					got = c.Resp.Size
				}
				assert.Equal(t, tc.want(c), got, "%s from %v to %v", c.Req.Method, c.From, c.To)
			}
			require.Positive(t, seen, "the run sent no %s", tc.name)
		})
	}
}
