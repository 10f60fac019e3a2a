package swarm

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Parameters of oxen-core's swarm assignment (service_node_rules.h).
const (
	// MinSwarmSize: a swarm with fewer members is starving; it is refilled from larger swarms
	// or dissolved.
	MinSwarmSize = 5
	// IdealSwarmMargin is the spare members each swarm keeps before new swarms are made.
	IdealSwarmMargin = 2
	// IdealSwarmSize = NewSwarmSize: the size of a newly created swarm.
	IdealSwarmSize = MinSwarmSize + IdealSwarmMargin
	NewSwarmSize   = IdealSwarmSize
	// ExcessBase: members above this count as excess.
	ExcessBase = MinSwarmSize
	// FillPercentile: new nodes go to a random swarm among the smallest 25%.
	FillPercentile = 25
	// StealPercentile: starving swarms take nodes from swarms above the 75th percentile size.
	StealPercentile = 75
	// RedistributePercentile: members of a dissolved swarm go to the smallest swarms.
	RedistributePercentile = 0
)

// Key is a service node's primary public key (its Ed25519 key). Nodes are ordered by the bytes
// of their keys, as oxen-core orders its node list.
type Key = [32]byte

// SeedFromBlockHash is the Mersenne Twister seed oxen-core derives from a block: the first 8
// bytes of the block hash, little-endian.
func SeedFromBlockHash(h [32]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// Assign runs oxen-core's swarm assignment for one block. current holds every active node with
// its swarm, or Unassigned for a node that is new or recommissioned; the result holds the same
// nodes with their swarms after the block. The result depends only on the contents of current
// and the block hash (never on map order), and matches the real network's calc_swarm_changes.
// Decommissioned and deregistered nodes must not be in current: they leave their swarms.
//
// Callers that run block after block should keep a State instead, which gives the same result
// without rebuilding everything each block.
func Assign(current map[Key]ID, blockHash [32]byte) map[Key]ID {
	st := StateOf(current)
	st.Block(blockHash)
	out := make(map[Key]ID, len(current))
	for _, sw := range st.a.swarms {
		for _, k := range sw.nodes {
			out[k] = sw.id
		}
	}
	return out
}

// swarmNodes is one entry of oxen-core's std::map<swarm_id_t, std::vector<public_key>>.
type swarmNodes struct {
	id    ID
	nodes []Key
	// appended is set when nodes were appended during a block, so they are no longer in key
	// order; removals keep the order.
	appended bool
}

// assignment is the working state of one block's assignment. swarms is kept sorted by id, as a
// std::map iterates; the order of nodes within a swarm matters too (they are drawn by index), so
// it follows oxen-core's vector operations exactly: at the start of a block every swarm lists its
// nodes in key order (oxen-core rebuilds the map from its key-sorted node list), and during the
// block nodes are appended and removed in place.
type assignment struct {
	swarms     []swarmNodes
	unassigned []Key // key order
	mt         MT19937_64
	sizes      []swarmSize // scratch for sortedSizes
	moved      []move      // every placement this block, in order
}

type move struct {
	key Key
	to  ID
}

func compareKeys(a, b Key) int { return bytes.Compare(a[:], b[:]) }

func (a *assignment) find(id ID) (int, bool) {
	return slices.BinarySearchFunc(a.swarms, id, func(s swarmNodes, id ID) int {
		switch {
		case s.id < id:
			return -1
		case s.id > id:
			return 1
		}
		return 0
	})
}

func (a *assignment) at(id ID) *swarmNodes {
	i, found := a.find(id)
	if !found {
		return nil
	}
	return &a.swarms[i]
}

// place appends k to swarm sw and records the move.
func (a *assignment) place(sw *swarmNodes, k Key) {
	sw.nodes = append(sw.nodes, k)
	sw.appended = true
	a.moved = append(a.moved, move{key: k, to: sw.id})
}

// calcChanges is calc_swarm_changes.
func (a *assignment) calcChanges(seed uint64) {
	if len(a.swarms) == 0 && len(a.unassigned) == 0 {
		return
	}
	a.mt.Seed(seed)

	// 0. There is always at least one swarm to put nodes in.
	if len(a.swarms) == 0 {
		a.swarms = append(a.swarms, swarmNodes{id: a.newSwarmID()})
	}

	// 1. New and recommissioned nodes, in key order, into the smallest quarter of swarms.
	unassigned := a.unassigned
	a.unassigned = nil
	a.assignNodes(unassigned, FillPercentile)

	// 2. Robin Hood: starving swarms take nodes from the rich.
	a.robinHood()

	// 3. Enough excess makes new swarms.
	a.createSwarmsFromExcess()

	// 4. Swarms still starving are dissolved and their members spread over the smallest swarms.
	// oxen-core would also dissolve the very last swarm and then fail on an empty swarm list;
	// that needs fewer than 5 active nodes network-wide, which a simulation can reach, so the
	// last swarm is kept instead.
	for len(a.swarms) > 1 {
		i := slices.IndexFunc(a.swarms, func(s swarmNodes) bool { return len(s.nodes) < MinSwarmSize })
		if i < 0 {
			break
		}
		nodes := a.swarms[i].nodes
		a.swarms = slices.Delete(a.swarms, i, i+1)
		a.assignNodes(nodes, RedistributePercentile)
	}
}

// sortedSizes is calc_swarm_sizes: (id, size) in id order, then std::sort by size.
func (a *assignment) sortedSizes() []swarmSize {
	a.sizes = a.sizes[:0]
	for _, s := range a.swarms {
		a.sizes = append(a.sizes, swarmSize{id: s.id, size: len(s.nodes)})
	}
	sortBySize(a.sizes)
	return a.sizes
}

// assignNodes is assign_snodes: each node goes to a random swarm among those no larger than the
// percentile's size, then new swarms are made if the excess allows.
func (a *assignment) assignNodes(nodes []Key, percentile int) {
	for _, k := range nodes {
		sorted := a.sortedSizes()
		pi := percentile * (len(sorted) - 1) / 100
		pv := sorted[pi].size
		upper := len(sorted) - 1
		for i := pi; i < len(sorted); i++ {
			if sorted[i].size > pv {
				upper = i - 1
				break
			}
		}
		r := a.mt.Uniform(uint64(upper + 1))
		a.place(a.at(sorted[r].id), k)
		a.createSwarmsFromExcess()
	}
}

// excessPool is get_excess_pool: the pool is every node of every swarm larger than threshold (in
// id order, then member order), so a swarm's chance of being picked grows with its size; excess
// is those swarms' total size above MinSwarmSize. The pool is not built: takeFromPool finds its
// i-th node by walking the swarms.
func (a *assignment) excessPool(threshold uint64) (poolSize, excess uint64) {
	if threshold < MinSwarmSize {
		return 0, 0
	}
	for _, s := range a.swarms {
		if n := uint64(len(s.nodes)); n > threshold {
			excess += n - MinSwarmSize
			poolSize += n
		}
	}
	return poolSize, excess
}

// takeFromPool draws one node of the excess pool of swarms larger than threshold and removes it
// from its swarm, keeping the order of the others (std::remove).
func (a *assignment) takeFromPool(threshold, poolSize uint64) Key {
	r := a.mt.Uniform(poolSize)
	for i := range a.swarms {
		s := &a.swarms[i]
		n := uint64(len(s.nodes))
		if n <= threshold {
			continue
		}
		if r < n {
			k := s.nodes[r]
			s.nodes = slices.Delete(s.nodes, int(r), int(r)+1)
			return k
		}
		r -= n
	}
	panic("swarm: excess pool index out of range") // unreachable: r < poolSize
}

// createSwarmsFromExcess is create_new_swarm_from_excess: while the excess covers a new swarm
// plus the margin of every swarm, a swarm of NewSwarmSize is drawn from the swarms above
// ExcessBase. Nothing happens while any swarm is starving.
func (a *assignment) createSwarmsFromExcess() {
	for _, s := range a.swarms {
		if len(s.nodes) < MinSwarmSize {
			return
		}
	}
	for {
		// ExcessBase is MinSwarmSize, so the pool's excess is every swarm's size above it.
		if _, excess := a.excessPool(ExcessBase); excess < uint64(NewSwarmSize+IdealSwarmMargin*len(a.swarms)) {
			return
		}
		members := make([]Key, 0, NewSwarmSize)
		for len(members) < NewSwarmSize {
			pool, _ := a.excessPool(ExcessBase)
			if pool == 0 {
				// Unreachable: the check above leaves excess for every draw. oxen-core logs
				// and gives up here; put the drawn nodes back rather than lose them.
				for _, k := range members {
					a.place(&a.swarms[0], k)
				}
				return
			}
			members = append(members, a.takeFromPool(ExcessBase, pool))
		}
		id := a.newSwarmID()
		i, found := a.find(id)
		if !found {
			a.swarms = slices.Insert(a.swarms, i, swarmNodes{id: id})
		}
		// (found is unreachable below 2^63 swarms: the largest gap is never 1. oxen-core would
		// drop the nodes; they join the existing swarm instead.)
		for _, k := range members {
			a.place(&a.swarms[i], k)
		}
	}
}

// robinHood is step 2 of calc_swarm_changes. The sizes are sorted once, and the stale snapshot is
// used throughout (as oxen-core does) for both the list of starving swarms and the percentile.
func (a *assignment) robinHood() {
	sorted := slices.Clone(a.sortedSizes())
	pi := StealPercentile * (len(sorted) - 1) / 100
	for _, s := range sorted {
		if s.size >= MinSwarmSize {
			return
		}
		poor := s.id
		for {
			// size_t arithmetic: a percentile size of 0 wraps and leaves no one to steal from.
			pv := max(uint64(MinSwarmSize), uint64(sorted[pi].size)-1)
			pool, excess := a.excessPool(pv)
			deficit := uint64(MinSwarmSize - len(a.at(poor).nodes))
			if excess < deficit {
				// Sorted ascending: the next swarms need at least as much.
				return
			}
			k := a.takeFromPool(pv, pool)
			sw := a.at(poor)
			a.place(sw, k)
			if len(sw.nodes) >= MinSwarmSize {
				break
			}
		}
	}
}

// NewID is the id oxen-core gives a new swarm: the midpoint of the largest gap between
// existing ids, the gap that wraps from the last id to the first included (MaxID and 0 count as
// adjacent). The first swarm gets 0. existing must be sorted ascending.
func NewID(existing []ID) ID {
	if len(existing) == 0 {
		return 0
	}
	var maxDist uint64
	best := 0
	for i := 0; i+1 < len(existing); i++ {
		if d := uint64(existing[i+1] - existing[i]); d > maxDist {
			maxDist, best = d, i
		}
	}
	last := len(existing) - 1
	if d := uint64(MaxID-existing[last]+existing[0]) + 1; d > maxDist {
		maxDist, best = d, last
	}
	diff := maxDist / 2
	toMax := uint64(MaxID - existing[best])
	if diff > toMax {
		return ID(diff - toMax - 1)
	}
	return existing[best] + ID(diff)
}

func (a *assignment) newSwarmID() ID { return NewID(a.ids()) }

// ids is the swarm ids, ascending.
func (a *assignment) ids() []ID {
	ids := make([]ID, len(a.swarms))
	for i, s := range a.swarms {
		ids[i] = s.id
	}
	return ids
}
