package leakage

import (
	"testing"
	"time"
	"unsafe"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackedRecordsReadBack records each kind of hop and a request through the Recorder and
// reads every field back: the packed fields keep what the event said.
func TestPackedRecordsReadBack(t *testing.T) {
	s := newSynthetic(8, 3)
	tb := s.r.T
	cl := tb.Clients[1]
	other := tb.Clients[2]
	arrived := s.epoch.Add(1500 * time.Millisecond)
	done := s.epoch.Add(time.Hour + 7*time.Nanosecond)
	type want struct {
		role                 node.HopRole
		guard, store         bool
		prevNode, prevClient int32
		next                 int32
		accounts             []int32
		method               string
		hopNo                uint8
		bytesIn, bytesOut    uint32
	}
	for _, tc := range []struct {
		name string
		ev   node.OnionHop
		at   int // node index of the reporting node
		want want
	}{
		{"guard relay", node.OnionHop{From: cl.Addr.Addr(), Arrived: arrived, HopNo: 0, Guard: true, Role: node.HopRelay,
			Next: tb.Nodes[4].Ed25519, BytesIn: 70_000, BytesOut: 3_000_000_000},
			3, want{role: node.HopRelay, guard: true, prevNode: -1, prevClient: 1, next: 4, hopNo: 0, bytesIn: 70_000, bytesOut: 3_000_000_000}},
		{"guard from an unknown address", node.OnionHop{From: tb.Nodes[0].Addr.Addr(), Arrived: arrived, Guard: true, Role: node.HopRelay,
			Next: [32]byte{9, 9}},
			3, want{role: node.HopRelay, guard: true, prevNode: -1, prevClient: -1, next: -1}},
		{"middle relay", node.OnionHop{From: tb.Nodes[3].Addr.Addr(), Arrived: arrived, HopNo: 1, Role: node.HopRelay, Next: tb.Nodes[5].Ed25519},
			4, want{role: node.HopRelay, prevNode: 3, prevClient: -1, next: 5, hopNo: 1}},
		{"destination storing for two accounts", node.OnionHop{From: tb.Nodes[5].Addr.Addr(), Arrived: arrived, HopNo: 3, Role: node.HopDestination,
			Method: "batch", Accounts: [][33]byte{[33]byte(other.ID), [33]byte(cl.ID), [33]byte(other.ID)}, Sizes: []int{0, 120}},
			6, want{role: node.HopDestination, store: true, prevNode: 5, prevClient: -1, next: -1, accounts: []int32{2, 1}, method: "batch", hopNo: 3}},
		{"destination polling", node.OnionHop{From: tb.Nodes[5].Addr.Addr(), Arrived: arrived, HopNo: 3, Role: node.HopDestination,
			Method: "retrieve", Accounts: [][33]byte{[33]byte(cl.ID)}, Sizes: []int{0}},
			6, want{role: node.HopDestination, prevNode: 5, prevClient: -1, next: -1, accounts: []int32{1}, method: "retrieve", hopNo: 3}},
		{"failed hop", node.OnionHop{From: tb.Nodes[4].Addr.Addr(), Arrived: arrived, HopNo: 300, Role: node.HopFailed},
			5, want{role: node.HopFailed, prevNode: 4, prevClient: -1, next: -1, hopNo: 255}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.r.Observe(done, tb.Nodes[tc.at].Addr, tc.ev)
			h := &s.r.Hop[len(s.r.Hop)-1]
			assert.Equal(t, time.Hour+7*time.Nanosecond, h.At)
			assert.Equal(t, 1500*time.Millisecond, h.Arrived)
			assert.Equal(t, int32(tc.at), h.Node)
			assert.Equal(t, tc.want.role, h.Role())
			assert.Equal(t, tc.want.guard, h.Guard())
			assert.Equal(t, tc.want.store, h.Store())
			assert.Equal(t, tc.want.prevNode, h.PrevNode())
			assert.Equal(t, tc.want.prevClient, h.PrevClient())
			assert.Equal(t, tc.want.next, h.Next())
			assert.Equal(t, tc.want.hopNo, h.HopNo)
			assert.Equal(t, tc.want.bytesIn, h.BytesIn)
			assert.Equal(t, tc.want.bytesOut, h.BytesOut)
			if tc.want.accounts == nil {
				assert.Empty(t, s.r.Accounts(h.Accounts()))
			} else {
				assert.Equal(t, tc.want.accounts, s.r.Accounts(h.Accounts()))
				assert.Equal(t, tc.want.method, s.r.Method(h.Method))
			}
		})
	}

	path := []int32{3, 4, 5}
	s.r.Observe(done, cl.Addr, client.OnionRoundTrip{Method: "store", Guard: tb.Nodes[3].Addr, Dest: tb.Nodes[6].Addr, RTT: 250 * time.Millisecond,
		Path: []actor.Addr{tb.Nodes[3].Addr, tb.Nodes[4].Addr, tb.Nodes[5].Addr}, Account: identity.ID(other.ID), Size: 1234, Failure: client.FailRejected})
	o := &s.r.Onion[len(s.r.Onion)-1]
	assert.Equal(t, time.Hour+7*time.Nanosecond-250*time.Millisecond, o.Sent)
	assert.Equal(t, time.Hour+7*time.Nanosecond, o.Done)
	assert.Equal(t, path, s.r.Hops(o.Path()))
	assert.Equal(t, []int32{1, 6, 2}, []int32{o.Client, o.Dest, o.Account})
	assert.Equal(t, uint32(1234), o.Size)
	assert.Equal(t, "store", s.r.Method(o.Method))
	assert.True(t, o.Reached())

	// The sizes the recorder's memory figure rests on.
	require.Equal(t, uintptr(40), unsafe.Sizeof(HopRecord{}))
	require.Equal(t, uintptr(40), unsafe.Sizeof(OnionRecord{}))
}

// TestSortByTime: records observed a little out of order (as live mode's sinks may get them)
// come out in time order, those at the same time in the order observed, and each keeps its
// own spans of accounts and hops.
func TestSortByTime(t *testing.T) {
	s := newSynthetic(8, 3)
	tb := s.r.T
	at := func(ms int) time.Time { return s.epoch.Add(time.Duration(ms) * time.Millisecond) }
	dest := func(hop, c int) node.OnionHop {
		return node.OnionHop{From: tb.Nodes[5].Addr.Addr(), Arrived: s.epoch, HopNo: hop, Role: node.HopDestination,
			Method: "retrieve", Accounts: [][33]byte{[33]byte(tb.Clients[c].ID)}, Sizes: []int{0}}
	}
	s.r.Observe(at(30), tb.Nodes[6].Addr, dest(1, 0))
	s.r.Observe(at(10), tb.Nodes[6].Addr, dest(2, 1))
	s.r.Observe(at(20), tb.Nodes[6].Addr, dest(3, 2))
	s.r.Observe(at(10), tb.Nodes[6].Addr, dest(4, 0))
	trip := func(ms int, guard int) {
		s.r.Observe(at(ms), tb.Clients[0].Addr, client.OnionRoundTrip{Path: []actor.Addr{tb.Nodes[guard].Addr, tb.Nodes[7].Addr},
			Dest: tb.Nodes[7].Addr, RTT: time.Millisecond, Method: "retrieve"})
	}
	trip(50, 1)
	trip(40, 2)
	s.r.SortByTime()

	var hops []uint8
	var owners []int32
	for i := range s.r.Hop {
		h := &s.r.Hop[i]
		hops = append(hops, h.HopNo)
		owners = append(owners, s.r.Accounts(h.Accounts())...)
	}
	assert.Equal(t, []uint8{2, 4, 3, 1}, hops, "by time, ties as observed")
	assert.Equal(t, []int32{1, 0, 2, 0}, owners, "each hop keeps its accounts")
	require.Len(t, s.r.Onion, 2)
	assert.Equal(t, 40*time.Millisecond, s.r.Onion[0].Done)
	assert.Equal(t, []int32{2, 7}, s.r.Hops(s.r.Onion[0].Path()), "and its path")
	assert.Equal(t, []int32{1, 7}, s.r.Hops(s.r.Onion[1].Path()))
}
