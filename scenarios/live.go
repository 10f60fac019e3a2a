package scenarios

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// driver is what the world asks of whatever runs its actors: the simulator's engine (virtual
// time) or the live driver (real time, real sockets). The world is laid out on the engine in
// both modes (hosts, addresses, the link model, the random streams); only the actors' running
// goes through here.
type driver interface {
	Spawn(h sim.HostID, port uint16, name string, a actor.Actor) (actor.Addr, error)
	AfterFunc(d time.Duration, f func()) actor.Timer
	At(t time.Time, f func()) actor.Timer
	Now() time.Time
	Invoke(addr actor.Addr, f func()) error
	Crash(addr actor.Addr) error
	AddSink(s sim.Sink)
}

var _ driver = (*sim.Engine)(nil)

// liveDriver runs the world's actors on live.Driver at the addresses the engine placed them,
// each bound to a loopback address of its own (live.Config.Translate).
type liveDriver struct {
	*live.Driver
	eng *sim.Engine
}

func newLiveDriver(eng *sim.Engine) *liveDriver {
	return &liveDriver{Driver: live.New(live.Config{Codec: bodies.Codec(), Translate: true}), eng: eng}
}

func (d *liveDriver) Spawn(h sim.HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	addr := netip.AddrPortFrom(d.eng.HostIP(h), port)
	return addr, d.Driver.Spawn(addr, name, a)
}

// At runs f at wall-clock time t, under the world lock.
func (d *liveDriver) At(t time.Time, f func()) actor.Timer {
	return d.Driver.AfterFunc(time.Until(t), f)
}

func (d *liveDriver) AddSink(s sim.Sink) { d.Driver.AddSink(live.Sink(s)) }

// validateLive refuses what live mode cannot do yet, naming the key: everything that needs the
// engine's link model (latency, loss, partitions, link taps), world functions that read an
// actor's state from outside its goroutine, and bodies that are not bytes.
func (s Scenario) validateLive() error {
	if s.Crypto != "real" {
		return bad("crypto", s.Crypto, "live mode sends real bytes: a message under crypto=modeled has none; use crypto=real")
	}
	for i, f := range s.Faults {
		key := fmt.Sprintf("faults[%d]", i)
		switch {
		case f.Kind == "degrade" || f.Kind == "partition":
			return bad(key+".kind", f.Kind, "live mode does not apply the link model to its sockets yet (latency, loss and partitions); run this fault with mode=sim")
		case f.Target == "paths":
			return bad(key+".target", f.Target, "live mode cannot read the clients' paths from outside them yet; use target random or largest-operator")
		}
	}
	if s.Nodes.Churn.JoinsPerHour > 0 {
		return bad("nodes.churn.joins_per_hour", s.Nodes.Churn.JoinsPerHour, "live mode cannot register nodes with the running registry yet; set it to 0")
	}
	if s.Leakage.LinkTaps || s.Leakage.Horizon > 0 || len(s.Leakage.Adversaries) > 0 {
		return bad("leakage", "set", "live mode does not measure leakage yet (it needs the engine's link model and views); remove the leakage section")
	}
	return nil
}

// startLive spawns the registry, the seed nodes and the first nodes on the live driver, the
// registry first so that the nodes' first reports find it.
func (w *world) startLive(specs []placement.Spec, hosts []*worldNode, list *registry.List) error {
	if err := w.live.Driver.Spawn(w.sn.RegistryAddr, "registry", w.reg); err != nil {
		return err
	}
	for i, addr := range w.seeds {
		if err := w.live.Driver.Spawn(addr, fmt.Sprintf("seed-%d", i+1), registry.NewSeedNode(list)); err != nil {
			return err
		}
	}
	for i, spec := range specs {
		if err := w.spawnNode(hosts[i], spec, list); err != nil {
			return err
		}
	}
	return nil
}

// haltInRegistry tells the registry that a node's machine is down; in live mode on the
// registry's own goroutine.
func (w *world) haltInRegistry(ed [32]byte) {
	if w.live == nil {
		_ = w.reg.Halt(ed)
		return
	}
	_ = w.live.Invoke(w.sn.RegistryAddr, func() { _ = w.reg.Halt(ed) })
}

// liveProbeLead is how long before a replication sample the nodes are asked, on their own
// goroutines, which of the messages they should hold they still have.
const liveProbeLead = 2 * time.Second

// scheduleLiveSampling is scheduleSampling for live mode: a node's store may only be read on
// the node's goroutine, so each sample is preceded by a probe of every running node.
func (w *world) scheduleLiveSampling(every, total time.Duration) {
	for t := every; t <= total; t += every {
		at := t
		var mu sync.Mutex
		held := map[int]map[string]bool{}
		w.drv.AfterFunc(max(at-liveProbeLead, 0), func() {
			want := map[int][]string{}
			for h, nodes := range w.col.copies {
				for n := range nodes {
					want[n] = append(want[n], h)
				}
			}
			for n, hashes := range want {
				wn := w.nodes[n]
				if !wn.alive {
					continue
				}
				_ = w.drv.Invoke(wn.addr, func() {
					got := map[string]bool{}
					for _, h := range hashes {
						if _, ok, err := wn.n.Store().Get(h); ok && err == nil {
							got[h] = true
						}
					}
					mu.Lock()
					held[n] = got
					mu.Unlock()
				})
			}
		})
		w.drv.AfterFunc(at, func() {
			mu.Lock()
			defer mu.Unlock()
			w.col.sampleReplication(at, func(n int, hash string) bool { return w.nodes[n].alive && held[n][hash] })
		})
	}
}

// runLive lets the live world run for total of wall-clock time from its epoch, reporting
// progress each second, until stop closes; it then stops every actor. It returns how long the
// world ran and ErrInterrupted when stop ended it.
func (w *world) runLive(total time.Duration, stop <-chan struct{}, progress func(sim.Progress)) (time.Duration, error) {
	defer w.live.Close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return min(time.Since(w.epoch), total), ErrInterrupted
		case now := <-tick.C:
			elapsed := min(now.Sub(w.epoch), total)
			w.live.Do(func() { progress(sim.Progress{Elapsed: elapsed, Events: w.live.Stats().Handled}) })
			if elapsed >= total {
				return total, nil
			}
		}
	}
}

// fillLiveInfrastructure writes the driver's counts; CPU and bytes are the engine's models and
// are not measured in live mode (zero).
func (w *world) fillLiveInfrastructure(s *results.Summary) {
	st := w.live.Stats()
	s.Engine = results.Engine{Events: st.Handled + st.Responses + st.TimedOut + st.Unreachable, Calls: st.Calls, CallTimeouts: st.TimedOut}
}
