package reports

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// TestLeakageReportInBrowser opens a report with every leakage figure in a real browser: the
// DOM Chromium builds holds each chart as SVG with its legend, the reading and both tables, and
// the screenshot shows every adversary's colour and the grey references, so the charts were
// drawn rather than dropped. The report's other charts are left out so that every colour
// found comes from the Leakage section.
func TestLeakageReportInBrowser(t *testing.T) {
	bin := chromium(t)
	s := sample()
	s.VirtualSeconds = 1200
	s.Replication.Timeline = nil
	s.EndToEndMs, s.EndToEndOnlineMs, s.OnionRTTMs = results.Percentiles{}, results.Percentiles{}, results.Percentiles{}
	s.Leakage = syntheticLeakage()
	file := pageFile(t, "report.html", func(w io.Writer) error { return WriteHTML(w, s, nil, nil, nil) })
	// Tall enough for the whole section (the last flag of a repeated switch wins).
	size := "--window-size=1200,9000"

	figures := map[string]int{} // figure id -> legend entries
	rows := map[string]int{}    // table id -> rows
	var reading int
	for n := range dumpDOM(t, bin, file, size).Descendants() {
		id := attr(n, "id")
		switch {
		case isElement(n, "div") && strings.HasPrefix(id, "leakage-"):
			svg, legend := 0, 0
			for d := range n.Descendants() {
				if isElement(d, "svg") {
					svg++
				}
				if isElement(d, "span") && d.Parent != nil && d.Parent.Data == "figcaption" {
					legend++
				}
			}
			if assert.Equal(t, 1, svg, "one chart in %s", id) {
				figures[id] = legend
			}
		case isElement(n, "table") && strings.HasPrefix(id, "leakage-"):
			for d := range n.Descendants() {
				if isElement(d, "tr") {
					rows[id]++
				}
			}
		case id == "leakage-reading":
			for c := range n.ChildNodes() {
				if isElement(c, "li") {
					reading++
				}
			}
		}
	}
	assert.Equal(t, map[string]int{
		// The three node adversaries on the exposure and survival charts (no curve comes
		// near the median, so no median line), the two with ROC curves and the two
		// references, the two with anonymity sets.
		"leakage-exposure-direct": 3, "leakage-exposure-guard_and_destination": 3, "leakage-exposure-full_path": 3,
		"leakage-ttfc-direct": 3, "leakage-ttfc-guard_and_destination": 3, "leakage-ttfc-full_path": 3,
		"leakage-roc-1m": 4, "leakage-roc-10m": 4, "leakage-anonymity": 2,
	}, figures)
	assert.Equal(t, map[string]int{"leakage-adversaries": 5, "leakage-roles": 3}, rows, "a header and one row per adversary and role")
	assert.GreaterOrEqual(t, reading, 8, "the plain-words reading")

	img := screenshot(t, bin, file, size)
	require.Equal(t, 9000, img.Bounds().Dy(), "the screenshot is as tall as asked")
	// A colour's legend swatches cover under 800 pixels (at most nine of about 85 each); more
	// than 1,000 means its lines were drawn.
	for i, a := range s.Leakage.Adversaries {
		c := adversaryColours[i]
		assert.Greater(t, countNear(img, [3]uint8{c.R, c.G, c.B}), 1000, "pixels of %s's colour", a.Name)
	}
}
