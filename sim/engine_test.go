package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probe is a scriptable actor.
type probe struct {
	env    actor.Env
	start  func(p *probe)
	handle func(p *probe, from actor.Addr, req actor.Request, r actor.Responder)
	stop   func(p *probe)
}

func (p *probe) Start(env actor.Env) {
	p.env = env
	if p.start != nil {
		p.start(p)
	}
}

func (p *probe) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	if p.handle != nil {
		p.handle(p, from, req, r)
	}
}

func (p *probe) Stop() {
	if p.stop != nil {
		p.stop(p)
	}
}

func respondOK(p *probe, _ actor.Addr, req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 200, Body: req.Body, Size: 10})
}

func newEngine(t testing.TB, cfg Config) *Engine {
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

func host(t testing.TB, e *Engine, c HostConfig) HostID {
	h, err := e.AddHost(c)
	require.NoError(t, err)
	return h
}

func spawn(t testing.TB, e *Engine, h HostID, port uint16, a actor.Actor) actor.Addr {
	addr, err := e.Spawn(h, port, "", a)
	require.NoError(t, err)
	return addr
}

// since is virtual time since the epoch.
func since(e *Engine, t time.Time) time.Duration { return t.Sub(e.Epoch()) }

// testNet is a link model for the engine's own tests: every message takes delay, hosts in lossy
// lose everything they send, and from cutAt on a partition separates the two hosts of cut. rtt
// differs from twice delay, so that a test can tell which one the engine used.
type testNet struct {
	delay, rtt time.Duration
	lossy      map[HostID]bool
	cut        [2]HostID
	cutAt      time.Time // zero: never
	links      []any     // HostConfig.Link of each host added
}

var _ Network = (*testNet)(nil)

// errRefused is what testNet says of a host whose link is "refuse".
var errRefused = errors.New("link refused")

func (n *testNet) AddHost(id HostID, link any) error {
	if link == "refuse" {
		return errRefused
	}
	if int(id) != len(n.links) {
		return fmt.Errorf("host %d added after %d hosts", id, len(n.links))
	}
	n.links = append(n.links, link)
	return nil
}

func (n *testNet) Transit(from, to HostID, _ int, at int64, r *rand.Rand) (int64, bool) {
	if r == nil || n.lossy[from] || !n.Reachable(from, to, at) {
		return 0, false
	}
	return at + int64(n.delay), true
}

func (n *testNet) Reachable(from, to HostID, at int64) bool {
	if n.cutAt.IsZero() || at < n.cutAt.UnixNano() {
		return true
	}
	return [2]HostID{from, to} != n.cut && [2]HostID{to, from} != n.cut
}

func (n *testNet) RTT(HostID, HostID) time.Duration { return n.rtt }

// MinLatency is none: this model delays a message to its own host too, which workers cannot
// wait for.
func (n *testNet) MinLatency() time.Duration { return 0 }

// Depart takes the whole Transit: this model keeps no per-receiver state for Land.
func (n *testNet) Depart(from, to HostID, size int, at int64, r *rand.Rand) Leg {
	arrive, ok := n.Transit(from, to, size, at, r)
	leg := Leg{From: from, To: to, Size: size, Sent: at, Model: [6]int64{arrive}}
	if ok {
		leg.Model[1] = 1
	}
	return leg
}

func (n *testNet) LandApart(int) bool { return true }

func (n *testNet) Land(leg *Leg, _ int) (int64, bool) { return leg.Model[0], leg.Model[1] == 1 }

func TestEventOrderAndTies(t *testing.T) {
	e := newEngine(t, Config{})
	var got []string
	log := func(s string) func() { return func() { got = append(got, s) } }
	e.AfterFunc(2*time.Second, log("b@2s"))
	e.AfterFunc(time.Second, log("a@1s"))
	e.AfterFunc(2*time.Second, log("c@2s")) // same time: after b, which was scheduled first
	e.AfterFunc(time.Second, func() {
		got = append(got, "d@1s")
		e.AfterFunc(0, log("f@1s")) // scheduled later for the same instant: runs after e
	})
	e.AfterFunc(time.Second, log("e@1s"))
	e.At(e.Epoch().Add(-time.Hour), log("past@0")) // the past runs now
	e.Run()
	assert.Equal(t, []string{"past@0", "a@1s", "d@1s", "e@1s", "f@1s", "b@2s", "c@2s"}, got)
	assert.Equal(t, 2*time.Second, since(e, e.Now()))
	assert.Equal(t, uint64(7), e.Stats().Events)
}

func TestRunUntilStopsAtTime(t *testing.T) {
	e := newEngine(t, Config{})
	ran := 0
	e.AfterFunc(time.Second, func() { ran++ })
	e.AfterFunc(3*time.Second, func() { ran++ })
	e.RunFor(2 * time.Second)
	assert.Equal(t, 1, ran)
	assert.Equal(t, 2*time.Second, since(e, e.Now()), "the clock rests at the requested time")
	e.RunUntil(e.Epoch().Add(3 * time.Second))
	assert.Equal(t, 2, ran, "events exactly at the end time run")
	assert.False(t, e.Step(), "queue empty")
}

func TestTimerStop(t *testing.T) {
	tests := []struct {
		name      string
		stopAt    time.Duration // when Stop is called (-1: never)
		wantStop  bool
		wantFired bool
	}{
		{"stopped before it fires", 500 * time.Millisecond, true, false},
		{"stopped after it fired", 2 * time.Second, false, true},
		{"never stopped", -1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{})
			h := host(t, e, HostConfig{})
			fired := false
			var tm actor.Timer
			spawn(t, e, h, 1, &probe{start: func(p *probe) {
				tm = p.env.After(time.Second, func() { fired = true })
			}})
			var stopped bool
			if tt.stopAt >= 0 {
				e.AfterFunc(tt.stopAt, func() { stopped = tm.Stop() })
			}
			e.Run()
			assert.Equal(t, tt.wantStop, stopped)
			assert.Equal(t, tt.wantFired, fired)
			assert.False(t, tm.Stop(), "a second Stop does nothing")
		})
	}
	assert.False(t, actor.Timer{}.Stop(), "zero timer")

	e := newEngine(t, Config{})
	fired := false
	tm := e.AfterFunc(time.Second, func() { fired = true })
	assert.True(t, tm.Stop())
	e.Run()
	assert.False(t, fired, "world timers cancel too")
	assert.False(t, e.StopTimer(12345), "unknown ids are refused")
}

func TestStoppedTimersAreSwept(t *testing.T) {
	e := newEngine(t, Config{})
	var timers []actor.Timer
	for i := range 10_000 {
		timers = append(timers, e.AfterFunc(time.Duration(i+1)*time.Millisecond, func() { t.Error("cancelled timer ran") }))
	}
	keep := 0
	e.AfterFunc(time.Hour, func() { keep++ })
	for _, tm := range timers {
		require.True(t, tm.Stop())
	}
	assert.Less(t, e.Stats().Queued, 2_000, "cancelled entries are swept from the queue")
	e.Run()
	assert.Equal(t, 1, keep)
	assert.Equal(t, uint64(1), e.Stats().Events)
}

func TestCallRoundTrip(t *testing.T) {
	e := newEngine(t, Config{Latency: 10 * time.Millisecond})
	h1 := host(t, e, HostConfig{})
	h2 := host(t, e, HostConfig{})
	var from actor.Addr
	server := spawn(t, e, h2, 80, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
		from = f
		assert.Equal(t, 10*time.Millisecond, since(e, p.env.Now()))
		respondOK(p, f, req, r)
	}})
	var got []actor.Response
	var at time.Duration
	client := spawn(t, e, h1, 80, &probe{start: func(p *probe) {
		p.env.Call(server, actor.Request{Method: "m", Body: "x", Size: 5}, time.Second, func(resp actor.Response, err error) {
			require.NoError(t, err)
			got = append(got, resp)
			at = since(e, p.env.Now())
		})
	}})
	e.Run()
	require.Len(t, got, 1, "done runs exactly once")
	assert.Equal(t, actor.Response{Status: 200, Body: "x", Size: 10}, got[0])
	assert.Equal(t, 20*time.Millisecond, at)
	assert.Equal(t, client, from, "Handle sees the caller's address")
	s := e.Stats()
	assert.Equal(t, uint64(1), s.Calls)
	assert.Equal(t, uint64(1), s.Responses)
	assert.Equal(t, 0, s.Queued, "the superseded timeout was discarded")
}

func TestCallTimeoutAndLateReply(t *testing.T) {
	tests := []struct {
		name       string
		replyAfter time.Duration // callee answers this long after receiving; -1 never
		timeout    time.Duration
		wantErr    error
		wantLate   uint64
	}{
		{"in time", 100 * time.Millisecond, time.Second, nil, 0},
		{"late reply is dropped and counted", 2 * time.Second, time.Second, actor.ErrTimeout, 1},
		{"no reply", -1, time.Second, actor.ErrTimeout, 0},
		{"default timeout", -1, 0, actor.ErrTimeout, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{Latency: 10 * time.Millisecond, DefaultTimeout: 7 * time.Second})
			h := host(t, e, HostConfig{})
			server := spawn(t, e, h, 1, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
				if tt.replyAfter >= 0 {
					p.env.After(tt.replyAfter, func() { r.Respond(actor.Response{Status: 200}) })
				}
			}})
			calls := 0
			var gotErr error
			var at time.Duration
			spawn(t, e, h, 2, &probe{start: func(p *probe) {
				p.env.Call(server, actor.Request{Method: "slow"}, tt.timeout, func(_ actor.Response, err error) {
					calls++
					gotErr = err
					at = since(e, p.env.Now())
				})
			}})
			e.Run()
			assert.Equal(t, 1, calls, "done runs exactly once")
			if tt.wantErr == nil {
				assert.NoError(t, gotErr)
				return
			}
			require.ErrorIs(t, gotErr, tt.wantErr)
			var ce *actor.CallError
			require.ErrorAs(t, gotErr, &ce)
			assert.Equal(t, "slow", ce.Method)
			assert.Equal(t, server, ce.To)
			want := tt.timeout
			if want == 0 {
				want = 7 * time.Second
			}
			assert.Equal(t, want, at, "the timeout fires at the deadline")
			s := e.Stats()
			assert.Equal(t, tt.wantLate, s.LateReplies)
			assert.Equal(t, uint64(1), s.TimedOut)
		})
	}
}

func TestCallUnreachable(t *testing.T) {
	network := &testNet{delay: 10 * time.Millisecond, rtt: 25 * time.Millisecond}
	e := newEngine(t, Config{Network: network})
	a := host(t, e, HostConfig{})
	b := host(t, e, HostConfig{})
	c := host(t, e, HostConfig{})
	server := spawn(t, e, b, 1, &probe{handle: respondOK})
	crashed := spawn(t, e, c, 1, &probe{handle: respondOK})
	require.NoError(t, e.Crash(crashed))
	network.cut, network.cutAt = [2]HostID{a, b}, e.Epoch().Add(time.Minute)
	rtt := network.rtt

	tests := []struct {
		name    string
		to      actor.Addr
		at      time.Duration
		timeout time.Duration
		after   time.Duration
		reason  string
	}{
		{"unknown IP fails at once", netip.MustParseAddrPort("192.0.2.1:5"), 0, time.Second, 0, "nothing listens"},
		{"no actor on the port: refused after a round trip", netip.AddrPortFrom(e.HostIP(b), 9), 0, time.Second, rtt, "nothing listens"},
		{"refusal never later than the timeout", netip.AddrPortFrom(e.HostIP(b), 9), 0, time.Millisecond, time.Millisecond, "nothing listens"},
		{"crashed actor", crashed, 0, time.Second, rtt, "nothing listens"},
		{"partitioned", server, 2 * time.Minute, time.Second, rtt, "partition"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotErr error
			var took time.Duration
			calls := 0
			e.RunUntil(e.Epoch().Add(tt.at))
			spawn(t, e, a, uint16(100+i), &probe{start: func(p *probe) {
				start := p.env.Now()
				p.env.Call(tt.to, actor.Request{Method: "x"}, tt.timeout, func(_ actor.Response, err error) {
					calls++
					gotErr = err
					took = p.env.Now().Sub(start)
				})
				assert.Zero(t, calls, "done never runs inside Call")
			}})
			e.RunFor(time.Hour)
			require.Equal(t, 1, calls)
			assert.ErrorIs(t, gotErr, actor.ErrUnreachable)
			assert.ErrorContains(t, gotErr, tt.reason)
			assert.Equal(t, tt.after, took)
		})
	}
	assert.Equal(t, uint64(len(tests)), e.Stats().Unreachable)
}

func TestCPUQueueing(t *testing.T) {
	tests := []struct {
		name  string
		cores int
		jobs  int
		want  []time.Duration // response times at the caller, sorted
	}{
		// Zero latency: what the caller sees is the callee's CPU queue.
		{"2 cores, 3 jobs", 2, 3, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}},
		{"1 core, 3 jobs", 1, 3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}},
		{"4 cores, 3 jobs", 4, 3, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{})
			srv := host(t, e, HostConfig{Cores: tt.cores})
			cli := host(t, e, HostConfig{})
			server := spawn(t, e, srv, 1, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
				before := p.env.Now()
				p.env.Work(10 * time.Millisecond)
				assert.True(t, p.env.Now().Sub(before) >= 10*time.Millisecond, "Now moves past the work")
				respondOK(p, f, req, r)
			}})
			var got []time.Duration
			spawn(t, e, cli, 1, &probe{start: func(p *probe) {
				for range tt.jobs {
					p.env.Call(server, actor.Request{}, time.Second, func(_ actor.Response, err error) {
						require.NoError(t, err)
						got = append(got, since(e, p.env.Now()))
					})
				}
			}})
			e.Run()
			slices.Sort(got)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, time.Duration(tt.jobs)*10*time.Millisecond, e.HostBusy(srv))
			assert.Zero(t, e.HostBusy(cli))
		})
	}
}

func TestWorkDelaysLaterActions(t *testing.T) {
	e := newEngine(t, Config{})
	h := host(t, e, HostConfig{})
	var fired time.Duration
	spawn(t, e, h, 1, &probe{start: func(p *probe) {
		p.env.Work(-time.Second) // ignored
		p.env.Work(50 * time.Millisecond)
		p.env.After(time.Second, func() { fired = since(e, p.env.Now()) })
	}})
	e.Run()
	assert.Equal(t, 1050*time.Millisecond, fired, "a timer set after Work counts from the work's end")
}

func TestCrash(t *testing.T) {
	e := newEngine(t, Config{Latency: 10 * time.Millisecond})
	h := host(t, e, HostConfig{})
	victimTimer := false
	var victimEnv actor.Env
	victimDone := false
	victim := spawn(t, e, h, 1, &probe{
		start: func(p *probe) {
			victimEnv = p.env
			p.env.After(time.Second, func() { victimTimer = true })
		},
		handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
			p.env.After(500*time.Millisecond, func() { respondOK(p, f, req, r) })
		},
	})
	other := spawn(t, e, h, 2, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
		p.env.After(100*time.Millisecond, func() { respondOK(p, f, req, r) })
	}})
	// The victim calls out; the reply would come after the crash.
	victimEnv.Call(other, actor.Request{}, time.Second, func(actor.Response, error) { victimDone = true })
	var callerErr error
	spawn(t, e, h, 3, &probe{start: func(p *probe) {
		p.env.Call(victim, actor.Request{}, 2*time.Second, func(_ actor.Response, err error) { callerErr = err })
	}})
	e.AfterFunc(50*time.Millisecond, func() { require.NoError(t, e.Crash(victim)) })
	e.Run()
	assert.False(t, victimTimer, "pending timers are dropped")
	assert.False(t, victimDone, "calls it made never call back")
	assert.ErrorIs(t, callerErr, actor.ErrTimeout, "calls to it time out")
	assert.False(t, e.Alive(victim))
	assert.Error(t, e.Crash(victim), "crashing twice")
	assert.Error(t, e.Stop(victim))
	victimEnv.Call(other, actor.Request{}, time.Second, func(actor.Response, error) { victimDone = true })
	victimEnv.After(0, func() { victimTimer = true })
	e.Run()
	assert.False(t, victimDone || victimTimer, "a dead actor's Env does nothing")
}

// TestCallsSeeLifeAndDeath follows an address through its actors' lives: a call made while no
// actor runs there fails as unreachable, one made while one runs is answered. Calls learn that
// from the address table's copy of each actor's life, which must follow the actor's own.
func TestCallsSeeLifeAndDeath(t *testing.T) {
	for _, ip := range []string{"10.1.0.1", "fd00::1"} {
		t.Run(ip, func(t *testing.T) {
			e := newEngine(t, Config{Latency: time.Millisecond})
			h := host(t, e, HostConfig{IP: netip.MustParseAddr(ip)})
			caller := &probe{}
			spawn(t, e, host(t, e, HostConfig{}), 1, caller)
			addr := netip.AddrPortFrom(netip.MustParseAddr(ip), 7)
			mk := func() *probe { return &probe{handle: respondOK} }
			steps := []struct {
				name  string
				do    func() error
				alive bool
			}{
				{"spawn", func() error { _, err := e.Spawn(h, 7, "", mk()); return err }, true},
				{"crash", func() error { return e.Crash(addr) }, false},
				{"spawn again", func() error { _, err := e.Spawn(h, 7, "", mk()); return err }, true},
				{"stop", func() error { return e.Stop(addr) }, false},
				{"replace a stopped actor", func() error { return e.Replace(addr, mk()) }, true},
				{"replace a running one", func() error { return e.Replace(addr, mk()) }, true},
				{"crash the replacement", func() error { return e.Crash(addr) }, false},
			}
			for _, st := range steps {
				require.NoError(t, st.do(), st.name)
				callee, calleeHost, alive := e.callee(addr)
				require.Equal(t, st.alive, alive, st.name)
				if alive {
					assert.Same(t, e.actorAt(addr), callee, st.name)
					assert.Equal(t, h, calleeHost, st.name)
				}
				var got error = errors.New("not called")
				require.NoError(t, e.Invoke(caller.env.Self(), func() {
					caller.env.Call(addr, actor.Request{}, time.Second, func(_ actor.Response, err error) { got = err })
				}))
				e.Run()
				if st.alive {
					assert.NoError(t, got, st.name)
				} else {
					assert.ErrorIs(t, got, actor.ErrUnreachable, st.name)
				}
			}
		})
	}
}

func TestStopAndReplace(t *testing.T) {
	e := newEngine(t, Config{Latency: time.Millisecond})
	h := host(t, e, HostConfig{})
	var stopped bool
	var draws []uint64
	mk := func() *probe {
		return &probe{
			start:  func(p *probe) { draws = append(draws, p.env.Rand().Uint64()) },
			handle: respondOK,
			stop:   func(p *probe) { stopped = true },
		}
	}
	addr, err := e.Spawn(h, 7, "node-7", mk())
	require.NoError(t, err)
	_, err = e.Spawn(h, 7, "again", mk())
	assert.ErrorContains(t, err, "already runs", "one live actor per address")

	require.NoError(t, e.Stop(addr))
	assert.True(t, stopped, "graceful stop calls Stop")
	assert.False(t, e.Alive(addr))

	require.NoError(t, e.Replace(addr, mk()))
	assert.True(t, e.Alive(addr))
	require.NoError(t, e.Replace(addr, mk()), "replacing a running actor crashes it first")
	require.Len(t, draws, 3)
	assert.NotEqual(t, draws[0], draws[1], "each incarnation has its own stream")
	assert.NotEqual(t, draws[1], draws[2])

	var got error = errors.New("not called")
	spawn(t, e, h, 8, &probe{start: func(p *probe) {
		p.env.Call(addr, actor.Request{}, time.Second, func(_ actor.Response, err error) { got = err })
	}})
	e.Run()
	assert.NoError(t, got, "the replacement answers")
	assert.ErrorContains(t, e.Replace(netip.MustParseAddrPort("10.9.9.9:1"), mk()), "no actor was ever spawned")
}

func TestRandomStreams(t *testing.T) {
	draw := func(seed uint64, names ...string) map[string]uint64 {
		e := newEngine(t, Config{Seed: seed})
		h := host(t, e, HostConfig{})
		out := map[string]uint64{}
		for i, n := range names {
			_, err := e.Spawn(h, uint16(i+1), n, &probe{start: func(p *probe) { out[n] = p.env.Rand().Uint64() }})
			require.NoError(t, err)
		}
		return out
	}
	base := draw(1, "alice", "bob")
	more := draw(1, "carol", "bob", "alice", "dave")
	assert.Equal(t, base["alice"], more["alice"], "adding actors does not change what others draw")
	assert.Equal(t, base["bob"], more["bob"])
	assert.NotEqual(t, base["alice"], base["bob"])
	other := draw(2, "alice")
	assert.NotEqual(t, base["alice"], other["alice"], "another seed, another stream")

	e := newEngine(t, Config{Seed: 1})
	assert.Equal(t, e.Stream("placement").Uint64(), newEngine(t, Config{Seed: 1}).Stream("placement").Uint64())
	assert.NotEqual(t, e.Stream("alice").Uint64(), base["alice"], "world streams are apart from actor streams")
}

type pingEvent struct{ n int }

func (pingEvent) EventName() string { return "ping" }

func TestObserveSinks(t *testing.T) {
	e := newEngine(t, Config{})
	h := host(t, e, HostConfig{})
	type seen struct {
		at   time.Duration
		from actor.Addr
		ev   actor.Event
	}
	var got []seen
	e.AddSink(func(at time.Time, from actor.Addr, ev actor.Event) { got = append(got, seen{since(e, at), from, ev}) })
	e.AddSink(nil)
	addr := spawn(t, e, h, 1, &probe{start: func(p *probe) {
		p.env.Observe(pingEvent{1})
		p.env.Work(time.Second)
		p.env.Observe(pingEvent{2})
	}})
	assert.Equal(t, []seen{{0, addr, pingEvent{1}}, {time.Second, addr, pingEvent{2}}}, got)
}

func TestProgressHook(t *testing.T) {
	var calls []Progress
	e := newEngine(t, Config{Progress: func(p Progress) { calls = append(calls, p) }, ProgressEvents: 10, ProgressInterval: time.Hour})
	for i := range 35 {
		e.AfterFunc(time.Duration(i)*time.Millisecond, func() {})
	}
	e.Run()
	require.Len(t, calls, 3, "every 10 events")
	assert.Equal(t, uint64(10), calls[0].Events)
	assert.Equal(t, 9*time.Millisecond, calls[0].Elapsed)

	calls = nil
	e = newEngine(t, Config{Progress: func(p Progress) { calls = append(calls, p) }})
	for i := range 5 {
		e.AfterFunc(time.Duration(i)*time.Second, func() {})
	}
	e.Run()
	assert.Len(t, calls, 4, "every virtual second by default")
}

func TestRespondRules(t *testing.T) {
	e := newEngine(t, Config{Latency: time.Millisecond})
	h := host(t, e, HostConfig{})
	var kept actor.Responder
	server := spawn(t, e, h, 1, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
		r.Respond(actor.Response{Status: 200})
		r.Respond(actor.Response{Status: 500}) // ignored
		kept = r
	}})
	var got []int
	spawn(t, e, h, 2, &probe{start: func(p *probe) {
		p.env.Call(server, actor.Request{}, time.Second, func(resp actor.Response, err error) {
			require.NoError(t, err)
			got = append(got, resp.Status)
		})
	}})
	e.Run()
	assert.Equal(t, []int{200}, got)
	kept.Respond(actor.Response{Status: 418}) // outside the callee's callbacks: ignored
	e.Run()
	assert.Equal(t, []int{200}, got)
}

// Each message of a call crosses the link model once; one it loses leaves the caller to time out.
func TestNetworkTransit(t *testing.T) {
	tests := []struct {
		name     string
		lossy    map[HostID]bool // by index: 0 the caller's host, 1 the server's
		wantErr  error
		wantTook time.Duration
		wantLost uint64
	}{
		{"request and response delivered", nil, nil, 2 * 10 * time.Millisecond, 0},
		{"request lost", map[HostID]bool{0: true}, actor.ErrTimeout, 3 * time.Second, 1},
		{"response lost", map[HostID]bool{1: true}, actor.ErrTimeout, 3 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			network := &testNet{delay: 10 * time.Millisecond, rtt: time.Millisecond, lossy: tt.lossy}
			e := newEngine(t, Config{Network: network, Latency: time.Hour})
			a := host(t, e, HostConfig{})
			b := host(t, e, HostConfig{})
			server := spawn(t, e, b, 1, &probe{handle: respondOK})
			var gotErr error
			var took time.Duration
			calls := 0
			spawn(t, e, a, 1, &probe{start: func(p *probe) {
				p.env.Call(server, actor.Request{Size: 100}, 3*time.Second, func(_ actor.Response, err error) {
					calls++
					gotErr, took = err, since(e, p.env.Now())
				})
			}})
			e.Run()
			require.Equal(t, 1, calls)
			if tt.wantErr == nil {
				assert.NoError(t, gotErr)
			} else {
				assert.ErrorIs(t, gotErr, tt.wantErr, "a message the network lost looks like a timeout")
			}
			assert.Equal(t, tt.wantTook, took, "the network's delay, not Config.Latency")
			assert.Equal(t, tt.wantLost, e.Stats().Lost)
		})
	}
}

// The link model hears of every host in order, with its link as given, and a host it refuses
// leaves no trace in the engine.
func TestNetworkAddHost(t *testing.T) {
	network := &testNet{}
	e := newEngine(t, Config{Network: network})
	_, err := e.AddHost(HostConfig{Name: "x", Link: "refuse"})
	require.ErrorIs(t, err, errRefused)
	assert.ErrorContains(t, err, "host x")
	first := host(t, e, HostConfig{Link: "first"})
	second := host(t, e, HostConfig{Link: 2, IP: netip.MustParseAddr("10.9.9.9")})
	third := host(t, e, HostConfig{})

	assert.Equal(t, []any{"first", 2, nil}, network.links)
	assert.Equal(t, []HostID{0, 1, 2}, []HostID{first, second, third})
	assert.Equal(t, 3, e.Hosts())
	assert.Equal(t, "10.0.0.1", e.HostIP(first).String(), "the refused host took no address")
	assert.Equal(t, "10.0.0.2", e.HostIP(third).String())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative latency", Config{Latency: -1}, "negative latency"},
		{"negative timeout", Config{DefaultTimeout: -1}, "timeout"},
		{"too many cores", Config{Cores: 1 << 20}, "cores"},
		{"epoch out of range", Config{Epoch: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, "epoch"},
		{"negative progress interval", Config{ProgressInterval: -time.Second}, "progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestHostAndSpawnErrors(t *testing.T) {
	e := newEngine(t, Config{Network: &testNet{}})
	_, err := e.AddHost(HostConfig{Name: "x", Cores: -1})
	assert.ErrorContains(t, err, "cores")
	h := host(t, e, HostConfig{IP: netip.MustParseAddr("10.0.0.2")})
	_, err = e.AddHost(HostConfig{IP: netip.MustParseAddr("10.0.0.2")})
	assert.ErrorContains(t, err, "already taken")
	auto := host(t, e, HostConfig{})
	auto2 := host(t, e, HostConfig{})
	assert.Equal(t, "10.0.0.1", e.HostIP(auto).String())
	assert.Equal(t, "10.0.0.3", e.HostIP(auto2).String(), "automatic addresses skip taken ones")
	got, ok := e.HostByIP(netip.MustParseAddr("10.0.0.3"))
	assert.True(t, ok)
	assert.Equal(t, auto2, got)
	assert.Equal(t, 3, e.Hosts())

	_, err = e.Spawn(99, 1, "", &probe{})
	assert.ErrorContains(t, err, "unknown host 99")
	_, err = e.Spawn(h, 1, "", nil)
	assert.ErrorContains(t, err, "nil actor")
	_, err = e.Spawn(h, 0, "", &probe{})
	assert.ErrorContains(t, err, "port 0")
	assert.False(t, e.HostIP(99).IsValid())
	assert.Zero(t, e.HostBusy(99))
}

func TestQueueOrder(t *testing.T) {
	spans := []struct {
		name string
		max  int64 // events are due up to this far after the last popped one
	}{
		{"within one bucket", 1 << bucketShift},
		{"within one block", blockSize << bucketShift},
		{"within the coarse wheel", coarseSize << blockShift},
		{"beyond the coarse wheel", 4 * coarseSize << blockShift},
	}
	for _, sp := range spans {
		t.Run(sp.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			start := DefaultEpoch.UnixNano()
			q := &eventQueue{}
			q.start(start)
			var want []event // kept sorted
			now, seq := start, uint64(0)
			for i := range 20_000 {
				seq++
				at := now
				switch r.IntN(4) {
				case 0: // due now: lands in the bucket being drained, or before it after a jump
				case 1:
					at += r.Int64N(64) // ties and near-ties
				default:
					at += r.Int64N(sp.max)
				}
				ev := event{at: at, seq: seq}
				q.push(ev)
				j, _ := slices.BinarySearchFunc(want, ev, compareEvents)
				want = slices.Insert(want, j, ev)
				if r.IntN(3) == 0 || i%1000 == 999 {
					if r.IntN(2) == 0 {
						require.Equal(t, want[0], *q.peek(), "peek")
					}
					got := q.pop()
					require.Equal(t, want[0], got)
					now = got.at
					want = want[1:]
				}
				require.Equal(t, len(want), q.len())
			}
			q.filter(func(ev *event) bool { return ev.seq%2 == 0 })
			want = slices.DeleteFunc(want, func(ev event) bool { return ev.seq%2 != 0 })
			require.Equal(t, len(want), q.len())
			for _, w := range want {
				require.Equal(t, w, q.pop())
			}
			assert.Zero(t, q.len())
		})
	}
}

// bucketEvents is n events due within one bucket, as a world of many actors fills one: times
// on a grid of grid ns (pingPong's timers and latency are whole microseconds, so many events
// tie in time) and keys of random actors.
func bucketEvents(r *rand.Rand, n int, grid int64) []event {
	evs := make([]event, n)
	for i := range evs {
		evs[i] = event{at: r.Int64N(1<<bucketShift) / grid * grid, seq: r.Uint64N(1<<20)<<originBits | r.Uint64N(1<<10)}
	}
	return evs
}

func TestSortEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 24, 25, 26, 100, 240, 1000, 5000} {
		for _, grid := range []int64{1, 1000, 1 << bucketShift} {
			t.Run(fmt.Sprintf("%d events on a %d ns grid", n, grid), func(t *testing.T) {
				inputs := map[string][]event{"random": bucketEvents(r, n, grid)}
				sorted := slices.Clone(inputs["random"])
				slices.SortFunc(sorted, compareEvents)
				inputs["sorted"] = slices.Clone(sorted)
				inputs["reversed"] = slices.Clone(sorted)
				slices.Reverse(inputs["reversed"])
				for name, in := range inputs {
					got := slices.Clone(in)
					sortEvents(got)
					require.Equal(t, sorted, got, name)
				}
			})
		}
	}
}

// BenchmarkSortEvents sorts buckets as full as at 100,000 pingPong actors (240 events, times
// on a microsecond grid) with sortEvents and with slices.SortFunc.
func BenchmarkSortEvents(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	buckets := make([][]event, 64)
	for i := range buckets {
		buckets[i] = bucketEvents(r, 240, 1000)
	}
	s := make([]event, 240)
	for _, bm := range []struct {
		name string
		sort func([]event)
	}{
		{"sortEvents", sortEvents},
		{"slices.SortFunc", func(s []event) { slices.SortFunc(s, compareEvents) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				copy(s, buckets[i%len(buckets)])
				bm.sort(s)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*len(s)), "ns/event")
		})
	}
}

// TestQueueKeepsNoBurstArray checks that the fine wheel does not keep the arrays bursts grew:
// they would circulate from bucket to bucket and pile up as bursts land on other buckets.
func TestQueueKeepsNoBurstArray(t *testing.T) {
	tests := []struct {
		name  string
		burst int // events due in one bucket
	}{
		{"small buckets keep their arrays", keepEvents / 2},
		{"bursts do not", 8 * keepEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := DefaultEpoch.UnixNano()
			q := &eventQueue{}
			q.start(start)
			seq := uint64(0)
			// One burst every 7 buckets, each drained before the next is pushed.
			for b := int64(1); b < 3*blockSize; b += 7 {
				for range tt.burst {
					seq++
					q.push(event{at: start + b<<bucketShift, seq: seq})
				}
				for range tt.burst {
					q.pop()
				}
			}
			kept, largest := 0, 0
			for _, a := range q.fine {
				kept += cap(a)
				largest = max(largest, cap(a))
			}
			assert.LessOrEqual(t, largest, keepEvents, "the largest array kept")
			if tt.burst <= keepEvents {
				assert.Greater(t, kept, 0, "arrays circulate")
			}
		})
	}
}
