package scenarios

import (
	"fmt"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/registry"
)

// pauser is a driver that can freeze an actor as a stopped process: the engine (sim.Engine's
// Pause) and live mode's driver (live.Driver's). Docker mode pauses the node's container.
type pauser interface {
	Pause(addr actor.Addr) error
	Resume(addr actor.Addr) error
}

// hangNode freezes node i for d (0: until the end), as a hung machine: the process keeps its
// state and its sockets but answers nothing, its timers wait, and its oxend, frozen with it,
// casts no quorum votes. Its peers learn of it as they would of a real one: their
// reachability tests time out, and its uptime proofs stop.
func (w *world) hangNode(i int, d time.Duration) {
	n := w.nodes[i]
	if !n.alive || n.hung {
		return
	}
	if w.docker != nil {
		w.pauseDockerNode(i)
	} else {
		if err := w.drv.(pauser).Pause(n.addr); err != nil {
			panic(fmt.Sprintf("hanging %s: %v", n.name, err)) // it runs and is not paused: checked above
		}
		w.haltInRegistry(n.n.Ed25519())
	}
	n.hung = true
	n.hangs++
	if d > 0 {
		hang := n.hangs
		w.drv.AfterFunc(d, func() {
			if n.hung && n.hangs == hang { // not crashed meanwhile, nor hung again after a restart
				w.resumeNode(i)
			}
		})
	}
}

// resumeNode lets hung node i run again: what it missed runs now (late timers, queued
// requests), and its oxend votes again.
func (w *world) resumeNode(i int) {
	n := w.nodes[i]
	n.hung = false
	if w.docker != nil {
		w.unpauseDockerNode(i)
		return
	}
	if err := w.drv.(pauser).Resume(n.addr); err != nil {
		panic(fmt.Sprintf("resuming %s: %v", n.name, err)) // it was paused by hangNode
	}
	ed := n.n.Ed25519()
	w.inRegistry(func(r *registry.Registry) { _ = r.Unhalt(ed) })
}

// restartNodeAfter brings crashed node i back after d with the same identity, address and
// stored messages: a crash loses the process's memory, not its disk. The node starts afresh
// (it asks the registry for the list, proves its uptime again) and its oxend votes again.
func (w *world) restartNodeAfter(i int, d time.Duration) {
	w.drv.AfterFunc(d, func() {
		n := w.nodes[i]
		if n.alive {
			return
		}
		if w.docker != nil {
			w.restartDockerNode(i)
			n.alive = true
			return
		}
		nn, err := w.newNode(n.name, n.host, n.n.Keys(), n.n.Store())
		if err != nil {
			panic(fmt.Sprintf("restarting %s: %v", n.name, err)) // its configuration made it before
		}
		if _, err := w.drv.Spawn(n.host, n.addr.Port(), n.name, nn); err != nil {
			panic(fmt.Sprintf("restarting %s: %v", n.name, err)) // its address is free: it crashed
		}
		n.n, n.alive = nn, true
		ed := nn.Ed25519()
		w.inRegistry(func(r *registry.Registry) { _ = r.Unhalt(ed) })
	})
}

// inRegistry runs f with the world's registry: at once in sim mode, on the registry's own
// goroutine in live mode.
func (w *world) inRegistry(f func(r *registry.Registry)) {
	if w.live == nil {
		f(w.reg)
		return
	}
	_ = w.live.Invoke(w.sn.RegistryAddr, func() { f(w.reg) })
}
