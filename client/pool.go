package client

import (
	"math/rand/v2"
	"slices"

	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// pool is a client's snode pool: a shared list minus the nodes this client dropped.
type pool struct {
	list    *nodeList
	removed []nodeIdx // ascending; always a subset of list
}

func (p *pool) size() int { return p.list.len() - len(p.removed) }

func (p *pool) contains(i nodeIdx) bool {
	if !p.list.has(i) {
		return false
	}
	_, gone := slices.BinarySearch(p.removed, i)
	return !gone
}

// remove drops i; false if it was not in the pool.
func (p *pool) remove(i nodeIdx) bool {
	if !p.list.has(i) {
		return false
	}
	at, gone := slices.BinarySearch(p.removed, i)
	if gone {
		return false
	}
	p.removed = slices.Insert(p.removed, at, i)
	return true
}

// set replaces the pool with l.
func (p *pool) set(l *nodeList) {
	p.list = l
	p.removed = nil
}

// pick draws a uniformly random pool node for which skip is false (skip may be nil). Rejection
// sampling serves the common case of few exclusions; a counting pass takes over when draws keep
// failing, so an almost exhausted pool still answers exactly.
func (p *pool) pick(r *rand.Rand, skip func(nodeIdx) bool) (nodeIdx, bool) {
	n := p.list.len()
	if n == 0 || p.size() == 0 {
		return noNode, false
	}
	ok := func(i nodeIdx) bool {
		if _, gone := slices.BinarySearch(p.removed, i); gone {
			return false
		}
		return skip == nil || !skip(i)
	}
	for range 16 {
		i := p.list.ordered[r.IntN(n)]
		if ok(i) {
			return i, true
		}
	}
	count := 0
	for _, i := range p.list.ordered {
		if ok(i) {
			count++
		}
	}
	if count == 0 {
		return noNode, false
	}
	k := r.IntN(count)
	for _, i := range p.list.ordered {
		if ok(i) {
			if k == 0 {
				return i, true
			}
			k--
		}
	}
	return noNode, false
}

// shuffled returns the pool's nodes in random order (for guard candidates).
func (p *pool) shuffled(r *rand.Rand) []nodeIdx {
	out := make([]nodeIdx, 0, p.size())
	for _, i := range p.list.ordered {
		if _, gone := slices.BinarySearch(p.removed, i); !gone {
			out = append(out, i)
		}
	}
	r.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}

// swarmOf lists the pool's nodes in the swarm that owns swarm-space position x among the
// swarm ids of the pool's nodes (protocol/swarm's owner rule, the storage server's), or false
// when the pool's list carries no swarm ids or no node has a swarm. The list's ring serves
// unless the nodes this client dropped took the last member of a swarm with them.
func (p *pool) swarmOf(x uint64) ([]nodeIdx, bool) {
	if p.list == nil || p.list.swarms == nil {
		return nil, false
	}
	ring := p.list.swarmRing()
	if gone := p.emptiedSwarms(); len(gone) > 0 {
		ids := slices.DeleteFunc(slices.Clone(ring.IDs()), func(id swarm.ID) bool { return slices.Contains(gone, id) })
		ring = swarm.NewRing(ids)
	}
	owner, ok := swarm.Owner(ring.IDs(), x)
	if !ok {
		return nil, false
	}
	var out []nodeIdx
	for k, i := range p.list.sorted {
		if p.list.swarms[k] == owner && p.contains(i) {
			out = append(out, i)
		}
	}
	return out, true
}

// emptiedSwarms is the swarms of the pool's list none of whose nodes is left in the pool.
func (p *pool) emptiedSwarms() []swarm.ID {
	var gone []swarm.ID
	for _, i := range p.removed {
		if id, _ := p.list.swarmOf(i); !slices.Contains(gone, id) {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	for k, i := range p.list.sorted {
		if len(gone) == 0 {
			break
		}
		if at := slices.Index(gone, p.list.swarms[k]); at >= 0 && p.contains(i) {
			gone = slices.Delete(gone, at, at+1)
		}
	}
	return gone
}

// agree combines the node lists of a pool refresh: the nodes in all lists (AgreeAll) or in at
// least two (AgreeTwoOfThree). Each input list must be free of duplicates.
func agree(lists [][]nodeIdx, a Agreement) []nodeIdx {
	need := len(lists)
	if a == AgreeTwoOfThree && need > 2 {
		need = 2
	}
	counts := make(map[nodeIdx]int)
	for _, l := range lists {
		for _, i := range l {
			counts[i]++
		}
	}
	var out []nodeIdx
	for i, c := range counts {
		if c >= need {
			out = append(out, i)
		}
	}
	// The caller interns the result as a set, so the order of this slice never matters; sort it
	// anyway so that no map order leaks out.
	slices.Sort(out)
	return out
}
