package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
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
	endToEnd(t, "end-to-end run")
	sc := communityScenario(t)
	w, sum, err := run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	cm := sum.Communities
	require.NotNil(t, cm)
	assert.Equal(t, 2, cm.Servers)
	assert.Equal(t, 10, cm.Rooms)
	// 20 clients online about 2/3 of 6 minutes, each polling one or two servers every 3 to
	// 10 s: well over 30 polls a client.
	assert.Greater(t, cm.Polls, uint64(20*30))
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
	endToEnd(t, "end-to-end run")
	assert.Nil(t, runShared(t, tiny(t)).sum.Communities)
}

// TestCommunityServerAdversary: a community server as the adversary learns the accounts of the
// clients in its rooms (through their blinded IDs), sees only proxying nodes' addresses, and
// appears in the view table; the file and push servers this run has not have no rows.
func TestCommunityServerAdversary(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := tiny(t)
	sc.Servers.Communities.Count = 1
	sc.Servers.Communities.Rooms = 4
	sc.Servers.Communities.JoinedShare = 0.5
	sc.Leakage.Adversaries = []Adversary{{Name: "sogs", Kind: "server", Servers: []string{"community"}}, {Name: "push", Kind: "server", Servers: []string{"push"}},
		{Name: "joined", Kind: "server", Servers: []string{"community", "push"}, Fractions: []float64{0.5}}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	w, sum, err := run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	require.NotNil(t, sum.Leakage)
	joined := 0
	for _, c := range w.clients {
		if c.c.Stats().CommunityPolls > 0 {
			joined++
		}
	}
	require.Positive(t, joined)

	sogs := adversary(t, sum.Leakage, "sogs")
	assert.Equal(t, "server", sogs.View)
	require.NotNil(t, sogs.Server)
	assert.InDelta(t, float64(joined)/float64(sum.Leakage.ActiveClients), sogs.Server.Accounts, 1e-6, "every polling member's account, no other")
	assert.Zero(t, sogs.Server.AccountsWithDevice)
	assert.Zero(t, sogs.Server.RecipientsTimed, "a community server learns nothing of 1:1 messages")
	// Every poll that got an answer reached the server; so may a failed one (its answer lost
	// on the way back) and one whose client went offline before the answer (it counts no poll).
	assert.GreaterOrEqual(t, sogs.Server.Requests, sum.Communities.Polls-sum.Communities.PollFailures)
	assert.Positive(t, sogs.Server.ProxyAddresses)
	assert.Nil(t, sogs.Exposure.Direct)
	push := adversary(t, sum.Leakage, "push")
	assert.Equal(t, results.ServerLearned{Roles: []string{"push"}}, *push.Server, "no push server in this run: it learns nothing")

	joinedAdv := adversary(t, sum.Leakage, "joined-0.5")
	assert.Equal(t, 16, joinedAdv.Draws, "the default draws")
	assert.InDelta(t, 10, joinedAdv.Nodes, 1e-9, "half of the 20 nodes")
	require.NotNil(t, joinedAdv.Server.PairsLinked)
	assert.Zero(t, *joinedAdv.Server.PairsLinked, "no push server, no notification to join")
	assert.Nil(t, joinedAdv.Server.PairsLinkedPrecision)
	assert.Equal(t, sogs.Server.Accounts, joinedAdv.Server.Accounts)

	var roles []string
	for _, r := range sum.Leakage.Roles {
		roles = append(roles, r.Role)
	}
	assert.Contains(t, roles, "community_server")
	assert.NotContains(t, roles, "push_server")
	assert.NotContains(t, roles, "file_server")
}
