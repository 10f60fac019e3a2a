package client

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// BenchmarkIdleClientMemory measures what one started, bootstrapped, polling client keeps on the
// heap: its state plus its share of the test driver (one env with its pending timers), in
// bytes/client. The clients share one Directory, as the world builder shares it. The fake
// network's copies of what the clients stored (their config messages, with the fake network's
// per-message records) are the network's, not the client's: in a world they sit in the stores of
// the client's swarm, where scenarios' BenchmarkMemoryPerClient (which grows the clients of a
// world on fixed nodes) counts them. Here they are measured apart, by dropping them after the
// first reading, and reported as net-bytes/client: the two figures add up to the whole heap the
// clients and their network grew by.
func BenchmarkIdleClientMemory(b *testing.B) {
	const n = 500
	for b.Loop() {
		drv := newDriver()
		drv.Quiet = true
		f := newFakeNet(b, drv, 200, 8)
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
			e := drv.Env(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), 1))
			e.Do(func() { c.Start(e) })
			clients[k] = c
		}
		drv.RunFor(20 * time.Second)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		for _, c := range clients {
			if len(c.Paths()) != c.rt.wantPaths() {
				b.Fatalf("client with %d of its %d paths: %v", len(c.Paths()), c.rt.wantPaths(), c.Paths())
			}
		}
		// What the fake network stored is the network's (see above): measured apart.
		f.msgs, f.served = nil, nil
		runtime.GC()
		var m2 runtime.MemStats
		runtime.ReadMemStats(&m2)
		b.ReportMetric(float64(int64(m2.HeapAlloc)-int64(m0.HeapAlloc))/n, "bytes/client")
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m2.HeapAlloc))/n, "net-bytes/client")
		runtime.KeepAlive(clients)
		runtime.KeepAlive(drv)
	}
}

// BenchmarkNewClient is the cost of making one client in a world of 4,000 that differ in their
// own settings (push token, clock offset), with one shared Directory as the world builder makes
// them: it must not grow with the number of clients made before (ns/client).
func BenchmarkNewClient(b *testing.B) {
	const world = 4000
	suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	keys := identity.Derive(3, "c")
	seeds := []actor.Addr{netip.MustParseAddrPort("198.51.100.1:443")}
	made := 0
	for b.Loop() {
		dir := NewDirectory()
		for k := range world {
			cfg := DefaultConfig(Platform(k % 3))
			cfg.Seeds, cfg.Directory, cfg.Suite = seeds, dir, suite
			cfg.PushToken, cfg.ClockOffset = fmt.Sprintf("token-%d", k), time.Duration(k)*time.Millisecond
			if _, err := New(cfg, keys); err != nil {
				b.Fatal(err)
			}
		}
		made += world
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(made), "ns/client")
}

// benchNet is a quiet fake driver with a fake network of 40 nodes in swarms of 8 whose nodes use
// crypto mode.
func benchNet(b *testing.B, mode cryptomode.Mode) (*actortest.Driver, *fakeNet) {
	drv := newDriver()
	drv.Quiet = true
	f := newFakeNet(b, drv, 40, 8)
	f.suite = cryptomode.New(mode, cryptomode.DefaultCosts)
	return drv, f
}

// BenchmarkPollRound is one desktop poll round (two members, five namespaces each) through the
// fake network: the client's signing, onion building, reply opening and parsing, plus the fake
// nodes' peeling and answering (which the simulator charges to the nodes instead).
func BenchmarkPollRound(b *testing.B) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		b.Run(mode.String(), func(b *testing.B) {
			drv, f := benchNet(b, mode)
			c, _ := newTestClient(b, drv, f, "alice", Desktop, func(cfg *Config) { cfg.Suite = f.suite })
			drv.RunFor(10 * time.Second)
			start := c.Stats().Polls
			for b.Loop() {
				drv.RunFor(c.cfg.Poll.Interval)
			}
			polls := c.Stats().Polls - start
			if c.Stats().PollFailures > 0 {
				b.Fatalf("%d failed polls", c.Stats().PollFailures)
			}
			b.ReportMetric(float64(polls)/b.Elapsed().Seconds(), "polls/s")
		})
	}
}

// BenchmarkSendToDelivery is one message from Send to the recipient's decrypt through the fake
// network (both clients' work and the fake nodes').
func BenchmarkSendToDelivery(b *testing.B) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		b.Run(mode.String(), func(b *testing.B) {
			drv, f := benchNet(b, mode)
			set := func(cfg *Config) { cfg.Suite = f.suite }
			alice, ea := newTestClient(b, drv, f, "alice", IOS, set)
			bob, _ := newTestClient(b, drv, f, "bob", IOS, set)
			drv.RunFor(10 * time.Second)
			for b.Loop() {
				ea.Do(func() { _ = alice.Send(bob.ID(), 200) })
				drv.RunFor(2 * time.Second)
			}
			if got, sent := bob.Stats().Received, alice.Stats().Sent; got != sent {
				b.Fatalf("%d of %d delivered", got, sent)
			}
			b.ReportMetric(float64(bob.Stats().Received)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
