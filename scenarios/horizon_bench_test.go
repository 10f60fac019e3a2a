package scenarios

import (
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/leakage"
)

// BenchmarkHorizonPerClientDay reports what the path-selection mode costs per client and
// virtual day, so that long horizons stay affordable: wall time, bytes allocated, and the live
// heap of the records it hands to Analyze. A small world (50 nodes, 200 clients, node churn so
// that crashes and joins are played) runs its full simulation once, outside the timing, for the
// request rates; each iteration then plays a week and analyses it (leakage.horizon's whole cost).
//
//	go test -run '^$' -bench HorizonPerClientDay -benchtime 3x ./scenarios
func BenchmarkHorizonPerClientDay(b *testing.B) {
	const clients, days = 200, 7
	sc := memoryWorld(50, clients)
	sc.Duration, sc.Drain = 5*time.Minute, time.Minute
	sc.Nodes.Churn.CrashesPerHour, sc.Nodes.Churn.JoinsPerHour = 0.2, 0.2
	sc.Leakage.Adversaries = []Adversary{{Kind: "random", Fractions: []float64{0.05, 0.2}}, {Kind: "operator"}}
	sc.fillLeakage()
	if err := sc.Validate(); err != nil {
		b.Fatal(err)
	}
	w, _, err := run(sc, RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	w.sc.Leakage.Horizon = days * 24 * time.Hour
	rates := w.leak.RequestRates(sc.Warmup, sc.Warmup+sc.Duration)
	clientDays := float64(clients * days)
	var wall time.Duration
	var alloc, live, records float64
	runs := 0
	for b.Loop() {
		var before, played, done runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		rec, err := playHorizon(w, rates)
		if err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&played)
		start = time.Now()
		if _, err := leakage.Analyze(rec, w.sc.Leakage.specs(), w.sc.Leakage.Horizon, w.eng.Stream); err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		runtime.ReadMemStats(&done)
		alloc += float64(done.TotalAlloc - before.TotalAlloc)
		live += float64(played.HeapAlloc) - float64(before.HeapAlloc)
		records += float64(len(rec.Onion) + len(rec.Direct) + len(rec.Seed) + len(rec.Paths) + len(rec.GuardTests))
		runs++
	}
	n := float64(runs) * clientDays
	b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/client-day")
	b.ReportMetric(alloc/n, "alloc-B/client-day")
	b.ReportMetric(live/n, "live-B/client-day")
	b.ReportMetric(records/n, "records/client-day")
}
