package scenarios

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
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
// Recorder, and Analyze turns them into the same summary section.
//
// Assumptions, and what the mode does not model: requests always succeed and reach their
// destination; a node that crashes is dropped by every client at once (the full simulation
// takes a few failed requests); a client's cached swarms follow the published list at once (a
// 421 would correct them within a poll); clients stay online (sessions are folded into the
// measured rates, which are per client-hour); dummy polls and requests that name no account
// are not drawn (they expose nobody); timing, sizes and link observers' views are not played,
// so the correlation figures stay null.
const pathSelectionNote = "path-selection mode: pool refreshes, guard selection and tests, paths, node churn and swarm changes played over the horizon without message bytes; requests drawn at the rates the full simulation measured (request_rates)"

// analyzeLeakage is the leakage section of a run of length total: the run's own records, or
// with leakage.horizon those of the path-selection mode played at the request rates the run
// measured between the warmup and the drain.
func (w *world) analyzeLeakage(total time.Duration) (*results.Leakage, error) {
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
	proof time.Time
}

// hCombo is one (path, destination, account) combination a client's requests may take, at
// rate per hour.
type hCombo struct {
	path    int
	dest    int32
	account int32
	rate    float64
}

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
	stuck    int32 // the sticky member, -1 for none
	paths    [][]int32
	last     time.Duration
	ready    bool
	sig      uint64
	combos   []hCombo
	seen     map[string]bool
	poolGen  uint32
	listGen  uint32 // the list of the last install
}

// hEvent is a scheduled step of the horizon.
type hEvent struct {
	at  time.Duration
	seq uint64
	f   func()
}

type hQueue []hEvent

func (q hQueue) Len() int { return len(q) }
func (q hQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q hQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *hQueue) Push(x any)   { *q = append(*q, x.(hEvent)) }
func (q *hQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// hRecord is an event for the recorder, kept until the horizon ends so that the recorder gets
// every event in time order (clients record the first uses of a state when it ends).
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
	queue   hQueue
	records []hRecord
	tables  *leakage.Tables
	ledger  *registry.Ledger
	seeds   []actor.Addr
	nodes   []*hNode
	byKey   map[[32]byte]int32
	clients []*hClient
	planned int
	// The published list: active, running members of each swarm (node indices, key order),
	// with a version that changes when they do, and the swarm ids.
	ring     []swarm.ID
	members  map[swarm.ID][]int32
	version  map[swarm.ID]uint64
	versions uint64
	dir      *client.Directory
	pool     client.PoolList // the active nodes of the published list, as clients install them
	listGen  uint32
	test     client.GuardTest
}

func (h *horizon) at(t time.Duration, f func()) {
	h.seq++
	heap.Push(&h.queue, hEvent{at: t, seq: h.seq, f: f})
}

func (h *horizon) record(at time.Duration, from actor.Addr, ev actor.Event) {
	h.seq++
	h.records = append(h.records, hRecord{at: at, seq: h.seq, from: from, ev: ev})
}

func (h *horizon) stream(name string) *rand.Rand { return sim.WorldStream(h.sc.Seed, "horizon/"+name) }

// playHorizon plays the scenario's leakage.horizon in the path-selection mode, with requests
// at rates (per platform, per class, per client-hour), over the clients, contact graph and
// seed nodes of the world w, and returns the recorder of what it played.
func playHorizon(w *world, rates map[string]map[string]float64) (*leakage.Recorder, error) {
	sc := w.sc
	h := &horizon{sc: sc, end: sc.Leakage.Horizon, tables: leakage.NewTables(), seeds: w.seeds,
		byKey: map[[32]byte]int32{}, members: map[swarm.ID][]int32{}, version: map[swarm.ID]uint64{}}
	h.test, _ = client.ParseGuardTest(sc.Clients.GuardTest)
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
		ccfg := client.Config{Platform: pl, Directory: h.dir}
		sc.Clients.applyDefences(&ccfg)
		c := &hClient{i: int32(i), addr: wc.addr, id: wc.id, r: h.stream(wc.name), contacts: wc.contacts, stuck: -1, seen: map[string]bool{}}
		prof := client.DefaultProfile(pl)
		c.sticky = prof.Sticky && prof.SwitchAfter == 0
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

	for h.queue.Len() > 0 {
		e := heap.Pop(&h.queue).(hEvent)
		if e.at >= h.end {
			break
		}
		h.now = e.at
		e.f()
	}
	h.now = h.end
	for _, c := range h.clients {
		h.advance(c, h.end)
	}
	slices.SortFunc(h.records, func(a, b hRecord) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	rec := leakage.NewRecorder(h.tables, w.epoch)
	for _, r := range h.records {
		rec.Observe(w.epoch.Add(r.at), r.from, r.ev)
	}
	return rec, nil
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
		h.tables.AddNode(nodeInfo(sp))
	}
	return nil
}

// block makes a ledger block: running nodes prove their uptime (as often as the nodes of the
// full simulation do) and a running node reports each crashed one unreachable, as the nodes'
// reachability tests would.
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
			if !n.alive {
				_ = h.ledger.Report(h.nodes[tester].spec.Ed25519, n.spec.Ed25519, false, now)
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
// and refreshes the clients.
func (h *horizon) setMembers(members map[swarm.ID][]int32) {
	for _, id := range h.ring {
		if !slices.Equal(h.members[id], members[id]) {
			h.versions++
			h.version[id] = h.versions
		}
	}
	h.members = members
	for _, c := range h.clients {
		if c.ready {
			h.advance(c, h.now)
			h.refresh(c)
		}
	}
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

// crash stops node i: it answers nothing from now on; clients drop it, swarms lose it.
func (h *horizon) crash(i int32) {
	h.nodes[i].alive = false
	key := h.nodes[i].spec.Ed25519
	for _, c := range h.clients {
		if c.ready && c.sel.InPool(key) {
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
		switch h.test {
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
	c.last = h.now
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
	for _, p := range c.sel.Paths() {
		for _, k := range p {
			if !h.nodes[h.byKey[k]].alive {
				c.sel.NodeDown(k, h.epochTime(h.now))
				c.poolGen++
			}
		}
	}
	h.prepare(c)
}

// prepare runs the client's path upkeep and moves it to its new state.
func (h *horizon) prepare(c *hClient) {
	c.ready = c.sel.Prepare(h.epochTime(h.now), func(n client.NodeInfo) bool { return h.nodes[h.byKey[n.Ed25519]].alive })
	h.refresh(c)
}

// scheduleUpkeep runs the client's pool refresh every PoolRefreshEvery and, between, its path
// rotation and guard retirement when the scenario turns them on.
func (h *horizon) scheduleUpkeep(c *hClient) {
	refresh := client.DefaultConfig(client.Desktop).PoolRefreshEvery
	step := refresh
	for _, d := range []time.Duration{h.sc.Clients.PathRotation, h.sc.Clients.GuardLifetime} {
		if d > 0 {
			step = min(step, d)
		}
	}
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

// lookup records a get_swarm for who's account at a random pool node, now.
func (h *horizon) lookup(c *hClient, who int32) {
	dest, ok := c.sel.PickPool()
	if !ok || !h.nodes[h.byKey[dest]].alive {
		return
	}
	k := c.sel.ChoosePath(dest)
	if k < 0 {
		return
	}
	h.use(c, h.now, k, h.byKey[dest], who, "get_swarm")
}

// use records the first request of a (path, destination, account) combination.
func (h *horizon) use(c *hClient, at time.Duration, k int, dest, account int32, method string) {
	key := comboKey(c.paths[k], dest, account)
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	path := make([]actor.Addr, len(c.paths[k]))
	for j, n := range c.paths[k] {
		path[j] = h.nodes[n].spec.Addr
	}
	h.record(at, c.addr, client.OnionRoundTrip{Method: method, Guard: path[0], Dest: h.nodes[dest].spec.Addr,
		Path: path, Account: h.clients[account].id})
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
	c.paths = c.paths[:0]
	sig := uint64(c.poolGen) * 0x9e3779b97f4a7c15
	for _, p := range keys {
		var ix []int32
		for _, k := range p {
			ix = append(ix, h.byKey[k])
			sig = sig*1099511628211 ^ uint64(h.byKey[k])
		}
		c.paths = append(c.paths, ix)
	}
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
				if !slices.Contains(p, m) {
					c.combos = append(c.combos, hCombo{path: k, dest: m, account: who, rate: rate / float64(len(members)*avoid)})
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
// rate λ comes Exp(λ) after the state began.
func (h *horizon) advance(c *hClient, t time.Duration) {
	if c.ready && t > c.last {
		for _, cb := range c.combos {
			u := c.last + time.Duration(c.r.ExpFloat64()/cb.rate*float64(time.Hour))
			if u < t {
				method := "retrieve"
				if cb.account != c.i {
					method = "store"
				}
				h.use(c, u, cb.path, cb.dest, cb.account, method)
			}
		}
		c.combos = slices.DeleteFunc(c.combos, func(cb hCombo) bool {
			return c.seen[comboKey(c.paths[cb.path], cb.dest, cb.account)]
		})
	}
	c.last = max(c.last, t)
}

// comboKey names a (path, destination, account) combination.
func comboKey(path []int32, dest, account int32) string {
	b := make([]byte, 0, 4*(len(path)+2))
	for _, x := range append(slices.Clone(path), dest, account) {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return string(b)
}
