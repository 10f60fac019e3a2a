package scenarios

import (
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/internal/cputime"
)

// leakageBenchScale is the share of the large scenario's nodes and clients
// BenchmarkLeakageOverhead runs: SESSIONSIM_BENCH_LEAKAGE_SCALE, default 0.02 (40 nodes, 400
// clients) so that `make bench` stays short; 1 is the full large scenario (2,000 nodes,
// 20,000 clients, 5 minutes or more of wall time per run).
func leakageBenchScale(b *testing.B) float64 {
	if f, ok := benchShare(b, "SESSIONSIM_BENCH_LEAKAGE_SCALE", "nodes and clients of the large scenario"); ok {
		return f
	}
	return 0.02
}

// benchShare reads the environment variable name as a share in (0, 1] of what is named; false
// when it is unset.
func benchShare(b *testing.B, name, of string) (float64, bool) {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		b.Fatalf("%s=%q: want a share of the %s in (0, 1]", name, v, of)
	}
	return f, true
}

// BenchmarkLeakageOverhead measures what recording and computing leakage costs: the large
// scenario, scaled, run without a leakage section and then with random coalitions at the four
// default fractions of 16 draws each, back to back in every iteration so that both arms see
// the same machine load. The target is a ratio of at most 1.3. The full size:
//
//	SESSIONSIM_BENCH_LEAKAGE_SCALE=1 go test -run '^$' -bench LeakageOverhead -benchtime 1x -timeout 120m ./scenarios
//
// (-benchtime 3x for three alternations; the ratios are of the summed wall and CPU times).
func BenchmarkLeakageOverhead(b *testing.B) {
	scale := leakageBenchScale(b)
	without, err := Load("large", LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	without.Nodes.Count = max(20, int(math.Round(scale*float64(without.Nodes.Count))))
	without.Clients.Count = max(2*without.Workload.Contacts, int(math.Round(scale*float64(without.Clients.Count))))
	with := without
	with.Leakage.Adversaries = []Adversary{{Kind: "random"}}
	with.fillLeakage()
	for _, sc := range []Scenario{without, with} {
		if err := sc.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time beside wall time: on a shared machine the two arms may get different shares of
	// the cores, which the wall ratio mixes into the cost and the CPU ratio does not.
	timed := func(sc Scenario) (wall, cpu time.Duration) {
		start, cpu0 := time.Now(), cputime.Used()
		if _, err := Run(sc, RunOptions{}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), cputime.Used() - cpu0
	}
	var off, on, offCPU, onCPU time.Duration
	runs := 0
	for b.Loop() {
		w, c := timed(without)
		off, offCPU = off+w, offCPU+c
		w, c = timed(with)
		on, onCPU = on+w, onCPU+c
		runs++
	}
	b.ReportMetric(off.Seconds()/float64(runs), "wall-s-without")
	b.ReportMetric(on.Seconds()/float64(runs), "wall-s-with")
	b.ReportMetric(on.Seconds()/off.Seconds(), "ratio")
	b.ReportMetric(offCPU.Seconds()/float64(runs), "cpu-s-without")
	b.ReportMetric(onCPU.Seconds()/float64(runs), "cpu-s-with")
	b.ReportMetric(onCPU.Seconds()/offCPU.Seconds(), "cpu-ratio")
	b.ReportMetric(float64(without.Nodes.Count), "nodes")
	b.ReportMetric(float64(without.Clients.Count), "clients")
}

// BenchmarkMemoryLeakagePerClientMinute reports the heap the leakage recorder adds per
// started, polling client and virtual minute: the growth of a world with a leakage section
// from one to six minutes after the warmup, less that of the same world without one.
func BenchmarkMemoryLeakagePerClientMinute(b *testing.B) {
	const nodes, clients = 50, 300
	const early, late = time.Minute, 6 * time.Minute
	without := memoryWorld(nodes, clients)
	with := without
	with.Leakage.Adversaries = []Adversary{{Kind: "random"}}
	with.fillLeakage()
	var per float64
	for b.Loop() {
		grow := func(sc Scenario) float64 {
			return float64(heapAfter(b, sc, late, false)) - float64(heapAfter(b, sc, early, false))
		}
		per = (grow(with) - grow(without)) / (clients * (late - early).Minutes())
	}
	b.ReportMetric(per, "bytes/client-minute")
}
