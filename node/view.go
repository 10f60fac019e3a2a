package node

import (
	"bytes"
	"slices"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/intern"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// Peer is a service node as the service-node list describes it.
type Peer = registry.Peer

// view is an indexed service-node list: swarms sorted by id with their members sorted by
// Ed25519 key, and lookups by key and by address. Its index is immutable once built; it is
// shared by every node that applies the same list through the world's Views.
type view struct {
	list *registry.List
	// entries answers get_service_nodes from the list (it encodes lazily, on first use).
	entries *registry.Entries
	height  uint64
	hash    [32]byte
	ring    swarm.Ring
	// members[i] are the members of ring.IDs()[i], sorted by Ed25519 key; memberHex[i] their
	// keys in hex, as recursive answers name them.
	members   [][]Peer
	memberHex [][]string
	// all funded nodes, sorted by Ed25519 key, and their keys in the same order.
	all     []Peer
	allKeys [][32]byte
	// byAddr4 finds a funded node by the actor.AddrKey of its IPv4 storage address, which
	// every relayed and forwarded request asks for, byAddr one at any other address, byKey by
	// its Ed25519 key: every forwarded and relayed request looks up the node's own swarm, and a
	// binary search over 2,000 peers of a few hundred bytes each cost a cache miss per step.
	byAddr4 map[uint64]int32
	byAddr  map[actor.Addr]int32
	byKey   map[[32]byte]int32
}

func cmpPeer(a, b Peer) int { return bytes.Compare(a.Ed25519[:], b.Ed25519[:]) }

// Views indexes the service-node lists of a world once for all of its nodes: every node applies
// the same *registry.List, so that 2,000 nodes do not each hold an index of 2,000 peers, nor
// encode the list's get_service_nodes answers each. It keeps the views of the most recent lists.
// A view depends only on its list, so sharing one changes no outcome.
//
// A Views belongs to the world: the world builder (or a test harness) makes one and hands it to
// every node through Config.Views (one per engine worker when the world runs on several). It is
// not safe for concurrent use: a real-time driver that runs nodes on goroutines of their own
// must serialise the nodes that share one, or give each node its own (a nil Config.Views does
// that).
type Views struct {
	recent [8]*view
	next   int
	// configs are the distinct node configurations: nodes with equal settings share one.
	configs intern.Pool[Config]
}

// NewViews returns an empty index.
func NewViews() *Views { return &Views{} }

// of returns the (shared) view of l.
func (vs *Views) of(l *registry.List) *view {
	for _, v := range vs.recent {
		if v != nil && v.list == l {
			return v
		}
	}
	v := newView(l)
	vs.recent[vs.next] = v
	vs.next = (vs.next + 1) % len(vs.recent)
	return v
}

func newView(l *registry.List) *view {
	v := &view{list: l, entries: registry.NewEntries(l), height: l.Height, hash: l.BlockHash, all: slices.Clip(l.Nodes)}
	sorted := slices.IsSortedFunc(v.all, cmpPeer)
	dups := false
	for i := 1; sorted && i < len(v.all); i++ {
		dups = dups || v.all[i].Ed25519 == v.all[i-1].Ed25519
	}
	if !sorted || dups {
		// Never touch the shared list: sort and de-duplicate a copy.
		v.all = slices.Clone(l.Nodes)
		slices.SortStableFunc(v.all, cmpPeer)
		v.all = slices.CompactFunc(v.all, func(a, b Peer) bool { return a.Ed25519 == b.Ed25519 })
	}
	var ids []swarm.ID
	v.allKeys = make([][32]byte, len(v.all))
	v.byAddr4 = make(map[uint64]int32, len(v.all))
	v.byAddr = make(map[actor.Addr]int32)
	v.byKey = make(map[[32]byte]int32, len(v.all))
	for i, p := range v.all {
		v.allKeys[i] = p.Ed25519
		if k, ok := actor.AddrKey(p.Addr); ok {
			v.byAddr4[k] = int32(i)
		} else {
			v.byAddr[p.Addr] = int32(i)
		}
		v.byKey[p.Ed25519] = int32(i)
		if p.Swarm != swarm.Unassigned {
			ids = append(ids, p.Swarm)
		}
	}
	v.ring = swarm.NewRing(ids)
	v.members = make([][]Peer, v.ring.Len())
	v.memberHex = make([][]string, v.ring.Len())
	for _, p := range v.all {
		if p.Swarm == swarm.Unassigned {
			continue
		}
		i, _ := slices.BinarySearch(v.ring.IDs(), p.Swarm)
		v.members[i] = append(v.members[i], p)
		v.memberHex[i] = append(v.memberHex[i], hexKey(p.Ed25519))
	}
	return v
}

// find returns the funded node with this Ed25519 key.
func (v *view) find(ed [32]byte) (Peer, bool) {
	if v == nil {
		return Peer{}, false
	}
	i, ok := v.byKey[ed]
	if !ok {
		return Peer{}, false
	}
	return v.all[i], true
}

// known reports whether ed is a funded node.
func (v *view) known(ed [32]byte) bool {
	_, ok := v.find(ed)
	return ok
}

// keys lists every funded node's key in sorted order; shared, do not modify.
func (v *view) keys() [][32]byte { return v.allKeys }

// fromAddr is the funded node listening at addr.
func (v *view) fromAddr(addr actor.Addr) (Peer, bool) {
	if v == nil {
		return Peer{}, false
	}
	var i int32
	var ok bool
	if k, is4 := actor.AddrKey(addr); is4 {
		i, ok = v.byAddr4[k]
	} else {
		i, ok = v.byAddr[addr]
	}
	if !ok {
		return Peer{}, false
	}
	return v.all[i], true
}

// swarmOf is the swarm a node is in (Unassigned when it is not active or not listed).
func (v *view) swarmOf(ed [32]byte) swarm.ID {
	if p, ok := v.find(ed); ok {
		return p.Swarm
	}
	return swarm.Unassigned
}

// hasSwarm reports whether id is an active swarm.
func (v *view) hasSwarm(id swarm.ID) bool {
	_, ok := slices.BinarySearch(v.ring.IDs(), id)
	return ok
}

// membersOf is the members of swarm id (nil if there is no such swarm).
func (v *view) membersOf(id swarm.ID) []Peer {
	members, _ := v.membersHexOf(id)
	return members
}

// membersHexOf is membersOf with the members' keys in hex, in the same order; shared, do not
// modify.
func (v *view) membersHexOf(id swarm.ID) ([]Peer, []string) {
	i, ok := slices.BinarySearch(v.ring.IDs(), id)
	if !ok {
		return nil, nil
	}
	return v.members[i], v.memberHex[i]
}

// ownerSwarm is the swarm that owns the account with this swarm space position.
func (v *view) ownerSwarm(space uint64) (swarm.ID, bool) {
	if v == nil {
		return 0, false
	}
	return v.ring.Owner(space)
}

// spaceRange is the part of the swarm space swarm id is responsible for.
func (v *view) spaceRange(id swarm.ID) (store.SpaceRange, bool) {
	lo, hi, ok := v.ring.Range(id)
	return store.SpaceRange{Lo: lo, Hi: hi}, ok
}

// swarmEvents is what changed for a node between two lists, as the storage server derives it.
type swarmEvents struct {
	// ours is the node's swarm in the new list (Unassigned when not active).
	ours swarm.ID
	// joined: the node was not in a swarm before and is now (nothing to push: the members
	// push to it).
	joined bool
	// moved: the node is in another swarm than before.
	moved bool
	// dissolved: the node's old swarm no longer exists, so its data must go to the new owners.
	dissolved bool
	// newMembers of the node's (unchanged) swarm, who need its data.
	newMembers []Peer
	// newSwarms that did not exist before, which need the data they now own.
	newSwarms []swarm.ID
}

// deriveEvents compares the list a node had (old, nil at first) with the new one, for the node
// with key self. Like the storage server, new members and new swarms only matter to a node
// that stayed in its swarm; a node that moved to a surviving swarm leaves its data alone (it
// expires), and one whose swarm dissolved pushes everything to the new owners.
func deriveEvents(old, cur *view, self [32]byte) swarmEvents {
	ev := swarmEvents{ours: cur.swarmOf(self)}
	if ev.ours == swarm.Unassigned {
		return ev
	}
	prev := swarm.Unassigned
	if old != nil {
		prev = old.swarmOf(self)
	}
	if prev == swarm.Unassigned {
		ev.joined = true
		return ev
	}
	if prev != ev.ours {
		ev.moved = true
		ev.dissolved = !cur.hasSwarm(prev)
		return ev
	}
	was := old.membersOf(prev)
	for _, p := range cur.membersOf(ev.ours) {
		if p.Ed25519 == self {
			continue
		}
		if _, ok := slices.BinarySearchFunc(was, p, cmpPeer); !ok {
			ev.newMembers = append(ev.newMembers, p)
		}
	}
	for _, id := range cur.ring.IDs() {
		if !old.hasSwarm(id) {
			ev.newSwarms = append(ev.newSwarms, id)
		}
	}
	return ev
}
