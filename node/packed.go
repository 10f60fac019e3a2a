package node

import "math/bits"

// packedInts is a list of small non-negative integers, each stored in the fewest bits that hold
// the largest value allowed: a node's shuffled order of every other node (the reachability
// queue) then costs 11 bits per peer in a network of 2,000 rather than 32, which is most of an
// idle node's memory at that size.
type packedInts struct {
	words []uint64
	width uint // bits per value
	n     int
}

// reset makes p a list of n values below bound (all zero), reusing its memory when it can.
func (p *packedInts) reset(n, bound int) {
	p.width = uint(bits.Len(uint(max(bound-1, 0))))
	p.n = n
	need := (n*int(p.width) + 63) / 64
	if cap(p.words) < need {
		p.words = make([]uint64, need)
		return
	}
	p.words = p.words[:need]
	clear(p.words)
}

// len is the number of values.
func (p *packedInts) len() int { return p.n }

// truncate drops the values from n on.
func (p *packedInts) truncate(n int) { p.n = n }

func (p *packedInts) get(i int) int {
	if p.width == 0 {
		return 0
	}
	bit := uint(i) * p.width
	w, off := bit/64, bit%64
	v := p.words[w] >> off
	if off+p.width > 64 {
		v |= p.words[w+1] << (64 - off)
	}
	return int(v & (1<<p.width - 1))
}

func (p *packedInts) set(i, v int) {
	if p.width == 0 {
		return
	}
	mask := uint64(1)<<p.width - 1
	bit := uint(i) * p.width
	w, off := bit/64, bit%64
	p.words[w] = p.words[w]&^(mask<<off) | uint64(v)&mask<<off
	if off+p.width > 64 {
		spill := 64 - off
		p.words[w+1] = p.words[w+1]&^(mask>>spill) | uint64(v)&mask>>spill
	}
}
