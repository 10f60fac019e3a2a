package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// TestClockFarOff runs a client whose clock is minutes off next to a correct one on real nodes.
// The desktop looks its own swarm up with get_swarm at every start (startup.ts), before it
// signs anything, and learns the network time from that answer's "t": it is never refused.
// Android resyncs as it starts, in parallel with its first poll, which the resync may not beat
// (one refusal at most); reopened, it has forgotten the offset, its first polls are refused
// with 406 on the side its clock is off, and it retries each once the resync it started went
// through, so no poll round fails. iOS computes its swarm from the pool and sends no
// get_swarm, so its very first polls are refused, and as it learns the time only from the "t"
// of accepted onion answers (OnionRequestAPI.swift) and every signed request is refused, it
// stays refused: nothing it sends is stored. Where the app learns the time, messages then flow
// both ways.
func TestClockFarOff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platform client.Platform
		offset   time.Duration
		// firstStart is how many requests may be refused at the first start (-1: any number,
		// at least one).
		firstStart int
		// reopened: whether the reopened app's first polls are refused.
		reopened bool
		// recovers: whether the app learns the time and then sends and receives.
		recovers bool
	}{
		{"desktop behind", client.Desktop, -5 * time.Minute, 0, false, true},
		{"desktop ahead", client.Desktop, 5 * time.Minute, 0, false, true},
		{"ios ahead", client.IOS, 5 * time.Minute, -1, true, false},
		{"android ahead", client.Android, 5 * time.Minute, 1, true, true},
		{"android behind", client.Android, -5 * time.Minute, 1, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sn := newSimNet(t, 12, nil, cryptomode.Modeled)
			dir, suite := client.NewDirectory(), cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
			sn.spawnClient("skewed", tc.platform, dir, suite, func(c *client.Config) { c.ClockOffset = tc.offset })
			sn.spawnClient("correct", client.Desktop, dir, suite)
			sn.Engine.RunFor(30 * time.Second)
			first := len(netEvents[client.ClockRejected](sn, sn.addrs[0]))
			if tc.firstStart < 0 {
				assert.Positive(t, first, "without a get_swarm nothing teaches the app the time before it signs")
			} else {
				assert.LessOrEqual(t, first, tc.firstStart, "at its first start the app learns the time before it signs")
			}
			assert.Empty(t, netEvents[client.ClockRejected](sn, sn.addrs[1]), "a correct clock is never refused")

			failuresBefore := sn.clients[0].Stats().PollFailures
			sn.do(0, sn.clients[0].GoOffline)
			sn.Engine.RunFor(10 * time.Second)
			sn.do(0, sn.clients[0].GoOnline)
			sn.Engine.RunFor(time.Minute)
			rejected := netEvents[client.ClockRejected](sn, sn.addrs[0])
			if !tc.reopened {
				assert.Len(t, rejected, first, "the reopened desktop learns the time from its own swarm's lookup")
			} else {
				require.Greater(t, len(rejected), first, "the reopened app signs with its own clock")
				if failed := sn.clients[0].Stats().PollFailures - failuresBefore; tc.platform == client.Android {
					assert.Zero(t, failed, "Android retries a refused poll once it resynced")
				} else {
					assert.Positive(t, failed, "the other apps fail a refused poll")
				}
			}
			for _, r := range rejected {
				assert.Equal(t, tc.offset > 0, r.Skew > 0, "refused on the side the clock is off: %+v", r)
				assert.InDelta(t, tc.offset.Seconds(), r.Skew.Seconds(), 5, "the skew is the clock's own error: %+v", r)
				assert.Positive(t, r.Status406, "storage servers refuse with 406")
				assert.Zero(t, r.Status425, "storage servers never answer 425")
			}

			sn.send(0, 1, 100)
			sn.send(1, 0, 100)
			sn.Engine.RunFor(time.Minute)
			sent := netEvents[client.MessageSent](sn, actor.Addr{})
			require.Len(t, sent, 2)
			got := sn.delivered()
			if !tc.recovers {
				assert.Empty(t, got[sent[0].Hash], "a client every node refuses stores nothing")
				return
			}
			assert.Equal(t, []int{1}, got[sent[0].Hash], "the skewed client's message arrives")
			assert.Equal(t, []int{0}, got[sent[1].Hash], "the skewed client receives")
		})
	}
}
