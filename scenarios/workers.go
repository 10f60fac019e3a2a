package scenarios

import (
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/sim"
)

// A world in sim mode runs on the workers RunOptions.Workers asks for (sim.Config.Workers),
// with the same summary for every number. The engine gives one result only if actors on
// different hosts share nothing they change and leave the engine's own methods to world
// functions, and if sinks act the same whether they see an event at its instant or at the end
// of the window it ran in. The world keeps to that:
//
//   - The caches actors share (the nodes' node.Views, the clients' client.Directory, the
//     identity.X25519Memo of both) are kept per group of hosts (sim.Engine.Worker), which one
//     worker at a time runs (workerCaches): each is a cache whose answers depend only on what
//     it is asked, so which actors share one changes memory use, never a result. The push server keeps a memo of its own.
//   - What several hosts' actors read but only world functions change (group chats'
//     client.Group, the nodes' table of servers, the registry's lists, the push server's
//     devices) changes between windows, where world functions run alone, at the same point
//     of the run as on one worker.
//   - Sinks (the collector, the leakage recorder, answerMessages) read only the event, its
//     time and state that world functions change, and the only one that acts, answerMessages,
//     does so through a world function at a time computed from the event's own time, at least
//     the network's minimum latency later (so outside the window the event ran in).
//   - Faults (hangs pause nodes through the engine, crashes restart them), churn, sybil joins,
//     the workload and the replication samples are world functions; nodes that join or
//     restart get their host's group's caches.
//
// Live and docker mode run their actors in real time on goroutines of their own, not on the
// engine's workers: they use one, and say so.

// workerCaches are the caches shared by the actors of one group of hosts (sim.Engine.Worker).
type workerCaches struct {
	views *node.Views
	keys  *identity.X25519Memo
	dir   *client.Directory
}

// cachesOf is the caches of host h's group, made at first use.
func (w *world) cachesOf(h sim.HostID) *workerCaches {
	i := w.eng.Worker(h)
	for len(w.caches) <= i {
		w.caches = append(w.caches, nil)
	}
	if w.caches[i] == nil {
		w.caches[i] = &workerCaches{views: node.NewViews(), keys: identity.NewX25519Memo(), dir: client.NewDirectory()}
	}
	return w.caches[i]
}

// engineWorkers is how many workers the world asks its engine for when requested are asked
// for: one outside sim mode.
func (w *world) engineWorkers(requested int) int {
	if w.sc.Mode != "sim" && w.sc.Mode != "" {
		return 1
	}
	return max(requested, 1)
}

// workers is how many workers the world runs on, and when that is one although requested
// asked for more, why.
func (w *world) workers(requested int) (used int, why string) {
	if requested <= 1 {
		return 1, ""
	}
	if w.engineWorkers(requested) == 1 {
		return 1, w.sc.Mode + " mode runs its actors in real time on goroutines of their own, not on the engine's workers"
	}
	return w.eng.Workers()
}

// window is how far in virtual time the world's workers run apart: 0 on one worker.
func (w *world) window() time.Duration {
	if w.engineWorkers(2) == 1 {
		return 0
	}
	return w.eng.Window()
}
