package scenarios

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallLiveWorld is the default scenario in live mode at 12 nodes and clients clients; it skips
// the test unless SESSIONSIM_TEST_LIVE is set, as running a world in real time takes long.
func smallLiveWorld(t *testing.T, clients int) Scenario {
	t.Helper()
	if os.Getenv("SESSIONSIM_TEST_LIVE") == "" {
		t.Skip("set SESSIONSIM_TEST_LIVE=1 to run a world in real time")
	}
	sc := Default()
	sc.Mode = "live"
	sc.Nodes.Count, sc.Clients.Count, sc.Workload.Contacts = 12, clients, 3
	return sc
}

// TestLiveModeRunsAWorld runs a small world in live mode: every actor on real loopback sockets
// in real time, nodes joining while it runs and two on the clients' paths crashing. It takes about half a minute, so it runs only with SESSIONSIM_TEST_LIVE=1
// (make test-live).
func TestLiveModeRunsAWorld(t *testing.T) {
	sc := smallLiveWorld(t, 6)
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Warmup, sc.Duration, sc.Drain = 10*time.Second, 15*time.Second, 5*time.Second
	sc.Workload.MessagesPerHour = 600
	// Nodes join the running world (about 6 in the 15 s), and blocks list them quickly.
	sc.Nodes.Churn.JoinsPerHour, sc.Registry.BlockInterval = 1440, 5*time.Second
	// Two of the nodes on most clients' paths crash: the clients are asked for their paths on
	// their own goroutines first.
	sc.Faults = []Fault{{Kind: "crash", At: 5 * time.Second, Count: 2, Target: "paths"}}
	s, err := Run(sc, RunOptions{ReplicationSample: 10 * time.Second})
	require.NoError(t, err)
	t.Logf("sent %d delivered %d; %d active nodes in %d swarms after %d blocks", s.Messages.Sent, s.Messages.Delivered, s.Network.ActiveNodes, s.Network.Swarms, s.Network.Blocks)
	assert.Positive(t, s.Engine.Calls)
	assert.Positive(t, s.Messages.Sent, "clients sent messages")
	assert.Positive(t, s.Messages.Delivered, "and some arrived over real sockets")
	assert.Greater(t, s.Network.ActiveNodes, 12, "joining nodes registered with the running registry and were listed")
}

// TestLiveModeAcceptsTheDefaultScenario: the default scenario's group chats, attachments and
// push notifications load in live mode (at load, no world is run).
func TestLiveModeAcceptsTheDefaultScenario(t *testing.T) {
	sc, err := Load("default", LoadOptions{Sets: []string{"mode=live"}})
	require.NoError(t, err)
	assert.Positive(t, sc.Workload.Groups.PerClient)
	assert.Positive(t, sc.Workload.Attachments.Share)
	assert.True(t, sc.Servers.Push.Enabled)
}

// TestLiveModeRunsGroupsAndPush runs a small world of phones live with group chats,
// attachments and push notifications: group messages reach the members over real sockets,
// the push server's wake-ups reach phones in the background, attachments go through the file
// server. About a minute, with SESSIONSIM_TEST_LIVE=1 only (make test-live).
func TestLiveModeRunsGroupsAndPush(t *testing.T) {
	sc := smallLiveWorld(t, 8)
	sc.Clients.Platforms = map[string]float64{"ios": 0.5, "android": 0.5}
	// Phones come and go quickly, so that some are in the background when messages come.
	sc.Clients.Sessions = Sessions{MeanOnline: 20 * time.Second, MeanOffline: 15 * time.Second}
	sc.Warmup, sc.Duration, sc.Drain = 10*time.Second, 30*time.Second, 10*time.Second
	sc.Workload.MessagesPerHour = 300
	sc.Workload.Attachments.Share = 0.3
	sc.Workload.Groups = Groups{PerClient: 1, Size: SizeDist{Median: 4, Sigma: 0.1, Min: 4, Max: 4}, MessagesPerHour: 600, Overlap: 0.5,
		// Admins add and remove members while the members read the group: its shared state
		// under the race detector.
		AdditionsPerHour: 480, RemovalsPerHour: 480}
	sc.Servers.Push.Enabled = true
	require.NoError(t, sc.Validate())
	s, err := Run(sc, RunOptions{ReplicationSample: 10 * time.Second})
	require.NoError(t, err)

	require.NotNil(t, s.Groups)
	require.NotNil(t, s.Push)
	require.NotNil(t, s.FileServer)
	t.Logf("sent %d delivered %d; groups %d polls %d group messages %+v; additions %d removals %d rotations %d; push subscriptions %d notifications %d wakeups %d failures %v; uploads %d downloads %d",
		s.Messages.Sent, s.Messages.Delivered, s.Groups.Count, s.Groups.Polls, s.MessagesByKind["group"].Messages,
		s.Groups.Additions, s.Groups.Removals, s.Groups.KeyRotations,
		s.Push.Subscriptions, s.Push.Notifications, s.Push.Wakeups, s.Push.Failures, s.FileServer.Uploads, s.FileServer.Downloads)
	assert.Equal(t, 2, s.Groups.Count, "8 memberships in groups of 4")
	assert.Positive(t, s.Groups.Polls, "members polled their groups' swarms")
	assert.Positive(t, s.Groups.Additions+s.Groups.Removals, "admins changed their groups")
	g, ok := s.MessagesByKind["group"]
	require.True(t, ok, "group messages were sent")
	assert.Positive(t, g.Delivered, "and reached every member over real sockets")

	assert.Positive(t, s.Push.Subscriptions, "phones registered with the push server")
	assert.Positive(t, s.Push.Notifications, "nodes told the push server of new messages")
	assert.Positive(t, s.Push.Wakeups, "and its wake-ups reached phones as notifications")

	assert.Positive(t, s.FileServer.Uploads, "attachments went to the file server")
}
