package scenarios

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/sim"
)

// RunOptions tune how a scenario runs without changing what it measures.
type RunOptions struct {
	// Version is the binary's version, recorded in the summary.
	Version string
	// Progress, if set, is told how far the run has got (about once per virtual second).
	Progress func(Progress)
	// ReplicationSample is how often live copies are counted. Default 1 minute.
	ReplicationSample time.Duration
	// Stop, when closed, ends the run early: Run checks it once per virtual second and returns
	// what was measured until then with ErrInterrupted.
	Stop <-chan struct{}
	// LinkTaps receives the link taps file (gzip-compressed CSV, see leakage.LinkTaps) of a
	// scenario that sets leakage.link_taps, which Run refuses without it; Run does not close
	// it. Ignored otherwise.
	LinkTaps io.Writer
	// Sink, if set, receives every event the actors observe, beside the collector (on the
	// engine's loop in sim mode, one at a time under the live driver's world lock in live
	// mode). It must not block. On several workers it is called at the end of each window,
	// in the one-worker order, with each event's own time (sim.Config.Workers).
	Sink sim.Sink
	// Workers is how many workers (cores) a world in sim mode runs on; 0 or 1 means one. The
	// summary is the same for every number.
	Workers int
	// OnWorkers, if set, is told once the world is built how many workers it runs on and,
	// when that is fewer than Workers asked for, why.
	OnWorkers func(used int, why string)
	// OnWindow, if set, is told with OnWorkers how far in virtual time the workers run apart
	// (sim.Engine.Window): 0 on one worker.
	OnWindow func(time.Duration)
	// AtEnd, if set, is called once the run has ended (however it ended), before Run returns
	// and while the world it ran is still in memory: a heap profile taken then counts the
	// world as it ends, which is gone once Run has returned.
	AtEnd func()
	// OnDocker, if set, is told in docker mode the label value (docker.LabelRun) that the
	// run's containers, network, image and packet-filter rules carry, once they are up and
	// before the run starts: what tells them from those of other runs under way beside it.
	OnDocker func(run string)
}

// ErrInterrupted is returned with a partial summary when RunOptions.Stop ended a run early.
var ErrInterrupted = errors.New("run interrupted")

// Progress is a run's progress, for progress bars and CI logs.
type Progress struct {
	Phase     string // "warmup", "sending", "draining"
	Virtual   time.Duration
	Total     time.Duration
	Events    uint64
	Sent      uint64
	Delivered uint64
}

// Run builds the scenario's world, runs it in virtual time and returns its summary (a partial
// one, with ErrInterrupted, when RunOptions.Stop ends it early). Everything in the summary is a
// function of the scenario (seed included) and the binary.
func Run(sc Scenario, opts RunOptions) (results.Summary, error) {
	w, s, err := run(sc, opts)
	if opts.AtEnd != nil {
		opts.AtEnd()
	}
	runtime.KeepAlive(w)
	return s, err
}

// run is Run that also hands back the world, for tests that look behind the summary.
func run(sc Scenario, opts RunOptions) (*world, results.Summary, error) {
	if err := sc.Validate(); err != nil {
		return nil, results.Summary{}, err
	}
	if opts.ReplicationSample <= 0 {
		opts.ReplicationSample = time.Minute
	}
	total := sc.Warmup + sc.Duration + sc.Drain
	var w *world
	progress := func(p sim.Progress) {
		if opts.Progress == nil || w == nil {
			return
		}
		phase := "warmup"
		switch {
		case p.Elapsed >= sc.Warmup+sc.Duration:
			phase = "draining"
		case p.Elapsed >= sc.Warmup:
			phase = "sending"
		}
		opts.Progress(Progress{Phase: phase, Virtual: p.Elapsed, Total: total, Events: p.Events, Sent: w.col.sent, Delivered: w.col.delivered})
	}
	var taps io.Writer
	if sc.Leakage.LinkTaps {
		if taps = opts.LinkTaps; taps == nil {
			return nil, results.Summary{}, errors.New("leakage.link_taps is set but the run has nowhere to write the taps (RunOptions.LinkTaps)")
		}
	}
	w, err := buildWorldOn(sc, opts.Workers, progress, taps, opts.Sink == nil)
	if err != nil {
		return nil, results.Summary{}, err
	}
	defer w.closeDocker()
	if opts.OnWorkers != nil {
		opts.OnWorkers(w.workers(opts.Workers))
	}
	if opts.OnWindow != nil {
		opts.OnWindow(w.window())
	}
	if opts.OnDocker != nil && w.docker != nil {
		opts.OnDocker(w.docker.cluster.Run())
	}
	if opts.Sink != nil {
		w.drv.AddSink(opts.Sink)
	}
	w.scheduleTraffic()
	if err := w.scheduleFaults(); err != nil {
		return nil, results.Summary{}, err
	}
	w.scheduleChurn()
	if err := w.scheduleSybils(); err != nil {
		return nil, results.Summary{}, err
	}
	var stopped error
	if w.docker != nil {
		w.scheduleDockerSampling(opts.ReplicationSample, total)
		w.followDocker()
	} else if w.live != nil {
		w.scheduleLiveSampling(opts.ReplicationSample, total)
	}
	if w.live != nil {
		total, stopped = w.runLive(total, opts.Stop, progress)
		w.stopFollowing()
	} else {
		w.scheduleSampling(opts.ReplicationSample, total)
	}
	// The run advances one virtual second at a time so that Stop is noticed; between two
	// RunUntil calls no event runs, so the result is the same as one call to the end.
	for t := time.Second; w.live == nil; t += time.Second {
		t = min(t, total)
		w.eng.RunUntil(w.epoch.Add(t))
		if t == total {
			break
		}
		if isClosed(opts.Stop) {
			total, stopped = t, ErrInterrupted
			break
		}
	}

	if w.taps != nil {
		if err := w.taps.Close(); err != nil {
			return nil, results.Summary{}, fmt.Errorf("writing the link taps: %w", err)
		}
	}

	s := results.Summary{
		Schema:         results.SchemaVersion,
		Scenario:       sc.Name,
		Seed:           sc.Seed,
		Crypto:         sc.Crypto,
		Wire:           sc.Wire,
		Version:        opts.Version,
		VirtualSeconds: total.Seconds(),
		Nodes:          sc.Nodes.Count,
		Clients:        sc.Clients.Count,
	}
	w.col.fill(&s, stopped == nil)
	w.fillInfrastructure(&s, total)
	if cm := sc.Servers.Communities; cm.Count > 0 {
		s.Communities = w.col.communities.summary(cm.Count, cm.Count*cm.Rooms)
	}
	if w.leak != nil {
		if s.Leakage, err = w.analyzeLeakage(total); err != nil {
			return nil, results.Summary{}, fmt.Errorf("leakage: %w", err)
		}
	}
	if opts.Progress != nil && stopped == nil {
		// The last report gives the summary's own counts, so that it agrees with what follows it.
		opts.Progress(Progress{Phase: "done", Virtual: total, Total: total, Events: s.Engine.Events, Sent: s.Messages.Sent, Delivered: s.Messages.Delivered})
	}
	return w, s, stopped
}

// isClosed reports whether c is closed (a nil channel never is).
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// scheduleSessions makes clients go offline and come back, with exponential period lengths.
func (w *world) scheduleSessions() {
	ss := w.sc.Clients.Sessions
	if ss.MeanOnline <= 0 {
		return
	}
	r := w.eng.Stream("sessions")
	for i, wc := range w.clients {
		var toggle func()
		toggle = func() {
			if !w.pinned[i] { // a client an offline fault holds stays offline and tries again next period
				w.setClientOnline(i, !wc.online)
			}
			w.drv.AfterFunc(w.sessionLength(wc.online, r), toggle)
		}
		w.drv.AfterFunc(w.sessionLength(wc.online, r), toggle)
	}
}

func (w *world) sessionLength(online bool, r *rand.Rand) time.Duration {
	mean := w.sc.Clients.Sessions.MeanOffline
	if online {
		mean = w.sc.Clients.Sessions.MeanOnline
	}
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// scheduleWorkload makes every client send to its contacts as a Poisson process while online,
// at its rate of ActivityRates, from the end of the warmup to the start of the drain; with
// replies, clients answer what they receive (answerMessages).
func (w *world) scheduleWorkload() {
	wl := w.sc.Workload
	start, stop := w.sc.Warmup, w.sc.Warmup+w.sc.Duration
	stopAt := w.epoch.Add(stop)
	streams := make([]*rand.Rand, len(w.clients))
	for i, wc := range w.clients {
		streams[i] = w.eng.Stream("workload/" + wc.name)
	}
	rates := ActivityRates(wl, streams)
	for i, wc := range w.clients {
		if len(wc.contacts) == 0 {
			continue
		}
		r := streams[i]
		// Conversations start at the rate replies leave to them (see Workload.MessagesPerHour).
		perHour := rates[i] * (1 - wl.ReplyProbability)
		var send func()
		send = func() {
			if !w.drv.Now().Before(stopAt) {
				return
			}
			if wc.online {
				var to identity.ID
				if wl.UnknownRecipientShare > 0 && r.Float64() < wl.UnknownRecipientShare {
					to = identity.Derive(w.sc.Seed, fmt.Sprintf("nobody-%d", r.Uint64())).SessionID()
				} else {
					to = w.clients[wc.contacts[r.IntN(len(wc.contacts))]].id
				}
				size := MessageSize(wl.Size, r)
				w.sendMessage(i, to, size)
			}
			w.drv.AfterFunc(expAfter(perHour, r), send)
		}
		first := start + expAfter(perHour, r)
		if first < stop {
			w.drv.AfterFunc(first, send)
		}
	}
	if wl.ReplyProbability > 0 {
		w.drv.AddSink(w.answerMessages(stopAt))
	}
}

// answerMessages is the sink through which clients reply: a client that decrypts a 1:1 message
// from another client answers it with probability Workload.ReplyProbability, after a
// ReplyDelay, if it is online then and the sending period has not ended. It reads the
// client's MessageReceived, which is what the app shows its user, and only the user answers:
// the client logic itself never sees observations. Each client draws from its own reply
// stream, so replies leave the spontaneous traffic's draws as they were. The client opens each
// message once (its seen set), so each is answered at most once.
func (w *world) answerMessages(stopAt time.Time) sim.Sink {
	wl := w.sc.Workload
	streams := make([]*rand.Rand, len(w.clients))
	return func(at time.Time, from actor.Addr, ev actor.Event) {
		e, ok := ev.(client.MessageReceived)
		if !ok || e.Namespace != 0 {
			return
		}
		i, ok := w.col.clientIndex[from]
		if !ok {
			return
		}
		j, ok := w.col.clientByID[e.From]
		if !ok || i == j {
			return // a message from outside the run's clients, or the client's own copy
		}
		if streams[i] == nil {
			streams[i] = w.eng.Stream("reply/" + w.clients[i].name)
		}
		r := streams[i]
		answer := r.Float64() < wl.ReplyProbability
		// Nobody answers sooner than a message could cross the network: on several workers
		// the answer then falls after the window the message was read in (see Workers).
		answerAt := at.Add(max(ReplyDelay(wl.ReplyDelay, r), w.net.MinLatency()))
		size := MessageSize(wl.Size, r)
		if !answerAt.Before(stopAt) {
			return
		}
		w.replies.due++
		w.drv.At(answerAt, func() {
			wc := w.clients[i]
			if !wc.online {
				return
			}
			w.replies.online++
			if !answer {
				return
			}
			w.replies.sent++
			w.sendMessage(i, w.clients[j].id, size)
		})
	}
}

// sendMessage has client i send to to: with the share of workload.attachments an attachment
// drawn from the client's own attachment stream (so that a workload without attachments draws
// as before), otherwise a text of size bytes.
func (w *world) sendMessage(i int, to identity.ID, size int) {
	wc := w.clients[i]
	a := &w.sc.Workload.Attachments
	if a.Share > 0 {
		if w.attachStreams == nil {
			w.attachStreams = make([]*rand.Rand, len(w.clients))
		}
		if w.attachStreams[i] == nil {
			w.attachStreams[i] = w.eng.Stream("attachments/" + wc.name)
		}
		r := w.attachStreams[i]
		if r.Float64() < a.Share {
			kind, n := a.draw(r)
			_ = w.drv.Invoke(wc.addr, func() { _ = wc.c.SendAttachment(to, kind, n) })
			return
		}
	}
	_ = w.drv.Invoke(wc.addr, func() { wc.c.Send(to, size) })
}

// aliveNodes lists the indices of running nodes, in order.
func (w *world) aliveNodes() []int {
	var out []int
	for i, n := range w.nodes {
		if n.alive {
			out = append(out, i)
		}
	}
	return out
}

// pickNodes draws count distinct running nodes (or fraction of them): at random, or for target
// "paths" the nodes on most clients' current onion paths.
func (w *world) pickNodes(count int, fraction float64, target string) []int {
	return w.pickFrom(w.aliveNodes(), count, fraction, target)
}

// pickUnhung is pickNodes among the running nodes that are not hung: a hang freezes count
// nodes that were running, however many an earlier hang still holds.
func (w *world) pickUnhung(count int, fraction float64, target string) []int {
	return w.pickFrom(slices.DeleteFunc(w.aliveNodes(), func(i int) bool { return w.nodes[i].hung }), count, fraction, target)
}

// pickFrom is pickNodes's draw among the candidates alive.
func (w *world) pickFrom(alive []int, count int, fraction float64, target string) []int {
	if count == 0 {
		count = int(fraction*float64(len(alive)) + 0.5)
	}
	count = min(count, len(alive))
	if target == "largest-operator" {
		alive = slices.DeleteFunc(alive, func(i int) bool { return w.nodes[i].operator != 0 })
		if count == 0 {
			count = int(fraction*float64(len(alive)) + 0.5)
		}
		count = min(count, len(alive))
	}
	w.rng.Shuffle(len(alive), func(i, j int) { alive[i], alive[j] = alive[j], alive[i] })
	if target == "paths" {
		uses := map[actor.Addr]int{}
		for _, paths := range w.clientPaths() {
			for _, path := range paths {
				for _, hop := range path {
					uses[hop]++
				}
			}
		}
		sort.SliceStable(alive, func(i, j int) bool { return uses[w.nodes[alive[i]].addr] > uses[w.nodes[alive[j]].addr] })
	}
	return alive[:count]
}

// clientPaths is every client's current onion paths, in client order; in live mode, as the
// clients told them when last asked (probeLivePaths).
func (w *world) clientPaths() [][][]actor.Addr {
	if w.live != nil {
		return w.live.paths.snapshot(len(w.clients))
	}
	out := make([][][]actor.Addr, len(w.clients))
	for i, wc := range w.clients {
		out[i] = wc.c.Paths()
	}
	return out
}

// pickClients draws count distinct clients (or fraction of them).
func (w *world) pickClients(count int, fraction float64) []int {
	idx := w.rng.Perm(len(w.clients))
	if count == 0 {
		count = int(fraction*float64(len(idx)) + 0.5)
	}
	return idx[:min(count, len(idx))]
}

// pickPhones draws count distinct iOS and Android clients (or fraction of them).
func (w *world) pickPhones(count int, fraction float64) []int {
	var phones []int
	for _, i := range w.rng.Perm(len(w.clients)) {
		if p := w.clients[i].platform; p == "ios" || p == "android" {
			phones = append(phones, i)
		}
	}
	if count == 0 {
		count = int(fraction*float64(len(phones)) + 0.5)
	}
	return phones[:min(count, len(phones))]
}

// setClientOnline switches client i on or off now.
func (w *world) setClientOnline(i int, online bool) {
	wc := w.clients[i]
	if wc.online == online || wc.waiting {
		return
	}
	wc.online = online
	if online {
		_ = w.drv.Invoke(wc.addr, wc.c.GoOnline)
	} else {
		_ = w.drv.Invoke(wc.addr, wc.c.GoOffline)
	}
	w.col.setOnline(i, online, w.drv.Now())
}

func (w *world) crashNode(i int) {
	n := w.nodes[i]
	if !n.alive {
		return
	}
	hung := n.hung
	n.hung = false // a hung node dies as it is
	if w.docker != nil {
		if hung {
			w.thawDockerNode(i) // the engine kills running containers: it runs for the moment the kill takes
		}
		w.crashDockerNode(i)
		n.alive = false
		return
	}
	_ = w.drv.Crash(n.addr)
	// The node's oxend runs on the same machine: it casts no more quorum votes.
	w.haltInRegistry(n.n.Ed25519())
	n.alive = false
}

func (w *world) scheduleFaults() error {
	for _, f := range w.sc.Faults {
		at := w.epoch.Add(w.sc.Warmup + f.At)
		if f.Target == "paths" && w.live != nil {
			w.drv.At(at.Add(-liveProbeLead), w.probeLivePaths)
		}
		switch f.Kind {
		case "crash":
			if f.Target == faultTargetFileServer {
				w.drv.At(at, func() { w.crashFileServer(f.For) })
				continue
			}
			w.drv.At(at, func() {
				for _, i := range w.pickNodes(f.Count, f.Fraction, f.Target) {
					w.crashNode(i)
					if f.For > 0 {
						w.restartNodeAfter(i, f.For)
					}
				}
			})
		case "hang":
			w.drv.At(at, func() {
				for _, i := range w.pickUnhung(f.Count, f.Fraction, f.Target) {
					w.hangNode(i, f.For)
				}
			})
		case "degrade":
			w.drv.At(at, func() {
				until := time.Time{}
				if f.For > 0 {
					until = at.Add(f.For)
				}
				d := netem.Degradation{Start: at, End: until, Latency: f.AddedLatency, Loss: f.Loss}
				if f.Target == faultTargetFileServer {
					if w.fileServer != nil {
						h := w.fileServer.host
						w.links(func(n *netem.Network) { _ = n.Degrade(simlink.ID(h), d) })
					}
					return
				}
				if f.Target == "phones" {
					for _, i := range w.pickPhones(f.Count, f.Fraction) {
						h, _ := w.eng.HostByIP(w.clients[i].addr.Addr())
						w.links(func(n *netem.Network) { _ = n.Degrade(simlink.ID(h), d) })
					}
					return
				}
				picked := w.pickNodes(f.Count, f.Fraction, f.Target)
				for _, i := range picked {
					h := w.nodes[i].host
					w.links(func(n *netem.Network) { _ = n.Degrade(simlink.ID(h), d) })
				}
				if w.docker != nil {
					// The world's model shapes the clients' links to the nodes; the nodes
					// shape their links to each other with their own tables.
					w.degradeDockerNodes(picked, f)
				}
			})
		case "offline":
			w.drv.At(at, func() {
				picked := w.pickClients(f.Count, f.Fraction)
				for _, i := range picked {
					w.pinned[i] = true
					w.setClientOnline(i, false)
				}
				w.drv.AfterFunc(f.For, func() {
					for _, i := range picked {
						w.pinned[i] = false
						w.setClientOnline(i, true)
					}
				})
			})
		case "partition":
			if w.docker != nil {
				w.partitionDocker(at, f)
			}
			inside := map[string]bool{}
			for _, r := range f.Regions {
				inside[r] = true
			}
			var a, b []netem.HostID
			for h := range w.eng.Hosts() {
				id := simlink.ID(sim.HostID(h))
				region, _ := w.net.Region(id)
				if inside[w.matrix.Name(region)] {
					a = append(a, id)
				} else {
					b = append(b, id)
				}
			}
			var err error
			w.links(func(n *netem.Network) {
				var pid netem.PartitionID
				if pid, err = n.Partition(at, a, b); err == nil && f.For > 0 {
					err = n.Heal(pid, at.Add(f.For))
				}
			})
			if err != nil {
				return fmt.Errorf("partition fault: %w", err)
			}
		}
	}
	return nil
}

// scheduleChurn runs the node crash and join processes during the sending period.
func (w *world) scheduleChurn() {
	ch := w.sc.Nodes.Churn
	stopAt := w.epoch.Add(w.sc.Warmup + w.sc.Duration)
	if ch.LifetimeMedian > 0 {
		w.lifetimes = w.eng.Stream("churn-lifetime")
		for i := range w.nodes {
			w.endLifetime(i, w.sc.Warmup)
		}
	}
	if ch.CrashesPerHour > 0 {
		w.poisson("churn-crash", ch.CrashesPerHour, stopAt, func() bool {
			for _, i := range w.pickNodes(1, 0, "random") {
				w.crashNode(i)
			}
			return true
		})
	}
	if ch.JoinsPerHour > 0 {
		w.poisson(joinStream, ch.JoinsPerHour, stopAt, func() bool {
			if err := w.joinNode(); err != nil {
				return false
			}
			if w.lifetimes != nil {
				w.endLifetime(len(w.nodes)-1, w.drv.Now().Sub(w.epoch))
			}
			return true
		})
	}
}

// joinStream is the world stream the nodes' join process draws from.
const joinStream = "churn-join"

// churnArrivals are the moments (from the epoch) at which the churn process of stream acts, as
// poisson draws them when every event succeeds: a scenario knows its joins before its world is
// built (docker mode starts a container for each).
func (s Scenario) churnArrivals(stream string, perHour float64) []time.Duration {
	r := sim.WorldStream(s.Seed, stream)
	stop := s.Warmup + s.Duration
	var out []time.Duration
	for t := s.Warmup + expAfter(perHour, r); t < stop; t += expAfter(perHour, r) {
		out = append(out, t)
	}
	return out
}

// poisson runs event at the times of a Poisson process with rate perHour, drawn from the
// world stream of that name, from the start of the sending period until stopAt or until event
// returns false.
func (w *world) poisson(stream string, perHour float64, stopAt time.Time, event func() bool) {
	r := w.eng.Stream(stream)
	var next func()
	next = func() {
		if !w.drv.Now().Before(stopAt) || !event() {
			return
		}
		w.drv.AfterFunc(expAfter(perHour, r), next)
	}
	w.drv.AfterFunc(w.sc.Warmup+expAfter(perHour, r), next)
}

// endLifetime crashes node i when a lifetime drawn from the world's lifetime stream, counted
// from virtual time from, ends within the sending period.
func (w *world) endLifetime(i int, from time.Duration) {
	ch := w.sc.Nodes.Churn
	end := from + paretoLifetime(ch.LifetimeMedian, ch.LifetimeShape, w.lifetimes.Float64())
	if end >= w.sc.Warmup+w.sc.Duration {
		return
	}
	w.drv.AfterFunc(end-w.drv.Now().Sub(w.epoch), func() { w.crashNode(i) })
}

// paretoLifetime is the lifetime at uniform draw u in [0, 1) of a Pareto distribution of the
// second kind (Lomax: P(L > x) = (1 + x/scale)^-shape, the shifted Pareto that peer-to-peer
// churn studies fit, so that short lifetimes occur too) with the given median: scale is
// median / (2^(1/shape) - 1) and the lifetime scale * ((1-u)^(-1/shape) - 1), 1-u lying in
// (0, 1]. Lifetimes beyond about 146 years are capped.
func paretoLifetime(median time.Duration, shape, u float64) time.Duration {
	scale := float64(median) / (math.Pow(2, 1/shape) - 1)
	return time.Duration(min(scale*(math.Pow(1-u, -1/shape)-1), math.MaxInt64/2))
}

// joinNode registers and starts one new node; it learns the list from the registry.
func (w *world) joinNode() error {
	specs, err := w.planNodes(1)
	if err != nil {
		return err
	}
	if w.docker != nil {
		return w.joinDockerNode(specs[0])
	}
	wn, err := w.addNodeHost(specs[0])
	if err != nil {
		return err
	}
	return w.spawnNode(wn, specs[0], nil)
}

// scheduleTraffic schedules what the clients do: their sessions online, their messages and
// their groups' traffic. A world built without it idles.
func (w *world) scheduleTraffic() {
	w.pinned = make([]bool, len(w.clients))
	w.scheduleSessions()
	w.scheduleWorkload()
	w.scheduleGroups()
}

// scheduleSampling counts live copies of every stored message at each interval. A hung node's
// copies do not count: it serves none of them while frozen (live and docker mode cannot even
// ask it), though it still holds them when it resumes.
func (w *world) scheduleSampling(every, total time.Duration) {
	live := func(n int, hash string) bool {
		wn := w.nodes[n]
		if !wn.alive || wn.hung {
			return false
		}
		_, ok, err := wn.n.Store().Get(hash)
		return ok && err == nil
	}
	for t := every; t <= total; t += every {
		at := t
		w.drv.AfterFunc(at, func() { w.col.sampleReplication(at, live) })
	}
}

// fillInfrastructure writes the engine, registry and CPU parts of the summary.
func (w *world) fillInfrastructure(s *results.Summary, total time.Duration) {
	if w.live != nil {
		w.fillLiveInfrastructure(s)
		if w.docker != nil {
			w.fillDockerInfrastructure(s, total)
		}
		return
	}
	st := w.eng.Stats()
	s.Engine = results.Engine{Events: st.Events, Calls: st.Calls, CallTimeouts: st.TimedOut, LateReplies: st.LateReplies}
	var busySum, busyMax float64
	for _, n := range w.nodes {
		b := w.eng.HostBusy(n.host).Seconds()
		busySum += b
		busyMax = max(busyMax, b)
	}
	if len(w.nodes) > 0 {
		mean := busySum / float64(len(w.nodes))
		s.CPU = results.CPU{
			MeanNodeBusySeconds: round6(mean),
			MaxNodeBusySeconds:  round6(busyMax),
			MeanNodeUtilisation: round6(mean / (total.Seconds() * float64(w.sc.Nodes.Cores))),
		}
	}
	s.Traffic.TotalBytes = w.net.Stats().Bytes
}
