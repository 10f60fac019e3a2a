package reports

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// nodeAdversary is a node-view adversary whose exposure at the end is direct, gd and full
// (nil: not measured), grown over a 20-minute run, with a Kaplan-Meier curve whose drop at
// time zero is half the direct exposure.
func nodeAdversary(name, kind string, fraction *float64, draws int, nodes float64, direct, gd, full *float64) results.Adversary {
	a := results.Adversary{Name: name, Kind: kind, Fraction: fraction, View: "node", Draws: draws, Nodes: nodes,
		Exposure: results.Exposure{Direct: direct, GuardAndDestination: gd, FullPath: full}}
	if draws > 1 {
		spread := func(v *float64, by float64) *float64 {
			if v == nil {
				return nil
			}
			return ptr(*v * by)
		}
		a.ExposureLow = results.Exposure{Direct: spread(direct, 0.9), GuardAndDestination: spread(gd, 0.8), FullPath: spread(full, 0.5)}
		a.ExposureHigh = results.Exposure{Direct: spread(direct, 1.1), GuardAndDestination: spread(gd, 1.2), FullPath: spread(full, 1.5)}
	}
	const end = 1200.0
	for i := range 61 {
		a.Timeline.TS = append(a.Timeline.TS, end*float64(i)/60)
	}
	grow := func(v *float64) []float64 {
		if v == nil {
			return nil
		}
		out := make([]float64, len(a.Timeline.TS))
		for i, t := range a.Timeline.TS {
			out[i] = *v * (1 - math.Exp(-t/200))
		}
		return out
	}
	curve := func(v *float64, atOnce float64) *results.Survival {
		if v == nil {
			return nil
		}
		sv := &results.Survival{Curve: [][2]float64{{0, 1 - atOnce**v}}}
		for t := 0.01; t < end; t *= 2 {
			sv.Curve = append(sv.Curve, [2]float64{t, 1 - *v*(atOnce+(1-atOnce)*(1-math.Exp(-t/300)))})
		}
		if *v >= 0.5 {
			sv.MedianS = ptr(200.0)
		}
		return sv
	}
	a.Timeline.Direct, a.Timeline.GuardAndDestination, a.Timeline.FullPath = grow(direct), grow(gd), grow(full)
	a.TTFC = results.TTFC{Direct: curve(direct, 0.5), GuardAndDestination: curve(gd, 0), FullPath: curve(full, 0)}
	return a
}

// linkAdversary is a link observer that watched both ends for a share both of the clients.
func linkAdversary(name, kind string, both float64) results.Adversary {
	return results.Adversary{Name: name, Kind: kind, View: "link", Draws: 1, TimingBothEnds: ptr(both)}
}

// syntheticLeakage is a leakage section with every figure: random coalitions of 5% and 20%,
// the largest operator, a region observer; the attack's ROC curves and anonymity sets.
func syntheticLeakage() *results.Leakage {
	l := &results.Leakage{ActiveClients: 400, ActivePairs: 900, ClientsPerNode: 2, GuardCandidatesTestedMean: 2,
		Adversaries: []results.Adversary{
			nodeAdversary("random-0.05", "random", ptr(0.05), 16, 10, ptr(0.0975), ptr(0.02), ptr(0.0)),
			nodeAdversary("random-0.2", "random", ptr(0.2), 16, 40, ptr(0.36), ptr(0.24), ptr(0.0125)),
			nodeAdversary("largest-operator", "operator", nil, 1, 20, ptr(0.2), ptr(0.09), ptr(0.0)),
			linkAdversary("eu-west-1", "region", 0.34),
		},
		Roles: []results.RoleView{
			{Role: "guard", Sees: []string{"client address", "time"}, Counts: map[string]uint64{"onion_requests": 1234, "bytes_in": 5 << 20}},
			{Role: "guard_candidate", Sees: []string{"client address", "method"}, Counts: map[string]uint64{"direct_requests": 800}},
		},
	}
	roc := func(power float64) [][2]float64 {
		var pts [][2]float64
		for fpr := 1e-5; fpr <= 1; fpr *= 10 {
			pts = append(pts, [2]float64{fpr, math.Pow(fpr, power)})
		}
		return pts
	}
	for i, power := range map[int]float64{1: 0.2, 3: 0.4} {
		target := "account"
		if l.Adversaries[i].View == "link" {
			target = "node"
		}
		l.Adversaries[i].Linkability = map[string]*results.Linkability{
			"1m":  {Target: target, LinkAttack: results.LinkAttack{TPRAtFPR1e3: ptr(math.Pow(1e-3, power+0.1)), Precision: ptr(0.3), ROC: roc(power + 0.1)}},
			"10m": {Target: target, LinkAttack: results.LinkAttack{TPRAtFPR1e3: ptr(math.Pow(1e-3, power)), Precision: ptr(0.5), ROC: roc(power)}},
		}
	}
	l.Adversaries[1].AnonymitySet = &results.AnonymitySet{Median: ptr(12.0), P10: ptr(1.2),
		Histogram: [][3]float64{{1, 2, 0.125}, {2, 8, 0.2083}, {8, 64, 0.5}, {64, 512, 0.1667}}}
	l.Adversaries[2].AnonymitySet = &results.AnonymitySet{Median: ptr(80.0), P10: ptr(9.0),
		Histogram: [][3]float64{{8, 64, 0.1818}, {64, 512, 0.8182}}}
	return l
}

func TestLeakageReading(t *testing.T) {
	full := syntheticLeakage()

	nothing := syntheticLeakage()
	nothing.GuardCandidatesTestedMean = 0
	for i := range nothing.Adversaries[:3] {
		a := &nothing.Adversaries[i]
		*a = nodeAdversary(a.Name, a.Kind, a.Fraction, a.Draws, a.Nodes, ptr(0.0), ptr(0.0), ptr(0.0))
	}

	// Direct far above the closed form, and onion routing giving the operator nothing.
	above := syntheticLeakage()
	above.Adversaries[0] = nodeAdversary("random-0.05", "random", ptr(0.05), 16, 10, ptr(0.30), ptr(0.02), ptr(0.0))
	above.Adversaries[2].Exposure.GuardAndDestination = ptr(0.0)

	// Coalitions that see half of the clients within the run, and one below the closed form.
	fast := syntheticLeakage()
	fast.Adversaries = []results.Adversary{
		nodeAdversary("random-0.5", "random", ptr(0.5), 8, 100, ptr(0.60), ptr(0.80), ptr(0.2)),
		nodeAdversary("random-0.9", "random", ptr(0.9), 8, 180, ptr(0.93), ptr(0.45), ptr(0.3)),
	}

	blind := syntheticLeakage()
	blind.Adversaries = []results.Adversary{linkAdversary("global", "global-timing", 0)}

	tests := []struct {
		name    string
		l       *results.Leakage
		want    []string
		notWant []string
	}{
		{"every figure", full, []string{
			"of the 400 clients that made at least one request", "2.0 clients per node",
			"random-0.2 (16 random coalitions of 20% of the nodes, 40 nodes each) exposed the most clients at every level by the end of the run: 36% (32.4% to 39.6% over its coalitions) at the direct level, 24% (19.2% to 28.8% over its coalitions) at the guard and destination level and 1.25% (0.625% to 1.88% over its coalitions) at the full path level.",
			"For every adversary, direct requests exposed more clients than holding both guard and destination of an onion request did: from 1.5 times as many (random-0.2) to 4.9 times (random-0.05).",
			"Each client tested 2.00 guard candidates on average",
			"f = 5%: predicted 9.75%, measured 9.75% (within the spread over draws); f = 20%: predicted 36%, measured 36% (within the spread over draws).",
			"Exposure comes early: 18% of random-0.2's clients were exposed by their very first request to a service node, of the 36% it exposed by the end of the run.",
			"No adversary exposed half of the clients at the direct level or the guard and destination level within the run (20.0 min of virtual time): every median time to first compromise there lies beyond it.",
			"eu-west-1 (a region link observer) decrypts nothing and never sees a Session ID. It watched both the entry and the exit link of a request for 34% of the clients",
			"Its cross-correlation attack linked 6.31% of the true (client address, destination node) pairs at a false-positive rate of 1e-3 with 10m windows",
			"For random-0.2, the correlation attack linked 25.1% of the true (sender, recipient) pairs at a false-positive rate of 1e-3 with 10m windows, and 50% of the pairs it linked were true.",
			"For the stores random-0.2 saw, the effective number of candidate senders had median 12.0 and 10th percentile 1.2: one store in ten was as good as attributed to its sender.",
			"For the stores largest-operator saw, the effective number of candidate senders had median 80.0 and 10th percentile 9.0.",
		}, []string{"NaN", "<nil>", "Inf", "above the spread", "below the spread", "half of the clients at the full path level", "not measured"}},
		{"nothing exposed", nothing, []string{
			"No adversary linked any client's IP address to its Session ID at the direct level.",
			"No adversary linked any client's IP address to its Session ID at the full path level.",
			"No client tested a guard candidate, so the closed form 1-(1-f)^m predicts no direct exposure",
		}, []string{"exposed the most clients", "Exposure comes early", "Direct requests", "times as many", "median time", "every level"}},
		{"above the closed form", above, []string{
			"f = 5%: predicted 9.75%, measured 30%, above the spread over draws (27% to 33%)",
			"than the m guard tests alone account for, or the candidates were not drawn uniformly.",
			"onion routing gave largest-operator nothing: every client it exposed, it exposed through direct requests",
		}, []string{"concave", "below the spread"}},
		{"medians within the run", fast, []string{
			"Every adversary exposed half of the clients at the direct level within the run (20.0 min): the median time from a client's first request was random-0.5 in 3.3 min and random-0.9 in 3.3 min.",
			"At the guard and destination level, 1 of 2 adversaries exposed half of the clients within the run (20.0 min): random-0.5 in 3.3 min; for random-0.9 the median lies beyond it.",
			"At the direct level, random-0.9 (8 random coalitions of 90% of the nodes, 180 nodes each) exposed the most clients: 93% (83.7% to 102% over its coalitions) by the end of the run.",
			"At the guard and destination level, random-0.5 (8 random coalitions of 50% of the nodes, 100 nodes each) exposed the most clients",
			"At the full path level, random-0.9 exposed the most clients: 30%",
			"f = 50%: predicted 75%, measured 60%, below the spread over draws (54% to 66%)",
			"concave in m",
			"Direct requests exposed more clients than holding both guard and destination of an onion request did: 2.1 times as many for random-0.9; for random-0.5, onion requests exposed more clients than direct requests.",
		}, []string{"For every adversary", "half of the clients at the full path level", "At the full path level, 1 of", "No adversary exposed half"}},
		{"a link observer that never sees both ends", blind, []string{
			"global (a global-timing link observer) decrypts nothing", "never watched both the entry and the exit link of a client's request, so it has nothing to correlate.",
		}, []string{"exposed the most", "closed form", "median", "Whether"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(leakageReading(tt.l, 1200), "\n")
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, got, w)
			}
		})
	}
}

func TestLeakageSection(t *testing.T) {
	withoutAttack := syntheticLeakage()
	for i := range withoutAttack.Adversaries {
		withoutAttack.Adversaries[i].Linkability = map[string]*results.Linkability{"1m": nil, "10m": nil, "60m": nil}
		withoutAttack.Adversaries[i].AnonymitySet = nil
	}
	tests := []struct {
		name          string
		l             *results.Leakage
		figures       []string
		notes         []string
		noNotes       []string
		columns       []string
		absentColumns []string
	}{
		{"every figure", syntheticLeakage(),
			[]string{"leakage-exposure-direct", "leakage-exposure-guard_and_destination", "leakage-exposure-full_path",
				"leakage-ttfc-direct", "leakage-ttfc-guard_and_destination", "leakage-ttfc-full_path",
				"leakage-roc-1m", "leakage-roc-10m", "leakage-anonymity"},
			nil, []string{"leakage-roc-note", "leakage-sets-note", "Not drawn"},
			[]string{"timing both ends", "linked at FPR 1e-3", "anonymity set, median"}, nil},
		{"before the attack is computed", withoutAttack,
			[]string{"leakage-exposure-direct", "leakage-exposure-guard_and_destination", "leakage-exposure-full_path",
				"leakage-ttfc-direct", "leakage-ttfc-guard_and_destination", "leakage-ttfc-full_path"},
			[]string{`id="leakage-roc-note">No ROC curve`, `id="leakage-sets-note">No anonymity-set distribution`},
			nil, []string{"timing both ends"}, []string{"linked at FPR 1e-3", "anonymity set, median"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sample()
			s.VirtualSeconds = 1200
			s.Leakage = tt.l
			var buf bytes.Buffer
			require.NoError(t, WriteHTML(&buf, s, nil, nil, nil))
			out := buf.String()
			require.Contains(t, out, `<section class="leakage" id="leakage">`)
			for _, id := range tt.figures {
				i := strings.Index(out, `<div id="`+id+`">`)
				if assert.GreaterOrEqual(t, i, 0, "figure %s", id) {
					assert.True(t, strings.HasPrefix(out[i:], `<div id="`+id+`"><figure class="chart"><svg`), "figure %s holds a chart", id)
				}
			}
			section := out[strings.Index(out, `<section class="leakage" id="leakage">`):]
			section = section[:strings.Index(section, "</section>")]
			assert.Equal(t, len(tt.figures), strings.Count(section, "<svg"), "the leakage section draws its figures and no others")
			for _, n := range tt.notes {
				assert.Contains(t, out, n)
			}
			for _, n := range tt.noNotes {
				assert.NotContains(t, out, n)
			}
			for _, c := range tt.columns {
				assert.Contains(t, out, "<th>"+c+"</th>")
			}
			for _, c := range tt.absentColumns {
				assert.NotContains(t, out, "<th>"+c+"</th>")
			}
			assert.Contains(t, out, "<td>guard candidate</td><td>client address, method</td><td>direct requests 800</td>")
			assert.Contains(t, out, "bytes in 5.0 MiB, onion requests 1234", "byte counts in binary units")
		})
	}
}

// The adversary table says what each attack linked: a link observer's links an address to
// a destination node, a coalition's to a Session ID.
func TestAdversaryRowLinkability(t *testing.T) {
	l := syntheticLeakage()
	tests := []struct {
		adversary int
		want      string
	}{
		{1, "25.12% (10m windows)"},
		{3, "6.31% (10m windows, address to destination node)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, adversaryTableRow(l.Adversaries[tt.adversary]).Linkability, l.Adversaries[tt.adversary].Name)
	}
}

func TestLeakageSectionAbsent(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, sample(), nil, nil, nil))
	assert.NotContains(t, buf.String(), "Leakage")
}

func TestLeakageChartsSayWhatIsNotDrawn(t *testing.T) {
	l := syntheticLeakage()
	for i := range l.Adversaries[:3] {
		a := &l.Adversaries[i]
		*a = nodeAdversary(a.Name, a.Kind, a.Fraction, a.Draws, a.Nodes, a.Exposure.Direct, a.Exposure.GuardAndDestination, ptr(0.0))
	}
	figs, note, err := exposureCharts(l)
	require.NoError(t, err)
	assert.Len(t, figs, 2, "direct and guard and destination")
	assert.Equal(t, "Not drawn: no adversary exposed any client at the full path level.", note)
	figs, note, err = survivalCharts(l)
	require.NoError(t, err)
	assert.Len(t, figs, 2)
	assert.Equal(t, "Not drawn: every client stayed unexposed for the whole run at the full path level.", note)

	links := &results.Leakage{Adversaries: []results.Adversary{linkAdversary("global", "global-timing", 0.5)}}
	figs, note, err = exposureCharts(links)
	require.NoError(t, err)
	assert.Empty(t, figs)
	assert.Contains(t, note, "No adversary in this run has a node view")
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{0, 1}, {-3, 1}, {38.2, 40}, {25.5, 30}, {1.31, 1.5}, {100, 100}, {0.0021, 0.0025}, {9.1, 10},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, niceCeil(tt.x), 1e-12, "niceCeil(%v)", tt.x)
	}
}

func TestRateTicks(t *testing.T) {
	var got []string
	for _, tk := range rateTicks(1e-5, 1) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	assert.Equal(t, []string{"1e-5", "1e-4", "1e-3", "1e-2", "1e-1", "1"}, got)
}

func TestSparseDurationTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range sparseDurationTicks(lo, hi) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	assert.Equal(t, []string{"200 ms", "500 ms", "1 s"}, labels(150, 1200), "few ticks: all labelled")
	assert.Equal(t, []string{"10 ms", "100 ms", "1 s", "10 s", "1 min", "10 min"}, labels(10, 1_100_000), "many: one a decade")
	assert.Len(t, sparseDurationTicks(10, 1_100_000), len(durationTicks(10, 1_100_000)), "the others stay as minor ticks")
}
