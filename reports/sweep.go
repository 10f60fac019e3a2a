package reports

import (
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/results/stats"
)

// sweepPage is what the sweep template sees.
type sweepPage struct {
	E        stats.Experiment
	XTitle   string
	Headline []armFigure
	Charts   []figureChart
	Flat     []string // figures equal in every run: nothing to draw
}

type armFigure struct {
	Arm string
	F   *stats.Figure
}

type figureChart struct {
	Figure string
	SVG    template.HTML
}

// WriteSweepHTML writes a sweep's page: the headline figures of each arm with their paired
// differences to the first, and every figure drawn against the swept parameters, a point per
// arm with its 95% interval bar. One self-contained file: inline CSS and hand-made SVG.
func WriteSweepHTML(w io.Writer, e stats.Experiment) error {
	d := sweepPage{E: e}
	var keys []string
	for _, p := range e.Params {
		keys = append(keys, p.Key)
	}
	d.XTitle = strings.Join(keys, ", ")
	labels := make([]string, len(e.Arms))
	for i, a := range e.Arms {
		var vs []string
		for _, s := range a.Settings {
			vs = append(vs, s.Value)
		}
		labels[i] = strings.Join(vs, ", ")
	}
	for i := range e.Arms {
		for _, name := range headline {
			if f := e.Arms[i].Figure(name); f != nil {
				d.Headline = append(d.Headline, armFigure{Arm: e.Arms[i].Name, F: f})
			}
		}
	}
	if len(e.Arms) > 0 {
		for _, f := range e.Arms[0].Figures {
			points := make([]*stats.Figure, len(e.Arms))
			for i := range e.Arms {
				points[i] = e.Arms[i].Figure(f.Figure)
			}
			if flat(points) {
				d.Flat = append(d.Flat, f.Figure)
				continue
			}
			d.Charts = append(d.Charts, figureChart{Figure: f.Figure, SVG: intervalChart(points, labels)})
		}
	}
	return pages.ExecuteTemplate(w, "sweep", d)
}

// flat reports whether a figure has one value in every run of every arm.
func flat(points []*stats.Figure) bool {
	var first *float64
	for _, p := range points {
		if p == nil {
			return false
		}
		for _, v := range p.Values {
			switch {
			case v == nil:
				return false
			case first == nil:
				first = v
			case *v != *first:
				return false
			}
		}
	}
	return true
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH            = 360.0, 210.0
	padLeft, padRight, padTop = 64.0, 12.0, 10.0
	padBottom                 = 46.0
	yTicks                    = 4
	labelChars                = 14 // an x label longer than this is cut, the full one in its title
)

// pointColour draws a sweep's points and bars, in the report's blue.
var pointColour = cssColour(chartBlue)

// intervalChart draws one figure across the arms: the mean of each as a point joined by a
// line, its 95% interval as a bar with caps. Arms without the figure are left out.
func intervalChart(points []*stats.Figure, labels []string) template.HTML {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range points {
		if p == nil || p.Mean == nil {
			continue
		}
		lo, hi = math.Min(lo, *p.Mean), math.Max(hi, *p.Mean)
		if p.Has() {
			lo, hi = math.Min(lo, *p.Low), math.Max(hi, *p.High)
		}
	}
	if math.IsInf(lo, 0) {
		return ""
	}
	if hi == lo {
		lo, hi = lo-math.Max(1, math.Abs(lo)*0.1), hi+math.Max(1, math.Abs(hi)*0.1)
	}
	pad := (hi - lo) * 0.06
	lo, hi = lo-pad, hi+pad
	plotW, plotH := chartW-padLeft-padRight, chartH-padTop-padBottom
	y := func(v float64) float64 { return padTop + plotH*(hi-v)/(hi-lo) }
	x := func(i int) float64 { return padLeft + plotW*(float64(i)+0.5)/float64(len(points)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img">`, chartW, chartH)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#ccc"/>`, padLeft, padTop, plotW, plotH)
	for t := range yTicks + 1 {
		v := lo + (hi-lo)*float64(t)/yTicks
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.2f" y2="%.2f" stroke="#eee"/>`, padLeft, padLeft+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.2f" font-size="10" text-anchor="end" dominant-baseline="middle" fill="#555">%s</text>`, padLeft-4, y(v), tick(v))
	}
	var line []string
	for i, p := range points {
		label := labels[i]
		short := label
		if len(short) > labelChars {
			short = short[:labelChars-1] + "…"
		}
		fmt.Fprintf(&b, `<text x="%.2f" y="%g" font-size="10" text-anchor="middle" fill="#333"><title>%s</title>%s</text>`, x(i), padTop+plotH+14, template.HTMLEscapeString(label), template.HTMLEscapeString(short))
		if p == nil || p.Mean == nil {
			continue
		}
		if p.Has() {
			fmt.Fprintf(&b, `<line x1="%.2f" x2="%.2f" y1="%.2f" y2="%.2f" stroke="%s" stroke-width="2"/>`, x(i), x(i), y(*p.Low), y(*p.High), pointColour)
			for _, end := range []float64{*p.Low, *p.High} {
				fmt.Fprintf(&b, `<line x1="%.2f" x2="%.2f" y1="%.2f" y2="%.2f" stroke="%s" stroke-width="2"/>`, x(i)-5, x(i)+5, y(end), y(end), pointColour)
			}
		}
		fmt.Fprintf(&b, `<circle cx="%.2f" cy="%.2f" r="4" fill="%s"><title>%s: mean %s, 95%% %s</title></circle>`, x(i), y(*p.Mean), pointColour, template.HTMLEscapeString(label), num(p.Mean), interval(p.Interval))
		line = append(line, fmt.Sprintf("%.2f,%.2f", x(i), y(*p.Mean)))
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-opacity="0.5"/>`, strings.Join(line, " "), pointColour)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: numbers and escaped labels only
}

// aggregatePage is what the seeds template sees.
type aggregatePage struct {
	E   stats.Experiment
	Arm stats.Arm
	// Survival is the charts of the time-to-first-compromise curves averaged over the seeds;
	// SurvivalHow says how to read them, SurvivalNote what is not drawn and why.
	Survival                  []figure
	SurvivalHow, SurvivalNote string
}

// WriteAggregateHTML writes the page of `run --seeds` (one arm): the time-to-first-compromise
// curves of every adversary averaged over the seeds with their 95% interval bands, when the
// scenario measures leakage, and every figure's mean and 95% interval over the seeds.
func WriteAggregateHTML(w io.Writer, e stats.Experiment) error {
	if len(e.Arms) != 1 {
		return fmt.Errorf("an aggregate page shows one arm; this experiment has %d", len(e.Arms))
	}
	d := aggregatePage{E: e, Arm: e.Arms[0]}
	if sv := d.Arm.Survival; sv != nil {
		var err error
		if d.Survival, d.SurvivalNote, err = averagedSurvivalCharts(sv); err != nil {
			return err
		}
		d.SurvivalHow = fmt.Sprintf("Each line is the mean over the seeds of the runs' curves, each read as a step function at %d times: 0, then evenly spaced on the log axis. The band is the 95%% interval over the seeds. A line stops where the shortest run's curve ends (clients are censored at the end of their run), so that every point averages the same runs; %s holds the rest.", stats.SurvivalGridPoints, stats.AggregateFile)
	}
	return pages.ExecuteTemplate(w, "seeds", d)
}

// averagedSurvivalCharts draws the curves averaged over the seeds, one chart per level and
// kind of adversary: the coalitions of one kind (random ones of several sizes) are the ones a
// reader compares, and a chart of every adversary's band at once is unreadable. Each
// adversary keeps one colour on every chart, by its first place among the curves (the order
// of the runs' summaries).
func averagedSurvivalCharts(sv *stats.Survival) ([]figure, string, error) {
	var names, kinds []string
	for _, c := range sv.Curves {
		if !slices.Contains(names, c.Adversary) {
			names = append(names, c.Adversary)
		}
		if !slices.Contains(kinds, c.Kind) {
			kinds = append(kinds, c.Kind)
		}
	}
	var figs []figure
	var none []string
	for _, lv := range levels {
		for _, kind := range kinds {
			var series []survivalSeries
			for _, c := range sv.Curves {
				if c.Level == lv.key && c.Kind == kind {
					series = append(series, averagedSeries(sv.GridS, c, slices.Index(names, c.Adversary)))
				}
			}
			if len(series) == 0 {
				continue
			}
			c, err := survivalChart("Kaplan-Meier, "+lv.name+" level, "+kind+" adversaries", series, "")
			switch {
			case err != nil:
				return nil, "", err
			case c == nil:
				none = append(none, "the "+lv.name+" level ("+kind+")")
			default:
				figs = append(figs, figure{ID: "leakage-ttfc-" + lv.key + "-" + kind, Chart: c})
			}
		}
	}
	return figs, unexposedNote(none), nil
}

// averagedSeries is a curve averaged over the seeds as a chart's series, up to the last time
// of the grid that every run with the curve reaches.
func averagedSeries(grid []float64, c stats.SurvivalCurve, place int) survivalSeries {
	s := survivalSeries{place: place, name: c.Adversary}
	for i, iv := range c.S {
		if iv.Mean == nil || iv.N < c.S[0].N {
			break
		}
		s.curve = append(s.curve, [2]float64{grid[i], *iv.Mean})
		s.low, s.high = append(s.low, iv.Low), append(s.high, iv.High)
	}
	return s
}

// WriteCompareHTML writes a comparison's page: the --fail-on rules with their outcome, and for
// each pair of arms every figure on both sides with the difference and verdict.
func WriteCompareHTML(w io.Writer, c stats.Comparison) error {
	return pages.ExecuteTemplate(w, "compare", struct{ C stats.Comparison }{c})
}

// cssColour writes a colour as CSS hex.
func cssColour(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// tick writes an axis label in the few characters the chart's margin holds: three significant
// digits, and from ten thousand up a k, M, G or T after them (140M, not 1.4e+08); only values
// below 0.0001 keep an exponent (0.000123, but 1.2e-05).
func tick(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64) // rounded first: 999,999 is 1M
	for _, u := range []struct {
		from, scale float64
		suffix      string
	}{{1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}} {
		if math.Abs(r) >= u.from {
			return strconv.FormatFloat(r/u.scale, 'g', 3, 64) + u.suffix
		}
	}
	if math.Abs(r) >= 1 {
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}
