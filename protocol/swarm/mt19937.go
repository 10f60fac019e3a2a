package swarm

// MT19937_64 is the 64-bit Mersenne Twister of C++'s std::mt19937_64, which oxen-core seeds
// with each block hash to assign swarms. It must match the standard bit for bit, so the swarms
// it produces are the real network's.
type MT19937_64 struct {
	mt  [mtN]uint64
	idx int
}

const (
	mtN         = 312
	mtM         = 156
	mtMatrixA   = 0xB5026F5AA96619E9
	mtUpperMask = 0xFFFFFFFF80000000 // most significant 33 bits
	mtLowerMask = 0x000000007FFFFFFF // least significant 31 bits
	mtInitMult  = 6364136223846793005
)

// DefaultSeed is the seed of a default-constructed std::mt19937_64.
const DefaultSeed = 5489

// NewMT19937_64 seeds a generator as std::mt19937_64(seed) does.
func NewMT19937_64(seed uint64) *MT19937_64 {
	g := &MT19937_64{}
	g.Seed(seed)
	return g
}

// Seed resets the generator to the state std::mt19937_64::seed(seed) gives.
func (g *MT19937_64) Seed(seed uint64) {
	g.mt[0] = seed
	for i := 1; i < mtN; i++ {
		prev := g.mt[i-1]
		g.mt[i] = mtInitMult*(prev^(prev>>62)) + uint64(i)
	}
	g.idx = mtN
}

func (g *MT19937_64) twist() {
	for i := 0; i < mtN; i++ {
		x := g.mt[i]&mtUpperMask | g.mt[(i+1)%mtN]&mtLowerMask
		xA := x >> 1
		if x&1 != 0 {
			xA ^= mtMatrixA
		}
		g.mt[i] = g.mt[(i+mtM)%mtN] ^ xA
	}
	g.idx = 0
}

// Uint64 is the next output.
func (g *MT19937_64) Uint64() uint64 {
	if g.idx >= mtN {
		g.twist()
	}
	y := g.mt[g.idx]
	g.idx++
	y ^= (y >> 29) & 0x5555555555555555
	y ^= (y << 17) & 0x71D67FFFEDA60000
	y ^= (y << 37) & 0xFFF7EEE000000000
	y ^= y >> 43
	return y
}

// Uniform is oxen-core's uniform_distribution_portable: a value in [0, n) by rejection sampling,
// so that every platform draws the same values from the same seed. n must be > 0; Uniform(0)
// returns 0 without drawing.
func (g *MT19937_64) Uniform(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	const max = ^uint64(0)
	secureMax := max - max%n
	for {
		x := g.Uint64()
		if x < secureMax {
			return x / (secureMax / n)
		}
	}
}

// SeedSequence resets the generator to the state std::mt19937_64 takes when seeded from a
// std::seed_seq of words: oxen-core seeds its quorum draws that way since HF16 (quorum_rng in
// service_node_list.cpp), with the quorum type and the block hash's 32-bit words.
func (g *MT19937_64) SeedSequence(words []uint32) {
	var x [2 * mtN]uint32
	seedSeqGenerate(words, x[:])
	zero := true
	for i := range g.mt {
		g.mt[i] = uint64(x[2*i]) | uint64(x[2*i+1])<<32
		if i == 0 {
			zero = g.mt[0]&mtUpperMask == 0
		} else if g.mt[i] != 0 {
			zero = false
		}
	}
	if zero {
		// The standard's guard against the one state the twister cannot leave.
		g.mt[0] = 1 << 63
	}
	g.idx = mtN
}

// seedSeqGenerate fills out as std::seed_seq::generate does from the sequence v ([rand.util.seedseq]
// of the C++ standard); all arithmetic is modulo 2^32.
func seedSeqGenerate(v, out []uint32) {
	n := len(out)
	if n == 0 {
		return
	}
	for i := range out {
		out[i] = 0x8b8b8b8b
	}
	s := len(v)
	var t int
	switch {
	case n >= 623:
		t = 11
	case n >= 68:
		t = 7
	case n >= 39:
		t = 5
	case n >= 7:
		t = 3
	default:
		t = (n - 1) / 2
	}
	p := (n - t) / 2
	q := p + t
	m := max(s+1, n)
	mix := func(x uint32) uint32 { return x ^ x>>27 }
	for k := range m {
		r1 := 1664525 * mix(out[k%n]^out[(k+p)%n]^out[(k+n-1)%n])
		r2 := r1 + uint32(k%n)
		switch {
		case k == 0:
			r2 = r1 + uint32(s)
		case k <= s:
			r2 += v[k-1]
		}
		out[(k+p)%n] += r1
		out[(k+q)%n] += r2
		out[k%n] = r2
	}
	for k := m; k < m+n; k++ {
		r3 := 1566083941 * mix(out[k%n]+out[(k+p)%n]+out[(k+n-1)%n])
		r4 := r3 - uint32(k%n)
		out[(k+p)%n] ^= r3
		out[(k+q)%n] ^= r4
		out[k%n] = r4
	}
}

// Shuffle permutes n elements as oxen-core's tools::shuffle_portable (common/random.h) does: for
// each i from 1, element i is swapped with one drawn by Uniform from [0, i].
func (g *MT19937_64) Shuffle(n int, swap func(i, j int)) {
	for i := 1; i < n; i++ {
		swap(i, int(g.Uniform(uint64(i+1))))
	}
}
