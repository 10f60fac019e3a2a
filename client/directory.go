package client

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/sessionsim/sessionsim/actor"
)

// NodeInfo is what a client knows of a service node: its keys and where to reach it.
type NodeInfo struct {
	Ed25519 [32]byte
	X25519  [32]byte
	Addr    actor.Addr
}

// nodeIdx names a node interned in a Directory. Indices are only names: no decision ever depends
// on their numeric order, which depends on which client saw a node first.
type nodeIdx uint32

const noNode = ^nodeIdx(0)

// Directory interns node records and node lists for all the clients of a process. A client's
// pool is then a pointer to a shared list plus the few nodes it dropped, instead of thousands of
// records per client; identical lists (every client bootstrapping from the same registry state)
// are stored once. Lists nobody references any more are collected.
//
// A Directory is safe for concurrent use (the live driver runs clients on many goroutines).
type Directory struct {
	mu    sync.RWMutex
	nodes []NodeInfo
	byKey map[[32]byte]nodeIdx
	lists map[string]weak.Pointer[nodeList]
	// configs are the distinct client configurations: clients with equal settings share one.
	configs []*Config
	// decoded maps the digest of a node-list answer to its list: thousands of clients fetch the
	// same answer from the seed nodes, and it is parsed once.
	decoded map[bodyKey]weak.Pointer[nodeList]
	seeds   [2]maphash.Seed
}

// bodyKey is a 128-bit digest of an answer body. The hash seeds differ between processes, which
// can only change which (astronomically unlikely) collisions happen, never what a client does.
type bodyKey [2]uint64

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{byKey: make(map[[32]byte]nodeIdx), lists: make(map[string]weak.Pointer[nodeList]),
		decoded: make(map[bodyKey]weak.Pointer[nodeList]), seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// config returns the shared copy of c (which must be complete and is never changed after).
func (d *Directory) config(c Config) *Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.configs {
		if reflect.DeepEqual(*p, c) {
			return p
		}
	}
	p := &c
	d.configs = append(d.configs, p)
	return p
}

// Len is the number of distinct nodes interned.
func (d *Directory) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.nodes)
}

// intern returns the index of n's Ed25519 key, recording n's latest X25519 key and address.
func (d *Directory) intern(n NodeInfo) nodeIdx {
	d.mu.RLock()
	i, ok := d.byKey[n.Ed25519]
	same := ok && d.nodes[i] == n
	d.mu.RUnlock()
	if same {
		return i
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.byKey[n.Ed25519]; ok {
		d.nodes[i] = n
		return i
	}
	i = nodeIdx(len(d.nodes))
	d.nodes = append(d.nodes, n)
	d.byKey[n.Ed25519] = i
	return i
}

// lookup finds an interned node by Ed25519 key.
func (d *Directory) lookup(ed [32]byte) (nodeIdx, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	i, ok := d.byKey[ed]
	return i, ok
}

// info returns the node's record.
func (d *Directory) info(i nodeIdx) NodeInfo {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.nodes[i]
}

// addr returns the node's address.
func (d *Directory) addr(i nodeIdx) actor.Addr {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.nodes[i].Addr
}

// ed returns the node's Ed25519 key.
func (d *Directory) ed(i nodeIdx) [32]byte {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.nodes[i].Ed25519
}

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
// so that its draws do not depend on the order in which the process interned the nodes.
func (d *Directory) sortByKey(idx []nodeIdx) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	slices.SortFunc(idx, func(a, b nodeIdx) int { return bytes.Compare(d.nodes[a].Ed25519[:], d.nodes[b].Ed25519[:]) })
}

// nodeList is an immutable, shared set of nodes.
type nodeList struct {
	// ordered is the canonical order (by Ed25519 key) in which random picks index the list, so
	// that what a client draws does not depend on interning order.
	ordered []nodeIdx
	// sorted holds the same indices ascending, for membership tests.
	sorted []nodeIdx
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
	_, ok := slices.BinarySearch(l.sorted, i)
	return ok
}

// list interns the set of nodes idx (any order, duplicates ignored) and returns the shared list.
func (d *Directory) list(idx []nodeIdx) *nodeList {
	sorted := slices.Clone(idx)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	key := make([]byte, 4*len(sorted))
	for j, i := range sorted {
		binary.LittleEndian.PutUint32(key[4*j:], uint32(i))
	}
	d.mu.RLock()
	wp, ok := d.lists[string(key)]
	d.mu.RUnlock()
	if ok {
		if l := wp.Value(); l != nil {
			return l
		}
	}

	ordered := slices.Clone(sorted)
	d.sortByKey(ordered)
	l := &nodeList{ordered: ordered, sorted: sorted}

	d.mu.Lock()
	defer d.mu.Unlock()
	if wp, ok := d.lists[string(key)]; ok {
		if old := wp.Value(); old != nil {
			return old
		}
	}
	k := string(key)
	wp = weak.Make(l)
	d.lists[k] = wp
	runtime.AddCleanup(l, d.forget, listKey{k, wp})
	return l
}

// decodedList returns the list of nodes in a node-list answer, parsing it with decode unless an
// identical answer was parsed before.
func (d *Directory) decodedList(body []byte, decode func([]byte) ([]NodeInfo, error)) (*nodeList, error) {
	k := bodyKey{maphash.Bytes(d.seeds[0], body), maphash.Bytes(d.seeds[1], body)}
	d.mu.RLock()
	wp, ok := d.decoded[k]
	d.mu.RUnlock()
	if ok {
		if l := wp.Value(); l != nil {
			return l, nil
		}
	}
	nodes, err := decode(body)
	if err != nil {
		return nil, err
	}
	idx := make([]nodeIdx, len(nodes))
	for j, n := range nodes {
		idx[j] = d.intern(n)
	}
	l := d.list(idx)
	d.mu.Lock()
	defer d.mu.Unlock()
	wp = weak.Make(l)
	d.decoded[k] = wp
	runtime.AddCleanup(l, d.forgetDecoded, decodedKey{k, wp})
	return l, nil
}

type decodedKey struct {
	key bodyKey
	wp  weak.Pointer[nodeList]
}

func (d *Directory) forgetDecoded(k decodedKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.decoded[k.key] == k.wp {
		delete(d.decoded, k.key)
	}
}

type listKey struct {
	key string
	wp  weak.Pointer[nodeList]
}

// forget drops the map entry of a collected list, unless the key was re-interned since.
func (d *Directory) forget(k listKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lists[k.key] == k.wp {
		delete(d.lists, k.key)
	}
}

// liveLists is the number of interned lists still referenced (for tests and memory reports).
func (d *Directory) liveLists() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := 0
	for _, wp := range d.lists {
		if wp.Value() != nil {
			n++
		}
	}
	return n
}
