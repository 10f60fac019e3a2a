package reports

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sessionsim/sessionsim/results"
)

// leakageView is what the report's Leakage section shows.
type leakageView struct {
	L *results.Leakage
	// Reading is the plain-words reading of the figures, one sentence group per item.
	Reading     []string
	Adversaries []adversaryRow
	Roles       []roleRow
	// Columns only some adversaries fill are shown when one does.
	AnyLink, AnyLinkability, AnySets bool
	// Each group is one chart per level, window or distribution; a note says what is not drawn
	// and why.
	Exposure, Survival, ROC, Sets []figure
	ExposureNote, SurvivalNote    string
	ROCNote, SetsNote             string
}

// figure is a chart with the id of its element, for links and tests.
type figure struct {
	ID    string
	Chart *chart
}

// adversaryRow is one row of the adversary table, every figure already in words.
type adversaryRow struct {
	Name, Kind, View, Nodes       string
	Direct, GuardDest, FullPath   cell
	MedianDirect, MedianGuardDest string
	TimingBothEnds, Linkability   string
	Set                           string
}

// cell is a mean with, under it, its spread over the adversary's coalitions (if any).
type cell struct{ Mean, Range string }

// roleRow is one row of the per-role view table.
type roleRow struct {
	Role   string
	Sees   string
	Counts string
}

// level is one exposure level of the summary, with how to read each of its figures.
type level struct {
	key, name string
	exposure  func(results.Exposure) *float64
	ttfc      func(results.TTFC) *results.Survival
	timeline  func(results.ExposureTimeline) []float64
}

// levels are the node-view levels in the order of the summary; correlation is the attack's
// and has no timeline or curve of its own yet.
var levels = []level{
	{"direct", "direct",
		func(e results.Exposure) *float64 { return e.Direct },
		func(t results.TTFC) *results.Survival { return t.Direct },
		func(t results.ExposureTimeline) []float64 { return t.Direct }},
	{"guard_and_destination", "guard and destination",
		func(e results.Exposure) *float64 { return e.GuardAndDestination },
		func(t results.TTFC) *results.Survival { return t.GuardAndDestination },
		func(t results.ExposureTimeline) []float64 { return t.GuardAndDestination }},
	{"full_path", "full path",
		func(e results.Exposure) *float64 { return e.FullPath },
		func(t results.TTFC) *results.Survival { return t.FullPath },
		func(t results.ExposureTimeline) []float64 { return t.FullPath }},
}

// adversaryColours gives each adversary one colour on every leakage chart, by its place in the
// summary: the report's palette first, then the rest of the same "tab" palette.
var adversaryColours = []color.RGBA{chartBlue, chartOrange, chartGreen, chartRed,
	chartPurple, chartBrown, chartPink, {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}}

// chartGrey draws the references (chance, the median, the 1e-3 false-positive rate) so they
// are never mistaken for an adversary.
var chartGrey = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}

// styleOf is adversary i's line: its colour, dashed once the palette has gone round.
func styleOf(i int, l *plotter.Line) color.RGBA {
	c := adversaryColours[i%len(adversaryColours)]
	l.Color, l.Width = c, vg.Points(2)
	if i >= len(adversaryColours) {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	return c
}

// addSeries draws adversary i's line through pts and names it in the legend.
func addSeries(p *plot.Plot, c *chart, i int, name string, pts plotter.XYs) error {
	line, err := seriesLine(c, i, name, pts)
	if err != nil {
		return err
	}
	p.Add(line)
	return nil
}

// seriesLine is adversary i's line through pts, named in the legend, for the caller to draw.
func seriesLine(c *chart, i int, name string, pts plotter.XYs) (*plotter.Line, error) {
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	c.add(name, styleOf(i, line))
	return line, nil
}

// leakageSection builds the Leakage section of a run whose summary has one (nil otherwise).
// runSeconds is the run's virtual time, which the reading compares medians with.
func leakageSection(l *results.Leakage, runSeconds float64) (*leakageView, error) {
	if l == nil {
		return nil, nil
	}
	v := &leakageView{L: l, Reading: leakageReading(l, runSeconds)}
	for _, a := range l.Adversaries {
		row := adversaryTableRow(a)
		v.Adversaries = append(v.Adversaries, row)
		v.AnyLink = v.AnyLink || a.View == "link"
		v.AnyLinkability = v.AnyLinkability || row.Linkability != "-"
		v.AnySets = v.AnySets || row.Set != "-"
	}
	for _, r := range l.Roles {
		v.Roles = append(v.Roles, roleRow{Role: strings.ReplaceAll(r.Role, "_", " "), Sees: strings.Join(r.Sees, ", "), Counts: roleCounts(r.Counts)})
	}
	var err error
	if v.Exposure, v.ExposureNote, err = exposureCharts(l); err != nil {
		return nil, err
	}
	if v.Survival, v.SurvivalNote, err = survivalCharts(l); err != nil {
		return nil, err
	}
	if v.ROC, v.ROCNote, err = rocCharts(l); err != nil {
		return nil, err
	}
	if v.Sets, v.SetsNote, err = setCharts(l); err != nil {
		return nil, err
	}
	return v, nil
}

func adversaryTableRow(a results.Adversary) adversaryRow {
	row := adversaryRow{Name: a.Name, Kind: a.Kind, View: a.View, Nodes: "-",
		Direct:          spreadCell(a.Exposure.Direct, a.ExposureLow.Direct, a.ExposureHigh.Direct, a.Draws),
		GuardDest:       spreadCell(a.Exposure.GuardAndDestination, a.ExposureLow.GuardAndDestination, a.ExposureHigh.GuardAndDestination, a.Draws),
		FullPath:        spreadCell(a.Exposure.FullPath, a.ExposureLow.FullPath, a.ExposureHigh.FullPath, a.Draws),
		MedianDirect:    medianWords(a.TTFC.Direct),
		MedianGuardDest: medianWords(a.TTFC.GuardAndDestination),
		TimingBothEnds:  optPercent(a.TimingBothEnds),
		Linkability:     "-", Set: "-",
	}
	if a.View != "link" {
		row.Nodes = fmt.Sprintf("%.1f", a.Nodes)
	}
	if w, lk := bestLinkability(a); lk != nil {
		row.Linkability = fmt.Sprintf("%s (%s windows)", optPercent(lk.TPRAtFPR1e3), w)
		if lk.Target == "node" {
			row.Linkability = fmt.Sprintf("%s (%s windows, address to destination node)", optPercent(lk.TPRAtFPR1e3), w)
		}
	}
	if a.AnonymitySet != nil && a.AnonymitySet.Median != nil {
		row.Set = fmt.Sprintf("%.1f", *a.AnonymitySet.Median)
	}
	return row
}

// spreadCell is a mean exposure with its spread over draws when there were several.
func spreadCell(mean, lo, hi *float64, draws int) cell {
	if mean == nil {
		return cell{Mean: "-"}
	}
	c := cell{Mean: percent(*mean)}
	if draws > 1 && lo != nil && hi != nil {
		c.Range = percent(*lo) + " to " + percent(*hi)
	}
	return c
}

// medianWords is a median time to first compromise, or why there is none.
func medianWords(s *results.Survival) string {
	switch {
	case s == nil:
		return "-"
	case s.MedianS == nil:
		return "not reached"
	}
	return seconds(*s.MedianS)
}

// roleCounts prints a role's counts in sorted order, byte counts in binary units.
func roleCounts(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n := fmt.Sprint(m[k])
		if k == "bytes" || strings.HasPrefix(k, "bytes_") {
			n = ByteSize(m[k])
		}
		parts = append(parts, strings.ReplaceAll(k, "_", " ")+" "+n)
	}
	return strings.Join(parts, ", ")
}

// windows are a set of observation windows in increasing order of length ("1m" before
// "10m"), the order a reader expects whatever order the map gives.
func windows[V any](m map[string]V) []string {
	ws := slices.Collect(maps.Keys(m))
	slices.SortFunc(ws, func(a, b string) int {
		da, errA := time.ParseDuration(a)
		db, errB := time.ParseDuration(b)
		if errA != nil || errB != nil || da == db {
			return strings.Compare(a, b)
		}
		return int(da - db)
	})
	return ws
}

// bestLinkability is the window in which the attack linked the largest share of true pairs
// at the fixed false-positive rate (nil when the attack was not measured).
func bestLinkability(a results.Adversary) (string, *results.Linkability) {
	var best string
	var out *results.Linkability
	for _, w := range windows(a.Linkability) {
		lk := a.Linkability[w]
		if lk == nil || lk.TPRAtFPR1e3 == nil {
			continue
		}
		if out == nil || *lk.TPRAtFPR1e3 > *out.TPRAtFPR1e3 {
			best, out = w, lk
		}
	}
	return best, out
}

// exposureCharts draws, per level, the share of active clients exposed over the run, one line
// per adversary that can reach the level; a level nobody reached is said, not drawn flat.
func exposureCharts(l *results.Leakage) ([]figure, string, error) {
	var figs []figure
	var none []string
	for _, lv := range levels {
		p := plot.New()
		p.Title.Text = "Clients exposed at the " + lv.name + " level"
		p.X.Label.Text = "virtual time (min)"
		p.Y.Label.Text = "% of active clients"
		c := &chart{}
		highest := 0.0
		for i, a := range l.Adversaries {
			ys := lv.timeline(a.Timeline)
			if len(ys) == 0 || len(ys) != len(a.Timeline.TS) {
				continue
			}
			pts := make(plotter.XYs, len(ys))
			for j, y := range ys {
				pts[j] = plotter.XY{X: a.Timeline.TS[j] / 60, Y: 100 * y}
				highest = max(highest, 100*y)
			}
			if err := addSeries(p, c, i, a.Name, pts); err != nil {
				return nil, "", err
			}
		}
		if len(c.Legend) == 0 {
			continue
		}
		if highest == 0 {
			none = append(none, "the "+lv.name+" level")
			continue
		}
		p.Add(plotter.NewGrid())
		// Room above the highest line so it does not merge with the frame, up to a round
		// number so the axis is marked at round numbers.
		p.Y.Min, p.Y.Max = 0, min(100, niceCeil(highest*1.05))
		var err error
		if c.SVG, err = svgOf(p); err != nil {
			return nil, "", err
		}
		figs = append(figs, figure{ID: "leakage-exposure-" + lv.key, Chart: c})
	}
	note := ""
	if len(none) > 0 {
		note = "Not drawn: no adversary exposed any client at " + joinWith(none, "or") + "."
	}
	if len(figs) == 0 && note == "" {
		note = "No adversary in this run has a node view, so no exposure timeline was measured."
	}
	return figs, note, nil
}

// survivalEdgeMs is the left edge of the time-to-first-compromise axis: the survival grid's
// first time after zero (see leakage's survivalGrid).
const survivalEdgeMs = 10.0

// majorDurationsMs are the durations a crowded duration axis still labels: one a decade of
// each unit a reader uses.
var majorDurationsMs = []float64{1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000, 24 * 3_600_000}

// sparseDurationTicks is durationTicks with only the major durations labelled when the axis
// spans several decades, where every label would run into the next.
func sparseDurationTicks(lo, hi float64) []plot.Tick {
	ticks := durationTicks(lo, hi)
	if len(ticks) <= 8 {
		return ticks
	}
	for i := range ticks {
		if !slices.Contains(majorDurationsMs, ticks[i].Value) {
			ticks[i].Label = "" // a minor tick: marked, not labelled
		}
	}
	return ticks
}

// niceCeil is the round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at
// or above x, for an axis maximum that is marked at round numbers.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	decade := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8} {
		if m*decade >= x*(1-1e-12) {
			return m * decade
		}
	}
	return 10 * decade
}

// survivalCharts draws the Kaplan-Meier curves per level: the share of clients not yet
// exposed against the time since their first request, on a log axis because guard tests
// expose within seconds and onion paths over hours.
func survivalCharts(l *results.Leakage) ([]figure, string, error) {
	var figs []figure
	var none []string
	for _, lv := range levels {
		var series []survivalSeries
		for i, a := range l.Adversaries {
			if sv := lv.ttfc(a.TTFC); sv != nil && len(sv.Curve) > 0 {
				series = append(series, survivalSeries{place: i, name: a.Name, curve: sv.Curve})
			}
		}
		if len(series) == 0 {
			continue
		}
		c, err := survivalChart("Time to first compromise, "+lv.name+" level (Kaplan-Meier)", series, "")
		switch {
		case err != nil:
			return nil, "", err
		case c == nil:
			none = append(none, "the "+lv.name+" level")
		default:
			figs = append(figs, figure{ID: "leakage-ttfc-" + lv.key, Chart: c})
		}
	}
	return figs, unexposedNote(none), nil
}

// unexposedNote says which survival charts were not drawn because no curve fell.
func unexposedNote(none []string) string {
	if len(none) == 0 {
		return ""
	}
	return "Not drawn: every client stayed unexposed for the whole run at " + joinWith(none, "and") + "."
}

// bandAlpha is the opacity of an interval band: light enough that the lines and the other
// bands show through it.
const bandAlpha = 0x40

// survivalSeries is one adversary's curve on a survival chart: (t seconds, S) points and, for
// curves averaged over seeds, the 95% interval at each point as a band (low and high, nil
// where there is none).
type survivalSeries struct {
	place     int // the adversary's place in the summary, which gives its colour
	name      string
	curve     [][2]float64
	low, high []*float64
}

// survivalChart draws survival curves with howToRead under them; nil when no curve falls
// below 100%, where a chart would only be a flat line.
func survivalChart(title string, series []survivalSeries, howToRead string) (*chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time since the client's first request (log scale)"
	p.Y.Label.Text = "% of clients not yet exposed"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.TickerFunc(sparseDurationTicks)
	c := &chart{Note: howToRead}
	longest, lowest, fell := 0.0, 100.0, false
	var lines []*plotter.Line // drawn over every band, so no band hides another's line
	for _, s := range series {
		// A log axis has no zero: time zero, when a client's first request exposed it at
		// once, is drawn at the left edge, as a drop from 100%.
		pts := plotter.XYs{{X: survivalEdgeMs, Y: 100}}
		var band, upper plotter.XYs
		for j, pt := range s.curve {
			ms := max(1000*pt[0], survivalEdgeMs)
			pts = append(pts, plotter.XY{X: ms, Y: 100 * pt[1]})
			longest, lowest = max(longest, ms), min(lowest, 100*pt[1])
			fell = fell || pt[1] < 1
			if s.low != nil && s.low[j] != nil && s.high[j] != nil {
				// The interval of a proportion can pass 0 or 1; S cannot.
				lo, hi := 100*max(*s.low[j], 0), 100*min(*s.high[j], 1)
				band, upper = append(band, plotter.XY{X: ms, Y: lo}), append(upper, plotter.XY{X: ms, Y: hi})
				lowest = min(lowest, lo)
			}
		}
		if len(band) > 1 {
			slices.Reverse(upper)
			poly, err := plotter.NewPolygon(append(band, upper...))
			if err != nil {
				return nil, err
			}
			line := adversaryColours[s.place%len(adversaryColours)]
			poly.Color, poly.LineStyle.Width = color.NRGBA{R: line.R, G: line.G, B: line.B, A: bandAlpha}, 0
			p.Add(poly)
		}
		line, err := seriesLine(c, s.place, s.name, pts)
		if err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	if !fell {
		return nil, nil
	}
	for _, l := range lines {
		p.Add(l)
	}
	p.Add(plotter.NewGrid())
	p.Y.Min, p.Y.Max = 0, 102
	if lowest < 60 {
		half, err := plotter.NewLine(plotter.XYs{{X: survivalEdgeMs, Y: 50}, {X: longest, Y: 50}})
		if err != nil {
			return nil, err
		}
		half.Color, half.Width, half.Dashes = chartGrey, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(half)
		c.add("50%: where a curve crosses it is the median", chartGrey)
	} else {
		// No curve comes near the median: a full axis would flatten them all at the top.
		p.Y.Min = 10 * math.Floor((lowest-1)/10)
		p.Y.Max = 100 + (100-p.Y.Min)/50
		p.Title.Text += fmt.Sprintf(", axis from %.0f%%", p.Y.Min)
	}
	p.X.Min, p.X.Max = survivalEdgeMs, longest
	var err error
	if c.SVG, err = svgOf(p); err != nil {
		return nil, err
	}
	return c, nil
}

// rocCharts draws the correlation attack's ROC curve per observation window, with the
// false-positive rate on a log axis: the operating point that matters, 1e-3, would be a
// sliver at the left of a linear one.
func rocCharts(l *results.Leakage) ([]figure, string, error) {
	all := map[string]bool{}
	for _, a := range l.Adversaries {
		for w, lk := range a.Linkability {
			if lk != nil && len(lk.ROC) > 1 {
				all[w] = true
			}
		}
	}
	if len(all) == 0 {
		return nil, "No ROC curve: this summary has no correlation-attack results (linkability is null), so which senders and recipients a timing attack could link is not measured.", nil
	}
	var figs []figure
	for _, w := range windows(all) {
		p := plot.New()
		p.Title.Text = "Correlation attack, " + w + " observation windows"
		p.X.Label.Text = "false-positive rate (log scale)"
		p.Y.Label.Text = "% of true pairs linked"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.TickerFunc(rateTicks)
		c := &chart{}
		lowest := 1e-3
		for i, a := range l.Adversaries {
			lk := a.Linkability[w]
			if lk == nil || len(lk.ROC) < 2 {
				continue
			}
			var pts plotter.XYs
			for _, pt := range lk.ROC {
				if pt[0] > 0 { // a log axis has no zero
					pts = append(pts, plotter.XY{X: pt[0], Y: 100 * pt[1]})
					lowest = min(lowest, pt[0])
				}
			}
			if len(pts) == 0 {
				continue
			}
			if err := addSeries(p, c, i, a.Name, pts); err != nil {
				return nil, "", err
			}
		}
		lowest = math.Pow(10, math.Floor(math.Log10(lowest)))
		// Chance (TPR = FPR) is a curve on this axis: draw it through points.
		var chance plotter.XYs
		for x := lowest; x <= 1.0001; x *= math.Pow(10, 0.125) {
			chance = append(chance, plotter.XY{X: x, Y: 100 * x})
		}
		for _, ref := range []struct {
			name   string
			pts    plotter.XYs
			dashes []vg.Length
		}{
			{"chance: guessing (dotted grey)", chance, []vg.Length{vg.Points(1.5), vg.Points(2)}},
			{"false-positive rate 1e-3, where the TPR is reported (dashed grey)", plotter.XYs{{X: 1e-3, Y: 0}, {X: 1e-3, Y: 100}}, []vg.Length{vg.Points(5), vg.Points(3)}},
		} {
			line, err := plotter.NewLine(ref.pts)
			if err != nil {
				return nil, "", err
			}
			line.Color, line.Width, line.Dashes = chartGrey, vg.Points(1), ref.dashes
			p.Add(line)
			c.add(ref.name, chartGrey)
		}
		p.Add(plotter.NewGrid())
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lowest, 1, 0, 102
		var err error
		if c.SVG, err = svgOf(p); err != nil {
			return nil, "", err
		}
		figs = append(figs, figure{ID: "leakage-roc-" + w, Chart: c})
	}
	return figs, "", nil
}

// rateTicks marks a log axis of rates at the powers of ten, labelled alike ("1e-5" to "1"):
// the default labels switch from "0.001" to "1e-05" in mid-axis.
func rateTicks(lo, hi float64) []plot.Tick {
	ticks := plot.LogTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		if e := math.Round(math.Log10(t.Value)); e < 0 {
			ticks[i].Label = fmt.Sprintf("1e%.0f", e)
		} else {
			ticks[i].Label = fmt.Sprintf("%g", t.Value)
		}
	}
	return ticks
}

// setCharts draws the anonymity-set distribution: per adversary, the share of the stores it
// saw at each effective number of candidate senders, as histogram outlines so several
// adversaries stay readable on one chart.
func setCharts(l *results.Leakage) ([]figure, string, error) {
	p := plot.New()
	p.Title.Text = "Anonymity sets of the stores each adversary saw"
	p.X.Label.Text = "effective number of candidate senders, 2^H"
	p.Y.Label.Text = "% of its stores"
	c := &chart{}
	lo, hi, highest := math.Inf(1), 0.0, 0.0
	for i, a := range l.Adversaries {
		if a.AnonymitySet == nil || len(a.AnonymitySet.Histogram) == 0 {
			continue
		}
		// Bins are [low, high, share of the stores] in increasing order of set size.
		bins := a.AnonymitySet.Histogram
		var total float64
		for _, b := range bins {
			total += b[2]
		}
		if total == 0 {
			continue
		}
		// Effective set sizes are at least 1 (one candidate); clamping keeps a log axis valid.
		pts := plotter.XYs{{X: max(bins[0][0], 1), Y: 0}}
		for _, b := range bins {
			share := 100 * b[2] / total
			pts = append(pts, plotter.XY{X: max(b[0], 1), Y: share}, plotter.XY{X: max(b[1], 1), Y: share})
			lo, hi, highest = min(lo, max(b[0], 1)), max(hi, max(b[1], 1)), max(highest, share)
		}
		pts = append(pts, plotter.XY{X: max(bins[len(bins)-1][1], 1), Y: 0})
		if err := addSeries(p, c, i, a.Name, pts); err != nil {
			return nil, "", err
		}
	}
	if len(c.Legend) == 0 {
		return nil, "No anonymity-set distribution: this summary has no anonymity-set histogram (anonymity_set is null), so how many candidate senders each store left is not measured.", nil
	}
	// Set sizes run from one to thousands of online clients: a log axis shows both ends.
	if hi/lo > 50 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Label.Text += " (log scale)"
	}
	p.Add(plotter.NewGrid())
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, 0, min(100, niceCeil(highest*1.05))
	var err error
	if c.SVG, err = svgOf(p); err != nil {
		return nil, "", err
	}
	return []figure{{ID: "leakage-anonymity", Chart: c}}, "", nil
}
