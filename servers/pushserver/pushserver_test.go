package pushserver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

var suite = cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)

func addr(i int) actor.Addr {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 22021)
}

var (
	serverAddr = addr(5000)
	phoneAddr  = addr(6000)
	relayAddr  = addr(6001)
)

// phone records the wakes it gets.
type phone struct{ wakes []*pushrpc.Wake }

func (p *phone) Start(actor.Env) {}
func (p *phone) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	if w, ok := req.Body.(*pushrpc.Wake); ok && req.Method == pushrpc.MethodWake {
		p.wakes = append(p.wakes, w)
	}
	r.Respond(actor.Response{Status: http.StatusOK})
}

// world is one swarm of nodes, the push server and a phone on the fake driver.
type world struct {
	drv    *actortest.Driver
	nodes  []*node.Node
	srv    *Server
	phone  *phone
	keys   identity.Keys // the server's
	relay  identity.Keys // the path's one hop
	user   identity.Keys
	signer *storagerpc.Signer
	rnd    *rand.Rand
}

func newWorld(t *testing.T, nodes int) *world {
	t.Helper()
	w := &world{drv: actortest.New(10 * time.Millisecond), phone: &phone{}, rnd: rand.New(rand.NewPCG(1, 1))}
	l := &registry.List{Height: 1}
	var keys []identity.Keys
	for i := range nodes {
		k := identity.Derive(1, fmt.Sprintf("node-%d", i))
		keys = append(keys, k)
		l.Nodes = append(l.Nodes, registry.Peer{Ed25519: k.Ed25519Public, X25519: k.X25519Public, Addr: addr(i), Swarm: 1 << 62})
	}
	registrySort(l)
	for i, k := range keys {
		n, err := node.New(node.Config{Reachability: node.Reachability{Disabled: true}}, k, memory.New(memory.Config{}))
		require.NoError(t, err)
		w.drv.Add(addr(i), n)
		n.SetList(l)
		w.nodes = append(w.nodes, n)
	}
	w.keys = identity.Derive(1, "push")
	kp, _, err := suite.X25519FromSecret(w.keys.X25519Secret)
	require.NoError(t, err)
	token := "phone-token"
	w.srv = New(Config{Suite: suite, Devices: func(service, tok string) (actor.Addr, bool) {
		return phoneAddr, service == pushrpc.ServiceAPNs && tok == token
	}}, kp)
	w.drv.Add(serverAddr, w.srv)
	w.drv.Env(serverAddr).Do(func() { w.srv.SetList(l) })
	w.drv.Add(phoneAddr, w.phone)
	w.relay = identity.Derive(1, "relay")
	w.user = identity.Derive(1, "user")
	w.signer = &storagerpc.Signer{Suite: suite, Account: storagerpc.PubkeyFromID(w.user.SessionID()), Key: w.user.Ed25519Private}
	return w
}

// registrySort puts the list's nodes in key order, as a list keeps them.
func registrySort(l *registry.List) {
	slices.SortFunc(l.Nodes, func(a, b registry.Peer) int { return bytes.Compare(a.Ed25519[:], b.Ed25519[:]) })
}

// v4 sends req to the server as the last hop of a one-hop path would, and opens the answer.
func (w *world) v4(t *testing.T, req onion.V4Request) (int, onion.V4Response) {
	t.Helper()
	hop := onion.Node{Ed25519: w.relay.Ed25519Public, X25519: w.relay.X25519Public}
	built, err := onion.BuildToServer(suite, actor.RandReader(w.rnd), onion.Path{Hops: []onion.Node{hop}}, onion.Server{Host: "push", X25519: w.keys.X25519Public}, req)
	require.NoError(t, err)
	in, err := onion.ParseGuardRequest(built.Body)
	require.NoError(t, err)
	relayKeys, _, err := suite.X25519FromSecret(w.relay.X25519Secret)
	require.NoError(t, err)
	peeled, err := onion.Peel(suite, relayKeys, in)
	require.NoError(t, err)
	resp := w.post(t, peeled.Payload)
	if resp.Status != http.StatusOK {
		return resp.Status, onion.V4Response{}
	}
	v4, _, err := onion.OpenV4Response(suite.Costs(), built.Reply, resp.Body.([]byte))
	require.NoError(t, err)
	return resp.Status, v4
}

func (w *world) post(t *testing.T, body []byte) actor.Response {
	t.Helper()
	resp, err := w.drv.Call(relayAddr, serverAddr, actor.Request{Method: onion.V4Target, Body: body, Size: transport.HTTPSRequestSize(serverAddr, onion.V4Target, transport.Binary, len(body))}, time.Minute)
	require.NoError(t, err)
	return resp
}

func (w *world) subscribe(t *testing.T, sign *storagerpc.Signer, token string) pushrpc.Result {
	t.Helper()
	s := pushrpc.Subscribe{Namespaces: []storagerpc.Namespace{0}, Data: true, Service: pushrpc.ServiceAPNs, Token: token}
	s.EncKey[0] = 42
	s.Sign(sign, w.drv.Now().Unix())
	return w.call(t, pushrpc.EndpointSubscribe, pushrpc.AppendSubscribe(nil, &s))
}

// call posts body to the push server's endpoint through the onion hop and reads its result.
func (w *world) call(t *testing.T, endpoint string, body []byte) pushrpc.Result {
	t.Helper()
	status, resp := w.v4(t, onion.V4Request{Method: "POST", Endpoint: endpoint, Body: body})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, http.StatusOK, resp.Code)
	r, err := pushrpc.ParseResult(resp.Body)
	require.NoError(t, err)
	return r
}

func (w *world) monitored() []int {
	var out []int
	for i, n := range w.nodes {
		w.drv.Env(addr(i)).Do(func() { out = append(out, n.Monitored()) })
	}
	return out
}

func (w *world) store(t *testing.T, data string) string {
	t.Helper()
	st := storagerpc.NewStore(w.signer.Account, 0, w.drv.Now().UnixMilli(), time.Hour, []byte(data))
	body := storagerpc.EncodeRequest(st)
	resp, err := w.drv.Call(addr(9000), addr(0), actor.Request{Method: node.MethodStorageRPC, Body: body, Size: len(body)}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	return storagerpc.MessageHash(w.signer.Account, 0, []byte(data))
}

func TestPushServerSubscribeNotifyWake(t *testing.T) {
	w := newWorld(t, 5)
	r := w.subscribe(t, w.signer, "phone-token")
	assert.True(t, r.Added)
	w.drv.RunFor(time.Second)
	// Every member of the account's swarm holds the subscription.
	assert.Equal(t, []int{1, 1, 1, 1, 1}, w.monitored())

	hash := w.store(t, "hello")
	w.drv.RunFor(time.Minute)
	// Five members announced it; the server dropped four copies and woke the phone once.
	require.Len(t, w.phone.wakes, 1)
	p, err := pushrpc.Open(w.phone.wakes[0].Sealed, [32]byte{42})
	require.NoError(t, err)
	assert.Equal(t, hash, p.Hash)
	assert.Equal(t, []byte("hello"), p.Data)
	st := w.srv.Stats()
	assert.Equal(t, 5, st.Notices)
	assert.Equal(t, 1, st.Notifications)
	assert.Equal(t, 1, st.Wakeups)
	assert.Len(t, actortest.EventsOf[Notified](w.drv.Events), 1)
	learned := actortest.EventsOf[lsrpc.Learned](w.drv.Events)
	require.Len(t, learned, 2)
	assert.Equal(t, "subscribed", learned[0].What)
	assert.Equal(t, "message", learned[1].What)
	assert.Equal(t, "phone-token", learned[1].Device)

	assert.True(t, w.subscribe(t, w.signer, "phone-token").Updated)
}

func TestPushServerRenews(t *testing.T) {
	w := newWorld(t, 5)
	require.True(t, w.subscribe(t, w.signer, "phone-token").Added)
	// The storage server's subscriptions last 65 minutes; the server renews each after 45 to 55,
	// so none lapses over hours.
	for range 8 {
		w.drv.RunFor(30 * time.Minute)
		assert.Equal(t, []int{1, 1, 1, 1, 1}, w.monitored(), "at %v", w.drv.Now())
	}
	sent := actortest.EventsOf[MonitorSent](w.drv.Events)
	// One subscription per member at the start and one renewal per member per 45-55 minutes.
	assert.GreaterOrEqual(t, len(sent), 5*(1+4))
	assert.LessOrEqual(t, len(sent), 5*(1+6))
	w.store(t, "after hours")
	w.drv.RunFor(time.Minute)
	assert.Len(t, w.phone.wakes, 1)
}

func TestPushServerRefusals(t *testing.T) {
	w := newWorld(t, 5)
	// Garbage that is no onion layer: 400 in plain text, and the server keeps serving.
	resp := w.post(t, []byte("garbage"))
	assert.Equal(t, http.StatusBadRequest, resp.Status)

	assert.Equal(t, pushrpc.BadInput, w.call(t, pushrpc.EndpointSubscribe, []byte("{not json")).Code)

	// A signature by another key for this account.
	mallory := identity.Derive(1, "mallory")
	forged := *w.signer
	forged.Key = mallory.Ed25519Private
	assert.Equal(t, pushrpc.BadInput, w.subscribe(t, &forged, "phone-token").Code, "session_ed25519 of another key")

	status, v4 := w.v4(t, onion.V4Request{Method: "GET", Endpoint: "/nothing"})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, http.StatusNotFound, v4.Code)

	// A malformed notice is dropped.
	_, err := w.drv.Call(addr(0), serverAddr, actor.Request{Method: storagerpc.CommandNotify, Body: []byte("li1ee")}, time.Minute)
	require.NoError(t, err)

	assert.True(t, w.subscribe(t, w.signer, "phone-token").Added, "still serving")
	causes := map[string]int{}
	for _, f := range actortest.EventsOf[Failed](w.drv.Events) {
		causes[f.Cause]++
	}
	assert.Equal(t, map[string]int{CauseBadRequest: 2, CauseBadNotice: 1}, causes)
}

func TestPushServerBatchesPerNode(t *testing.T) {
	w := newWorld(t, 5)
	require.True(t, w.subscribe(t, w.signer, "phone-token").Added)
	other := identity.Derive(1, "second user")
	second := &storagerpc.Signer{Suite: suite, Account: storagerpc.PubkeyFromID(other.SessionID()), Key: other.Ed25519Private}
	require.True(t, w.subscribe(t, second, "second-token").Added)
	w.drv.RunFor(2 * time.Hour)
	// Both accounts live in the one swarm: each node holds both, and its renewals came in
	// requests that carry every subscription due at the node at that check.
	assert.Equal(t, []int{2, 2, 2, 2, 2}, w.monitored())
	perNode := map[[32]byte]int{}
	for _, m := range actortest.EventsOf[MonitorSent](w.drv.Events) {
		assert.Equal(t, m.Accounts, m.Subscriptions, "one subscription per account (one device each)")
		perNode[m.Node] += m.Accounts
	}
	require.Len(t, perNode, 5)
	for _, n := range perNode {
		assert.GreaterOrEqual(t, n, 2*(1+2), "each account subscribed and renewed at least twice in two hours")
	}
}

// TestPushServerGroupSubscriptions: a group member subscribes the group (its 03 account) under
// its subaccount token; a token the group did not sign is refused as a bad signature; the
// member unsubscribes under the same token, and a forged unsubscription removes nothing.
func TestPushServerGroupSubscriptions(t *testing.T) {
	w := newWorld(t, 5)
	g := identity.Derive(1, "group")
	member := identity.Derive(1, "member")
	groupPK := storagerpc.PubkeyFromID(g.GroupID())
	signerWith := func(tokenKey []byte) *storagerpc.Signer {
		tok, _ := storagerpc.SignSubaccount(suite, tokenKey, storagerpc.AccessRead|storagerpc.AccessWrite, member.Ed25519Public)
		return &storagerpc.Signer{Suite: suite, Account: groupPK, Key: member.Ed25519Private, Subaccount: tok}
	}
	sub := func(s *storagerpc.Signer) pushrpc.Result {
		x := pushrpc.Subscribe{Namespaces: []storagerpc.Namespace{storagerpc.NamespaceGroupMessages}, Data: true, Service: pushrpc.ServiceFirebase, Token: "member-token"}
		x.Sign(s, w.drv.Now().Unix())
		return w.call(t, pushrpc.EndpointSubscribe, pushrpc.AppendSubscribe(nil, &x))
	}
	unsub := func(s *storagerpc.Signer) pushrpc.Result {
		var x pushrpc.Subscribe
		x.Service, x.Token = pushrpc.ServiceFirebase, "member-token"
		x.SignUnsubscribe(s, w.drv.Now().Unix())
		return w.call(t, pushrpc.EndpointUnsubscribe, pushrpc.AppendUnsubscribe(nil, &x))
	}
	forged := signerWith(identity.Derive(1, "mallory").Ed25519Private)
	assert.Equal(t, pushrpc.Error, sub(forged).Code, "a token the group did not sign")
	r := sub(signerWith(g.Ed25519Private))
	require.Equal(t, pushrpc.OK, r.Code, r.Message)
	assert.True(t, r.Added)
	w.drv.RunFor(time.Second)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, w.monitored(), "every member of the group's swarm monitors it")
	learned := actortest.EventsOf[lsrpc.Learned](w.drv.Events)
	require.Len(t, learned, 1)
	assert.Equal(t, g.GroupID(), learned[0].Account)

	assert.False(t, unsub(forged).Removed, "a forged unsubscription removes nothing")
	assert.True(t, unsub(signerWith(g.Ed25519Private)).Removed)
	causes := map[string]int{}
	for _, f := range actortest.EventsOf[Failed](w.drv.Events) {
		causes[f.Cause]++
	}
	assert.Equal(t, map[string]int{CauseBadSignature: 2}, causes)
}
