package simlink_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// benchLinks is a network of 10,000 hosts on the three access-link profiles, in regions drawn
// as clients' are.
func benchLinks(b *testing.B) *simlink.Network {
	links, err := simlink.New(netem.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pick, err := netem.NewRegionPicker(links.Model().Matrix(), netem.DefaultClientWeights())
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	profiles := []netem.Profile{netem.DataCentre, netem.Broadband, netem.Mobile4G}
	for i := range benchHosts {
		if err := links.AddHost(sim.HostID(i), simlink.Host{Region: links.Model().Matrix().Name(pick.Draw(r)), Profile: profiles[i%len(profiles)]}); err != nil {
			b.Fatal(err)
		}
	}
	return links
}

const benchHosts = 10_000

// benchTransit sends one message per op through links, as the engine does.
func benchTransit(b *testing.B, links *simlink.Network) {
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		at += int64(time.Microsecond)
		links.Transit(sim.HostID(i%benchHosts), sim.HostID((i*7919)%benchHosts), 200+i%4000, at, r)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTransit is the engine's send path through the adapter.
func BenchmarkTransit(b *testing.B) { benchTransit(b, benchLinks(b)) }

// BenchmarkTransitTapped is the same with a tap that does nothing: what a tap adds to the send
// path before its own work.
func BenchmarkTransitTapped(b *testing.B) {
	links := benchLinks(b)
	links.SetTap(func(sim.HostID, sim.HostID, int, int64, int64, bool) {})
	benchTransit(b, links)
}
