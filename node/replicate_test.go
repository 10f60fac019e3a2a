package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

func countEvents[T any](tn *testNet) int {
	c := 0
	for _, ev := range tn.drv.Events {
		if _, ok := ev.Event.(T); ok {
			c++
		}
	}
	return c
}

func TestForwardRetries(t *testing.T) {
	tests := []struct {
		version    string
		wantCopies int // once the crashed member is back
		wantRetry  bool
	}{
		{"2.11", perSwarm, true},
		{"2.8", perSwarm - 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			tn := newTestNet(t, testSwarms, perSwarm, Config{Version: tc.version})
			_, members, acct := tn.homeAccount(t, 0, "retry")
			down := members[3]
			tn.drv.Crash(addrN(down))

			r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("while one is down"))
			hash := storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data)
			resp := tn.rpc(t, members[0], encode(r))
			require.Equal(t, 200, resp.Status)
			res, err := storagerpc.DecodeStoreResponse(bodyOf(resp))
			require.NoError(t, err)
			failed := 0
			for _, e := range res.Swarm {
				if e.Failed != nil {
					failed++
					assert.True(t, e.Failed.Timeout)
					assert.Equal(t, hexKey(tn.keys[down].Ed25519Public), e.Node)
				}
			}
			assert.Equal(t, 1, failed)
			assert.Equal(t, perSwarm-1, stored(tn, hash))
			if tc.wantRetry {
				assert.Equal(t, 1, tn.nodes[members[0]].PendingRetries())
			} else {
				assert.Zero(t, tn.nodes[members[0]].PendingRetries())
			}

			// The member comes back (empty store, as after a crash without its database)
			// before the first retry (15 s) and keeps its list.
			tn.drv.RunFor(5 * time.Second)
			back, err := New(Config{Version: tc.version, Reachability: Reachability{Disabled: true}}, tn.keys[down], memory.New(memory.Config{}))
			require.NoError(t, err)
			tn.nodes[down] = back
			tn.drv.Add(addrN(down), back)
			back.SetList(tn.list)

			tn.drv.RunFor(20 * time.Second)
			assert.Equal(t, tc.wantCopies, stored(tn, hash))
			assert.Zero(t, tn.nodes[members[0]].PendingRetries())
		})
	}
}

func TestRetryGivesUpWhenPeerLeaves(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	_, members, acct := tn.homeAccount(t, 0, "leaver")
	down := members[2]
	tn.drv.Crash(addrN(down))
	r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("x"))
	require.Equal(t, 200, tn.rpc(t, members[0], encode(r)).Status)
	require.Equal(t, 1, tn.nodes[members[0]].PendingRetries())

	// The registry drops the dead node; the retry is given up at its next attempt.
	l := &registry.List{Height: 2}
	for _, p := range tn.list.Nodes {
		if tn.nodeOf(p.Ed25519) != down {
			l.Nodes = append(l.Nodes, p)
		}
	}
	tn.setList(l)
	tn.drv.RunFor(time.Minute)
	assert.Zero(t, tn.nodes[members[0]].PendingRetries())
	dropped := false
	for _, ev := range tn.drv.Events {
		if d, ok := ev.Event.(ReplicationDropped); ok {
			dropped = true
			assert.Equal(t, "peer left the swarm", d.Reason)
		}
	}
	assert.True(t, dropped)

	t.Run("a retry of an expired message is dropped", func(t *testing.T) {
		down := members[1]
		tn.drv.Crash(addrN(down))
		r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), 12*time.Second, []byte("short-lived"))
		require.Equal(t, 200, tn.rpc(t, members[0], encode(r)).Status)
		require.Equal(t, 1, tn.nodes[members[0]].PendingRetries())
		tn.drv.RunFor(20 * time.Second)
		assert.Zero(t, tn.nodes[members[0]].PendingRetries())
	})
}

// accountsIn stores one message for each of n accounts owned by swarm id, through member to,
// and returns their hashes.
func storeMany(t *testing.T, tn *testNet, id swarm.ID, to, n int, tag string) []string {
	var hashes []string
	for i := range n {
		acct := accountIn(t, tn.list, id, realSuite, fmt.Sprintf("%s-%d", tag, i))
		r := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte(fmt.Sprintf("%s message %d", tag, i)))
		resp := tn.rpc(t, to, encode(r))
		require.Equal(t, 200, resp.Status)
		hashes = append(hashes, storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data))
	}
	return hashes
}

// joiner adds a fresh node (no list yet) to the test net and returns its index.
func (tn *testNet) joiner(t *testing.T, cfg Config) int {
	i := len(tn.nodes)
	k := identity.Derive(1, fmt.Sprintf("node-%d", i))
	cfg.Reachability.Disabled = true
	n, err := New(cfg, k, memory.New(memory.Config{}))
	require.NoError(t, err)
	tn.keys = append(tn.keys, k)
	tn.nodes = append(tn.nodes, n)
	tn.drv.Add(addrN(i), n)
	return i
}

func withNode(l *registry.List, p Peer) *registry.List {
	out := &registry.List{Height: l.Height + 1, BlockHash: [32]byte{byte(l.Height + 1)}}
	out.Nodes = append(append(out.Nodes, l.Nodes...), p)
	return out
}

func TestNewMemberReceivesSwarmData(t *testing.T) {
	tests := []struct {
		version string
		// lag is how long after the others the newcomer gets the new list.
		lag time.Duration
		// wantAll: the newcomer ends up with every message of its swarm.
		wantAll bool
		// wantForeign: it also received messages its swarm does not own.
		wantForeign bool
	}{
		{"2.11", 0, true, false},
		{"2.11", 25 * time.Second, true, false}, // handshake retried until it knows
		{"2.8", 0, true, true},                  // full store pushed
		{"2.8", 25 * time.Second, false, false}, // pushes refused by a node without a list
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s lag %v", tc.version, tc.lag), func(t *testing.T) {
			cfg := Config{Version: tc.version}
			tn := newTestNet(t, testSwarms, perSwarm, cfg)
			home := testSwarms[1]
			members := tn.membersOf(home)
			mine := storeMany(t, tn, home, members[0], 5, "home")
			// A message of another swarm that a home member holds (say, from before a
			// swarm change): 2.8 pushes it along, 2.11 does not.
			foreign := accountIn(t, tn.list, testSwarms[0], realSuite, "foreign")
			fm := store.Message{Hash: "foreign-hash", Owner: ownerOf(foreign.pubkey), Timestamp: nowMS(tn), Expiry: nowMS(tn) + 3_600_000, Data: []byte("f")}
			_, _, err := tn.nodes[members[1]].Store().Store(fm)
			require.NoError(t, err)
			tn.drv.RunFor(time.Second)

			j := tn.joiner(t, cfg)
			l := withNode(tn.list, Peer{Ed25519: tn.keys[j].Ed25519Public, X25519: tn.keys[j].X25519Public, Addr: addrN(j), Swarm: home})
			tn.list = l
			for i, n := range tn.nodes[:j] {
				tn.drv.Actor(addrN(i)).Do(func() { n.SetList(l) })
			}
			tn.drv.RunFor(tc.lag)
			tn.drv.Actor(addrN(j)).Do(func() { tn.nodes[j].SetList(l) })
			tn.drv.RunFor(time.Minute)

			got := 0
			for _, h := range mine {
				if _, ok, _ := tn.nodes[j].Store().Get(h); ok {
					got++
				}
			}
			if tc.wantAll {
				assert.Equal(t, len(mine), got)
			} else {
				assert.Less(t, got, len(mine))
			}
			_, hasForeign, _ := tn.nodes[j].Store().Get("foreign-hash")
			assert.Equal(t, tc.wantForeign, hasForeign)
			for _, n := range tn.nodes[:j] {
				assert.Zero(t, n.PendingTransfers(), "every transfer finished")
			}
			assert.Positive(t, countEvents[SwarmDataMoved](tn))
		})
	}
}

func TestDissolvedSwarmPushesToNewOwners(t *testing.T) {
	for _, version := range []string{"2.11", "2.8"} {
		t.Run(version, func(t *testing.T) {
			tn := newTestNet(t, testSwarms, perSwarm, Config{Version: version})
			gone := testSwarms[1]
			old := tn.membersOf(gone)
			hashes := storeMany(t, tn, gone, old[0], 8, "dissolve")
			tn.drv.RunFor(time.Second)
			// Swarm 2 dissolves: its members all join swarm 3, whose old members never had
			// swarm 2's data; swarm 1 takes over part of its space too.
			l := &registry.List{Height: 2, BlockHash: [32]byte{2}}
			for _, p := range tn.list.Nodes {
				if p.Swarm == gone {
					p.Swarm = testSwarms[2]
				}
				l.Nodes = append(l.Nodes, p)
			}
			tn.setList(l)
			tn.drv.RunFor(time.Minute)
			v := newView(l)
			for _, h := range hashes {
				m, ok, err := tn.nodes[old[0]].Store().Get(h)
				require.NoError(t, err)
				require.True(t, ok, "the old members keep their data")
				owner, _ := v.ownerSwarm(m.Owner.SwarmSpace())
				for _, p := range v.membersOf(owner) {
					_, ok, _ := tn.nodes[tn.nodeOf(p.Ed25519)].Store().Get(h)
					assert.True(t, ok, "every member of the new owner swarm has %s", h)
				}
			}
		})
	}
}

func TestNewSwarmGetsItsData(t *testing.T) {
	tn := newTestNet(t, testSwarms[:2], 8, Config{})
	hashes := storeMany(t, tn, testSwarms[0], tn.membersOf(testSwarms[0])[0], 12, "split")
	hashes = append(hashes, storeMany(t, tn, testSwarms[1], tn.membersOf(testSwarms[1])[0], 12, "split2")...)
	tn.drv.RunFor(time.Second)
	// A new swarm between the two takes 3 nodes from each.
	newID := swarm.ID(uint64(testSwarms[0])/2 + uint64(testSwarms[1])/2)
	l := &registry.List{Height: 2, BlockHash: [32]byte{2}}
	moved := map[swarm.ID]int{}
	for _, p := range tn.list.Nodes {
		if moved[p.Swarm] < 3 {
			moved[p.Swarm]++
			p.Swarm = newID
		}
		l.Nodes = append(l.Nodes, p)
	}
	tn.setList(l)
	tn.drv.RunFor(time.Minute)
	v := newView(l)
	owned := 0
	for _, h := range hashes {
		var m store.Message
		for _, n := range tn.nodes {
			if mm, ok, _ := n.Store().Get(h); ok {
				m = mm
				break
			}
		}
		owner, _ := v.ownerSwarm(m.Owner.SwarmSpace())
		if owner != newID {
			continue
		}
		owned++
		for _, p := range v.membersOf(newID) {
			_, ok, _ := tn.nodes[tn.nodeOf(p.Ed25519)].Store().Get(h)
			assert.True(t, ok)
		}
	}
	require.Positive(t, owned, "some accounts moved to the new swarm")
}

// countingSuite counts the signature verifications a node's suite performs.
type countingSuite struct {
	cryptomode.Suite
	verifies *int
}

func (s countingSuite) Verify(pub, msg, sig []byte) (bool, time.Duration) {
	*s.verifies++
	return s.Suite.Verify(pub, msg, sig)
}

// The node a client reached verifies its request's signature and hands the result on with its
// forward: the members skip the verification but charge the same CPU time as a member that
// verifies a forward without it (one decoded from wire bytes).
func TestForwardCarriesVerifiedSignature(t *testing.T) {
	verifies := 0
	tn := newTestNet(t, testSwarms, perSwarm, Config{Suite: countingSuite{Suite: realSuite, verifies: &verifies}})
	_, members, acct := tn.homeAccount(t, 0, "memo")
	put := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("to expire"))
	hash := storagerpc.MessageHash(put.Pubkey, put.Namespace, put.Data)
	require.Equal(t, 200, tn.rpc(t, members[0], encode(put)).Status)
	expire := func(mode storagerpc.ExpireMode, at int64) *storagerpc.Expire {
		r := &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{hash}, Expiries: []int64{at}, Mode: mode}
		r.Sign(acct.signer)
		return r
	}

	t.Run("a client's request is verified once for the swarm", func(t *testing.T) {
		verifies = 0
		resp := tn.rpc(t, members[1], encode(expire(storagerpc.ExpireShorten, nowMS(tn)+50*60_000)))
		for _, r := range swarmResults(t, resp, storagerpc.DecodeExpireResponse) {
			assert.Equal(t, []string{hash}, r.Updated)
		}
		assert.Equal(t, 1, verifies)
	})

	t.Run("members charge the same with and without it", func(t *testing.T) {
		r := expire(storagerpc.ExpireShorten, nowMS(tn)+40*60_000)
		var memo storagerpc.Verified
		_, err := r.Check(storagerpc.CheckEnv{Now: tn.drv.Now(), Suite: realSuite, Record: &memo})
		require.NoError(t, err)
		// Two members in the same state take the same forward, one with the memo and one
		// without; each serves it within the callback that receives it, so the time of its
		// RequestServed event, after the same delivery delay, is that delay plus its CPU time.
		served := func(to int, fw *Forward) (time.Duration, int) {
			verifies = 0
			start, before := tn.drv.Now(), len(tn.drv.Events)
			resp, err := tn.drv.Call(addrN(members[0]), addrN(to), forwardRequest(fw), time.Minute)
			require.NoError(t, err)
			require.Equal(t, 200, resp.Status)
			for _, o := range tn.drv.Events[before:] {
				if ev, ok := o.Event.(RequestServed); ok && o.From == addrN(to) && ev.Via == ViaPeer {
					return o.At.Sub(start), verifies
				}
			}
			t.Fatalf("member %d served nothing", to)
			return 0, 0
		}
		withMemo, memoVerifies := served(members[2], &Forward{Request: r, Received: nowMS(tn), verified: &memo})
		plain, plainVerifies := served(members[3], &Forward{Request: r, Received: nowMS(tn)})
		assert.Zero(t, memoVerifies)
		assert.Equal(t, 1, plainVerifies)
		assert.Equal(t, plain, withMemo)
		costs := realSuite.Costs()
		assert.GreaterOrEqual(t, withMemo-tn.drv.Latency, costs.X25519+costs.Ed25519Verify, "the verification is charged")
	})
}

// The node a client reached hands the message hash of a store on with its forward: a member that
// takes it stores and signs the same hash, and charges the same time, as one that hashes the
// data itself (a forward decoded from wire bytes).
func TestForwardCarriesMessageHash(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{Suite: realSuite})
	_, members, acct := tn.homeAccount(t, 0, "hash memo")
	put := storagerpc.NewStore(acct.pubkey, 0, nowMS(tn), time.Hour, []byte("stored by hash"))
	hash := storagerpc.MessageHash(put.Pubkey, put.Namespace, put.Data)
	served := func(to int, fw *Forward) (time.Duration, storagerpc.StoreResult) {
		start, before := tn.drv.Now(), len(tn.drv.Events)
		resp, err := tn.drv.Call(addrN(members[0]), addrN(to), forwardRequest(fw), time.Minute)
		require.NoError(t, err)
		require.Equal(t, 200, resp.Status)
		res, ok := resp.Body.(*storagerpc.StoreResult)
		require.True(t, ok, "a member's store result, got %T", resp.Body)
		for _, o := range tn.drv.Events[before:] {
			if ev, ok := o.Event.(RequestServed); ok && o.From == addrN(to) && ev.Via == ViaPeer {
				return o.At.Sub(start), *res
			}
		}
		t.Fatalf("member %d served nothing", to)
		return 0, storagerpc.StoreResult{}
	}
	withHash, memoRes := served(members[1], &Forward{Request: put, Received: nowMS(tn), hash: hash})
	plain, plainRes := served(members[2], &Forward{Request: put, Received: nowMS(tn)})
	assert.Equal(t, plain, withHash)
	assert.Equal(t, hash, memoRes.Hash)
	assert.Equal(t, hash, plainRes.Hash)

	// A client's store, read from its bytes: each member's forward carries the hash.
	before := len(tn.drv.Calls)
	require.Equal(t, 200, tn.rpc(t, members[0], encode(put)).Status)
	forwards := 0
	for _, c := range tn.drv.Calls[before:] {
		if fw, ok := c.Req.Body.(*Forward); ok {
			assert.Equal(t, hash, fw.hash)
			forwards++
		}
	}
	assert.Equal(t, len(members)-1, forwards)
}
