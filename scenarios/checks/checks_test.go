package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/results"
)

// adversary and leakSummary stand for a summary with a list of named elements, the shape the
// leakage figures take.
type adversary struct {
	Name     string `json:"name"`
	Nodes    int    `json:"nodes"`
	Exposure struct {
		Direct float64  `json:"direct"`
		Linked *float64 `json:"linked"`
	} `json:"exposure"`
}

type leakSummary struct {
	DeliveryRatio *float64 `json:"delivery_ratio"`
	Leakage       struct {
		Adversaries []adversary `json:"adversaries"`
	} `json:"leakage"`
	ByCause    map[string]uint64              `json:"by_cause,omitempty" figure:"counts"`
	ByPlatform map[string]results.Percentiles `json:"by_platform"`
	Timeline   [][3]float64                   `json:"timeline"`
	Hidden     int                            `json:"-"`
	Skipped    int                            `json:"skipped" figure:"-"`
	Note       string                         `json:"note"`
}

var leakSchema = SchemaOf(leakSummary{})

func ptr[T any](v T) *T { return &v }

func leakSample() leakSummary {
	s := leakSummary{DeliveryRatio: ptr(0.75), Timeline: [][3]float64{{60, 5, 7}, {120, 6, 7.5}}}
	s.Leakage.Adversaries = []adversary{{Name: "random-0.05", Nodes: 100}, {Name: "operator", Nodes: 200}}
	s.Leakage.Adversaries[0].Exposure.Direct = 0.01
	s.Leakage.Adversaries[1].Exposure.Direct = 0.2
	s.Leakage.Adversaries[1].Exposure.Linked = ptr(0.3)
	s.ByPlatform = map[string]results.Percentiles{"ios": {P50: 640}}
	s.ByCause = map[string]uint64{"timeout": 3}
	return s
}

func TestParse(t *testing.T) {
	cases := []struct {
		text    string
		figure  string
		op      Op
		value   float64
		low     float64
		high    float64
		wantErr string
	}{
		{text: "delivery_ratio >= 0.999", figure: "delivery_ratio", op: AtLeast, value: 0.999},
		{text: "  onion_rtt_ms.p99<=2000 ", figure: "onion_rtt_ms.p99", op: AtMost, value: 2000},
		{text: "messages.lost == 0", figure: "messages.lost", op: Equal, value: 0},
		{text: "replication.min_copies between 5 and 10", figure: "replication.min_copies", op: Between, low: 5, high: 10},
		{text: "replication.min_copies between 5 and 5", figure: "replication.min_copies", op: Between, low: 5, high: 5},
		{text: "cpu.mean_node_utilisation <= 5e-2", figure: "cpu.mean_node_utilisation", op: AtMost, value: 0.05},
		{text: "network.decommissions >= -1", figure: "network.decommissions", op: AtLeast, value: -1},
		{text: "onion_rtt_ms_by_platform.ios.p50 <= 800", figure: "onion_rtt_ms_by_platform.ios.p50", op: AtMost, value: 800},
		{text: "", wantErr: "empty check"},
		{text: "delivery_ratio", wantErr: "no operator"},
		{text: "delivery_ratio 0.9", wantErr: "no operator"},
		{text: "delivery_ratio > 0.9", wantErr: `operator ">"`},
		{text: "delivery_ratio = 0.9", wantErr: `operator "="`},
		{text: "delivery_ratio != 0.9", wantErr: `operator "!="`},
		{text: "delivery_ratio => 0.9", wantErr: `operator "=>"`},
		{text: ">= 0.9", wantErr: "no figure before >="},
		{text: "delivery_ratio >=", wantErr: "no value to compare with"},
		{text: "delivery_ratio >= 99%", wantErr: `value "99%" is not a number`},
		{text: "delivery_ratio >= NaN", wantErr: `value "NaN" is not a number`},
		{text: "delivery_ratio >= 0.9 or so", wantErr: `value "0.9 or so" is not a number`},
		{text: "replication.min_copies between 5", wantErr: "expected FIGURE between A and B"},
		{text: "replication.min_copies between 5 or 10", wantErr: "expected FIGURE between A and B"},
		{text: "replication.min_copies between 10 and 5", wantErr: "lower one first"},
		{text: "replication.min_copies between five and 10", wantErr: `value "five" is not a number`},
		{text: "onion_rtt_ms..p99 <= 1", wantErr: "empty part"},
		{text: "onion_rtt_ms.p95 <= 1", wantErr: `no figure "onion_rtt_ms.p95" in the summary (closest: onion_rtt_ms.p90, onion_rtt_ms.p99, onion_rtt_ms.p50)`},
		{text: "deliver_ratio >= 1", wantErr: "closest: delivery_ratio"},
		{text: "scenario == 1", wantErr: "scenario is a string, not a number"},
		{text: "checks[0].value == 1", wantErr: `no figure "checks[0].value"`},
		{text: "onion_rtt_ms <= 1", wantErr: "not one figure but several: name one, e.g. onion_rtt_ms.count"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			c, err := Parse(tc.text)
			if !testkit.WantNoError(t, err, tc.wantErr) {
				return
			}
			assert.Equal(t, strings.TrimSpace(tc.text), c.Text)
			assert.Equal(t, tc.figure, c.Figure.String())
			assert.Equal(t, tc.op, c.Op)
			assert.Equal(t, tc.value, c.Value)
			assert.Equal(t, tc.low, c.Low)
			assert.Equal(t, tc.high, c.High)
		})
	}
}

func TestParsePath(t *testing.T) {
	cases := []struct {
		path    string
		steps   []step
		wantErr string
	}{
		{path: "delivery_ratio", steps: []step{{kind: keyStep, key: "delivery_ratio"}}},
		{path: "a.b.c", steps: []step{{key: "a"}, {key: "b"}, {key: "c"}}},
		{path: "leakage.adversaries[name=random-0.05].exposure.direct", steps: []step{
			{key: "leakage"}, {key: "adversaries"}, {kind: matchStep, key: "name", value: "random-0.05"}, {key: "exposure"}, {key: "direct"}}},
		{path: "timeline[10][2]", steps: []step{{key: "timeline"}, {kind: indexStep, index: 10}, {kind: indexStep, index: 2}}},
		{path: "", wantErr: "empty figure path"},
		{path: ".a", wantErr: "empty part"},
		{path: "a.", wantErr: "empty part"},
		{path: "[0]", wantErr: "empty part"},
		{path: "a[0", wantErr: "no closing ]"},
		{path: "a[0]]", wantErr: `unexpected "]"`},
		{path: "a[-1]", wantErr: "an index from 0"},
		{path: "a[x]", wantErr: "an index from 0"},
		{path: "a[name=]", wantErr: "no value after ="},
		{path: "a[=x]", wantErr: "FIELD a plain name"},
		{path: "a[0]b", wantErr: `unexpected "b"`},
		{path: "a b", wantErr: "holds a space"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p, err := ParsePath(tc.path)
			if !testkit.WantNoError(t, err, tc.wantErr) {
				return
			}
			assert.Equal(t, tc.steps, p.steps)
			assert.Equal(t, tc.path, p.String())
		})
	}
}

func TestSchemaFigures(t *testing.T) {
	assert.Equal(t, []string{
		"by_cause.<key>",
		"by_platform.<key>.count", "by_platform.<key>.max", "by_platform.<key>.mean",
		"by_platform.<key>.p50", "by_platform.<key>.p90", "by_platform.<key>.p99",
		"delivery_ratio",
		"leakage.adversaries[<i>].exposure.direct", "leakage.adversaries[<i>].exposure.linked", "leakage.adversaries[<i>].nodes",
		"timeline[<i>][<i>]",
	}, leakSchema.Figures(), "numbers only; json:\"-\" and figure:\"-\" left out")

	figures := Summary.Figures()
	for _, want := range []string{"delivery_ratio", "onion_rtt_ms.p99", "replication.min_copies", "onion_rtt_ms_by_platform.<key>.p50",
		"messages.lost_by_cause.<key>", "messages.in_flight", "rpc_by_method.<key>.<key>.<key>",
		"traffic.forwards_by_cause.<key>", "traffic.forwards_by_platform.<key>.<key>", "engine.events", "replication.timeline[<i>][<i>]"} {
		assert.Contains(t, figures, want)
	}
	for _, f := range figures {
		assert.False(t, strings.HasPrefix(f, "checks"), "the checks are no figure: %s", f)
		assert.NotContains(t, []string{"scenario", "crypto", "version"}, f, "strings are no figures")
		// Every figure the schema lists is one a check may name.
		concrete := strings.NewReplacer(anyKey, "x", anyElement, "[0]").Replace(f)
		_, err := Parse(concrete + " >= 0")
		assert.NoError(t, err, f)
	}
}

func TestValidateShape(t *testing.T) {
	cases := []struct {
		path    string
		wantErr string
	}{
		{path: "leakage.adversaries[name=random-0.05].exposure.direct"},
		{path: "leakage.adversaries[1].exposure.linked"},
		{path: "leakage.adversaries[nodes=100].nodes"},
		{path: "by_platform.android.p99"},
		{path: "by_cause.anything"},
		{path: "timeline[3][2]"},
		{path: "delivery_ratio"},
		{path: "leakage.adversaries.random.exposure.direct", wantErr: "leakage.adversaries is a list: pick an element with [N] or [FIELD=VALUE] before .random"},
		{path: "leakage.adversaries[id=3].nodes", wantErr: `the elements of leakage.adversaries have no name or number "id"`},
		{path: "leakage.adversaries[exposure=x].nodes", wantErr: `no name or number "exposure"`},
		{path: "leakage.adversaries[0].exposure.direkt", wantErr: `closest: leakage.adversaries[<i>].exposure.direct`},
		{path: "leakage.adversaries[0]", wantErr: "not one figure but several: name one, e.g. leakage.adversaries[<i>].exposure.direct"},
		{path: "leakage[0].x", wantErr: "leakage is a group of figures, not a list"},
		{path: "by_platform[0].p50", wantErr: "by_platform is keyed by name, not a list"},
		{path: "by_platform.ios.p55", wantErr: "closest: by_platform.<key>.p50"},
		{path: "timeline[0][3]", wantErr: "timeline[<i>] has 3 elements: [3] is past its end"},
		{path: "delivery_ratio.x", wantErr: "delivery_ratio is a single figure"},
		{path: "note", wantErr: "note is a string, not a number"},
		{path: "hidden", wantErr: `no figure "hidden"`},
		{path: "skipped", wantErr: `no figure "skipped"`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p, err := ParsePath(tc.path)
			require.NoError(t, err)
			testkit.WantNoError(t, leakSchema.Validate(p), tc.wantErr)
		})
	}
}

func TestLookup(t *testing.T) {
	cases := []struct {
		path    string
		want    *float64
		wantErr string
	}{
		{path: "delivery_ratio", want: ptr(0.75)},
		{path: "leakage.adversaries[name=random-0.05].exposure.direct", want: ptr(0.01)},
		{path: "leakage.adversaries[name=operator].exposure.direct", want: ptr(0.2)},
		{path: "leakage.adversaries[1].exposure.linked", want: ptr(0.3)},
		{path: "leakage.adversaries[0].exposure.linked", want: nil},
		{path: "leakage.adversaries[nodes=200].exposure.direct", want: ptr(0.2)},
		{path: "leakage.adversaries[0].nodes", want: ptr(100.0)},
		{path: "by_platform.ios.p50", want: ptr(640.0)},
		{path: "by_cause.timeout", want: ptr(3.0)},
		{path: "by_cause.never", want: ptr(0.0)},
		{path: "timeline[1][2]", want: ptr(7.5)},
		{path: "leakage.adversaries[name=random-0.5].exposure.direct", wantErr: "leakage.adversaries has no element with name=random-0.5 in this run (names: random-0.05, operator)"},
		{path: "leakage.adversaries[2].nodes", wantErr: "leakage.adversaries has 2 elements in this run: [2] is past its end"},
		{path: "by_platform.linux.p50", wantErr: `by_platform has no "linux" in this run (it has: ios)`},
		{path: "timeline[2][0]", wantErr: "timeline has 2 elements in this run"},
	}
	s := leakSample()
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p, err := ParsePath(tc.path)
			require.NoError(t, err)
			require.NoError(t, leakSchema.Validate(p))
			for _, v := range []any{s, &s} {
				got, err := Lookup(v, p)
				if !testkit.WantNoError(t, err, tc.wantErr) {
					continue
				}
				assert.Equal(t, tc.want, got)
			}
		})
	}
	p, err := ParsePath("leakage.adversaries[name=x].nodes")
	require.NoError(t, err)
	_, err = Lookup(leakSummary{}, p)
	assert.ErrorContains(t, err, "no element with name=x in this run (names: none)")
}

func TestEvaluate(t *testing.T) {
	s := results.Summary{
		DeliveryRatio: ptr(0.999),
		OnionRTTMs:    results.Percentiles{P99: 2000},
		Replication:   results.Replication{MinCopies: 5},
		OnionRTTByPlatform: map[string]results.Percentiles{
			"ios": {P50: 700},
		},
		Messages: results.Messages{Lost: 2, LostByCause: map[string]uint64{"timeout": 2}},
		RPCByMethod: map[string]map[string]map[string]uint64{
			"desktop": {"retrieve": {"0": 40, "5": 40}, "get_swarm": {results.NoNamespace: 3}},
		},
		Traffic: results.Traffic{
			ForwardsByCause:    map[string]uint64{"store": 12},
			ForwardsByPlatform: map[string]map[string]uint64{"ios": {"store": 12}},
		},
		MessagesByKind: map[string]results.KindMessages{
			"group": {Messages: results.Messages{Sent: 40, Delivered: 39, Lost: 1}, DeliveryRatio: ptr(0.975)},
		},
		MessagesByGroupSize: map[string]results.KindMessages{
			"51-100": {Messages: results.Messages{Sent: 3, Delivered: 3}, DeliveryRatio: ptr(1.0)},
		},
		Groups: &results.Groups{Count: 4, KeyRotations: 2},
	}
	cases := []struct {
		check      string
		passed     bool
		value      *float64
		wantReason string
	}{
		{"delivery_ratio >= 0.999", true, ptr(0.999), ""},
		{"delivery_ratio >= 0.9991", false, ptr(0.999), "measured 0.999"},
		{"onion_rtt_ms.p99 <= 2000", true, ptr(2000.0), ""},
		{"onion_rtt_ms.p99 <= 1999.5", false, ptr(2000.0), "measured 2000"},
		{"replication.min_copies == 5", true, ptr(5.0), ""},
		{"replication.min_copies == 6", false, ptr(5.0), "measured 5"},
		{"replication.min_copies between 5 and 7", true, ptr(5.0), ""},
		{"replication.min_copies between 3 and 5", true, ptr(5.0), ""},
		{"replication.min_copies between 6 and 7", false, ptr(5.0), "measured 5"},
		{"onion_rtt_ms_by_platform.ios.p50 <= 800", true, ptr(700.0), ""},
		{"onion_rtt_ms_by_platform.android.p50 <= 800", false, nil, `onion_rtt_ms_by_platform has no "android" in this run (it has: ios)`},
		{"messages.lost_by_cause.timeout <= 1", false, ptr(2.0), "measured 2"},
		{"paths.dropped_by_cause.timeout == 0", true, ptr(0.0), ""},
		{"rpc_by_method.desktop.retrieve.5 == 40", true, ptr(40.0), ""},
		{"rpc_by_method.desktop.get_swarm.none <= 2", false, ptr(3.0), "measured 3"},
		{"rpc_by_method.desktop.store.0 >= 1", false, nil, `rpc_by_method.desktop has no "store" in this run (it has: get_swarm, retrieve)`},
		{"traffic.forwards_by_cause.store == 12", true, ptr(12.0), ""},
		{"traffic.forwards_by_cause.expire == 0", true, ptr(0.0), ""},
		{"traffic.forwards_by_platform.ios.store >= 12", true, ptr(12.0), ""},
		{"messages_by_kind.group.delivery_ratio >= 0.99", false, ptr(0.975), "measured 0.975"},
		{"messages_by_kind.group.delivery_ratio >= 0.97", true, ptr(0.975), ""},
		{"messages_by_kind.group.sent == 40", true, ptr(40.0), ""}, // Messages is embedded, as the JSON flattens it
		{"messages_by_kind.group.lost <= 0", false, ptr(1.0), "measured 1"},
		{"messages_by_kind.group.end_to_end_latency_ms.p99 <= 60000", true, ptr(0.0), ""},
		{"messages_by_kind.voice.sent >= 1", false, nil, `messages_by_kind has no "voice" in this run (it has: group)`},
		{"messages_by_group_size.51-100.delivery_ratio >= 0.99", true, ptr(1.0), ""},
		{"groups.key_rotations >= 1", true, ptr(2.0), ""},
		{"groups.count == 4", true, ptr(4.0), ""},
	}
	for _, tc := range cases {
		t.Run(tc.check, func(t *testing.T) {
			c, err := Parse(tc.check)
			require.NoError(t, err)
			r := c.Evaluate(s)
			assert.Equal(t, results.CheckResult{Check: tc.check, Figure: c.Figure.String(), Value: tc.value, Passed: tc.passed, Reason: tc.wantReason}, r)
		})
	}

	s.DeliveryRatio = nil
	cs, err := ParseAll([]string{"delivery_ratio >= 0", "messages.lost <= 2"})
	require.NoError(t, err)
	got := Evaluate(cs, s)
	require.Len(t, got, 2)
	assert.False(t, got[0].Passed, "a null figure fails")
	assert.Equal(t, "delivery_ratio is null in this run (nothing to measure)", got[0].Reason)
	assert.True(t, got[1].Passed)

	_, err = ParseAll([]string{"delivery_ratio >= 0", "delivery_ratio > 0"})
	assert.ErrorContains(t, err, `checks[1] "delivery_ratio > 0"`)
}

func TestFromYAML(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		strict  bool
		want    int // checks read
		wantErr string
	}{
		{"checks file", "checks:\n  - delivery_ratio >= 0.999\n  - onion_rtt_ms.p99 <= 2000\n", true, 2, ""},
		{"scenario with checks", "name: x\nnodes: {count: 3}\nchecks:\n  - delivery_ratio >= 0.999\n", false, 1, ""},
		{"scenario without checks", "name: x\n", false, 0, ""},
		{"empty checks", "name: x\nchecks: []\n", false, 0, ""},
		{"other key in a checks file", "checks: []\nnodes: 3\n", true, 0, `checks t.yaml:2: unknown key "nodes"`},
		{"no checks in a checks file", "# nothing\n", true, 0, "checks t.yaml: the file is empty"},
		{"null checks in a checks file", "checks:\n", true, 0, "checks t.yaml: no `checks:` list"},
		{"checks not a list", "checks: delivery_ratio >= 1\n", true, 0, "checks t.yaml:1: `checks` must be a list"},
		{"not a mapping", "- delivery_ratio >= 1\n", true, 0, "expected a mapping"},
		{"bad YAML", "checks: [\n", true, 0, "not valid YAML"},
		{"check not a string", "checks:\n  - delivery_ratio >= 1\n  - {delivery_ratio: 1}\n", true, 0, "checks t.yaml:3: checks[1]"},
		{"bad check", "checks:\n  - delivery_ratio >= 1\n\n  - onion_rtt_ms.p95 <= 1\n", true, 0, `checks t.yaml:4: checks[1] "onion_rtt_ms.p95 <= 1": no figure "onion_rtt_ms.p95" in the summary (closest: onion_rtt_ms.p90`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := FromYAML([]byte(tc.src), "t.yaml", tc.strict)
			if !testkit.WantNoError(t, err, tc.wantErr) {
				var ce *Error
				assert.ErrorAs(t, err, &ce)
				return
			}
			assert.Len(t, cs, tc.want)
		})
	}

	path := filepath.Join(t.TempDir(), "thresholds.yaml")
	require.NoError(t, os.WriteFile(path, []byte("checks: [\"delivery_ratio >= 0.5\"]\n"), 0o644))
	cs, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "delivery_ratio >= 0.5", cs[0].Text)
	_, err = ReadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	assert.ErrorContains(t, err, "absent.yaml")
}

// A figure of an embedded struct is named as summary.json writes it, among the outer struct's
// own: messages_by_kind.<kind>.delivered, not .Messages.delivered.
func TestEmbeddedFigures(t *testing.T) {
	s := results.Summary{
		MessagesByKind: map[string]results.KindMessages{"photo": {Messages: results.Messages{Sent: 5, Delivered: 4, Lost: 1, LostByCause: map[string]uint64{"upload-timeout": 1}}}},
		FileServer:     &results.FileServer{Uploads: 3},
	}
	for _, tc := range []struct {
		check string
		pass  bool
	}{
		{"messages_by_kind.photo.delivered == 4", true},
		{"messages_by_kind.photo.lost_by_cause.upload-timeout == 1", true},
		{"messages_by_kind.photo.lost_by_cause.download-timeout == 0", true},
		{"file_server.uploads >= 4", false},
	} {
		c, err := Parse(tc.check)
		require.NoError(t, err, tc.check)
		assert.Equal(t, tc.pass, c.Evaluate(s).Passed, tc.check)
	}
	_, err := Parse("messages_by_kind.photo.Messages.delivered >= 1")
	assert.Error(t, err, "the embedded struct is no level of the path")
}
