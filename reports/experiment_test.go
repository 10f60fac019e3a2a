package reports

import (
	"bytes"
	"image/color"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
)

// sampleSweep is a sweep of two arms over three seeds: the delivery ratio rises in the second
// arm, the node count is the same in every run.
func sampleSweep() stats.Experiment {
	table := func(ratios ...float64) stats.Table {
		tb := stats.Table{Figures: []string{"delivery_ratio", "nodes", "onion_rtt_ms.p99"}}
		for i, r := range ratios {
			tb.Values = append(tb.Values, []*float64{ptr(r), ptr(12.0), ptr(900 + 50*float64(i))})
		}
		return tb
	}
	e := stats.Experiment{Kind: "sweep", Schema: 1, Scenario: "demo", Seeds: []uint64{1, 2, 3},
		Params: []stats.Param{{Key: "nodes.storage_server", Values: []string{"2.8", "2.11"}}},
		Arms: []stats.Arm{
			stats.NewArm("arm-01-nodes.storage_server=2.8", []stats.Setting{{Key: "nodes.storage_server", Value: "2.8"}}, table(0.90, 0.92, 0.91)),
			stats.NewArm("arm-02-nodes.storage_server=2.11", []stats.Setting{{Key: "nodes.storage_server", Value: "2.11"}}, table(0.99, 0.995, 0.992)),
		}}
	e.DiffToFirst()
	return e
}

// TestNumbers: a table's number (num) and a chart's axis label (tick) for the same values.
func TestNumbers(t *testing.T) {
	cases := []struct {
		v         float64
		num, tick string
	}{
		{0, "0", "0"},
		{1, "1", "1"},
		{0.8776, "0.8776", "0.878"},
		{0.999834, "0.999834", "1"},
		{950, "950", "950"},
		{1024.4, "1024.4", "1020"},
		{1299.4812, "1299.48", "1300"},
		{9999, "9999", "10k"},
		{12345, "12345", "12.3k"},
		{47147.31, "47147.3", "47.1k"},
		{596925, "596925", "597k"},
		{999999.7, "1000000", "1M"},
		{1.40285734e8, "140285734", "140M"},
		{140285734.6, "140285735", "140M"},
		{-7.4854e7, "-74854000", "-74.9M"},
		{2.5e9, "2500000000", "2.5G"},
		{3e12, "3000000000000", "3T"},
		{0.00012345, "0.00012345", "0.000123"},
		{1.2e-5, "1.2e-05", "1.2e-05"},
	}
	for _, tc := range cases {
		t.Run(tc.num, func(t *testing.T) {
			assert.Equal(t, tc.num, num(&tc.v))
			assert.Equal(t, tc.tick, tick(tc.v))
		})
	}
	assert.Equal(t, "n/a", num(nil))
}

func TestCount(t *testing.T) {
	cases := []struct {
		n    int
		noun string
		want string
	}{
		{0, "sample", "0 samples"},
		{1, "sample", "1 sample"},
		{2, "sample", "2 samples"},
		{1, "late reply", "1 late reply"},
		{3, "late reply", "3 late replies"},
		{2, "expiry", "2 expiries"},
		{2, "key", "2 keys"},
		{1, "more figure", "1 more figure"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, Count(tc.n, tc.noun))
		})
	}
	assert.Equal(t, "1 block", Count(uint64(1), "block"), "any integer type")
}

func TestExperimentTextSaysWhatItShows(t *testing.T) {
	one := sampleSweep()
	one.Seeds = one.Seeds[:1]
	cases := []struct {
		name string
		e    stats.Experiment
		want string
	}{
		{"three seeds", sampleSweep(), `Scenario "demo", 3 seeds (1-3); means with 95% intervals over the seeds`},
		{"one seed", one, `Scenario "demo", 1 seed (1); the values of the one run, without intervals (an interval needs two seeds or more)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var text, page bytes.Buffer
			require.NoError(t, WriteExperimentText(&text, tc.e))
			assert.Equal(t, tc.want, strings.SplitN(text.String(), "\n", 2)[0])
			require.NoError(t, WriteSweepHTML(&page, tc.e))
			_, shown, _ := strings.Cut(tc.want, "; ")
			assert.Contains(t, page.String(), shown)
		})
	}
}

func TestSweepPage(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteSweepHTML(&buf, sampleSweep()))
	page := buf.String()
	assert.Equal(t, 2, strings.Count(page, "<svg"), "a chart for each figure that varies; nodes is listed instead")
	assert.Contains(t, page, "<code>nodes</code>")
	assert.Contains(t, page, `class="better">better`, "the second arm delivers more on every seed")
	assert.Equal(t, strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`), strings.Count(page, "http"), "self-contained: no address but the SVG namespace")
	assert.NotContains(t, page, "src=")
}

func TestWriteSweepCSV(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteSweepCSV(&buf, sampleSweep()))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1+2*3)
	assert.Equal(t, "arm,nodes.storage_server,figure,direction,n,mean,low,high,diff_mean,diff_low,diff_high,verdict", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "arm-01-nodes.storage_server=2.8,2.8,delivery_ratio,higher,3,0.91,"), lines[1])
	assert.True(t, strings.HasSuffix(lines[4], ",better"), lines[4])
}

// TestExperimentPagesInBrowser opens a sweep page and a compare page in headless Chromium:
// the sweep's charts are SVG in the DOM and their blue points and bars are on the screen; the
// compare page has a row per figure with its verdict.
func TestExperimentPagesInBrowser(t *testing.T) {
	bin := chromium(t)
	e := sampleSweep()
	sweepFile := pageFile(t, "sweep.html", func(w io.Writer) error { return WriteSweepHTML(w, e) })
	var svgs, circles int
	for n := range dumpDOM(t, bin, sweepFile).Descendants() {
		if isElement(n, "svg") {
			svgs++
		}
		if isElement(n, "circle") {
			circles++
		}
	}
	assert.Equal(t, 2, svgs)
	assert.Equal(t, 4, circles, "a point per arm in each chart")
	img := screenshot(t, bin, sweepFile)
	assert.Greater(t, countNear(img, [3]uint8{0x1f, 0x77, 0xb4}), 100, "blue points and interval bars drawn")

	arms, err := stats.Compare(stats.Experiment{Schema: 1, Seeds: e.Seeds, Arms: e.Arms[:1]}, stats.Experiment{Schema: 1, Seeds: e.Seeds, Arms: e.Arms[1:]})
	require.NoError(t, err)
	c := stats.Comparison{A: stats.Source{Path: "a"}, B: stats.Source{Path: "b"}, Arms: arms,
		Rules: stats.Apply([]stats.Rule{{Text: "delivery_ratio<-0.001", Figure: "delivery_ratio", Op: "<", Threshold: -0.001}}, arms)}
	compareFile := pageFile(t, "compare.html", func(w io.Writer) error { return WriteCompareHTML(w, c) })
	verdicts := map[string]string{}
	var held int
	for n := range dumpDOM(t, bin, compareFile).Descendants() {
		if !isElement(n, "tr") {
			continue
		}
		var cells []string
		for c := range n.ChildNodes() {
			if isElement(c, "td") {
				cells = append(cells, text(c))
			}
		}
		switch len(cells) {
		case 8:
			verdicts[cells[0]] = cells[7]
		case 4:
			if cells[3] == "held" {
				held++
			}
		}
	}
	assert.Equal(t, map[string]string{"delivery_ratio": stats.Better, "nodes": stats.NoChange, "onion_rtt_ms.p99": stats.NoChange}, verdicts)
	assert.Equal(t, 1, held, "the rule held")
}

// sampleAggregate is `run --seeds 2` of a leakage scenario: the synthetic leakage section in
// the first seed, and in the second the same adversaries exposing 1.2 times as many clients.
func sampleAggregate() stats.Experiment {
	first, second := syntheticLeakage(), syntheticLeakage()
	for i, a := range first.Adversaries {
		if a.View != "node" {
			continue
		}
		more := func(v *float64) *float64 { return ptr(*v * 1.2) }
		second.Adversaries[i] = nodeAdversary(a.Name, a.Kind, a.Fraction, a.Draws, a.Nodes, more(a.Exposure.Direct), more(a.Exposure.GuardAndDestination), more(a.Exposure.FullPath))
	}
	table := stats.Table{Figures: []string{"delivery_ratio", "leakage.active_clients"}, Values: [][]*float64{{ptr(0.99), ptr(400.0)}, {ptr(0.995), ptr(400.0)}}}
	arm := stats.NewArm("seeds", nil, table)
	arm.Survival = stats.AverageSurvival([]*results.Leakage{first, second})
	return stats.Experiment{Kind: "seeds", Schema: 1, Scenario: "leakage", Seeds: []uint64{1, 2}, Arms: []stats.Arm{arm}}
}

func TestAggregatePage(t *testing.T) {
	cases := []struct {
		name    string
		e       func() stats.Experiment
		figures []string // ids of the survival charts, in page order
		says    []string
	}{
		{"leakage", sampleAggregate, []string{
			"leakage-ttfc-direct-random", "leakage-ttfc-direct-operator",
			"leakage-ttfc-guard_and_destination-random", "leakage-ttfc-guard_and_destination-operator",
			"leakage-ttfc-full_path-random"},
			[]string{"Not drawn: every client stayed unexposed for the whole run at the full path level (operator).", "101 times"}},
		{"no leakage", func() stats.Experiment {
			e := sampleAggregate()
			e.Arms[0].Survival = nil
			return e
		}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteAggregateHTML(&buf, tc.e()))
			page := buf.String()
			dom := parseDOM(t, buf.Bytes())
			var ids []string
			rows := 0
			for n := range dom.Descendants() {
				if id := attr(n, "id"); isElement(n, "div") && strings.HasPrefix(id, "leakage-ttfc-") {
					ids = append(ids, id)
				}
				if isElement(n, "tr") && n.Parent != nil && n.Parent.Parent != nil && attr(n.Parent.Parent, "id") == "figures" {
					rows++
				}
			}
			assert.Equal(t, tc.figures, ids)
			assert.Equal(t, 1+2, rows, "a header and a row per figure")
			for _, s := range tc.says {
				assert.Contains(t, page, s)
			}
			assert.Equal(t, len(tc.figures), strings.Count(page, "<svg"))
		})
	}
	var buf bytes.Buffer
	assert.Error(t, WriteAggregateHTML(&buf, sampleSweep()), "a sweep has a page of its own")
}

// TestAggregatePageInBrowser opens the page of `run --seeds` in headless Chromium: each
// survival chart is SVG in the DOM with its legend, and the screenshot shows each adversary's
// line and, lighter, its interval band.
func TestAggregatePageInBrowser(t *testing.T) {
	bin := chromium(t)
	file := pageFile(t, "aggregate.html", func(w io.Writer) error { return WriteAggregateHTML(w, sampleAggregate()) })
	size := "--window-size=1200,9000" // tall enough for every chart
	dom := dumpDOM(t, bin, file, size)
	legends := map[string][]string{} // chart id -> legend entries
	for n := range dom.Descendants() {
		id := attr(n, "id")
		if !isElement(n, "div") || !strings.HasPrefix(id, "leakage-ttfc-") {
			continue
		}
		svgs := 0
		for d := range n.Descendants() {
			switch {
			case isElement(d, "svg"):
				svgs++
			case isElement(d, "span") && d.Parent.Data == "figcaption":
				legends[id] = append(legends[id], text(d))
			}
		}
		assert.Equal(t, 1, svgs, "one chart in %s", id)
	}
	median := "50%: where a curve crosses it is the median"
	assert.Equal(t, map[string][]string{
		// The median line where a band reaches below 60%; the others are zoomed in.
		"leakage-ttfc-direct-random":                  {"random-0.05", "random-0.2", median},
		"leakage-ttfc-direct-operator":                {"largest-operator", median},
		"leakage-ttfc-guard_and_destination-random":   {"random-0.05", "random-0.2", median},
		"leakage-ttfc-guard_and_destination-operator": {"largest-operator"},
		"leakage-ttfc-full_path-random":               {"random-0.05", "random-0.2"},
	}, legends)

	img := screenshot(t, bin, file)
	// A band is its line's colour at bandAlpha over the white page.
	over := func(c color.RGBA) [3]uint8 {
		mix := func(v uint8) uint8 { return uint8(255 - (255-float64(v))*bandAlpha/255 + 0.5) }
		return [3]uint8{mix(c.R), mix(c.G), mix(c.B)}
	}
	// A legend swatch is about 85 pixels and a colour is in at most three legends here: more
	// than 1,000 means its line was drawn.
	for i, name := range []string{"random-0.05", "random-0.2", "largest-operator"} {
		c := adversaryColours[i]
		assert.Greater(t, countNear(img, [3]uint8{c.R, c.G, c.B}), 1000, "pixels of %s's line", name)
	}
	// random-0.05's band is too narrow to count; the others cover large areas.
	for name, c := range map[string]color.RGBA{"random-0.2": adversaryColours[1], "largest-operator": adversaryColours[2]} {
		assert.Greater(t, countNear(img, over(c)), 20000, "pixels of %s's band", name)
	}
}
