package client

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// FuzzDecoders feeds arbitrary bytes to every decoder of node and seed answers: they return an
// error or a result, never panic, and results only hold usable nodes.
func FuzzDecoders(f *testing.F) {
	swarm := (&storagerpc.SwarmInfoResponse{Snodes: []storagerpc.SnodeInfo{{IP: "1.2.3.4", PortHTTPS: 22021}}, SwarmID: 5}).Append(nil)
	f.Add([]byte(`{"id":"0","jsonrpc":"2.0","result":{"service_node_states":[{"public_ip":"1.2.3.4","storage_port":22021,"pubkey_ed25519":"` +
		"aa" + string(make([]byte, 0)) + `","pubkey_x25519":""}]}}`))
	f.Add([]byte(`{"service_node_states":[{"public_ip":"0.0.0.0","storage_port":1,"pubkey_ed25519":"00","pubkey_x25519":"00"}]}`))
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 200, Body: swarm}}))
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 421, Body: swarm}}))
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 200, Body: (&storagerpc.RetrieveResponse{Messages: []storagerpc.RetrievedMessage{{Hash: "h", Data: []byte("d")}}}).Append(nil)}}))
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 200, Body: (&storagerpc.OxendResponse{Result: []byte(`{"service_node_states":[]}`)}).Append(nil)}}))
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 200, Body: (&storagerpc.StoreResponse{Hash: "h"}).Append(nil)}}))
	f.Add(swarm)
	expired := (&storagerpc.SwarmResponse[storagerpc.ExpireResult]{Self: "aa", Swarm: []storagerpc.SwarmEntry[storagerpc.ExpireResult]{
		{Node: "aa", Result: storagerpc.ExpireResult{Expiries: []int64{5}, Updated: []string{"h"}}}, {Node: "bb", Failed: &storagerpc.Failure{Timeout: true}}}})
	f.Add(storagerpc.AppendBatchResponse(nil, []storagerpc.SubResult{{Code: 200, Body: storagerpc.AppendExpireResponse(nil, expired)},
		{Code: 200, Body: (&storagerpc.RetrieveResponse{}).Append(nil)}}))
	f.Add([]byte(`{"results":[{"code":200,"body":"x"}]}`))
	f.Add([]byte(`{"results":[{"code":406,"body":"retrieve timestamp too far from current time"},{"code":200,"body":{"t":1700000000000}}]}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(nodes []NodeInfo, err error) {
			if err != nil {
				return
			}
			for _, n := range nodes {
				if !n.Addr.IsValid() || n.Addr.Addr().IsUnspecified() {
					t.Fatalf("unusable node kept: %+v", n)
				}
			}
		}
		check(decodeSeedResponse(body))
		check(parseNodeStates(body))
		if result, err := serviceNodesResult(batchAnswer{body: body}); err == nil {
			check(parseNodeStates(result))
		}
		check(decodeSwarm(batchAnswer{body: body}))
		check(decode421(body))
		check(swarmNodes(body))
		if code, _, err := storeOutcome(batchAnswer{body: body}); err == nil && code == 0 {
			t.Fatal("store outcome without a code")
		}
		for _, n := range []int{0, 1, 5} {
			for _, exp := range []pollExpire{{}, {hashes: []string{"h"}}, {hashes: []string{"h"}, first: true}} {
				rs, eo, err := decodeRetrieve(batchAnswer{body: body}, n, exp)
				if err == nil && len(rs) != n {
					t.Fatalf("%d results for %d namespaces", len(rs), n)
				}
				if err == nil && (eo.members < 0 || eo.updated < 0 || (len(exp.hashes) > 0 && eo.status == 0)) {
					t.Fatalf("expire outcome %+v", eo)
				}
			}
		}
		stamps, refused := answerClock(batchAnswer{body: body}, true)
		for _, s := range stamps {
			if s <= minStamp {
				t.Fatalf("stamp %d before 2021 kept", s)
			}
		}
		if refused.Status406 < 0 || refused.Status425 < 0 || len(stamps)+refused.Status406+refused.Status425 > len(body) {
			t.Fatalf("impossible counts: %d stamps, %+v", len(stamps), refused)
		}
		if s, ok := stampOf(body); ok != (s > minStamp) {
			t.Fatalf("stampOf %d, %v", s, ok)
		}
	})
}

// FuzzClientAnswers runs a client against a network whose every answer is the fuzzer's: the
// client must neither panic nor stop polling.
func FuzzClientAnswers(f *testing.F) {
	f.Add(uint16(200), []byte(`{"result":{"service_node_states":[]}}`), uint8(0))
	f.Add(uint16(502), []byte("Next node not found: 00"), uint8(1))
	f.Add(uint16(200), []byte("AAAA"), uint8(2))
	f.Add(uint16(421), []byte(`{"snodes":[]}`), uint8(3))
	f.Fuzz(func(t *testing.T, status uint16, body []byte, which uint8) {
		drv := newDriver()
		drv.Quiet = true
		fn := newFakeNet(t, drv, 30, 6)
		honest := fn.serve
		calls := 0
		// Every few calls the network answers with the fuzzer's bytes instead of the truth.
		drv.Serve = func(from, to actor.Addr, req actor.Request) (actor.Response, bool) {
			calls++
			if which > 0 && calls%int(which%5+1) != 0 {
				return honest(from, to, req)
			}
			return actor.Response{Status: int(status), Body: body, Size: len(body)}, true
		}
		c, err := New(Config{Seeds: fn.seeds}, identity.Derive(1, "fuzz"))
		if err != nil {
			t.Fatal(err)
		}
		e := drv.Env(netip.MustParseAddrPort("203.0.113.9:5000"))
		e.Do(func() { c.Start(e) })
		drv.RunFor(20 * time.Second)
		e.Do(func() { _ = c.Send(identity.Derive(1, "peer").SessionID(), 20) })
		polls := c.Stats().Polls
		drv.RunFor(40 * time.Second)
		if c.Stats().Polls == polls {
			t.Fatal("the client stopped polling")
		}
	})
}
