package client

import (
	"encoding/base64"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/storage"
)

var clientIP byte

func newTestClient(t testing.TB, w *world, f *fakeNet, name string, p Platform, mod func(*Config)) (*Client, *env) {
	t.Helper()
	cfg := DefaultConfig(p)
	cfg.Seeds = f.seeds
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, identity.Derive(1, name))
	require.NoError(t, err)
	clientIP++
	e := w.env(netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, clientIP}), 5000), uint64(clientIP))
	e.do(func() { c.Start(e) })
	return c, e
}

// twoClients starts alice and bob on a fake network of 40 nodes in swarms of 8, with their
// platforms and a change to alice's config (nil for none), and runs ten seconds so that both
// have paths.
func twoClients(t testing.TB, alicePlatform, bobPlatform Platform, aliceConfig func(*Config)) (w *world, f *fakeNet, alice *Client, ea *env, bob *Client, eb *env) {
	t.Helper()
	w = newWorld()
	f = newFakeNet(t, w, 40, 8)
	alice, ea = newTestClient(t, w, f, "alice", alicePlatform, aliceConfig)
	bob, eb = newTestClient(t, w, f, "bob", bobPlatform, nil)
	w.runFor(10 * time.Second)
	return w, f, alice, ea, bob, eb
}

func TestBootstrapBuildsGuardsAndPaths(t *testing.T) {
	w := newWorld()
	f := newFakeNet(t, w, 40, 8)
	c, _ := newTestClient(t, w, f, "alice", Desktop, nil)
	w.runFor(30 * time.Second)

	pools := eventsOf[PoolRefreshed](w)
	require.NotEmpty(t, pools)
	assert.Equal(t, PoolRefreshed{Source: FromSeeds, Size: 40}, pools[0])
	assert.Equal(t, 40, c.PoolSize())

	tested := eventsOf[GuardTested](w)
	require.Len(t, tested, 2, "two guards needed, both answer")
	built := eventsOf[PathBuilt](w)
	require.Len(t, built, 2)
	for _, b := range built {
		assert.False(t, b.Rebuild)
		assert.Equal(t, 3, b.Hops)
	}
	paths := c.Paths()
	require.Len(t, paths, 2)
	assert.Equal(t, tested[0].Guard, paths[0][0])

	// Desktop polls two members every 5 s: about 6 rounds in 30 s.
	assert.GreaterOrEqual(t, f.requests["retrieve"], 5*2*5, "5 namespaces per poll, 2 members per round")
	assert.Equal(t, 1, f.requests["get_swarm"]-2, "one onion get_swarm for the own swarm (2 were guard tests)")
	assert.Zero(t, c.Stats().OnionFailures)
}

func TestSendIsDeliveredOnce(t *testing.T) {
	for _, tc := range []struct {
		platform Platform
		// servedAgain: the platform's polling fetches the message more than once, so that
		// only the client's deduplication keeps it to one delivery. Desktop polls two
		// members at once and iOS switches members after six polls (the new one has no last
		// hash from it); Android stays on one member, whose last hash hides the message.
		servedAgain bool
	}{{Desktop, true}, {IOS, true}, {Android, false}} {
		p := tc.platform
		t.Run(p.String(), func(t *testing.T) {
			w, f, alice, ea, bob, _ := twoClients(t, p, p, nil)
			ea.do(func() { alice.Send(bob.ID(), 300) })
			w.runFor(30 * time.Second)

			sent := eventsOf[MessageSent](w)
			require.Len(t, sent, 1)
			assert.Equal(t, bob.ID(), sent[0].To)
			assert.Equal(t, epoch0.Add(10*time.Second), sent[0].At)
			assert.Equal(t, message.TextStoredSize(300, uint64(epoch0.Add(10*time.Second).UnixMilli())), sent[0].Size)
			res := eventsOf[StoreResult](w)
			require.Len(t, res, 1)
			assert.Equal(t, OK, res[0].Failure)
			assert.Equal(t, sent[0].Hash, res[0].Hash)
			assert.Equal(t, 1, res[0].Attempts)

			got := eventsOf[MessageReceived](w)
			require.Len(t, got, 1, "delivered exactly once although polled again and again")
			assert.Equal(t, sent[0].Hash, got[0].Hash)
			assert.Equal(t, alice.ID(), got[0].From)
			assert.Equal(t, uint32(1), bob.Stats().Received)
			served := f.served[sent[0].Hash]
			assert.Equal(t, tc.servedAgain, served > 1, "served %d times", served)
			assert.Equal(t, uint32(served-1), bob.Stats().Duplicates, "every repeat is counted as a duplicate and dropped")
			assert.Zero(t, alice.Outbox())
		})
	}
}

func TestSeedsDownFailsCleanly(t *testing.T) {
	w := newWorld()
	f := newFakeNet(t, w, 40, 8)
	f.seedDown = true
	alice, ea := newTestClient(t, w, f, "alice", Desktop, nil)
	bob := identity.Derive(1, "bob").SessionID()
	ea.do(func() { alice.Send(bob, 10) })
	w.runFor(2 * time.Minute)

	failed := eventsOf[PoolRefreshed](w)
	require.NotEmpty(t, failed)
	assert.Equal(t, FailNoPool, failed[0].Failure)
	res := eventsOf[StoreResult](w)
	require.Len(t, res, 1)
	assert.Equal(t, FailNoSwarm, res[0].Failure, "no pool: the swarm cannot be found")
	assert.Zero(t, alice.PoolSize())

	// The seeds come back: the next poll bootstraps and the client works.
	f.seedDown = false
	w.runFor(time.Minute)
	assert.Equal(t, 40, alice.PoolSize())
	assert.Len(t, alice.Paths(), 2)
}

func TestNextNodeNotFoundDropsAndReplaces(t *testing.T) {
	w, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	// Every relay claims not to know alice's second hop of her first path.
	victim := alice.Paths()[0][1]
	f.hideFromHop = func(_, next *fakeNode) bool { return next.info.Addr == victim }
	ea.do(func() { alice.Send(bob.ID(), 50) })
	w.runFor(30 * time.Second)

	var dropped []NodeDropped
	for _, d := range eventsOf[NodeDropped](w) {
		if d.Node == victim {
			dropped = append(dropped, d)
		}
	}
	require.NotEmpty(t, dropped)
	assert.Equal(t, CauseNotFound, dropped[0].Cause)
	for _, p := range alice.Paths() {
		assert.NotContains(t, p, victim)
		assert.Len(t, p, 3)
	}
	assert.Positive(t, alice.Stats().PathRebuilds)
	res := eventsOf[StoreResult](w)
	require.Len(t, res, 1)
	assert.Equal(t, OK, res[0].Failure)
	assert.Len(t, eventsOf[MessageReceived](w), 1)
}

func TestDeadHopTimeoutsRebuildPath(t *testing.T) {
	w, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, func(c *Config) { c.Paths = 1 })
	path := alice.Paths()[0]
	f.byAddr[path[2]].dead = true // the last hop dies silently: relays time out
	ea.do(func() { alice.Send(bob.ID(), 50) })
	w.runFor(2 * time.Minute)

	res := eventsOf[StoreResult](w)
	require.Len(t, res, 1)
	assert.Equal(t, OK, res[0].Failure, "delivered on a rebuilt path")
	assert.Len(t, eventsOf[MessageReceived](w), 1)
	now := alice.Paths()
	require.Len(t, now, 1)
	assert.NotContains(t, now[0], path[2])
	assert.Positive(t, alice.Stats().PathRebuilds, "the path with the dead hop was repaired or replaced")
	assert.True(t, slices.ContainsFunc(eventsOf[NodeDropped](w), func(d NodeDropped) bool { return d.Node == path[2] }),
		"the dead hop left the pool")
}

func TestWrongSwarmIsAdopted(t *testing.T) {
	w, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	ea.do(func() { alice.Send(bob.ID(), 50) })
	w.runFor(20 * time.Second)
	require.Len(t, eventsOf[MessageReceived](w), 1)

	// Bob's account moves to another swarm: its old members now answer 421 naming the new one,
	// while alice and bob still have the old swarm cached.
	old := f.swarmOf(pubkeyOf(bob.ID()))
	f.moved = map[storage.Pubkey]int{pubkeyOf(bob.ID()): (old + 1) % f.swarms}
	ea.do(func() { alice.Send(bob.ID(), 60) })
	w.runFor(30 * time.Second)

	res := eventsOf[StoreResult](w)
	require.Len(t, res, 2)
	assert.Equal(t, OK, res[1].Failure)
	assert.Equal(t, 2, res[1].Attempts, "a 421, then the adopted swarm")
	var adopted int
	for _, l := range eventsOf[SwarmLookup](w) {
		if l.From421 {
			adopted++
			assert.Equal(t, 8, l.Members)
		}
	}
	assert.GreaterOrEqual(t, adopted, 2, "alice's send and bob's polls adopted the 421's swarm")
	assert.Len(t, eventsOf[MessageReceived](w), 2, "bob follows his swarm")
}

func TestOfflineClientCatchesUp(t *testing.T) {
	w, f, alice, ea, bob, eb := twoClients(t, Android, IOS, nil)
	eb.do(bob.GoOffline)
	bobPolls := 0
	f.intercept = func(_ *fakeNode, r storage.Request) (int, []byte, bool) {
		if rr, ok := r.(*storage.Retrieve); ok && rr.Pubkey == pubkeyOf(bob.ID()) {
			bobPolls++
		}
		return 0, nil, false
	}
	for range 3 {
		ea.do(func() { alice.Send(bob.ID(), 80) })
	}
	w.runFor(time.Minute)
	assert.Empty(t, eventsOf[MessageReceived](w))
	assert.Len(t, eventsOf[StoreResult](w), 3)
	assert.Zero(t, bobPolls, "an offline client does not poll")

	eb.do(bob.GoOnline)
	w.runFor(5 * time.Second)
	got := eventsOf[MessageReceived](w)
	assert.Len(t, got, 3)
	assert.Len(t, bob.Paths(), 2, "paths rebuilt on the guards kept offline")
	assert.Len(t, eventsOf[GuardTested](w), 4, "the guards were not tested again")
}

func TestSendWhileOfflineWaits(t *testing.T) {
	w, _, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	ea.do(alice.GoOffline)
	ea.do(func() { alice.Send(bob.ID(), 80) })
	w.runFor(time.Minute)
	assert.Len(t, eventsOf[MessageSent](w), 1)
	assert.Empty(t, eventsOf[StoreResult](w))
	assert.Equal(t, 1, alice.Outbox())
	ea.do(alice.GoOnline)
	w.runFor(20 * time.Second)
	require.Len(t, eventsOf[StoreResult](w), 1)
	assert.Equal(t, OK, eventsOf[StoreResult](w)[0].Failure)
	assert.Len(t, eventsOf[MessageReceived](w), 1)
}

func TestGarbageIsCountedAndReportedOnce(t *testing.T) {
	w := newWorld()
	f := newFakeNet(t, w, 40, 8)
	bob, _ := newTestClient(t, w, f, "bob", Desktop, nil)
	carol := identity.Derive(1, "carol")
	w.runFor(10 * time.Second)

	// Not base64-able protobuf at all.
	f.put(bob.ID(), 0, []byte("not a websocket message"))
	f.put(bob.ID(), 0, []byte("still not one"))
	// A real message for someone else: it does not open with bob's key.
	other, _, err := message.Build(f.suite, actor.RandReader(f.rnd), carol.Ed25519Private, carol.SessionID(),
		message.Outgoing{Content: message.NewText("hi", 1), SentAt: 1})
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(other)
	require.NoError(t, err)
	f.put(bob.ID(), 0, raw)
	w.runFor(20 * time.Second)

	g := eventsOf[GarbageReceived](w)
	kinds := map[GarbageKind]int{}
	for _, e := range g {
		kinds[e.Kind]++
	}
	assert.Equal(t, map[GarbageKind]int{GarbageMalformedMessage: 1, GarbageUndecryptable: 1}, kinds)
	assert.Equal(t, uint32(2), bob.Stats().Garbage[GarbageMalformedMessage])
	assert.Equal(t, uint32(1), bob.Stats().Garbage[GarbageUndecryptable])

	// Replies that do not decrypt are garbage too; the client keeps polling.
	f.garbleReply = true
	polls := bob.Stats().Polls
	w.runFor(20 * time.Second)
	assert.Positive(t, bob.Stats().Garbage[GarbageOnionResponse])
	assert.Greater(t, bob.Stats().Polls, polls)
	assert.Len(t, eventsOf[GarbageReceived](w), 3)
	f.garbleReply = false
	ok := bob.Stats().PollFailures
	w.runFor(20 * time.Second)
	assert.Equal(t, ok, bob.Stats().PollFailures, "recovered")
}

func TestPollSchedules(t *testing.T) {
	tests := []struct {
		p        Platform
		interval time.Duration
		perRound int
	}{
		{Desktop, 5 * time.Second, 2},
		{IOS, 1500 * time.Millisecond, 1},
		{Android, 2 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			w := newWorld()
			f := newFakeNet(t, w, 40, 8)
			type poll struct {
				at   time.Time
				node actor.Addr
			}
			var polls []poll
			f.intercept = func(n *fakeNode, r storage.Request) (int, []byte, bool) {
				if rr, ok := r.(*storage.Retrieve); ok && rr.Namespace == 0 {
					polls = append(polls, poll{w.now, n.info.Addr})
				}
				return 0, nil, false
			}
			c, _ := newTestClient(t, w, f, "alice", tt.p, nil)
			w.runFor(5 * time.Minute)
			rounds := int(c.Stats().Polls)
			require.Greater(t, rounds, 10)
			assert.Equal(t, rounds*tt.perRound, len(polls)+tt.perRound*int(c.Stats().PollFailures))
			// Rounds start one interval after the previous round ended (plus the round trip).
			span := polls[len(polls)-1].at.Sub(polls[0].at)
			perRound := span / time.Duration(rounds-1)
			assert.InDelta(t, float64(tt.interval), float64(perRound), float64(400*time.Millisecond))
			if tt.p == IOS {
				// The same member for 6 polls, then another.
				run := 1
				for k := 1; k < len(polls); k++ {
					if polls[k].node == polls[k-1].node {
						run++
						continue
					}
					assert.Equal(t, 6, run)
					run = 1
				}
			}
		})
	}
}

func TestPollBackoffWhenSwarmUnreachable(t *testing.T) {
	for _, p := range []Platform{IOS, Android} {
		t.Run(p.String(), func(t *testing.T) {
			w := newWorld()
			f := newFakeNet(t, w, 40, 8)
			c, _ := newTestClient(t, w, f, "alice", p, nil)
			w.runFor(10 * time.Second)
			// Every retrieve fails at the destination (500): rounds fail without path charges.
			f.intercept = func(_ *fakeNode, r storage.Request) (int, []byte, bool) {
				if _, ok := r.(*storage.Batch); ok {
					return 500, []byte("request failed"), true
				}
				return 0, nil, false
			}
			start := c.Stats().Polls
			w.runFor(5 * time.Minute)
			rounds := int(c.Stats().Polls - start)
			// Each failed round waits the backoff of its failure count (plus about a round
			// trip): count the rounds that fit in 5 minutes.
			want, spent := 0, time.Duration(0)
			for k := 1; ; k++ {
				d, ok := c.cfg.Poll.Backoff.Delay(k)
				require.True(t, ok)
				if spent += d + 40*time.Millisecond; spent > 5*time.Minute {
					break
				}
				want++
			}
			assert.InDelta(t, want, rounds, 3)
			assert.Less(t, rounds, int(5*time.Minute/c.cfg.Poll.Interval)/2, "far fewer than unhindered")
		})
	}
}

func TestPoolRefreshFromSnodes(t *testing.T) {
	w := newWorld()
	f := newFakeNet(t, w, 40, 8)
	c, _ := newTestClient(t, w, f, "alice", Desktop, func(c *Config) {
		c.PoolAgreementMin = 30
		c.PoolRefreshEvery = 5 * time.Minute
	})
	w.runFor(10 * time.Second)
	f.nodes[5].dead = true // the next lists leave it out
	w.runFor(5 * time.Minute)
	var snodes []PoolRefreshed
	for _, p := range eventsOf[PoolRefreshed](w) {
		if p.Source == FromSnodes {
			snodes = append(snodes, p)
		}
	}
	require.Len(t, snodes, 1)
	assert.Equal(t, OK, snodes[0].Failure)
	assert.Equal(t, 39, snodes[0].Size)
	assert.Equal(t, 39, c.PoolSize())
	assert.Equal(t, 3, f.requests["oxend_request"])
}

func TestRunsAreDeterministic(t *testing.T) {
	run := func() []actor.Event {
		clientIP = 0
		w, _, alice, ea, bob, _ := twoClients(t, Desktop, IOS, nil)
		for k := range 5 {
			ea.do(func() { alice.Send(bob.ID(), 10*k) })
			w.runFor(3 * time.Second)
		}
		w.runFor(time.Minute)
		return w.events
	}
	a, b := run(), run()
	require.NotEmpty(t, a)
	assert.Equal(t, a, b)
}
