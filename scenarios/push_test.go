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
	endToEnd(t, "end-to-end run")
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
	endToEnd(t, "end-to-end run")
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

// TestPushServerLeakageJoin: with push on, a push server adversary sees its phones' accounts
// tied to their devices and which of them get messages when; joined with node coalitions it
// links senders to recipients by timing, at a precision in [0, 1] when it links any pair. The
// view table's push_server row counts the same subscriptions and notifications.
func TestPushServerLeakageJoin(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := small(t, "modeled")
	sc.Duration = 6 * time.Minute
	sc.Servers.Push.Enabled = true
	sc.Faults = []Fault{{At: time.Minute, For: 4 * time.Minute, Kind: "offline", Count: 16}}
	sc.Leakage.Adversaries = []Adversary{{Name: "push", Kind: "server", Servers: []string{"push"}},
		{Name: "joined", Kind: "server", Servers: []string{"push"}, Fractions: []float64{0.2, 0.5}, Draws: 4}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	_, sum, err := run(sc, RunOptions{Version: "test"})
	require.NoError(t, err)
	require.NotNil(t, sum.Push)
	require.Positive(t, sum.Push.Notifications, "phones in the background were notified")
	require.NotNil(t, sum.Leakage)

	var row *results.RoleView
	for k := range sum.Leakage.Roles {
		if sum.Leakage.Roles[k].Role == "push_server" {
			row = &sum.Leakage.Roles[k]
		}
	}
	require.NotNil(t, row, "the world has a push server: the view table has its row")
	assert.Positive(t, row.Counts["accounts_with_device"])
	assert.Positive(t, row.Counts["accounts_learned"])
	assert.Equal(t, sum.Push.Notifications, row.Counts["notifications"], "each notification the server handed on")
	assert.Positive(t, row.Counts["requests"], "subscriptions through onion requests")

	push := adversary(t, sum.Leakage, "push")
	require.NotNil(t, push.Server)
	assert.Positive(t, push.Server.AccountsWithDevice)
	assert.Positive(t, push.Server.RecipientsTimed)
	assert.Equal(t, sum.Push.Notifications, push.Server.Notifications)
	assert.Nil(t, push.Server.PairsLinked, "no coalition to join with")
	for _, f := range []string{"joined-0.2", "joined-0.5"} {
		j := adversary(t, sum.Leakage, f)
		require.NotNil(t, j.Server, f)
		require.NotNil(t, j.Server.PairsLinked, "%s: the join was computed", f)
		assert.GreaterOrEqual(t, *j.Server.PairsLinked, 0.0)
		assert.LessOrEqual(t, *j.Server.PairsLinked, 1.0)
		if *j.Server.PairsLinked > 0 {
			require.NotNil(t, j.Server.PairsLinkedPrecision, "%s: links made, a precision", f)
		}
		if p := j.Server.PairsLinkedPrecision; p != nil {
			assert.GreaterOrEqual(t, *p, 0.0)
			assert.LessOrEqual(t, *p, 1.0)
		}
		t.Logf("%s: pairs linked %v, precision %v", f, *j.Server.PairsLinked, j.Server.PairsLinkedPrecision)
	}
}
