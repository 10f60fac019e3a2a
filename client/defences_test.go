package client

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// defenceRun is what one run of TestDefencesAct saw: alice and bob both run the option under
// test; alice sends bob one message after ten seconds.
type defenceRun struct {
	drv        *actortest.Driver
	alice, bob *Client
	aliceAddr  actor.Addr
	direct     []storagerpc.Request // alice's direct requests to service nodes (guard tests)
	guardSizes map[int]int          // onion request bodies at the guard, by size
	layers     []int                // destination layer sizes (onion.NodeLayerSize of the RPC)
	polls      map[bool][]int       // retrieve RPC sizes at destinations: true for real polls
	foreign    int                  // retrieves naming an account neither client owns
}

func runDefence(t *testing.T, mod func(*Config), d time.Duration) *defenceRun {
	t.Helper()
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	r := &defenceRun{drv: drv, guardSizes: map[int]int{}, polls: map[bool][]int{}}
	fake := drv.Serve
	drv.Serve = func(from, to actor.Addr, req actor.Request) (actor.Response, bool) {
		switch {
		case req.Method == storageEndpoint && from == r.aliceAddr:
			parsed, err := storagerpc.ParseRequest(bodyBytes(req.Body))
			require.NoError(t, err)
			r.direct = append(r.direct, parsed)
		case req.Method == onion.GuardEndpoint:
			r.guardSizes[len(bodyBytes(req.Body))]++
		}
		return fake(from, to, req)
	}
	f.delivered = func(payload []byte) {
		r.layers = append(r.layers, onion.NodeLayerSize(len(payload)))
		parsed, err := storagerpc.ParseRequest(payload)
		require.NoError(t, err, "a padded request still parses")
		b, ok := parsed.(*storagerpc.Batch)
		if !ok || len(b.Requests) == 0 {
			return
		}
		if ret, ok := b.Requests[0].(*storagerpc.Retrieve); ok {
			switch ret.Pubkey {
			case pubkeyOf(r.alice.ID()), pubkeyOf(r.bob.ID()):
				r.polls[true] = append(r.polls[true], len(payload))
			default:
				r.foreign++
				r.polls[false] = append(r.polls[false], len(payload))
			}
		}
	}
	// Start only asks the seeds, so alice's address is known before her first guard test.
	var ea *actortest.Env
	r.alice, ea = newTestClient(t, drv, f, "alice", Desktop, mod)
	r.aliceAddr = ea.Self()
	r.bob, _ = newTestClient(t, drv, f, "bob", Desktop, mod)
	drv.RunFor(10 * time.Second)
	ea.Do(func() { r.alice.Send(r.bob.ID(), 300) })
	drv.RunFor(d - 10*time.Second)
	return r
}

// rebuilds counts alice's and bob's path rebuilds (PathBuilt with Rebuild set).
func (r *defenceRun) rebuilds() int {
	n := 0
	for _, b := range actortest.EventsOf[PathBuilt](r.drv.Events) {
		if b.Rebuild {
			n++
		}
	}
	return n
}

func (r *defenceRun) dropped(c Cause) int {
	n := 0
	for _, d := range actortest.EventsOf[PathDropped](r.drv.Events) {
		if d.Cause == c {
			n++
		}
	}
	return n
}

func TestDefencesAct(t *testing.T) {
	buckets := []int{1024, 2048, 4096}
	cases := []struct {
		name  string
		mod   func(*Config)
		run   time.Duration
		check func(t *testing.T, r *defenceRun)
	}{
		{"defaults are the apps' behaviour", nil, 65 * time.Minute, func(t *testing.T, r *defenceRun) {
			assert.Zero(t, r.rebuilds(), "no rotation")
			assert.Zero(t, r.dropped(CauseGuardLifetime), "guards kept")
			assert.Zero(t, r.alice.Stats().CoverPolls+r.bob.Stats().CoverPolls, "no cover traffic")
			assert.Zero(t, r.foreign)
			assert.Greater(t, len(r.guardSizes), len(buckets), "onion requests come in many sizes")
		}},
		{"guard_test own-id names the own ID to every candidate", func(c *Config) { c.GuardTest = GuardTestOwnID }, time.Minute, func(t *testing.T, r *defenceRun) {
			for _, q := range r.direct {
				gs, ok := q.(*storagerpc.GetSwarm)
				require.True(t, ok, "a get_swarm, not %T", q)
				assert.Equal(t, pubkeyOf(r.alice.ID()), gs.Pubkey)
			}
		}},
		{"guard_test random-id never names the own ID", func(c *Config) { c.GuardTest = GuardTestRandomID }, time.Minute, func(t *testing.T, r *defenceRun) {
			var named []storagerpc.Pubkey
			for _, q := range r.direct {
				gs, ok := q.(*storagerpc.GetSwarm)
				require.True(t, ok, "a get_swarm, not %T", q)
				assert.NotEqual(t, pubkeyOf(r.alice.ID()), gs.Pubkey)
				named = append(named, gs.Pubkey)
			}
			assert.Len(t, slices.Compact(named), len(named), "a fresh ID for each test")
			assert.Len(t, r.alice.Paths(), 2)
		}},
		{"guard_test ping names no account", func(c *Config) { c.GuardTest = GuardTestPing }, time.Minute, func(t *testing.T, r *defenceRun) {
			for _, q := range r.direct {
				assert.IsType(t, &storagerpc.Info{}, q)
			}
			assert.Len(t, r.alice.Paths(), 2)
			assert.EqualValues(t, 1, r.bob.Stats().Received, "paths behind ping-tested guards deliver")
		}},
		{"guard_lifetime 30m replaces the guards every 30 minutes", func(c *Config) { c.GuardLifetime = 30 * time.Minute }, 95 * time.Minute, func(t *testing.T, r *defenceRun) {
			// Two clients, two guards each, retired at 30, 60 and 90 minutes.
			assert.Equal(t, 2*2*3, r.dropped(CauseGuardLifetime))
			ok := 0
			for _, g := range actortest.EventsOf[GuardTested](r.drv.Events) {
				if g.OK {
					ok++
				}
			}
			assert.Equal(t, 2*2*4, ok, "each retired guard is replaced by a tested one")
			assert.Len(t, r.alice.Paths(), 2)
			assert.Equal(t, 40, r.alice.PoolSize(), "retired guards stay in the pool")
		}},
		{"path_rotation 10m rebuilds every 10 minutes", func(c *Config) { c.PathRotate = 10 * time.Minute }, 65 * time.Minute, func(t *testing.T, r *defenceRun) {
			// Two clients, two paths each, rebuilt at 10, 20, ..., 60 minutes.
			assert.Equal(t, 2*2*6, r.rebuilds())
			assert.Zero(t, r.dropped(CauseGuardLifetime), "rotation keeps the guards")
		}},
		{"paths 3 keeps three paths", func(c *Config) { c.Paths = 3 }, time.Minute, func(t *testing.T, r *defenceRun) {
			require.Len(t, r.alice.Paths(), 3)
			var guards []actor.Addr
			for _, p := range r.alice.Paths() {
				guards = append(guards, p[0])
			}
			slices.SortFunc(guards, func(a, b actor.Addr) int { return a.Compare(b) })
			assert.Len(t, slices.Compact(guards), 3, "each behind its own guard")
		}},
		{"onion_padding puts every request on a bucket size", func(c *Config) { c.OnionPadding = buckets }, 2 * time.Minute, func(t *testing.T, r *defenceRun) {
			require.NotEmpty(t, r.layers)
			for _, n := range r.layers {
				assert.Contains(t, buckets, n)
			}
			assert.LessOrEqual(t, len(r.guardSizes), len(buckets), "so the guard sees as many sizes as there are buckets")
			assert.EqualValues(t, 1, r.bob.Stats().Received, "the padded store was stored and delivered")
			assert.Positive(t, r.alice.Stats().Polls)
			assert.Zero(t, r.alice.Stats().OnionFailures)
		}},
		{"cover_traffic 120/h adds 120 dummy polls an hour", func(c *Config) { c.CoverPollsPerHour = 120 }, time.Hour, func(t *testing.T, r *defenceRun) {
			n := int(r.alice.Stats().CoverPolls + r.bob.Stats().CoverPolls)
			assert.InDelta(t, 2*120, n, 3*22, "two clients, Poisson counts (sd about 15)")
			assert.Equal(t, n, r.foreign, "every dummy reaches a node and names an account no client owns")
			cover := 0
			for _, ev := range actortest.EventsOf[OnionRoundTrip](r.drv.Events) {
				if ev.Cover {
					cover++
					assert.Equal(t, "retrieve", ev.Method)
					assert.Equal(t, 200, ev.Status, "answered as a real poll is")
				}
			}
			assert.Equal(t, n, cover)
			sizes := func(xs []int) []int { return slices.Compact(slices.Sorted(slices.Values(xs))) }
			// A real poll names a last hash only for the node that answered it before (the
			// sync copies give every sender some), a dummy wherever the client has one: each
			// dummy has the size of some real poll.
			assert.Subset(t, sizes(r.polls[true]), sizes(r.polls[false]), "dummies are the size of real polls")
			assert.NotEmpty(t, r.polls[false])
			assert.EqualValues(t, 1, r.bob.Stats().Received)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runDefence(t, tc.mod, tc.run)
			if tc.name != "defaults are the apps' behaviour" {
				assert.NotEmpty(t, r.direct, "alice tested guards")
			}
			tc.check(t, r)
		})
	}
}

func TestPadding(t *testing.T) {
	buckets := []int{512, 1024, 4096}
	for _, tc := range []struct {
		layer, want int
	}{
		{100, 512}, {512, 512}, {513, 1024}, {4096, 4096}, {4097, 8192}, {9000, 12288},
	} {
		assert.Equal(t, tc.want, paddedSize(tc.layer, buckets), "layer %d", tc.layer)
		rpc := make([]byte, tc.layer-onion.NodeLayerSize(0))
		assert.Equal(t, tc.want, onion.NodeLayerSize(len(padRPC(rpc, buckets))), "layer %d", tc.layer)
	}
	rpc := []byte(`{"method":"info","params":{}}`)
	assert.Equal(t, rpc, padRPC(rpc, nil), "no buckets, no padding")
	padded := padRPC(rpc, buckets)
	assert.Equal(t, `{"method":"info","params":{}}`, string(rpc), "the original is not changed")
	_, err := storagerpc.ParseRequest(padded)
	assert.NoError(t, err)

	for _, tc := range []struct {
		buckets []int
		ok      bool
	}{
		{nil, true}, {[]int{1}, true}, {[]int{512, 4096}, true},
		{[]int{0}, false}, {[]int{-5}, false}, {[]int{1024, 512}, false}, {[]int{512, 512}, false},
		{[]int{MaxPaddingBucket + 1}, false},
	} {
		if tc.ok {
			assert.NoError(t, CheckPadding(tc.buckets), "%v", tc.buckets)
		} else {
			assert.Error(t, CheckPadding(tc.buckets), "%v", tc.buckets)
		}
	}
}

func TestParseGuardTest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want GuardTest
		ok   bool
	}{
		{"own-id", GuardTestOwnID, true}, {"random-id", GuardTestRandomID, true}, {"PING", GuardTestPing, true},
		{"platform", GuardTestDefault, true}, {"", GuardTestDefault, true}, {"handshake", 0, false},
	} {
		g, err := ParseGuardTest(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, g)
		if tc.in != "" {
			assert.Equal(t, g, must(ParseGuardTest(g.String())), "String round-trips")
		}
	}
	for p, want := range map[Platform]GuardTest{Desktop: GuardTestOwnID, Android: GuardTestOwnID, IOS: GuardTestPing} {
		assert.Equal(t, want, DefaultConfig(p).GuardTest, "libsession (iOS) tests guards naming no account, the others with their own ID (%v)", p)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
