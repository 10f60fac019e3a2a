package scenarios

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
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
