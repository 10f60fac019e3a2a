package client

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// testNodes interns n nodes; node k lives in subnet 10.0.(k/perSubnet).x.
func testNodes(t testing.TB, d *Directory, n, perSubnet int) []nodeIdx {
	t.Helper()
	out := make([]nodeIdx, n)
	for k := range n {
		var ed, x [32]byte
		ed[0], ed[1], ed[31] = byte(k>>8), byte(k), 0xed
		x[0], x[1], x[31] = byte(k>>8), byte(k), 0x25
		sub := k / perSubnet
		ip := netip.AddrFrom4([4]byte{10, byte(sub >> 8), byte(sub), byte(k%perSubnet + 1)})
		out[k] = d.intern(NodeInfo{Ed25519: ed, X25519: x, Addr: netip.AddrPortFrom(ip, 22021)})
	}
	return out
}

func testRouter(t testing.TB, n, perSubnet int) (*router, []nodeIdx) {
	t.Helper()
	cfg, err := Config{Seeds: []actor.Addr{netip.MustParseAddrPort("1.1.1.1:1")}}.withDefaults()
	require.NoError(t, err)
	d := NewDirectory()
	nodes := testNodes(t, d, n, perSubnet)
	rt := &router{cfg: &cfg, dir: d}
	rt.pool.set(d.list(nodes))
	return rt, nodes
}

func TestDirectoryInternsNodesAndLists(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 10, 1)
	require.Equal(t, 10, d.Len())

	// Re-interning the same key updates the address in place and keeps the index.
	info := d.info(nodes[3])
	info.Addr = netip.MustParseAddrPort("192.0.2.7:9")
	assert.Equal(t, nodes[3], d.intern(info))
	assert.Equal(t, info.Addr, d.addr(nodes[3]))
	assert.Equal(t, 10, d.Len())

	a := d.list([]nodeIdx{nodes[1], nodes[2], nodes[3]})
	b := d.list([]nodeIdx{nodes[3], nodes[1], nodes[2], nodes[1]})
	assert.Same(t, a, b, "the same set is stored once, whatever the order and duplicates")
	assert.Equal(t, 3, a.len())
	c := d.list([]nodeIdx{nodes[1], nodes[2]})
	assert.NotSame(t, a, c)

	i, ok := d.lookup(info.Ed25519)
	assert.True(t, ok)
	assert.Equal(t, nodes[3], i)
	_, ok = d.lookup([32]byte{1, 2, 3})
	assert.False(t, ok)
}

func TestDirectoryForgetsOldLists(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 50, 1)
	const stored = 20 // 4 more than the directory finds
	lists := make([]*nodeList, stored)
	for k := range lists {
		lists[k] = d.list(nodes[k : k+10])
	}
	// The 16 newest first: finding them stores nothing.
	for k := stored - 1; k >= 4; k-- {
		assert.Same(t, lists[k], d.list(nodes[k:k+10]), "list %d is among the 16 newest: found", k)
	}
	for k := range 4 {
		again := d.list(nodes[k : k+10])
		assert.NotSame(t, lists[k], again, "list %d is among the 4 oldest: forgotten", k)
		assert.Equal(t, lists[k].ordered, again.ordered, "a forgotten list is rebuilt the same")
	}
}

func TestDirectoryParsesAnAnswerOnce(t *testing.T) {
	d := NewDirectory()
	body := []byte(`{"service_node_states":[{"public_ip":"10.0.0.1","storage_port":22021,` +
		`"pubkey_ed25519":"0100000000000000000000000000000000000000000000000000000000000000",` +
		`"pubkey_x25519":"0200000000000000000000000000000000000000000000000000000000000000"}]}`)
	calls := 0
	decode := func(b []byte) ([]NodeInfo, error) {
		calls++
		return parseNodeStates(b)
	}
	a, err := d.decodedList(body, decode)
	require.NoError(t, err)
	b, err := d.decodedList(slices.Clone(body), decode)
	require.NoError(t, err)
	assert.Same(t, a, b)
	assert.Equal(t, 1, calls, "the second, identical answer is not parsed again")
	assert.Equal(t, 1, a.len())
	assert.Equal(t, netip.MustParseAddrPort("10.0.0.1:22021"), d.addr(a.ordered[0]))

	_, err = d.decodedList([]byte("{"), decode)
	assert.Error(t, err)
	_, err = d.decodedList([]byte("{"), decode)
	assert.Error(t, err)
	assert.Equal(t, 3, calls, "failures are not remembered")
}

func TestListOrderIndependentOfInterning(t *testing.T) {
	// Two directories that interned the same nodes in opposite orders give clients the same
	// draws: picks index the list in key order.
	d1, d2 := NewDirectory(), NewDirectory()
	n1 := testNodes(t, d1, 40, 1)
	var infos []NodeInfo
	for _, i := range n1 {
		infos = append(infos, d1.info(i))
	}
	var n2 []nodeIdx
	for k := len(infos) - 1; k >= 0; k-- {
		n2 = append(n2, d2.intern(infos[k]))
	}
	var p1, p2 pool
	p1.set(d1.list(n1))
	p2.set(d2.list(n2))
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for range 50 {
		a, ok1 := p1.pick(r1, nil)
		b, ok2 := p2.pick(r2, nil)
		require.True(t, ok1 && ok2)
		assert.Equal(t, d1.ed(a), d2.ed(b))
	}
}

func TestPoolPickRemoveContains(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 20, 1)
	var p pool
	_, ok := p.pick(rand.New(rand.NewPCG(1, 1)), nil)
	assert.False(t, ok, "empty pool")
	p.set(d.list(nodes))
	assert.Equal(t, 20, p.size())
	assert.True(t, p.remove(nodes[4]))
	assert.False(t, p.remove(nodes[4]), "second removal")
	assert.False(t, p.contains(nodes[4]))
	assert.True(t, p.contains(nodes[5]))
	assert.Equal(t, 19, p.size())

	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		i, ok := p.pick(r, nil)
		require.True(t, ok)
		assert.NotEqual(t, nodes[4], i)
	}
	// Only one node qualifies: the counting pass must find it.
	only := nodes[17]
	i, ok := p.pick(r, func(i nodeIdx) bool { return i != only })
	require.True(t, ok)
	assert.Equal(t, only, i)
	_, ok = p.pick(r, func(nodeIdx) bool { return true })
	assert.False(t, ok)

	sh := p.shuffled(r)
	assert.Len(t, sh, 19)
	assert.NotContains(t, sh, nodes[4])
}

func TestPoolPickIsUniform(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 10, 1)
	var p pool
	p.set(d.list(nodes))
	p.remove(nodes[0])
	r := rand.New(rand.NewPCG(5, 6))
	counts := map[nodeIdx]int{}
	const draws = 90000
	for range draws {
		i, _ := p.pick(r, nil)
		counts[i]++
	}
	assert.Len(t, counts, 9)
	for _, c := range counts {
		assert.InDelta(t, draws/9, c, draws/9*0.05)
	}
}

func TestAgree(t *testing.T) {
	a := []nodeIdx{1, 2, 3, 4}
	b := []nodeIdx{2, 3, 4, 5}
	c := []nodeIdx{3, 4, 5, 6}
	tests := []struct {
		name string
		mode Agreement
		want []nodeIdx
	}{
		{"desktop keeps what all three share", AgreeAll, []nodeIdx{3, 4}},
		{"libsession keeps what two of three list", AgreeTwoOfThree, []nodeIdx{2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, agree([][]nodeIdx{a, b, c}, tt.mode))
		})
	}
}

func giveGuards(rt *router, r *rand.Rand) {
	sh := rt.pool.shuffled(r)
	rt.guards = append(rt.guards[:0], sh[:rt.cfg.Paths]...)
}

// givePaths gives rt guards and builds its paths, drawing from r; the paths must build.
func givePaths(t testing.TB, rt *router, r *rand.Rand) {
	t.Helper()
	giveGuards(rt, r)
	require.True(t, rt.buildPaths(r, time.Unix(0, 0)))
}

func TestBuildPathsRespectsSubnetsAndUniqueness(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			// 40 nodes, 4 per /24: 10 subnets, enough for 2 paths of 2 hops + guards.
			rt, _ := testRouter(t, 40, 4)
			r := rand.New(rand.NewPCG(seed, 7))
			givePaths(t, rt, r)
			require.Len(t, rt.paths, 2)

			var all []nodeIdx
			var subnets []uint64
			for _, p := range rt.paths {
				require.Len(t, p.hops, 3)
				assert.Contains(t, rt.guards, p.hops[0])
				g := rt.dir.subnet(p.hops[0])
				for _, h := range p.hops[1:] {
					assert.NotContains(t, rt.guards, h, "a hop is never a guard")
					assert.NotEqual(t, g, rt.dir.subnet(h), "a hop never shares its guard's /24")
					assert.NotContains(t, subnets, rt.dir.subnet(h), "at most one hop per /24")
					subnets = append(subnets, rt.dir.subnet(h))
				}
				all = append(all, p.hops...)
			}
			sorted := slices.Clone(all)
			slices.Sort(sorted)
			assert.Equal(t, len(all), len(slices.Compact(sorted)), "no node twice")
		})
	}
}

func TestBuildPathsFailsWhenSubnetsRunOut(t *testing.T) {
	// 12 nodes in 2 subnets: guards take up both /24s' worth of exclusions and the hops
	// cannot be spread.
	rt, _ := testRouter(t, 12, 6)
	r := rand.New(rand.NewPCG(1, 1))
	giveGuards(rt, r)
	assert.False(t, rt.buildPaths(r, time.Unix(0, 0)))
}

func TestChoosePathAvoidsDestination(t *testing.T) {
	rt, _ := testRouter(t, 40, 1)
	r := rand.New(rand.NewPCG(2, 2))
	givePaths(t, rt, r)
	dest := rt.paths[0].hops[2]
	for range 50 {
		assert.Equal(t, 1, rt.choosePath(r, dest))
	}
	// A node on both paths (impossible by construction, forced here) leaves none.
	rt.paths[1].hops[2] = dest
	assert.Equal(t, -1, rt.choosePath(r, dest))
}

func TestStrikesDropNodeAndRepairPath(t *testing.T) {
	rt, _ := testRouter(t, 40, 1)
	var events []actor.Event
	rt.obs = func(ev actor.Event) { events = append(events, ev) }
	r := rand.New(rand.NewPCG(3, 3))
	givePaths(t, rt, r)
	events = nil
	hop := rt.paths[0].hops[1]
	now := time.Unix(100, 0)
	assert.False(t, rt.strike(r, hop, now))
	assert.False(t, rt.strike(r, hop, now))
	assert.True(t, rt.strike(r, hop, now), "third strike drops")
	assert.False(t, rt.pool.contains(hop))
	assert.False(t, rt.inPaths(hop))
	assert.Len(t, rt.paths[0].hops, 3, "the path was repaired")
	assert.Equal(t, uint32(1), rt.rebuilds)
	require.Len(t, events, 2)
	assert.Equal(t, NodeDropped{Node: rt.dir.addr(hop), NodeEd25519: rt.dir.ed(hop), Cause: CauseStrikes}, events[0])
	assert.IsType(t, PathBuilt{}, events[1])
	assert.True(t, events[1].(PathBuilt).Rebuild)
}

func TestStrikesExpire(t *testing.T) {
	rt, nodes := testRouter(t, 40, 1)
	rt.cfg.StrikeExpiry = time.Hour
	r := rand.New(rand.NewPCG(3, 3))
	t0 := time.Unix(1000, 0)
	rt.strike(r, nodes[5], t0)
	rt.strike(r, nodes[5], t0)
	assert.False(t, rt.strike(r, nodes[5], t0.Add(2*time.Hour)), "old strikes were forgotten")
	assert.True(t, rt.pool.contains(nodes[5]))
}

func TestPathFailuresDropPathAndGuard(t *testing.T) {
	rt, _ := testRouter(t, 40, 1)
	r := rand.New(rand.NewPCG(4, 4))
	givePaths(t, rt, r)
	guard := rt.paths[0].hops[0]
	now := time.Unix(10, 0)
	assert.False(t, rt.pathFailed(r, 0, now))
	k := rt.pathIndexByGuard(guard)
	assert.False(t, rt.pathFailed(r, k, now))
	k = rt.pathIndexByGuard(guard)
	assert.True(t, rt.pathFailed(r, k, now), "third failure drops the path")
	assert.Equal(t, -1, rt.pathIndexByGuard(guard))
	assert.NotContains(t, rt.guards, guard)
	assert.False(t, rt.pool.contains(guard), "the guard leaves the pool")
	assert.Equal(t, 1, rt.guardsNeeded())
}

func TestDropGuardNodeDropsPath(t *testing.T) {
	rt, _ := testRouter(t, 40, 1)
	r := rand.New(rand.NewPCG(5, 5))
	givePaths(t, rt, r)
	g := rt.paths[1].hops[0]
	rt.dropNode(r, g, CauseNotFound, time.Unix(1, 0))
	assert.Len(t, rt.paths, 1)
	assert.NotContains(t, rt.guards, g)
}

func TestPruneGuardsAfterRefresh(t *testing.T) {
	rt, nodes := testRouter(t, 40, 1)
	r := rand.New(rand.NewPCG(6, 6))
	givePaths(t, rt, r)
	g := rt.guards[0]
	rest := slices.DeleteFunc(slices.Clone(nodes), func(i nodeIdx) bool { return i == g })
	rt.pool.set(rt.dir.list(rest))
	rt.pruneGuards()
	assert.NotContains(t, rt.guards, g)
	assert.Len(t, rt.paths, 1)
}

func TestRotateReplacesHopsKeepsGuard(t *testing.T) {
	rt, _ := testRouter(t, 60, 1)
	rt.cfg.PathRotate = 10 * time.Minute
	r := rand.New(rand.NewPCG(7, 7))
	givePaths(t, rt, r)
	before := slices.Clone(rt.paths[0].hops)
	rt.rotate(r, time.Unix(60, 0))
	assert.Equal(t, before, rt.paths[0].hops, "too young to rotate")
	rt.rotate(r, time.Unix(700, 0))
	assert.Equal(t, before[0], rt.paths[0].hops[0])
	assert.NotEqual(t, before, rt.paths[0].hops)
}

// TestPoolSwarmOf checks the pool's swarm lookup (Config.LocalSwarms), which starts from its
// list's ring, against the owner rule applied to the swarms of exactly the nodes left in the pool.
func TestPoolSwarmOf(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 12, 1)
	// Swarms 100, 200, 300 with four nodes each; 300 lies far from the others.
	ids := []swarm.ID{100, 100, 100, 100, 200, 200, 200, 200, 1 << 62, 1 << 62, 1 << 62, 1 << 62}
	tests := []struct {
		name    string
		removed []int // indices into nodes
		x       uint64
	}{
		{"full pool, near 100", nil, 90},
		{"full pool, near 300", nil, 1<<62 + 5},
		{"one member of 300 dropped", []int{8}, 1<<62 + 5},
		{"every member of 300 dropped: 200 owns its space", []int{8, 9, 10, 11}, 1<<62 + 5},
		{"every member of 100 and of 300 dropped", []int{0, 1, 2, 3, 8, 9, 10, 11}, 5},
		{"members of two swarms dropped, none emptied", []int{0, 4, 5}, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pool
			p.set(d.listWithSwarms(nodes, ids))
			for _, k := range tt.removed {
				require.True(t, p.remove(nodes[k]))
			}
			var left []swarm.ID
			var want []nodeIdx
			for k, i := range nodes {
				if p.contains(i) {
					left = append(left, ids[k])
				}
			}
			owner, ok := swarm.NewRing(left).Owner(tt.x)
			require.True(t, ok)
			for k, i := range nodes {
				if ids[k] == owner && p.contains(i) {
					want = append(want, i)
				}
			}
			got, ok := p.swarmOf(tt.x)
			require.True(t, ok)
			assert.ElementsMatch(t, want, got)
		})
	}
}

func TestNodeListHas(t *testing.T) {
	d := NewDirectory()
	nodes := testNodes(t, d, 200, 1)
	l := d.list([]nodeIdx{nodes[3], nodes[64], nodes[130], nodes[199]})
	for k, i := range nodes {
		want := k == 3 || k == 64 || k == 130 || k == 199
		assert.Equal(t, want, l.has(i), "node %d", k)
	}
	assert.False(t, l.has(noNode))
	var none *nodeList
	assert.False(t, none.has(nodes[3]))
}
