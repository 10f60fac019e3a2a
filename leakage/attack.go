package leakage

import (
	"cmp"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/results"
)

// The sender-recipient correlation attack of a node coalition (see the package comment for
// the formula and the evaluation).

// windows are the attack's observation windows: the run is cut into consecutive windows of
// each length, scored separately and pooled; a length longer than the run is not measured.
var windows = []struct {
	name string
	d    time.Duration
}{{"1m", time.Minute}, {"10m", 10 * time.Minute}, {"60m", time.Hour}}

const (
	// fprTarget is the false-positive rate the threshold is chosen for.
	fprTarget = 1e-3
	// minDestObs is the fewest destination observations of an account the attack scores.
	minDestObs = 3
	// attackBudget caps the destination observations scored per adversary and window length:
	// beyond it, accounts are scored in an order drawn from the adversary's stream until the
	// budget is spent (a uniform sample of target accounts, each scored against every
	// client). It bounds the cost on large networks; small ones are scored in full.
	attackBudget = 40_000
	// rocPoints is the most points a ROC curve keeps.
	rocPoints = 50
)

// scoreCount is how many positive pairs and negatives of each half have one score.
type scoreCount struct{ pos, negA, negB int64 }

// roc accumulates one attack's scores over windows and draws.
type roc struct {
	hist            map[float64]*scoreCount
	pos, negA, negB int64 // totals, pairs scoring 0 included
	links           []link
}

// link is a true pair that scored, for the correlation exposure level once the threshold is
// known.
type link struct {
	client, account int32
	draw            int
	at              time.Duration
	score           float64
}

func newROC() *roc { return &roc{hist: map[float64]*scoreCount{}} }

func (r *roc) add(score float64, pos bool, half uint64) {
	c := r.hist[score]
	if c == nil {
		c = &scoreCount{}
		r.hist[score] = c
	}
	switch {
	case pos:
		c.pos++
	case half == 0:
		c.negA++
	default:
		c.negB++
	}
}

// truthIndex is the ground truth of who named whom: onion requests in order of sending.
type truthIndex struct {
	sent []int32 // indices into Recorder.Onion sorted by Sent
}

func newTruthIndex(r *Recorder) truthIndex {
	t := truthIndex{}
	for i := range r.Onion {
		if o := &r.Onion[i]; o.Client >= 0 && o.Account >= 0 {
			t.sent = append(t.sent, int32(i))
		}
	}
	slices.SortStableFunc(t.sent, func(a, b int32) int { return cmp.Compare(r.Onion[a].Sent, r.Onion[b].Sent) })
	return t
}

// pairs are the true pairs of a window [t0, t1): (client, target) for every onion request the
// client sent in it, where target is what the attack links a client to: the account the
// request names (a poll its own, a store its recipient's; namedAccount) or the node it went to
// (destNode). Requests whose target is -1 are left out. by lists each target's clients.
func (t truthIndex) pairs(r *Recorder, t0, t1 time.Duration, target func(*OnionRecord) int32) (set map[[2]int32]bool, by map[int32][]int32) {
	set, by = map[[2]int32]bool{}, map[int32][]int32{}
	j, _ := slices.BinarySearchFunc(t.sent, t0, func(i int32, x time.Duration) int { return cmp.Compare(r.Onion[i].Sent, x) })
	for ; j < len(t.sent) && r.Onion[t.sent[j]].Sent < t1; j++ {
		o := &r.Onion[t.sent[j]]
		k := [2]int32{o.Client, target(o)}
		if k[1] < 0 {
			continue
		}
		if !set[k] {
			set[k] = true
			by[k[1]] = append(by[k[1]], o.Client)
		}
	}
	return set, by
}

// namedAccount and destNode are the targets of truthIndex.pairs.
func namedAccount(o *OnionRecord) int32 { return o.Account }
func destNode(o *OnionRecord) int32     { return o.Dest }

// attackScratch is per-client scratch reused across accounts, so scoring one account costs
// its candidates, not the number of clients.
type attackScratch struct {
	count   []uint16 // [client*64 + draw]: destination observations matched
	used    []bool   // client has counts
	touched []int32
	stamp   int64   // one per destination observation scored
	jstamp  []int64 // the stamp a client's jmask belongs to
	jmask   []uint64
	jlist   []int32
	seen    []uint64 // clients seen at a guard in the window, per draw
	seenL   []int32
}

func newAttackScratch(clients int) *attackScratch {
	s := &attackScratch{count: make([]uint16, clients*64), used: make([]bool, clients), jstamp: make([]int64, clients),
		jmask: make([]uint64, clients), seen: make([]uint64, clients)}
	return s
}

// matches fills jlist and jmask with the clients whose guard observations from `from` on
// match destination observation dj, each with the draws (of mask) in which they do.
func (sc *attackScratch) matches(ob *observations, g *group, ix *sizeIndex, from time.Duration, dj *destObs, mask uint64) {
	sc.stamp++
	sc.jlist = sc.jlist[:0]
	ix.candidates(from, dj.at, dj.size, func(i int32) {
		gobs := &ob.guard[i]
		m := g.node[gobs.node] & mask
		if m == 0 {
			return
		}
		c := gobs.client
		if sc.jstamp[c] != sc.stamp {
			sc.jstamp[c], sc.jmask[c] = sc.stamp, 0
			sc.jlist = append(sc.jlist, c)
		}
		sc.jmask[c] |= m
	})
}

// attack scores every pair of the coalition's view (all draws at once, one bit per draw) in
// windows of length w, into acc.
//
// S(c, o) = (1/|D_o|) * sum over j in D_o of max over i of [0 < u_j - a_i <= delta] *
// [|z_j - (b_i - k)| <= eps]: for each destination observation j of account o (time u_j, size
// z_j) the guard observations of client c in the delta before it (time a_i, size b_i). Only
// pairs with a candidate are visited: the cost is the sum over scored destination
// observations of the guard observations in the delta before them (O(D * R * delta) for D
// destination observations and R guard observations a second, bounded by attackBudget),
// never clients x accounts; pairs scoring 0 are counted, not listed.
func (a *activity) attack(r *Recorder, ob *observations, tr truthIndex, g *group, ix *sizeIndex, w, end time.Duration, rng *rand.Rand, acc *roc, sc *attackScratch) {
	nw := int(end / w)
	budget := attackBudget / max(nw, 1)
	for k := range nw {
		t0, t1 := time.Duration(k)*w, time.Duration(k+1)*w
		// The coalition's destination observations in the window (the records of the
		// path-selection mode have none): without any, the window scores nothing.
		di, _ := slices.BinarySearchFunc(ob.dest, t0, func(o destObs, t time.Duration) int { return cmp.Compare(o.at, t) })
		var idx []int32
		for ; di < len(ob.dest) && ob.dest[di].at < t1; di++ {
			if g.node[ob.dest[di].node] != 0 {
				idx = append(idx, int32(di))
			}
		}
		if len(idx) == 0 {
			continue
		}
		truth, sendersOf := tr.pairs(r, t0, t1, namedAccount)
		// Clients seen at a guard of the coalition in the window, per draw.
		var seenPerDraw [64]int64
		gi, _ := slices.BinarySearchFunc(ob.guard, t0, func(o guardObs, t time.Duration) int { return cmp.Compare(o.at, t) })
		for ; gi < len(ob.guard) && ob.guard[gi].at < t1; gi++ {
			o := &ob.guard[gi]
			if m := g.node[o.node]; m != 0 {
				if sc.seen[o.client] == 0 {
					sc.seenL = append(sc.seenL, o.client)
				}
				sc.seen[o.client] |= m
			}
		}
		for _, c := range sc.seenL {
			for m := sc.seen[c]; m != 0; m &= m - 1 {
				seenPerDraw[bits.TrailingZeros64(m)]++
			}
		}
		slices.SortStableFunc(idx, func(x, y int32) int { return cmp.Compare(ob.dest[x].account, ob.dest[y].account) })
		type target struct {
			obs  []int32
			elig uint64
			n    [64]uint16
		}
		var targets []target
		for s := 0; s < len(idx); {
			e := s
			for e < len(idx) && ob.dest[idx[e]].account == ob.dest[idx[s]].account {
				e++
			}
			t := target{obs: idx[s:e]}
			for _, j := range t.obs {
				for m := g.node[ob.dest[j].node]; m != 0; m &= m - 1 {
					t.n[bits.TrailingZeros64(m)]++
				}
			}
			for d := range g.draws {
				if t.n[d] >= minDestObs {
					t.elig |= 1 << d
				}
			}
			if t.elig != 0 {
				targets = append(targets, t)
			}
			s = e
		}
		sampled(rng, targets, budget, func(t *target) int { return len(t.obs) }, func(t *target) {
			o := ob.dest[t.obs[0]].account
			for _, j := range t.obs {
				dj := &ob.dest[j]
				mj := g.node[dj.node] & t.elig
				if mj == 0 {
					continue
				}
				sc.matches(ob, g, ix, max(dj.at-ob.delta, t0), dj, mj)
				for _, c := range sc.jlist {
					if !sc.used[c] {
						sc.used[c] = true
						sc.touched = append(sc.touched, c)
					}
					for m := sc.jmask[c]; m != 0; m &= m - 1 {
						sc.count[int(c)*64+bits.TrailingZeros64(m)]++
					}
				}
			}
			var nonzeroNeg, nonzeroPos [64]int64
			for _, c := range sc.touched {
				pos := truth[[2]int32{c, o}]
				for m := t.elig; m != 0; m &= m - 1 {
					d := bits.TrailingZeros64(m)
					n := sc.count[int(c)*64+d]
					if n == 0 {
						continue
					}
					sc.count[int(c)*64+d] = 0
					score := float64(n) / float64(t.n[d])
					if pos {
						nonzeroPos[d]++
						acc.add(score, true, 0)
						acc.links = append(acc.links, link{client: c, account: o, draw: d, at: min(t1, end), score: score})
					} else {
						nonzeroNeg[d]++
						acc.add(score, false, rng.Uint64()&1)
					}
				}
				sc.used[c] = false
			}
			sc.touched = sc.touched[:0]
			// The pairs of this account seen on both sides: every client seen at a guard.
			for m := t.elig; m != 0; m &= m - 1 {
				d := bits.TrailingZeros64(m)
				var p int64
				for _, c := range sendersOf[o] {
					p += int64(sc.seen[c] >> d & 1)
				}
				neg := seenPerDraw[d] - p
				acc.pos += p
				zero := neg - nonzeroNeg[d]
				// Pairs scoring 0 can never be linked; only their number matters, so they
				// are split evenly rather than drawn one by one.
				acc.negA += zero / 2
				acc.negB += zero - zero/2
			}
		})
		for _, c := range sc.seenL {
			sc.seen[c] = 0
		}
		sc.seenL = sc.seenL[:0]
	}
}

// sampled visits targets in an order drawn from rng until what they cost, counted as each is
// visited, reaches budget: every target when they fit, else a uniform sample of them.
func sampled[T any](rng *rand.Rand, targets []T, budget int, cost func(*T) int, visit func(*T)) {
	rng.Shuffle(len(targets), func(x, y int) { targets[x], targets[y] = targets[y], targets[x] })
	spent := 0
	for i := range targets {
		if spent >= budget {
			return
		}
		spent += cost(&targets[i])
		visit(&targets[i])
	}
}

// result turns the pooled scores into the figures: the threshold is the lowest score whose
// false-positive rate on half A of the negatives is at most fprTarget (pairs at or above it
// are linked); the true-positive rate is over every positive pair, the false-positive rate on
// half B; precision applies that rate to all negatives (the base rate), TP / (TP + FPR_B * N).
func (acc *roc) result() (results.LinkAttack, float64) {
	scores := make([]float64, 0, len(acc.hist))
	for s := range acc.hist {
		scores = append(scores, s)
	}
	slices.Sort(scores)
	slices.Reverse(scores)
	// Nonzero negatives went to a half one by one, zeros by count: the halves' totals.
	var nzA, nzB int64
	for _, s := range scores {
		nzA += acc.hist[s].negA
		nzB += acc.hist[s].negB
	}
	nA, nB := acc.negA+nzA, acc.negB+nzB
	out := results.LinkAttack{Positives: acc.pos, Negatives: nA + nB}
	threshold := math.Inf(1)
	var fpA, tp, fpB int64
	var cumPos, cumNeg int64
	roc := [][2]float64{{0, 0}}
	for _, s := range scores {
		c := acc.hist[s]
		fpA += c.negA
		cumPos += c.pos
		cumNeg += c.negA + c.negB
		if nA > 0 && float64(fpA) <= fprTarget*float64(nA) {
			// fpA only grows as the threshold falls: the scores that pass are a prefix.
			threshold, tp = s, cumPos
			fpB += c.negB
		}
		roc = append(roc, [2]float64{round6(ratio(cumNeg, nA+nB)), round6(ratio(cumPos, acc.pos))})
	}
	if acc.pos > 0 {
		roc = append(roc, [2]float64{1, 1})
		v := round6(ratio(tp, acc.pos))
		out.TPRAtFPR1e3 = &v
	}
	if !math.IsInf(threshold, 1) {
		t := round6(threshold)
		out.Threshold = &t
		fp := ratio(fpB, nB) * float64(nA+nB)
		if tp > 0 || fp > 0 {
			p := round6(float64(tp) / (float64(tp) + fp))
			out.Precision = &p
		}
	}
	out.ROC = thinROC(roc)
	return out, threshold
}

// thinROC keeps at most rocPoints points, evenly spaced in index but always the first and
// last, enough to draw the curve.
func thinROC(pts [][2]float64) [][2]float64 {
	if len(pts) <= rocPoints {
		return pts
	}
	out := make([][2]float64, 0, rocPoints)
	for i := range rocPoints {
		out = append(out, pts[i*(len(pts)-1)/(rocPoints-1)])
	}
	return out
}

// correlated are the attack's true links at its thresholds, for the correlation level.
type correlated struct {
	clients [][]link // per draw, (IP, own ID) links: each client's first, in time order
	pairs   []link   // (sender IP, recipient ID) links
}

// linkability runs the attack and its timing-only variant for every window length that fits
// in the run. A client is exposed at the correlation level at the end of the first window
// (of any length) in which the timing-and-size attack linked its address to its own ID at
// that length's threshold.
func (a *activity) linkability(r *Recorder, ob *observations, tr truthIndex, sc *attackScratch, g *group, withSize, timingOnly *sizeIndex, end time.Duration, stream func(string) *rand.Rand) (map[string]*results.Linkability, correlated) {
	out := map[string]*results.Linkability{}
	var linked []link
	for _, w := range windows {
		out[w.name] = nil
		if w.d > end {
			continue
		}
		accS, accT := newROC(), newROC()
		a.attack(r, ob, tr, g, withSize, w.d, end, stream("leakage/attack/"+g.name+"/"+w.name), accS, sc)
		a.attack(r, ob, tr, g, timingOnly, w.d, end, stream("leakage/attack/"+g.name+"/"+w.name+"/timing-only"), accT, sc)
		ls, threshold := accS.result()
		lt, _ := accT.result()
		out[w.name] = &results.Linkability{Target: targetAccount, LinkAttack: ls, TimingOnly: &lt}
		for _, l := range accS.links {
			if l.score >= threshold {
				linked = append(linked, l)
			}
		}
	}
	slices.SortFunc(linked, func(x, y link) int {
		return cmp.Or(cmp.Compare(x.draw, y.draw), cmp.Compare(x.at, y.at), cmp.Compare(x.client, y.client), cmp.Compare(x.account, y.account))
	})
	corr := correlated{clients: make([][]link, g.draws)}
	first := map[[2]int32]bool{} // (draw, client) linked already
	for _, l := range linked {
		k := [2]int32{int32(l.draw), l.client}
		if l.client != l.account {
			corr.pairs = append(corr.pairs, l)
		} else if !first[k] {
			first[k] = true
			corr.clients[l.draw] = append(corr.clients[l.draw], l)
		}
	}
	return out, corr
}
