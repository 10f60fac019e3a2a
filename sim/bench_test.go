package sim_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/cputime"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// pingPong calls a random peer, waits for the answer, then sleeps a random 1-20 ms and again.
// Its callbacks are bound once, so steady state allocates nothing.
type pingPong struct {
	env    actor.Env
	peers  []actor.Addr
	tick   func()
	onDone func(actor.Response, error)
}

func (p *pingPong) Start(env actor.Env) {
	p.env = env
	p.tick = p.call
	p.onDone = p.done
	env.After(time.Duration(env.Rand().IntN(20_000))*time.Microsecond, p.tick)
}

func (p *pingPong) call() {
	r := p.env.Rand()
	to := p.peers[r.IntN(len(p.peers))]
	p.env.Call(to, actor.Request{Method: "ping", Size: 200 + r.IntN(2000)}, time.Second, p.onDone)
}

func (p *pingPong) done(actor.Response, error) {
	p.env.After(time.Duration(1000+p.env.Rand().IntN(19_000))*time.Microsecond, p.tick)
}

func (p *pingPong) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 200, Size: req.Size / 2})
}

// buildPingPong makes a world of n pingPong actors, one per host, on netem when network is set
// and on the ideal network otherwise.
func buildPingPong(b *testing.B, n int, network *simlink.Network) *sim.Engine {
	cfg := sim.Config{Seed: 1, Latency: 5 * time.Millisecond}
	if network != nil {
		cfg.Network = network
	}
	e, err := sim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var picker *netem.RegionPicker
	if network != nil {
		if picker, err = netem.NewRegionPicker(network.Model().Matrix(), netem.DefaultClientWeights()); err != nil {
			b.Fatal(err)
		}
	}
	place := e.Stream("placement")
	profiles := []netem.Profile{netem.DataCentre, netem.Broadband}
	peers := make([]actor.Addr, 0, n)
	for i := range n {
		hc := sim.HostConfig{Name: fmt.Sprintf("h%d", i)}
		if network != nil {
			hc.Link = simlink.Host{Region: network.Model().Matrix().Name(picker.Draw(place)), Profile: profiles[i%len(profiles)]}
		}
		h, err := e.AddHost(hc)
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, actorAt(e, h, 1))
	}
	for i := range n {
		if _, err := e.Spawn(sim.HostID(i), 1, "", &pingPong{peers: peers}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up past the 1 s call timeout: the queue, the lanes and the pools reach their
	// steady-state size.
	e.RunFor(1500 * time.Millisecond)
	return e
}

func benchEngine(b *testing.B, network *simlink.Network) {
	const actors = 10_000
	e := buildPingPong(b, actors, network)
	runtime.GC()
	start := e.Stats().Events
	b.ReportAllocs()
	cpu0 := cputime.Used()
	for b.Loop() {
		e.Step()
	}
	cpu := cputime.Used() - cpu0
	events := e.Stats().Events - start
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(e.Now().Sub(e.Epoch()).Seconds(), "virtual-s")
}

// BenchmarkEngineRaw: timer and message events between 10,000 actors on the ideal network. One
// op is one queue entry (a callback, or a superseded timeout discarded).
func BenchmarkEngineRaw(b *testing.B) { benchEngine(b, nil) }

// BenchmarkEngineNetem: the same traffic through netem: region matrix, jittered access links,
// bandwidth queues on both ends.
func BenchmarkEngineNetem(b *testing.B) {
	network, err := simlink.New(netem.Config{})
	if err != nil {
		b.Fatal(err)
	}
	benchEngine(b, network)
}

// BenchmarkActorMemory reports the heap held per actor (host, actor record, streams, address
// map entries) in a world of 10,000 hosts with one idle actor each.
func BenchmarkActorMemory(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		network, err := simlink.New(netem.Config{})
		if err != nil {
			b.Fatal(err)
		}
		e, err := sim.New(sim.Config{Network: network})
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			h, err := e.AddHost(sim.HostConfig{Link: simlink.Host{Region: "eu-central-1", Profile: netem.Broadband}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.Spawn(h, 1, "", idle{}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/actor")
		runtime.KeepAlive(e)
	}
}

type idle struct{}

func (idle) Start(actor.Env)                                   {}
func (idle) Handle(actor.Addr, actor.Request, actor.Responder) {}
