package sim_test

import (
	"fmt"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// busyEcho answers every request with its own body after 2 ms of CPU work; it keeps its Env
// from Start.
type busyEcho struct{ env actor.Env }

func (b *busyEcho) Start(env actor.Env) { b.env = env }

func (b *busyEcho) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	b.env.Work(2 * time.Millisecond) // the response leaves when the work is done
	r.Respond(actor.Response{Status: 200, Body: req.Body, Size: req.Size})
}

// pinger calls its peer once a second, three times.
type pinger struct {
	env  actor.Env
	peer actor.Addr
	left int
}

func (p *pinger) Start(env actor.Env) {
	p.env = env
	p.left = 3
	env.After(time.Second, p.ping)
}

func (p *pinger) ping() {
	sent := p.env.Now()
	p.env.Call(p.peer, actor.Request{Method: "/echo", Body: "hello", Size: 100}, 5*time.Second,
		func(resp actor.Response, err error) {
			if err != nil {
				fmt.Println("call failed:", err)
				return
			}
			fmt.Printf("%d %v after %v\n", resp.Status, resp.Body, p.env.Now().Sub(sent))
		})
	if p.left--; p.left > 0 {
		p.env.After(time.Second, p.ping)
	}
}

func (p *pinger) Handle(actor.Addr, actor.Request, actor.Responder) {}

// Two actors in two regions: one calls the other across the netem link model.
func Example() {
	network, err := simlink.New(netem.Config{}) // netem with the embedded AWS region matrix
	if err != nil {
		panic(err)
	}
	engine, err := sim.New(sim.Config{Seed: 1, Network: network})
	if err != nil {
		panic(err)
	}
	// A data-centre link without jitter, so the printed times are round.
	dc := netem.Profile{Name: "dc", Latency: 500 * time.Microsecond, Uplink: netem.Gbps, Downlink: netem.Gbps}
	frankfurt, err := engine.AddHost(sim.HostConfig{Name: "fra", Link: simlink.Host{Region: "eu-central-1", Profile: dc}})
	if err != nil {
		panic(err)
	}
	virginia, err := engine.AddHost(sim.HostConfig{Name: "iad", Link: simlink.Host{Region: "us-east-1", Profile: dc}})
	if err != nil {
		panic(err)
	}

	server, err := engine.Spawn(virginia, 22021, "server", &busyEcho{})
	if err != nil {
		panic(err)
	}
	if _, err := engine.Spawn(frankfurt, 22021, "client", &pinger{peer: server}); err != nil {
		panic(err)
	}

	engine.RunFor(10 * time.Second)
	fmt.Println("virtual time:", engine.Now().Sub(engine.Epoch()))
	fmt.Println("calls:", engine.Stats().Calls, "server CPU:", engine.HostBusy(virginia))
	// Output:
	// 200 hello after 92.6416ms
	// 200 hello after 92.6416ms
	// 200 hello after 92.6416ms
	// virtual time: 10s
	// calls: 3 server CPU: 6ms
}
