package stats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
)

func TestCompareRefuses(t *testing.T) {
	arm := func(name, value string) Arm {
		return Arm{Name: name, Settings: []Setting{{Key: "clients.paths", Value: value}}}
	}
	sweep := func(schema int, values ...string) Experiment {
		e := Experiment{Schema: schema, Seeds: []uint64{1, 2}}
		for _, v := range values {
			e.Arms = append(e.Arms, arm("arm-"+v, v))
		}
		return e
	}
	cases := []struct {
		name string
		a, b Experiment
		want string
	}{
		{"schemas differ", sweep(1, "1"), sweep(2, "1"), "different schema versions"},
		{"arm counts differ", sweep(1, "1", "2"), sweep(1, "1"), "side A has 2 arms and side B 1"},
		{"grids differ", sweep(1, "1", "2"), sweep(1, "1", "4"), "arm 2 is arm-2 in A and arm-4 in B"},
		{"single arms of any name", sweep(1, "1"), sweep(1, "4"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(tc.a, tc.b)
			testkit.WantNoError(t, err, tc.want)
		})
	}
}

func TestRules(t *testing.T) {
	cases := []struct {
		text      string
		figure    string
		op        string
		threshold float64
		diff      float64
		broken    bool
		wantErr   string
	}{
		{text: "delivery_ratio<-0.001", figure: "delivery_ratio", op: "<", threshold: -0.001, diff: -0.002, broken: true},
		{text: "delivery_ratio<-0.001", figure: "delivery_ratio", op: "<", threshold: -0.001, diff: -0.001},
		{text: " onion_rtt_ms.p99 >= 50 ", figure: "onion_rtt_ms.p99", op: ">=", threshold: 50, diff: 50, broken: true},
		{text: "onion_rtt_ms.p99>50", figure: "onion_rtt_ms.p99", op: ">", threshold: 50, diff: 50},
		{text: "leakage.adversaries[name=a>b].exposure.direct > 0", figure: "leakage.adversaries[name=a>b].exposure.direct", op: ">", diff: 0.1, broken: true},
		{text: "delivery_ratio", wantErr: "no comparison"},
		{text: "<3", wantErr: "no figure before <"},
		{text: "delivery_ratio<=x", wantErr: `threshold "x" is not a number`},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			r, err := ParseRule(tc.text)
			if !testkit.WantNoError(t, err, tc.wantErr) {
				return
			}
			assert.Equal(t, tc.figure, r.Figure)
			assert.Equal(t, tc.op, r.Op)
			assert.Equal(t, tc.threshold, r.Threshold)
			assert.Equal(t, tc.broken, r.Broken(tc.diff))
		})
	}
}

func TestApply(t *testing.T) {
	arms := []ArmComparison{{B: "b", Figures: []FigureComparison{{Figure: "delivery_ratio", Diff: Interval{N: 3, Mean: p(-0.01)}}}}}
	rules := []Rule{
		{Text: "delivery_ratio<-0.001", Figure: "delivery_ratio", Op: "<", Threshold: -0.001},
		{Text: "delivery_ratio>0.5", Figure: "delivery_ratio", Op: ">", Threshold: 0.5},
		{Text: "onion_rtt_ms.p99>1", Figure: "onion_rtt_ms.p99", Op: ">", Threshold: 1},
	}
	got := Apply(rules, arms)
	require.Len(t, got, 3)
	assert.True(t, got[0].Broken)
	assert.Equal(t, "difference -0.01", got[0].Reason)
	assert.False(t, got[1].Broken)
	assert.True(t, got[2].Broken, "a figure missing on a side is no pass")
	assert.Contains(t, got[2].Reason, "not measured on both sides")
}
