package stats

import (
	"slices"
	"strings"
)

// File names of experiments over several runs.
const (
	// AggregateFile is what `sessionsim run --seeds N` writes next to its runs' directories.
	AggregateFile = "aggregate.json"
	// SweepFile and SweepCSV are what `sessionsim sweep` writes in its directory.
	SweepFile = "sweep.json"
	SweepCSV  = "sweep.csv"
	// CompareFile and CompareHTML are what `sessionsim compare` writes.
	CompareFile = "compare.json"
	CompareHTML = "compare.html"
	// SweepHTML, AggregateText and AggregateHTML are the pages written next to SweepFile and
	// AggregateFile.
	SweepHTML     = "sweep.html"
	AggregateText = "aggregate.txt"
	AggregateHTML = "aggregate.html"
)

// Experiment is aggregate.json (Kind "seeds": one arm) and sweep.json (Kind "sweep": one arm
// per point of the grid). It holds no wall times, so the same experiment gives the same bytes.
type Experiment struct {
	Kind string `json:"kind"`
	// Schema is the summary.json schema version of every run in it.
	Schema   int    `json:"schema"`
	Scenario string `json:"scenario"`
	// Params are the swept keys with their values, in the order given; empty for Kind "seeds".
	Params []Param `json:"params,omitempty"`
	// Seeds are the seeds every arm ran (common random numbers: arm k and arm 1 share them).
	Seeds []uint64 `json:"seeds"`
	Arms  []Arm    `json:"arms"`
}

// Param is one swept key and its values.
type Param struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Setting is one key's value in an arm.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Arm is one point of an experiment: its settings and every figure over the seeds.
type Arm struct {
	// Name is also the arm's directory under the experiment's (e.g. arm-01-nodes.count=100).
	Name     string    `json:"name"`
	Settings []Setting `json:"settings,omitempty"`
	// ChecksFailed lists the seeds whose run failed one of the scenario's checks.
	ChecksFailed []uint64 `json:"checks_failed,omitempty"`
	Figures      []Figure `json:"figures"`
	// Survival is the runs' time-to-first-compromise curves averaged over the seeds; absent
	// when the scenario measures no leakage.
	Survival *Survival `json:"survival,omitempty"`
}

// Figure is one figure of an arm over the seeds.
type Figure struct {
	Figure    string    `json:"figure"`
	Direction Direction `json:"direction,omitempty"`
	// Values holds each seed's measurement, in the order of the experiment's Seeds; null
	// where that run has no such figure (a platform it did not have, a ratio of nothing).
	Values []*float64 `json:"values"`
	// Interval is the mean over the seeds that have the figure, with its 95% interval.
	Interval
	// Diff is the paired difference to the first arm (this arm minus arm 1) and its verdict,
	// in a sweep's arms after the first.
	Diff    *Interval `json:"diff,omitempty"`
	Verdict string    `json:"verdict,omitempty"`
}

// Table is figures measured on runs: Values[r][f] is run r's value of Figures[f], nil where
// the run does not have it.
type Table struct {
	Figures []string
	Values  [][]*float64
}

// NewArm summarises the runs of one arm (one row of table per seed, in seed order).
func NewArm(name string, settings []Setting, t Table) Arm {
	a := Arm{Name: name, Settings: settings, Figures: make([]Figure, len(t.Figures))}
	for f, fig := range t.Figures {
		vals := make([]*float64, len(t.Values))
		var xs []float64
		for r := range t.Values {
			vals[r] = t.Values[r][f]
			if vals[r] != nil {
				xs = append(xs, *vals[r])
			}
		}
		a.Figures[f] = Figure{Figure: fig, Direction: DirectionOf(fig), Values: vals, Interval: Mean(xs)}
	}
	return a
}

// Figure finds a figure by its path; nil when the arm does not have it. Figures are sorted by
// path, as Table gives them.
func (a *Arm) Figure(name string) *Figure {
	return figureNamed(a.Figures, name, func(f Figure) string { return f.Figure })
}

// Difference is b minus a on one figure, paired over the seeds both have when paired is true
// (the same seeds in the same order), else unpaired (Welch).
func Difference(a, b []*float64, paired bool) Interval {
	if paired {
		var xa, xb []float64
		for i := range min(len(a), len(b)) {
			if a[i] != nil && b[i] != nil {
				xa, xb = append(xa, *a[i]), append(xb, *b[i])
			}
		}
		return Paired(xa, xb)
	}
	return Unpaired(present(a), present(b))
}

func present(vs []*float64) []float64 {
	var xs []float64
	for _, v := range vs {
		if v != nil {
			xs = append(xs, *v)
		}
	}
	return xs
}

// DiffToFirst fills every later arm's Diff and Verdict against the first arm, paired by seed
// (every arm of an experiment runs the same seeds).
func (e *Experiment) DiffToFirst() {
	if len(e.Arms) == 0 {
		return
	}
	first := &e.Arms[0]
	for k := 1; k < len(e.Arms); k++ {
		for i := range e.Arms[k].Figures {
			f := &e.Arms[k].Figures[i]
			var base []*float64
			if b := first.Figure(f.Figure); b != nil {
				base = b.Values
			}
			d := Difference(base, f.Values, true)
			f.Diff, f.Verdict = &d, Verdict(d, f.Direction)
		}
	}
}

// Insert adds a figure to the arm in its sorted place, replacing one of the same path.
func (a *Arm) Insert(f Figure) {
	i, ok := byFigure(a.Figures, f.Figure, func(g Figure) string { return g.Figure })
	if ok {
		a.Figures[i] = f
		return
	}
	a.Figures = slices.Insert(a.Figures, i, f)
}

// figureNamed is the element of xs, sorted as byFigure needs, that names the figure name; nil
// when none does.
func figureNamed[T any](xs []T, name string, figure func(T) string) *T {
	if i, ok := byFigure(xs, name, figure); ok {
		return &xs[i]
	}
	return nil
}

// byFigure finds name in xs, sorted by the figure path each element names: its index (where
// it would go, when absent) and whether it is there.
func byFigure[T any](xs []T, name string, figure func(T) string) (int, bool) {
	return slices.BinarySearchFunc(xs, name, func(x T, n string) int { return strings.Compare(figure(x), n) })
}
