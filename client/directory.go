package client

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"slices"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/intern"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// NodeInfo is what a client knows of a service node: its keys and where to reach it.
type NodeInfo struct {
	Ed25519 [32]byte
	X25519  [32]byte
	Addr    actor.Addr

	// swarm is the node's swarm_id as a node list gave it (hasSwarm: the list carried one).
	// It belongs to that list, not to the node's record: a Directory's records never hold it,
	// so clients sharing records never see each other's swarm ids.
	swarm    swarm.ID
	hasSwarm bool
}

// nodeIdx names a node interned in a Directory. Indices are only names: no decision ever depends
// on their numeric order, which depends on which client saw a node first.
type nodeIdx uint32

const noNode = ^nodeIdx(0)

// Directory interns node records and node lists for all the clients of a world. A client's pool
// is then a pointer to a shared list plus the few nodes it dropped, instead of thousands of
// records per client; identical lists (every client bootstrapping from the same registry state)
// are stored once. Sharing changes memory use only, never what a client does.
//
// A Directory belongs to the world: the world builder (or a test harness) makes one and hands it
// to every client through Config.Directory (one per engine worker when the world runs on
// several). It is not safe for concurrent use: a real-time driver that runs clients on
// goroutines of their own must serialise the clients that share one, or give each client its
// own (a nil Config.Directory does that).
type Directory struct {
	nodes []NodeInfo
	byKey map[[32]byte]nodeIdx
	// lists finds a recent list by its members (their indices, ascending).
	lists recentLists
	// decoded finds the list of a recent node-list answer by its bytes: thousands of clients
	// fetch the same answer from the seed nodes, and it is parsed once.
	decoded recentLists
	// configs are the distinct client configurations: clients with equal settings share one.
	configs intern.Pool[Config]
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{byKey: make(map[[32]byte]nodeIdx), lists: newRecentLists(), decoded: newRecentLists()}
}

// recentListCount is how many lists a recentLists finds: a handful of list versions circulate
// at once (the registry's last few blocks), each as a few distinct answers.
const recentListCount = 16

// recentLists maps keys to the lists most recently stored under them, forgetting the oldest
// key once it holds recentListCount. A forgotten list lives on with the clients that use it;
// it is only no longer found for new ones. What it forgets depends only on the order of
// stores, so it is the same in every run.
//
// A key is kept as a 128-bit digest, not as its bytes: the keys are whole node-list answers, 0.5
// KB per node, and a copy of each would cost every node of a world that much again. Two keys
// with one digest (odds about 2^-128 per pair, far below anything a run can measure) would find
// the other's list. The digest's seeds differ from process to process, but nothing depends on
// its value, only on equality.
type recentLists struct {
	m    map[listDigest]*nodeList
	keys [recentListCount]listDigest
	next int
	// last is the key most recently digested, lastDigest its digest. Thousands of clients
	// hand in the very same seed answer (the seed node keeps its answer's bytes), which
	// bytes.Equal finds equal by its address at once: hashing a 2,000-node answer twice for
	// each client was 2% of the CPU of a 5,000-client full run. Keys are answers' bodies or
	// keys built for one lookup, never changed once handed in.
	last       []byte
	lastDigest listDigest
}

// listDigest identifies a key: two independent 64-bit hashes of its bytes, and its length.
type listDigest struct {
	a, b uint64
	n    int
}

// listSeeds are the seeds of the two hashes of a listDigest.
var listSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func digestOf(key []byte) listDigest {
	return listDigest{a: maphash.Bytes(listSeeds[0], key), b: maphash.Bytes(listSeeds[1], key), n: len(key)}
}

func newRecentLists() recentLists {
	return recentLists{m: make(map[listDigest]*nodeList, recentListCount)}
}

// digest is digestOf(key), remembered for the last key.
func (r *recentLists) digest(key []byte) listDigest {
	if r.last == nil || !bytes.Equal(key, r.last) {
		r.last, r.lastDigest = key, digestOf(key)
	}
	return r.lastDigest
}

func (r *recentLists) get(key []byte) (*nodeList, bool) {
	l, ok := r.m[r.digest(key)]
	return l, ok
}

func (r *recentLists) put(key []byte, l *nodeList) {
	k := r.digest(key)
	if _, ok := r.m[k]; ok {
		r.m[k] = l
		return
	}
	if len(r.m) == recentListCount {
		delete(r.m, r.keys[r.next])
	}
	r.m[k] = l
	r.keys[r.next] = k
	r.next = (r.next + 1) % recentListCount
}

// Len is the number of distinct nodes interned.
func (d *Directory) Len() int { return len(d.nodes) }

// intern returns the index of n's Ed25519 key, recording n's latest X25519 key and address.
func (d *Directory) intern(n NodeInfo) nodeIdx {
	n.swarm, n.hasSwarm = 0, false
	if i, ok := d.byKey[n.Ed25519]; ok {
		d.nodes[i] = n
		return i
	}
	i := nodeIdx(len(d.nodes))
	d.nodes = append(d.nodes, n)
	d.byKey[n.Ed25519] = i
	return i
}

// lookup finds an interned node by Ed25519 key.
func (d *Directory) lookup(ed [32]byte) (nodeIdx, bool) {
	i, ok := d.byKey[ed]
	return i, ok
}

// info returns the node's record.
func (d *Directory) info(i nodeIdx) NodeInfo { return d.nodes[i] }

// addr returns the node's address.
func (d *Directory) addr(i nodeIdx) actor.Addr { return d.nodes[i].Addr }

// ed returns the node's Ed25519 key.
func (d *Directory) ed(i nodeIdx) [32]byte { return d.nodes[i].Ed25519 }

// subnet is the node's /24 (IPv4) or /48 (IPv6), the unit within which a path takes at most
// one node: nodes of one operator often share a subnet, and a path through two of them gives
// that operator both ends.
func (d *Directory) subnet(i nodeIdx) uint64 {
	a := d.addr(i).Addr()
	if a.Is4() || a.Is4In6() {
		b := a.As4()
		return 1<<63 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	}
	b := a.As16()
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

// sortByKey orders idx by Ed25519 key: the canonical order of any node set a client draws from,
// so that its draws do not depend on the order in which the world interned the nodes.
func (d *Directory) sortByKey(idx []nodeIdx) {
	slices.SortFunc(idx, func(a, b nodeIdx) int { return bytes.Compare(d.nodes[a].Ed25519[:], d.nodes[b].Ed25519[:]) })
}

// nodeList is an immutable, shared set of nodes.
type nodeList struct {
	// ordered is the canonical order (by Ed25519 key) in which random picks index the list, so
	// that what a client draws does not depend on interning order.
	ordered []nodeIdx
	// sorted holds the same indices ascending, for membership tests.
	sorted []nodeIdx
	// swarms are the swarm ids the list gave, in the order of sorted; nil when it gave none
	// (Config.LocalSwarms).
	swarms []swarm.ID
	// member has bit i set for each node i of the list: membership tests run on every poll,
	// send and path choice of every client, and a bit costs less than a binary search.
	member []uint64
	// ring is the ring of swarms, made on first use (see pool.swarmOf); nil before.
	ring *swarm.Ring
}

func (l *nodeList) len() int {
	if l == nil {
		return 0
	}
	return len(l.ordered)
}

func (l *nodeList) has(i nodeIdx) bool {
	if l == nil {
		return false
	}
	w := int(i / 64)
	return w < len(l.member) && l.member[w]&(1<<(i%64)) != 0
}

// memberBits is the set of the nodes sorted (ascending) as bits, for nodeList.member.
func memberBits(sorted []nodeIdx) []uint64 {
	if len(sorted) == 0 {
		return nil
	}
	bits := make([]uint64, sorted[len(sorted)-1]/64+1)
	for _, i := range sorted {
		bits[i/64] |= 1 << (i % 64)
	}
	return bits
}

// swarmRing is the ring of the swarm ids the list gave (empty without them), made once: every
// client with the list computes swarms from it (Config.LocalSwarms).
func (l *nodeList) swarmRing() swarm.Ring {
	if l.ring == nil {
		r := swarm.NewRing(l.swarms)
		l.ring = &r
	}
	return *l.ring
}

// list interns the set of nodes idx (any order, duplicates ignored) and returns the shared list.
func (d *Directory) list(idx []nodeIdx) *nodeList { return d.listWithSwarms(idx, nil) }

// listWithSwarms is list for nodes that come with their swarm ids (swarms[j] is idx[j]'s; nil
// for none). A node listed twice keeps its first swarm id.
func (d *Directory) listWithSwarms(idx []nodeIdx, swarms []swarm.ID) *nodeList {
	order := make([]int, len(idx))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(idx[a], idx[b]) })
	order = slices.CompactFunc(order, func(a, b int) bool { return idx[a] == idx[b] })
	sorted := make([]nodeIdx, len(order))
	var ids []swarm.ID
	if swarms != nil {
		ids = make([]swarm.ID, len(order))
	}
	key := make([]byte, 0, 12*len(order))
	for j, o := range order {
		sorted[j] = idx[o]
		key = binary.LittleEndian.AppendUint32(key, uint32(idx[o]))
		if ids != nil {
			ids[j] = swarms[o]
			key = binary.LittleEndian.AppendUint64(key, uint64(swarms[o]))
		}
	}
	if ids != nil {
		// A list with swarm ids is never the list of the same nodes without them.
		key = append(key, 's')
	}
	if l, ok := d.lists.get(key); ok {
		return l
	}
	ordered := slices.Clone(sorted)
	d.sortByKey(ordered)
	l := &nodeList{ordered: ordered, sorted: sorted, swarms: ids, member: memberBits(sorted)}
	d.lists.put(key, l)
	return l
}

// swarmOf is the swarm id the list gave node i; false when it gave none.
func (l *nodeList) swarmOf(i nodeIdx) (swarm.ID, bool) {
	if l == nil || l.swarms == nil {
		return 0, false
	}
	k, ok := slices.BinarySearch(l.sorted, i)
	if !ok {
		return 0, false
	}
	return l.swarms[k], true
}

// merged interns the nodes common (a pool refresh's agreement) with the swarm id the first of
// from that lists each node gave it; without swarm ids in every one of from, none.
func (d *Directory) merged(common []nodeIdx, from []*nodeList) *nodeList {
	for _, l := range from {
		if l.swarms == nil {
			return d.list(common)
		}
	}
	ids := make([]swarm.ID, len(common))
	for j, i := range common {
		for _, l := range from {
			if id, ok := l.swarmOf(i); ok {
				ids[j] = id
				break
			}
		}
	}
	return d.listWithSwarms(common, ids)
}

// decodedList returns the list of nodes in a node-list answer, parsing it with decode unless an
// identical answer was parsed recently. Failures are not remembered.
func (d *Directory) decodedList(body []byte, decode func([]byte) ([]NodeInfo, error)) (*nodeList, error) {
	if l, ok := d.decoded.get(body); ok {
		return l, nil
	}
	nodes, err := decode(body)
	if err != nil {
		return nil, err
	}
	idx := make([]nodeIdx, len(nodes))
	var swarms []swarm.ID
	if len(nodes) > 0 && !slices.ContainsFunc(nodes, func(n NodeInfo) bool { return !n.hasSwarm }) {
		swarms = make([]swarm.ID, len(nodes))
	}
	for j, n := range nodes {
		if swarms != nil {
			swarms[j] = n.swarm
		}
		idx[j] = d.intern(n)
	}
	l := d.listWithSwarms(idx, swarms)
	d.decoded.put(body, l)
	return l, nil
}
