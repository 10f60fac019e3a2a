package scenarios

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// busyWorld is the tiny run with everything that acts across hosts or between windows: sessions
// and a flash crowd, replies, unknown recipients, attachments, groups with additions and
// removals, community servers, the push server, node churn (crashes, joins, lifetimes), every
// kind of fault (crashes with restarts and hangs too), sybil nodes joining and the leakage
// recorder with link taps.
func busyWorld(t *testing.T) Scenario {
	t.Helper()
	sc := tiny(t)
	sc.Name = "workers"
	sc.Clients.Sessions = Sessions{MeanOnline: 2 * time.Minute, MeanOffline: time.Minute}
	sc.Clients.FlashCrowd = FlashCrowd{Fraction: 0.2, At: 30 * time.Second, Within: 20 * time.Second}
	sc.Workload.ReplyProbability = 0.5
	sc.Workload.UnknownRecipientShare = 0.05
	sc.Workload.Attachments.Share = 0.3
	sc.Workload.Groups = Groups{PerClient: 2, Size: SizeDist{Median: 5, Sigma: 1, Min: 2, Max: 10}, MessagesPerHour: 60,
		Overlap: 0.5, AdditionsPerHour: 20, RemovalsPerHour: 20}
	sc.Servers.Push.Enabled = true
	sc.Servers.Communities.Count, sc.Servers.Communities.Rooms = 1, 3
	sc.Servers.Communities.JoinedShare, sc.Servers.Communities.MessagesPerHour = 0.5, 60
	sc.Nodes.Churn = Churn{CrashesPerHour: 30, JoinsPerHour: 30, LifetimeMedian: 20 * time.Minute, LifetimeShape: 1.2}
	sc.Faults = []Fault{
		{At: 20 * time.Second, Kind: "crash", Count: 2, Target: "paths"},
		{At: 30 * time.Second, For: 40 * time.Second, Kind: "crash", Count: 1}, // and restart
		{At: 50 * time.Second, For: 30 * time.Second, Kind: "hang", Count: 2},
		{At: 40 * time.Second, For: time.Minute, Kind: "degrade", Fraction: 0.2, Loss: 0.3, AddedLatency: 50 * time.Millisecond},
		{At: time.Minute, For: time.Minute, Kind: "offline", Fraction: 0.3},
		{At: 90 * time.Second, For: 40 * time.Second, Kind: "partition", Regions: []string{"us-east-1"}},
		{At: 2 * time.Minute, For: 30 * time.Second, Kind: "crash", Target: faultTargetFileServer},
	}
	sc.Leakage.Adversaries = []Adversary{
		{Kind: "random", Fractions: []float64{0.1, 0.3}, Draws: 8},
		{Kind: "provider", View: "link"},
		{Name: "sybil", Kind: "sybil", Fraction: 0.2, At: 30 * time.Second},
	}
	sc.Leakage.LinkTaps = true
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	return sc
}

// TestWorldWorkersGiveOneResult runs worlds on 1, 2, 4 and 8 workers and requires the same
// summary, byte for byte (and the same link taps): the quick default scenario, and the busy
// tiny world. It checks that each run did use the workers asked for, so that a world falling
// back to one cannot pass for one that runs on several.
func TestWorldWorkersGiveOneResult(t *testing.T) {
	endToEnd(t, "end-to-end runs")
	quick := loadModeled("default", true)(t)
	for _, tc := range []struct {
		name string
		sc   Scenario
		// shared, if set, is the run on one worker that other tests made already.
		shared func(t *testing.T) *sharedRun
	}{
		{"default quick", quick, sharedDefaultQuick},
		{"busy tiny world", busyWorld(t), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first, firstTaps []byte
			for _, n := range []int{1, 2, 4, 8} {
				used := 0
				var taps bytes.Buffer
				var (
					s   results.Summary
					err error
				)
				if n == 1 && tc.shared != nil {
					r := tc.shared(t)
					s, used = r.sum, r.used
					assert.Empty(t, r.why)
					taps.Write(r.taps)
				} else {
					s, err = Run(tc.sc, RunOptions{Version: "test", Workers: n, LinkTaps: &taps,
						OnWorkers: func(u int, why string) { used = u; assert.Empty(t, why) }})
				}
				require.NoError(t, err, "%d workers", n)
				require.Equal(t, n, used, "the world runs on the workers asked for")
				b, err := json.MarshalIndent(s, "", " ")
				require.NoError(t, err)
				if first == nil {
					first, firstTaps = b, taps.Bytes()
					require.NotNil(t, s.DeliveryRatio)
					assert.Positive(t, s.Messages.Sent)
					continue
				}
				assert.Equal(t, string(first), string(b), "%d workers give the summary of one", n)
				assert.True(t, bytes.Equal(firstTaps, taps.Bytes()), "%d workers give the link taps of one", n)
			}
		})
	}
}
