package scenarios

import (
	"fmt"

	"github.com/sessionsim/sessionsim/client"
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
	// bytesPerClientMinute is what a client's traffic adds per virtual minute at the default
	// workload's 30 messages an hour (also `full`'s): mostly the copies of its messages stored on
	// its contacts' and its own swarms, which live for 14 days and so for the whole of a shorter
	// run (trafficBytes stops there), and the collector's records of them; the stores' share does
	// not depend on the node count, since a swarm keeps its size. Measured from 3 to 12 minutes
	// after the warmup by
	//
	//	go test -run '^$' -bench MemoryPerClientMinute -benchtime 1x ./scenarios
	//
	// (200 nodes, 1,000 clients: 1,200 B). `full` with 2,000 nodes gained 1,317 B with 2,000
	// clients over the same minutes and 1,213 B with 10,000 from 3 to 10 minutes, but only 758 B
	// from 6 to 10, as the config messages (one per account and namespace) fill up. The hour at 10,000
	// clients on an earlier build, before two changes that cut the growth by about a fifth,
	// gained 1.44 KB per client and minute from 10 to 40 minutes (README, Performance).
	bytesPerClientMinute = 1_200
	// trafficMessagesPerHour is the sending rate bytesPerClientMinute was measured at.
	trafficMessagesPerHour = 30
)

// EstimateMemory is the live heap the scenario's world is expected to need by the end of the
// run: every node and client started, sybil nodes, what the clients' traffic accumulates over the
// run and the leakage records of the whole run included. Messages in flight come on top, and the
// garbage collector lets the heap grow past the live size, so it is a lower bound.
func EstimateMemory(s Scenario) uint64 {
	return baseBytes + uint64(max(s.Nodes.Count, 0)+s.sybilNodes())*bytesPerNode + uint64(max(s.Clients.Count, 0))*bytesPerClient + s.trafficBytes() + s.leakageBytes()
}

// trafficBytes is what the clients' traffic accumulates over the run: bytesPerClientMinute
// scaled by the scenario's sending rate (the stored copies and the records are per message).
// The copies expire with their messages (the clients' TTL, 14 days): a longer run holds no
// more of them than its first 14 days sent, so the estimate stops growing there. The
// collector's records of later messages are not counted, as befits a lower bound; counting
// them at the full rate would refuse weeks-long runs of small worlds that fit.
func (s Scenario) trafficBytes() uint64 {
	minutes := min(s.Duration+s.Drain, client.DefaultConfig(client.Desktop).TTL).Minutes()
	rate := max(s.Workload.MessagesPerHour, 0) / trafficMessagesPerHour
	return uint64(float64(max(s.Clients.Count, 0)) * minutes * rate * bytesPerClientMinute)
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
	if uint64(s.Clients.Count)*bytesPerClient+s.trafficBytes()+s.leakageBytes() > uint64(s.Nodes.Count+s.sybilNodes())*bytesPerNode {
		key, value = "clients.count", s.Clients.Count
	}
	extra := ""
	if b := s.trafficBytes(); b > 0 {
		extra += fmt.Sprintf(" + %s of stored messages and records (%d B per client and virtual minute at %d messages an hour)", reports.ByteSize(b), bytesPerClientMinute, trafficMessagesPerHour)
	}
	if b := s.leakageBytes(); b > 0 {
		extra += fmt.Sprintf(" + %s of leakage records (%d B per client and virtual minute)", reports.ByteSize(b), leakageBytesPerClientMinute)
	}
	return bad(key, value, fmt.Sprintf("the world would need an estimated %s (%d nodes x %d B + %d clients x %d B + %s base%s), more than this machine's %s of memory",
		reports.ByteSize(need), s.Nodes.Count+s.sybilNodes(), bytesPerNode, s.Clients.Count, bytesPerClient, reports.ByteSize(baseBytes), extra, reports.ByteSize(machine)))
}
