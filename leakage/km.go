package leakage

import (
	"math"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/results"
)

// km is a Kaplan-Meier survival curve: S(t) = prod over event times t_i <= t of
// (1 - d_i/n_i), with d_i compromises among n_i clients still at risk. times are the distinct
// event times, surv S just after each.
type km struct {
	times []time.Duration
	surv  []float64
}

// kaplanMeier estimates S from events (times to first compromise) and censored (times at
// which uncompromised clients left the risk set: here the run's end).
func kaplanMeier(events, censored []time.Duration) km {
	slices.Sort(events)
	slices.Sort(censored)
	var k km
	atRisk := len(events) + len(censored)
	s := 1.0
	c := 0
	for i := 0; i < len(events); {
		t := events[i]
		// Clients censored before t left the risk set; censored at t still count (the
		// usual convention: an event at t happens before a censoring at t).
		for c < len(censored) && censored[c] < t {
			c++
			atRisk--
		}
		d := 0
		for i < len(events) && events[i] == t {
			d++
			i++
		}
		s *= 1 - float64(d)/float64(atRisk)
		atRisk -= d
		k.times = append(k.times, t)
		k.surv = append(k.surv, s)
	}
	return k
}

// at is S(t).
func (k km) at(t time.Duration) float64 {
	i, found := slices.BinarySearch(k.times, t)
	if found {
		return k.surv[i]
	}
	if i == 0 {
		return 1
	}
	return k.surv[i-1]
}

// Horizons at which the fraction compromised is reported, when the run is that long.
var horizons = []struct {
	name string
	d    time.Duration
}{{"1h", time.Hour}, {"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}

// survival averages the draws' Kaplan-Meier curves on a fixed grid and summarises them.
// Each draw's firsts are its compromised clients; every other active client is censored at
// the run's end.
func (a *activity) survival(firsts [][]compromise, end time.Duration) *results.Survival {
	horizon := time.Duration(0)
	for _, o := range a.origin {
		if o >= 0 {
			horizon = max(horizon, end-o)
		}
	}
	grid := survivalGrid(horizon)
	mean := make([]float64, len(grid))
	var at map[string]float64
	for _, fs := range firsts {
		compromised := make([]bool, len(a.origin))
		events := make([]time.Duration, 0, len(fs))
		for _, f := range fs {
			compromised[f.client] = true
			events = append(events, max(0, f.at-a.origin[f.client]))
		}
		var censored []time.Duration
		for c, o := range a.origin {
			if o >= 0 && !compromised[c] {
				censored = append(censored, end-o)
			}
		}
		k := kaplanMeier(events, censored)
		for j, t := range grid {
			mean[j] += k.at(t) / float64(len(firsts))
		}
		for _, h := range horizons {
			if h.d <= horizon {
				if at == nil {
					at = map[string]float64{}
				}
				at[h.name] += (1 - k.at(h.d)) / float64(len(firsts))
			}
		}
	}
	sv := &results.Survival{CompromisedBy: at}
	for name, v := range at {
		at[name] = round6(v)
	}
	quantile := func(q float64) *float64 {
		for j, t := range grid {
			if 1-mean[j] >= q-1e-12 {
				v := round6(t.Seconds())
				return &v
			}
		}
		return nil
	}
	sv.MedianS, sv.P10S, sv.P90S = quantile(0.5), quantile(0.1), quantile(0.9)
	for j := 0; j < len(grid); j += 4 {
		sv.Curve = append(sv.Curve, [2]float64{round6(grid[j].Seconds()), round6(mean[j])})
	}
	return sv
}

// survivalGrid is 0 and then 200 times spaced evenly on a log scale from 10 ms to horizon:
// first compromises come seconds after a client starts (guard tests) and then over hours, so a
// log grid resolves both with about 5% relative error.
func survivalGrid(horizon time.Duration) []time.Duration {
	const n = 200
	lo := 10 * time.Millisecond
	g := []time.Duration{0}
	if horizon <= lo {
		return append(g, horizon)
	}
	ratio := math.Log(float64(horizon) / float64(lo))
	for i := range n + 1 {
		g = append(g, time.Duration(float64(lo)*math.Exp(ratio*float64(i)/n)))
	}
	g[len(g)-1] = horizon
	return g
}
