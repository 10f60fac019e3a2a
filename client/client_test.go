package client

import (
	"encoding/base64"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

var clientIP byte

func newTestClient(t testing.TB, drv *actortest.Driver, f *fakeNet, name string, p Platform, mod func(*Config)) (*Client, *actortest.Env) {
	t.Helper()
	cfg := DefaultConfig(p)
	cfg.Seeds = f.seeds
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, identity.Derive(1, name))
	require.NoError(t, err)
	clientIP++
	e := drv.Env(netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, clientIP}), 5000))
	e.Do(func() { c.Start(e) })
	return c, e
}

// twoClients starts alice and bob on a fake network of 40 nodes in swarms of 8, with their
// platforms and a change to alice's config (nil for none), and runs ten seconds so that both
// have paths.
func twoClients(t testing.TB, alicePlatform, bobPlatform Platform, aliceConfig func(*Config)) (drv *actortest.Driver, f *fakeNet, alice *Client, ea *actortest.Env, bob *Client, eb *actortest.Env) {
	t.Helper()
	drv = newDriver()
	f = newFakeNet(t, drv, 40, 8)
	alice, ea = newTestClient(t, drv, f, "alice", alicePlatform, aliceConfig)
	bob, eb = newTestClient(t, drv, f, "bob", bobPlatform, nil)
	drv.RunFor(10 * time.Second)
	return drv, f, alice, ea, bob, eb
}

func TestBootstrapBuildsGuardsAndPaths(t *testing.T) {
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	c, _ := newTestClient(t, drv, f, "alice", Desktop, nil)
	drv.RunFor(30 * time.Second)

	pools := actortest.EventsOf[PoolRefreshed](drv.Events)
	require.NotEmpty(t, pools)
	assert.Equal(t, PoolRefreshed{Source: FromSeeds, Size: 40}, pools[0])
	assert.Equal(t, 40, c.PoolSize())

	tested := actortest.EventsOf[GuardTested](drv.Events)
	require.Len(t, tested, 2, "two guards needed, both answer")
	built := actortest.EventsOf[PathBuilt](drv.Events)
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

// useProfile makes newTestClient's client run profile np.
func useProfile(np NetProfile) func(*Config) {
	return func(c *Config) {
		seeds := c.Seeds
		*c = np.Config()
		c.Seeds = seeds
	}
}

func TestSendIsDeliveredOnce(t *testing.T) {
	for _, tc := range []struct {
		profile string
		// servedAgain: the profile's polling fetches the message more than once, so that
		// only the client's deduplication keeps it to one delivery. Desktop polls two
		// members at once, iOS switches members after six polls and Android 2026 a different
		// member each poll (the new one has no last hash from it); Android 2024 stays on one
		// member, whose last hash hides the message.
		servedAgain bool
	}{{"desktop-2026", true}, {"ios-2026", true}, {"android-2026", true}, {"android-2024", false}} {
		t.Run(tc.profile, func(t *testing.T) {
			np := profileNamed(t, tc.profile)
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			alice, ea := newTestClient(t, drv, f, "alice", np.Platform, useProfile(np))
			bob, _ := newTestClient(t, drv, f, "bob", np.Platform, useProfile(np))
			drv.RunFor(10 * time.Second)
			ea.Do(func() { alice.Send(bob.ID(), 300) })
			drv.RunFor(30 * time.Second)

			sent := actortest.EventsOf[MessageSent](drv.Events)
			require.Len(t, sent, 1)
			assert.Equal(t, bob.ID(), sent[0].To)
			assert.Equal(t, actortest.Epoch.Add(10*time.Second), sent[0].At)
			assert.Equal(t, message.TextStoredSize(np.Encoding, 300, uint64(actortest.Epoch.Add(10*time.Second).UnixMilli())), sent[0].Size)
			res := actortest.EventsOf[StoreResult](drv.Events)
			require.Len(t, res, 1)
			assert.Equal(t, OK, res[0].Failure)
			assert.Equal(t, sent[0].Hash, res[0].Hash)
			assert.Equal(t, 1, res[0].Attempts)

			got := actortest.EventsOf[MessageReceived](drv.Events)
			require.Len(t, got, 1, "delivered exactly once although polled again and again")
			assert.Equal(t, sent[0].Hash, got[0].Hash)
			assert.Equal(t, alice.ID(), got[0].From)
			assert.Equal(t, uint32(1), bob.Stats().Received)
			served := f.served[sent[0].Hash]
			assert.Equal(t, tc.servedAgain, served > 1, "served %d times", served)
			// Bob's config messages are served again like his inbox.
			repeats := 0
			for key, ms := range f.msgs {
				if strings.HasPrefix(key, pubkeyOf(bob.ID()).Hex()+"/") {
					for _, m := range ms {
						repeats += max(f.served[m.Hash]-1, 0)
					}
				}
			}
			assert.Equal(t, uint32(repeats), bob.Stats().Duplicates, "every repeat is counted as a duplicate and dropped")
			assert.Zero(t, alice.Outbox())
		})
	}
}

// A client sends in its configured encoding, and a client of the other generation opens it.
func TestEncodingsInterop(t *testing.T) {
	for _, enc := range []message.Encoding{message.Libsession, message.Legacy} {
		t.Run(enc.String(), func(t *testing.T) {
			drv, _, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, func(c *Config) { c.Encoding = enc })
			ea.Do(func() { alice.Send(bob.ID(), 300) })
			drv.RunFor(30 * time.Second)

			sent := actortest.EventsOf[MessageSent](drv.Events)
			require.Len(t, sent, 1)
			assert.Equal(t, message.TextStoredSize(enc, 300, uint64(sent[0].At.UnixMilli())), sent[0].Size)
			got := actortest.EventsOf[MessageReceived](drv.Events)
			require.Len(t, got, 1)
			assert.Equal(t, sent[0].Hash, got[0].Hash)
			assert.Equal(t, alice.ID(), got[0].From)
		})
	}
}

func TestSeedsDownFailsCleanly(t *testing.T) {
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	f.seedDown = true
	alice, ea := newTestClient(t, drv, f, "alice", Desktop, nil)
	bob := identity.Derive(1, "bob").SessionID()
	ea.Do(func() { alice.Send(bob, 10) })
	drv.RunFor(2 * time.Minute)

	failed := actortest.EventsOf[PoolRefreshed](drv.Events)
	require.NotEmpty(t, failed)
	assert.Equal(t, FailNoPool, failed[0].Failure)
	res := actortest.EventsOf[StoreResult](drv.Events)
	require.Len(t, res, 1)
	assert.Equal(t, FailNoSwarm, res[0].Failure, "no pool: the swarm cannot be found")
	assert.Zero(t, alice.PoolSize())

	// The seeds come back: the next poll bootstraps and the client works.
	f.seedDown = false
	drv.RunFor(time.Minute)
	assert.Equal(t, 40, alice.PoolSize())
	assert.Len(t, alice.Paths(), 2)
}

func TestNextNodeNotFoundDropsAndReplaces(t *testing.T) {
	drv, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	// Every relay claims not to know alice's second hop of her first path.
	victim := alice.Paths()[0][1]
	f.hideFromHop = func(_, next *fakeNode) bool { return next.info.Addr == victim }
	ea.Do(func() { alice.Send(bob.ID(), 50) })
	drv.RunFor(30 * time.Second)

	var dropped []NodeDropped
	for _, d := range actortest.EventsOf[NodeDropped](drv.Events) {
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
	res := actortest.EventsOf[StoreResult](drv.Events)
	require.Len(t, res, 1)
	assert.Equal(t, OK, res[0].Failure)
	assert.Len(t, actortest.EventsOf[MessageReceived](drv.Events), 1)
}

func TestDeadHopTimeoutsRebuildPath(t *testing.T) {
	// With one path the outcome depends on alice's draws: a store to a swarm member that is a hop
	// of her only path has no path to go on (paths containing the destination are not used), and
	// swarm lookups sent to the dead hop before it leaves the pool use up the store's attempts.
	// newDriver fixes her draws (her address), so that every run of the test draws the same.
	drv, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, func(c *Config) { c.Paths = 1 })
	path := alice.Paths()[0]
	f.byAddr[path[2]].dead = true // the last hop dies silently: relays time out
	ea.Do(func() { alice.Send(bob.ID(), 50) })
	drv.RunFor(2 * time.Minute)

	res := actortest.EventsOf[StoreResult](drv.Events)
	require.Len(t, res, 1)
	assert.Equal(t, OK, res[0].Failure, "delivered on a rebuilt path")
	assert.Len(t, actortest.EventsOf[MessageReceived](drv.Events), 1)
	now := alice.Paths()
	require.Len(t, now, 1)
	assert.NotContains(t, now[0], path[2])
	assert.Positive(t, alice.Stats().PathRebuilds, "the path with the dead hop was repaired or replaced")
	assert.True(t, slices.ContainsFunc(actortest.EventsOf[NodeDropped](drv.Events), func(d NodeDropped) bool { return d.Node == path[2] }),
		"the dead hop left the pool")
}

func TestWrongSwarmIsAdopted(t *testing.T) {
	drv, f, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	ea.Do(func() { alice.Send(bob.ID(), 50) })
	drv.RunFor(20 * time.Second)
	require.Len(t, actortest.EventsOf[MessageReceived](drv.Events), 1)

	// Bob's account moves to another swarm: its old members now answer 421 naming the new one,
	// while alice and bob still have the old swarm cached.
	old := f.swarmOf(pubkeyOf(bob.ID()))
	f.moved = map[storagerpc.Pubkey]int{pubkeyOf(bob.ID()): (old + 1) % f.swarms}
	ea.Do(func() { alice.Send(bob.ID(), 60) })
	drv.RunFor(30 * time.Second)

	res := actortest.EventsOf[StoreResult](drv.Events)
	require.Len(t, res, 2)
	assert.Equal(t, OK, res[1].Failure)
	assert.Equal(t, 2, res[1].Attempts, "a 421, then the adopted swarm")
	var adopted int
	for _, l := range actortest.EventsOf[SwarmLookup](drv.Events) {
		if l.From421 {
			adopted++
			assert.Equal(t, 8, l.Members)
		}
	}
	assert.GreaterOrEqual(t, adopted, 2, "alice's send and bob's polls adopted the 421's swarm")
	assert.Len(t, actortest.EventsOf[MessageReceived](drv.Events), 2, "bob follows his swarm")
}

func TestOfflineClientCatchesUp(t *testing.T) {
	drv, f, alice, ea, bob, eb := twoClients(t, Android, IOS, nil)
	eb.Do(bob.GoOffline)
	bobPolls := 0
	f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
		if rr, ok := r.(*storagerpc.Retrieve); ok && rr.Pubkey == pubkeyOf(bob.ID()) {
			bobPolls++
		}
		return 0, nil, false
	}
	for range 3 {
		ea.Do(func() { alice.Send(bob.ID(), 80) })
	}
	drv.RunFor(time.Minute)
	assert.Empty(t, actortest.EventsOf[MessageReceived](drv.Events))
	assert.Len(t, actortest.EventsOf[StoreResult](drv.Events), 3)
	assert.Zero(t, bobPolls, "an offline client does not poll")

	eb.Do(bob.GoOnline)
	drv.RunFor(5 * time.Second)
	got := actortest.EventsOf[MessageReceived](drv.Events)
	assert.Len(t, got, 3)
	ac, bc := DefaultConfig(Android), DefaultConfig(IOS)
	assert.Len(t, bob.Paths(), bc.Paths+bc.FilePaths, "paths rebuilt on the guards kept offline")
	assert.Len(t, actortest.EventsOf[GuardTested](drv.Events), ac.Paths+bc.Paths+bc.FilePaths, "the guards were not tested again")
}

func TestSendWhileOfflineWaits(t *testing.T) {
	drv, _, alice, ea, bob, _ := twoClients(t, Desktop, Desktop, nil)
	ea.Do(alice.GoOffline)
	ea.Do(func() { alice.Send(bob.ID(), 80) })
	drv.RunFor(time.Minute)
	assert.Len(t, actortest.EventsOf[MessageSent](drv.Events), 1)
	assert.Empty(t, actortest.EventsOf[StoreResult](drv.Events))
	assert.Equal(t, 1, alice.Outbox())
	ea.Do(alice.GoOnline)
	drv.RunFor(20 * time.Second)
	require.Len(t, actortest.EventsOf[StoreResult](drv.Events), 1)
	assert.Equal(t, OK, actortest.EventsOf[StoreResult](drv.Events)[0].Failure)
	assert.Len(t, actortest.EventsOf[MessageReceived](drv.Events), 1)
}

func TestGarbageIsCountedAndReportedOnce(t *testing.T) {
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	bob, _ := newTestClient(t, drv, f, "bob", Desktop, nil)
	carol := identity.Derive(1, "carol")
	drv.RunFor(10 * time.Second)

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
	drv.RunFor(20 * time.Second)

	g := actortest.EventsOf[GarbageReceived](drv.Events)
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
	drv.RunFor(20 * time.Second)
	assert.Positive(t, bob.Stats().Garbage[GarbageOnionResponse])
	assert.Greater(t, bob.Stats().Polls, polls)
	assert.Len(t, actortest.EventsOf[GarbageReceived](drv.Events), 3)
	f.garbleReply = false
	ok := bob.Stats().PollFailures
	drv.RunFor(20 * time.Second)
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
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			type poll struct {
				at   time.Time
				node actor.Addr
			}
			var polls []poll
			f.intercept = func(n *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				if rr, ok := r.(*storagerpc.Retrieve); ok && rr.Namespace == 0 {
					polls = append(polls, poll{drv.Now(), n.info.Addr})
				}
				return 0, nil, false
			}
			c, _ := newTestClient(t, drv, f, "alice", tt.p, nil)
			drv.RunFor(5 * time.Minute)
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
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			c, _ := newTestClient(t, drv, f, "alice", p, nil)
			drv.RunFor(10 * time.Second)
			// Every retrieve fails at the destination (500): rounds fail without path charges.
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				if _, ok := r.(*storagerpc.Batch); ok {
					return 500, []byte("request failed"), true
				}
				return 0, nil, false
			}
			start := c.Stats().Polls
			drv.RunFor(5 * time.Minute)
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
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	c, _ := newTestClient(t, drv, f, "alice", Desktop, func(c *Config) {
		c.PoolAgreementMin = 30
		c.PoolRefreshEvery = 5 * time.Minute
	})
	drv.RunFor(10 * time.Second)
	// The next lists leave out one node, which stays up (a dead one would fail the requests
	// that reach it, which this test does not count).
	f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
		if _, ok := r.(*storagerpc.OxendRequest); ok {
			return 200, (&storagerpc.OxendResponse{Result: f.nodeStatesWithout(f.nodes[5])}).Append(nil), true
		}
		return 0, nil, false
	}
	drv.RunFor(5 * time.Minute)
	var snodes []PoolRefreshed
	for _, p := range actortest.EventsOf[PoolRefreshed](drv.Events) {
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
	run := func() []actortest.Observed {
		drv, _, alice, ea, bob, _ := twoClients(t, Desktop, IOS, nil)
		for k := range 5 {
			ea.Do(func() { alice.Send(bob.ID(), 10*k) })
			drv.RunFor(3 * time.Second)
		}
		drv.RunFor(time.Minute)
		return drv.Events
	}
	a, b := run(), run()
	require.NotEmpty(t, a)
	assert.Equal(t, a, b)
}

// newDriver is the fake driver of the client's unit tests: 20 ms each way to every node. It
// numbers client addresses from the start again: a client's random stream follows its address,
// so a test draws the same whatever ran before it (test order, -count, -shuffle).
func newDriver() *actortest.Driver {
	clientIP = 0
	return actortest.New(20 * time.Millisecond)
}

// TestSyncCopies checks that each message stored for another account is followed by one store
// of a copy in the sender's own swarm, on every platform, and that the sender's polls do not
// report its copies as received messages.
func TestSyncCopies(t *testing.T) {
	cases := []struct {
		name     string
		platform Platform
		sends    int
		failAll  bool // every store to bob's swarm is refused
	}{
		{"desktop", Desktop, 3, false},
		{"android", Android, 2, false},
		{"ios", IOS, 1, false},
		{"no copy of a message that was not stored", Desktop, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			drv, f, alice, ea, bob, _ := twoClients(t, tc.platform, Desktop, nil)
			ownStores := 0
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				s, ok := r.(*storagerpc.Store)
				switch {
				case !ok:
				case s.Namespace != storagerpc.Namespace(contentNamespace):
					// alice's config messages
				case s.Pubkey == pubkeyOf(alice.ID()):
					ownStores++
				case tc.failAll:
					return 400, []byte("refused"), true
				}
				return 0, nil, false
			}
			for range tc.sends {
				ea.Do(func() { alice.Send(bob.ID(), 80) })
			}
			drv.RunFor(time.Minute)
			copies := actortest.EventsOf[SyncCopyStored](drv.Events)
			if tc.failAll {
				assert.Empty(t, copies)
				assert.Zero(t, ownStores)
				return
			}
			require.Len(t, copies, tc.sends)
			for _, c := range copies {
				assert.Equal(t, OK, c.Failure)
			}
			assert.Equal(t, tc.sends, ownStores, "one store in alice's own swarm per message")
			// Alice polls her own swarm and gets her copies back: were they news, this would be
			// twice the sends.
			assert.Len(t, actortest.EventsOf[MessageReceived](drv.Events), tc.sends, "bob's receipts only")
		})
	}
}
