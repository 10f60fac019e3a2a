package leakage

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/node"
)

// The observations the correlation attack, the anonymity sets and the contact graph are built
// from: what a coalition's guards and destinations see of each onion request, whoever holds
// them. A coalition's own view is these filtered by its bit masks, so they are built once per
// run and shared by every adversary.

// guardObs is an onion request arriving at a guard: the client's address, the time, the size.
type guardObs struct {
	at     time.Duration
	size   uint32
	client int32
	node   int32
}

// destObs is an onion request arriving at its destination, once per account it names.
type destObs struct {
	at      time.Duration
	size    uint32
	account int32
	node    int32
	prev    int32 // the last hop, which the destination sees
	sender  int32 // ground truth: the client that sent it, -1 when no onion record matched
	store   bool
}

// arrival is an onion request arriving at its destination node, once per request whatever it
// names: what an observer of the link from its last hop sees.
type arrival struct {
	at     time.Duration
	node   int32
	prev   int32 // the last hop
	sender int32 // ground truth, as destObs.sender
	store  bool
}

// observations are a run's guard-side and destination-side observations, sorted by time, and
// the network constants measured from the requests matched at both ends.
type observations struct {
	guard    []guardObs
	dest     []destObs
	arrivals []arrival
	// delta is the 99th percentile of the 3-hop transit time (destination arrival minus guard
	// arrival) over matched requests.
	delta time.Duration
	// matched are the matched requests' guard and destination nodes and their size difference
	// (guard bytes in minus destination bytes in: the onion layers peeled on the way).
	matched []matchedRequest
	// overhead is the median of matched[].overhead over the whole network.
	overhead int64
}

type matchedRequest struct {
	guard, dest int32
	overhead    int64
}

// observe builds the observations. Each reached onion request of the client records is
// matched to its guard hop (that node, that client, arrived between the send and the answer)
// and its destination hop (that node, from the path's last hop, naming the request's account,
// arrived after the guard): the first such hop not already claimed by another request. The
// matching gives the ground-truth sender of each destination observation and the network's
// transit times and layer overhead; an adversary never sees it.
// Cost: O(H log H + O log H) for H hop and O onion records.
func observe(r *Recorder) *observations {
	ob := &observations{}
	guards := map[[2]int32][]int32{} // (node, client) -> guard hops in arrival order
	dests := map[[2]int32][]int32{}  // (node, previous node) -> destination hops
	for i := range r.Hop {
		h := &r.Hop[i]
		switch {
		case h.Guard() && h.PrevClient() >= 0 && h.Node >= 0:
			k := [2]int32{h.Node, h.PrevClient()}
			guards[k] = append(guards[k], int32(i))
			ob.guard = append(ob.guard, guardObs{at: h.Arrived, size: h.BytesIn, client: h.PrevClient(), node: h.Node})
		case h.Role() == node.HopDestination && h.Node >= 0:
			k := [2]int32{h.Node, h.PrevNode()}
			dests[k] = append(dests[k], int32(i))
		}
	}
	sortByArrival := func(m map[[2]int32][]int32) {
		for _, l := range m {
			slices.SortStableFunc(l, func(a, b int32) int { return cmp.Compare(r.Hop[a].Arrived, r.Hop[b].Arrived) })
		}
	}
	sortByArrival(guards)
	sortByArrival(dests)
	claimed := make([]bool, len(r.Hop))
	sender := make([]int32, len(r.Hop))
	for i := range sender {
		sender[i] = -1
	}
	first := func(l []int32, from, to time.Duration, ok func(int32) bool) int32 {
		j, _ := slices.BinarySearchFunc(l, from, func(h int32, t time.Duration) int { return cmp.Compare(r.Hop[h].Arrived, t) })
		for ; j < len(l) && r.Hop[l[j]].Arrived <= to; j++ {
			if !claimed[l[j]] && ok(l[j]) {
				return l[j]
			}
		}
		return -1
	}
	var transit []time.Duration
	for o, path := range r.reachedPaths() {
		if o.Dest < 0 {
			continue
		}
		g := first(guards[[2]int32{path[0], o.Client}], o.Sent, o.Done, func(int32) bool { return true })
		if g < 0 {
			continue
		}
		gh := &r.Hop[g]
		d := first(dests[[2]int32{o.Dest, path[len(path)-1]}], gh.Arrived, o.Done, func(h int32) bool {
			return o.Account < 0 || slices.Contains(r.Accounts(r.Hop[h].Accounts()), o.Account)
		})
		if d < 0 {
			continue
		}
		claimed[g], claimed[d] = true, true
		sender[d] = o.Client
		dh := &r.Hop[d]
		transit = append(transit, dh.Arrived-gh.Arrived)
		ob.matched = append(ob.matched, matchedRequest{guard: gh.Node, dest: dh.Node, overhead: int64(gh.BytesIn) - int64(dh.BytesIn)})
	}
	if len(transit) > 0 {
		slices.Sort(transit)
		ob.delta = transit[min(len(transit)-1, int(math.Ceil(0.99*float64(len(transit))))-1)]
		ob.overhead = medianOverhead(ob.matched, func(matchedRequest) bool { return true })
	}
	for i := range r.Hop {
		h := &r.Hop[i]
		if h.Role() != node.HopDestination || h.Node < 0 {
			continue
		}
		ob.arrivals = append(ob.arrivals, arrival{at: h.Arrived, node: h.Node, prev: h.PrevNode(), sender: sender[i], store: h.Store()})
		for _, acc := range r.Accounts(h.Accounts()) {
			if acc >= 0 {
				ob.dest = append(ob.dest, destObs{at: h.Arrived, size: h.BytesIn, account: acc, node: h.Node, prev: h.PrevNode(),
					sender: sender[i], store: h.Store()})
			}
		}
	}
	slices.SortStableFunc(ob.guard, func(a, b guardObs) int { return cmp.Compare(a.at, b.at) })
	slices.SortStableFunc(ob.dest, func(a, b destObs) int { return cmp.Compare(a.at, b.at) })
	slices.SortStableFunc(ob.arrivals, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	return ob
}

// medianOverhead is the median (lower middle) overhead of the matched requests keep accepts,
// 0 when it accepts none.
func medianOverhead(ms []matchedRequest, keep func(matchedRequest) bool) int64 {
	var o []int64
	for _, m := range ms {
		if keep(m) {
			o = append(o, m.overhead)
		}
	}
	if len(o) == 0 {
		return 0
	}
	slices.Sort(o)
	return o[(len(o)-1)/2]
}

// overheadFor is the layer overhead k a coalition learns: the median over the requests whose
// guard and destination were both its own in the same draw (it sees both sizes and, holding
// both ends, can pair them up, as it can for requests it sends itself). A coalition that held
// no such request sends its own, which costs nothing and gives the network's figure.
func (ob *observations) overheadFor(g *group) int64 {
	mask := func(n int32) uint64 { return g.node[n] }
	var found bool
	k := medianOverhead(ob.matched, func(m matchedRequest) bool {
		ok := mask(m.guard)&mask(m.dest) != 0
		found = found || ok
		return ok
	})
	if !found {
		return ob.overhead
	}
	return k
}

// sizeIndex is a coalition's guard observations grouped by size class, each class in arrival
// order, so the candidates of a destination observation are a few binary searches away.
type sizeIndex struct {
	ob    *observations
	g     *group
	k     int64 // the layer overhead
	eps   int64 // the size tolerance; negative for timing only
	class map[int64][]int32
	all   []int32 // timing only: every observation at a node of some draw's coalition
}

// sizeClassWidth is twice the tolerance, so |z - (b - k)| <= eps spans at most two classes.
const sizeClassWidth = 2 * sizeEps

// sizeEps is the attack's size tolerance, in bytes.
const sizeEps = 16

func newSizeIndex(ob *observations, g *group, k int64, timingOnly bool) *sizeIndex {
	ix := &sizeIndex{ob: ob, g: g, k: k, eps: sizeEps, class: map[int64][]int32{}}
	if timingOnly {
		ix.eps = -1
	}
	for i, o := range ob.guard {
		if g.node[o.node] == 0 {
			continue
		}
		if timingOnly {
			ix.all = append(ix.all, int32(i))
			continue
		}
		c := floorDiv(int64(o.size)-k, sizeClassWidth)
		ix.class[c] = append(ix.class[c], int32(i))
	}
	return ix
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// candidates calls f with every guard observation i (at a node of some draw) with
// from <= a_i < u and, unless timing only, |z - (b_i - k)| <= eps.
func (ix *sizeIndex) candidates(from, u time.Duration, z uint32, f func(i int32)) {
	scan := func(l []int32) {
		j, _ := slices.BinarySearchFunc(l, from, func(i int32, t time.Duration) int { return cmp.Compare(ix.ob.guard[i].at, t) })
		for ; j < len(l) && ix.ob.guard[l[j]].at < u; j++ {
			if d := int64(z) - (int64(ix.ob.guard[l[j]].size) - ix.k); ix.eps < 0 || (d >= -ix.eps && d <= ix.eps) {
				f(l[j])
			}
		}
	}
	if ix.eps < 0 {
		scan(ix.all)
		return
	}
	for c := floorDiv(int64(z)-ix.eps, sizeClassWidth); c <= floorDiv(int64(z)+ix.eps, sizeClassWidth); c++ {
		scan(ix.class[c])
	}
}
