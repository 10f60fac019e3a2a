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

const (
	// onlineWindow is how recently a client must have sent an onion request to count as
	// online, a candidate sender of a store; the last-hop floor uses the same window.
	onlineWindow = time.Minute
	// anonymityBudget caps the stores whose anonymity set is measured per adversary: beyond
	// it, a uniform sample drawn from the adversary's stream.
	anonymityBudget = 20_000
)

// anonTuple is one store seen in one draw: n clients online, m of them matched by the attack's
// per-observation test, whether the true sender is among them, and the last-hop floor.
type anonTuple struct {
	n, m, floor int
	sender      bool
}

// anonymitySets measures, for each store the coalition sees at a destination it holds, the
// effective number of candidate senders 2^H (Serjantov and Danezis). The posterior over the
// clients online at the time starts uniform and is weighted by the attack's likelihood ratio
// for one observation: a client with a guard observation matching the store (within delta
// before it, size within eps after the layer overhead) gets m1/m0, one without (1-m1)/(1-m0),
// where m1 is how often the true sender matches and m0 how often another online client does,
// both measured over the adversary's own stores. The floor is what the last hop alone
// leaves: the clients whose requests went through that last hop in the minute before.
// Cost: each store scans the guard observations of its size class in the delta before it.
func (a *activity) anonymitySets(r *Recorder, ob *observations, g *group, ix *sizeIndex, sc *attackScratch, stream func(string) *rand.Rand) *results.AnonymitySet {
	var stores []int32
	for j := range ob.dest {
		if d := &ob.dest[j]; d.store && d.sender >= 0 && g.node[d.node] != 0 {
			stores = append(stores, int32(j))
		}
	}
	stores = sampleStores(stores, g, stream)
	if len(stores) == 0 {
		return nil
	}
	online := newOnlineCounter(r)
	var tuples []anonTuple
	for _, j := range stores {
		dj := &ob.dest[j]
		n := online.at(dj.at)
		floor := online.viaLastHop(dj.prev, dj.at)
		mask := g.node[dj.node]
		sc.matches(ob, g, ix, dj.at-ob.delta, dj, mask)
		var m [64]int
		for _, c := range sc.jlist {
			for b := sc.jmask[c]; b != 0; b &= b - 1 {
				m[bits.TrailingZeros64(b)]++
			}
		}
		for b := mask; b != 0; b &= b - 1 {
			d := bits.TrailingZeros64(b)
			in := sc.jstamp[dj.sender] == sc.stamp && sc.jmask[dj.sender]>>d&1 == 1
			// The sender was online; the matched clients too, unless delta outlasts the window.
			tuples = append(tuples, anonTuple{n: max(n, m[d], 1), m: m[d], floor: max(floor, 1), sender: in})
		}
	}
	var hits, falseHits, others float64
	for _, t := range tuples {
		if t.sender {
			hits++
			falseHits += float64(t.m - 1)
		} else {
			falseHits += float64(t.m)
		}
		others += float64(t.n - 1)
	}
	m1 := hits / float64(len(tuples))
	m0 := 0.0
	if others > 0 {
		m0 = falseHits / others
	}
	w1, w0 := likelihoodRatio(m1, m0), likelihoodRatio(1-m1, 1-m0)
	sizes := make([]float64, len(tuples))
	floors := make([]float64, len(tuples))
	ns := make([]float64, len(tuples))
	for i, t := range tuples {
		sizes[i] = effectiveSize([]weightClass{{t.m, w1}, {t.n - t.m, w0}})
		floors[i] = float64(t.floor)
		ns[i] = float64(t.n)
	}
	return setSummary(sizes, floors, ns)
}

// setSummary is the summary of the stores' effective set sizes, last-hop floors and numbers of
// clients online.
func setSummary(sizes, floors, online []float64) *results.AnonymitySet {
	as := &results.AnonymitySet{Stores: len(sizes)}
	med, p10 := quantile(sizes, 0.5), quantile(sizes, 0.1)
	fm, fp := quantile(floors, 0.5), quantile(floors, 0.1)
	as.Median, as.P10, as.FloorMedian, as.FloorP10 = &med, &p10, &fm, &fp
	as.Online = quantile(online, 0.5)
	as.Histogram = log2Histogram(sizes)
	return as
}

// sampleStores keeps a uniform sample of anonymityBudget of the stores (indices in time order),
// drawn from the adversary's stream, when there are more; it keeps them in time order, for the
// sweeps over them.
func sampleStores(stores []int32, g *group, stream func(string) *rand.Rand) []int32 {
	if len(stores) <= anonymityBudget {
		return stores
	}
	stream("leakage/anonymity/"+g.name).Shuffle(len(stores), func(x, y int) { stores[x], stores[y] = stores[y], stores[x] })
	stores = stores[:anonymityBudget]
	slices.Sort(stores)
	return stores
}

// likelihoodRatio is p/q, 1 when neither happens and +Inf when only the true sender's does.
func likelihoodRatio(p, q float64) float64 {
	switch {
	case q > 0:
		return p / q
	case p > 0:
		return math.Inf(1)
	}
	return 1
}

// weightClass is k candidates that carry one posterior weight w.
type weightClass struct {
	k int
	w float64
}

// effectiveSize is 2^H of the posterior over candidates in classes, each candidate's
// probability its class's weight over the total: infinite weights put all the mass on their
// classes (a class of no candidates carries none).
func effectiveSize(cs []weightClass) float64 {
	n, inf := 0, 0
	for _, c := range cs {
		n += c.k
		if math.IsInf(c.w, 1) {
			inf += c.k
		}
	}
	if inf > 0 {
		return float64(inf)
	}
	z := 0.0
	for _, c := range cs {
		if !math.IsInf(c.w, 1) {
			z += float64(c.k) * c.w
		}
	}
	if z <= 0 {
		return float64(n)
	}
	h := 0.0
	for _, c := range cs {
		if p := c.w / z; c.k > 0 && p > 0 && !math.IsInf(c.w, 1) {
			h -= float64(c.k) * p * math.Log2(p)
		}
	}
	return round6(math.Exp2(h))
}

// quantile is the q-quantile (nearest rank) of xs, rounded.
func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return round6(nearestRank(s, q))
}

// log2Histogram bins xs >= 1 in [1, 2), [2, 4), ... as [low, high, share].
func log2Histogram(xs []float64) [][3]float64 {
	var count []int
	for _, x := range xs {
		b := max(0, int(math.Floor(math.Log2(max(x, 1)))))
		for len(count) <= b {
			count = append(count, 0)
		}
		count[b]++
	}
	out := make([][3]float64, len(count))
	for b, c := range count {
		out[b] = [3]float64{math.Exp2(float64(b)), math.Exp2(float64(b + 1)), round6(ratio(c, len(xs)))}
	}
	return out
}

// onlineCounter answers how many distinct clients sent an onion request in the window before
// a time, overall (for times that never decrease: a sliding window) or through one last hop.
type onlineCounter struct {
	r      *Recorder
	sent   []int32           // onion records by send time
	byLast map[int32][]int32 // last hop -> onion records by send time
	stamp  []int32
	epoch  int32
	// The sliding window over sent: records [tail, head) are in it, count per client.
	head, tail, live int
	count            []int32
}

func newOnlineCounter(r *Recorder) *onlineCounter {
	oc := &onlineCounter{r: r, byLast: map[int32][]int32{}, stamp: make([]int32, len(r.T.Clients)), count: make([]int32, len(r.T.Clients))}
	for i := range r.Onion {
		o := &r.Onion[i]
		if o.Client < 0 {
			continue
		}
		oc.sent = append(oc.sent, int32(i))
		if p := r.Hops(o.Path()); len(p) > 0 {
			oc.byLast[p[len(p)-1]] = append(oc.byLast[p[len(p)-1]], int32(i))
		}
	}
	bySent := func(x, y int32) int { return cmp.Compare(r.Onion[x].Sent, r.Onion[y].Sent) }
	slices.SortStableFunc(oc.sent, bySent)
	for _, l := range oc.byLast {
		slices.SortStableFunc(l, bySent)
	}
	return oc
}

// distinct counts the clients of the records of l sent in [t-onlineWindow, t].
func (oc *onlineCounter) distinct(l []int32, t time.Duration) int {
	oc.epoch++
	j, _ := slices.BinarySearchFunc(l, t-onlineWindow, func(i int32, x time.Duration) int { return cmp.Compare(oc.r.Onion[i].Sent, x) })
	n := 0
	for ; j < len(l) && oc.r.Onion[l[j]].Sent <= t; j++ {
		if c := oc.r.Onion[l[j]].Client; oc.stamp[c] != oc.epoch {
			oc.stamp[c] = oc.epoch
			n++
		}
	}
	return n
}

// at counts the clients online at t; t never decreases from one call to the next.
func (oc *onlineCounter) at(t time.Duration) int {
	for ; oc.head < len(oc.sent) && oc.r.Onion[oc.sent[oc.head]].Sent <= t; oc.head++ {
		c := oc.r.Onion[oc.sent[oc.head]].Client
		if oc.count[c] == 0 {
			oc.live++
		}
		oc.count[c]++
	}
	for ; oc.tail < oc.head && oc.r.Onion[oc.sent[oc.tail]].Sent < t-onlineWindow; oc.tail++ {
		c := oc.r.Onion[oc.sent[oc.tail]].Client
		if oc.count[c]--; oc.count[c] == 0 {
			oc.live--
		}
	}
	return oc.live
}

// online says whether client c is online at the time of the last call to at.
func (oc *onlineCounter) online(c int32) bool { return oc.count[c] > 0 }

func (oc *onlineCounter) viaLastHop(last int32, t time.Duration) int {
	return oc.distinct(oc.byLast[last], t)
}
