package node

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// listOf builds a list from swarm id -> member indexes (keyN); decommissioned gives funded
// nodes without a swarm.
func listOf(height uint64, swarms map[swarm.ID][]int, decommissioned ...int) *registry.List {
	l := &registry.List{Height: height}
	for id, ms := range swarms {
		for _, i := range ms {
			l.Nodes = append(l.Nodes, Peer{Ed25519: keyN(i), Addr: addrN(i), Swarm: id})
		}
	}
	for _, i := range decommissioned {
		l.Nodes = append(l.Nodes, Peer{Ed25519: keyN(i), Addr: addrN(i), Swarm: swarm.Unassigned})
	}
	return l
}

func TestViewLookups(t *testing.T) {
	v := newView(listOf(5, map[swarm.ID][]int{100: {3, 1, 2}, 200: {4, 5}}, 9))
	assert.Equal(t, []swarm.ID{100, 200}, v.ring.IDs())
	require.Len(t, v.membersOf(100), 3)
	assert.Equal(t, keyN(1), v.membersOf(100)[0].Ed25519, "members sorted by key")
	assert.Nil(t, v.membersOf(300))
	assert.True(t, v.known(keyN(9)), "decommissioned nodes are known")
	assert.Equal(t, swarm.Unassigned, v.swarmOf(keyN(9)))
	assert.Equal(t, swarm.Unassigned, v.swarmOf(keyN(42)))
	p, ok := v.find(keyN(5))
	require.True(t, ok)
	assert.Equal(t, addrN(5), p.Addr)
	assert.Len(t, v.keys(), 6)
	id, ok := v.ownerSwarm(0x96)
	assert.True(t, ok)
	assert.Equal(t, swarm.ID(100), id)
	id, _ = v.ownerSwarm(0x97)
	assert.Equal(t, swarm.ID(200), id)
	r, ok := v.spaceRange(200)
	require.True(t, ok)
	assert.True(t, r.Contains(151))
	assert.False(t, r.Contains(150), "the midpoint belongs to the lower swarm")
}

// fromAddr finds a node by its storage address, IPv4 (by actor.AddrKey) or IPv6, and only at
// its address and port.
func TestViewFromAddr(t *testing.T) {
	l := listOf(5, map[swarm.ID][]int{100: {1, 2}})
	v6 := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::7"), addrN(2).Port())
	l.Nodes = append(l.Nodes, Peer{Ed25519: keyN(7), Addr: v6, Swarm: 100})
	v := newView(l)
	for _, tt := range []struct {
		name string
		addr actor.Addr
		key  int // keyN of the node found; 0: none
	}{
		{"IPv4", addrN(1), 1},
		{"IPv4, another", addrN(2), 2},
		{"IPv6", v6, 7},
		{"unknown", addrN(3), 0},
		{"another port", netip.AddrPortFrom(addrN(1).Addr(), addrN(1).Port()+1), 0},
		{"IPv4-mapped", netip.AddrPortFrom(netip.AddrFrom16(addrN(1).Addr().As16()), addrN(1).Port()), 0},
	} {
		p, ok := v.fromAddr(tt.addr)
		assert.Equal(t, tt.key != 0, ok, tt.name)
		if tt.key != 0 {
			assert.Equal(t, keyN(tt.key), p.Ed25519, tt.name)
		}
	}
}

func TestDeriveEvents(t *testing.T) {
	me := 1
	tests := []struct {
		name       string
		old, cur   *registry.List
		want       swarmEvents
		noOld      bool
		newMembers []int
	}{
		{
			name:  "first list: joined",
			noOld: true,
			cur:   listOf(1, map[swarm.ID][]int{100: {1, 2, 3}}),
			want:  swarmEvents{ours: 100, joined: true},
		},
		{
			name: "recommissioned: joined",
			old:  listOf(1, map[swarm.ID][]int{100: {2, 3}}, 1),
			cur:  listOf(2, map[swarm.ID][]int{100: {1, 2, 3}}),
			want: swarmEvents{ours: 100, joined: true},
		},
		{
			name: "decommissioned: nothing",
			old:  listOf(1, map[swarm.ID][]int{100: {1, 2, 3}}),
			cur:  listOf(2, map[swarm.ID][]int{100: {2, 3}}, 1),
			want: swarmEvents{ours: swarm.Unassigned},
		},
		{
			name:       "new member in our swarm",
			old:        listOf(1, map[swarm.ID][]int{100: {1, 2, 3}}),
			cur:        listOf(2, map[swarm.ID][]int{100: {1, 2, 3, 4}}),
			want:       swarmEvents{ours: 100},
			newMembers: []int{4},
		},
		{
			name: "a member left: nothing to push",
			old:  listOf(1, map[swarm.ID][]int{100: {1, 2, 3}}),
			cur:  listOf(2, map[swarm.ID][]int{100: {1, 2}}),
			want: swarmEvents{ours: 100},
		},
		{
			name: "a new swarm elsewhere",
			old:  listOf(1, map[swarm.ID][]int{100: {1, 2, 3}, 200: {4, 5, 6}}),
			cur:  listOf(2, map[swarm.ID][]int{100: {1, 2, 3}, 200: {4, 5}, 300: {6, 7}}),
			want: swarmEvents{ours: 100, newSwarms: []swarm.ID{300}},
		},
		{
			name: "moved to a surviving swarm: keep data, push nothing",
			old:  listOf(1, map[swarm.ID][]int{100: {1, 2, 3}, 200: {4, 5, 6}}),
			cur:  listOf(2, map[swarm.ID][]int{100: {2, 3}, 200: {1, 4, 5, 6}}),
			want: swarmEvents{ours: 200, moved: true},
		},
		{
			name: "our swarm dissolved",
			old:  listOf(1, map[swarm.ID][]int{100: {1, 2}, 200: {4, 5, 6}}),
			cur:  listOf(2, map[swarm.ID][]int{200: {1, 2, 4, 5, 6}}),
			want: swarmEvents{ours: 200, moved: true, dissolved: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old *view
			if !tc.noOld {
				old = newView(tc.old)
			}
			got := deriveEvents(old, newView(tc.cur), keyN(me))
			var members []int
			for _, p := range got.newMembers {
				members = append(members, int(p.Ed25519[1]))
			}
			got.newMembers = nil
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.newMembers, members)
		})
	}
}

// BenchmarkViewFind looks nodes up by key in a 2,000-node list, as every forwarded request
// does for the node's own swarm.
func BenchmarkViewFind(b *testing.B) {
	const n = 2000
	swarms := map[swarm.ID][]int{}
	for i := range n {
		id := swarm.ID(i / 7 * 1000)
		swarms[id] = append(swarms[id], i)
	}
	v := newView(listOf(1, swarms))
	i := 0
	for b.Loop() {
		if _, ok := v.find(keyN(i % n)); !ok {
			b.Fatal("a listed node not found")
		}
		i += 7919 // a prime stride: lookups spread over the list
	}
}
