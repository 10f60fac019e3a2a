package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sessionsim/sessionsim/results"
)

// reportData is what the template sees.
type reportData struct {
	S        results.Summary
	Run      *results.Run
	Scenario string
	// ScenarioProblem says why scenario.yaml gave no phases, faults or parameters.
	ScenarioProblem string
	Faults          []faultRow
	Params          []paramRow
	Changed         int // parameters that differ from the defaults

	Messages, LatencyOverTime, Copies *chart // over virtual time
	Latency, Platforms                *chart // percentiles
}

// faultRow is one fault in the report's list, its times on the charts' axis.
type faultRow struct{ Kind, When, What string }

// chart is an inline SVG drawing and its legend. The legend is HTML under the drawing, so it
// can never cover the data, whatever the data's shape.
type chart struct {
	ID     string // of its figure element, for links and tests
	SVG    template.HTML
	Note   string // how to read it, under the legend
	Legend []legendEntry
}

type legendEntry struct {
	Name   string
	Colour string // CSS hex colour
	Band   bool   // an area (a phase, a fault) rather than a line
}

func (c *chart) add(name string, colour color.RGBA) {
	c.Legend = append(c.Legend, legendEntry{Name: name, Colour: cssColour(colour)})
}

func (c *chart) addBand(name string, colour color.RGBA) {
	c.add(name, colour)
	c.Legend[len(c.Legend)-1].Band = true
}

// WriteHTML writes the self-contained HTML report (inline CSS and SVG, no network access needed
// to view it). run and scenarioYAML may be empty when rebuilding from a directory that lacks
// them. defaultsYAML is the scenario every file starts from, resolved the same way: the
// parameters whose values differ from it are marked (none when it is empty).
func WriteHTML(w io.Writer, s results.Summary, run *results.Run, scenarioYAML, defaultsYAML []byte) error {
	d := reportData{S: s, Run: run, Scenario: string(scenarioYAML)}
	axis := timeAxis{total: s.VirtualSeconds}
	if len(scenarioYAML) > 0 {
		shape, err := parseShape(scenarioYAML)
		if err == nil {
			d.Params, err = paramRows(scenarioYAML, defaultsYAML)
		}
		if err != nil {
			// The report still shows everything measured; the reader learns what is missing.
			d.ScenarioProblem = fmt.Sprintf("%s could not be read (%v): the charts show no phases or faults.", results.ScenarioFile, err)
		} else {
			axis.shape = shape
			d.Faults = faultRows(shape, axis.total)
		}
		for _, p := range d.Params {
			if p.Changed {
				d.Changed++
			}
		}
	}
	var err error
	if d.Messages, d.LatencyOverTime, d.Copies, err = timelineCharts(s, axis); err != nil {
		return err
	}
	if s.EndToEndMs.Count > 0 || s.OnionRTTMs.Count > 0 {
		if d.Latency, err = latencyChart(s); err != nil {
			return err
		}
		if d.Latency != nil {
			d.Latency.ID = "chart-latency"
		}
	}
	if len(s.EndToEndByPlatform) > 0 && s.EndToEndMs.Count > 0 {
		if d.Platforms, err = platformChart(s.EndToEndByPlatform); err != nil {
			return err
		}
	}
	return pages.ExecuteTemplate(w, "report", d)
}

// faultRows lists the faults in scenario order with where they are on the charts.
func faultRows(sh *runShape, total float64) []faultRow {
	var rows []faultRow
	for _, f := range sh.Faults {
		start, end := f.span(sh.Warmup, total)
		when := "at " + virtualTime(start)
		if !f.instant() {
			when = virtualTime(start) + " to " + virtualTime(end)
		}
		rows = append(rows, faultRow{Kind: f.Kind, When: when, What: f.What})
	}
	return rows
}

// Chart colours (matplotlib's "tab" palette, readable on white and by most colour-blind readers).
var (
	chartBlue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	chartOrange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	chartGreen  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	chartRed    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	chartPurple = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	chartBrown  = color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}
	chartPink   = color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}
)

// palette colours series that have no colour of their own (platforms), in order.
var palette = []color.RGBA{chartPurple, chartBrown, chartPink, chartGreen, chartOrange, chartBlue, chartRed}

// latencyChart draws each latency distribution as a line over its percentiles on a log axis:
// end-to-end latency spans seconds to the minutes an offline recipient takes to come back, and
// a linear axis would flatten the onion round trips to nothing.
func latencyChart(s results.Summary) (*chart, error) {
	return percentileChart("Latency percentiles", []percentileSeries{
		{"end to end", s.EndToEndMs, chartBlue},
		{"end to end, recipient online at send", s.EndToEndOnlineMs, chartGreen},
		{"onion round trip", s.OnionRTTMs, chartOrange},
	})
}

// platformChart compares the platforms' end-to-end latency (each app polls at its own pace).
func platformChart(byPlatform map[string]results.Percentiles) (*chart, error) {
	var series []percentileSeries
	for i, name := range slices.Sorted(maps.Keys(byPlatform)) {
		series = append(series, percentileSeries{name, byPlatform[name], palette[i%len(palette)]})
	}
	c, err := percentileChart("End-to-end latency by the recipient's platform", series)
	if c != nil {
		c.ID = "chart-platforms"
	}
	return c, err
}

type percentileSeries struct {
	name   string
	q      results.Percentiles
	colour color.RGBA
}

// percentileChart draws each series' p50, p90, p99 and max on a log axis, skipping empty ones.
func percentileChart(title string, series []percentileSeries) (*chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "log scale"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(durationTicks)
	p.NominalX("p50", "p90", "p99", "max")
	c := &chart{}
	lowest, highest := math.Inf(1), 0.0
	for _, sr := range series {
		if sr.q.Count == 0 {
			continue
		}
		pts := make(plotter.XYs, 0, 4)
		for i, v := range []float64{sr.q.P50, sr.q.P90, sr.q.P99, sr.q.Max} {
			v = max(v, 1) // a log axis has no zero; nothing here is faster than 1 ms
			pts = append(pts, plotter.XY{X: float64(i), Y: v})
			lowest, highest = min(lowest, v), max(highest, v)
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = sr.colour, sr.colour
		line.Width, points.Shape = vg.Points(2), draw.CircleGlyph{}
		p.Add(line, points)
		c.add(sr.name, sr.colour)
	}
	if highest == 0 {
		// Every series is empty (a platform table whose messages were all group messages,
		// which have no one recipient platform): no chart rather than an axis from +Inf.
		return nil, nil
	}
	p.Add(plotter.NewGrid())
	p.Y.Min, p.Y.Max = lowest/2, highest*2
	p.X.Min, p.X.Max = -0.3, 3.3
	var err error
	c.SVG, err = svgOf(p)
	return c, err
}

// durationSteps are the round durations, in milliseconds, a latency axis may be marked at.
var durationSteps = func() []float64 {
	var steps []float64
	for _, decade := range []float64{1, 10, 100} {
		steps = append(steps, decade, 2*decade, 5*decade)
	}
	for _, unit := range []float64{1000, 60_000} { // seconds, then minutes
		steps = append(steps, unit, 2*unit, 5*unit, 10*unit, 30*unit)
	}
	return append(steps, 3_600_000, 2*3_600_000, 6*3_600_000, 24*3_600_000)
}()

// durationTicks marks the round durations in [lo, hi], labelled in the unit a reader would say.
func durationTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range durationSteps {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: readableMs(v)})
		}
	}
	return ticks
}

// readableMs prints a latency in the unit a reader would use, with up to three significant
// digits; the cards and the chart ticks share it.
func readableMs(ms float64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.3g s", ms/1000)
	case ms < 3_600_000:
		return fmt.Sprintf("%.3g min", ms/60_000)
	default:
		return fmt.Sprintf("%.3g h", ms/3_600_000)
	}
}

func svgOf(p *plot.Plot) (template.HTML, error) {
	c := vgsvg.New(24*vg.Centimeter, 10*vg.Centimeter)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("drawing chart: %w", err)
	}
	out := buf.Bytes()
	// Drop the XML prolog so the SVG can be inlined in HTML.
	if i := bytes.Index(out, []byte("<svg")); i > 0 {
		out = out[i:]
	}
	return template.HTML(out), nil // #nosec: generated by the plot library from numbers only
}
