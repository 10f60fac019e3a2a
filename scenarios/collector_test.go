package scenarios

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/results"
)

// TestCollectorClassifiesMessages feeds the collector synthetic event sequences for one
// message from alice to bob (or to an ID nobody owns) and checks the outcome it records, as
// results.Messages documents them.
func TestCollectorClassifiesMessages(t *testing.T) {
	const hash = "h1"
	alice, bob := identity.Derive(1, "alice").SessionID(), identity.Derive(1, "bob").SessionID()
	nobody := identity.Derive(1, "nobody").SessionID()
	epoch := time.Unix(1_700_000_000, 0)
	sent := func(to identity.ID) actor.Event { return client.MessageSent{Hash: hash, To: to} }
	stored := client.StoreResult{Hash: hash, To: bob, Attempts: 1, Failure: client.OK}
	received := client.MessageReceived{Hash: hash, From: alice}

	// A step at second At is an event (from alice, or to bob for a receipt) or bob going
	// online or offline.
	type step struct {
		At    int
		Event actor.Event
		Bob   string // "online" or "offline" instead of an event
	}
	cases := []struct {
		name       string
		bobOnline  bool
		steps      []step
		want       results.Messages
		wantRatio  *float64
		wantE2E    uint64 // end-to-end latency samples
		wantOnline uint64 // of which the recipient was online at send
		stopped    bool   // the run was interrupted before its drain
	}{
		{"delivered", true, []step{{0, sent(bob), ""}, {1, stored, ""}, {3, received, ""}},
			results.Messages{Sent: 1, Delivered: 1}, ptr(1.0), 1, 1, false},
		{"delivered twice counts a duplicate", true, []step{{0, sent(bob), ""}, {1, stored, ""}, {3, received, ""}, {9, received, ""}},
			results.Messages{Sent: 1, Delivered: 1, Duplicates: 1}, ptr(1.0), 1, 1, false},
		{"delivered after the recipient came online", false, []step{{0, sent(bob), ""}, {1, stored, ""}, {60, nil, "online"}, {62, received, ""}},
			results.Messages{Sent: 1, Delivered: 1}, ptr(1.0), 1, 0, false},
		{"to an ID nobody owns", true, []step{{0, sent(nobody), ""}, {1, client.StoreResult{Hash: hash, To: nobody, Attempts: 1}, ""}},
			results.Messages{Sent: 1, Undeliverable: 1}, nil, 0, 0, false},
		{"pending: recipient offline since before the send", false, []step{{0, sent(bob), ""}, {1, stored, ""}},
			results.Messages{Sent: 1, Pending: 1}, nil, 0, 0, false},
		{"pending: recipient went offline before the send", true, []step{{0, nil, "offline"}, {1, sent(bob), ""}, {2, stored, ""}},
			results.Messages{Sent: 1, Pending: 1}, nil, 0, 0, false},
		{"lost: recipient went offline after the send", true, []step{{0, sent(bob), ""}, {1, stored, ""}, {2, nil, "offline"}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, ptr(0.0), 0, 0, false},
		{"lost: recipient online since, never received", false, []step{{0, sent(bob), ""}, {1, stored, ""}, {60, nil, "online"}, {120, nil, "offline"}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, ptr(0.0), 0, 0, false},
		{"lost: stored, recipient online, never received", true, []step{{0, sent(bob), ""}, {1, stored, ""}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, ptr(0.0), 0, 0, false},
		{"lost: the store never finished", true, []step{{0, sent(bob), ""}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"store-unfinished": 1}}, ptr(0.0), 0, 0, false},
		{"lost: every store attempt timed out", true, []step{{0, sent(bob), ""}, {30, client.StoreResult{Hash: hash, To: bob, Attempts: 3, Failure: client.FailTimeout}, ""}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"store-" + client.FailTimeout.String(): 1}}, ptr(0.0), 0, 0, false},
		{"lost: the first store result counts, a later one does not", true, []step{{0, sent(bob), ""}, {30, client.StoreResult{Hash: hash, To: bob, Attempts: 3, Failure: client.FailUnreachable}, ""}, {31, stored, ""}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"store-" + client.FailUnreachable.String(): 1}}, ptr(0.0), 0, 0, false},
		{"a receipt of a message never sent is ignored", true, []step{{3, received, ""}},
			results.Messages{}, nil, 0, 0, false},
		{"interrupted: a store not yet finished is in flight", true, []step{{0, sent(bob), ""}},
			results.Messages{Sent: 1, InFlight: 1}, nil, 0, 0, true},
		{"interrupted: stored and not yet received is in flight", true, []step{{0, sent(bob), ""}, {1, stored, ""}},
			results.Messages{Sent: 1, InFlight: 1}, nil, 0, 0, true},
		{"interrupted: a failed store is still lost", true, []step{{0, sent(bob), ""}, {30, client.StoreResult{Hash: hash, To: bob, Attempts: 3, Failure: client.FailTimeout}, ""}},
			results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"store-" + client.FailTimeout.String(): 1}}, ptr(0.0), 0, 0, true},
		{"interrupted: delivered is delivered", true, []step{{0, sent(bob), ""}, {1, stored, ""}, {3, received, ""}},
			results.Messages{Sent: 1, Delivered: 1}, ptr(1.0), 1, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
			bobAddr := netip.MustParseAddrPort("10.0.0.2:40000")
			require.Equal(t, 0, c.addClient(aliceAddr, alice, "desktop", true))
			bobIndex := c.addClient(bobAddr, bob, "ios", tc.bobOnline)
			for _, st := range tc.steps {
				at := epoch.Add(time.Duration(st.At) * time.Second)
				switch st.Bob {
				case "online", "offline":
					c.setOnline(bobIndex, st.Bob == "online", at)
				case "":
					from := aliceAddr
					if _, ok := st.Event.(client.MessageReceived); ok {
						from = bobAddr
					}
					c.Observe(at, from, st.Event)
				default:
					panic(fmt.Sprintf("step %+v", st))
				}
			}
			var s results.Summary
			c.fill(&s, !tc.stopped)
			assert.Equal(t, tc.want, s.Messages)
			assert.Equal(t, tc.wantRatio, s.DeliveryRatio)
			assert.Equal(t, tc.want.Sent, s.Messages.Delivered+s.Messages.Lost+s.Messages.Pending+s.Messages.Undeliverable+s.Messages.InFlight, "every message has one outcome")
			assert.Equal(t, tc.wantE2E, s.EndToEndMs.Count)
			assert.Equal(t, tc.wantOnline, s.EndToEndOnlineMs.Count)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestCollectorTimelineBuckets checks which bucket each message and replication sample lands
// in: a message counts in the minute it was sent, whenever it arrives; a sample belongs to the
// minute it ends; the last bucket of a run that is not a whole number of minutes is shorter and
// takes the sample at the run's end.
func TestCollectorTimelineBuckets(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	alice, bob := identity.Derive(1, "alice").SessionID(), identity.Derive(1, "bob").SessionID()
	aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
	bobAddr := netip.MustParseAddrPort("10.0.0.2:40000")
	type msg struct {
		sent, received time.Duration // received 0: never
	}
	cases := []struct {
		name    string
		total   time.Duration
		msgs    []msg
		samples []time.Duration // each finds every stored message on copies nodes
		copies  int
		want    []results.TimelineBucket
	}{
		{"nothing happens", 2 * time.Minute, nil, nil, 0, []results.TimelineBucket{{StartSeconds: 0}, {StartSeconds: 60}}},
		{"a send just before a boundary, one on it", 2 * time.Minute,
			[]msg{{59*time.Second + 999*time.Millisecond, 60 * time.Second}, {60 * time.Second, 62 * time.Second}}, nil, 0,
			[]results.TimelineBucket{
				{StartSeconds: 0, Sent: 1, Delivered: 1, DeliveryRatio: ptr(1.0), E2EP50Ms: 1, E2EP99Ms: 1},
				{StartSeconds: 60, Sent: 1, Delivered: 1, DeliveryRatio: ptr(1.0), E2EP50Ms: 2000, E2EP99Ms: 2000},
			}},
		{"a late delivery counts where it was sent; a loss too", 3 * time.Minute,
			[]msg{{10 * time.Second, 150 * time.Second}, {20 * time.Second, 0}}, nil, 0,
			[]results.TimelineBucket{
				{StartSeconds: 0, Sent: 2, Delivered: 1, Lost: 1, DeliveryRatio: ptr(0.5), E2EP50Ms: 140_000, E2EP99Ms: 140_000},
				{StartSeconds: 60}, {StartSeconds: 120},
			}},
		{"a sample ends its minute; the one at the end of a short last bucket is the last's", 150 * time.Second,
			[]msg{{time.Second, 2 * time.Second}}, []time.Duration{60 * time.Second, 61 * time.Second, 150 * time.Second}, 3,
			[]results.TimelineBucket{
				{StartSeconds: 0, Sent: 1, Delivered: 1, DeliveryRatio: ptr(1.0), E2EP50Ms: 1000, E2EP99Ms: 1000,
					Copies: &results.Replication{Samples: 1, MinCopies: 3, P1Copies: 3, MeanCopies: 3}},
				{StartSeconds: 60, Copies: &results.Replication{Samples: 1, MinCopies: 3, P1Copies: 3, MeanCopies: 3}},
				{StartSeconds: 120, Copies: &results.Replication{Samples: 1, MinCopies: 3, P1Copies: 3, MeanCopies: 3}},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.epoch = epoch
			c.addClient(aliceAddr, alice, "desktop", true)
			c.addClient(bobAddr, bob, "ios", true)
			for n := range tc.copies {
				c.addNode(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(n)}), 22021))
			}
			type event struct {
				at   time.Duration
				from actor.Addr
				ev   actor.Event
			}
			var evs []event
			for i, m := range tc.msgs {
				hash := fmt.Sprintf("h%d", i)
				evs = append(evs, event{m.sent, aliceAddr, client.MessageSent{Hash: hash, To: bob}},
					event{m.sent, aliceAddr, client.StoreResult{Hash: hash, To: bob, Attempts: 1, Failure: client.OK}})
				for n := range tc.copies {
					evs = append(evs, event{m.sent, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(n)}), 22021), node.MessageStored{Hash: hash, New: true}})
				}
				if m.received > 0 {
					evs = append(evs, event{m.received, bobAddr, client.MessageReceived{Hash: hash, From: alice}})
				}
			}
			slices.SortStableFunc(evs, func(a, b event) int { return cmp.Compare(a.at, b.at) })
			samples := tc.samples
			for _, e := range evs {
				for len(samples) > 0 && samples[0] <= e.at {
					c.sampleReplication(samples[0], func(int, string) bool { return true })
					samples = samples[1:]
				}
				c.Observe(epoch.Add(e.at), e.from, e.ev)
			}
			for _, at := range samples {
				c.sampleReplication(at, func(int, string) bool { return true })
			}
			s := results.Summary{VirtualSeconds: tc.total.Seconds()}
			c.fill(&s, true)
			assert.Equal(t, tc.want, s.Timeline)
			assert.Equal(t, 60.0, s.TimelineBucketSeconds)
			var sent, delivered uint64
			for _, b := range s.Timeline {
				sent, delivered = sent+b.Sent, delivered+b.Delivered
			}
			assert.Equal(t, s.Messages.Sent, sent, "every message is in one bucket")
			assert.Equal(t, s.Messages.Delivered, delivered)
			assert.Equal(t, s.Messages.Delivered, s.EndToEndByPlatform["ios"].Count, "latency by the recipient's platform")
		})
	}
}

// TestCollectorRequestMix checks how the collector counts requests and forwards: per
// subrequest namespace, under the sender's platform, forwards by cause and by the client whose
// request caused them.
func TestCollectorRequestMix(t *testing.T) {
	alice, bob := identity.Derive(1, "alice").SessionID(), identity.Derive(1, "bob").SessionID()
	aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
	bobAddr := netip.MustParseAddrPort("10.0.0.2:40000")
	nodeAddr := netip.MustParseAddrPort("10.1.0.1:22000")
	type step struct {
		from  actor.Addr
		event actor.Event
	}
	cases := []struct {
		name      string
		steps     []step
		wantRPC   map[string]map[string]map[string]uint64
		wantCause map[string]uint64
		wantByPl  map[string]map[string]uint64
	}{
		{name: "a poll counts once per namespace, failed or not", steps: []step{
			{aliceAddr, client.OnionRoundTrip{Method: "retrieve", Namespaces: []int16{0, 2, 5}}},
			{aliceAddr, client.OnionRoundTrip{Method: "retrieve", Namespaces: []int16{0, 2, 5}, Failure: client.FailTimeout}},
		}, wantRPC: map[string]map[string]map[string]uint64{"desktop": {"retrieve": {"0": 2, "2": 2, "5": 2}}}},
		{name: "requests naming no namespace, by platform", steps: []step{
			{aliceAddr, client.OnionRoundTrip{Method: "get_swarm"}},
			{bobAddr, client.OnionRoundTrip{Method: "store", Namespaces: []int16{0}}},
			{bobAddr, client.GuardTested{Method: "info", OK: true}},
		}, wantRPC: map[string]map[string]map[string]uint64{
			"desktop": {"get_swarm": {results.NoNamespace: 1}},
			"ios":     {"store": {"0": 1}, "info": {results.NoNamespace: 1}},
		}},
		{name: "a guard judged without a request is no request", steps: []step{
			{aliceAddr, client.GuardTested{OK: true}},
		}},
		{name: "a sent message's forwards are its sender's; others the owner's", steps: []step{
			{aliceAddr, client.MessageSent{Hash: "h1", To: bob}},
			{nodeAddr, node.ReplicationSent{Method: "store", Hash: "h1", Owner: bob}},
			{nodeAddr, node.ReplicationSent{Method: "store", Hash: "h1", Owner: bob, Attempt: 1}},
			{nodeAddr, node.ReplicationSent{Method: "expire", Owner: bob}},
			{nodeAddr, node.ReplicationSent{Method: "store", Hash: "h2", Owner: alice}},
			{nodeAddr, node.SwarmDataMoved{Messages: 3, Bytes: 900}},
		}, wantRPC: nil,
			wantCause: map[string]uint64{"store": 3, "expire": 1, results.ForwardSwarmChange: 1},
			wantByPl:  map[string]map[string]uint64{"desktop": {"store": 3}, "ios": {"expire": 1}}},
		{name: "a forward for no client's account is by cause only", steps: []step{
			{nodeAddr, node.ReplicationSent{Method: "delete", Owner: identity.Derive(1, "nobody").SessionID()}},
		}, wantCause: map[string]uint64{"delete": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.addClient(aliceAddr, alice, "desktop", true)
			c.addClient(bobAddr, bob, "ios", true)
			c.addNode(nodeAddr)
			for k, st := range tc.steps {
				c.Observe(time.Unix(1_700_000_000+int64(k), 0), st.from, st.event)
			}
			var s results.Summary
			c.fill(&s, true)
			assert.Equal(t, tc.wantRPC, s.RPCByMethod)
			assert.Equal(t, tc.wantCause, s.Traffic.ForwardsByCause)
			assert.Equal(t, tc.wantByPl, s.Traffic.ForwardsByPlatform)
		})
	}
}

// TestCollectorConfigTraffic checks how the collector counts config pushes and the expires
// polls carry: stored configs by namespace, the push's delete and each expire sent in the
// request mix, the expiries the nodes report moved, and nothing for a request never sent.
func TestCollectorConfigTraffic(t *testing.T) {
	alice := identity.Derive(1, "alice").SessionID()
	aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
	cases := []struct {
		name                 string
		events               []actor.Event
		wantStored, wantFail uint64
		wantByNS             map[string]uint64
		wantExpires, wantUpd uint64
		wantRPC              map[string]map[string]map[string]uint64
	}{
		{name: "pushes by namespace, a delete only when sent", events: []actor.Event{
			client.ConfigPushed{Stored: []int16{2}, Sizes: []int{256}, Sent: true},
			client.ConfigPushed{Stored: []int16{3, 4}, Sizes: []int{256, 256}, Deleted: 2, Sent: true},
			client.ConfigPushed{Failed: []int16{3}, Deleted: 1, DeleteFailed: true},
		}, wantStored: 3, wantFail: 1, wantByNS: map[string]uint64{"2": 1, "3": 1, "4": 1},
			wantRPC: map[string]map[string]map[string]uint64{"desktop": {"delete": {results.NoNamespace: 1}}}},
		{name: "expires sent, with the expiries moved", events: []actor.Event{
			client.ConfigExpiryResult{Hashes: 3, Sent: true, Status: 200, Members: 7, Updated: 21},
			client.ConfigExpiryResult{Hashes: 3, Sent: true, Status: 200, Members: 6},
			client.ConfigExpiryResult{Hashes: 3},
		}, wantExpires: 2, wantUpd: 21,
			wantRPC: map[string]map[string]map[string]uint64{"desktop": {"expire": {results.NoNamespace: 2}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.addClient(aliceAddr, alice, "desktop", true)
			for k, ev := range tc.events {
				c.Observe(time.Unix(1_700_000_000+int64(k), 0), aliceAddr, ev)
			}
			var s results.Summary
			c.fill(&s, true)
			assert.Equal(t, tc.wantStored, s.Store.ConfigMessages)
			assert.Equal(t, tc.wantFail, s.Store.ConfigMessagesFailed)
			assert.Equal(t, tc.wantByNS, s.Store.ConfigByNamespace)
			assert.Equal(t, tc.wantExpires, s.Traffic.ExpireRequests)
			assert.Equal(t, tc.wantUpd, s.Traffic.ConfigExpiryUpdates)
			assert.Equal(t, tc.wantRPC, s.RPCByMethod)
		})
	}
}

// TestSampleReplicationOfProbed: a sample over the probed messages leaves out one stored after
// the probe (it would count no copies, as no node was asked about it), and counts the others.
func TestSampleReplicationOfProbed(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	alice, bob := identity.Derive(1, "alice").SessionID(), identity.Derive(1, "bob").SessionID()
	aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
	nodeAddr := netip.MustParseAddrPort("10.1.0.1:22021")
	for _, tc := range []struct {
		name    string
		probed  map[string]bool
		wantMin float64
	}{
		{"every message", nil, 0},
		{"the probed one", map[string]bool{"old": true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.epoch = epoch
			c.addClient(aliceAddr, alice, "desktop", true)
			c.addNode(nodeAddr)
			for _, h := range []string{"old", "new"} {
				c.Observe(epoch, aliceAddr, client.MessageSent{Hash: h, To: bob})
				c.Observe(epoch, aliceAddr, client.StoreResult{Hash: h, To: bob, Attempts: 1, Failure: client.OK})
				c.Observe(epoch, nodeAddr, node.MessageStored{Hash: h, New: true})
			}
			c.sampleReplicationOf(time.Minute, tc.probed, func(_ int, h string) bool { return h == "old" })
			require.Len(t, c.timeline, 1)
			assert.Equal(t, tc.wantMin, c.timeline[0][1], "min copies")
		})
	}
}

// TestCollectorCopies: the collector keeps the nodes holding each message it follows, each node
// once, and nothing for the messages it does not follow (config messages, sync copies).
func TestCollectorCopies(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	alice, bob := identity.Derive(1, "alice").SessionID(), identity.Derive(1, "bob").SessionID()
	aliceAddr := netip.MustParseAddrPort("10.0.0.1:40000")
	nodes := []actor.Addr{netip.MustParseAddrPort("10.1.0.1:22021"), netip.MustParseAddrPort("10.1.0.2:22021")}
	stored := func(n int, h string, isNew bool) func(*collector) {
		return func(c *collector) { c.Observe(epoch, nodes[n], node.MessageStored{Hash: h, New: isNew}) }
	}
	for _, tc := range []struct {
		name   string
		events []func(*collector)
		want   map[string][]int32
	}{
		{"followed, on two nodes", []func(*collector){stored(0, "m", true), stored(1, "m", true)}, map[string][]int32{"m": {0, 1}}},
		{"stored again by the same node", []func(*collector){stored(1, "m", true), stored(1, "m", true)}, map[string][]int32{"m": {1}}},
		{"not new", []func(*collector){stored(0, "m", false)}, map[string][]int32{}},
		{"not followed", []func(*collector){stored(0, "config", true), stored(1, "m", true)}, map[string][]int32{"m": {1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.epoch = epoch
			c.addClient(aliceAddr, alice, "desktop", true)
			for _, n := range nodes {
				c.addNode(n)
			}
			c.Observe(epoch, aliceAddr, client.MessageSent{Hash: "m", To: bob})
			for _, ev := range tc.events {
				ev(c)
			}
			assert.Equal(t, tc.want, c.copies)
		})
	}
}
