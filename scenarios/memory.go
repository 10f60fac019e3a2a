package scenarios

import (
	"fmt"

	"github.com/sessionsim/sessionsim/reports"
)

// What a world holds in memory, measured on the live heap after the warmup by
//
//	go test -run '^$' -bench 'MemoryPer(Client|Node)' -benchtime 1x ./scenarios
//
// (README, Performance). Rerun it and update these when node or client state changes size.
const (
	// bytesPerNode is an idle service node: its store, views and host.
	bytesPerNode = 7_236
	// bytesPerClient is a started, polling client, its host and network state included: the
	// copies of its config messages on its swarm's nodes and its requests in flight too, since
	// the default scenario gained groups, attachments and push.
	bytesPerClient = 10_801
	// baseBytes is what does not grow with the world: the Go runtime, the binary's tables, the
	// latency matrix, the registry and seed nodes.
	baseBytes = 64 << 20
	// leakageBytesPerClientMinute is what the leakage recorder keeps for a polling client per
	// virtual minute (its onion requests and every hop of them, guard tests, stores), with a
	// leakage section only. Measured by
	//
	//	go test -run '^$' -bench MemoryLeakagePerClientMinute -benchtime 1x ./scenarios
	//
	// (6,518 B; records are kept for the whole run, so this grows with its length).
	leakageBytesPerClientMinute = 6_518
)

// EstimateMemory is the live heap the scenario's world is expected to need once every node and
// client has started, sybil nodes and the leakage records of the whole run included. Messages in
// flight and the collector's records come on top, and the garbage collector lets the heap grow
// past the live size, so it is a lower bound.
func EstimateMemory(s Scenario) uint64 {
	return baseBytes + uint64(max(s.Nodes.Count, 0)+s.sybilNodes())*bytesPerNode + uint64(max(s.Clients.Count, 0))*bytesPerClient + s.leakageBytes()
}

// leakageBytes is the leakage recorder's estimate: nothing without a leakage section.
func (s Scenario) leakageBytes() uint64 {
	if len(s.Leakage.Adversaries) == 0 {
		return 0
	}
	minutes := (s.Warmup + s.Duration + s.Drain).Minutes()
	return uint64(float64(max(s.Clients.Count, 0)) * minutes * leakageBytesPerClientMinute)
}

// fitsMemory refuses a world estimated to need more than machine bytes, naming the key that
// contributes most.
func (s Scenario) fitsMemory(machine uint64) error {
	need := EstimateMemory(s)
	if need <= machine {
		return nil
	}
	key, value := "nodes.count", s.Nodes.Count
	if uint64(s.Clients.Count)*bytesPerClient+s.leakageBytes() > uint64(s.Nodes.Count+s.sybilNodes())*bytesPerNode {
		key, value = "clients.count", s.Clients.Count
	}
	leak := ""
	if b := s.leakageBytes(); b > 0 {
		leak = fmt.Sprintf(" + %s of leakage records (%d B per client and virtual minute)", reports.ByteSize(b), leakageBytesPerClientMinute)
	}
	return bad(key, value, fmt.Sprintf("the world would need an estimated %s (%d nodes x %d B + %d clients x %d B + %s base%s), more than this machine's %s of memory",
		reports.ByteSize(need), s.Nodes.Count+s.sybilNodes(), bytesPerNode, s.Clients.Count, bytesPerClient, reports.ByteSize(baseBytes), leak, reports.ByteSize(machine)))
}
