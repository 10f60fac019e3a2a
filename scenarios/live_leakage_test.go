package scenarios

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/results"
)

// liveLeakageWorld is a small live world of desktop clients with a leakage section: random
// coalitions of fractions, the largest operator, an observer of every link, a quarter of the
// nodes' count more joining as a sybil's 5 s into the sending, and the link taps. Each client
// tests its guard candidates with its own ID, so a coalition holding one learns the client's
// (IP, Session ID) pair directly.
func liveLeakageWorld(t *testing.T, nodes, clients int, fractions ...float64) Scenario {
	t.Helper()
	sc := smallLiveWorld(t, clients)
	sc.Nodes.Count = nodes
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Servers.Push.Enabled, sc.Workload.Attachments.Share, sc.Workload.Groups.PerClient = false, 0, 0
	sc.Clients.GuardTest = "own-id"
	// Blocks come quickly, so the sybil nodes are listed within the run.
	sc.Registry.BlockInterval = 5 * time.Second
	sc.Leakage = Leakage{LinkTaps: true, Adversaries: []Adversary{
		{Kind: "random", Fractions: fractions},
		{Kind: "operator"},
		{Kind: "global-timing"},
		{Kind: "sybil", Fraction: 0.25, At: 5 * time.Second},
	}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	return sc
}

// runLiveLeakage runs sc live, logs its leakage section and checks the link taps: one line for
// each write the link model carried, a sybil node's among them.
func runLiveLeakage(t *testing.T, sc Scenario) results.Summary {
	t.Helper()
	var taps bytes.Buffer
	s, err := Run(sc, RunOptions{ReplicationSample: 10 * time.Second, LinkTaps: &taps})
	require.NoError(t, err)
	l := s.Leakage
	require.NotNil(t, l)
	t.Logf("sent %d delivered %d; %d active clients, %d active pairs, %.2f guard candidates tested", s.Messages.Sent, s.Messages.Delivered,
		l.ActiveClients, l.ActivePairs, l.GuardCandidatesTestedMean)
	for _, a := range l.Adversaries {
		t.Logf("%s: nodes %.1f exposure direct %v g+d %v full %v both ends %v", a.Name, a.Nodes, deref(a.Exposure.Direct),
			deref(a.Exposure.GuardAndDestination), deref(a.Exposure.FullPath), deref(a.TimingBothEnds))
	}
	require.Positive(t, l.ActiveClients)
	assert.LessOrEqual(t, l.ActiveClients, sc.Clients.Count)
	assert.GreaterOrEqual(t, l.GuardCandidatesTestedMean, 1.0, "every active client tested a guard")
	assert.InDelta(t, float64(sc.Nodes.Count)/4, adversary(t, l, "sybil").Nodes, 0.5, "the sybil nodes joined the running world")

	zr, err := gzip.NewReader(bytes.NewReader(taps.Bytes()))
	require.NoError(t, err)
	rows, err := csv.NewReader(zr).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 1)
	assert.Equal(t, strings.Split(leakage.LinkTapsHeader, ","), rows[0])
	var delivered uint64
	sybil := false
	for _, row := range rows[1:] {
		sent, err := strconv.ParseInt(row[0], 10, 64)
		require.NoError(t, err)
		from, err := netip.ParseAddr(row[2])
		require.NoError(t, err)
		_, err = netip.ParseAddr(row[3])
		require.NoError(t, err)
		sybil = sybil || from == sybilAddr(0, 0)
		if row[1] == "" {
			continue
		}
		arrive, err := strconv.ParseInt(row[1], 10, 64)
		require.NoError(t, err)
		assert.Greater(t, arrive, sent)
		size, err := strconv.ParseUint(row[4], 10, 64)
		require.NoError(t, err)
		delivered += size
	}
	assert.True(t, sybil, "a sybil node's writes were tapped")
	assert.Equal(t, s.Traffic.TotalBytes, delivered, "one line for each write the link model carried")
	return s
}

// TestLiveModeRecordsLeakage runs a world of 12 nodes and 6 clients live for 30 s with a
// leakage section, under the race detector in make test-live: the recorder fed from the
// actors' goroutines, the tables growing as sybil nodes join, the link model's taps. What it
// checks holds however slowly the race detector lets the world run: a coalition of every node
// sees every active client's guard test. About 40 s, with SESSIONSIM_TEST_LIVE=1 only.
func TestLiveModeRecordsLeakage(t *testing.T) {
	sc := liveLeakageWorld(t, 12, 6, 1)
	sc.Warmup, sc.Duration, sc.Drain = 10*time.Second, 15*time.Second, 5*time.Second
	s := runLiveLeakage(t, sc)
	all := adversary(t, s.Leakage, "random-1")
	require.NotNil(t, all.Exposure.Direct)
	assert.Equal(t, 1.0, *all.Exposure.Direct)
}

// TestLiveLeakageFigures runs a world of 20 nodes and 40 clients live for 70 s with a leakage
// section and checks that its figures are plausible. The records come from the events the
// actors emit on the live driver, so the section is filled as in the simulator. About a minute
// and a half, with SESSIONSIM_TEST_LIVE=1 only, without the race detector (make test-live):
// under it, two shared cores do not carry 60 actors' real cryptography in time.
func TestLiveLeakageFigures(t *testing.T) {
	sc := liveLeakageWorld(t, 20, 40, 0.1, 0.5)
	sc.Warmup, sc.Duration, sc.Drain = 20*time.Second, 40*time.Second, 10*time.Second
	sc.Workload.MessagesPerHour = 240
	s := runLiveLeakage(t, sc)
	l := s.Leakage
	assert.Positive(t, l.ActivePairs, "clients sent messages to each other")

	t.Run("node coalitions", func(t *testing.T) {
		small, large := adversary(t, l, "random-0.1"), adversary(t, l, "random-0.5")
		assert.InDelta(t, 12.5, large.Nodes, 0.5, "half of the 25 nodes, the sybils' included")
		require.NotNil(t, large.Exposure.Direct)
		require.NotNil(t, small.Exposure.Direct)
		assert.Positive(t, *large.Exposure.Direct, "half the nodes see some clients' guard tests")
		assert.LessOrEqual(t, *large.Exposure.Direct, 1.0)
		assert.Greater(t, *large.Exposure.Direct, *small.Exposure.Direct, "a larger coalition sees more")
		require.NotNil(t, large.Exposure.GuardAndDestination)
		assert.Positive(t, *large.Exposure.GuardAndDestination, "and holds both ends of some requests")
		require.NotNil(t, large.AnonymitySet)
		assert.Positive(t, large.AnonymitySet.Stores, "it saw stores at its destinations")
		for name, v := range map[string]*float64{"median": large.AnonymitySet.Median, "p10": large.AnonymitySet.P10} {
			require.NotNil(t, v, name)
			assert.GreaterOrEqual(t, *v, 1.0, name)
			assert.LessOrEqual(t, *v, float64(sc.Clients.Count), name)
		}
		op := adversary(t, l, "operator")
		assert.Positive(t, op.Nodes, "the largest operator runs nodes")
		require.NotNil(t, op.Exposure.Direct)
		assert.GreaterOrEqual(t, *op.Exposure.Direct, 0.0)
	})
	t.Run("the observer of every link", func(t *testing.T) {
		a := adversary(t, l, "global-timing")
		assert.Equal(t, "link", a.View)
		require.NotNil(t, a.TimingBothEnds)
		assert.Equal(t, 1.0, *a.TimingBothEnds, "it watches both ends of every request")
		lk := a.Linkability["1m"]
		require.NotNil(t, lk)
		assert.Positive(t, lk.Positives)
		assert.Positive(t, lk.Negatives)
	})
}

// deref is *v, or -1 for none, for logs.
func deref(v *float64) float64 {
	if v == nil {
		return -1
	}
	return *v
}

// TestLiveModeRefusals: live mode refuses, at load, only a message without bytes; every
// adversary kind, the link taps and a horizon load.
func TestLiveModeRefusals(t *testing.T) {
	base := func() Scenario {
		sc := Default()
		sc.Mode = "live"
		return sc
	}
	tests := []struct {
		name string
		edit func(*Scenario)
		key  string // "" when live mode accepts it
	}{
		{"modeled crypto", func(s *Scenario) { s.Crypto = "modeled" }, "crypto"},
		{"every adversary kind and the link taps", func(s *Scenario) {
			s.Leakage = Leakage{LinkTaps: true, Adversaries: []Adversary{{Kind: "random"}, {Kind: "operator"}, {Kind: "provider", View: "link"},
				{Kind: "provider", Name: "seized"}, {Kind: "region", Region: "eu-west-1"}, {Kind: "global-timing"},
				{Kind: "sybil", Fraction: 0.1, At: time.Minute}, {Kind: "server", Servers: []string{"push", "file"}}}}
		}, ""},
		{"a horizon", func(s *Scenario) {
			s.Leakage = Leakage{Horizon: 30 * 24 * time.Hour, Adversaries: []Adversary{{Kind: "random"}}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := base()
			tt.edit(&sc)
			sc.fillLeakage()
			err := sc.Validate()
			if tt.key == "" {
				assert.NoError(t, err)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.key, e.Key)
		})
	}
}
