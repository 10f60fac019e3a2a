package netem

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkTransit is one message through the full model: jittered access links, bandwidth
// queues on both ends, and loss on the mobile hosts.
func BenchmarkTransit(b *testing.B) {
	n, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	pick, err := NewRegionPicker(n.Matrix(), DefaultClientWeights())
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	profiles := []Profile{DataCentre, Broadband, Mobile4G}
	const hosts = 10_000
	for i := range hosts {
		if _, err := n.AddHost(pick.Draw(r), profiles[i%len(profiles)]); err != nil {
			b.Fatal(err)
		}
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		i++
		at = at.Add(time.Microsecond)
		n.Transit(HostID(i%hosts), HostID((i*7919)%hosts), 200+i%4000, at, r)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
