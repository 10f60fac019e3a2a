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
	bytesPerNode = 11_388
	// bytesPerClient is a started, polling client, its host and network state included.
	bytesPerClient = 3_988
	// baseBytes is what does not grow with the world: the Go runtime, the binary's tables, the
	// latency matrix, the registry and seed nodes.
	baseBytes = 64 << 20
)

// EstimateMemory is the live heap the scenario's world is expected to need once every node and
// client has started. Messages in flight and the collector's records come on top, and the
// garbage collector lets the heap grow past the live size, so it is a lower bound.
func EstimateMemory(s Scenario) uint64 {
	return baseBytes + uint64(max(s.Nodes.Count, 0))*bytesPerNode + uint64(max(s.Clients.Count, 0))*bytesPerClient
}

// fitsMemory refuses a world estimated to need more than machine bytes, naming the key that
// contributes most.
func (s Scenario) fitsMemory(machine uint64) error {
	need := EstimateMemory(s)
	if need <= machine {
		return nil
	}
	key, value := "nodes.count", s.Nodes.Count
	if uint64(s.Clients.Count)*bytesPerClient > uint64(s.Nodes.Count)*bytesPerNode {
		key, value = "clients.count", s.Clients.Count
	}
	return bad(key, value, fmt.Sprintf("the world would need an estimated %s (%d nodes x %d B + %d clients x %d B + %s base), more than this machine's %s of memory",
		reports.ByteSize(need), s.Nodes.Count, bytesPerNode, s.Clients.Count, bytesPerClient, reports.ByteSize(baseBytes), reports.ByteSize(machine)))
}
