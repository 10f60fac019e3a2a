package node

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/registry"
)

// benchNet is 14 nodes (two swarms of 7) and a client on the engine; reachability testing
// and list polling are off so that only the measured requests run. Uptime proofs stay on: a
// long benchmark covers hours of virtual time, and nodes that stop proving are decommissioned.
func benchNet(b *testing.B, mode cryptomode.Mode) (*simNet, account, []actor.Addr) {
	suite := cryptomode.New(mode, cryptomode.DefaultCosts)
	cfg := Config{Suite: suite, Reachability: Reachability{Disabled: true}, ListPoll: -1, RateLimit: RateLimit{Disabled: true}}
	sn := newSimNet(b, 14, cfg, registry.Config{})
	sn.Engine.RunFor(time.Second)
	list := sn.Registry.Published()
	id := list.Ring().IDs()[0]
	acct := accountIn(b, list, id, suite, "bench")
	var to []actor.Addr
	for _, p := range list.Members(id) {
		to = append(to, p.Addr)
	}
	return sn, acct, to
}

// bothModes runs bench as two sub-benchmarks, with real and with modeled crypto.
func bothModes(b *testing.B, bench func(*testing.B, cryptomode.Mode)) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		b.Run(mode.String(), func(b *testing.B) { bench(b, mode) })
	}
}

// BenchmarkStoreInSim measures a client's store to a 7-node swarm on the engine: parse, checks,
// forwards to the 6 other members, their stores and signatures, and the answer.
func BenchmarkStoreInSim(b *testing.B) {
	bothModes(b, benchStore)
}

func benchStore(b *testing.B, mode cryptomode.Mode) {
	sn, acct, to := benchNet(b, mode)
	bodies := make([][]byte, 4096)
	now := sn.Engine.Now().UnixMilli()
	for i := range bodies {
		bodies[i] = encode(storagerpc.NewStore(acct.pubkey, 0, now, 14*24*time.Hour, []byte(fmt.Sprintf("%0400d", i))))
	}
	loopInSim(b, sn, func(i int, start time.Time) {
		if r := sn.call(b, to[i%len(to)], bodies[i%len(bodies)]); r.Status != 200 {
			b.Fatalf("status %d after %v virtual: %s", r.Status, sn.Engine.Now().Sub(start), bodyOf(r))
		}
	})
}

// loopInSim runs op once per benchmark iteration, i counting them from 0 and start the engine's
// time before the first, and reports the virtual time an iteration took on the engine.
func loopInSim(b *testing.B, sn *simNet, op func(i int, start time.Time)) {
	start := sn.Engine.Now()
	i := 0
	for b.Loop() {
		op(i, start)
		i++
	}
	b.ReportMetric(float64(sn.Engine.Now().Sub(start).Microseconds())/float64(i), "virtual-us/op")
}

// BenchmarkRetrieveInSim measures a signed retrieve of 20 stored messages from one member.
func BenchmarkRetrieveInSim(b *testing.B) {
	bothModes(b, benchRetrieve)
}

func benchRetrieve(b *testing.B, mode cryptomode.Mode) {
	sn, acct, to := benchNet(b, mode)
	now := sn.Engine.Now().UnixMilli()
	for i := range 20 {
		sn.call(b, to[0], encode(storagerpc.NewStore(acct.pubkey, 0, now, time.Hour, []byte(fmt.Sprintf("%0400d", i)))))
	}
	r := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
	var body []byte
	signedAt := time.Time{}
	loopInSim(b, sn, func(int, time.Time) {
		if sn.Engine.Now().Sub(signedAt) > 30*time.Second {
			// Signatures are good for a minute of the node's clock.
			signedAt = sn.Engine.Now()
			r.Sign(acct.signer, signedAt.UnixMilli())
			body = encode(r)
		}
		if resp := sn.call(b, to[1], body); resp.Status != 200 {
			b.Fatalf("status %d: %s", resp.Status, bodyOf(resp))
		}
	})
}

// BenchmarkExpireInSim measures a client's expire (extend) of 6 stored messages on one member
// of a 7-node swarm on the engine: parse, signature check, forwards to the 6 other members,
// each member's check, store update and signed result, and the gathered answer.
func BenchmarkExpireInSim(b *testing.B) {
	bothModes(b, benchExpire)
}

func benchExpire(b *testing.B, mode cryptomode.Mode) {
	sn, acct, to := benchNet(b, mode)
	now := sn.Engine.Now().UnixMilli()
	var hashes []string
	for i := range 6 {
		st := storagerpc.NewStore(acct.pubkey, 0, now, time.Hour, []byte(fmt.Sprintf("%0400d", i)))
		if r := sn.call(b, to[0], encode(st)); r.Status != 200 {
			b.Fatalf("store: status %d: %s", r.Status, bodyOf(r))
		}
		hashes = append(hashes, storagerpc.MessageHash(st.Pubkey, st.Namespace, st.Data))
	}
	// Asking for more than the longest lifetime, every node caps the expiry at its clock plus
	// that lifetime, so each call extends every message again as virtual time moves on, and one
	// signed body serves the whole benchmark.
	r := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: hashes,
		Expiries: []int64{now + 2*storagerpc.TTLMaxPrivate.Milliseconds()}, Mode: storagerpc.ExpireExtend}
	r.Sign(acct.signer)
	body := encode(r)
	// The benchmark measures a whole swarm's update: every member must apply it.
	first := sn.call(b, to[0], body)
	if first.Status != 200 {
		b.Fatalf("expire: status %d: %s", first.Status, bodyOf(first))
	}
	res, err := storagerpc.DecodeExpireResponse(bodyOf(first))
	if err != nil {
		b.Fatalf("expire answer: %v", err)
	}
	if len(res.Swarm) != len(to) {
		b.Fatalf("expire answer: %d members of %d", len(res.Swarm), len(to))
	}
	for _, e := range res.Swarm {
		if e.Failed != nil || len(e.Result.Updated) != len(hashes) {
			b.Fatalf("member %s updated %d of %d messages (failed: %v)", e.Node, len(e.Result.Updated), len(hashes), e.Failed)
		}
	}
	loopInSim(b, sn, func(i int, start time.Time) {
		if resp := sn.call(b, to[i%len(to)], body); resp.Status != 200 {
			b.Fatalf("status %d after %v virtual: %s", resp.Status, sn.Engine.Now().Sub(start), bodyOf(resp))
		}
	})
}

// BenchmarkIdleNodeHeap reports the heap an idle node adds to a simNet (store
// empty, list applied, timers running for a minute; its host and its registry entry included),
// from the difference between two network sizes, so that the fixed cost of the engine and the
// registry cancels. It is a benchmark rather than a test because the figure follows the Go
// runtime's allocator and map growth, and nothing requires a node to stay under a given size;
// scenarios.BenchmarkMemoryPerNode gives the whole-world figure.
func BenchmarkIdleNodeHeap(b *testing.B) {
	const small, large = 200, 2000
	var per float64
	for b.Loop() {
		per = float64(int64(idleHeap(b, large))-int64(idleHeap(b, small))) / (large - small)
	}
	b.ReportMetric(per, "bytes/node")
}

// idleHeap builds a simNet of n idle nodes, runs it for a minute and returns the live heap.
func idleHeap(b *testing.B, n int) uint64 {
	cfg := Config{Suite: cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)}
	sn := newSimNet(b, n, cfg, registry.Config{})
	sn.Engine.RunFor(time.Minute)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(sn)
	return m.HeapAlloc
}
