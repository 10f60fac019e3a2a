package leakage

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/results"
)

// The link observer's correlation attack: cross-correlation of counts in fixed bins (Levine
// et al., FC 2004; see the package comment for the formula and what it links).

const (
	// linkBin is the width of the attack's count bins, fixed as in Levine et al.: narrow
	// enough that the lags tell a request's arrival from its neighbours', wide enough that
	// transit jitter keeps most of a client's arrivals at one lag (the README gives the widths
	// compared).
	linkBin = 50 * time.Millisecond
	// scoreStep is what link scores are rounded to, which bounds the score histogram at one
	// entry per step whatever the number of pairs.
	scoreStep = 1e-4
	// linkClasses is the number of score classes of the link anonymity sets: class 0 for a
	// client without a positive score, then (0, 0.1], (0.1, 0.2], ... (0.9, 1].
	linkClasses = 11
	// What an attack links an address to (results.Linkability.Target).
	targetAccount = "account"
	targetNode    = "node"
)

// clientScore is one client's positive score against one destination node in one window.
type clientScore struct {
	client int32
	score  float64
}

// linkScratch is per-client scratch of the link attack, reused across windows and adversaries.
type linkScratch struct {
	lags int // L: the lags scored are 0..L bins
	// The client side of the current window: count, sum of squared bin counts, the last bin
	// with an event and its count, and the clients seen.
	sx, sxx, last, cur []int64
	seenL              []int32
	// cross[c*(L+1)+l] is the sum over bins k of x_k * y_(k+l) for the current link; touched
	// lists the clients with a count.
	cross   []int32
	touched []int32
	used    []bool
	// best is a client's highest score over the current node's links, scored the clients
	// with one above 0.
	best   []float64
	scored []int32
	// The current link's bins with an arrival and their counts, and per lag l the sums of
	// y_(k+l) and its square over the window's bins.
	ybin, ycount, sy, syy []int64
}

func newLinkScratch(clients int, delta time.Duration) *linkScratch {
	lags := int((delta + linkBin - 1) / linkBin)
	return &linkScratch{lags: lags, sx: make([]int64, clients), sxx: make([]int64, clients), last: make([]int64, clients),
		cur: make([]int64, clients), cross: make([]int32, clients*(lags+1)), used: make([]bool, clients), best: make([]float64, clients)}
}

// linkAttack scores, in the consecutive windows of length w, every (client, destination node)
// pair a link observer sees on both sides, into acc; with kept non-nil it also keeps, under
// (window index, node), the positive scores against each scored node that took a store in the
// window, for the anonymity sets.
//
// S(c, n) = max over links p->n of max(0, max over l in 0..L of r_l), r_l the Pearson
// correlation of x_k (c's requests at a guard in bin k, over watched links) and y_(k+l) (the
// link's arrivals at n), from their sums (see the package comment). Sxy at lag l is the number
// of (request at a guard, arrival over the link) pairs l bins apart, so only clients with such
// a pair are visited; the others have Sxy = 0 at every lag, hence r_l <= 0, and score 0
// (counted, not listed). Cost: the sum over scored arrivals of the client-side requests in the
// L+1 bins before them, times L+1 for the clients visited, bounded by attackBudget arrivals
// per window length.
func (a *activity) linkAttack(r *Recorder, ob *observations, tr truthIndex, g *group, w, end time.Duration, rng *rand.Rand, acc *roc, sc *linkScratch, kept map[[2]int32][]clientScore) {
	nw := int(end / w)
	budget := attackBudget / max(nw, 1)
	K, L := int64(w/linkBin), int64(sc.lags)
	for win := range nw {
		t0, t1 := time.Duration(win)*w, time.Duration(win+1)*w
		truth, sendersOf := tr.pairs(r, t0, t1, destNode)
		// The client side: requests at a guard over a watched link, by bin (binStart[k] is
		// the first of bin k in events).
		var events []int32
		binStart := make([]int32, K+1)
		gi, _ := slices.BinarySearchFunc(ob.guard, t0, func(o guardObs, t time.Duration) int { return cmp.Compare(o.at, t) })
		for ; gi < len(ob.guard) && ob.guard[gi].at < t1; gi++ {
			o := &ob.guard[gi]
			if !g.watchesEntry(o.client, o.node) {
				continue
			}
			k := int64((o.at - t0) / linkBin)
			binStart[k+1]++
			c := o.client
			if sc.sx[c] == 0 {
				sc.seenL = append(sc.seenL, c)
			}
			m := int64(0)
			if sc.sx[c] > 0 && sc.last[c] == k {
				m = sc.cur[c]
			}
			sc.sx[c]++
			sc.sxx[c] += 2*m + 1 // (m+1)^2 - m^2: the bin's count went from m to m+1
			sc.last[c], sc.cur[c] = k, m+1
			events = append(events, int32(gi))
		}
		for k := range K {
			binStart[k+1] += binStart[k]
		}
		// The destination side: arrivals over a watched link, by node, up to L bins past the
		// window's end (a request sent at its end arrives then).
		tEnd := t1 + time.Duration(L)*linkBin
		ai, _ := slices.BinarySearchFunc(ob.arrivals, t0, func(o arrival, t time.Duration) int { return cmp.Compare(o.at, t) })
		var idx []int32
		for ; ai < len(ob.arrivals) && ob.arrivals[ai].at < tEnd; ai++ {
			if o := &ob.arrivals[ai]; g.watchesExit(o.prev, o.node) {
				idx = append(idx, int32(ai))
			}
		}
		slices.SortStableFunc(idx, func(x, y int32) int {
			a, b := &ob.arrivals[x], &ob.arrivals[y]
			return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.prev, b.prev))
		})
		// A target is a node and the links into it with at least minDestObs arrivals in the
		// window, with their arrivals in all; store says a store it saw arrive in the window
		// has a known sender.
		type target struct {
			links    [][]int32
			arrivals int
			store    bool
		}
		var targets []target
		for s := 0; s < len(idx); {
			node := ob.arrivals[idx[s]].node
			t := target{}
			e := s
			for e < len(idx) && ob.arrivals[idx[e]].node == node {
				f, in := e, 0 // in: arrivals within the window itself
				for f < len(idx) && ob.arrivals[idx[f]].node == node && ob.arrivals[idx[f]].prev == ob.arrivals[idx[e]].prev {
					if o := &ob.arrivals[idx[f]]; o.at < t1 {
						in++
						t.store = t.store || (o.store && o.sender >= 0)
					}
					f++
				}
				if in >= minDestObs {
					t.links = append(t.links, idx[e:f])
					t.arrivals += f - e
				}
				e = f
			}
			if len(t.links) > 0 {
				targets = append(targets, t)
			}
			s = e
		}
		sampled(rng, targets, budget, func(t *target) int { return t.arrivals }, func(t *target) {
			n := ob.arrivals[t.links[0][0]].node
			for _, link := range t.links {
				sc.scoreLink(ob, link, events, binStart, t0, K)
			}
			var nonzeroNeg int64
			var keep []clientScore
			for _, c := range sc.scored {
				score := sc.best[c]
				sc.best[c] = 0
				if truth[[2]int32{c, n}] {
					acc.add(score, true, 0)
				} else {
					nonzeroNeg++
					acc.add(score, false, rng.Uint64()&1)
				}
				if kept != nil && t.store {
					keep = append(keep, clientScore{client: c, score: score})
				}
			}
			sc.scored = sc.scored[:0]
			if kept != nil && t.store {
				kept[[2]int32{int32(win), n}] = keep // present, if empty: the node was scored
			}
			// The pairs of this node seen on both sides: every client seen on the client side.
			var p int64
			for _, c := range sendersOf[n] {
				if sc.sx[c] > 0 {
					p++
				}
			}
			acc.pos += p
			zero := int64(len(sc.seenL)) - p - nonzeroNeg
			acc.negA += zero / 2
			acc.negB += zero - zero/2
		})
		for _, c := range sc.seenL {
			sc.sx[c], sc.sxx[c] = 0, 0
		}
		sc.seenL = sc.seenL[:0]
	}
}

// scoreLink scores one link into a node, whose arrivals are link, against every client with a
// request in the L+1 bins before one of them, into best (the client's highest score over the
// node's links so far) and scored.
func (sc *linkScratch) scoreLink(ob *observations, link []int32, events, binStart []int32, t0 time.Duration, K int64) {
	L := int64(sc.lags)
	sc.ybin, sc.ycount = sc.ybin[:0], sc.ycount[:0]
	for _, j := range link {
		bj := int64((ob.arrivals[j].at - t0) / linkBin)
		// Arrivals are in time order: a bin's arrivals are consecutive.
		if n := len(sc.ybin); n > 0 && sc.ybin[n-1] == bj {
			sc.ycount[n-1]++
		} else {
			sc.ybin, sc.ycount = append(sc.ybin, bj), append(sc.ycount, 1)
		}
		for bi := max(bj-L, 0); bi <= min(bj, K-1); bi++ {
			for _, e := range events[binStart[bi]:binStart[bi+1]] {
				c := ob.guard[e].client
				if !sc.used[c] {
					sc.used[c] = true
					sc.touched = append(sc.touched, c)
				}
				sc.cross[int64(c)*(L+1)+bj-bi]++
			}
		}
	}
	// Sy and Syy of y_(k+l) over k = 0..K-1, per lag.
	sc.sy, sc.syy = slices.Grow(sc.sy[:0], int(L+1))[:L+1], slices.Grow(sc.syy[:0], int(L+1))[:L+1]
	for l := range L + 1 {
		var sy, syy int64
		for i, b := range sc.ybin {
			if b >= l && b < l+K {
				sy += sc.ycount[i]
				syy += sc.ycount[i] * sc.ycount[i]
			}
		}
		sc.sy[l], sc.syy[l] = sy, syy
	}
	for _, c := range sc.touched {
		score := 0.0
		for l := range L + 1 {
			score = max(score, pearson(K, sc.sx[c], sc.sxx[c], sc.sy[l], sc.syy[l], int64(sc.cross[int64(c)*(L+1)+l])))
			sc.cross[int64(c)*(L+1)+l] = 0
		}
		sc.used[c] = false
		if score = math.Round(score/scoreStep) * scoreStep; score > sc.best[c] {
			if sc.best[c] == 0 {
				sc.scored = append(sc.scored, c)
			}
			sc.best[c] = score
		}
	}
	sc.touched = sc.touched[:0]
}

// pearson is the correlation of two series of k values from their sums, 0 when either is
// constant.
func pearson(k, sx, sxx, sy, syy, sxy int64) float64 {
	vx, vy := float64(k*sxx-sx*sx), float64(k*syy-sy*sy)
	if vx <= 0 || vy <= 0 {
		return 0
	}
	return (float64(k*sxy) - float64(sx)*float64(sy)) / math.Sqrt(vx*vy)
}

// linkLinkability runs the link attack for every window length that fits in the run, and the
// anonymity sets of the stores the observer sees from the one-minute windows' scores.
func (a *activity) linkLinkability(r *Recorder, ob *observations, tr truthIndex, sc *linkScratch, g *group, end time.Duration, stream func(string) *rand.Rand) (map[string]*results.Linkability, *results.AnonymitySet) {
	out := map[string]*results.Linkability{}
	var kept map[[2]int32][]clientScore
	var minute *roc
	for _, w := range windows {
		out[w.name] = nil
		if w.d > end {
			continue
		}
		acc := newROC()
		var keep map[[2]int32][]clientScore
		if w.d == onlineWindow {
			kept, minute = map[[2]int32][]clientScore{}, acc
			keep = kept
		}
		a.linkAttack(r, ob, tr, g, w.d, end, stream("leakage/link-attack/"+g.name+"/"+w.name), acc, sc, keep)
		l, _ := acc.result()
		out[w.name] = &results.Linkability{LinkAttack: l, Target: targetNode}
	}
	if minute == nil {
		return out, nil
	}
	return out, a.linkAnonymitySets(r, ob, g, kept, stream)
}

// linkAnonymitySets measures, for each store a link observer sees arrive at a node whose
// one-minute window the attack scored, the effective number of candidate senders 2^H. The
// candidates are the clients online (as for a coalition's sets); the posterior starts uniform
// and is weighted by the likelihood ratio of each client's score class against that node in
// that window, P(class | sender) / P(class | another online client), both measured over the
// observer's own stores. The floor is the last hop's, which the observer also sees.
func (a *activity) linkAnonymitySets(r *Recorder, ob *observations, g *group, kept map[[2]int32][]clientScore, stream func(string) *rand.Rand) *results.AnonymitySet {
	var stores []int32
	for j := range ob.arrivals {
		o := &ob.arrivals[j]
		if !o.store || o.sender < 0 || !g.watchesExit(o.prev, o.node) {
			continue
		}
		if _, ok := kept[[2]int32{int32(o.at / onlineWindow), o.node}]; ok {
			stores = append(stores, int32(j))
		}
	}
	stores = sampleStores(stores, g, stream)
	if len(stores) == 0 {
		return nil
	}
	type tuple struct {
		n, floor int
		m        [linkClasses]int
		sender   int
	}
	online := newOnlineCounter(r)
	tuples := make([]tuple, 0, len(stores))
	for _, j := range stores {
		o := &ob.arrivals[j]
		t := tuple{n: online.at(o.at), floor: max(online.viaLastHop(o.prev, o.at), 1)}
		for _, cs := range kept[[2]int32{int32(o.at / onlineWindow), o.node}] {
			if online.online(cs.client) {
				t.m[scoreClass(cs.score)]++
				if cs.client == o.sender {
					t.sender = scoreClass(cs.score)
				}
			}
		}
		scored := 0
		for _, m := range t.m[1:] {
			scored += m
		}
		// The sender was online: it sent the store in the minute before.
		t.n = max(t.n, scored+1)
		t.m[0] = t.n - scored
		tuples = append(tuples, t)
	}
	var hits [linkClasses]float64
	var falseHits [linkClasses]float64
	others := 0.0
	for _, t := range tuples {
		hits[t.sender]++
		for b, m := range t.m {
			falseHits[b] += float64(m)
		}
		falseHits[t.sender]--
		others += float64(t.n - 1)
	}
	var w [linkClasses]float64
	for b := range w {
		p0 := 0.0
		if others > 0 {
			p0 = falseHits[b] / others
		}
		w[b] = likelihoodRatio(hits[b]/float64(len(tuples)), p0)
	}
	sizes := make([]float64, len(tuples))
	floors := make([]float64, len(tuples))
	ns := make([]float64, len(tuples))
	cs := make([]weightClass, linkClasses)
	for i, t := range tuples {
		for b := range cs {
			cs[b] = weightClass{t.m[b], w[b]}
		}
		sizes[i] = effectiveSize(cs)
		floors[i] = float64(t.floor)
		ns[i] = float64(t.n)
	}
	return setSummary(sizes, floors, ns)
}

// scoreClass is the class of a positive score: (0, 0.1] is 1, ..., (0.9, 1] is 10.
func scoreClass(s float64) int {
	return min(max(int(math.Ceil(s*10)), 1), linkClasses-1)
}
