package sim_test

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"math"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// chatter is pingPong with everything a worker hands over or keeps to itself: it observes what
// it sends and hears, calls actors on its own host as well as far ones, answers at once, after a
// pause, after Work or never, and gives calls timeouts short enough that some responses come late.
type chatter struct {
	env   actor.Env
	peers []actor.Addr
	tick  func()
}

type heard struct {
	what string
	n    int
}

func (h heard) EventName() string { return h.what }

func (c *chatter) Start(env actor.Env) {
	c.env = env
	c.tick = c.call
	env.After(time.Duration(env.Rand().IntN(20_000))*time.Microsecond, c.tick)
}

func (c *chatter) call() {
	r := c.env.Rand()
	to := c.peers[r.IntN(len(c.peers))]
	if r.IntN(8) == 0 { // the other actor of its own host
		self := c.env.Self()
		to = netip.AddrPortFrom(self.Addr(), 3-self.Port())
	}
	size := 200 + r.IntN(20_000)
	timeout := time.Duration(30+r.IntN(400)) * time.Millisecond
	c.env.Observe(heard{"sent", size})
	c.env.Call(to, actor.Request{Method: "ping", Size: size}, timeout, func(resp actor.Response, err error) {
		n := resp.Size
		if err != nil {
			n = -1
		}
		c.env.Observe(heard{"answered", n})
		c.env.After(time.Duration(1000+c.env.Rand().IntN(19_000))*time.Microsecond, c.tick)
	})
}

func (c *chatter) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	c.env.Observe(heard{"handled", req.Size})
	resp := actor.Response{Status: 200, Size: req.Size / 2}
	switch c.env.Rand().IntN(10) {
	case 0: // never
	case 1, 2:
		c.env.After(time.Duration(c.env.Rand().IntN(200))*time.Millisecond, func() { r.Respond(resp) })
	case 3:
		c.env.Work(time.Duration(c.env.Rand().IntN(5)) * time.Millisecond)
		r.Respond(resp)
	default:
		r.Respond(resp)
	}
}

// run is what a world of chatters did, as comparable values.
type run struct {
	stats     sim.Stats
	netStats  netem.Stats
	observed  string // SHA-256 of every observation, in the order the sinks heard them
	tapped    string // SHA-256 of every message, in the order the network's tap heard them
	sightings int
	now       time.Time
}

// runChatter runs the world; with tapped, the network's tap hears every message (and the
// workers then land them one at a time, in the one-worker order).
func runChatter(t *testing.T, workers, hosts int, virtual time.Duration, tapped bool) run {
	t.Helper()
	links, err := simlink.New(netem.Config{FailAfterLosses: 3})
	require.NoError(t, err)
	e, err := sim.New(sim.Config{Seed: 7, Network: links, Workers: workers})
	require.NoError(t, err)
	got, why := e.Workers()
	require.Equal(t, workers, got, "workers in use (%s)", why)

	obs, tap := sha256.New(), sha256.New()
	var out run
	e.AddSink(func(at time.Time, from actor.Addr, ev actor.Event) {
		out.sightings++
		fmt.Fprintf(obs, "%d %v %s %d\n", at.UnixNano(), from, ev.EventName(), ev.(heard).n)
	})
	if tapped {
		links.SetTap(func(from, to sim.HostID, size int, sent, arrive int64, ok bool) {
			fmt.Fprintf(tap, "%d %d %d %d %d %v\n", from, to, size, sent, arrive, ok)
		})
	}
	pick, err := netem.NewRegionPicker(links.Model().Matrix(), netem.DefaultClientWeights())
	require.NoError(t, err)
	place := e.Stream("placement")
	lossy := netem.Mobile4G
	lossy.Name, lossy.Loss = "lossy", 0.1
	profiles := []netem.Profile{netem.DataCentre, netem.Broadband, netem.Mobile4G, lossy}
	var peers []actor.Addr
	for i := range hosts {
		h, err := e.AddHost(sim.HostConfig{Name: fmt.Sprintf("h%d", i), Link: simlink.Host{
			Region: links.Model().Matrix().Name(pick.Draw(place)), Profile: profiles[i%len(profiles)]}})
		require.NoError(t, err)
		peers = append(peers, actorAt(e, h, 1))
	}
	chatters := make([]*chatter, hosts) // port 1's
	for i := range hosts {
		for port := uint16(1); port <= 2; port++ {
			c := &chatter{peers: peers}
			_, err := e.Spawn(sim.HostID(i), port, "", c)
			require.NoError(t, err)
			if port == 1 {
				chatters[i] = c
			}
		}
	}
	// A partition from the middle on: calls across it fail, and answers sent across it are lost.
	var west, east []netem.HostID
	for i := range 20 {
		west, east = append(west, netem.HostID(i)), append(east, netem.HostID(20+i))
	}
	_, err = links.Model().Partition(e.Epoch().Add(virtual/2), west, east)
	require.NoError(t, err)
	// World functions between windows: actors hang and resume (some die hung), crash, come back,
	// and are driven from outside.
	e.AfterFunc(virtual/5, func() {
		for i := 3; i < hosts; i += 5 {
			require.NoError(t, e.Pause(peers[i]))
			require.NoError(t, e.Invoke(peers[i], func() {}))
		}
	})
	e.AfterFunc(virtual/4, func() { require.NoError(t, e.Crash(peers[13])) })
	e.AfterFunc(virtual/2, func() {
		for i := 3; i < hosts; i += 5 {
			if e.Paused(peers[i]) { // not those that crashed
				require.NoError(t, e.Resume(peers[i]))
			}
		}
	})
	e.AfterFunc(virtual/3, func() {
		for i := 0; i < hosts; i += 7 {
			require.NoError(t, e.Crash(peers[i]))
		}
	})
	e.AfterFunc(2*virtual/3, func() {
		for i := 0; i < hosts; i += 7 {
			require.NoError(t, e.Replace(peers[i], &chatter{peers: peers}))
		}
		// Actors of every worker driven from one world function, in an order that is not the
		// workers': what they send and observe keeps the order of the calls.
		for i := hosts - 1; i > 0; i -= 3 {
			if i%7 != 0 && i != 13 { // not replaced, nor crashed for good
				require.NoError(t, e.Invoke(peers[i], chatters[i].call))
			}
		}
	})
	// Actors driven from outside between two runs: what they send and observe is handed over
	// when the next run starts.
	e.RunFor(3 * virtual / 4)
	for i := 1; i < hosts; i += 4 {
		if i%7 != 0 && i != 13 {
			require.NoError(t, e.Invoke(peers[i], chatters[i].call))
		}
	}
	e.RunFor(virtual - 3*virtual/4)
	out.stats = e.Stats()
	out.stats.Queued = 0 // each worker counts its own lanes of deadlines
	out.netStats = links.Model().Stats()
	out.observed, out.tapped = sum(obs), sum(tap)
	out.now = e.Now()
	return out
}

func sum(h hash.Hash) string { return fmt.Sprintf("%x", h.Sum(nil)) }

// TestWorkersGiveOneResult runs one world of chatters on 1, 2, 4 and 8 workers: the counters,
// the network's counters and the order of every observation (and, tapped, of every message)
// are the same, whether the groups of hosts land their messages at once or one at a time.
func TestWorkersGiveOneResult(t *testing.T) {
	const hosts, virtual = 200, 3 * time.Second
	for _, tapped := range []bool{true, false} {
		t.Run(fmt.Sprintf("tapped=%v", tapped), func(t *testing.T) {
			one := runChatter(t, 1, hosts, virtual, tapped)
			// The workload reaches every path a worker treats apart.
			require.NotZero(t, one.sightings)
			require.NotZero(t, one.stats.TimedOut, "timeouts")
			require.NotZero(t, one.stats.LateReplies, "late replies")
			require.NotZero(t, one.stats.Lost, "messages lost")
			require.NotZero(t, one.netStats.Retransmits, "retransmissions")
			require.NotZero(t, one.netStats.Blocked, "messages blocked by the partition")
			require.NotZero(t, one.stats.Unreachable, "calls across the partition")
			for _, n := range []int{2, 4, 8} {
				t.Run(fmt.Sprintf("workers=%d", n), func(t *testing.T) {
					assert.Equal(t, one, runChatter(t, n, hosts, virtual, tapped))
				})
			}
		})
	}
}

// TestWorkersOnTheIdealNetwork: the pingPong world on the ideal network gives the same counters
// on one worker and on four, step by step through RunFor.
func TestWorkersOnTheIdealNetwork(t *testing.T) {
	stats := func(workers int) []sim.Stats {
		e, err := sim.New(sim.Config{Seed: 3, Latency: 5 * time.Millisecond, Workers: workers})
		require.NoError(t, err)
		n, why := e.Workers()
		require.Equal(t, workers, n, why)
		var peers []actor.Addr
		for i := range 100 {
			h, err := e.AddHost(sim.HostConfig{Name: fmt.Sprintf("h%d", i)})
			require.NoError(t, err)
			peers = append(peers, actorAt(e, h, 1))
		}
		for i := range 100 {
			_, err := e.Spawn(sim.HostID(i), 1, "", &pingPong{peers: peers})
			require.NoError(t, err)
		}
		var out []sim.Stats
		for range 10 {
			e.RunFor(37 * time.Millisecond)
			s := e.Stats()
			s.Queued = 0
			out = append(out, s)
		}
		return out
	}
	assert.Equal(t, stats(1), stats(4))
}

func TestWorkersNeedAMinimumLatency(t *testing.T) {
	_, err := sim.New(sim.Config{Workers: -1})
	require.ErrorContains(t, err, "-1 workers")

	e, err := sim.New(sim.Config{Workers: 4}) // the ideal network with no latency
	require.NoError(t, err)
	n, why := e.Workers()
	assert.Equal(t, 1, n)
	assert.Contains(t, why, "no minimum latency")

	links, err := simlink.New(netem.Config{PathJitter: 0.1})
	require.NoError(t, err)
	e, err = sim.New(sim.Config{Network: links, Workers: 4})
	require.NoError(t, err)
	n, _ = e.Workers()
	assert.Equal(t, 4, n, "path jitter has a floor (netem.Network.MinLatency)")
}

// TestWorkersWindow: workers run apart by the network's minimum latency, and one worker has no
// window.
func TestWorkersWindow(t *testing.T) {
	jittered, err := simlink.New(netem.Config{PathJitter: 0.1})
	require.NoError(t, err)
	tests := []struct {
		name    string
		cfg     sim.Config
		workers int
		window  time.Duration
	}{
		{"ideal network", sim.Config{Latency: 5 * time.Millisecond, Workers: 2}, 2, 5 * time.Millisecond},
		{"jittered netem", sim.Config{Network: jittered, Workers: 3}, 3, jittered.MinLatency()},
		{"one worker asked for", sim.Config{Latency: 5 * time.Millisecond, Workers: 1}, 1, 0},
		{"no minimum latency", sim.Config{Workers: 4}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := sim.New(tt.cfg)
			require.NoError(t, err)
			n, why := e.Workers()
			require.Equal(t, tt.workers, n, why)
			assert.Equal(t, tt.window, e.Window())
		})
	}
	assert.Equal(t, 500*time.Microsecond, jittered.MinLatency(), "half the same-region one-way delay of the default matrix")
}

// TestWorkersRefuseWhatTheyCannotOrder: a world function that would fall inside a window the
// workers have run, or one scheduled from an actor's callback while they run, stops the run
// with a message rather than giving another result than one worker would.
func TestWorkersRefuseWhatTheyCannotOrder(t *testing.T) {
	build := func(t *testing.T, a actor.Actor) *sim.Engine {
		e, err := sim.New(sim.Config{Seed: 1, Latency: 5 * time.Millisecond, Workers: 2})
		require.NoError(t, err)
		for i := range 2 {
			h, err := e.AddHost(sim.HostConfig{})
			require.NoError(t, err)
			_, err = e.Spawn(h, 1, fmt.Sprintf("a%d", i), a)
			require.NoError(t, err)
		}
		return e
	}
	t.Run("a sink acting at once", func(t *testing.T) {
		e := build(t, &observer{})
		e.AddSink(func(at time.Time, _ actor.Addr, _ actor.Event) { e.At(at, func() {}) })
		assert.Contains(t, fmt.Sprint(panicOf(func() { e.RunFor(time.Second) })), "inside a window the workers have run")
	})
	t.Run("an actor scheduling a world function", func(t *testing.T) {
		var e *sim.Engine
		e = build(t, &observer{world: func() { e.AfterFunc(time.Second, func() {}) }})
		assert.Contains(t, fmt.Sprint(panicOf(func() { e.RunFor(time.Second) })), "called from an actor's callback while workers run")
	})
}

// observer observes one event 10 ms after it starts, and calls world then if set.
type observer struct{ world func() }

func (o *observer) Start(env actor.Env) {
	env.After(10*time.Millisecond, func() {
		env.Observe(heard{"tick", 1})
		if o.world != nil {
			o.world()
		}
	})
}

func (o *observer) Handle(actor.Addr, actor.Request, actor.Responder) {}

func panicOf(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// TestWorkersRunToTheEndOfTime: Run on several workers reaches events at the last instant
// virtual time holds, where a window's end would overflow.
func TestWorkersRunToTheEndOfTime(t *testing.T) {
	e, err := sim.New(sim.Config{Latency: time.Millisecond, Workers: 2})
	require.NoError(t, err)
	var ran []string
	var actors []*sleeper
	var addrs []actor.Addr
	for range 2 {
		h, err := e.AddHost(sim.HostConfig{})
		require.NoError(t, err)
		s := &sleeper{}
		addr, err := e.Spawn(h, 1, "", s)
		require.NoError(t, err)
		actors, addrs = append(actors, s), append(addrs, addr)
	}
	e.At(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), func() {
		ran = append(ran, "world, clamped to the end of time")
		for i, s := range actors {
			require.NoError(t, e.Invoke(addrs[i], func() { s.env.After(0, func() { s.woke = s.env.Now() }) }))
		}
	})
	e.Run()
	assert.Equal(t, []string{"world, clamped to the end of time"}, ran)
	for _, s := range actors { // each on its own worker, at the last instant
		assert.Equal(t, time.Unix(0, math.MaxInt64).UTC(), s.woke)
	}
}

// sleeper does nothing by itself; woke is when a timer set from outside fired.
type sleeper struct {
	env  actor.Env
	woke time.Time
}

func (s *sleeper) Start(env actor.Env)                               { s.env = env }
func (s *sleeper) Handle(actor.Addr, actor.Request, actor.Responder) {}

// TestWorkersKeepActorsToWorldFunctions: a sink that drives an actor stops the run.
func TestWorkersKeepActorsToWorldFunctions(t *testing.T) {
	e, err := sim.New(sim.Config{Latency: time.Millisecond, Workers: 2})
	require.NoError(t, err)
	var addrs []actor.Addr
	for range 2 {
		h, err := e.AddHost(sim.HostConfig{})
		require.NoError(t, err)
		addr, err := e.Spawn(h, 1, "", &observer{})
		require.NoError(t, err)
		addrs = append(addrs, addr)
	}
	e.AddSink(func(time.Time, actor.Addr, actor.Event) { _ = e.Invoke(addrs[1], func() {}) })
	assert.Contains(t, fmt.Sprint(panicOf(func() { e.RunFor(time.Second) })), "Invoke called from an actor's callback or a sink")
}

// TestWorkersRaiseAPanicAndStop: a callback that panics on whichever worker runs it stops the
// run with its value on the goroutine that called Run, and the workers' goroutines end.
func TestWorkersRaiseAPanicAndStop(t *testing.T) {
	for _, workers := range []int{2, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			base := runtime.NumGoroutine()
			e, err := sim.New(sim.Config{Seed: 5, Latency: time.Millisecond, Workers: workers})
			require.NoError(t, err)
			var peers []actor.Addr
			for i := range 40 {
				h, err := e.AddHost(sim.HostConfig{})
				require.NoError(t, err)
				peers = append(peers, actorAt(e, h, 1))
				_, err = e.Spawn(h, 2, "", &observer{world: func() {
					if i == 27 {
						panic("boom")
					}
				}})
				require.NoError(t, err)
			}
			for i := range 40 {
				_, err := e.Spawn(sim.HostID(i), 1, "", &pingPong{peers: peers})
				require.NoError(t, err)
			}
			e.RunFor(5 * time.Millisecond) // the workers have run windows before
			assert.Equal(t, "boom", panicOf(func() { e.RunFor(time.Second) }))
			// Polled here: assert.Eventually runs its condition on goroutines of its own.
			left := runtime.NumGoroutine()
			for wait := time.Now().Add(10 * time.Second); left > base && time.Now().Before(wait); left = runtime.NumGoroutine() {
				time.Sleep(10 * time.Millisecond)
			}
			assert.LessOrEqual(t, left, base, "goroutines left running")
		})
	}
}
