package leakage

import (
	"math"
	"math/bits"
	"time"

	"github.com/sessionsim/sessionsim/results"
)

// contactGraph recovers who talks to whom by statistical disclosure (Danezis 2003; Mathewson
// and Dingledine 2004), the coalition's version of it: N(c, o) counts the stores naming o seen
// at its destinations that follow, within delta and with a matching size, a request of client
// c at its guards; independence predicts E(c, o) = n_c * n_o * delta / T for n_c guard
// observations of c, n_o stores to o and a run of length T. The edge {c, o} is inferred when
// N >= 2 and N > E + 3 sqrt(E) (a Poisson excess of three standard deviations). Precision,
// recall and F1 against the true graph (Tables.Contacts, undirected) are per draw, then
// averaged; precision over the draws that inferred an edge.
// Cost: each store scans the guard observations of its size class in the delta before it;
// the counts are kept only for (client, recipient, draw) triples that occurred.
func contactGraph(r *Recorder, ob *observations, g *group, ix *sizeIndex, sc *attackScratch, end time.Duration) *results.ContactGraph {
	truth := trueEdges(r)
	if len(truth) == 0 || end <= 0 {
		return nil
	}
	nc := make([]uint32, len(r.T.Clients)*g.draws)
	for _, o := range ob.guard {
		for m := g.node[o.node]; m != 0; m &= m - 1 {
			nc[int(o.client)*g.draws+bits.TrailingZeros64(m)]++
		}
	}
	no := make([]uint32, len(r.T.Clients)*g.draws)
	count := map[[3]int32]uint32{} // (client, recipient, draw)
	for j := range ob.dest {
		dj := &ob.dest[j]
		mask := g.node[dj.node]
		if !dj.store || mask == 0 {
			continue
		}
		for m := mask; m != 0; m &= m - 1 {
			no[int(dj.account)*g.draws+bits.TrailingZeros64(m)]++
		}
		sc.matches(ob, g, ix, dj.at-ob.delta, dj, mask)
		for _, c := range sc.jlist {
			if c == dj.account {
				continue
			}
			for m := sc.jmask[c]; m != 0; m &= m - 1 {
				count[[3]int32{c, dj.account, int32(bits.TrailingZeros64(m))}]++
			}
		}
	}
	inferred := map[[3]int32]bool{} // (draw, low, high)
	scale := ob.delta.Seconds() / end.Seconds()
	for k, n := range count {
		c, o, d := k[0], k[1], int(k[2])
		e := float64(nc[int(c)*g.draws+d]) * float64(no[int(o)*g.draws+d]) * scale
		if n >= 2 && float64(n) > e+3*math.Sqrt(e) {
			inferred[[3]int32{int32(d), min(c, o), max(c, o)}] = true
		}
	}
	tp, all := make([]int, g.draws), make([]int, g.draws)
	for k := range inferred {
		all[k[0]]++
		if truth[[2]int32{k[1], k[2]}] {
			tp[k[0]]++
		}
	}
	var prec, rec, f1, inf float64
	withEdges := 0
	for d := range g.draws {
		inf += float64(all[d])
		r := ratio(tp[d], len(truth))
		rec += r
		if all[d] > 0 {
			withEdges++
			p := ratio(tp[d], all[d])
			prec += p
			if p+r > 0 {
				f1 += 2 * p * r / (p + r)
			}
		}
	}
	cg := &results.ContactGraph{Edges: len(truth), Inferred: round6(inf / float64(g.draws))}
	rv, fv := round6(rec/float64(g.draws)), round6(f1/float64(g.draws))
	cg.Recall, cg.F1 = &rv, &fv
	if withEdges > 0 {
		pv := round6(prec / float64(withEdges))
		cg.Precision = &pv
	}
	return cg
}

// trueEdges is the true contact graph as undirected edges (low, high): the workload's, or
// without one the pairs of clients that stored to each other.
func trueEdges(r *Recorder) map[[2]int32]bool {
	edges := map[[2]int32]bool{}
	add := func(a, b int32) {
		if a != b && a >= 0 && b >= 0 {
			edges[[2]int32{min(a, b), max(a, b)}] = true
		}
	}
	if r.T.Contacts != nil {
		for a, cs := range r.T.Contacts {
			for _, b := range cs {
				add(int32(a), int32(b))
			}
		}
		return edges
	}
	store := r.methodCodeIfKnown("store")
	for i := range r.Onion {
		if o := &r.Onion[i]; o.Method == store {
			add(o.Client, o.Account)
		}
	}
	return edges
}
