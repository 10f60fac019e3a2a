package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/internal/minheap"
	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// The path-selection mode (leakage.horizon) plays months of what decides exposure, without
// message bytes, as TorPS does for Tor: the registry's ledger makes its blocks (registrations,
// decommissions, swarm assignment), nodes crash and join at the scenario's churn rates, and
// every client bootstraps, refreshes its pool, selects and tests guards, builds, rotates and
// repairs paths with the real client's decisions (client.Selector, the router a Client uses).
// Requests are not sent: each client draws them at the rates the full simulation measured
// (leakage.Recorder.RequestRates, per platform and request class) and to the destinations a
// client picks (a member of its own swarm for a poll, of a contact's for a store). Swarm lookups
// (a get_swarm at a random pool node) are made where the client makes them: its own at start,
// a contact's before the first store to it; the run's lookup rates are start-up transients and
// are reported, not extrapolated. What a request exposes depends only on its path, destination and
// account, and only the first request of each (path, destination, account) combination can
// compromise anyone at a level, so the mode records that first one: for a Poisson stream of
// rate λ split evenly over n combinations, the first use of each comes Exp(λ/n) after the
// state began, memorylessly. The records are the leakage package's own, fed through the same
// Recorder as soon as no earlier one can come (in time order, not held to the end of the
// horizon), and Analyze turns them into the same summary section.
//
// A crash touches only the clients with the node on a path (an index kept as paths change), and
// a swarm's change only the clients whose own or contacts' accounts it holds, so node churn
// costs in proportion to the clients it concerns, not to all of them.
//
// Assumptions, and what the mode does not model: requests always succeed and reach their
// destination; a node that crashes is dropped at once by the clients with it on a path (the
// full simulation takes a few failed requests), and by any other client when it would first
// use it: its guard test fails, a path built through it loses it, a lookup drawn at it goes to
// another node; a client's cached swarms follow the published list at once (a
// 421 would correct them within a poll); clients stay online (sessions are folded into the
// measured rates, which are per client-hour); dummy polls and requests that name no account
// are not drawn (they expose nobody); timing, sizes and link observers' views are not played,
// so the correlation figures stay null.
const pathSelectionNote = "path-selection mode: pool refreshes, guard selection and tests, paths, node churn and swarm changes played over the horizon without message bytes; requests drawn at the rates the full simulation measured (request_rates)"

// analyzeLeakage is the leakage section of a run of length total: the run's own records, or
// with leakage.horizon those of the path-selection mode played at the request rates the run
// measured between the warmup and the drain (all that such a run records: see buildWorld).
func (w *world) analyzeLeakage(total time.Duration) (*results.Leakage, error) {
	if w.live != nil {
		w.leak.SortByTime() // live sinks get events in the order of the world lock (see SortByTime)
	}
	if w.sc.Leakage.Horizon <= 0 {
		return leakage.Analyze(w.leak, w.sc.Leakage.specs(), total, w.eng.Stream)
	}
	rates := w.leak.RequestRates(w.sc.Warmup, w.sc.Warmup+w.sc.Duration)
	rec, err := playHorizon(w, rates)
	if err != nil {
		return nil, err
	}
	l, err := leakage.Analyze(rec, w.sc.Leakage.specs(), w.sc.Leakage.Horizon, w.eng.Stream)
	if err != nil {
		return nil, err
	}
	l.Mode, l.HorizonS, l.Note, l.RequestRates = "path-selection", w.sc.Leakage.Horizon.Seconds(), pathSelectionNote, rates
	return l, nil
}

// hNode is a node of the horizon.
type hNode struct {
	spec  placement.Spec
	alive bool
	down  time.Duration // when it crashed, if it did
	gone  bool          // crashed and deregistered
	proof time.Time
}

// hCombo is one (path, destination, account) combination a client's requests may take, at
// rate per hour.
type hCombo struct {
	path int
	key  comboKey
	rate float64
}

// comboKey names a (path, destination, account) combination of a client: the path by its
// number in the client's hClient.pathIDs.
type comboKey struct{ path, dest, account int32 }

// hClient is a client of the horizon.
type hClient struct {
	i        int32
	addr     actor.Addr
	id       identity.ID
	sel      *client.Selector
	r        *rand.Rand
	rates    [5]float64 // per class, in leakage.Classes order
	contacts []int
	sticky   bool
	test     client.GuardTest // how its profile (or the scenario) tests guard candidates
	local    bool             // its profile computes swarms from the pool (no get_swarm)
	refresh  time.Duration    // the profile's pool refresh period
	first    time.Duration    // the profile's one refresh after start (0: none)
	step     time.Duration    // between upkeeps: the refresh, or a shorter rotation or guard lifetime
	stuck    int32            // the sticky member, -1 for none
	paths    [][]int32
	pathID   []int32          // of each of paths, in pathIDs
	pathIDs  map[string]int32 // every path c had (its nodes, 4 bytes each) -> its number
	onPath   []int32          // the nodes of paths, ascending: where horizon.users files c
	last     time.Duration    // the first uses before last are recorded
	started  bool
	ready    bool
	sig      uint64
	combos   []hCombo
	seen     map[comboKey]bool
	poolGen  uint32
	listGen  uint32 // the list of the last install
}

// hEvent is a scheduled step of the horizon.
type hEvent struct {
	at  time.Duration
	seq uint64
	f   func()
}

// Before orders the steps by time, then scheduling order.
func (e hEvent) Before(o hEvent) bool { return e.at < o.at || (e.at == o.at && e.seq < o.seq) }

// hRecord is an event for the recorder, held until no event before it can come: clients record
// the first uses of a state when it ends, so events are made out of time order, and the
// recorder takes them in time order.
type hRecord struct {
	at   time.Duration
	seq  uint64
	from actor.Addr
	ev   actor.Event
}

// horizon is one path-selection playback.
type horizon struct {
	sc      Scenario
	end     time.Duration
	now     time.Duration
	seq     uint64
	queue   minheap.Heap[hEvent]
	pending []hRecord // made, not yet recorded
	rec     *leakage.Recorder
	epoch   time.Time
	tables  *leakage.Tables
	ledger  *registry.Ledger
	seeds   []actor.Addr
	nodes   []*hNode
	dead    int // nodes crashed so far
	// users are, per node, the clients with the node on a path (indexed when the clients'
	// paths change), so that a crash touches only them.
	users   [][]int32
	byKey   map[[32]byte]int32
	clients []*hClient
	planned int
	// The published list: active, running members of each swarm (node indices, key order),
	// with a version that changes when they do, and the swarm ids.
	ring     []swarm.ID
	members  map[swarm.ID][]int32
	version  map[swarm.ID]uint64
	versions uint64
	// watchers are, per swarm of watchRing, the clients whose own or a contact's account it
	// holds: those a change of its members concerns. watched is how many clients were indexed.
	watchers  map[swarm.ID][]int32
	watchRing []swarm.ID
	watched   int
	dir       *client.Directory
	pool      client.PoolList // the active nodes of the published list, as clients install them
	listGen   uint32
}

func (h *horizon) at(t time.Duration, f func()) {
	h.seq++
	h.queue.Push(hEvent{at: t, seq: h.seq, f: f})
}

func (h *horizon) record(at time.Duration, from actor.Addr, ev actor.Event) {
	h.seq++
	h.pending = append(h.pending, hRecord{at: at, seq: h.seq, from: from, ev: ev})
}

// flushEvery is how often (in virtual time) the events no later one can precede are recorded.
const flushEvery = time.Hour

// flush hands the recorder, in (time, sequence) order, the pending events made before every
// event still to come: those before until, and before each started client's last (what it
// records next comes after).
func (h *horizon) flush(until time.Duration) {
	for _, c := range h.clients {
		if c.started {
			until = min(until, c.last)
		}
	}
	slices.SortFunc(h.pending, func(a, b hRecord) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	n := 0
	for ; n < len(h.pending) && h.pending[n].at < until; n++ {
		r := &h.pending[n]
		h.rec.Observe(h.epoch.Add(r.at), r.from, r.ev)
	}
	h.pending = slices.Delete(h.pending, 0, n)
}

func (h *horizon) stream(name string) *rand.Rand { return sim.WorldStream(h.sc.Seed, "horizon/"+name) }

// playHorizon plays the scenario's leakage.horizon in the path-selection mode, with requests
// at rates (per platform, per class, per client-hour), over the clients, contact graph and
// seed nodes of the world w, and returns the recorder of what it played.
func playHorizon(w *world, rates map[string]map[string]float64) (*leakage.Recorder, error) {
	h, err := newHorizon(w, rates)
	if err != nil {
		return nil, err
	}
	return h.play(), nil
}

// newHorizon sets up the playback of playHorizon: the network at its start, every client
// scheduled to start within the warmup, blocks and churn scheduled.
func newHorizon(w *world, rates map[string]map[string]float64) (*horizon, error) {
	sc := w.sc
	h := &horizon{sc: sc, end: sc.Leakage.Horizon, tables: leakage.NewTables(), seeds: w.seeds, epoch: w.epoch,
		byKey: map[[32]byte]int32{}, members: map[swarm.ID][]int32{}, version: map[swarm.ID]uint64{}}
	h.rec = leakage.NewRecorder(h.tables, w.epoch)
	h.dir = client.NewDirectory()
	var err error
	if h.ledger, err = registry.NewLedger(sc.registryConfig()); err != nil {
		return nil, fmt.Errorf("path selection: registry: %w", err)
	}
	if err := h.join(sc.Nodes.Count); err != nil {
		return nil, err
	}
	h.block()
	h.publish()

	start := h.stream("start")
	for i, wc := range w.clients {
		info := w.leak.T.Clients[i]
		h.tables.AddClient(info)
		pl, _ := client.ParsePlatform(wc.platform)
		np, err := sc.Clients.profile(pl)
		if err != nil {
			return nil, &Error{Key: "clients.profiles." + wc.platform, Reason: err.Error()}
		}
		ccfg := np.Config()
		ccfg.Directory = h.dir
		sc.Clients.applyDefences(&ccfg)
		c := &hClient{i: int32(i), addr: wc.addr, id: wc.id, r: h.stream(wc.name), contacts: wc.contacts, stuck: -1,
			pathIDs: map[string]int32{}, seen: map[comboKey]bool{}}
		c.sticky = ccfg.Poll.Sticky && ccfg.Poll.SwitchAfter == 0
		c.test = ccfg.GuardTest
		c.local = ccfg.LocalSwarms
		c.refresh, c.step = ccfg.PoolRefreshEvery, ccfg.PoolRefreshEvery
		c.first = ccfg.PoolRefreshFirst
		for _, d := range []time.Duration{ccfg.PathRotate, ccfg.GuardLifetime} {
			if d > 0 {
				c.step = min(c.step, d)
			}
		}
		for k, cl := range leakage.Classes {
			c.rates[k] = rates[wc.platform][cl]
		}
		if c.sel, err = client.NewSelector(ccfg, c.r, func(ev actor.Event) { h.observe(c, ev) }); err != nil {
			return nil, fmt.Errorf("path selection: client %s: %w", wc.name, err)
		}
		h.clients = append(h.clients, c)
		h.at(time.Duration(start.Float64()*float64(sc.Warmup)), func() { h.startClient(c) })
	}
	h.at(sc.Registry.BlockInterval, h.blockStep)
	h.scheduleChurn()
	return h, nil
}

// play runs the horizon to its end and returns the recorder of what it played.
func (h *horizon) play() *leakage.Recorder {
	nextFlush := flushEvery
	for h.queue.Len() > 0 {
		e := h.queue.Pop()
		if e.at >= h.end {
			break
		}
		h.now = e.at
		e.f()
		if h.now >= nextFlush {
			h.flush(h.now)
			nextFlush = h.now + flushEvery
		}
	}
	h.now = h.end
	for _, c := range h.clients {
		h.advance(c, h.end)
	}
	h.flush(math.MaxInt64)
	return h.rec
}

// join plans, registers and starts count more nodes (named as the world names them, from the
// same placement streams, so the first ones are the full simulation's nodes).
func (h *horizon) join(count int) error {
	specs, err := placement.Plan(h.sc.placementConfig(count, h.planned), sim.WorldStream(h.sc.Seed, planStream(h.planned)))
	if err != nil {
		return fmt.Errorf("path selection: planning nodes: %w", err)
	}
	h.planned += count
	for _, sp := range specs {
		if err := h.ledger.Register(sp.Registration); err != nil {
			return fmt.Errorf("path selection: registering %s: %w", sp.Name, err)
		}
		h.byKey[sp.Ed25519] = int32(len(h.nodes))
		h.nodes = append(h.nodes, &hNode{spec: sp, alive: true})
		h.users = append(h.users, nil)
		h.tables.AddNode(nodeInfo(sp))
	}
	return nil
}

// block makes a ledger block: running nodes prove their uptime (as often as the nodes of the
// full simulation do) and a running node reports each crashed one unreachable, as the nodes'
// reachability tests would. That is one oxend's view: it decides in the pooled mode, while the
// obligations quorum votes a crashed node out once its proofs are too old for every validator
// (on thousands of nodes, before most storage servers have tested it).
func (h *horizon) block() {
	now := h.epochTime(h.now)
	every := min(time.Hour, h.sc.Registry.UptimeProofMaxAge/2)
	tester := int32(-1)
	for i, n := range h.nodes {
		if n.alive {
			if tester < 0 {
				tester = int32(i)
			}
			if n.proof.IsZero() || now.Sub(n.proof) >= every {
				_ = h.ledger.UptimeProof(n.spec.Ed25519, now)
				n.proof = now
			}
		}
	}
	if tester >= 0 {
		for _, n := range h.nodes {
			if n.alive || n.gone {
				continue
			}
			if h.ledger.Report(h.nodes[tester].spec.Ed25519, n.spec.Ed25519, false, now) != nil {
				// The ledger takes no report about a deregistered node, and it never comes back.
				r, _ := h.ledger.Node(n.spec.Ed25519)
				n.gone = r.State == registry.StateDeregistered
			}
		}
	}
	if res := h.ledger.Block(now); res.Changed {
		h.at(h.now+h.sc.Registry.ListDelay, h.publish)
	}
}

func (h *horizon) blockStep() {
	h.block()
	h.at(h.now+h.sc.Registry.BlockInterval, h.blockStep)
}

func (h *horizon) epochTime(d time.Duration) time.Time { return time.Unix(0, 0).UTC().Add(d) }

// publish takes the ledger's list as the one seed and pool nodes answer with, and moves every
// client whose swarms it changed into its new state.
func (h *horizon) publish() {
	list := h.ledger.List()
	h.listGen++
	var active []client.NodeInfo
	members := map[swarm.ID][]int32{}
	for _, p := range list.Nodes {
		if !p.Active() {
			continue
		}
		active = append(active, client.NodeInfo{Ed25519: p.Ed25519, X25519: p.X25519, Addr: p.Addr})
		if i := h.byKey[p.Ed25519]; h.nodes[i].alive {
			members[p.Swarm] = append(members[p.Swarm], i)
		}
	}
	h.pool = h.dir.PoolList(active)
	h.ring = list.Ring().IDs()
	h.setMembers(members)
}

// setMembers installs the swarms' running members, bumping the version of each that changed,
// and refreshes the clients that read a changed swarm.
func (h *horizon) setMembers(members map[swarm.ID][]int32) {
	var changed []swarm.ID
	for _, id := range h.ring {
		if !slices.Equal(h.members[id], members[id]) {
			h.versions++
			h.version[id] = h.versions
			changed = append(changed, id)
		}
	}
	h.members = members
	for _, i := range h.watching(changed) {
		if c := h.clients[i]; c.ready {
			h.advance(c, h.now)
			h.refresh(c)
		}
	}
}

// watching lists, ascending, the clients whose own or a contact's swarm is one of ids; every
// client when the ring changed (the swarm that holds an account may then change) or clients
// were added since the index was made.
func (h *horizon) watching(ids []swarm.ID) []int32 {
	if !slices.Equal(h.watchRing, h.ring) || h.watched != len(h.clients) {
		h.watchRing, h.watched = h.ring, len(h.clients)
		h.watchers = map[swarm.ID][]int32{}
		all := make([]int32, len(h.clients))
		for _, c := range h.clients {
			all[c.i] = c.i
			for _, who := range append([]int{int(c.i)}, c.contacts...) {
				if id, ok := swarm.Owner(h.ring, swarm.SpaceOf(h.clients[who].id)); ok {
					if l := h.watchers[id]; len(l) == 0 || l[len(l)-1] != c.i {
						h.watchers[id] = append(l, c.i)
					}
				}
			}
		}
		return all
	}
	var out []int32
	for _, id := range ids {
		out = append(out, h.watchers[id]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// scheduleChurn runs the scenario's crash and join processes over the horizon.
func (h *horizon) scheduleChurn() {
	ch := h.sc.Nodes.Churn
	if ch.CrashesPerHour > 0 {
		r := h.stream("churn-crash")
		var crash func()
		crash = func() {
			var alive []int32
			for i, n := range h.nodes {
				if n.alive {
					alive = append(alive, int32(i))
				}
			}
			if len(alive) > 0 {
				h.crash(alive[r.IntN(len(alive))])
			}
			h.at(h.now+expAfter(ch.CrashesPerHour, r), crash)
		}
		h.at(h.sc.Warmup+expAfter(ch.CrashesPerHour, r), crash)
	}
	if ch.JoinsPerHour > 0 {
		r := h.stream("churn-join")
		var join func()
		join = func() {
			if h.join(1) == nil {
				h.at(h.now+expAfter(ch.JoinsPerHour, r), join)
			}
		}
		h.at(h.sc.Warmup+expAfter(ch.JoinsPerHour, r), join)
	}
}

// crash stops node i: it answers nothing from now on; the clients with it on a path drop it
// (their next requests through it would fail), swarms lose it. Other clients keep it in their
// pool until they would first use it (see prepare and lookup) or a refresh no longer lists it.
func (h *horizon) crash(i int32) {
	h.nodes[i].alive, h.nodes[i].down = false, h.now
	h.dead++
	key := h.nodes[i].spec.Ed25519
	// Its oxend, on the same machine, votes no more.
	_ = h.ledger.Halt(key)
	for _, ci := range slices.Sorted(slices.Values(h.users[i])) {
		if c := h.clients[ci]; c.ready {
			h.advance(c, h.now)
			c.sel.NodeDown(key, h.epochTime(h.now))
			c.poolGen++
			h.prepare(c)
		}
	}
	members := map[swarm.ID][]int32{}
	for id, ms := range h.members {
		members[id] = slices.DeleteFunc(slices.Clone(ms), func(x int32) bool { return x == i })
	}
	h.setMembers(members)
}

// observe records what a client's path selection reports, as the full simulation's client and
// nodes would report it.
func (h *horizon) observe(c *hClient, ev actor.Event) {
	switch e := ev.(type) {
	case client.GuardTested:
		var accounts [][33]byte
		method := "get_swarm"
		switch c.test {
		case client.GuardTestPing:
			method = "info"
		case client.GuardTestRandomID:
			accounts = [][33]byte{{}}
		default:
			e.Account = c.id
			accounts = [][33]byte{c.id}
		}
		h.record(h.now, c.addr, e)
		if i := h.tables.NodeByIP(e.Guard.Addr()); i >= 0 && h.nodes[i].alive {
			h.record(h.now, e.Guard, node.RequestServed{Method: method, Via: node.ViaDirect, Status: 200, From: c.addr.Addr(), Accounts: accounts})
		}
	case client.PathBuilt:
		h.record(h.now, c.addr, e)
	}
}

// startClient opens the app: a pool from the seed nodes, its guards and paths, the lookup of
// its own swarm, then the periodic upkeep and the lookup of each contact's swarm before the
// first store to it.
func (h *horizon) startClient(c *hClient) {
	for _, s := range h.seeds {
		h.record(h.now, s, registry.SeedRequest{From: c.addr.Addr()})
	}
	c.last, c.started = h.now, true
	h.install(c)
	if c.ready {
		h.lookup(c, c.i)
	}
	h.scheduleUpkeep(c)
	// A client looks a contact's swarm up when it first writes to it, and keeps it (a 421
	// corrects it): the lookups of the run are this start-up, not a steady rate.
	if rate := c.rates[slices.Index(leakage.Classes, leakage.ClassStore)]; rate > 0 {
		for _, j := range c.contacts {
			h.at(h.now+expAfter(rate/float64(len(c.contacts)), c.r), func() {
				if c.ready {
					h.lookup(c, int32(j))
				}
			})
		}
	}
}

// install refreshes c's pool from the published list and prepares its paths.
func (h *horizon) install(c *hClient) {
	h.advance(c, h.now)
	c.sel.Install(h.pool, h.epochTime(h.now))
	if c.listGen != h.listGen {
		c.listGen = h.listGen
		c.poolGen++
	}
	// Crashed nodes the list still has come back into the pool; those on a path fail its next
	// requests and go again.
	h.dropDead(c)
	h.prepare(c)
}

// prepare runs the client's path upkeep and moves it to its new state. A crashed node still
// in the pool fails its guard test, and a path built through it loses it at its first request,
// so the upkeep is run until no path has one.
func (h *horizon) prepare(c *hClient) {
	alive := func(n client.NodeInfo) bool { return h.nodes[h.byKey[n.Ed25519]].alive }
	for {
		c.ready = c.sel.Prepare(h.epochTime(h.now), alive)
		if !h.dropDead(c) {
			break
		}
	}
	h.refresh(c)
}

// dropDead drops the crashed nodes on c's paths, as the first requests through them would, and
// reports whether there were any.
func (h *horizon) dropDead(c *hClient) bool {
	if h.dead == 0 {
		return false
	}
	dropped := false
	for _, p := range c.sel.Paths() {
		for _, k := range p {
			if !h.nodes[h.byKey[k]].alive {
				c.sel.NodeDown(k, h.epochTime(h.now))
				c.poolGen++
				dropped = true
			}
		}
	}
	return dropped
}

// scheduleUpkeep runs the client's pool refresh every PoolRefreshEvery (and once
// PoolRefreshFirst after start, the desktop's) and, between, its path rotation and guard
// retirement when its profile or the scenario turns them on.
func (h *horizon) scheduleUpkeep(c *hClient) {
	if c.first > 0 && c.first < c.refresh {
		h.at(h.now+c.first, func() { h.install(c) })
	}
	refresh, step := c.refresh, c.step
	nextRefresh := h.now + refresh
	var tick func()
	tick = func() {
		if h.now >= nextRefresh {
			nextRefresh += refresh
			h.install(c)
		} else {
			h.advance(c, h.now)
			h.prepare(c)
		}
		h.at(h.now+step, tick)
	}
	h.at(h.now+step, tick)
}

// lookup records a get_swarm for who's account at a random pool node, now. A crashed node
// drawn does not answer: the client drops it and draws again. A client that computes swarms
// from its pool (client.Config.LocalSwarms) sends none.
func (h *horizon) lookup(c *hClient, who int32) {
	if c.local {
		return
	}
	dest, ok := c.sel.PickPool()
	for ok && !h.nodes[h.byKey[dest]].alive {
		c.sel.NodeDown(dest, h.epochTime(h.now))
		c.poolGen++
		dest, ok = c.sel.PickPool()
	}
	if !ok {
		return
	}
	k := c.sel.ChoosePath(dest)
	if k < 0 {
		return
	}
	h.use(c, h.now, k, comboKey{c.pathID[k], h.byKey[dest], who}, "get_swarm")
}

// use records the first request of the combination key, whose path is c.paths[k].
func (h *horizon) use(c *hClient, at time.Duration, k int, key comboKey, method string) {
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	path := make([]actor.Addr, len(c.paths[k]))
	for j, n := range c.paths[k] {
		path[j] = h.nodes[n].spec.Addr
	}
	h.record(at, c.addr, client.OnionRoundTrip{Method: method, Guard: path[0], Dest: h.nodes[key.dest].spec.Addr,
		Path: path, Account: h.clients[key.account].id})
}

// index files c under the nodes of its paths in users.
func (h *horizon) index(c *hClient) {
	var on []int32
	for _, p := range c.paths {
		on = append(on, p...)
	}
	slices.Sort(on)
	on = slices.Compact(on)
	for _, n := range c.onPath {
		if _, found := slices.BinarySearch(on, n); !found {
			h.users[n] = slices.DeleteFunc(h.users[n], func(x int32) bool { return x == c.i })
		}
	}
	for _, n := range on {
		if _, found := slices.BinarySearch(c.onPath, n); !found {
			h.users[n] = append(h.users[n], c.i)
		}
	}
	c.onPath = on
}

// reach is the running members of who's swarm in c's pool, in key order, at most 16 (what
// the client's pickMember draws from).
func (h *horizon) reach(c *hClient, who int32) []int32 {
	id, ok := swarm.Owner(h.ring, swarm.SpaceOf(h.clients[who].id))
	if !ok {
		return nil
	}
	var out []int32
	for _, m := range h.members[id] {
		if len(out) < 16 && c.sel.InPool(h.nodes[m].spec.Ed25519) {
			out = append(out, m)
		}
	}
	return out
}

// refresh recomputes c's combinations if its state (paths, pool, its and its contacts'
// swarms) changed.
func (h *horizon) refresh(c *hClient) {
	if !c.ready {
		c.combos = nil
		return
	}
	keys := c.sel.Paths()
	c.paths, c.pathID = c.paths[:0], c.pathID[:0]
	sig := uint64(c.poolGen) * 0x9e3779b97f4a7c15
	for _, p := range keys {
		var ix []int32
		for _, k := range p {
			ix = append(ix, h.byKey[k])
			sig = sig*1099511628211 ^ uint64(h.byKey[k])
		}
		c.paths = append(c.paths, ix)
		c.pathID = append(c.pathID, internPath(c, ix))
	}
	h.index(c)
	for _, who := range append([]int{int(c.i)}, c.contacts...) {
		if id, ok := swarm.Owner(h.ring, swarm.SpaceOf(h.clients[who].id)); ok {
			sig = sig*1099511628211 ^ uint64(id) ^ h.version[id]<<1
		}
	}
	if sig == c.sig && c.combos != nil {
		return
	}
	c.sig = sig
	c.combos = c.combos[:0]
	add := func(who int32, members []int32, rate float64) {
		for _, m := range members {
			avoid := 0
			for _, p := range c.paths {
				if !slices.Contains(p, m) {
					avoid++
				}
			}
			for k, p := range c.paths {
				if slices.Contains(p, m) {
					continue
				}
				// A combination used already can expose nobody again: it is not drawn.
				if key := (comboKey{c.pathID[k], m, who}); !c.seen[key] {
					c.combos = append(c.combos, hCombo{path: k, key: key, rate: rate / float64(len(members)*avoid)})
				}
			}
		}
	}
	own := h.reach(c, c.i)
	if c.sticky && len(own) > 0 {
		if !slices.Contains(own, c.stuck) {
			c.stuck = own[c.r.IntN(len(own))]
		}
		own = []int32{c.stuck}
	}
	if r := c.rates[0]; r > 0 {
		add(c.i, own, r)
	}
	if r := c.rates[4]; r > 0 {
		add(c.i, h.reach(c, c.i), r) // sync copies go to any member, however the client polls
	}
	if r := c.rates[2]; r > 0 && len(c.contacts) > 0 {
		for _, j := range c.contacts {
			add(int32(j), h.reach(c, int32(j)), r/float64(len(c.contacts)))
		}
	}
}

// advance records the first uses, between c.last and t, of the combinations c's requests
// could take in its current state: for a Poisson stream, the first use of a combination of
// rate λ comes Exp(λ) after the state began. A combination used is dropped (one a lookup used
// meanwhile records nothing when drawn: use knows it).
func (h *horizon) advance(c *hClient, t time.Duration) {
	if c.ready && t > c.last {
		c.combos = slices.DeleteFunc(c.combos, func(cb hCombo) bool {
			u := c.last + time.Duration(c.r.ExpFloat64()/cb.rate*float64(time.Hour))
			if u >= t {
				return false
			}
			method := "retrieve"
			if cb.key.account != c.i {
				method = "store"
			}
			h.use(c, u, cb.path, cb.key, method)
			return true
		})
	}
	c.last = max(c.last, t)
}

// internPath is the number of path (node indices) among those c had, new ones numbered in
// order.
func internPath(c *hClient, path []int32) int32 {
	b := make([]byte, 0, 4*len(path))
	for _, x := range path {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	id, ok := c.pathIDs[string(b)]
	if !ok {
		id = int32(len(c.pathIDs))
		c.pathIDs[string(b)] = id
	}
	return id
}
