package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"github.com/sessionsim/sessionsim/results"
)

func sample() results.Summary {
	return results.Summary{
		Schema: results.SchemaVersion, Scenario: "demo", Seed: 7, Crypto: "real", VirtualSeconds: 1380,
		Nodes: 100, Clients: 200,
		Messages:         results.Messages{Sent: 1000, Delivered: 990, Lost: 2, Pending: 8, LostByCause: map[string]uint64{"store_failed": 2}},
		DeliveryRatio:    ptr(990.0 / 992),
		EndToEndMs:       results.Percentiles{Count: 990, P50: 2100, P90: 4800, P99: 9000, Max: 12000},
		EndToEndOnlineMs: results.Percentiles{Count: 700, P50: 1900, P90: 3500, P99: 6000, Max: 8000},
		OnionRTTMs:       results.Percentiles{Count: 50000, P50: 420, P90: 700, P99: 1300, Max: 5000},
		Replication:      results.Replication{Samples: 10, MinCopies: 5, P1Copies: 6, MeanCopies: 7.1, Timeline: [][3]float64{{60, 5, 7}, {120, 6, 7.2}}},
		Store:            results.Store{Attempts: 1003, Succeeded: 998, Failed: 2, Ratio: 0.998},
		Garbage:          map[string]uint64{"bad_signature": 1},
		EndToEndByPlatform: map[string]results.Percentiles{
			"android": {Count: 300, P50: 2500, P90: 5000, P99: 9000, Max: 11000},
			"desktop": {Count: 390, P50: 1500, P90: 3000, P99: 6000, Max: 7000},
			"ios":     {Count: 300, P50: 3000, P90: 6000, P99: 9500, Max: 12000},
		},
		TimelineBucketSeconds: 60,
		Timeline:              sampleTimeline(),
	}
}

// sampleScenario is the resolved scenario of sample(): a partition from 6 to 11 minutes of
// virtual time (5 after the 1-minute warmup) and a crash at 13 minutes.
const sampleScenario = "name: demo\nseed: 7\n" + samplePhases + `faults:
- kind: partition
  at: 5m0s
  for: 5m0s
  regions: [eu-west-1]
- kind: crash
  at: 12m0s
  count: 3
  target: paths
`

// sampleDefaults are the defaults sampleScenario is compared with.
const sampleDefaults = "name: unnamed\nseed: 1\n" + samplePhases + "faults: []\n"

// samplePhases are the keys sampleScenario leaves at their defaults.
const samplePhases = `warmup: 1m0s
duration: 20m0s
drain: 2m0s
nodes:
  count: 100
  regions: {eu-west-1: 0.5, us-east-1: 0.5}
`

// sampleTimeline is 23 minutes of a run shaped by sampleScenario: nothing sent in the warmup
// and drain, losses and slow deliveries during the partition.
func sampleTimeline() []results.TimelineBucket {
	var tl []results.TimelineBucket
	for i := range 23 {
		b := results.TimelineBucket{StartSeconds: float64(60 * i)}
		if i >= 1 && i < 21 {
			b.Sent, b.Delivered, b.E2EP50Ms, b.E2EP99Ms = 50, 50, 2000, 8000
			if i >= 6 && i < 11 {
				b.Delivered, b.Lost, b.E2EP50Ms, b.E2EP99Ms = 45, 5, 4000, 60_000
			}
			b.DeliveryRatio = ptr(float64(b.Delivered) / float64(b.Delivered+b.Lost))
		}
		if i >= 1 {
			b.Copies = &results.Replication{Samples: 100, MinCopies: 5, P1Copies: 6, MeanCopies: 7}
			if i >= 13 {
				b.Copies.MinCopies, b.Copies.P1Copies, b.Copies.MeanCopies = 3, 4, 6.5
			}
		}
		tl = append(tl, b)
	}
	return tl
}

func ptr[T any](v T) *T { return &v }

func TestWriteText(t *testing.T) {
	nothingEligible := sample()
	nothingEligible.Messages = results.Messages{Sent: 4, Pending: 3, Undeliverable: 1}
	nothingEligible.DeliveryRatio = nil
	leaky := sample()
	leaky.Leakage = &results.Leakage{ActiveClients: 200, ClientsPerNode: 2, GuardCandidatesTestedMean: 2.5, Adversaries: []results.Adversary{
		{Name: "random-0.1", Kind: "random", View: "node", Nodes: 10, Exposure: results.Exposure{Direct: ptr(0.2345), GuardAndDestination: ptr(0.05), FullPath: ptr(0.0)},
			TTFC: results.TTFC{Direct: &results.Survival{MedianS: ptr(90.0)}}},
		{Name: "eu-west-1", Kind: "region", View: "link", TimingBothEnds: ptr(0.4), Linkability: map[string]*results.Linkability{
			"10m": {Target: "node", LinkAttack: results.LinkAttack{TPRAtFPR1e3: ptr(0.25), Precision: ptr(0.9)}}}},
	}}
	mix := sample()
	mix.RPCByMethod = map[string]map[string]map[string]uint64{
		"android": {"retrieve": {"10": 1, "2": 4, "0": 4}, "get_swarm": {results.NoNamespace: 3}},
	}
	mix.Traffic.ForwardsByCause = map[string]uint64{"store": 8, results.ForwardSwarmChange: 2}
	mix.Traffic.ForwardsByPlatform = map[string]map[string]uint64{"android": {"store": 8}}
	mix.Store.SyncCopies, mix.Store.SyncCopiesFailed = 7, 1
	groups := sample()
	groups.MessagesByKind = map[string]results.KindMessages{
		"group": {Messages: results.Messages{Sent: 10, Delivered: 9, Lost: 1}, DeliveryRatio: ptr(0.9)},
		"text":  {Messages: results.Messages{Sent: 990, Delivered: 981}, DeliveryRatio: ptr(1.0)},
	}
	groups.MessagesByGroupSize = map[string]results.KindMessages{
		"51-100": {Messages: results.Messages{Sent: 4, Delivered: 4}, DeliveryRatio: ptr(1.0)},
		"2-10":   {Messages: results.Messages{Sent: 6, Delivered: 5, Lost: 1}, DeliveryRatio: ptr(5.0 / 6)},
	}
	groups.Groups = &results.Groups{Count: 3, MembersMean: 40.5, Removals: 2, KeyRotations: 2, Polls: 900}
	ones := sample()
	ones.Groups = &results.Groups{Count: 1, MembersMean: 3, Removals: 1, KeyRotations: 1, Polls: 1}
	ones.OnionRTTMs = results.Percentiles{Count: 1, P50: 420, P90: 420, P99: 420, Max: 420}
	ones.Network.ActiveNodes, ones.Network.Swarms, ones.Network.Blocks = 1, 1, 1
	ones.Replication.Samples, ones.Traffic.ReplicationForwards = 1, 1
	ones.Traffic.ExpireRequests, ones.Traffic.ConfigExpiryUpdates = 1, 3
	ones.Store.Succeeded, ones.Store.Failed, ones.Store.Attempts = 1, 0, 1
	ones.Engine.LateReplies = 3
	cases := []struct {
		name    string
		s       results.Summary
		want    []string
		notWant []string
	}{
		{"groups", groups, []string{
			"    text   sent 990, delivered 981, lost 0, pending 0; delivery ratio 100.00%",
			"    group  sent 10, delivered 9, lost 1, pending 0; delivery ratio 90.00%",
			"3 groups of 40.5 members on average; 2 members removed, 2 key rotations stored; 900 group polls",
			"    2-10 members:   sent 6, delivered 5, lost 1",
			"    51-100 members: sent 4, delivered 4",
		}, nil},
		{"no groups", sample(), nil, []string{"Groups", "by kind"}},
		{"one of each", ones, []string{
			"1 group of 3.0 members on average; 1 member removed, 1 key rotation stored; 1 group poll",
			"onion round trip: p50 420 ms, p90 420 ms, p99 420 ms, max 420 ms (1 sample)",
			"1 active node in 1 swarm after 1 block;", "mean 7.10 (1 sample)", "1 request forwarded to swarm peers",
			"1 expire in polls, 3 expiries changed", "stores: 1 of 1 message stored", "1 attempt in all", "3 late replies dropped",
		}, []string{"1 samples", "1 groups", "1 requests"}},
		{"request mix", mix, []string{
			"android  get_swarm 3; retrieve 9 (0: 4, 2: 4, 10: 1)",
			"node-to-node forwards by cause: store 8, swarm-change 2",
			"caused by android  store 8",
			"sync copies in senders' own swarms: 7 stored, 1 failed",
		}, []string{"none"}},
		{"no request mix", sample(), nil, []string{"requests clients sent", "forwards by cause"}},
		{"full run", sample(), []string{
			"delivery ratio: 99.80%", "sent 1000, delivered 990", "115.0x faster", "store_failed 2", "bad_signature 1",
			"end-to-end latency (send -> first decrypt): p50 2.1 s, p90 4.8 s, p99 9 s, max 12 s (990 samples)",
			"onion round trip: p50 420 ms, p90 700 ms, p99 1.3 s, max 5 s (50000 samples)",
			"recipient on desktop: p50 1.5 s, p90 3 s, p99 6 s, max 7 s (390 samples)",
			"stores: 998 of 1000 messages stored (99.80%), 2 failed; 1003 attempts in all, retries included",
		}, []string{"2100 ms"}},
		{"nothing eligible", nothingEligible, []string{"delivery ratio: n/a"}, []string{"delivery ratio: 0"}},
		{"no leakage section", sample(), nil, []string{"Leakage"}},
		{"leakage", leaky, []string{"Leakage (share of 200 active clients", "guard candidates tested per client: 2.50",
			"random-0.1", "23.45%", "5.00%", "1.5 min", "eu-west-1", "timing both ends 40.00%",
			"linkability (10 min): TPR 25.00% at FPR 1e-3, precision 90.00% (address to destination node)"}, []string{"NaN", "<nil>", "timing only"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			WriteText(&buf, tc.s, &results.Run{WallSeconds: 12, Speedup: 115})
			out := buf.String()
			for _, want := range tc.want {
				assert.Contains(t, out, want)
			}
			for _, not := range tc.notWant {
				assert.NotContains(t, out, not)
			}
		})
	}
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, ones, nil, nil, nil))
	for _, want := range []string{"1 expire in polls, 3 expiries changed", "mean 7.10 (1 sample)", "1 request forwarded to swarm peers", "(1 sample)"} {
		assert.Contains(t, page.String(), want, "report.html counts as the text does")
	}
}

// TestReportsSayHowItRan: the text summary and report.html say whether the run was simulated
// (virtual time, its speed against real time, the CPU model) or live (real time, no CPU model).
func TestReportsSayHowItRan(t *testing.T) {
	cases := []struct {
		name          string
		run           *results.Run
		want, notWant []string // in the text summary
		html, notHTML []string // in report.html
	}{
		{"faster than real time", &results.Run{WallSeconds: 12, Speedup: 115}, []string{"of virtual time.", "Ran in 12.0 s of wall time: 115.0x faster than real time.",
			"CPU per node: mean", "  simulator: "}, []string{"slower", "not measured"},
			[]string{"min virtual time", "(115.0x real time)", "<th>simulator</th>"}, []string{"not measured"}},
		{"slower than real time", &results.Run{WallSeconds: 4000, Speedup: 0.25}, []string{"Ran in 1.1 h of wall time: 4.0x slower than real time."}, []string{"faster"},
			[]string{"(0.2x real time)"}, nil},
		{"live", &results.Run{WallSeconds: 390, Speedup: 1, Mode: "live"}, []string{"of real time.", "Ran in 6.5 min of wall time, in real time (live mode).",
			"CPU per node: not measured in live mode", "  live driver: "}, []string{"virtual time", "faster", "simulator:", "busy"},
			[]string{"in real time (live mode)", "not measured in live mode", "<th>live driver</th>"}, []string{"min virtual time", "x real time", "<th>simulator</th>", "utilisation"}},
		{"docker", &results.Run{WallSeconds: 90, Speedup: 1, Mode: "docker"}, []string{"of real time.", "Ran in 1.5 min of wall time, in real time (docker mode).",
			"CPU per node: mean", "  docker driver: "}, []string{"virtual time", "faster", "simulator:", "not measured"},
			[]string{"in real time (docker mode)", "utilisation", "<th>docker driver</th>"}, []string{"min virtual time", "x real time", "<th>simulator</th>", "not measured"}},
		{"report rebuilt without run.json", nil, []string{"of virtual time.", "  simulator: "}, []string{"Ran in"},
			[]string{"min virtual time", "<th>simulator</th>"}, []string{"wall time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var text, page bytes.Buffer
			WriteText(&text, sample(), tc.run)
			require.NoError(t, WriteHTML(&page, sample(), tc.run, nil, nil))
			for _, want := range tc.want {
				assert.Contains(t, text.String(), want)
			}
			for _, not := range tc.notWant {
				assert.NotContains(t, text.String(), not)
			}
			for _, want := range tc.html {
				assert.Contains(t, page.String(), want)
			}
			for _, not := range tc.notHTML {
				assert.NotContains(t, page.String(), not)
			}
		})
	}
}

func TestWriteHTMLIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, sample(), nil, []byte(sampleScenario+"description: <script>\n"), []byte(sampleDefaults)))
	out := buf.String()
	parseDOM(t, buf.Bytes())
	assert.Contains(t, out, `id="delivery-ratio">99.80%`)
	assert.Contains(t, out, "<b>1.9 s</b><span>end-to-end latency p50", "latency cards in readable units")
	assert.Contains(t, out, "<b>420 ms</b><span>onion round trip p50")
	assert.Equal(t, 5, strings.Count(out, "<svg"), "five inline charts")
	assert.NotContains(t, out, "<script>", "scenario text is escaped")
	assert.NotContains(t, out, "Messages by kind", "no kinds in the sample")

	groups := sample()
	groups.MessagesByKind = map[string]results.KindMessages{"group": {Messages: results.Messages{Sent: 3, Delivered: 3}, DeliveryRatio: ptr(1.0)}}
	groups.MessagesByGroupSize = map[string]results.KindMessages{"11-25": {Messages: results.Messages{Sent: 3, Delivered: 3}, DeliveryRatio: ptr(1.0)}}
	groups.Groups = &results.Groups{Count: 1, MembersMean: 12}
	buf.Reset()
	require.NoError(t, WriteHTML(&buf, groups, nil, nil, nil))
	parseDOM(t, buf.Bytes())
	assert.Contains(t, buf.String(), "<h2>Messages by kind</h2>")
	assert.Contains(t, buf.String(), "<h2>Groups</h2>")
	assert.Contains(t, buf.String(), "<th>11-25 members</th><td>3</td>")
	for _, ref := range []string{"src=", "href=", "<link", "@import", "url("} {
		assert.False(t, strings.Contains(out, ref), "no external resource (%s)", ref)
	}
}

// TestTicks checks the marks of the latency axes (durationTicks, milliseconds) and of the
// virtual-time axes (timeTicks, seconds, evenly spaced from 0).
func TestTicks(t *testing.T) {
	tests := []struct {
		name   string
		ticker func(lo, hi float64) []plot.Tick
		lo, hi float64
		want   []string
	}{
		{"latency: sub-second", durationTicks, 150, 1200, []string{"200 ms", "500 ms", "1 s"}},
		{"latency: seconds to minutes", durationTicks, 900, 400_000, []string{"1 s", "2 s", "5 s", "10 s", "30 s", "1 min", "2 min", "5 min"}},
		{"latency: minutes to hours", durationTicks, 20 * 60_000, 3 * 3_600_000, []string{"30 min", "1 h", "2 h"}},
		{"latency: nothing round inside", durationTicks, 1100, 1900, nil},
		{"time: the default run", timeTicks, 0, 1380, []string{"0", "5 min", "10 min", "15 min", "20 min"}},
		{"time: a short run", timeTicks, 0, 150, []string{"0", "30 s", "1 min", "1.5 min", "2 min", "2.5 min"}},
		{"time: hours", timeTicks, 0, 4 * 3600, []string{"0", "30 min", "1 h", "1.5 h", "2 h", "2.5 h", "3 h", "3.5 h", "4 h"}},
		{"time: not from zero", timeTicks, 61, 239, []string{"1.5 min", "2 min", "2.5 min", "3 min", "3.5 min"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range tt.ticker(tt.lo, tt.hi) {
				got = append(got, tick.Label)
				assert.True(t, tick.Value >= tt.lo && tick.Value <= tt.hi, "tick %v inside the range", tick.Value)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLatencyChartSkipsEmptySeries(t *testing.T) {
	s := sample()
	s.EndToEndOnlineMs = results.Percentiles{}
	s.OnionRTTMs.P50 = 0 // a zero on a log axis is drawn at 1 ms, not an error
	c, err := latencyChart(s)
	require.NoError(t, err)
	var names []string
	for _, e := range c.Legend {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"end to end", "onion round trip"}, names)
	assert.Contains(t, string(c.SVG), "<svg")
}

func TestReadableMs(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0 ms"},
		{420.4, "420 ms"},
		{999.4, "999 ms"},
		{2411.5, "2.41 s"},
		{59_000, "59 s"},
		{90_000, "1.5 min"},
		{1_089_142, "18.2 min"},
		{7_200_000, "2 h"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, readableMs(tt.ms), "%v ms", tt.ms)
	}
}

func TestPushSection(t *testing.T) {
	s := sample()
	var text, page bytes.Buffer
	WriteText(&text, s, nil)
	require.NoError(t, WriteHTML(&page, s, nil, []byte(sampleScenario), []byte(sampleDefaults)))
	assert.NotContains(t, text.String(), "wake-up", "no push section without a push server")
	assert.NotContains(t, page.String(), "<h2>Push</h2>")

	s.Push = &results.Push{Subscriptions: 12, MonitorRequests: 60, Notifications: 30, Wakeups: 29,
		WakeLatencyMs:       results.Percentiles{Count: 29, P50: 650, P90: 1600, P99: 3100, Max: 5400},
		DeliveryAfterWakeMs: results.Percentiles{Count: 7, P50: 1400, P90: 2500, P99: 3500, Max: 3600},
		Failures:            map[string]uint64{"wake-failed": 1}}
	text.Reset()
	page.Reset()
	WriteText(&text, s, nil)
	require.NoError(t, WriteHTML(&page, s, nil, []byte(sampleScenario), []byte(sampleDefaults)))
	assert.Contains(t, text.String(), "Push\n  subscriptions accepted 12; monitor requests to nodes 60\n  notifications 30, wake-ups 29\n")
	assert.Contains(t, text.String(), "store to wake-up: p50 650 ms, p90 1.6 s, p99 3.1 s, max 5.4 s (29 samples)")
	assert.Contains(t, text.String(), "failures: wake-failed 1")
	assert.Contains(t, page.String(), "<h2>Push</h2>")
	assert.Contains(t, page.String(), "30 / 29")
}

func TestPlatformChartWithoutData(t *testing.T) {
	// Group messages count in the end-to-end latency but have no one recipient platform: every
	// platform's series can be empty while the run's latency is not.
	c, err := platformChart(map[string]results.Percentiles{"desktop": {}, "ios": {}})
	require.NoError(t, err)
	assert.Nil(t, c, "no chart rather than an axis without data")

	s := sample()
	s.EndToEndByPlatform = map[string]results.Percentiles{"desktop": {}}
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, s, nil, nil, nil), "a report whose platform latencies are all empty")
}

// TestTextWarnsOfDroppedEvents: the text report warns when the nodes dropped event lines
// (docker mode), and says nothing of them otherwise.
func TestTextWarnsOfDroppedEvents(t *testing.T) {
	for _, tc := range []struct {
		dropped uint64
		warned  bool
	}{{0, false}, {37, true}} {
		s := sample()
		s.Engine.EventsDropped = tc.dropped
		var text bytes.Buffer
		WriteText(&text, s, nil)
		if tc.warned {
			assert.Contains(t, text.String(), "the nodes dropped 37 event lines")
		} else {
			assert.NotContains(t, text.String(), "event lines")
		}
	}
}
