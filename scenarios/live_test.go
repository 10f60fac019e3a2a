package scenarios

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLiveModeRunsAWorld runs a small world in live mode: every actor on real loopback sockets
// in real time. It takes about half a minute, so it runs only with SESSIONSIM_TEST_LIVE=1
// (make test-live).
func TestLiveModeRunsAWorld(t *testing.T) {
	if os.Getenv("SESSIONSIM_TEST_LIVE") == "" {
		t.Skip("set SESSIONSIM_TEST_LIVE=1 to run a world in real time")
	}
	sc := Default()
	sc.Mode = "live"
	sc.Nodes.Count, sc.Clients.Count, sc.Workload.Contacts = 12, 6, 3
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Warmup, sc.Duration, sc.Drain = 10*time.Second, 15*time.Second, 5*time.Second
	sc.Workload.MessagesPerHour = 600
	s, err := Run(sc, RunOptions{ReplicationSample: 10 * time.Second})
	require.NoError(t, err)
	assert.Positive(t, s.Engine.Calls)
	assert.Positive(t, s.Messages.Sent, "clients sent messages")
	assert.Positive(t, s.Messages.Delivered, "and some arrived over real sockets")
}
