package registry

import (
	"encoding/binary"
	"time"

	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// The obligations quorum, as oxen-core runs it (ObligationsQuorum): every block draws, from its
// hash, QuorumSize active nodes as validators and max(MinNodesToTest, N/NthOfNetworkToTest) of
// the other funded nodes as workers. When ReorgSafetyBlocks + 1 blocks have followed it, each
// validator whose machine is up tests each worker with its own view (the uptime proofs every
// oxend receives, and the reachability reports of its own storage server) and votes; MinVotes
// matching votes make a state change, which the next block applies.
const (
	// QuorumSize is the number of validators of an obligations quorum
	// (STATE_CHANGE_QUORUM_SIZE, cryptonote_core/service_node_rules.h).
	QuorumSize = 10
	// MinVotes is the number of matching votes that changes a node's state
	// (STATE_CHANGE_MIN_VOTES_TO_CHANGE_STATE, cryptonote_core/service_node_rules.h).
	MinVotes = 7
	// MinNodesToTest is the least number of workers a quorum tests, when there are that many
	// (STATE_CHANGE_MIN_NODES_TO_TEST, cryptonote_core/service_node_rules.h).
	MinNodesToTest = 50
	// NthOfNetworkToTest: above MinNodesToTest x this many nodes, a quorum tests one in this
	// many (STATE_CHANGE_NTH_OF_THE_NETWORK_TO_TEST, cryptonote_core/service_node_rules.h).
	NthOfNetworkToTest = 100
	// ReorgSafetyBlocks is how many blocks must follow a quorum's block, beyond the one that
	// triggers the vote, before its validators vote (REORG_SAFETY_BUFFER_BLOCKS_POST_HF12 =
	// 4 x 2 + 3, cryptonote_core/service_node_rules.h).
	// quorum_cop::process_quorums (cryptonote_core/service_node_quorum_cop.cpp) votes on the
	// quorum of height q when block q + ReorgSafetyBlocks + 1 arrives; the state change
	// transaction the votes make enters the block after, ReorgSafetyBlocks + 2 blocks after q.
	ReorgSafetyBlocks = 11
	// obligationsQuorumType is quorum_type::obligations (cryptonote_core/service_node_voting.h),
	// the first word of the seed the draw's generator is seeded with.
	obligationsQuorumType = 0
)

// Quorum is the obligations quorum of one block: its validators (active nodes) vote on its
// workers (active and decommissioned nodes), in the order of the draw.
type Quorum struct {
	Height     uint64
	Validators [][32]byte
	Workers    [][32]byte
}

// WorkerCount is how many workers a quorum tests when remaining funded nodes are not its
// validators: max(MinNodesToTest, remaining/NthOfNetworkToTest), but no more than there are.
func WorkerCount(remaining int) int {
	return min(remaining, max(MinNodesToTest, remaining/NthOfNetworkToTest))
}

// drawQuorum is oxen-core's obligations quorum of a block (generate_other_quorums and
// generate_shuffled_service_node_index_list, cryptonote_core/service_node_list.cpp): active and
// decommissioned are the funded nodes after the block, each sorted by key. The indexes of both
// lists, active first, are shuffled: the validators are the first of the active nodes shuffled
// on their own, and the workers the first of the rest shuffled by a second generator in the
// same initial state (the first shuffle alone when nobody is decommissioned or there are no
// more than QuorumSize active nodes).
func drawQuorum(height uint64, hash [32]byte, active, decommissioned [][32]byte) Quorum {
	total := len(active) + len(decommissioned)
	validators := min(len(active), QuorumSize)
	idx := make([]int, total)
	for i := range idx {
		idx[i] = i
	}
	swapFrom := func(off int) func(i, j int) {
		return func(i, j int) { idx[off+i], idx[off+j] = idx[off+j], idx[off+i] }
	}
	var g swarm.MT19937_64
	g.SeedSequence(quorumSeed(hash))
	if 0 < validators && validators < total && 0 < len(active) && len(active) < total {
		second := g
		g.Shuffle(len(active), swapFrom(0))
		second.Shuffle(total-validators, swapFrom(validators))
	} else {
		g.Shuffle(total, swapFrom(0))
	}
	q := Quorum{Height: height, Validators: make([][32]byte, validators)}
	for i := range validators {
		q.Validators[i] = active[idx[i]]
	}
	workers := WorkerCount(total - validators)
	q.Workers = make([][32]byte, workers)
	for i := range workers {
		j := idx[validators+i]
		if j < len(active) {
			q.Workers[i] = active[j]
		} else {
			q.Workers[i] = decommissioned[j-len(active)]
		}
	}
	return q
}

// quorumSeed is the seed sequence of an obligations quorum's draw since HF16 (quorum_rng,
// cryptonote_core/service_node_list.cpp): the quorum type, then the block hash as eight
// little-endian 32-bit words.
func quorumSeed(hash [32]byte) []uint32 {
	words := make([]uint32, 1+len(hash)/4)
	words[0] = obligationsQuorumType
	for i := 1; i < len(words); i++ {
		words[i] = binary.LittleEndian.Uint32(hash[4*(i-1):])
	}
	return words
}

// stateChange is a state change a quorum decided: the next block applies it, if it still can.
type stateChange struct {
	to NodeState
	// why: the reasons any of the deciding votes gave.
	why Reason
	// quorum is the height of the quorum that decided it.
	quorum uint64
}

// canBeVotedOn is oxen-core's service_node_info::can_be_voted_on
// (cryptonote_core/service_node_list.cpp): a quorum may only judge a node's current state if it
// was drawn after the node registered and after its last state change.
func canBeVotedOn(r *Record, quorum uint64) bool {
	return (r.State == StateActive || r.State == StateDecommissioned) && quorum > r.StateHeight
}

// decide tallies a quorum's votes at now: every validator that is active and whose machine is up
// votes on every worker the quorum may still judge, and a state that gets MinVotes votes is
// decided. Votes differ between validators only through their reachability records, so at most
// one state can reach MinVotes.
func (l *Ledger) decide(q Quorum, now time.Time) map[[32]byte]stateChange {
	voters := make([][32]byte, 0, len(q.Validators))
	for _, v := range q.Validators {
		if r := l.nodes[v]; r != nil && r.State == StateActive && !r.Halted {
			voters = append(voters, v)
		}
	}
	if len(voters) < MinVotes {
		return nil
	}
	// The quorum cop reckons credit at the chain's height, one block past the block it votes
	// in.
	creditAt := now.Add(l.cfg.BlockInterval)
	var out map[[32]byte]stateChange
	for _, w := range q.Workers {
		r := l.nodes[w]
		if r == nil || !canBeVotedOn(r, q.Height) {
			continue
		}
		var tally [StateDeregistered + 1]int
		var why [StateDeregistered + 1]Reason
		for _, v := range voters {
			if to, reason, ok := l.judge(r, l.views[w][v], now, creditAt); ok {
				tally[to]++
				why[to] |= reason
			}
		}
		for to, n := range tally {
			if n >= MinVotes {
				if out == nil {
					out = map[[32]byte]stateChange{}
				}
				out[w] = stateChange{to: NodeState(to), why: why[to], quorum: q.Height}
			}
		}
	}
	return out
}

// canApply is oxen-core's service_node_info::can_transition_to_state
// (cryptonote_core/service_node_list.cpp): a decision applies only to the state its quorum
// judged; a decommission needs an active node and a recommission a decommissioned one.
func canApply(r *Record, c stateChange) bool {
	if !canBeVotedOn(r, c.quorum) {
		return false
	}
	switch c.to {
	case StateDecommissioned:
		return r.State == StateActive
	case StateActive:
		return r.State == StateDecommissioned
	}
	return true
}

// runQuorums draws the quorum of the block just made, at height h (keys: every node's, sorted),
// and lets the quorum drawn ReorgSafetyBlocks + 1 blocks before decide; its decisions wait for
// the next block. Quorums older than that are forgotten.
func (l *Ledger) runQuorums(h uint64, keys [][32]byte, now time.Time) {
	var active, decommissioned [][32]byte
	for _, k := range keys {
		switch l.nodes[k].State {
		case StateActive:
			active = append(active, k)
		case StateDecommissioned:
			decommissioned = append(decommissioned, k)
		}
	}
	l.quorums[h] = drawQuorum(h, l.hash, active, decommissioned)
	if h <= ReorgSafetyBlocks+1 {
		return
	}
	old := h - ReorgSafetyBlocks - 1
	if q, ok := l.quorums[old]; ok {
		l.pending = l.decide(q, now)
		delete(l.quorums, old)
	}
}

// Quorum is the obligations quorum of block height, while it is kept: from its block until its
// validators vote, ReorgSafetyBlocks + 1 blocks later. Only the quorum mode draws quorums.
func (l *Ledger) Quorum(height uint64) (Quorum, bool) {
	q, ok := l.quorums[height]
	return q, ok
}
