package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
)

// TestGroupPollCadence: each platform's current app polls a group at its own cadence by the
// time since the group was last active.
func TestGroupPollCadence(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		platform client.Platform
		since    time.Duration
		want     time.Duration
	}{
		{client.Desktop, 0, 5 * time.Second},
		{client.Desktop, 47 * time.Hour, 5 * time.Second},
		{client.Desktop, 2 * day, 60 * time.Second},
		{client.Desktop, 6 * day, 60 * time.Second},
		{client.Desktop, 7 * day, 120 * time.Second},
		{client.Desktop, 30 * day, 120 * time.Second},
		{client.IOS, 0, 3 * time.Second},
		{client.IOS, 6 * time.Hour, 16500 * time.Millisecond},
		{client.IOS, 12 * time.Hour, 30 * time.Second},
		{client.IOS, 3 * day, 30 * time.Second},
		{client.Android, 0, 3 * time.Second},
		{client.Android, 30 * day, 3 * time.Second},
	}
	for _, tc := range cases {
		got := client.DefaultNetProfile(tc.platform).GroupPoll.Interval(tc.since)
		assert.Equal(t, tc.want, got, "%v, last active %v ago", tc.platform, tc.since)
	}
	// Every profile has a group cadence, the 2024 Android app's included.
	for _, p := range []client.Platform{client.Desktop, client.IOS, client.Android} {
		for _, name := range client.ProfileNames(p) {
			np, err := client.ParseNetProfile(p, name)
			require.NoError(t, err)
			assert.Positive(t, np.GroupPoll.Interval(time.Hour), name)
		}
	}
}

// TestNetworkGroupRemoval is the test: in a group of 50 members, one member removed
// mid-run stops receiving after the key rotation and everyone else keeps receiving. Modeled
// crypto keeps 50 clients' onion traffic within a few seconds; the group keys and messages
// are encrypted for real in both modes (XChaCha20-Poly1305 runs for real), so the removed
// member fails for lack of the key.
func TestNetworkGroupRemoval(t *testing.T) {
	const members = 50
	platforms := make([]client.Platform, members)
	for i := range platforms {
		platforms[i] = []client.Platform{client.Desktop, client.IOS, client.Android}[i%3]
	}
	suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	sn := newSimNet(t, 20, platforms, cryptomode.Modeled)
	g, err := client.NewGroup(suite, identity.Derive(netSeed, "group"), sn.clients[0].ID())
	require.NoError(t, err)
	for _, c := range sn.clients[1:] {
		require.NoError(t, g.Add(c.ID()))
	}
	require.Equal(t, members, g.Size())
	require.Error(t, g.Add(sn.clients[3].ID()), "a member joins once")
	for k, c := range sn.clients {
		sn.do(k, func() { require.NoError(t, c.JoinGroup(g)) })
	}
	sn.Engine.RunFor(30 * time.Second)

	senders := []int{0, 11, 25, 40}
	sendAll := func() []string {
		before := len(netEvents[client.MessageSent](sn, actor.Addr{}))
		for _, k := range senders {
			sn.do(k, func() { require.NoError(t, sn.clients[k].SendGroup(g, 80)) })
		}
		sn.Engine.RunFor(40 * time.Second)
		var hashes []string
		for _, s := range netEvents[client.MessageSent](sn, actor.Addr{})[before:] {
			assert.Equal(t, client.KindGroup, s.Kind)
			assert.Equal(t, g.ID(), s.To)
			hashes = append(hashes, s.Hash)
		}
		return hashes
	}
	receivers := func(hash string) map[int]bool {
		got := map[int]bool{}
		for _, k := range sn.delivered()[hash] {
			got[k] = true
		}
		return got
	}

	before := sendAll()
	require.Len(t, before, len(senders))
	for j, h := range before {
		got := receivers(h)
		for k := range sn.clients {
			assert.Equal(t, k != senders[j], got[k], "message %d before the removal, member %d", j, k)
		}
	}

	const removed = 7
	sn.do(0, func() { require.NoError(t, sn.clients[0].RemoveGroupMember(g, sn.clients[removed].ID())) })
	sn.Engine.RunFor(40 * time.Second)
	rk := netEvents[client.GroupRekeyed](sn, actor.Addr{})
	require.Len(t, rk, 1)
	assert.Equal(t, client.OK, rk[0].Failure)
	assert.EqualValues(t, 1, rk[0].Generation)
	assert.Equal(t, sn.clients[removed].ID(), rk[0].Removed)
	assert.Equal(t, message.GroupKeysSize(1, members-1), rk[0].Size, "a key entry for each of the 49 remaining members, padded to 75")
	assert.False(t, g.IsMember(sn.clients[removed].ID()))
	assert.False(t, sn.clients[removed].InGroup(g), "the key message told the removed member it was left out")
	assert.True(t, sn.clients[1].InGroup(g))

	after := sendAll()
	require.Len(t, after, len(senders))
	for j, h := range after {
		got := receivers(h)
		for k := range sn.clients {
			assert.Equal(t, k != senders[j] && k != removed, got[k], "message %d after the removal, member %d", j, k)
		}
	}
	var sendErr error
	sn.do(removed, func() { sendErr = sn.clients[removed].SendGroup(g, 10) })
	assert.Error(t, sendErr, "a removed member cannot send to the group")
	for _, gb := range netEvents[client.GarbageReceived](sn, actor.Addr{}) {
		t.Errorf("garbage: %v", gb.Kind)
	}
}

// TestNetworkGroupAddition: the admin adds a member, storing a key supplement of the exact size
// libsession's carries (every key generation the group had, for the one new member); the new
// member holds no key until it opens the supplement, then decrypts the messages sent after it
// joined, and the group's key generation stays as it was (no rekey on an addition).
func TestNetworkGroupAddition(t *testing.T) {
	platforms := []client.Platform{client.Desktop, client.IOS, client.Android, client.Desktop}
	suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	sn := newSimNet(t, 12, platforms, cryptomode.Modeled)
	g, err := client.NewGroup(suite, identity.Derive(netSeed, "group"), sn.clients[0].ID())
	require.NoError(t, err)
	for _, c := range sn.clients[1:3] {
		require.NoError(t, g.Add(c.ID()))
	}
	for k, c := range sn.clients[:3] {
		sn.do(k, func() { require.NoError(t, c.JoinGroup(g)) })
	}
	sn.Engine.RunFor(30 * time.Second)
	// A removal first, so that the supplement carries two generations.
	sn.do(0, func() { require.NoError(t, sn.clients[0].RemoveGroupMember(g, sn.clients[2].ID())) })
	sn.Engine.RunFor(20 * time.Second)
	require.EqualValues(t, 1, g.Generation())

	const added = 3
	newbie := sn.clients[added]
	var addErr error
	sn.do(0, func() { addErr = sn.clients[0].AddGroupMember(g, newbie.ID()) })
	require.NoError(t, addErr)
	sn.do(added, func() { require.NoError(t, newbie.JoinGroupInvited(g)) })
	var sendErr error
	sn.do(added, func() { sendErr = newbie.SendGroup(g, 10) })
	assert.Error(t, sendErr, "no key before the supplement")
	sn.do(0, func() {
		assert.Error(t, sn.clients[0].AddGroupMember(g, sn.clients[2].ID()), "a removed member is not added again")
	})
	sn.Engine.RunFor(20 * time.Second)

	ev := netEvents[client.GroupMemberAdded](sn, actor.Addr{})
	require.Len(t, ev, 1)
	assert.Equal(t, client.OK, ev[0].Failure)
	assert.Equal(t, newbie.ID(), ev[0].Member)
	assert.Equal(t, 3, ev[0].Members)
	keys := []message.GroupGenKey{{Generation: 0, Key: make([]byte, 32), IssuedMs: 1e12}, {Generation: 1, Key: make([]byte, 32), IssuedMs: 1e12}}
	assert.Equal(t, message.GroupKeySupplementSize(keys, 1), ev[0].Size, "two generations for one member")
	assert.EqualValues(t, 1, g.Generation(), "an addition issues no new key")
	assert.Len(t, netEvents[client.GroupRekeyed](sn, actor.Addr{}), 1, "only the removal's rekey")

	before := len(netEvents[client.MessageSent](sn, actor.Addr{}))
	sn.do(1, func() { require.NoError(t, sn.clients[1].SendGroup(g, 40)) })
	sn.do(added, func() { require.NoError(t, newbie.SendGroup(g, 40)) })
	sn.Engine.RunFor(30 * time.Second)
	sent := netEvents[client.MessageSent](sn, actor.Addr{})[before:]
	require.Len(t, sent, 2)
	got := sn.delivered()
	assert.Contains(t, got[sent[0].Hash], added, "the new member decrypted the message sent after it joined")
	assert.Contains(t, got[sent[1].Hash], 0, "the admin decrypted the new member's message")
	assert.Contains(t, got[sent[1].Hash], 1)
	for _, gb := range netEvents[client.GarbageReceived](sn, actor.Addr{}) {
		t.Errorf("garbage: %v", gb.Kind)
	}
}
