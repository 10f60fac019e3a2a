package client

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// BenchmarkIdleClientMemory measures what one started, bootstrapped, polling client keeps on the
// heap: its state plus its share of the test driver (one env with its pending timers). The
// clients share one Directory, as the world builder shares it.
func BenchmarkIdleClientMemory(b *testing.B) {
	const n = 500
	for b.Loop() {
		w := newWorld()
		w.quiet = true
		f := newFakeNet(b, w, 200, 8)
		dir := NewDirectory()
		keys := make([]identity.Keys, n)
		for k := range keys {
			keys[k] = identity.Derive(3, fmt.Sprintf("c%d", k))
		}
		suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
		f.suite = suite
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		clients := make([]*Client, n)
		for k := range clients {
			cfg := DefaultConfig(Platform(k % 3))
			cfg.Seeds, cfg.Directory, cfg.Suite = f.seeds, dir, suite
			c, err := New(cfg, keys[k])
			if err != nil {
				b.Fatal(err)
			}
			e := w.env(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), 1), uint64(k))
			e.do(func() { c.Start(e) })
			clients[k] = c
		}
		w.runFor(20 * time.Second)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		for _, c := range clients {
			if len(c.Paths()) != 2 {
				b.Fatalf("client without paths: %v", c.Paths())
			}
		}
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/n, "bytes/client")
		runtime.KeepAlive(clients)
		runtime.KeepAlive(w)
	}
}
