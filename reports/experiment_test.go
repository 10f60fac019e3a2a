package reports

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
