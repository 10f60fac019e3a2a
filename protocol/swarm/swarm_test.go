package swarm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpaceVectors(t *testing.T) {
	tests := []struct {
		id   string
		want uint64
	}{
		{"053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648},
		{"05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163},
	}
	for _, tt := range tests {
		id, err := identity.ParseID(tt.id)
		require.NoError(t, err)
		assert.Equal(t, tt.want, SpaceOf(id), tt.id)
		assert.Equal(t, tt.want, Space(id.Key()), tt.id)
	}
}

func TestOwner(t *testing.T) {
	ids := []ID{100, 200}
	tests := []struct {
		x    uint64
		want ID
	}{
		{0x96, 100}, // 150: equidistant, the tie goes left
		{0x97, 200},
		{0, 100},
		{100, 100},
		{200, 200},
		{math.MaxUint64, 100}, // wraps: 101 to 100, 201 to 200
		{1<<63 + 150, 200},    // equidistant across the wrap: left is 200
		{1<<63 + 151, 100},
	}
	for _, tt := range tests {
		got, ok := Owner(ids, tt.x)
		require.True(t, ok)
		assert.Equal(t, tt.want, got, "x=%d", tt.x)
	}
	_, ok := Owner(nil, 5)
	assert.False(t, ok)
	got, ok := Owner([]ID{42}, 7)
	assert.True(t, ok)
	assert.Equal(t, ID(42), got)
}

// Owner agrees with a brute-force nearest search (ties to the lower neighbour on the ring).
func TestOwnerBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(8)
		var ids []ID
		for range n {
			if r.IntN(4) == 0 {
				ids = append(ids, ID(r.Uint64N(16))) // small ids make ties and wraps likely
			} else {
				ids = append(ids, ID(r.Uint64()))
			}
		}
		ring := NewRing(ids)
		x := r.Uint64()
		if r.IntN(3) == 0 {
			x = r.Uint64N(32)
		}
		got, ok := ring.Owner(x)
		require.True(t, ok)
		assert.Equal(t, bruteOwner(ring.IDs(), x), got, "ids=%v x=%d", ring.IDs(), x)

		lo, hi, ok := ring.Range(got)
		require.True(t, ok)
		assert.True(t, InRange(lo, hi, x), "x=%d not in (%d,%d] of %d", x, lo, hi, got)
		for _, other := range ring.IDs() {
			if other == got {
				continue
			}
			lo, hi, _ := ring.Range(other)
			assert.False(t, InRange(lo, hi, x), "x=%d also in range of %d", x, other)
		}
	}
}

func bruteOwner(sorted []ID, x uint64) ID {
	best := sorted[0]
	bestD := uint64(math.MaxUint64)
	bestLeft := false
	for _, id := range sorted {
		dr := uint64(id) - x // distance going up from x
		dl := x - uint64(id) // distance going down from x
		d, left := dr, false
		if dl <= dr {
			d, left = dl, true
		}
		if d < bestD || d == bestD && left && !bestLeft {
			best, bestD, bestLeft = id, d, left
		}
	}
	return best
}

func TestRange(t *testing.T) {
	ring := NewRing([]ID{200, 100, 100, Unassigned})
	require.Equal(t, []ID{100, 200}, ring.IDs())
	lo, hi, ok := ring.Range(100)
	require.True(t, ok)
	assert.Equal(t, uint64(1<<63+150), lo)
	assert.Equal(t, uint64(150), hi)
	lo, hi, _ = ring.Range(200)
	assert.Equal(t, uint64(150), lo)
	assert.Equal(t, uint64(1<<63+150), hi)
	_, _, ok = ring.Range(150)
	assert.False(t, ok)

	one := NewRing([]ID{7})
	lo, hi, _ = one.Range(7)
	assert.True(t, InRange(lo, hi, 0))
	assert.True(t, InRange(lo, hi, math.MaxUint64))
}

func TestNewID(t *testing.T) {
	tests := []struct {
		name     string
		existing []ID
		want     ID
	}{
		{"first swarm", nil, 0},
		{"second: opposite 0 across the wrap", []ID{0}, 1<<63 - 1},
		{"third: the larger gap", []ID{0, 1<<63 - 1}, 1<<63 - 1 + (1<<63)/2},
		// Gaps: 2^62, 3*2^62-12 and 11 across the wrap; the middle one is split.
		{"inner gap wins", []ID{0, 1 << 62, MaxID - 10}, 1<<62 + (3<<62-12)/2},
		// Gaps: 100, and 2^64-101 from 200 across the wrap to 100 (MaxID and 0 adjacent).
		{"wrap gap", []ID{100, 200}, 200 + (1<<63 - 51)},
		// The largest gap wraps and its midpoint is past MaxID: counted on from 0.
		// (MaxID + 1 counts as 0: MaxID + 2^63-1 lands on 2^63-2.)
		{"midpoint past MaxID", []ID{MaxID - 1, MaxID}, 1<<63 - 2},
		{"not past MaxID", []ID{1 << 62, 1<<62 + 1}, 3 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewID(tt.existing))
		})
	}
}

func TestMT19937Standard(t *testing.T) {
	g := NewMT19937_64(DefaultSeed)
	var x uint64
	for range 10000 {
		x = g.Uint64()
	}
	// The C++ standard's required check for mt19937_64 ([rand.predef]).
	assert.Equal(t, uint64(9981545732273789042), x)
}

func TestMT19937AgainstLibstdcxx(t *testing.T) {
	lines := readGolden(t, "cxx_mt.golden")
	gens := map[uint64]*MT19937_64{}
	def := NewMT19937_64(DefaultSeed)
	n := 0
	for i := 1; i <= 10000; i++ {
		x := def.Uint64()
		if i <= 3 || i == 10000 {
			require.Equal(t, fmt.Sprintf("default %d %d", i, x), lines[n])
			n++
		}
	}
	for _, line := range lines[n:] {
		var seed, bound, want uint64
		_, err := fmt.Sscanf(line, "uniform %d %d %d", &seed, &bound, &want)
		require.NoError(t, err, line)
		g, ok := gens[seed]
		if !ok {
			g = NewMT19937_64(seed)
			gens[seed] = g
		}
		assert.Equal(t, want, g.Uniform(bound), line)
	}
}

// Seeding from a seed sequence and the portable shuffle, as oxen-core draws its quorums, against
// libstdc++'s std::seed_seq and std::mt19937_64 (testdata/cxxref.cpp seedseq).
func TestSeedSequenceAndShuffleAgainstLibstdcxx(t *testing.T) {
	var words []uint32
	checked := 0
	for _, line := range readGolden(t, "cxx_seedseq.golden") {
		var c, n int
		if strings.HasPrefix(line, "seedseq ") {
			var want [3]uint64
			_, err := fmt.Sscanf(line, "seedseq %d %d %d %d %d", &c, &n, &want[0], &want[1], &want[2])
			require.NoError(t, err, line)
			r := splitMix{s: uint64(100 + c)}
			words = make([]uint32, n)
			for i := range words {
				words[i] = uint32(r.next())
			}
			var g MT19937_64
			g.SeedSequence(words)
			assert.Equal(t, want, [3]uint64{g.Uint64(), g.Uint64(), g.Uint64()}, line)
			checked++
			continue
		}
		var want uint64
		_, err := fmt.Sscanf(line, "shuffle %d %d %x", &c, &n, &want)
		require.NoError(t, err, line)
		var g MT19937_64
		g.SeedSequence(words)
		v := make([]uint64, n)
		for i := range v {
			v[i] = uint64(i)
		}
		g.Shuffle(n, func(i, j int) { v[i], v[j] = v[j], v[i] })
		f := fnv{h: 1469598103934665603}
		for _, x := range v {
			f.u64(x)
		}
		assert.Equal(t, want, f.h, line)
		checked++
	}
	assert.Equal(t, 36, checked)
}

func TestSortMatchesLibstdcxx(t *testing.T) {
	r := splitMix{s: 1}
	for _, line := range readGolden(t, "cxx_sort.golden") {
		var trial, n, k int
		var wantSort, wantHeap uint64
		_, err := fmt.Sscanf(line, "%d %d %d %x %x", &trial, &n, &k, &wantSort, &wantHeap)
		require.NoError(t, err)
		gotN := int(1 + r.next()%400)
		gotK := int(1 + r.next()%13)
		require.Equal(t, n, gotN, "generator out of step at trial %d", trial)
		require.Equal(t, k, gotK)
		v := make([]swarmSize, n)
		for i := range v {
			v[i] = swarmSize{id: ID(i), size: int(r.next() % uint64(k))}
		}
		h := slices.Clone(v)
		sortBySize(v)
		heapSort(h, 0, len(h))
		assert.Equal(t, wantSort, hashIDs(v), "std::sort order, trial %d (n=%d k=%d)", trial, n, k)
		assert.Equal(t, wantHeap, hashIDs(h), "heapsort order, trial %d (n=%d k=%d)", trial, n, k)
		assert.True(t, slices.IsSortedFunc(v, func(a, b swarmSize) int { return a.size - b.size }))
	}
}

// TestAssignMatchesLibstdcxx replays the scenarios of testdata/cxxref.cpp (joins, leaves,
// decommissions and recommissions over hundreds of blocks) and compares every block's full
// assignment with what the C++ standard library produced.
func TestAssignMatchesLibstdcxx(t *testing.T) {
	lines := readGolden(t, "cxx_assign.golden")
	type scenario struct {
		name                                 string
		seed                                 uint64
		blocks                               int
		maxJoin, maxLeave, maxDecomm, maxRec int
		cap                                  int
	}
	scs := []scenario{
		{"one-per-block", 11, 150, 1, 0, 0, 0, 1000000},
		{"five-per-block", 12, 420, 5, 0, 0, 0, 2100},
		{"churn", 13, 500, 6, 2, 2, 2, 400},
		{"small", 14, 400, 2, 2, 1, 1, 16},
	}
	for _, viaState := range []bool{false, true} {
		li := 0
		for _, sc := range scs {
			t.Run(fmt.Sprintf("%s/state=%v", sc.name, viaState), func(t *testing.T) {
				r := splitMix{s: sc.seed}
				active := map[Key]ID{}
				st := &State{}
				var sortedKeys []Key
				var decomm []Key
				removeAt := func(i int) Key {
					k := sortedKeys[i]
					sortedKeys = slices.Delete(sortedKeys, i, i+1)
					delete(active, k)
					require.True(t, st.Remove(k))
					return k
				}
				insert := func(k Key) {
					i, _ := slices.BinarySearchFunc(sortedKeys, k, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
					sortedKeys = slices.Insert(sortedKeys, i, k)
					active[k] = Unassigned
					st.Add(k)
				}
				for b := 0; b < sc.blocks; b++ {
					changed := false
					joins := int(r.next() % uint64(sc.maxJoin+1))
					for i := 0; i < joins && len(active) < sc.cap; i++ {
						insert(r.key())
						changed = true
					}
					leaves := int(r.next() % uint64(sc.maxLeave+1))
					for i := 0; i < leaves && len(active) > 0; i++ {
						removeAt(int(r.next() % uint64(len(active))))
						changed = true
					}
					decs := int(r.next() % uint64(sc.maxDecomm+1))
					for i := 0; i < decs && len(active) > 0; i++ {
						decomm = append(decomm, removeAt(int(r.next()%uint64(len(active)))))
						changed = true
					}
					recs := int(r.next() % uint64(sc.maxRec+1))
					for i := 0; i < recs && len(decomm) > 0; i++ {
						j := int(r.next() % uint64(len(decomm)))
						insert(decomm[j])
						decomm = slices.Delete(decomm, j, j+1)
						changed = true
					}
					var hash [32]byte
					seed := r.next()
					for i := range 8 {
						hash[i] = byte(seed >> (8 * i))
					}
					if changed && !viaState {
						active = Assign(active, hash)
					}
					if changed && viaState {
						before := maps.Clone(active)
						moves := st.Block(hash)
						for _, k := range sortedKeys {
							id, ok := st.SwarmOf(k)
							require.True(t, ok)
							active[k] = id
						}
						checkMoves(t, before, active, moves)
					}
					require.Less(t, li, len(lines))
					want := lines[li]
					li++
					got := fmt.Sprintf("%s %d %d %d %016x", sc.name, b, len(active), countSwarms(active), hashAssignment(sortedKeys, active))
					require.Equal(t, want, got, "block %d differs from libstdc++", b)
				}
			})
		}
	}
}

// checkMoves: the moves a block reports are exactly the nodes whose swarm changed, in key order.
func checkMoves(t *testing.T, before, after map[Key]ID, moves []Move) {
	t.Helper()
	var want []Move
	for k, to := range after {
		if from := before[k]; from != to {
			want = append(want, Move{Key: k, From: from, To: to})
		}
	}
	slices.SortFunc(want, func(a, b Move) int { return compareKeys(a.Key, b.Key) })
	require.Equal(t, len(want), len(moves))
	if len(want) > 0 {
		require.Equal(t, want, moves)
	}
}

func countSwarms(m map[Key]ID) int {
	seen := map[ID]bool{}
	for _, id := range m {
		seen[id] = true
	}
	return len(seen)
}

func hashAssignment(sortedKeys []Key, m map[Key]ID) uint64 {
	f := fnv{h: 1469598103934665603}
	for _, k := range sortedKeys {
		for _, c := range k {
			f.byte(c)
		}
		f.u64(uint64(m[k]))
	}
	return f.h
}

func hashIDs(v []swarmSize) uint64 {
	f := fnv{h: 1469598103934665603}
	for _, e := range v {
		f.u64(uint64(e.id))
	}
	return f.h
}

type fnv struct{ h uint64 }

func (f *fnv) byte(b byte) { f.h = (f.h ^ uint64(b)) * 1099511628211 }
func (f *fnv) u64(v uint64) {
	for i := range 8 {
		f.byte(byte(v >> (8 * i)))
	}
}

// splitMix is the scenario generator shared with testdata/cxxref.cpp.
type splitMix struct{ s uint64 }

func (r *splitMix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (r *splitMix) key() Key { return keyOf(r.next) }

// keyOf is a key of four words drawn from next, each written little-endian, as the reference
// generator writes them.
func keyOf(next func() uint64) Key {
	var k Key
	for w := range 4 {
		binary.LittleEndian.PutUint64(k[8*w:], next())
	}
	return k
}

func readGolden(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err, "golden file (see testdata/cxxref.cpp to regenerate)")
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, lines)
	return lines
}

func randomKey(r *rand.Rand) Key { return keyOf(r.Uint64) }

func blockHash(r *rand.Rand) [32]byte { return randomKey(r) }

func sizesOf(m map[Key]ID) []int {
	c := map[ID]int{}
	for _, id := range m {
		c[id]++
	}
	var s []int
	for _, n := range c {
		s = append(s, n)
	}
	slices.Sort(s)
	return s
}

func TestAssignGrowth(t *testing.T) {
	for _, perBlock := range []int{1, 3, 7, 50} {
		t.Run(fmt.Sprintf("%d per block", perBlock), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(perBlock), 9))
			m := map[Key]ID{}
			for len(m) < 400 {
				for range perBlock {
					m[randomKey(r)] = Unassigned
				}
				m = Assign(m, blockHash(r))
				n := len(m)
				want := 1 + max(0, n-IdealSwarmSize)/IdealSwarmSize
				require.Equal(t, want, countSwarms(m), "after %d nodes", n)
				for id := range swarmSet(m) {
					require.NotEqual(t, Unassigned, id)
				}
				if n >= MinSwarmSize {
					assert.GreaterOrEqual(t, sizesOf(m)[0], MinSwarmSize, "after %d nodes: %v", n, sizesOf(m))
				}
			}
		})
	}
}

func swarmSet(m map[Key]ID) map[ID]bool {
	s := map[ID]bool{}
	for _, id := range m {
		s[id] = true
	}
	return s
}

// Over 500 blocks of random joins, leaves and returns: whenever at least 5 nodes are active,
// every swarm has at least 5 members, and every pubkey is owned by exactly one swarm that exists.
func TestAssignChurnInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	m := map[Key]ID{}
	var keys []Key // insertion order, for deterministic picks
	var away []Key
	for block := 0; block < 500; block++ {
		for range r.IntN(5) {
			k := randomKey(r)
			m[k] = Unassigned
			keys = append(keys, k)
		}
		for range r.IntN(4) {
			if len(keys) == 0 {
				break
			}
			i := r.IntN(len(keys))
			delete(m, keys[i])
			if r.IntN(2) == 0 {
				away = append(away, keys[i])
			}
			keys = slices.Delete(keys, i, i+1)
		}
		if len(away) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(away))
			m[away[i]] = Unassigned
			keys = append(keys, away[i])
			away = slices.Delete(away, i, i+1)
		}
		before := len(m)
		m = Assign(m, blockHash(r))
		require.Equal(t, before, len(m), "block %d: nodes appeared or vanished", block)
		if len(m) >= MinSwarmSize {
			require.GreaterOrEqual(t, sizesOf(m)[0], MinSwarmSize, "block %d: %v", block, sizesOf(m))
		}
		var ids []ID
		for id := range swarmSet(m) {
			require.NotEqual(t, Unassigned, id)
			ids = append(ids, id)
		}
		ring := NewRing(ids)
		for range 20 {
			var id identity.ID
			id[0] = 0x05
			k := randomKey(r)
			copy(id[1:], k[:])
			owner, ok := ring.OwnerOf(id)
			if len(ids) == 0 {
				assert.False(t, ok)
				continue
			}
			require.True(t, ok)
			owners := 0
			for _, s := range ring.IDs() {
				lo, hi, _ := ring.Range(s)
				if InRange(lo, hi, SpaceOf(id)) {
					owners++
					assert.Equal(t, owner, s)
				}
			}
			assert.Equal(t, 1, owners, "block %d", block)
		}
	}
}

func TestAssignDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	m := map[Key]ID{}
	for range 300 {
		m[randomKey(r)] = Unassigned
	}
	h := blockHash(r)
	a := Assign(m, h)
	for range 5 {
		// Fresh maps with different internal layouts must not change anything.
		cp := make(map[Key]ID, len(m))
		for k, v := range m {
			cp[k] = v
		}
		assert.Equal(t, a, Assign(cp, h))
	}
	h[0] ^= 1
	assert.NotEqual(t, a, Assign(m, h), "a different block hash should move someone")
}

func TestAssignEdgeCases(t *testing.T) {
	var h [32]byte
	assert.Empty(t, Assign(nil, h))
	assert.Empty(t, Assign(map[Key]ID{}, h))

	one := map[Key]ID{{1}: Unassigned}
	got := Assign(one, h)
	assert.Equal(t, map[Key]ID{{1}: 0}, got, "the first swarm is 0")

	// Nodes already in a swarm that no one else uses keep it when it is the only one.
	solo := map[Key]ID{{1}: 12345, {2}: 12345}
	assert.Equal(t, solo, Assign(solo, h))

	// Two starving swarms: one is dissolved into the other, never both.
	two := map[Key]ID{{1}: 10, {2}: 10, {3}: 1 << 40, {4}: 1 << 40}
	got = Assign(two, h)
	assert.Equal(t, 1, countSwarms(got))
	assert.Len(t, got, 4)
}

func TestSeedFromBlockHash(t *testing.T) {
	h, err := hex.DecodeString("0102030405060708" + strings.Repeat("ff", 24))
	require.NoError(t, err)
	assert.Equal(t, uint64(0x0807060504030201), SeedFromBlockHash([32]byte(h)))
}

// FuzzAssign feeds arbitrary node sets (some pre-assigned to arbitrary swarms) and checks the
// invariants: nobody lost, nobody unassigned, no starving swarm once there are 5 nodes.
func FuzzAssign(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint64(0), uint8(10))
	f.Add([]byte{0xff, 0xff, 0, 0, 7, 7, 7}, uint64(1), uint8(200))
	f.Add([]byte{}, uint64(42), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, n uint8) {
		r := rand.New(rand.NewPCG(seed, uint64(len(data))))
		m := map[Key]ID{}
		for i := 0; i < int(n); i++ {
			id := Unassigned
			if i < len(data) && data[i] != 0xff {
				id = ID(data[i]) * 1000
			}
			m[randomKey(r)] = id
		}
		out := Assign(m, blockHash(r))
		if len(out) != len(m) {
			t.Fatalf("%d nodes in, %d out", len(m), len(out))
		}
		for k := range m {
			id, ok := out[k]
			if !ok || id == Unassigned {
				t.Fatalf("node lost or unassigned")
			}
		}
		if len(out) >= MinSwarmSize && sizesOf(out)[0] < MinSwarmSize {
			t.Fatalf("starving swarm: %v", sizesOf(out))
		}
	})
}

func BenchmarkAssign2000(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m := map[Key]ID{}
	for range 2000 {
		m[randomKey(r)] = Unassigned
	}
	m = Assign(m, blockHash(r))
	// A typical block: two nodes join and one leaves.
	var leaver Key
	for k := range m {
		leaver = k
		break
	}
	delete(m, leaver)
	m[randomKey(r)] = Unassigned
	m[randomKey(r)] = Unassigned
	h := blockHash(r)
	var swarms int
	for b.Loop() {
		swarms = countSwarms(Assign(m, h))
	}
	b.ReportMetric(float64(swarms), "swarms")
}

func BenchmarkMT19937(b *testing.B) {
	g := NewMT19937_64(1)
	var x uint64
	for b.Loop() {
		x ^= g.Uint64()
	}
	_ = x
}

func TestStateAccessors(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var st State
	assert.Empty(t, st.Block(blockHash(r)), "an empty state has nothing to move")
	var keys []Key
	for range 30 {
		k := randomKey(r)
		keys = append(keys, k)
		st.Add(k)
	}
	id, ok := st.SwarmOf(keys[0])
	require.True(t, ok)
	assert.Equal(t, Unassigned, id)
	assert.Len(t, st.Unassigned(), 30)

	moves := st.Block(blockHash(r))
	assert.Len(t, moves, 30)
	assert.Empty(t, st.Unassigned())
	assert.Equal(t, 30, st.Len())
	ids := st.IDs()
	require.Len(t, ids, 1+(30-7)/7)
	assert.True(t, slices.IsSorted(ids))
	total := 0
	for _, id := range ids {
		m := st.Members(id)
		assert.True(t, slices.IsSortedFunc(m, compareKeys))
		assert.Equal(t, len(m), st.Sizes()[id])
		total += len(m)
		for _, k := range m {
			got, _ := st.SwarmOf(k)
			assert.Equal(t, id, got)
		}
	}
	assert.Equal(t, 30, total)
	assert.Nil(t, st.Members(Unassigned))

	c := st.Clone()
	require.True(t, c.Remove(keys[0]))
	_, ok = c.SwarmOf(keys[0])
	assert.False(t, ok)
	_, ok = st.SwarmOf(keys[0])
	assert.True(t, ok, "the clone is independent")
	assert.False(t, c.Remove(keys[0]))

	// Re-adding an active node takes it out of its swarm: it rejoins unassigned.
	st.Add(keys[1])
	id, _ = st.SwarmOf(keys[1])
	assert.Equal(t, Unassigned, id)
	assert.Equal(t, 30, st.Len())
	total = 0
	for _, n := range st.Sizes() {
		total += n
	}
	assert.Equal(t, 29, total)
}

func BenchmarkStateBlock2000(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	st := &State{}
	var keys []Key
	for range 2000 {
		k := randomKey(r)
		keys = append(keys, k)
		st.Add(k)
	}
	st.Block(blockHash(r))
	i := 0
	for b.Loop() {
		// One node leaves and another joins, every block.
		st.Remove(keys[i%len(keys)])
		k := randomKey(r)
		keys[i%len(keys)] = k
		st.Add(k)
		st.Block(blockHash(r))
		i++
	}
	b.ReportMetric(float64(len(st.IDs())), "swarms")
}
