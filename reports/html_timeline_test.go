package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/results"
)

func TestParseShape(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    *runShape
		wantErr string
	}{
		{"phases and faults", sampleScenario, &runShape{Warmup: time.Minute, Duration: 20 * time.Minute, Drain: 2 * time.Minute, Faults: []faultMark{
			{Kind: "partition", At: 5 * time.Minute, For: 5 * time.Minute, What: "regions eu-west-1 cut off from the rest"},
			{Kind: "crash", At: 12 * time.Minute, What: "3 nodes, on clients' paths"},
		}}, ""},
		{"degrade and offline in words", "faults:\n- {kind: degrade, at: 1m, fraction: 0.1, added_latency: 200ms, loss: 0.02}\n- {kind: offline, at: 2m, for: 1m, count: 5}\n",
			&runShape{Faults: []faultMark{
				{Kind: "degrade", At: time.Minute, What: "10.00% of the nodes, +200 ms, 2.00% loss"},
				{Kind: "offline", At: 2 * time.Minute, For: time.Minute, What: "5 clients"},
			}}, ""},
		{"a duration that is not one", "warmup: 1m\nfaults:\n- {kind: crash, at: soon}\n", nil, `faults[0].at: "soon" is not a duration`},
		{"not YAML", "warmup: [1m\n", nil, "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseShape([]byte(tt.yaml))
			if !testkit.WantNoError(t, err, tt.wantErr) {
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFaultRows(t *testing.T) {
	sh := &runShape{Warmup: time.Minute, Faults: []faultMark{
		{Kind: "partition", At: 5 * time.Minute, For: 5 * time.Minute},
		{Kind: "degrade", At: 10 * time.Minute},                    // until the end
		{Kind: "offline", At: 20 * time.Minute, For: time.Hour},    // cut at the end
		{Kind: "crash", At: 90 * time.Second},                      // a crash for good is a moment
		{Kind: "crash", At: 3 * time.Minute, For: 2 * time.Minute}, // until the restart
		{Kind: "hang", At: 4 * time.Minute, For: time.Minute},
	}}
	assert.Equal(t, []faultRow{
		{Kind: "partition", When: "6 min to 11 min"},
		{Kind: "degrade", When: "11 min to 23 min"},
		{Kind: "offline", When: "21 min to 23 min"},
		{Kind: "crash", When: "at 2.5 min"},
		{Kind: "crash", When: "4 min to 6 min"},
		{Kind: "hang", When: "5 min to 6 min"},
	}, faultRows(sh, 1380))
}

func TestParamRows(t *testing.T) {
	tests := []struct {
		name, scenario, defaults string
		want                     []paramRow
	}{
		{"changed, unchanged and only in the scenario",
			"seed: 7\nwarmup: 1m0s\nnodes: {count: 30, regions: {eu: 1}}\nclients: {onion_padding: [512, 1024]}\nfaults:\n- {kind: crash, at: 1m0s}\n",
			"seed: 1\nwarmup: 1m0s\nnodes: {count: 100, regions: {eu: 1}}\nclients: {onion_padding: none}\nfaults: []\n",
			[]paramRow{
				{Key: "clients.onion_padding", Value: "[512, 1024]", Default: "none", Changed: true},
				{Key: "faults[0].at", Value: "1m0s", Changed: true},
				{Key: "faults[0].kind", Value: "crash", Changed: true},
				{Key: "nodes.count", Value: "30", Default: "100", Changed: true},
				{Key: "nodes.regions.eu", Value: "1", Default: "1"},
				{Key: "seed", Value: "7", Default: "1", Changed: true},
				{Key: "warmup", Value: "1m0s", Default: "1m0s"},
			}},
		{"no defaults: nothing marked", "seed: 7\nnodes: {}\n", "",
			[]paramRow{{Key: "nodes", Value: "{}"}, {Key: "seed", Value: "7"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var defaults []byte
			if tt.defaults != "" {
				defaults = []byte(tt.defaults)
			}
			got, err := paramRows([]byte(tt.scenario), defaults)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestWriteHTMLTimeline builds reports from synthetic summaries and checks which charts and
// tables each holds: the full timeline, a summary from before the timeline (replication
// samples only), a run without a scenario file, and one whose scenario file is unreadable.
func TestWriteHTMLTimeline(t *testing.T) {
	old := sample()
	old.Timeline, old.TimelineBucketSeconds, old.EndToEndByPlatform = nil, 0, nil
	tests := []struct {
		name     string
		s        results.Summary
		scenario string
		want     []string
		notWant  []string
	}{
		{"timeline with phases and faults", sample(), sampleScenario,
			[]string{`id="chart-messages"`, `id="chart-latency-time"`, `id="chart-copies"`, `id="chart-platforms"`, `id="faults"`,
				"<td>partition</td><td>6 min to 11 min</td>", `<tr class="changed"><th>seed</th><td>7 <span class="default">(default 1)</span>`,
				"<tr><th>warmup</th><td>1m0s</td></tr>", "10 of 16 parameters differ", "recipient on ios</th><td>p50 3 s",
				">warmup</span>", ">fault</span>"},
			[]string{"could not be read"}},
		{"a summary from before the timeline", old, sampleScenario,
			[]string{`id="chart-copies"`, ">minimum</span>", ">mean</span>"},
			[]string{`id="chart-messages"`, `id="chart-latency-time"`, `id="chart-platforms"`, ">p1</span>"}},
		{"no scenario file", sample(), "",
			[]string{`id="chart-messages"`},
			[]string{">warmup</span>", `id="faults"`, `id="params"`}},
		{"an unreadable scenario file", sample(), "warmup: later\n",
			[]string{`id="chart-messages"`, "scenario.yaml could not be read (warmup: &#34;later&#34; is not a duration"},
			[]string{">warmup</span>", `id="params"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteHTML(&buf, tt.s, nil, []byte(tt.scenario), []byte(sampleDefaults)))
			out := buf.String()
			// Not assert.Contains: a failure would print the whole page.
			for _, w := range tt.want {
				assert.True(t, strings.Contains(out, w), "the report holds %q", w)
			}
			for _, w := range tt.notWant {
				assert.False(t, strings.Contains(out, w), "the report does not hold %q", w)
			}
			assert.Equal(t, strings.Count(out, "<figure"), strings.Count(out, "<svg"), "a drawing in every figure")
		})
	}
}
