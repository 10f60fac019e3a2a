package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// communityScenario is the tiny run with two community servers, every client in a room or more,
// sessions on and off, so that polls stop and start.
func communityScenario(t *testing.T) Scenario {
	sc := tiny(t)
	sc.Clients.Sessions = Sessions{MeanOnline: 2 * time.Minute, MeanOffline: time.Minute}
	sc.Servers.Communities.Count = 2
	sc.Servers.Communities.Rooms = 5
	sc.Servers.Communities.JoinedShare = 1
	sc.Servers.Communities.MessagesPerHour = 120
	require.NoError(t, sc.Validate())
	return sc
}

func TestCommunitiesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	sc := communityScenario(t)
	w, sum, err := run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	cm := sum.Communities
	require.NotNil(t, cm)
	assert.Equal(t, 2, cm.Servers)
	assert.Equal(t, 10, cm.Rooms)
	// 20 clients online about 2/3 of 6 minutes, each polling its servers every 3 to 10 s.
	assert.Greater(t, cm.Polls, uint64(20*60))
	assert.Positive(t, cm.MessagesRead)
	assert.Less(t, cm.PollFailures, cm.Polls/10, "polls fail only with their paths")
	assert.Greater(t, cm.BytesIn, cm.Polls*500, "a signed batch is more than 500 bytes")
	assert.Positive(t, cm.BytesOut)
	for _, c := range w.clients {
		if st := c.c.Stats(); st.Polls > 20 {
			assert.Positive(t, st.CommunityPolls, "joined_share 1: %s polled its swarm for a while, so its communities too", c.name)
		}
	}
	require.NotNil(t, sum.DeliveryRatio)
	assert.GreaterOrEqual(t, *sum.DeliveryRatio, 0.99, "1:1 delivery is unaffected: %v", sum.Messages.LostByCause)

	first, err := json.Marshal(sum)
	require.NoError(t, err)
	again, err := Run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	second, err := json.Marshal(again)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(second), "same seed, same summary, byte for byte")
}

// TestCommunitiesOffByDefault: the default scenario has none and its summary no section.
func TestCommunitiesOffByDefault(t *testing.T) {
	assert.Zero(t, Default().Servers.Communities.Count)
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	_, sum, err := run(tiny(t), RunOptions{Version: "test"})
	require.NoError(t, err)
	assert.Nil(t, sum.Communities)
}
