package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/results"
)

// TestPushWakesBackgroundPhones: with a push server, phones in the background receive what is
// sent to them while there, each message within the push service's configured delay plus one
// poll round (at worst a guard test and an onion request to their timeouts) of its first store;
// desktops away at the same time get theirs only when they come back.
func TestPushWakesBackgroundPhones(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	sc := small(t, "modeled")
	sc.Duration = 9 * time.Minute
	sc.Servers.Push.Enabled = true
	sc.Servers.Push.NotifyDelay = DelayDist{Median: time.Second, Sigma: 0.5, Min: 200 * time.Millisecond, Max: 4 * time.Second}
	away, back := sc.Warmup+time.Minute, sc.Warmup+7*time.Minute
	sc.Faults = []Fault{{At: time.Minute, For: 6 * time.Minute, Kind: "offline", Count: 16}}
	require.NoError(t, sc.Validate())
	w, sum, err := run(sc, RunOptions{})
	require.NoError(t, err)

	pinned := offlineClients(w)
	var toPhones, toDesktops int
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		if rec.recipient < 0 || !pinned[rec.recipient] {
			continue
		}
		during := rec.sentAt.After(w.epoch.Add(away)) && rec.sentAt.Before(w.epoch.Add(back-time.Minute))
		if !during || !rec.stored() {
			continue
		}
		require.True(t, rec.delivered, "message %s to a client away arrives", h)
		platform := w.col.platform[rec.recipient]
		if platform == "desktop" {
			toDesktops++
			assert.False(t, rec.deliveredAt.Before(w.epoch.Add(back)), "a desktop away gets its messages on return")
			continue
		}
		toPhones++
		stored, ok := w.col.push.firstStored[h]
		require.True(t, ok)
		pl, err := client.ParsePlatform(platform)
		require.NoError(t, err)
		cfg := client.DefaultConfig(pl)
		bound := sc.Servers.Push.NotifyDelay.Max + cfg.GuardTestTimeout + cfg.RequestTimeout
		assert.LessOrEqual(t, rec.deliveredAt.Sub(stored), bound, "a phone in the background gets message %s through push", h)
	}
	require.Greater(t, toPhones, 5, "messages went to phones in the background")
	require.Positive(t, toDesktops, "and to desktops away")

	p := sum.Push
	require.NotNil(t, p)
	assert.Positive(t, p.Subscriptions)
	assert.Positive(t, p.MonitorRequests)
	assert.GreaterOrEqual(t, p.Notifications, p.Wakeups)
	assert.Positive(t, p.DeliveryAfterWakeMs.Count)
	assert.LessOrEqual(t, p.WakeLatencyMs.Max, float64(sc.Servers.Push.NotifyDelay.Max+time.Second)/float64(time.Millisecond),
		"store to wake-up within the push service's longest delay and the network's")
	assert.Empty(t, p.Failures)
}

// TestPushSameSeedSameSummary: a run with push notifications is as reproducible as any.
func TestPushSameSeedSameSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	sc := tiny(t)
	sc.Clients.Sessions = Sessions{MeanOnline: 2 * time.Minute, MeanOffline: time.Minute}
	sc.Servers.Push.Enabled = true
	encode := func(sc Scenario) ([]byte, *results.Push) {
		s, err := Run(sc, RunOptions{Version: "test"})
		require.NoError(t, err)
		b, err := json.Marshal(s)
		require.NoError(t, err)
		return b, s.Push
	}
	first, p := encode(sc)
	require.NotNil(t, p)
	assert.Positive(t, p.Wakeups)
	again, _ := encode(sc)
	assert.Equal(t, string(first), string(again), "same seed, same summary, byte for byte")
}
