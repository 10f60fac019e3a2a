package leakage

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/results"
)

// Levels measured from node views, in the order they are computed.
const (
	levelDirect = iota
	levelGuardDest
	levelFullPath
	levelCorrelation
	nLevels
)

// Analyze joins the records over the adversaries' coalitions and returns the summary section.
// end is the run's length; stream gives the adversaries' own random streams.
func Analyze(r *Recorder, specs []Spec, end time.Duration, stream func(string) *rand.Rand) (*results.Leakage, error) {
	gs, err := groups(specs, r.T, stream)
	if err != nil {
		return nil, err
	}
	a := newActivity(r)
	out := &results.Leakage{
		Adversaries:               []results.Adversary{},
		GuardCandidatesTestedMean: round6(a.guardTestedMean(r)),
		ActiveClients:             a.active,
		ActivePairs:               len(a.pairs),
		Roles:                     viewTable(r),
	}
	if len(r.T.Nodes) > 0 {
		out.ClientsPerNode = round6(float64(len(r.T.Clients)) / float64(len(r.T.Nodes)))
	}
	ob := observe(r)
	tr := newTruthIndex(r)
	sc := newAttackScratch(len(r.T.Clients))
	var lsc *linkScratch
	for i := range gs {
		if gs[i].link && lsc == nil {
			lsc = newLinkScratch(len(r.T.Clients), ob.delta)
		}
		out.Adversaries = append(out.Adversaries, a.evaluate(r, ob, tr, sc, lsc, &gs[i], end, stream))
	}
	return out, nil
}

// activity is who was active, from when, and the pairs of clients that wrote to each other.
type activity struct {
	origin []time.Duration // first request to a service node; -1 if none
	active int
	pairs  map[[2]int32]int32 // (sender, recipient) -> pair index, in first-store order
	pairOf [][2]int32
}

func newActivity(r *Recorder) *activity {
	a := &activity{origin: make([]time.Duration, len(r.T.Clients)), pairs: map[[2]int32]int32{}}
	for i := range a.origin {
		a.origin[i] = -1
	}
	seen := func(c int32, t time.Duration) {
		if c >= 0 && (a.origin[c] < 0 || t < a.origin[c]) {
			a.origin[c] = t
		}
	}
	for _, d := range r.Direct {
		seen(d.Client, d.At)
	}
	store := r.methodCodeIfKnown("store")
	for i := range r.Onion {
		o := &r.Onion[i]
		seen(o.Client, o.Sent)
		if o.Method == store && o.Account >= 0 && o.Client >= 0 && o.Account != o.Client {
			k := [2]int32{o.Client, o.Account}
			if _, ok := a.pairs[k]; !ok {
				a.pairs[k] = int32(len(a.pairOf))
				a.pairOf = append(a.pairOf, k)
			}
		}
	}
	for _, o := range a.origin {
		if o >= 0 {
			a.active++
		}
	}
	return a
}

func (r *Recorder) methodCodeIfKnown(m string) uint8 {
	if c, ok := r.method[m]; ok {
		return c
	}
	return 255
}

// guardTestedMean is the mean number of distinct candidates an active client tested.
func (a *activity) guardTestedMean(r *Recorder) float64 {
	if a.active == 0 {
		return 0
	}
	tested := map[[2]int32]bool{}
	for _, g := range r.GuardTests {
		if g.Client >= 0 {
			tested[[2]int32{g.Client, g.Node}] = true
		}
	}
	return float64(len(tested)) / float64(a.active)
}

// DirectContacts is, per client, the number of distinct nodes that got a direct request from
// its address naming its own Session ID (the m of 1-(1-f)^m).
func (r *Recorder) DirectContacts() []int {
	seen := map[[2]int32]bool{}
	m := make([]int, len(r.T.Clients))
	for _, d := range r.Direct {
		if d.Client < 0 || !slices.Contains(r.Accounts(d.Accounts), d.Client) {
			continue
		}
		k := [2]int32{d.Client, d.Node}
		if !seen[k] {
			seen[k] = true
			m[d.Client]++
		}
	}
	return m
}

// compromise is a client's first compromise in one draw, at absolute time at.
type compromise struct {
	client int32
	at     time.Duration
}

// evaluate measures one group.
func (a *activity) evaluate(r *Recorder, ob *observations, tr truthIndex, sc *attackScratch, lsc *linkScratch, g *group, end time.Duration, stream func(string) *rand.Rand) results.Adversary {
	if g.kind == KindServer {
		return a.evaluateServer(r, ob, g)
	}
	adv := results.Adversary{Name: g.name, Kind: g.kind, Fraction: g.fraction, View: "node", Draws: g.draws}
	nodes := 0
	for _, m := range g.node {
		nodes += bits.OnesCount64(m)
	}
	if g.link {
		adv.View = "link"
		v := a.timingBothEnds(r, g)
		adv.TimingBothEnds = &v
		adv.Linkability, adv.AnonymitySet = a.linkLinkability(r, ob, tr, lsc, g, end, stream)
	} else {
		adv.Nodes = round6(float64(nodes) / float64(g.draws))
		k := ob.overheadFor(g)
		withSize, timingOnly := newSizeIndex(ob, g, k, false), newSizeIndex(ob, g, k, true)
		var corr correlated
		adv.Linkability, corr = a.linkability(r, ob, tr, sc, g, withSize, timingOnly, end, stream)
		a.nodeLevels(r, g, end, &adv, corr)
		adv.AnonymitySet = a.anonymitySets(r, ob, g, withSize, sc, stream)
		adv.ContactGraph = contactGraph(r, ob, g, withSize, sc, end)
	}
	return adv
}

// nodeLevels computes the node-view levels, for clients and for pairs, into adv; the
// correlation level comes from the attack's true links in corr.
func (a *activity) nodeLevels(r *Recorder, g *group, end time.Duration, adv *results.Adversary, corr correlated) {
	nc := len(r.T.Clients)
	var seen, pairSeen [nLevels][]uint64
	var firsts [nLevels][][]compromise
	for l := range nLevels {
		seen[l] = make([]uint64, nc)
		pairSeen[l] = make([]uint64, len(a.pairOf))
		firsts[l] = make([][]compromise, g.draws)
	}
	hit := func(l int, c int32, t time.Duration, m uint64) {
		fresh := m &^ seen[l][c]
		seen[l][c] |= fresh
		for ; fresh != 0; fresh &= fresh - 1 {
			d := bits.TrailingZeros64(fresh)
			firsts[l][d] = append(firsts[l][d], compromise{client: c, at: t})
		}
	}
	mask := func(n int32) uint64 {
		if n < 0 {
			return 0
		}
		return g.node[n]
	}
	for _, d := range r.Direct {
		m := mask(d.Node)
		if d.Client < 0 || m == 0 {
			continue
		}
		for _, acc := range r.Accounts(d.Accounts) {
			if acc == d.Client {
				hit(levelDirect, d.Client, d.At, m)
			} else if p, ok := a.pairs[[2]int32{d.Client, acc}]; ok {
				pairSeen[levelDirect][p] |= m
			}
		}
	}
	for o, path := range r.reachedPaths() {
		gd := mask(path[0]) & mask(o.Dest)
		full := gd
		for _, h := range path[1:] {
			full &= mask(h)
		}
		if o.Account == o.Client {
			hit(levelGuardDest, o.Client, o.Done, gd)
			hit(levelFullPath, o.Client, o.Done, full)
		} else if p, ok := a.pairs[[2]int32{o.Client, o.Account}]; ok {
			pairSeen[levelGuardDest][p] |= gd
			pairSeen[levelFullPath][p] |= full
		}
	}

	for d, ls := range corr.clients {
		for _, l := range ls {
			hit(levelCorrelation, l.client, l.at, 1<<d)
		}
	}
	for _, l := range corr.pairs {
		if p, ok := a.pairs[[2]int32{l.client, l.account}]; ok {
			pairSeen[levelCorrelation][p] |= 1 << l.draw
		}
	}

	platforms := a.platforms(r)
	adv.ExposureByPlatform = map[string]results.Exposure{}
	grid := timeGrid(end)
	adv.Timeline.TS = make([]float64, len(grid))
	for k, t := range grid {
		adv.Timeline.TS[k] = round6(t.Seconds())
	}
	for l := range nLevels {
		perDraw := make([]float64, g.draws)
		byPl := map[string]float64{}
		timeline := make([]float64, len(grid))
		for d, fs := range firsts[l] {
			perDraw[d] = ratio(len(fs), a.active)
			count := map[string]int{}
			for _, f := range fs {
				count[r.T.Clients[f.client].Platform]++
			}
			for _, pl := range platforms.names {
				byPl[pl] += ratio(count[pl], platforms.active[pl]) / float64(g.draws)
			}
			k := 0
			for j, t := range grid {
				for k < len(fs) && fs[k].at <= t {
					k++
				}
				timeline[j] += ratio(k, a.active) / float64(g.draws)
			}
		}
		mean, lo, hi := spread(perDraw)
		setLevel(&adv.Exposure, l, mean)
		setLevel(&adv.ExposureLow, l, lo)
		setLevel(&adv.ExposureHigh, l, hi)
		pairMean := 0.0
		for _, m := range pairSeen[l] {
			pairMean += float64(bits.OnesCount64(m))
		}
		setLevel(&adv.PairExposure, l, ratio(int(pairMean), len(a.pairOf)*g.draws))
		for _, pl := range platforms.names {
			e := adv.ExposureByPlatform[pl]
			setLevel(&e, l, byPl[pl])
			adv.ExposureByPlatform[pl] = e
		}
		for j := range timeline {
			timeline[j] = round6(timeline[j])
		}
		sv := a.survival(firsts[l], end)
		switch l {
		case levelDirect:
			adv.Timeline.Direct, adv.TTFC.Direct = timeline, sv
		case levelGuardDest:
			adv.Timeline.GuardAndDestination, adv.TTFC.GuardAndDestination = timeline, sv
		case levelFullPath:
			adv.Timeline.FullPath, adv.TTFC.FullPath = timeline, sv
		case levelCorrelation:
			adv.Timeline.Correlation, adv.TTFC.Correlation = timeline, sv
		}
	}
}

func setLevel(e *results.Exposure, l int, v float64) {
	v = round6(v)
	switch l {
	case levelDirect:
		e.Direct = &v
	case levelGuardDest:
		e.GuardAndDestination = &v
	case levelFullPath:
		e.FullPath = &v
	case levelCorrelation:
		e.Correlation = &v
	}
}

type platformCounts struct {
	names  []string
	active map[string]int
}

func (a *activity) platforms(r *Recorder) platformCounts {
	pc := platformCounts{active: map[string]int{}}
	for c, o := range a.origin {
		if o < 0 {
			continue
		}
		pl := r.T.Clients[c].Platform
		if pc.active[pl] == 0 {
			pc.names = append(pc.names, pl)
		}
		pc.active[pl]++
	}
	sort.Strings(pc.names)
	return pc
}

// timingBothEnds is, for a link observer, the fraction of active clients that sent an onion
// request for their own ID whose client-guard and last-hop-destination links it watched.
func (a *activity) timingBothEnds(r *Recorder, g *group) float64 {
	both := make([]bool, len(r.T.Clients))
	count := 0
	for o, path := range r.reachedPaths() {
		if o.Account != o.Client || both[o.Client] {
			continue
		}
		if g.watchesEntry(o.Client, path[0]) && g.watchesExit(path[len(path)-1], o.Dest) {
			both[o.Client] = true
			count++
		}
	}
	return round6(ratio(count, a.active))
}

// timeGrid is 61 evenly spaced moments from 0 to end, for exposure over time.
func timeGrid(end time.Duration) []time.Duration {
	const n = 60
	g := make([]time.Duration, n+1)
	for i := range g {
		g[i] = end * time.Duration(i) / n
	}
	return g
}

// spread is the mean and the 2.5th and 97.5th percentiles (nearest rank) of xs.
func spread(xs []float64) (mean, lo, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	return mean, nearestRank(s, 0.025), nearestRank(s, 0.975)
}

// nearestRank is the q-quantile of sorted by the nearest-rank rule.
func nearestRank(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ratio is a/b, or 0 when b is 0 (a share of nothing is none).
func ratio[N int | int64](a, b N) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// round6 keeps summaries short and stable across platforms' float formatting.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// viewTable counts what each role saw.
func viewTable(r *Recorder) []results.RoleView {
	type counter struct {
		requests, bytesIn, bytesOut uint64
		distinct                    map[int32]bool
		accounts                    uint64
		distinctAcc                 map[int32]bool
	}
	newC := func() *counter { return &counter{distinct: map[int32]bool{}, distinctAcc: map[int32]bool{}} }
	guard, middle, last, dest, direct, seed := newC(), newC(), newC(), newC(), newC(), newC()
	for _, h := range r.Hop {
		var c *counter
		switch {
		case h.Guard():
			c = guard
			c.distinct[h.PrevClient()] = true
		case h.Role() == node.HopDestination:
			c = dest
			for _, acc := range r.Accounts(h.Accounts()) {
				c.accounts++
				c.distinctAcc[acc] = true
			}
		case h.HopNo == 1:
			c = middle
		default:
			c = last
			if h.Next() >= 0 {
				c.distinct[h.Next()] = true
			}
		}
		c.requests++
		c.bytesIn += uint64(h.BytesIn)
		c.bytesOut += uint64(h.BytesOut)
	}
	for _, d := range r.Direct {
		direct.requests++
		direct.distinct[d.Client] = true
		for _, acc := range r.Accounts(d.Accounts) {
			direct.accounts++
			if acc == d.Client && acc >= 0 {
				direct.distinctAcc[acc] = true
			}
		}
	}
	for _, s := range r.Seed {
		seed.requests++
		seed.distinct[s.Client] = true
	}
	var replicas, stored uint64
	for _, s := range r.Stored {
		stored++
		if s.Source != node.FromClient {
			replicas++
		}
	}
	hops := uint64(len(r.Hop))
	return append([]results.RoleView{
		{Role: "guard", Sees: []string{"client address", "time", "request and response sizes", "next hop"},
			Counts: map[string]uint64{"onion_requests": guard.requests, "client_addresses": uint64(len(guard.distinct)), "bytes_in": guard.bytesIn, "bytes_out": guard.bytesOut}},
		{Role: "guard_candidate", Sees: []string{"client address", "method", "every account named (desktop: the client's own Session ID)"},
			Counts: map[string]uint64{"direct_requests": direct.requests, "client_addresses": uint64(len(direct.distinct)), "accounts_named": direct.accounts, "own_ids_with_address": uint64(len(direct.distinctAcc))}},
		{Role: "middle", Sees: []string{"previous and next node", "time", "sizes"},
			Counts: map[string]uint64{"onion_requests": middle.requests, "bytes_in": middle.bytesIn, "bytes_out": middle.bytesOut}},
		{Role: "last_hop", Sees: []string{"previous node", "destination (node, hence its swarm)", "time", "sizes"},
			Counts: map[string]uint64{"onion_requests": last.requests, "destinations": uint64(len(last.distinct)), "bytes_in": last.bytesIn, "bytes_out": last.bytesOut}},
		{Role: "swarm_member", Sees: []string{"last hop's address", "method", "every account named", "namespaces", "hashes", "sizes", "replicated messages"},
			Counts: map[string]uint64{"onion_requests": dest.requests, "accounts_named": dest.accounts, "distinct_accounts": uint64(len(dest.distinctAcc)), "messages_stored": stored, "replica_copies": replicas}},
		{Role: "seed_node", Sees: []string{"client address", "time of bootstrap and pool refresh"},
			Counts: map[string]uint64{"requests": seed.requests, "client_addresses": uint64(len(seed.distinct))}},
		{Role: "link_observer", Sees: []string{"addresses", "times", "sizes (nothing decrypted)"},
			Counts: map[string]uint64{"transfers": 2 * (hops + uint64(len(r.Direct)) + uint64(len(r.Seed))), "bytes": guard.bytesIn + guard.bytesOut + middle.bytesIn + middle.bytesOut + last.bytesIn + last.bytesOut + dest.bytesIn + dest.bytesOut}},
	}, serverRows(r)...)
}
