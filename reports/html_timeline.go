package reports

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sessionsim/sessionsim/results"
)

// Background colours of the time charts: the phases in pale tints that every line stays
// readable on, and faults in a pale red that no phase uses.
var (
	warmupShade = color.RGBA{R: 0xdd, G: 0xe8, B: 0xf3, A: 0xff}
	drainShade  = color.RGBA{R: 0xe9, G: 0xe2, B: 0xf2, A: 0xff}
	faultShade  = color.RGBA{R: 0xf8, G: 0xd0, B: 0xd0, A: 0xff}
	// faultLine marks a crash, darker than any series so it is not taken for one.
	faultLine = color.RGBA{R: 0x7f, G: 0x00, B: 0x00, A: 0xff}
)

// timeSeries is one line of a time chart: x in virtual seconds from the start of the run.
type timeSeries struct {
	name   string
	colour color.RGBA
	pts    plotter.XYs
	dashed bool // for a line that others often lie on
}

// timeAxis is what every time chart shares: how long the run was and, when its scenario.yaml
// could be read, its phases and faults.
type timeAxis struct {
	total float64 // virtual seconds
	shape *runShape
}

// timelineCharts draws the run over virtual time: messages by the minute they were sent, their
// end-to-end latency, and live copies. A summary from before the timeline existed still has
// its replication samples, which give the copies chart.
func timelineCharts(s results.Summary, axis timeAxis) (messages, latency, copies *chart, err error) {
	tl := s.Timeline
	mid := func(b results.TimelineBucket) float64 {
		return (b.StartSeconds + min(b.StartSeconds+s.TimelineBucketSeconds, axis.total)) / 2
	}
	if len(tl) > 1 {
		var sent, delivered, lost, p50, p99 plotter.XYs
		for _, b := range tl {
			x := mid(b)
			sent = append(sent, plotter.XY{X: x, Y: float64(b.Sent)})
			delivered = append(delivered, plotter.XY{X: x, Y: float64(b.Delivered)})
			lost = append(lost, plotter.XY{X: x, Y: float64(b.Lost)})
			if b.E2EP50Ms > 0 {
				p50 = append(p50, plotter.XY{X: x, Y: b.E2EP50Ms})
				p99 = append(p99, plotter.XY{X: x, Y: b.E2EP99Ms})
			}
		}
		perMinute := fmt.Sprintf("messages per %s", readableMs(s.TimelineBucketSeconds*1000))
		messages, err = timeChart("Messages by the time they were sent, and what became of them", perMinute, axis, false,
			[]timeSeries{{"delivered", chartGreen, delivered, false}, {"lost", chartRed, lost, false}, {"sent", chartBlue, sent, true}})
		if err != nil {
			return nil, nil, nil, err
		}
		messages.ID = "chart-messages"
		messages.Note = "Sent less delivered and lost: pending (the recipient has not been online since) or addressed to no one."
		if len(p50) > 0 {
			latency, err = timeChart("End-to-end latency by the time messages were sent", "log scale", axis, true,
				[]timeSeries{{"p50", chartBlue, p50, false}, {"p99", chartOrange, p99, false}})
			if err != nil {
				return nil, nil, nil, err
			}
			latency.ID = "chart-latency-time"
		}
	}
	var lowest, p1, mean plotter.XYs
	for _, b := range tl {
		if c := b.Copies; c != nil {
			x := mid(b)
			lowest = append(lowest, plotter.XY{X: x, Y: c.MinCopies})
			p1 = append(p1, plotter.XY{X: x, Y: c.P1Copies})
			mean = append(mean, plotter.XY{X: x, Y: c.MeanCopies})
		}
	}
	series := []timeSeries{{"minimum", chartRed, lowest, false}, {"p1", chartPurple, p1, true}, {"mean", chartBlue, mean, false}}
	if len(tl) == 0 { // rows of [seconds, minimum, mean]
		lowest, mean = nil, nil
		for _, row := range s.Replication.Timeline {
			lowest = append(lowest, plotter.XY{X: row[0], Y: row[1]})
			mean = append(mean, plotter.XY{X: row[0], Y: row[2]})
		}
		series = []timeSeries{{"minimum", chartRed, lowest, false}, {"mean", chartBlue, mean, false}}
	}
	if len(lowest) > 1 {
		if copies, err = timeChart("Live copies per unexpired message", "copies", axis, false, series); err != nil {
			return nil, nil, nil, err
		}
		copies.ID = "chart-copies"
	}
	return messages, latency, copies, nil
}

// timeChart draws series over virtual time on a shaded background: the warmup and drain
// phases, and a band (or, for a crash, a line) where each fault happened, labelled with its
// kind. Latencies go on a log axis (see latencyChart).
func timeChart(title, yLabel string, axis timeAxis, logY bool, series []timeSeries) (*chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "virtual time"
	p.Y.Label.Text = yLabel
	p.X.Tick.Marker = plot.TickerFunc(timeTicks)
	lowest, highest := math.Inf(1), 0.0
	for _, sr := range series {
		for _, pt := range sr.pts {
			lowest, highest = min(lowest, pt.Y), max(highest, pt.Y)
		}
	}
	yMin, yMax := 0.0, math.Ceil(highest*1.1)+1 // room above the highest line, off the frame
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(durationTicks)
		yMin, yMax = max(lowest, 1)/2, max(highest, 1)*2 // a log axis has no zero
	}
	c := &chart{}
	band := func(from, to float64, colour color.RGBA) error {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: yMin}, {X: to, Y: yMin}, {X: to, Y: yMax}, {X: from, Y: yMax}})
		if err != nil {
			return err
		}
		poly.Color, poly.LineStyle.Width = colour, 0
		p.Add(poly)
		return nil
	}
	var labels plotter.XYLabels
	if sh := axis.shape; sh != nil {
		warmupEnd, sendingEnd := sh.Warmup.Seconds(), (sh.Warmup + sh.Duration).Seconds()
		if warmupEnd > 0 {
			if err := band(0, min(warmupEnd, axis.total), warmupShade); err != nil {
				return nil, err
			}
			c.addBand("warmup", warmupShade)
		}
		if sendingEnd < axis.total {
			if err := band(sendingEnd, axis.total, drainShade); err != nil {
				return nil, err
			}
			c.addBand("drain", drainShade)
		}
		bands, lines := false, false
		for _, f := range sh.Faults {
			start, end := f.span(sh.Warmup, axis.total)
			if start > axis.total {
				continue // after the end of an interrupted run
			}
			if f.instant() {
				line, err := plotter.NewLine(plotter.XYs{{X: start, Y: yMin}, {X: start, Y: yMax}})
				if err != nil {
					return nil, err
				}
				line.Color, line.Width, line.Dashes = faultLine, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(3)}
				p.Add(line)
				lines = true
			} else {
				if err := band(start, end, faultShade); err != nil {
					return nil, err
				}
				bands = true
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: start, Y: yMax})
			labels.Labels = append(labels.Labels, f.Kind)
		}
		if bands {
			c.addBand("fault", faultShade)
		}
		if lines {
			c.add("crash", faultLine)
		}
	}
	p.Add(plotter.NewGrid())
	for _, sr := range series {
		if len(sr.pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(sr.pts)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = sr.colour, vg.Points(2)
		if sr.dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		}
		p.Add(line)
		c.add(sr.name, sr.colour)
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		// Just inside the top of the plot, right of the fault's start.
		l.Offset = vg.Point{X: vg.Points(3), Y: vg.Points(-12)}
		p.Add(l)
	}
	p.X.Min, p.X.Max = 0, axis.total
	p.Y.Min, p.Y.Max = yMin, yMax
	var err error
	c.SVG, err = svgOf(p)
	return c, err
}

// timeTicks marks a virtual-time axis (seconds) at the round step that gives at most eight
// intervals, labelled in the units of the latency axes.
func timeTicks(lo, hi float64) []plot.Tick {
	step := durationSteps[len(durationSteps)-1]
	for _, s := range durationSteps {
		if s >= 1000 && (hi-lo)*1000/s <= 8 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo*1000/step) * step; v <= hi*1000; v += step {
		ticks = append(ticks, plot.Tick{Value: v / 1000, Label: virtualTime(v / 1000)})
	}
	return ticks
}

// virtualTime labels a moment of the run, in seconds from its start, as a latency would be.
func virtualTime(seconds float64) string {
	if seconds == 0 {
		return "0"
	}
	return readableMs(seconds * 1000)
}
