package scenarios

import (
	"math"
	"os"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/internal/cputime"
)

// fullBenchScenario is the full scenario as BenchmarkFullScenario runs it:
// SESSIONSIM_BENCH_FULL is the share of its 100,000 clients (1: all of them; the 2,000 nodes
// stay), SESSIONSIM_BENCH_FULL_DURATION, when set, a shorter virtual duration. Without
// SESSIONSIM_BENCH_FULL the benchmark is skipped: even a share of it takes many minutes.
func fullBenchScenario(b *testing.B) Scenario {
	share, ok := benchShare(b, "SESSIONSIM_BENCH_FULL", "full scenario's clients")
	if !ok {
		b.Skip("set SESSIONSIM_BENCH_FULL to a share of the full scenario's clients in (0, 1] (make bench-full)")
	}
	sc, err := Load("full", LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	sc.Clients.Count = max(2*sc.Workload.Contacts, int(math.Round(share*float64(sc.Clients.Count))))
	if d := os.Getenv("SESSIONSIM_BENCH_FULL_DURATION"); d != "" {
		if sc.Duration, err = time.ParseDuration(d); err != nil || sc.Duration <= 0 {
			b.Fatalf("SESSIONSIM_BENCH_FULL_DURATION=%q: want a positive duration such as 10m", d)
		}
	}
	if err := sc.Validate(); err != nil {
		b.Fatal(err)
	}
	return sc
}

// BenchmarkFullScenario runs the full scenario (or a share of its clients) and reports the
// virtual seconds simulated per wall second, engine events per wall and CPU second, and the
// peak of the heap's live objects sampled once per virtual second. The whole scenario:
//
//	SESSIONSIM_BENCH_FULL=1 go test -run '^$' -bench FullScenario -benchtime 1x -timeout 300m ./scenarios
func BenchmarkFullScenario(b *testing.B) {
	sc := fullBenchScenario(b)
	b.Logf("%d nodes, %d clients, %v (+%v warmup, %v drain)", sc.Nodes.Count, sc.Clients.Count, sc.Duration, sc.Warmup, sc.Drain)
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	sample := func(Progress) {
		metrics.Read(heap)
		peak = max(peak, heap[0].Value.Uint64())
	}
	var virtual, wall, cpu time.Duration
	var events uint64
	for b.Loop() {
		start, cpu0 := time.Now(), cputime.Used()
		s, err := Run(sc, RunOptions{Progress: sample})
		if err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		cpu += cputime.Used() - cpu0
		virtual += sc.Warmup + sc.Duration + sc.Drain
		events += s.Engine.Events
	}
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "virtual-s/wall-s")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(peak), "peak-heap-bytes")
}
