package scenarios

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
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
// each bound to a loopback address of its own (live.Config.Translate), with the world's link
// model applied to every connection (linkconn).
//
// Nothing runs until start: the world adds hosts to the link model while it is built, which
// must not overlap connections using it, so spawns and world timers wait in pending (the
// timers keep their due times).
type liveDriver struct {
	*live.Driver
	eng   *sim.Engine
	model *linkconn.Model
	paths pathProbe

	mu      sync.Mutex
	started bool
	pending []func() error
}

// later queues f for start; false once started (then the caller runs it now).
func (d *liveDriver) later(f func() error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return false
	}
	d.pending = append(d.pending, f)
	return true
}

// running reports whether start has run: from then on the actors run on their goroutines.
func (d *liveDriver) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.started
}

// start runs what was queued, in order, and everything from now on at once.
func (d *liveDriver) start() error {
	d.mu.Lock()
	d.started = true
	pending := d.pending
	d.pending = nil
	d.mu.Unlock()
	for _, f := range pending {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// AfterFunc runs f under the world lock once after has passed from now.
func (d *liveDriver) AfterFunc(after time.Duration, f func()) actor.Timer {
	due := time.Now().Add(after)
	if d.later(func() error { d.Driver.AfterFunc(time.Until(due), f); return nil }) {
		return actor.Timer{} // the world never stops its timers
	}
	return d.Driver.AfterFunc(after, f)
}

// Invoke queues f on the actor at addr (after start, if the world is still being built).
func (d *liveDriver) Invoke(addr actor.Addr, f func()) error {
	if d.later(func() error { _ = d.Driver.Invoke(addr, f); return nil }) {
		return nil
	}
	return d.Driver.Invoke(addr, f)
}

func newLiveDriver(eng *sim.Engine, links *netem.Network) *liveDriver {
	model := linkconn.NewModel(links)
	return &liveDriver{Driver: live.New(live.Config{Codec: bodies.Codec(), Translate: true, WrapConn: model.Wrap}), eng: eng, model: model}
}

func (d *liveDriver) Spawn(h sim.HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	addr := netip.AddrPortFrom(d.eng.HostIP(h), port)
	return addr, d.spawnAt(addr, name, a)
}

// spawnAt spawns a at addr, whose host the engine placed, and tells the link model the host.
func (d *liveDriver) spawnAt(addr actor.Addr, name string, a actor.Actor) error {
	if d.later(func() error { return d.spawnNow(addr, name, a) }) {
		return nil
	}
	return d.spawnNow(addr, name, a)
}

func (d *liveDriver) spawnNow(addr actor.Addr, name string, a actor.Actor) error {
	h, ok := d.eng.HostByIP(addr.Addr())
	if !ok {
		return fmt.Errorf("live: no host at %v", addr.Addr())
	}
	d.model.AddAddr(addr.Addr(), simlink.ID(h))
	return d.Driver.Spawn(addr, name, a)
}

// links runs f with the link model: directly in sim mode, under the model's lock in live mode,
// where connections use it concurrently.
func (w *world) links(f func(n *netem.Network)) {
	if w.live == nil {
		f(w.net)
		return
	}
	w.live.model.Do(f)
}

// At runs f at wall-clock time t, under the world lock.
func (d *liveDriver) At(t time.Time, f func()) actor.Timer {
	return d.AfterFunc(time.Until(t), f)
}

func (d *liveDriver) AddSink(s sim.Sink) { d.Driver.AddSink(live.Sink(s)) }

// validateLive refuses what live mode cannot do, naming the key: bodies that are not bytes.
// Group chats run (client.Group is safe for concurrent use), and so do push notifications
// (live/bodies encodes the wake-up as the notification). The leakage section is measured as in
// the simulator: the recorder is a sink like the collector, fed under the world lock; sybil
// nodes join the running world as churn's joins do; the link taps come from the link model
// (liveTap); a horizon is played after the run at the request rates it measured.
func (s Scenario) validateLive() error {
	if s.Crypto != "real" {
		return bad("crypto", s.Crypto, "live mode (mode: live, and compare-modes, which runs every scenario live too) sends real bytes, and a message under crypto=modeled has none; use crypto=real")
	}
	return nil
}

// liveTap writes a transmission the live link model shaped to the link taps file: one write on
// a connection (a TLS record with its HTTP framing, a handshake's included), when it was written
// and when the model has it reach the peer's socket. In docker mode (the harness's model: a
// client's or a server's link to a node, either way) the nodes are at their container
// addresses. The model calls it under its lock, which also guards the engine's hosts against a
// node joining (addLiveNodeHost) and docker mode's nodeIPs (joinDockerNode): one at a time.
func (w *world) liveTap(from, to netem.HostID, size int, sent, arrive int64, ok bool) {
	w.taps.Record(w.tapAddr(sim.HostID(from)), w.tapAddr(sim.HostID(to)), size, sent, arrive, ok)
}

// tapAddr is the address the link taps give host h: a node's container address in docker
// mode, else the world's.
func (w *world) tapAddr(h sim.HostID) netip.Addr {
	if w.docker != nil {
		if ip, ok := w.docker.nodeIPs[h]; ok {
			return ip
		}
	}
	return w.eng.HostIP(h)
}

// startLive spawns the registry, the seed nodes and the first nodes on the live driver, the
// registry first so that the nodes' first reports find it.
func (w *world) startLive(specs []placement.Spec, hosts []*worldNode, list *registry.List) error {
	if err := w.live.spawnAt(w.sn.RegistryAddr, "registry", w.reg); err != nil {
		return err
	}
	for i, addr := range w.seeds {
		if err := w.live.spawnAt(addr, fmt.Sprintf("seed-%d", i+1), registry.NewSeedNode(list)); err != nil {
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

// addLiveNodeHost places the host of a node joining the running live world and registers it:
// the host under the link model's lock, which the connections take, and the registration on
// the registry's goroutine. The registration is queued before the node is spawned, so the
// registry has it before anything the node sends.
func (w *world) addLiveNodeHost(r registry.Registration) (sim.HostID, error) {
	var h sim.HostID
	var err error
	w.links(func(*netem.Network) { h, err = w.sn.AddNodeHost(r) })
	if err != nil {
		return 0, err
	}
	// The planner gives every joining node a name, keys and an address of its own, which the
	// registry accepts; a refusal would leave the node unlisted, as an operator's failed
	// registration does.
	return h, w.live.Invoke(w.sn.RegistryAddr, func() { _ = w.reg.Register(r) })
}

// pathProbe is what the clients told of their onion paths when last asked, for a fault that
// targets the nodes on most paths: a client's paths are its own goroutine's to read.
type pathProbe struct {
	mu       sync.Mutex
	byClient map[int][][]actor.Addr
}

// snapshot is the paths of clients 0 to n-1 as last told (none for a client not asked yet).
func (p *pathProbe) snapshot(n int) [][][]actor.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][][]actor.Addr, n)
	for i := range out {
		out[i] = p.byClient[i]
	}
	return out
}

// probeLivePaths asks every client, on its own goroutine, for its current paths; a fault on
// target paths is scheduled liveProbeLead after it and reads the answers (a client that has
// not answered by then counts no paths).
func (w *world) probeLivePaths() {
	p := &w.live.paths
	for i, wc := range w.clients {
		_ = w.drv.Invoke(wc.addr, func() {
			paths := wc.c.Paths()
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.byClient == nil {
				p.byClient = map[int][][]actor.Addr{}
			}
			p.byClient[i] = paths
		})
	}
}

// haltInRegistry tells the registry that a node's machine is down (inRegistry).
func (w *world) haltInRegistry(ed [32]byte) {
	w.inRegistry(func(r *registry.Registry) { _ = r.Halt(ed) })
}

// liveProbeLead is how long before a replication sample the nodes are asked, on their own
// goroutines, which of the messages they should hold they still have.
const liveProbeLead = 2 * time.Second

// scheduleLiveSampling is scheduleSampling for live mode: a node's store may only be read on
// the node's goroutine, so each sample is preceded by a probe of every running node.
func (w *world) scheduleLiveSampling(every, total time.Duration) {
	ask := func(report func(n int, held map[string]bool)) {
		want := map[int][]string{}
		for h, nodes := range w.col.copies {
			for _, n := range nodes {
				want[int(n)] = append(want[int(n)], h)
			}
		}
		for n, hashes := range want {
			wn := w.nodes[n]
			if !wn.alive || wn.hung {
				continue // a frozen mailbox would answer after the sample (see scheduleSampling)
			}
			_ = w.drv.Invoke(wn.addr, func() {
				got := map[string]bool{}
				for _, h := range hashes {
					if _, ok, err := wn.n.Store().Get(h); ok && err == nil {
						got[h] = true
					}
				}
				report(n, got)
			})
		}
	}
	w.scheduleProbedSampling(every, total, ask, func(n int) bool { return w.nodes[n].alive && !w.nodes[n].hung })
}

// scheduleProbedSampling is scheduleSampling where the nodes' stores cannot be read at the
// sample's instant (live and docker mode): liveProbeLead before each sample, ask asks every
// node which messages it holds and each answer is reported (from any goroutine); the sample
// counts the messages stored when the nodes were asked, each held by the nodes that said so
// and are alive.
func (w *world) scheduleProbedSampling(every, total time.Duration, ask func(report func(n int, held map[string]bool)), alive func(n int) bool) {
	for t := every; t <= total; t += every {
		at := t
		var mu sync.Mutex
		held := map[int]map[string]bool{}
		var probed map[string]bool
		w.drv.AfterFunc(max(at-liveProbeLead, 0), func() {
			stored := w.col.storedNow()
			mu.Lock()
			probed = stored
			mu.Unlock()
			ask(func(n int, h map[string]bool) {
				mu.Lock()
				held[n] = h
				mu.Unlock()
			})
		})
		w.drv.AfterFunc(at, func() {
			mu.Lock()
			defer mu.Unlock()
			w.col.sampleReplicationOf(at, probed, func(n int, hash string) bool { return alive(n) && held[n][hash] })
		})
	}
}

// runLive lets the live world run for total of wall-clock time from its epoch, reporting
// progress each second, until stop closes; it then stops every actor. It returns how long the
// world ran and ErrInterrupted when stop ended it.
func (w *world) runLive(total time.Duration, stop <-chan struct{}, progress func(sim.Progress)) (time.Duration, error) {
	if w.taps != nil {
		// Deferred first, so it runs after Close: no write reaches the taps once run closes them.
		defer w.live.model.SetTap(nil)
	}
	defer w.live.Close()
	if err := w.live.start(); err != nil {
		return 0, fmt.Errorf("starting the live world: %w", err)
	}
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

// fillLiveInfrastructure writes the driver's counts and the bytes the link model carried (every
// write on every connection, TLS and HTTP included); CPU is the engine's model and is not
// measured in live mode (zero).
func (w *world) fillLiveInfrastructure(s *results.Summary) {
	st := w.live.Stats()
	s.Engine = results.Engine{Events: st.Handled + st.Responses + st.TimedOut + st.Unreachable, Calls: st.Calls, CallTimeouts: st.TimedOut}
	w.links(func(n *netem.Network) { s.Traffic.TotalBytes = n.Stats().Bytes })
}
