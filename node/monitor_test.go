package node

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// subscriber stands in for the push server: it keeps the notices it receives.
type subscriber struct {
	env     actor.Env
	notices []storagerpc.Notification
	sizes   []int
}

func (s *subscriber) Start(env actor.Env) { s.env = env }
func (s *subscriber) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	if req.Method == MethodNotify {
		n, err := storagerpc.ParseNotification(req.Body.([]byte))
		if err == nil {
			s.notices = append(s.notices, n)
			s.sizes = append(s.sizes, req.Size)
		}
	}
	r.Respond(actor.Response{Status: http.StatusOK})
}

var subscriberAddr = addrN(7001)

// monitor sends a monitor.messages request from the subscriber to node i.
func (tn *testNet) monitor(t *testing.T, i int, body []byte) []byte {
	t.Helper()
	resp, err := tn.drv.Call(subscriberAddr, addrN(i), actor.Request{Method: MethodMonitor, Body: body, Size: transport.MQRequestSize(MethodMonitor, len(body))}, time.Minute)
	require.NoError(t, err)
	reply := bodyOf(resp)
	assert.Equal(t, transport.MQReplySize(len(reply)), resp.Size)
	return reply
}

func TestMonitorNotifies(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	sub := &subscriber{}
	tn.drv.Add(subscriberAddr, sub)
	_, members, acct := tn.homeAccount(t, 1, "monitored")
	ts := tn.drv.Now().Unix()
	plain := storagerpc.Monitor{Namespaces: []storagerpc.Namespace{0}}
	plain.Sign(acct.signer, ts)
	for _, i := range members {
		assert.Equal(t, "d7:successi1ee", string(tn.monitor(t, i, storagerpc.AppendMonitor(nil, &plain))))
	}

	store := func(ns storagerpc.Namespace, data string) string {
		r := storagerpc.NewStore(acct.pubkey, ns, nowMS(tn), time.Hour, []byte(data))
		if ns != 0 {
			r.Sign(acct.signer)
		}
		resp := tn.rpc(t, members[0], encode(r))
		require.Equal(t, http.StatusOK, resp.Status, "%s", bodyOf(resp))
		tn.drv.RunFor(time.Second)
		return storagerpc.MessageHash(acct.pubkey, ns, []byte(data))
	}
	hash := store(0, "first")
	// Every member stored it new (the client's node and the forwards) and announced it once.
	require.Len(t, sub.notices, len(members))
	for k, n := range sub.notices {
		assert.Equal(t, hash, n.Hash)
		assert.Equal(t, acct.pubkey, n.Account)
		assert.False(t, n.HasData)
		assert.Equal(t, transport.MQCommandSize(MethodNotify, len(storagerpc.AppendNotification(nil, &n))), sub.sizes[k])
	}

	// Storing the same message again announces nothing: it is not new anywhere.
	store(0, "first")
	assert.Len(t, sub.notices, len(members))
	// A namespace the subscription does not cover announces nothing.
	store(2, "config")
	assert.Len(t, sub.notices, len(members))

	// A renewal on one member adds namespace 2 and data; that member alone now announces config
	// messages, with their data.
	more := storagerpc.Monitor{Namespaces: []storagerpc.Namespace{2}, Data: true}
	more.Sign(acct.signer, ts)
	tn.monitor(t, members[1], storagerpc.AppendMonitor(nil, &more))
	store(2, "config 2")
	require.Len(t, sub.notices, len(members)+1)
	last := sub.notices[len(sub.notices)-1]
	assert.True(t, last.HasData)
	assert.Equal(t, []byte("config 2"), last.Data)
}

func TestMonitorExpiry(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	sub := &subscriber{}
	tn.drv.Add(subscriberAddr, sub)
	_, members, acct := tn.homeAccount(t, 0, "lapsing")
	m := storagerpc.Monitor{Namespaces: []storagerpc.Namespace{0}}
	m.Sign(acct.signer, tn.drv.Now().Unix())
	tn.monitor(t, members[0], storagerpc.AppendMonitor(nil, &m))
	node := tn.nodes[members[0]]
	live := func() int {
		var c int
		tn.drv.Actor(addrN(members[0])).Do(func() { c = node.Monitored() })
		return c
	}
	require.Equal(t, 1, live())

	// Renewed before it lapses, it lives another full lifetime from the renewal.
	tn.drv.RunFor(storagerpc.MonitorLifetime - time.Minute)
	tn.monitor(t, members[0], storagerpc.AppendMonitor(nil, &m))
	tn.drv.RunFor(storagerpc.MonitorLifetime - time.Minute)
	assert.Equal(t, 1, live(), "renewed")
	tn.drv.RunFor(2 * time.Minute)
	assert.Equal(t, 0, live(), "lapsed")

	r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("late"))
	require.Equal(t, http.StatusOK, tn.rpc(t, members[0], encode(r)).Status)
	tn.drv.RunFor(time.Second)
	assert.Empty(t, sub.notices, "a lapsed subscription hears nothing")
}

func TestMonitorRefused(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	_, members, acct := tn.homeAccount(t, 2, "forger")
	other := accountIn(t, tn.list, testSwarms[2], realSuite, "victim")
	good := storagerpc.Monitor{Namespaces: []storagerpc.Namespace{0}}
	good.Sign(acct.signer, tn.drv.Now().Unix())
	forged := good
	forged.Ed25519 = [32]byte(other.keys.Ed25519Public)
	reply := tn.monitor(t, members[0], storagerpc.AppendMonitorList(nil, []storagerpc.Monitor{good, forged}))
	assert.Equal(t, "ld7:successi1eed7:errcodei5e5:error29:Signature verification failedee", string(reply))
	reply = tn.monitor(t, members[0], []byte("not bencode"))
	assert.Contains(t, string(reply), "7:errcodei1e")
	evs := actortest.EventsOf[MonitorServed](tn.drv.Events)
	require.Len(t, evs, 2)
	assert.Equal(t, MonitorServed{From: subscriberAddr.Addr(), Accepted: 1, Refused: 1}, evs[0])
}
