// Package stats turns figures measured over several seeds into the statements an experiment
// needs: a mean with its 95% confidence interval, the difference between two arms with its
// interval (paired when both ran the same seeds, so common random numbers cancel), and a
// verdict on that difference; and the runs' Kaplan-Meier survival curves averaged over the
// seeds on one time grid, with an interval at each time. It also holds the formats of the
// files that carry these statistics (aggregate.json, sweep.json, compare.json), so reports
// can read them without running anything.
//
// Intervals use Student's t quantiles, which matter at the handful of seeds a simulation
// study can afford: with 3 seeds the 95% interval is 4.30 standard errors wide on each side,
// not the normal 1.96.
package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval and verdict.
const Level = 0.95

// Interval is an estimate from n values with its 95% confidence interval. Low and High are
// null when there is no interval to give (fewer than two values); Mean is null when there is
// no value at all.
type Interval struct {
	N    int      `json:"n"`
	Mean *float64 `json:"mean"`
	Low  *float64 `json:"low"`
	High *float64 `json:"high"`
}

// Has reports whether the interval has both ends.
func (iv Interval) Has() bool { return iv.Low != nil && iv.High != nil }

// tQuantile is the two-sided 95% Student t quantile for df degrees of freedom.
func tQuantile(df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-Level)/2)
}

// meanSD is the mean and sample standard deviation (n-1 in the denominator) of xs.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func ptr(f float64) *float64 { return &f }

// Mean is the mean of xs with its 95% t-interval: mean ± t(0.975, n-1)·s/√n.
func Mean(xs []float64) Interval {
	iv := Interval{N: len(xs)}
	if len(xs) == 0 {
		return iv
	}
	m, sd := meanSD(xs)
	iv.Mean = ptr(m)
	if len(xs) >= 2 {
		h := tQuantile(float64(len(xs)-1)) * sd / math.Sqrt(float64(len(xs)))
		iv.Low, iv.High = ptr(m-h), ptr(m+h)
	}
	return iv
}

// Paired is the mean difference b[i]-a[i] over pairs measured on the same seed, with its
// t-interval: variation the two arms share (the same network, the same workload) cancels.
// a and b must be the same length.
func Paired(a, b []float64) Interval {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	return Mean(d)
}

// Unpaired is the difference of means mean(b)-mean(a) of independent samples, with Welch's
// t-interval (unequal variances, Welch–Satterthwaite degrees of freedom). With one value on a
// side there is no interval, only the difference.
func Unpaired(a, b []float64) Interval {
	iv := Interval{N: min(len(a), len(b))}
	if len(a) == 0 || len(b) == 0 {
		return iv
	}
	ma, sa := meanSD(a)
	mb, sb := meanSD(b)
	iv.Mean = ptr(mb - ma)
	if len(a) < 2 || len(b) < 2 {
		return iv
	}
	va, vb := sa*sa/float64(len(a)), sb*sb/float64(len(b))
	se := math.Sqrt(va + vb)
	if se == 0 { // both samples constant: the difference is known exactly
		iv.Low, iv.High = ptr(mb-ma), ptr(mb-ma)
		return iv
	}
	df := (va + vb) * (va + vb) / (va*va/float64(len(a)-1) + vb*vb/float64(len(b)-1))
	h := tQuantile(df) * se
	iv.Low, iv.High = ptr(mb-ma-h), ptr(mb-ma+h)
	return iv
}
