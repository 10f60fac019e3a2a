package scenarios

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchmarkDefault runs the default scenario in one crypto mode and reports how many virtual
// seconds it simulates per wall second.
func benchmarkDefault(b *testing.B, crypto string) {
	sc, err := Load("default", LoadOptions{Sets: []string{"crypto=" + crypto}})
	if err != nil {
		b.Fatal(err)
	}
	var virtual time.Duration
	start := time.Now()
	for b.Loop() {
		if _, err := Run(sc, RunOptions{}); err != nil {
			b.Fatal(err)
		}
		virtual += sc.Warmup + sc.Duration + sc.Drain
	}
	b.ReportMetric(virtual.Seconds()/time.Since(start).Seconds(), "virtual-s/wall-s")
}

func BenchmarkDefaultScenarioReal(b *testing.B)    { benchmarkDefault(b, "real") }
func BenchmarkDefaultScenarioModeled(b *testing.B) { benchmarkDefault(b, "modeled") }

// heapAfterWarmup builds a world, runs it through the warmup (every client bootstrapped, paths
// built, polling) and returns the live heap.
func heapAfterWarmup(b *testing.B, nodes, clients int) uint64 {
	return heapAfter(b, memoryWorld(nodes, clients), 30*time.Second, false)
}

// memoryWorld is the world the memory benchmarks measure, and the start of the tests' small
// worlds: modeled crypto, 2 contacts a client, a one-minute warmup.
func memoryWorld(nodes, clients int) Scenario {
	sc := Default()
	sc.Crypto = "modeled"
	sc.Nodes.Count = nodes
	sc.Clients.Count = clients
	sc.Workload.Contacts = 2
	sc.Warmup = time.Minute
	return sc
}

// heapAfter builds sc's world, runs it through the warmup and then for d, and returns the
// live heap. With traffic the clients go online and offline, send and join groups as in a run;
// without, they idle once started.
func heapAfter(b *testing.B, sc Scenario, d time.Duration, traffic bool) uint64 {
	w, err := buildWorld(sc, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	if traffic {
		w.scheduleTraffic()
	}
	w.eng.RunFor(sc.Warmup + d)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(w)
	return m.HeapAlloc
}

// BenchmarkMemoryPerClient reports the heap a started, polling client adds to a world (its
// host and network state included), from the difference between two world sizes.
func BenchmarkMemoryPerClient(b *testing.B) {
	const nodes, small, large = 100, 200, 2200
	var per float64
	for b.Loop() {
		per = float64(heapAfterWarmup(b, nodes, large)-heapAfterWarmup(b, nodes, small)) / (large - small)
	}
	b.ReportMetric(per, "bytes/client")
}

// BenchmarkMemoryPerClientMinute reports the heap `full`'s world gains per client and virtual
// minute of its workload (sessions, messages, groups, attachments, push), from 3 to 12 minutes
// after the warmup, past the first minutes in which most clients store their config messages,
// at `full --quick`'s size (scenarios.EstimateMemory's bytesPerClientMinute).
func BenchmarkMemoryPerClientMinute(b *testing.B) {
	const nodes, clients = 200, 1000
	const early, late = 3 * time.Minute, 12 * time.Minute
	sc, err := Load("full", LoadOptions{Sets: []string{fmt.Sprintf("nodes.count=%d", nodes), fmt.Sprintf("clients.count=%d", clients)}})
	if err != nil {
		b.Fatal(err)
	}
	var per float64
	for b.Loop() {
		per = (float64(heapAfter(b, sc, late, true)) - float64(heapAfter(b, sc, early, true))) / (float64(clients) * (late - early).Minutes())
	}
	b.ReportMetric(per, "bytes/client-minute")
}

// BenchmarkMemoryPerNode reports the heap an idle service node adds (store, views, host).
func BenchmarkMemoryPerNode(b *testing.B) {
	const small, large = 100, 1100
	var per float64
	for b.Loop() {
		per = float64(heapAfterWarmup(b, large, 10)-heapAfterWarmup(b, small, 10)) / (large - small)
	}
	b.ReportMetric(per, "bytes/node")
}
