package scenarios

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/results"
)

// TestGroupsBuiltinWorld: the groups scenario's world has groups up to the apps' limit, a few
// of them at exactly 100 members, and every member of each group joined it.
func TestGroupsBuiltinWorld(t *testing.T) {
	for _, quick := range []bool{false, true} {
		sc, err := Load("groups", LoadOptions{Quick: quick})
		require.NoError(t, err)
		w, err := buildWorld(sc, nil, nil)
		require.NoError(t, err)
		require.NotEmpty(t, w.groups)
		full, memberships := 0, 0
		for _, wg := range w.groups {
			n := wg.g.Size()
			assert.LessOrEqual(t, n, client.MaxGroupSize)
			assert.GreaterOrEqual(t, n, min(sc.Workload.Groups.Size.Min, sc.Clients.Count))
			if n == client.MaxGroupSize {
				full++
			}
			memberships += n
			for _, id := range wg.g.Members() {
				assert.True(t, w.clients[w.col.clientByID[id]].c.InGroup(wg.g))
			}
			assert.Equal(t, w.clients[wg.admin].id, wg.g.Admin())
		}
		if !quick {
			assert.GreaterOrEqual(t, full, 2, "a few groups at the limit of 100 members")
		}
		assert.GreaterOrEqual(t, float64(memberships), sc.Workload.Groups.PerClient*float64(sc.Clients.Count))
		t.Logf("quick %v: %d groups, %d at 100 members, %d memberships", quick, len(w.groups), full, memberships)
	}
}

// TestPickGroupMembers: a group is its creator first, then distinct clients, the overlap share
// from the creator's contacts.
func TestPickGroupMembers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	contacts := []int{4, 5, 6, 7}
	cases := []struct {
		size         int
		overlap      float64
		fromContacts int
	}{
		{size: 5, overlap: 1, fromContacts: 4},
		{size: 9, overlap: 0.5, fromContacts: 4},
		{size: 5, overlap: 0.5, fromContacts: 2},
		{size: 30, overlap: 0, fromContacts: 0},
	}
	for _, tc := range cases {
		m := pickGroupMembers(2, tc.size, tc.overlap, contacts, 40, r)
		require.Len(t, m, tc.size)
		assert.Equal(t, 2, m[0], "the creator first")
		seen := map[int]bool{}
		for _, x := range m {
			assert.False(t, seen[x], "members are distinct")
			seen[x] = true
		}
		inContacts := 0
		for _, x := range m[1 : 1+tc.fromContacts] {
			assert.Contains(t, contacts, x)
			inContacts++
		}
		assert.Equal(t, tc.fromContacts, inContacts)
	}
}

// TestGroupsQuickDeterministic: two runs of the groups scenario shortened give identical
// summaries.
func TestGroupsQuickDeterministic(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc, err := Load("groups", LoadOptions{Quick: true})
	require.NoError(t, err)
	encode := func() []byte {
		s, err := Run(sc, RunOptions{Version: "test"})
		require.NoError(t, err)
		require.NotNil(t, s.Groups)
		b, err := json.Marshal(s)
		require.NoError(t, err)
		return b
	}
	first := encode()
	assert.Equal(t, string(first), string(encode()), "same seed, same summary, byte for byte")
}

// oneGroupWorld builds sc's world, which must hold exactly one group, and schedules its
// sessions, workload and group traffic as a run does; it returns the world and the group.
func oneGroupWorld(t *testing.T, sc Scenario) (*world, *worldGroup) {
	t.Helper()
	require.NoError(t, sc.Validate())
	w, err := buildWorld(sc, nil, nil)
	require.NoError(t, err)
	require.Len(t, w.groups, 1)
	w.scheduleTraffic()
	return w, w.groups[0]
}

// TestGroupRemovalEndToEnd is the test on the world: a group of 50 members whose admin
// removes one member mid-run; the removed member stops receiving after the key rotation (it
// decrypts nothing sent after it learned it was left out) and everyone else keeps receiving.
func TestGroupRemovalEndToEnd(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := tiny(t)
	sc.Clients.Count = 60
	sc.Workload.MessagesPerHour = 2
	sc.Workload.Groups = Groups{PerClient: 50.0 / 60, Size: SizeDist{Median: 50, Min: 50, Max: 50}, MessagesPerHour: 120}
	w, wg := oneGroupWorld(t, sc)
	require.Equal(t, 50, wg.g.Size())
	var victim *worldClient
	removeAt := sc.Warmup + sc.Duration/2
	rotated := w.epoch.Add(removeAt + 20*time.Second) // every member polls within 5 s
	lateReceipts := 0
	w.eng.AddSink(func(at time.Time, from actor.Addr, ev actor.Event) {
		if _, ok := ev.(client.MessageReceived); ok && victim != nil && from == victim.addr && at.After(rotated) {
			lateReceipts++
		}
	})
	w.eng.AfterFunc(removeAt, func() {
		admin := w.clients[wg.admin]
		victim = w.clients[w.col.clientByID[wg.g.Members()[1]]]
		require.NoError(t, w.eng.Invoke(admin.addr, func() { require.NoError(t, admin.c.RemoveGroupMember(wg.g, victim.id)) }))
	})
	w.eng.RunUntil(w.epoch.Add(sc.Warmup + sc.Duration + sc.Drain))
	require.NotNil(t, victim)
	assert.False(t, victim.c.InGroup(wg.g), "the key message told it it was removed")

	vi := w.col.clientByID[victim.id]
	assert.Zero(t, lateReceipts, "the removed member decrypts nothing once the key rotated")
	before, after := 0, 0
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		if rec.group == nil || rec.sender == vi {
			continue
		}
		o, _ := w.col.outcome(rec, true)
		assert.Equal(t, delivered, o, "every remaining member decrypted the message sent at %v", rec.sentAt.Sub(w.epoch))
		k := -1
		for j, i := range rec.group.recips {
			if int(i) == vi {
				k = j
			}
		}
		switch {
		case rec.sentAt.Before(w.epoch.Add(removeAt)):
			require.GreaterOrEqual(t, k, 0)
			if rec.group.got[k] != 0 {
				before++
			}
		case rec.sentAt.After(rotated):
			assert.Less(t, k, 0, "not a recipient after its removal")
			after++
		}
	}
	assert.Positive(t, before, "the member received while it was in the group")
	assert.Positive(t, after, "the group went on sending")
	assert.Equal(t, uint64(0), w.col.groups.removals-w.col.groups.rotations)
	assert.Equal(t, uint64(1), w.col.groups.rotations)
}

// TestCollectorGroupOutcomes: a group message is delivered when every other member decrypted
// it, its latency the last member's; lost when a member online since never did; pending when
// that member has been offline since before it was sent; a second decrypt is a duplicate.
func TestCollectorGroupOutcomes(t *testing.T) {
	const hash = "g1"
	epoch := time.Unix(1_700_000_000, 0)
	names := []string{"alice", "bob", "carol"}
	type step struct {
		at   int
		who  int // 1 bob, 2 carol
		what string
	}
	cases := []struct {
		name        string
		carolOnline bool
		steps       []step
		want        results.Messages
		wantMs      float64
		progress    uint64 // delivered as the progress reports count it while the run goes
	}{
		{"every member decrypted", true, []step{{2, 1, "recv"}, {5, 2, "recv"}}, results.Messages{Sent: 1, Delivered: 1}, 5000, 1},
		{"twice is a duplicate", true, []step{{2, 1, "recv"}, {3, 1, "recv"}, {4, 2, "recv"}}, results.Messages{Sent: 1, Delivered: 1, Duplicates: 1}, 4000, 1},
		{"a duplicate after every member", true, []step{{2, 1, "recv"}, {4, 2, "recv"}, {5, 2, "recv"}}, results.Messages{Sent: 1, Delivered: 1, Duplicates: 1}, 4000, 1},
		{"a member online never decrypted", true, []step{{2, 1, "recv"}}, results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, 0, 0},
		{"a member offline since before is not waited for", false, []step{{2, 1, "recv"}}, results.Messages{Sent: 1, Delivered: 1}, 2000, 0},
		{"every member offline since before", false, []step{{-1, 1, "offline"}}, results.Messages{Sent: 1, Pending: 1}, 0, 0},
		{"a member went offline after", true, []step{{1, 2, "offline"}, {2, 1, "recv"}}, results.Messages{Sent: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector()
			c.epoch = epoch
			var addrs []actor.Addr
			var ids []identity.ID
			for i, n := range names {
				addrs = append(addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 1))
				ids = append(ids, identity.Derive(1, n).SessionID())
				c.addClient(addrs[i], ids[i], "desktop", i != 2 || tc.carolOnline)
			}
			g, err := client.NewGroup(cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts), identity.Derive(1, "group"), ids[0])
			require.NoError(t, err)
			require.NoError(t, g.Add(ids[1]))
			require.NoError(t, g.Add(ids[2]))
			c.groups.addGroup(g)
			c.Observe(epoch, addrs[0], client.MessageSent{Hash: hash, To: g.ID(), Kind: client.KindGroup})
			c.Observe(epoch.Add(time.Second), addrs[0], client.StoreResult{Hash: hash, To: g.ID(), Attempts: 1})
			for _, st := range tc.steps {
				at := epoch.Add(time.Duration(st.at) * time.Second)
				switch st.what {
				case "recv":
					c.Observe(at, addrs[st.who], client.MessageReceived{Hash: hash, From: ids[0], Namespace: 11})
				case "offline":
					c.setOnline(st.who, false, at)
				}
			}
			assert.Equal(t, tc.progress, c.delivered, "delivered so far, for progress")
			s := results.Summary{VirtualSeconds: 60}
			c.fill(&s, true)
			assert.Equal(t, tc.want, s.Messages)
			require.Contains(t, s.MessagesByKind, "group")
			require.Contains(t, s.MessagesByGroupSize, "2-10")
			perSize := tc.want
			perSize.Duplicates = 0 // counted in the totals only, as for messages_by_kind
			assert.Equal(t, perSize, s.MessagesByGroupSize["2-10"].Messages)
			if tc.wantMs > 0 {
				assert.Equal(t, tc.wantMs, s.MessagesByKind["group"].EndToEndMs.Max, "the last member's latency")
			}
			require.NotNil(t, s.Groups)
			assert.Equal(t, 1, s.Groups.Count)
			assert.EqualValues(t, 3, s.Groups.MembersMean)
		})
	}
}

// TestCollectorGroupAddedMember: a member added after a message was sent is not owed it (its
// decrypting the group's history is not counted), and is owed every message sent after.
func TestCollectorGroupAddedMember(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	for _, daveGets := range []bool{true, false} {
		c := newCollector()
		c.epoch = epoch
		var addrs []actor.Addr
		var ids []identity.ID
		for i, n := range []string{"alice", "bob", "dave"} {
			addrs = append(addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 1))
			ids = append(ids, identity.Derive(1, n).SessionID())
			c.addClient(addrs[i], ids[i], "desktop", true)
		}
		g, err := client.NewGroup(cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts), identity.Derive(1, "group"), ids[0])
		require.NoError(t, err)
		require.NoError(t, g.Add(ids[1]))
		c.groups.addGroup(g)
		send := func(hash string, at time.Time) {
			c.Observe(at, addrs[0], client.MessageSent{Hash: hash, To: g.ID(), Kind: client.KindGroup})
			c.Observe(at.Add(time.Second), addrs[0], client.StoreResult{Hash: hash, To: g.ID(), Attempts: 1})
		}
		recv := func(who int, hash string, at time.Time) {
			c.Observe(at, addrs[who], client.MessageReceived{Hash: hash, From: ids[0], Namespace: 11})
		}
		send("before", epoch)
		require.NoError(t, g.Add(ids[2]))
		c.Observe(epoch.Add(2*time.Second), addrs[0], client.GroupMemberAdded{Group: g.ID(), Member: ids[2], Members: 3, Size: 300})
		send("after", epoch.Add(3*time.Second))
		recv(1, "before", epoch.Add(4*time.Second))
		recv(1, "after", epoch.Add(5*time.Second))
		recv(2, "before", epoch.Add(6*time.Second)) // history: not owed
		if daveGets {
			recv(2, "after", epoch.Add(7*time.Second))
		}
		assert.Equal(t, []int32{1}, c.messages["before"].group.recips, "dave was not a member when it was sent")
		assert.Equal(t, []int32{1, 2}, c.messages["after"].group.recips)
		s := results.Summary{VirtualSeconds: 60}
		c.fill(&s, true)
		if daveGets {
			assert.Equal(t, results.Messages{Sent: 2, Delivered: 2}, s.Messages)
			assert.Equal(t, 7000.0-3000, s.MessagesByKind["group"].EndToEndMs.Max, "the later message waited for dave")
		} else {
			assert.Equal(t, results.Messages{Sent: 2, Delivered: 1, Lost: 1, LostByCause: map[string]uint64{"stored-not-received": 1}}, s.Messages)
		}
		require.NotNil(t, s.Groups)
		assert.EqualValues(t, 1, s.Groups.Additions)
	}
}

// TestGroupAdditionEndToEnd: an admin adds a member mid-run (the world's draw); the new member
// opens the key supplement and decrypts every message sent after it joined, and is no recipient
// of those sent before.
func TestGroupAdditionEndToEnd(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := tiny(t)
	sc.Clients.Count = 30
	sc.Workload.MessagesPerHour = 2
	sc.Workload.Groups = Groups{PerClient: 10.0 / 30, Size: SizeDist{Median: 10, Min: 10, Max: 10}, MessagesPerHour: 120, Overlap: 0.5}
	w, wg := oneGroupWorld(t, sc)
	addAt := sc.Warmup + sc.Duration/2
	added := -1
	w.eng.AfterFunc(addAt, func() { added = w.addGroupMember(wg, rand.New(rand.NewPCG(1, 2))) })
	w.eng.RunUntil(w.epoch.Add(sc.Warmup + sc.Duration + sc.Drain))
	require.GreaterOrEqual(t, added, 0, "the admin was online and the group not full")
	require.Equal(t, 11, wg.g.Size())
	assert.True(t, w.clients[added].c.InGroup(wg.g))
	assert.EqualValues(t, 1, w.col.groups.additions)
	before, after := 0, 0
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		if rec.group == nil {
			continue
		}
		o, _ := w.col.outcome(rec, true)
		assert.Equal(t, delivered, o, "message sent at %v", rec.sentAt.Sub(w.epoch))
		k := slices.Index(rec.group.recips, int32(added))
		switch {
		case rec.sentAt.Before(w.epoch.Add(addAt)):
			assert.Less(t, k, 0, "not a recipient before it was added")
			before++
		case rec.sender != added:
			require.GreaterOrEqual(t, k, 0, "a recipient once added")
			assert.NotZero(t, rec.group.got[k], "the new member decrypted the message sent at %v", rec.sentAt.Sub(w.epoch))
			after++
		}
	}
	assert.Positive(t, before)
	assert.Positive(t, after)
}
