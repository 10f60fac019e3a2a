package client_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/servers/pushserver"
)

// addPushServer runs a push server in the network, reachable by the nodes as "push", which
// delivers wake-ups to the clients whose tokens are in devices.
func (sn *simNet) addPushServer(delay pushserver.Delay, devices map[string]actor.Addr) (*pushserver.Server, onion.Server) {
	var srv *pushserver.Server
	_, dest := sn.addServer("push", "push", func(kp cryptomode.X25519KeyPair) actor.Actor {
		srv = pushserver.New(pushserver.Config{Suite: sn.suite, Registry: sn.RegistryAddr, NotifyDelay: delay,
			Devices: func(_, token string) (actor.Addr, bool) { a, ok := devices[token]; return a, ok }}, kp)
		return srv
	})
	return srv, dest
}

// TestNetworkPushWakesBackgroundPhone: phones in the background (GoOffline) receive through
// push. Each message reaches each phone once, in a poll the wake-up started, the wake-up comes
// within the push service's configured delay of the server's first notice, and the poll within
// one onion poll round (at worst a guard test and a request, each to its timeout) of the wake-up.
func TestNetworkPushWakesBackgroundPhone(t *testing.T) {
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	sn := newSimNet(t, 12, []client.Platform{client.Desktop}, cryptomode.Real)
	delay := pushserver.Delay{Median: 2 * time.Second, Sigma: 0.5, Min: time.Second, Max: 5 * time.Second}
	devices := map[string]actor.Addr{}
	srv, dest := sn.addPushServer(delay, devices)
	dir := client.NewDirectory()
	phones := []client.Platform{client.IOS, client.Android}
	for k, p := range phones {
		token := fmt.Sprintf("token-%d", k)
		sn.spawnClient(fmt.Sprintf("phone-%d", k), p, dir, suite, func(c *client.Config) {
			c.PushServer, c.PushToken = dest, token
		})
		devices[token] = sn.addrs[len(sn.addrs)-1]
	}
	sn.Engine.RunFor(30 * time.Second)
	subs := netEvents[client.PushSubscribed](sn, actor.Addr{})
	require.Len(t, subs, 2, "both phones registered, the desktop did not")
	for _, s := range subs {
		assert.True(t, s.OK, "%+v", s)
	}
	assert.Equal(t, 2, srv.Stats().Subscriptions)

	for k := range phones {
		sn.do(1+k, sn.clients[1+k].GoOffline)
	}
	for range 3 {
		for k := range phones {
			sn.send(0, 1+k, 150)
		}
		sn.Engine.RunFor(20 * time.Second)
	}
	sn.Engine.RunFor(time.Minute)

	sent := netEvents[client.MessageSent](sn, sn.addrs[0])
	require.Len(t, sent, 6)
	at := func(ev func(actor.Event) bool, from actor.Addr) []time.Time {
		var out []time.Time
		for _, o := range sn.events {
			if ev(o.Event) && (from == actor.Addr{} || o.From == from) {
				out = append(out, o.At)
			}
		}
		return out
	}
	for _, s := range sent {
		k := slices.Index(sn.clients, clientOf(sn, s.To))
		require.Positive(t, k)
		phone := sn.addrs[k]
		notified := at(func(e actor.Event) bool { n, ok := e.(pushserver.Notified); return ok && n.Hash == s.Hash }, actor.Addr{})
		woken := at(func(e actor.Event) bool { w, ok := e.(client.PushWoken); return ok && w.Hash == s.Hash && w.Background }, phone)
		got := at(func(e actor.Event) bool { r, ok := e.(client.MessageReceived); return ok && r.Hash == s.Hash }, phone)
		require.Len(t, notified, 1, "the server forwarded message %s once", s.Hash)
		require.Len(t, woken, 1, "the phone was woken once for it")
		require.Len(t, got, 1, "the phone decrypted it once")
		wait := woken[0].Sub(notified[0])
		assert.GreaterOrEqual(t, wait, delay.Min, "no wake-up before the push service's least delay")
		assert.LessOrEqual(t, wait, delay.Max+time.Second, "the wake-up within the push service's delay (and the last link)")
		cfg := client.DefaultConfig(phones[k-1])
		assert.LessOrEqual(t, got[0].Sub(woken[0]), cfg.GuardTestTimeout+cfg.RequestTimeout, "decrypted within one poll round of the wake-up")
	}
	for _, r := range netEvents[client.MessageReceived](sn, actor.Addr{}) {
		assert.True(t, r.Background, "every message reached a backgrounded phone through push")
	}
	for k := range phones {
		assert.False(t, sn.clients[1+k].Online(), "phone %d went back to sleep", k)
	}
	st := srv.Stats()
	assert.Equal(t, 6, st.Notifications)
	assert.Equal(t, 6, st.Wakeups)
	assert.Greater(t, st.Notices, st.Notifications, "every swarm member announced each message")
}

// TestClientRefusesOtherCalls: a client answers the push service and nothing else.
func TestClientRefusesOtherCalls(t *testing.T) {
	sn := newSimNet(t, 12, []client.Platform{client.IOS}, cryptomode.Modeled)
	sn.Engine.RunFor(5 * time.Second)
	h, _, err := sn.AddClient("prober", "eu-west-1", client.Desktop)
	require.NoError(t, err)
	p := &prober{}
	_, err = sn.Engine.Spawn(h, simnet.ClientPort, "prober", p)
	require.NoError(t, err)
	var statuses []int
	for _, m := range []string{"/storage_rpc/v1", pushrpc.MethodWake} {
		require.NoError(t, sn.Engine.Invoke(p.env.Self(), func() {
			p.env.Call(sn.addrs[0], actor.Request{Method: m, Body: []byte("x"), Size: transport.HTTPSRequestSize(sn.addrs[0], m, transport.JSON, 1)}, time.Minute, func(r actor.Response, _ error) {
				statuses = append(statuses, r.Status)
			})
		}))
		sn.Engine.RunFor(time.Second)
	}
	assert.Equal(t, []int{http.StatusNotFound, http.StatusOK}, statuses)
}

type prober struct{ env actor.Env }

func (p *prober) Start(env actor.Env)                               { p.env = env }
func (p *prober) Handle(actor.Addr, actor.Request, actor.Responder) {}

func clientOf(sn *simNet, id identity.ID) *client.Client {
	for _, c := range sn.clients {
		if c.ID() == id {
			return c
		}
	}
	return nil
}

// TestNetworkPushRenews: a phone registers when it opens and again each PushRenew while open;
// reopening before then does not register again.
func TestNetworkPushRenews(t *testing.T) {
	suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	sn := newSimNet(t, 12, nil, cryptomode.Modeled)
	_, dest := sn.addPushServer(pushserver.Delay{}, map[string]actor.Addr{})
	renew := 10 * time.Minute
	sn.spawnClient("phone", client.Android, client.NewDirectory(), suite, func(c *client.Config) {
		c.PushServer, c.PushToken, c.PushRenew = dest, "token", renew
	})
	sn.Engine.RunFor(renew/2 + time.Minute)
	require.Len(t, netEvents[client.PushSubscribed](sn, actor.Addr{}), 1)
	sn.do(0, sn.clients[0].GoOffline)
	sn.do(0, sn.clients[0].GoOnline)
	sn.Engine.RunFor(time.Minute)
	assert.Len(t, netEvents[client.PushSubscribed](sn, actor.Addr{}), 1, "reopened within the registration's life")
	sn.Engine.RunFor(2 * renew)
	subs := netEvents[client.PushSubscribed](sn, actor.Addr{})
	assert.Len(t, subs, 3, "registered at the start and at each renewal")
	for _, s := range subs {
		assert.True(t, s.OK)
	}
}

// TestNetworkPushWakesGroupMember: phones register their group with the push server (signed
// under their subaccount token, verified for real), and a group message wakes a backgrounded
// member, which polls the group's swarm once and decrypts it. A member removed while its app
// is open unsubscribes the group and is no longer woken for it; the other still is.
func TestNetworkPushWakesGroupMember(t *testing.T) {
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	sn := newSimNet(t, 12, []client.Platform{client.Desktop}, cryptomode.Real)
	delay := pushserver.Delay{Median: time.Second, Sigma: 0.3, Min: 500 * time.Millisecond, Max: 3 * time.Second}
	devices := map[string]actor.Addr{}
	srv, dest := sn.addPushServer(delay, devices)
	dir := client.NewDirectory()
	for k, p := range []client.Platform{client.IOS, client.Android} {
		token := fmt.Sprintf("token-%d", k)
		sn.spawnClient(fmt.Sprintf("phone-%d", k), p, dir, suite, func(c *client.Config) {
			c.PushServer, c.PushToken = dest, token
		})
		devices[token] = sn.addrs[len(sn.addrs)-1]
	}
	g, err := client.NewGroup(suite, identity.Derive(netSeed, "group"), sn.clients[0].ID())
	require.NoError(t, err)
	for _, c := range sn.clients[1:] {
		require.NoError(t, g.Add(c.ID()))
	}
	for k, c := range sn.clients {
		sn.do(k, func() { require.NoError(t, c.JoinGroup(g)) })
	}
	sn.Engine.RunFor(30 * time.Second)
	var groupSubs int
	for _, s := range netEvents[client.PushSubscribed](sn, actor.Addr{}) {
		require.True(t, s.OK, "%+v", s)
		if s.Group == g.ID() {
			groupSubs++
		}
	}
	assert.Equal(t, 2, groupSubs, "each phone registered the group")
	assert.Equal(t, 4, srv.Stats().Subscriptions, "two accounts and two group registrations")

	sendGroup := func() string {
		before := len(netEvents[client.MessageSent](sn, sn.addrs[0]))
		sn.do(0, func() { require.NoError(t, sn.clients[0].SendGroup(g, 60)) })
		sn.Engine.RunFor(40 * time.Second)
		sent := netEvents[client.MessageSent](sn, sn.addrs[0])[before:]
		require.Len(t, sent, 1)
		return sent[0].Hash
	}
	woken := func(k int, hash string) []client.PushWoken {
		return slices.DeleteFunc(netEvents[client.PushWoken](sn, sn.addrs[k]), func(w client.PushWoken) bool { return w.Hash != hash })
	}
	received := func(k int, hash string) []client.MessageReceived {
		return slices.DeleteFunc(netEvents[client.MessageReceived](sn, sn.addrs[k]), func(r client.MessageReceived) bool { return r.Hash != hash })
	}

	for k := 1; k <= 2; k++ {
		sn.do(k, sn.clients[k].GoOffline)
	}
	h := sendGroup()
	for k := 1; k <= 2; k++ {
		w, r := woken(k, h), received(k, h)
		require.Len(t, w, 1, "phone %d woken once for the group message", k)
		assert.True(t, w[0].Group && w[0].Background, "%+v", w[0])
		require.Len(t, r, 1, "phone %d decrypted it once", k)
		assert.True(t, r[0].Background, "in the poll the wake-up started")
		assert.False(t, sn.clients[k].Online(), "phone %d went back to sleep", k)
	}

	// Phone 2 is removed while its app is open: it learns so from the key message and
	// unsubscribes the group.
	sn.do(2, sn.clients[2].GoOnline)
	sn.Engine.RunFor(10 * time.Second)
	sn.do(0, func() { require.NoError(t, sn.clients[0].RemoveGroupMember(g, sn.clients[2].ID())) })
	sn.Engine.RunFor(40 * time.Second)
	require.False(t, sn.clients[2].InGroup(g))
	var unsubs []client.PushSubscribed
	for _, s := range netEvents[client.PushSubscribed](sn, sn.addrs[2]) {
		if s.Unsubscribe {
			unsubs = append(unsubs, s)
		}
	}
	require.Len(t, unsubs, 1)
	assert.True(t, unsubs[0].OK && unsubs[0].Group == g.ID(), "%+v", unsubs[0])

	sn.do(2, sn.clients[2].GoOffline)
	h = sendGroup()
	assert.Len(t, woken(1, h), 1, "the remaining phone is still woken")
	assert.Len(t, received(1, h), 1)
	assert.Empty(t, woken(2, h), "the removed phone is no longer woken for the group")
	assert.Empty(t, received(2, h))

	// Phone 1 is removed while in the background: the next group message wakes it, its poll
	// brings the key message that leaves it out, it unsubscribes and sleeps again.
	sn.do(0, func() { require.NoError(t, sn.clients[0].RemoveGroupMember(g, sn.clients[1].ID())) })
	sn.Engine.RunFor(20 * time.Second)
	h = sendGroup()
	assert.Len(t, woken(1, h), 1, "still subscribed: woken once more")
	assert.Empty(t, received(1, h), "but it holds no key for the message")
	assert.False(t, sn.clients[1].InGroup(g))
	assert.False(t, sn.clients[1].Online(), "back to sleep after the poll that removed it")
	h = sendGroup()
	assert.Empty(t, woken(1, h), "unsubscribed in that poll")
	for _, gb := range netEvents[client.GarbageReceived](sn, actor.Addr{}) {
		t.Errorf("garbage: %v", gb.Kind)
	}
}
