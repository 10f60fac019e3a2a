package swarm

import (
	"maps"
	"slices"
)

// State is a swarm assignment carried from block to block: who is active and in which swarm.
// Block runs one block's assignment and gives exactly what Assign gives on the same nodes, but
// only touches the swarms that change, so a registry (or a tool registering thousands of nodes
// one block at a time) does not rebuild the whole list every block.
//
// The zero State is empty and ready to use. A State is not safe for concurrent use.
type State struct {
	a     assignment
	where map[Key]ID // every active node; Unassigned until its first block
}

// StateOf builds a State from a node -> swarm map as Assign takes it.
func StateOf(current map[Key]ID) *State {
	s := &State{where: make(map[Key]ID, len(current))}
	keys := slices.SortedFunc(maps.Keys(current), compareKeys)
	for _, k := range keys {
		id := current[k]
		s.where[k] = id
		if id == Unassigned {
			s.a.unassigned = append(s.a.unassigned, k)
			continue
		}
		i, found := s.a.find(id)
		if !found {
			s.a.swarms = slices.Insert(s.a.swarms, i, swarmNodes{id: id})
		}
		s.a.swarms[i].nodes = append(s.a.swarms[i].nodes, k)
	}
	return s
}

// Len is the number of active nodes.
func (s *State) Len() int { return len(s.where) }

// Add makes k active and unassigned (a registration, or a recommission: either way the node
// joins through the next block's assignment). A node already active is first taken out of its
// swarm.
func (s *State) Add(k Key) {
	if _, ok := s.where[k]; ok {
		s.Remove(k)
	}
	if s.where == nil {
		s.where = make(map[Key]ID)
	}
	s.where[k] = Unassigned
	i, _ := slices.BinarySearchFunc(s.a.unassigned, k, compareKeys)
	s.a.unassigned = slices.Insert(s.a.unassigned, i, k)
}

// Remove takes k out of the active set (decommission, deregistration, leaving); its swarm loses
// it at once, as oxen-core's next map no longer lists it. It reports whether k was active.
func (s *State) Remove(k Key) bool {
	id, ok := s.where[k]
	if !ok {
		return false
	}
	delete(s.where, k)
	if id == Unassigned {
		if i, found := slices.BinarySearchFunc(s.a.unassigned, k, compareKeys); found {
			s.a.unassigned = slices.Delete(s.a.unassigned, i, i+1)
		}
		return true
	}
	si, found := s.a.find(id)
	if !found {
		return true
	}
	sw := &s.a.swarms[si]
	if i, found := slices.BinarySearchFunc(sw.nodes, k, compareKeys); found {
		sw.nodes = slices.Delete(sw.nodes, i, i+1)
	}
	if len(sw.nodes) == 0 {
		s.a.swarms = slices.Delete(s.a.swarms, si, si+1)
	}
	return true
}

// Move is one node whose swarm a block changed.
type Move struct {
	Key      Key
	From, To ID // From is Unassigned for a node placed for the first time
}

// Block runs the assignment of a block with this hash and returns the nodes whose swarm changed,
// in key order.
func (s *State) Block(blockHash [32]byte) []Move {
	s.a.moved = s.a.moved[:0]
	s.a.calcChanges(SeedFromBlockHash(blockHash))
	// Back to key order inside every swarm that received nodes, as the next block expects.
	for i := range s.a.swarms {
		if sw := &s.a.swarms[i]; sw.appended {
			slices.SortFunc(sw.nodes, compareKeys)
			sw.appended = false
		}
	}
	final := make(map[Key]ID, len(s.a.moved))
	for _, m := range s.a.moved {
		final[m.key] = m.to
	}
	moves := make([]Move, 0, len(final))
	for k, to := range final {
		if from := s.where[k]; from != to {
			moves = append(moves, Move{Key: k, From: from, To: to})
			s.where[k] = to
		}
	}
	slices.SortFunc(moves, func(a, b Move) int { return compareKeys(a.Key, b.Key) })
	return moves
}

// SwarmOf is k's swarm: Unassigned if k is active but has not been through a block yet, and
// false if k is not active.
func (s *State) SwarmOf(k Key) (ID, bool) {
	id, ok := s.where[k]
	return id, ok
}

// IDs is the swarm ids, ascending.
func (s *State) IDs() []ID { return s.a.ids() }

// Members is the nodes of swarm id in key order (a copy), or nil if there is no such swarm.
func (s *State) Members(id ID) []Key {
	sw := s.a.at(id)
	if sw == nil {
		return nil
	}
	return slices.Clone(sw.nodes)
}

// Sizes is the member count of every swarm, by id.
func (s *State) Sizes() map[ID]int {
	m := make(map[ID]int, len(s.a.swarms))
	for _, sw := range s.a.swarms {
		m[sw.id] = len(sw.nodes)
	}
	return m
}

// Unassigned is the active nodes waiting for the next block, in key order (a copy).
func (s *State) Unassigned() []Key { return slices.Clone(s.a.unassigned) }

// Clone is an independent copy.
func (s *State) Clone() *State {
	c := &State{where: maps.Clone(s.where)}
	c.a.unassigned = slices.Clone(s.a.unassigned)
	c.a.swarms = make([]swarmNodes, len(s.a.swarms))
	for i, sw := range s.a.swarms {
		c.a.swarms[i] = swarmNodes{id: sw.id, nodes: slices.Clone(sw.nodes)}
	}
	return c
}
