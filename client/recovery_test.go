package client

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// The tests below check each profile's pool rules and the desktop's and iOS's network
// behaviours from a client's events on the fake network, against the numbers of the apps'
// source (each named next to its expectation).

// startProfile starts one client of the profile called name on a fake network of nodes nodes
// in swarms of 8; mod (nil for none) changes its config after the profile's.
func startProfile(t *testing.T, name string, nodes int, mod func(*Config)) (NetProfile, *actortest.Driver, *fakeNet, *Client) {
	t.Helper()
	np := profileNamed(t, name)
	drv := newDriver()
	f := newFakeNet(t, drv, nodes, 8)
	c, _ := newTestClient(t, drv, f, "alice", np.Platform, func(c *Config) {
		useProfile(np)(c)
		if mod != nil {
			mod(c)
		}
	})
	return np, drv, f, c
}

// eventsAt are the events of type T with the time each was observed.
func eventsAt[T actor.Event](log actortest.Log) ([]T, []time.Time) {
	var evs []T
	var at []time.Time
	for _, o := range log {
		if e, ok := o.Event.(T); ok {
			evs = append(evs, e)
			at = append(at, o.At)
		}
	}
	return evs, at
}

// TestPoolMinimumAsObserved offers each profile a seed answer one node short of what it
// accepts, then one of exactly that size: the first is refused (the pool would be fetched
// again), the second installed.
func TestPoolMinimumAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		accept  int // the smallest node list the app keeps
	}{
		{"desktop-2026", 9},  // snodePool.ts: more than minSnodePoolCount (8)
		{"android-2024", 9},  // as the desktop
		{"android-2026", 12}, // SnodeDirectory.kt MINIMUM_SNODE_POOL_COUNT
		{"ios-2026", 12},     // network_config.hpp cache_min_size
	}
	for _, tt := range tests {
		for _, n := range []int{tt.accept - 1, tt.accept} {
			t.Run(fmt.Sprintf("%s/%d nodes", tt.profile, n), func(t *testing.T) {
				drv := newDriver()
				f := newFakeNet(t, drv, 40, 8)
				for _, nd := range f.nodes[n:] {
					nd.dead = true // the seed lists live nodes only
				}
				np := profileNamed(t, tt.profile)
				newTestClient(t, drv, f, "alice", np.Platform, useProfile(np))
				drv.RunFor(20 * time.Second)
				pools := actortest.EventsOf[PoolRefreshed](drv.Events)
				require.NotEmpty(t, pools)
				if n < tt.accept {
					assert.Equal(t, PoolRefreshed{Source: FromSeeds, Failure: FailNoPool}, pools[0], "%d nodes are too few", n)
					return
				}
				assert.Equal(t, PoolRefreshed{Source: FromSeeds, Size: n}, pools[0], "%d nodes are enough", n)
			})
		}
	}
}

// TestPoolRefreshAsObserved checks when each profile refreshes its pool from pool nodes over
// 2 h 10 min: the desktop 5 min after start and every hour after start, the 2026 phones 2 h
// after the last install, the 2024 Android app hourly after it.
func TestPoolRefreshAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		want    []time.Duration // after the client started
	}{
		{"desktop-2026", []time.Duration{5 * time.Minute, time.Hour, 2 * time.Hour}}, // ActionsPanel.tsx
		{"android-2026", []time.Duration{2 * time.Hour}},                             // SnodeDirectory.kt
		{"ios-2026", []time.Duration{2 * time.Hour}},                                 // network_config.hpp cache_expiration
		{"android-2024", []time.Duration{time.Hour, 2 * time.Hour}},                  // the desktop's hourly refresh
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			_, drv, _, _ := startProfile(t, tt.profile, 40, nil)
			start := drv.Now()
			drv.RunFor(2*time.Hour + 10*time.Minute)
			pools, at := eventsAt[PoolRefreshed](drv.Events)
			require.NotEmpty(t, pools)
			require.Equal(t, FromSeeds, pools[0].Source, "bootstrap first")
			installed := at[0].Sub(start)
			var got []time.Duration
			for k, p := range pools[1:] {
				require.Equal(t, FromSnodes, p.Source)
				require.Equal(t, OK, p.Failure)
				got = append(got, at[k+1].Sub(start))
			}
			require.Len(t, got, len(tt.want))
			for k, w := range tt.want {
				if !profileNamed(t, tt.profile).Pool.FromStart && k == 0 {
					w += installed // counted from the bootstrap's install
				}
				// The refresh is due at w and takes three onion round trips.
				assert.GreaterOrEqual(t, got[k], w, "refresh %d", k)
				assert.Less(t, got[k], w+3*time.Second, "refresh %d", k)
			}
		})
	}
}

// TestPoolAgreementAsObserved makes the three lists of a refresh disagree (each answer leaves
// out four nodes of its own) and checks the pool installed: the desktop keeps what all three
// list, libsession and Android 2026 what at least two do.
func TestPoolAgreementAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		need    int // lists a node must be in
	}{
		{"desktop-2026", 3}, // snodePool.ts, getSnodePoolFromSnodes: the intersection
		{"android-2026", 2}, // SnodeDirectory.kt
		{"ios-2026", 2},     // network_config.hpp cache_min_num_refresh_presence_to_include_node
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			np, drv, f, _ := startProfile(t, tt.profile, 40, nil)
			drv.RunFor(10 * time.Second)
			answers := 0
			listed := map[string]int{} // node address -> lists that had it
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				if _, ok := r.(*storagerpc.OxendRequest); !ok {
					return 0, nil, false
				}
				omit := f.nodes[4*answers : 4*answers+4]
				answers++
				for _, n := range f.nodes {
					if !slices.Contains(omit, n) {
						listed[n.info.Addr.String()]++
					}
				}
				return 200, (&storagerpc.OxendResponse{Result: f.nodeStatesWithout(omit...)}).Append(nil), true
			}
			from := len(drv.Events)
			first := np.Pool.RefreshEvery
			if np.Pool.First > 0 {
				first = np.Pool.First
			}
			drv.RunFor(first)
			require.Equal(t, 3, answers, "one refresh asks three nodes")
			want := 0
			for _, c := range listed {
				if c >= tt.need {
					want++
				}
			}
			pools := actortest.EventsOf[PoolRefreshed](drv.Events[from:])
			require.Len(t, pools, 1)
			assert.Equal(t, PoolRefreshed{Source: FromSnodes, Size: want}, pools[0])
			assert.Equal(t, map[int]int{3: 40 - 12, 2: 40}[tt.need], want, "the rule decides")
		})
	}
}

// TestDesktopFreshGuardsOnPathDrop kills one guard: its path fails three times and is dropped.
// The desktop then gives up the other guard too, tests a fresh pair and rebuilds both paths;
// Android 2026 keeps the surviving path and replaces the one guard.
func TestDesktopFreshGuardsOnPathDrop(t *testing.T) {
	tests := []struct {
		profile string
		fresh   bool // onionPath.ts dropPathStartingWithGuardNode + buildNewOnionPathsOneAtATime
	}{
		{"desktop-2026", true},
		{"android-2026", false},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			np, drv, f, c := startProfile(t, tt.profile, 40, nil)
			drv.RunFor(10 * time.Second)
			before := c.Paths()
			require.Len(t, before, np.Config().Paths)
			victim, survivor := before[0][0], before[1][0]
			f.byAddr[victim].dead = true
			from := len(drv.Events)
			drv.RunFor(3 * time.Minute)
			evs := drv.Events[from:]

			drops := actortest.EventsOf[PathDropped](evs)
			require.NotEmpty(t, drops)
			assert.Equal(t, PathDropped{Guard: victim, GuardEd25519: f.byAddr[victim].info.Ed25519, Cause: CausePathFailures}, drops[0])
			sels := actortest.EventsOf[GuardSelection](evs)
			require.NotEmpty(t, sels, "guards selected after the drop")
			after := c.Paths()
			require.Len(t, after, np.Config().Paths)
			var guards []actor.Addr
			for _, p := range after {
				guards = append(guards, p[0])
			}
			assert.NotContains(t, guards, victim)
			if tt.fresh {
				require.Len(t, drops, 2)
				assert.Equal(t, PathDropped{Guard: survivor, GuardEd25519: f.byAddr[survivor].info.Ed25519, Cause: CauseFreshGuards}, drops[1])
				assert.GreaterOrEqual(t, sels[0].Tested, 2, "a fresh pair is tested")
				assert.Len(t, sels[0].Guards, 2)
				assert.GreaterOrEqual(t, len(actortest.EventsOf[PathBuilt](evs)), 2, "both paths rebuilt")
				return
			}
			assert.Len(t, drops, 1)
			assert.Equal(t, 1, sels[0].Tested, "one guard replaced")
			assert.Contains(t, guards, survivor)
			assert.Contains(t, after, before[1], "the surviving path is kept")
		})
	}
}

// TestStrikeOn421AsObserved makes one member of the client's swarm answer every poll with 421,
// naming the client's swarm (itself included). The desktop adopts the swarm and strikes the
// node each time, dropping it at the third strike; the other profiles only adopt the swarm.
func TestStrikeOn421AsObserved(t *testing.T) {
	tests := []struct {
		profile string
		drop    bool // onions.ts handle421InvalidSwarm -> incrementBadSnodeCountOrDrop (3)
	}{
		{"desktop-2026", true},
		{"android-2026", false},
		{"ios-2026", false},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			_, drv, f, c := startProfile(t, tt.profile, 40, nil)
			drv.RunFor(10 * time.Second)
			own := f.swarmOf(pubkeyOf(c.ID()))
			// The answering member is the first one polled from now on: a member fixed in
			// advance may by chance not be polled at all within the window (the phones pick
			// members at random).
			var x *fakeNode
			answered := 0
			f.intercept = func(n *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				rr, ok := r.(*storagerpc.Retrieve)
				if ok && x == nil && rr.Pubkey == pubkeyOf(c.ID()) {
					x = n
				}
				if ok && n == x && rr.Pubkey == pubkeyOf(c.ID()) && rr.Namespace == 0 {
					answered++
					return 421, f.swarmInfo(own), true
				}
				return 0, nil, false
			}
			from := len(drv.Events)
			// Less than the desktop's first pool refresh (5 min after start), which would
			// forget the strikes.
			drv.RunFor(4 * time.Minute)
			evs := drv.Events[from:]
			require.GreaterOrEqual(t, answered, 3, "the node answered 421 at least three times")
			var dropped []NodeDropped
			for _, d := range actortest.EventsOf[NodeDropped](evs) {
				if d.Node == x.info.Addr {
					dropped = append(dropped, d)
				}
			}
			if !tt.drop {
				assert.Empty(t, dropped)
				return
			}
			require.Len(t, dropped, 1)
			assert.Equal(t, CauseStrikes, dropped[0].Cause)
			assert.Equal(t, 3, answered, "no poll reaches it after the third strike")
		})
	}
}

// TestIOSPathsAndLocalSwarms checks libsession's network on iOS: four paths (two of them file
// paths) behind four distinct guards, the own swarm computed from the pool's swarm ids by the
// storage server's rule, and no get_swarm at any node; the desktop asks get_swarm.
func TestIOSPathsAndLocalSwarms(t *testing.T) {
	tests := []struct {
		profile   string
		paths     int // network_config.hpp onionreq_min_path_counts: standard 2 + file 2
		filePaths int
		getSwarm  bool
	}{
		{"ios-2026", 4, 2, false},
		{"desktop-2026", 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			_, drv, f, c := startProfile(t, tt.profile, 40, nil)
			drv.RunFor(2 * time.Minute)
			built := actortest.EventsOf[PathBuilt](drv.Events)
			require.Len(t, built, tt.paths)
			guards := map[actor.Addr]bool{}
			files := 0
			for _, b := range built {
				guards[b.Guard] = true
				if b.File {
					files++
				}
			}
			assert.Len(t, guards, tt.paths, "each path behind its own guard")
			assert.Equal(t, tt.filePaths, files)
			assert.Equal(t, tt.getSwarm, f.requests[storagerpc.MethodGetSwarm] > 0, "get_swarm requests: %d", f.requests[storagerpc.MethodGetSwarm])

			var want []actor.Addr
			for _, n := range f.members(f.swarmOf(pubkeyOf(c.ID()))) {
				want = append(want, n.info.Addr)
			}
			var polled []actor.Addr
			for _, rt := range actortest.EventsOf[OnionRoundTrip](drv.Events) {
				if rt.Method == "retrieve" && rt.Account == c.ID() && !slices.Contains(polled, rt.Dest) {
					polled = append(polled, rt.Dest)
				}
			}
			require.NotEmpty(t, polled)
			assert.Subset(t, want, polled, "polls go to the swarm the storage servers say owns the account")
			lookups := actortest.EventsOf[SwarmLookup](drv.Events)
			require.NotEmpty(t, lookups)
			assert.Equal(t, !tt.getSwarm, lookups[0].Local)
			assert.Equal(t, len(want), lookups[0].Members)
		})
	}
}

// TestOwnSwarmRefreshAsObserved runs 2 h 10 min: the desktop looks its own swarm up at start
// and then hourly, the phones only at start (their cached swarm never runs short here).
func TestOwnSwarmRefreshAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		want    []time.Duration // ActionsPanel.tsx getFreshSwarmFor every hour; startup.ts at start
	}{
		{"desktop-2026", []time.Duration{0, time.Hour, 2 * time.Hour}},
		{"android-2026", []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			np, drv, _, c := startProfile(t, tt.profile, 40, nil)
			start := drv.Now()
			drv.RunFor(2*time.Hour + 10*time.Minute)
			lookups, at := eventsAt[SwarmLookup](drv.Events)
			var got []time.Time
			for k, l := range lookups {
				if l.Owner == c.ID() && !l.From421 {
					got = append(got, at[k])
				}
			}
			require.Len(t, got, len(tt.want))
			for k, w := range tt.want {
				// Due w after the start; sent with the next poll (the first with the first).
				d := got[k].Sub(start)
				assert.GreaterOrEqual(t, d, w, "lookup %d", k)
				assert.Less(t, d, w+np.Poll.Interval+3*time.Second, "lookup %d", k)
			}
		})
	}
}
