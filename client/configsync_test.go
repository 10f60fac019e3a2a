package client

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

const day = 24 * time.Hour

// TestPaddedConfigSize checks libsession's padding steps (include/session/config/encrypt.hpp,
// padded_size) on the stored size: the serialized config plus 40 bytes of nonce and tag, up to
// the next step.
func TestPaddedConfigSize(t *testing.T) {
	for _, tc := range []struct{ plain, want int }{
		{0, 256},
		{216, 256},
		{217, 512},
		{5079, 5120},
		{5080, 5120},
		{5081, 6144},
		{20440, 20480},
		{20441, 22528},
		{40960, 46080},
	} {
		assert.Equal(t, tc.want, paddedConfigSize(tc.plain), "%d serialized bytes", tc.plain)
	}
}

// pushesOf are the config pushes of the client of env e, with when they were observed.
func pushesOf(log actortest.Log, e *actortest.Env) (out []ConfigPushed, at []time.Time) {
	for _, o := range log {
		if p, ok := o.Event.(ConfigPushed); ok && o.From == e.Self() {
			out = append(out, p)
			at = append(at, o.At)
		}
	}
	return out, at
}

// TestConfigPushes checks when a client stores its config messages: the profile when the app
// first opens, the contacts and conversation configs when a conversation starts or a message
// is read, at most one push per configSyncEvery, each message replacing (and the next push
// deleting) the one before.
func TestConfigPushes(t *testing.T) {
	type step struct {
		at time.Duration // after the 10 s bootstrap
		to string        // alice writes to this new contact
	}
	cases := []struct {
		name  string
		sends []step
		// wantAlice and wantBob are the namespaces of each push, in order.
		wantAlice [][]int16
		wantBob   [][]int16
	}{
		{"profile only, when the app opens", nil, [][]int16{{2}}, [][]int16{{2}}},
		{"a conversation adds a contact and an entry, a read message moves the entry",
			[]step{{0, "bob"}}, [][]int16{{2}, {3, 4}}, [][]int16{{2}, {3, 4}}},
		{"changes within one push interval go out together",
			[]step{{0, "bob"}, {time.Second, "carol"}}, [][]int16{{2}, {3, 4}}, [][]int16{{2}, {3, 4}}},
		{"a change soon after a push waits for the interval",
			[]step{{0, "bob"}, {4 * time.Second, "carol"}, {20 * time.Second, "dave"}},
			[][]int16{{2}, {3, 4}, {3, 4}, {3, 4}}, [][]int16{{2}, {3, 4}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			drv, f, alice, ea, bob, eb := twoClients(t, Desktop, Desktop, nil)
			start := drv.Now()
			for _, s := range tc.sends {
				drv.RunFor(start.Add(s.at).Sub(drv.Now()))
				to := bob.ID()
				if s.to != "bob" {
					to = identity.Derive(1, s.to).SessionID()
				}
				ea.Do(func() { alice.Send(to, 40) })
			}
			drv.RunFor(time.Minute)

			for _, who := range []struct {
				c    *Client
				e    *actortest.Env
				want [][]int16
			}{{alice, ea, tc.wantAlice}, {bob, eb, tc.wantBob}} {
				pushes, at := pushesOf(drv.Events, who.e)
				var got [][]int16
				pushed := map[int16]bool{}
				for k, p := range pushes {
					assert.True(t, p.Sent)
					assert.Empty(t, p.Failed)
					got = append(got, p.Stored)
					for j, ns := range p.Stored {
						assert.Equal(t, who.c.configSize(storagerpc.Namespace(ns)) > 0, p.Sizes[j] > 0)
						assert.Zero(t, p.Sizes[j]%256, "padded to 256 bytes")
					}
					if k > 0 {
						assert.GreaterOrEqual(t, at[k].Sub(at[k-1]), configSyncEvery, "push %d", k)
					}
					// A push deletes the messages it replaces.
					replaced := 0
					for _, ns := range p.Stored {
						if pushed[ns] {
							replaced++
						}
						pushed[ns] = true
					}
					assert.Equal(t, replaced, p.Deleted, "push %d", k)
					assert.False(t, p.DeleteFailed)
				}
				assert.Equal(t, who.want, got)
				// The swarm holds the current message of each config, no superseded one.
				for k, ns := range configNamespaces {
					held := f.msgs[pubkeyOf(who.c.ID()).Hex()+"/"+strconv.Itoa(int(ns))]
					if who.c.cfgs.hash[k] == "" {
						assert.Empty(t, held, "namespace %d", ns)
						continue
					}
					require.Len(t, held, 1, "namespace %d", ns)
					assert.Equal(t, who.c.cfgs.hash[k], held[0].Hash)
				}
			}
		})
	}
}

// TestTTLByKind checks the TTL each kind of stored message carries, as session-desktop's
// TTL_DEFAULT sets them: 14 days for a 1:1 message and its sync copy, 30 days for config
// messages, which are signed stores.
func TestTTLByKind(t *testing.T) {
	want := map[string]time.Duration{"message": 14 * day, "sync copy": 14 * day, "config": 30 * day}
	for _, p := range []Platform{Desktop, IOS, Android} {
		t.Run(p.String(), func(t *testing.T) {
			drv, f, alice, ea, bob, _ := twoClients(t, p, p, nil)
			seen := map[string]int{}
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				s, ok := r.(*storagerpc.Store)
				if !ok || s.Pubkey != pubkeyOf(alice.ID()) && s.Pubkey != pubkeyOf(bob.ID()) {
					return 0, nil, false
				}
				kind := "config"
				switch {
				case s.Namespace != 0:
					assert.True(t, s.Signed, "config stores are signed")
				case s.Pubkey == pubkeyOf(bob.ID()) && s.Namespace == 0:
					kind = "message"
				default:
					kind = "sync copy"
				}
				seen[kind]++
				assert.True(t, s.HasTTL)
				assert.Equal(t, want[kind].Milliseconds(), s.TTL, kind)
				return 0, nil, false
			}
			ea.Do(func() { alice.Send(bob.ID(), 40) })
			drv.RunFor(time.Minute)
			for kind := range want {
				assert.Positive(t, seen[kind], kind)
			}
		})
	}
}

// observedExpire is a poll's expire as a node received it.
type observedExpire struct {
	at    time.Time
	index int // its place in the poll's batch
	of    int // the batch's size
	req   *storagerpc.Expire
}

// TestPollCarriesConfigExpiry checks each app's expire: none before a config is stored, then in
// every poll, for the current config hashes, to now + the app's extension, in its mode and
// place; the nodes' answers say whether the expiry moved (Android's 14 days never pass the 30
// days a fresh config message has left).
func TestPollCarriesConfigExpiry(t *testing.T) {
	cases := []struct {
		profile string
		extend  time.Duration
		mode    storagerpc.ExpireMode
		first   bool
		moves   bool
	}{
		// session-desktop retrieveRequest.ts: now + 30 days, neither extend nor shorten, last.
		{"desktop-2026", 30 * day, storagerpc.ExpireSet, false, true},
		// session-android Poller.kt: now + 14 days, extend, last.
		{"android-2026", 14 * day, storagerpc.ExpireExtend, false, false},
		// session-ios StorageServerAPI.swift: now + 30 days, extendOnly, first.
		{"ios-2026", 30 * day, storagerpc.ExpireExtend, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			np := profileNamed(t, tc.profile)
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			var polls int
			var exps []observedExpire
			var c *Client
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				b, ok := r.(*storagerpc.Batch)
				if !ok || !slices.ContainsFunc(b.Requests, func(s storagerpc.Request) bool { _, ok := s.(*storagerpc.Retrieve); return ok }) {
					return 0, nil, false
				}
				polls++
				for k, s := range b.Requests {
					if e, ok := s.(*storagerpc.Expire); ok {
						exps = append(exps, observedExpire{at: f.now(), index: k, of: len(b.Requests), req: e})
					}
				}
				return 0, nil, false
			}
			c, _ = newTestClient(t, drv, f, "alice", np.Platform, useProfile(np))
			drv.RunFor(40 * time.Second)

			pushes := actortest.EventsOf[ConfigPushed](drv.Events)
			require.Len(t, pushes, 1, "the profile")
			require.NotEmpty(t, exps)
			assert.Less(t, len(exps), polls, "no expire before the profile is stored")
			for _, e := range exps {
				assert.Equal(t, []string{c.cfgs.hash[0]}, e.req.Messages)
				assert.Equal(t, tc.mode, e.req.Mode)
				require.Len(t, e.req.Expiries, 1)
				assert.InDelta(t, e.at.Add(tc.extend).UnixMilli(), e.req.Expiries[0], 1000, "now + %v", tc.extend)
				want := e.of - 1
				if tc.first {
					want = 0
				}
				assert.Equal(t, want, e.index, "place in the batch")
			}
			res := actortest.EventsOf[ConfigExpiryResult](drv.Events)
			require.NotEmpty(t, res)
			var updated int
			for _, r := range res {
				assert.True(t, r.Sent)
				assert.Equal(t, 200, r.Status)
				assert.Equal(t, 1, r.Members, "the fake swarm answers as one member")
				updated += r.Updated
			}
			assert.Equal(t, tc.moves, updated > 0, "%d expiries moved", updated)
		})
	}
}

// TestStoreRetry checks how each app tries a refused store again: the desktop 3 times 100 ms
// apart, each a sequence; the phones 3 times, 1 s then 2 s apart, in a batch.
func TestStoreRetry(t *testing.T) {
	cases := []struct {
		profile  string
		method   string
		attempts int
		waits    []time.Duration
	}{
		// session-desktop MessageSender.ts sendSingleMessage.
		{"desktop-2026", "sequence", 3, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
		{"android-2026", "batch", 3, []time.Duration{time.Second, 2 * time.Second}},
		{"ios-2026", "batch", 3, []time.Duration{time.Second, 2 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			np := profileNamed(t, tc.profile)
			drv, f, alice, ea, bob, _ := twoClients(t, np.Platform, Desktop, useProfile(np))
			var methods []string
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				toBob := func(r storagerpc.Request) bool {
					s, ok := r.(*storagerpc.Store)
					return ok && s.Pubkey == pubkeyOf(bob.ID()) && s.Namespace == 0
				}
				if b, ok := r.(*storagerpc.Batch); ok && toBob(b.Requests[0]) {
					methods = append(methods, b.Method())
				}
				if toBob(r) {
					return 400, []byte(`"refused"`), true
				}
				return 0, nil, false
			}
			ea.Do(func() { alice.Send(bob.ID(), 40) })
			drv.RunFor(time.Minute)

			res := actortest.EventsOf[StoreResult](drv.Events)
			require.Len(t, res, 1)
			assert.Equal(t, FailRejected, res[0].Failure)
			assert.Equal(t, tc.attempts, res[0].Attempts)
			assert.Len(t, methods, tc.attempts)
			for _, m := range methods {
				assert.Equal(t, tc.method, m)
			}
			// Each wait runs from one attempt's answer to the next attempt's sending.
			var sent, answered []time.Time
			for _, o := range drv.Events {
				if rt, ok := o.Event.(OnionRoundTrip); ok && rt.Method == "store" && rt.Account == bob.ID() && o.From == ea.Self() {
					sent = append(sent, o.At.Add(-rt.RTT))
					answered = append(answered, o.At)
				}
			}
			require.Len(t, sent, tc.attempts)
			for k, w := range tc.waits {
				assert.InDelta(t, float64(w), float64(sent[k+1].Sub(answered[k])), float64(10*time.Millisecond), "wait %d", k+1)
			}
		})
	}
}

// TestConfigPushRetried checks that a config store a node refuses goes out again a sync
// interval later, and that the messages a refused delete named are deleted by the next push.
func TestConfigPushRetried(t *testing.T) {
	cases := []struct {
		name      string
		refuse    string // the subrequest the node refuses once
		wantTries int    // pushes of the profile
	}{
		{"a refused store", "store", 2},
		{"a refused delete", "delete", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			refused := false
			var alice *Client
			f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
				if refused || alice == nil || r.Method() != tc.refuse {
					return 0, nil, false
				}
				if s, ok := r.(*storagerpc.Store); ok && s.Pubkey != pubkeyOf(alice.ID()) {
					return 0, nil, false
				}
				refused = true
				return 500, []byte(`"request failed"`), true
			}
			alice, ea := newTestClient(t, drv, f, "alice", Desktop, nil)
			drv.RunFor(10 * time.Second)
			// Conversations 10 s apart: each push replaces, and deletes, the one before; a
			// refused delete is sent again with the next push.
			for _, name := range []string{"bob", "carol", "dave"} {
				ea.Do(func() { alice.Send(identity.Derive(1, name).SessionID(), 40) })
				drv.RunFor(10 * time.Second)
			}
			drv.RunFor(20 * time.Second)
			require.True(t, refused)

			pushes, at := pushesOf(drv.Events, ea)
			tries := 0
			for k, p := range pushes {
				if slices.Contains(p.Stored, 2) || slices.Contains(p.Failed, 2) {
					tries++
				}
				if len(p.Failed) > 0 {
					require.Greater(t, len(pushes), k+1)
					assert.GreaterOrEqual(t, at[k+1].Sub(at[k]), configSyncEvery, "retried after the interval")
				}
			}
			assert.Equal(t, tc.wantTries, tries)
			// In the end the swarm holds exactly the current config messages.
			for k, ns := range configNamespaces {
				held := f.msgs[pubkeyOf(alice.ID()).Hex()+"/"+strconv.Itoa(int(ns))]
				if alice.cfgs.hash[k] == "" {
					assert.Empty(t, held)
					continue
				}
				require.Len(t, held, 1, "namespace %d", ns)
				assert.Equal(t, alice.cfgs.hash[k], held[0].Hash)
			}
			assert.Empty(t, alice.cfgs.old)
		})
	}
}

// TestUserGroupsConfig checks the user groups config: a client in community rooms pushes it
// (and a conversation entry per room) when the app first opens, sized by its entries; a client
// in none never stores it.
func TestUserGroupsConfig(t *testing.T) {
	rooms := func(c *Config) {
		c.Communities = []Community{{Rooms: []string{"a", "b", "c"}}}
		c.CommunityPoll = 0 // no server in the fake network: only the config is looked at
	}
	drv, _, alice, ea, bob, eb := twoClients(t, Desktop, Desktop, rooms)
	drv.RunFor(10 * time.Second)
	pa, _ := pushesOf(drv.Events, ea)
	require.NotEmpty(t, pa)
	assert.Equal(t, []int16{2, 4, 5}, pa[0].Stored, "profile, conversations and user groups at first open")
	assert.Equal(t, paddedConfigSize(configBaseBytes+3*communityEntryBytes), alice.configSize(storagerpc.NamespaceUserGroups))
	assert.Equal(t, paddedConfigSize(configBaseBytes+3*convoBytes), alice.configSize(storagerpc.NamespaceConvoInfoVolatile))

	pb, _ := pushesOf(drv.Events, eb)
	require.NotEmpty(t, pb)
	assert.Equal(t, []int16{2}, pb[0].Stored, "no rooms, no groups: no user groups config")
	assert.Equal(t, 0, bob.roomsJoined()+bob.groupsJoined())
}
