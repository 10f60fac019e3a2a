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
