package client

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/servers/community"
)

type respondFunc func(actor.Response)

func (f respondFunc) Respond(r actor.Response) { f(r) }

// withCommunity puts a community server with rooms lobby and dev behind the fake network's
// proxy, its members posting perHour messages in each room, and returns how clients address it.
func withCommunity(drv *actortest.Driver, f *fakeNet, perHour float64) (*community.Server, onion.Server) {
	keys := identity.Derive(3, "community-0")
	srv := community.New(community.Config{Suite: f.suite, Keys: keys, Rooms: []string{"lobby", "dev"}, MessagesPerHour: perHour})
	env := drv.Env(netip.MustParseAddrPort("192.0.2.10:443"))
	env.Do(func() { srv.Start(env) })
	f.proxy = func(last *fakeNode, payload []byte) actor.Response {
		var out actor.Response
		env.Do(func() {
			srv.Handle(last.info.Addr, actor.Request{Method: "POST", Body: payload, Size: len(payload)}, respondFunc(func(r actor.Response) { out = r }))
		})
		return out
	}
	return srv, onion.Server{Host: "community-0.example", X25519: keys.X25519Public}
}

// TestCommunityPollCadence: each platform polls a joined server at its app's interval while
// online, reads what the rooms' members posted, and stops polling offline.
func TestCommunityPollCadence(t *testing.T) {
	for _, tc := range []struct {
		platform Platform
		every    time.Duration
	}{{Desktop, 10 * time.Second}, {IOS, 3 * time.Second}, {Android, 4 * time.Second}} {
		t.Run(tc.platform.String(), func(t *testing.T) {
			drv := newDriver()
			f := newFakeNet(t, drv, 40, 8)
			srv, dest := withCommunity(drv, f, 3600)
			c, e := newTestClient(t, drv, f, "alice", tc.platform, func(cfg *Config) {
				cfg.Communities = []Community{{Server: dest, Rooms: []string{"lobby", "dev"}}}
			})
			require.Equal(t, tc.every, c.cfg.CommunityPoll)
			drv.RunFor(20 * time.Second) // paths built, the first poll done
			start := len(drv.Events)
			const span = 2 * time.Minute
			drv.RunFor(span)

			var at []time.Time
			newMsgs := 0
			for _, o := range drv.Events[start:] {
				if ev, ok := o.Event.(CommunityPolled); ok && o.From == e.Self() {
					assert.Equal(t, CommunityPolled{Server: dest.Host, Rooms: 2, New: ev.New, Failure: OK}, ev)
					at = append(at, o.At)
					newMsgs += ev.New
				}
			}
			// The next poll is timed from the last one's answer: the interval plus a round trip.
			n := len(at)
			assert.LessOrEqual(t, n, int(span/tc.every)+1)
			assert.GreaterOrEqual(t, n, int(span/(tc.every+2*time.Second)))
			for i := 1; i < n; i++ {
				assert.GreaterOrEqual(t, at[i].Sub(at[i-1]), tc.every)
			}
			assert.Positive(t, newMsgs, "two rooms at 3,600 an hour")
			assert.GreaterOrEqual(t, int(c.Stats().CommunityPolls), n)
			assert.LessOrEqual(t, uint64(c.Stats().CommunityMessages), srv.Stats().Posted)

			e.Do(c.GoOffline)
			offline := len(drv.Events)
			drv.RunFor(time.Minute)
			assert.Empty(t, actortest.EventsOf[CommunityPolled](drv.Events[offline:]), "no polls offline")
			e.Do(c.GoOnline)
			drv.RunFor(30 * time.Second)
			assert.NotEmpty(t, actortest.EventsOf[CommunityPolled](drv.Events[offline:]), "polling again online")
		})
	}
}

// TestNoCommunitiesNoPolls: a client that joined none sends nothing to servers.
func TestNoCommunitiesNoPolls(t *testing.T) {
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	withCommunity(drv, f, 60)
	newTestClient(t, drv, f, "alice", Desktop, nil)
	drv.RunFor(time.Minute)
	assert.Empty(t, actortest.EventsOf[CommunityPolled](drv.Events))
}
