package onionbench

import (
	"fmt"
	"net/netip"
	"testing"
)

// BenchmarkOnionRealSockets times real onion requests through three nodes on loopback (HTTPS,
// real cryptography) for each payload size and added one-way link latency of the defaults:
// every b.Loop iteration is one request. The custom metrics are the round trip's p50, the
// floor (the link model's round trip plus the path's cryptography measured in-process) and
// their ratio.
func BenchmarkOnionRealSockets(b *testing.B) {
	for li, lat := range DefaultLatencies {
		for _, size := range DefaultSizes {
			b.Run(fmt.Sprintf("latency=%v/payload=%dB", lat, size), func(b *testing.B) {
				cfg, err := Config{Warmup: 5, Requests: 50, Base: netip.MustParseAddr("127.94.0.1")}.withDefaults()
				if err != nil {
					b.Fatal(err)
				}
				w, err := newWorld(cfg, lat, subnet(cfg.Base, li))
				if err != nil {
					b.Fatal(err)
				}
				defer w.close()
				rpc := payload(size)
				crypto, err := w.cryptoFloor(rpc, cfg.Requests)
				if err != nil {
					b.Fatal(err)
				}
				for range cfg.Warmup {
					if _, err := w.request(rpc); err != nil {
						b.Fatal(err)
					}
				}
				var rtts []float64
				for b.Loop() {
					rtt, err := w.request(rpc)
					if err != nil {
						b.Fatal(err)
					}
					rtts = append(rtts, ms(rtt))
				}
				p50, floor := quantile(rtts, 0.5), w.linkMS+crypto
				b.ReportMetric(p50, "p50-ms")
				b.ReportMetric(floor, "floor-ms")
				b.ReportMetric(p50/floor, "ratio")
			})
		}
	}
}
