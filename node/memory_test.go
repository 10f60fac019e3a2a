package node

import (
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/registry"
)

// TestMemoryPerNode reports what an idle node costs in a 2,000-node world (store empty, list
// applied, timers running). It checks only a generous bound; the figure is in the log.
func TestMemoryPerNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 2,000-node world")
	}
	const nodes = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cfg := Config{Suite: cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)}
	w := newSimWorld(t, nodes, cfg, registry.Config{})
	w.e.RunFor(time.Minute)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / nodes
	t.Logf("%d nodes: %.0f bytes per node (world included: engine, hosts, registry, keys); %d events in one minute",
		nodes, per, w.e.Stats().Events)
	if per > 200_000 {
		t.Errorf("%.0f bytes per idle node", per)
	}
	runtime.KeepAlive(w)
}
