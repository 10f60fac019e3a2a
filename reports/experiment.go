package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sessionsim/sessionsim/results/stats"
)

// num writes a statistic for reading, where the JSON and CSV keep every digit: six significant
// digits, without an exponent from one up, so a million or more is a whole number (140285735,
// not 1.40286e+08). Only values below 0.0001 keep an exponent, which reads better than a row
// of zeros.
func num(f *float64) string {
	if f == nil {
		return "n/a"
	}
	if s := strconv.FormatFloat(*f, 'g', 6, 64); !strings.ContainsRune(s, 'e') || math.Abs(*f) < 1 {
		return s
	}
	return strconv.FormatFloat(*f, 'f', 0, 64)
}

// interval writes a 95% interval as [low, high], or "n/a" without one.
func interval(iv stats.Interval) string {
	if !iv.Has() {
		return "n/a"
	}
	return "[" + num(iv.Low) + ", " + num(iv.High) + "]"
}

// headline are the figures a sweep prints on the terminal; its files hold every figure.
var headline = []string{"delivery_ratio", "end_to_end_latency_ms.p50", "end_to_end_latency_ms.p99", "onion_rtt_ms.p99", "replication.min_copies", "traffic.total_bytes"}

// WriteExperimentText prints an experiment: with one arm (`run --seeds`) every figure's mean
// and 95% interval over the seeds; with several (a sweep) the headline figures of each arm with
// the paired difference to the first arm and its verdict.
func WriteExperimentText(w io.Writer, e stats.Experiment) error {
	fmt.Fprintf(w, "Scenario %q, %s (%s); %s\n", e.Scenario, Count(len(e.Seeds), "seed"), seedRange(e.Seeds), overSeeds(len(e.Seeds)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(e.Arms) == 1 {
		fmt.Fprintln(tw, "figure\tmean\t95% interval\tn")
		for _, f := range e.Arms[0].Figures {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", f.Figure, num(f.Mean), interval(f.Interval), f.N)
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "arm\tfigure\tmean\t95% interval\tdifference to arm 1\t95% interval\tverdict")
	for _, a := range e.Arms {
		for _, name := range headline {
			f := a.Figure(name)
			if f == nil {
				continue
			}
			diff, div, verdict := "", "", ""
			if f.Diff != nil {
				diff, div, verdict = num(f.Diff.Mean), interval(*f.Diff), f.Verdict
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, f.Figure, num(f.Mean), interval(f.Interval), diff, div, verdict)
		}
	}
	return tw.Flush()
}

// overSeeds says what an experiment of n seeds shows for each figure: means with intervals, or
// with one seed the run's own values, an interval needing two.
func overSeeds(n int) string {
	if n < 2 {
		return "the values of the one run, without intervals (an interval needs two seeds or more)"
	}
	return "means with 95% intervals over the seeds"
}

// NamedSeeds writes seeds with their noun: "seed 1", "seeds 1, 2", "seeds 1-5".
func NamedSeeds(seeds []uint64) string {
	if len(seeds) == 1 {
		return "seed " + seedRange(seeds)
	}
	return "seeds " + seedRange(seeds)
}

// seedRange writes seeds compactly: "1-5" when consecutive, else the list.
func seedRange(seeds []uint64) string {
	if len(seeds) == 0 {
		return "none"
	}
	consecutive := true
	for i := 1; i < len(seeds); i++ {
		consecutive = consecutive && seeds[i] == seeds[i-1]+1
	}
	if consecutive && len(seeds) > 2 {
		return fmt.Sprintf("%d-%d", seeds[0], seeds[len(seeds)-1])
	}
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ", ")
}

// WriteSweepCSV writes sweep.csv: one row per arm and figure, with a column per swept key,
// the mean and 95% interval over the seeds, and the paired difference to the first arm.
func WriteSweepCSV(w io.Writer, e stats.Experiment) error {
	header := []string{"arm"}
	for _, p := range e.Params {
		header = append(header, p.Key)
	}
	header = append(header, "figure", "direction", "n", "mean", "low", "high", "diff_mean", "diff_low", "diff_high", "verdict")
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	full := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'g', -1, 64)
	}
	for _, a := range e.Arms {
		for _, f := range a.Figures {
			row := []string{a.Name}
			for _, s := range a.Settings {
				row = append(row, s.Value)
			}
			row = append(row, f.Figure, string(f.Direction), strconv.Itoa(f.N), full(f.Mean), full(f.Low), full(f.High))
			if f.Diff != nil {
				row = append(row, full(f.Diff.Mean), full(f.Diff.Low), full(f.Diff.High), f.Verdict)
			} else {
				row = append(row, "", "", "", "")
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// noIntervals is why a comparison has no intervals, and what its verdicts mean then.
const noIntervals = `a side of a single run has no spread over seeds to give one, so only an exact tie gets a verdict ("no significant change"); other figures say "no interval"`

// WriteCompareText prints a comparison: for each pair of arms the headline figures and every
// figure whose verdict is not "no significant change", then the --fail-on rules.
func WriteCompareText(w io.Writer, c stats.Comparison) error {
	how := "unpaired (Welch): the two sides ran different seeds"
	if len(c.Arms) > 0 && c.Arms[0].Paired {
		how = "paired by seed"
	}
	shown := "B - A with 95% intervals, " + how
	if !c.HasIntervals() {
		shown = "B - A without intervals: " + noIntervals
	}
	fmt.Fprintf(w, "A: %s (%s of %q, %s)\nB: %s (%s of %q, %s)\n%s\n",
		c.A.Path, c.A.Kind, c.A.Scenario, NamedSeeds(c.A.Seeds), c.B.Path, c.B.Kind, c.B.Scenario, NamedSeeds(c.B.Seeds), shown)
	for _, a := range c.Arms {
		fmt.Fprintln(w)
		if len(c.Arms) > 1 {
			fmt.Fprintf(w, "%s\n", a.B)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "figure\tA\tB\tB - A\t95% interval\tverdict")
		quiet := 0
		for _, f := range a.Figures {
			if f.Verdict == stats.NoChange && !slices.Contains(headline, f.Figure) {
				quiet++
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Figure, num(f.A.Mean), num(f.B.Mean), num(f.Diff.Mean), interval(f.Diff), f.Verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if quiet > 0 {
			fmt.Fprintf(w, "(%s: no significant change)\n", Count(quiet, "more figure"))
		}
	}
	if len(c.Rules) > 0 {
		fmt.Fprintln(w)
		for _, r := range c.Rules {
			outcome := "held"
			if r.Broken {
				outcome = "BROKEN: " + r.Reason
			}
			fmt.Fprintf(w, "--fail-on %q on %s: %s\n", r.Rule, r.Arm, outcome)
		}
	}
	return nil
}
