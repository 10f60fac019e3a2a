package stats

import (
	"math"

	"github.com/sessionsim/sessionsim/results"
)

// SurvivalGridPoints is the number of times on the grid Survival averages over: 0 and 100
// more, enough for a smooth curve on a log axis, few enough that every curve of an arm fits a
// small file. Those 100 make 99 log steps from the runs' first positive time to their last,
// where a run's own curve makes 49 (package leakage keeps every fourth of 200): sharing no
// factor, the grid's times do not fall on the curves' points. Where they did, runs whose
// curves end a little apart, so have their points a little apart, would be read one just
// before a step and the other just after it.
const SurvivalGridPoints = 101

// Survival is the time to first compromise of an arm's runs: each run's Kaplan-Meier curve
// (summary.json's leakage.adversaries[].ttfc.LEVEL.curve) read as a step function on one
// time grid, and averaged over the seeds at each time of the grid.
type Survival struct {
	// GridS are the grid's times in seconds: 0, then SurvivalGridPoints-1 times evenly spaced
	// on a log scale from the first positive time of the runs' curves to the last time of the
	// longest. A log grid, as the runs' own curves: first compromises come within seconds of
	// a client's first request (guard tests) and then over hours.
	GridS  []float64       `json:"grid_s"`
	Curves []SurvivalCurve `json:"curves"`
}

// SurvivalCurve is one adversary's curve at one level, averaged over the seeds.
type SurvivalCurve struct {
	Adversary string `json:"adversary"`
	// Kind is the adversary's kind (random, operator, ...), which groups curves to compare.
	Kind string `json:"kind"`
	// Level is the level's name in summary.json (direct, guard_and_destination, ...).
	Level string `json:"level"`
	// S holds, at each time of the grid, the mean of S(t) over the seeds whose curve reaches
	// that time, with its 95% interval (the t interval, not clipped to [0, 1]); N counts
	// those seeds. A run's clients are censored at its end, so a run whose curve ends before
	// a time of the grid says nothing there and is left out.
	S []Interval `json:"s"`
}

// Curve finds an adversary's curve at a level; nil when no run has it.
func (s *Survival) Curve(adversary, level string) *SurvivalCurve {
	for i := range s.Curves {
		if s.Curves[i].Adversary == adversary && s.Curves[i].Level == level {
			return &s.Curves[i]
		}
	}
	return nil
}

// AverageSurvival averages the runs' survival curves, one leakage section per seed in seed
// order (nil for a run without one), for every adversary and level any run has a curve for,
// in the order of the first run that has it. It is nil when no run has a curve.
func AverageSurvival(runs []*results.Leakage) *Survival {
	type key struct{ adversary, kind, level string }
	var keys []key
	curves := map[key][]*results.Survival{} // one per run, nil where the run lacks it
	first, last := math.Inf(1), 0.0
	for r, l := range runs {
		if l == nil {
			continue
		}
		for _, a := range l.Adversaries {
			for _, lv := range a.TTFC.All() {
				sv := lv.Value
				if sv == nil || len(sv.Curve) == 0 {
					continue
				}
				k := key{a.Name, a.Kind, lv.Key}
				if curves[k] == nil {
					keys = append(keys, k)
					curves[k] = make([]*results.Survival, len(runs))
				}
				curves[k][r] = sv
				last = max(last, sv.End())
				for _, p := range sv.Curve {
					if p[0] > 0 {
						first = min(first, p[0])
						break
					}
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	out := &Survival{GridS: survivalGrid(first, last)}
	for _, k := range keys {
		c := SurvivalCurve{Adversary: k.adversary, Kind: k.kind, Level: k.level, S: make([]Interval, len(out.GridS))}
		for i, t := range out.GridS {
			var xs []float64
			for _, sv := range curves[k] {
				if sv != nil && t <= sv.End() {
					xs = append(xs, sv.At(t))
				}
			}
			c.S[i] = Mean(xs)
		}
		out.Curves = append(out.Curves, c)
	}
	return out
}

// survivalGrid is 0 and then SurvivalGridPoints-1 times evenly spaced on a log scale from
// first to last seconds (fewer when the curves hold no time between).
func survivalGrid(first, last float64) []float64 {
	switch {
	case last <= 0:
		return []float64{0}
	case math.IsInf(first, 1) || first >= last:
		return []float64{0, last}
	}
	n := SurvivalGridPoints - 1
	g := make([]float64, 1, SurvivalGridPoints)
	ratio := math.Log(last / first)
	for i := range n {
		g = append(g, first*math.Exp(ratio*float64(i)/float64(n-1)))
	}
	g[len(g)-1] = last // exactly, so the longest curve counts at the last time
	return g
}
