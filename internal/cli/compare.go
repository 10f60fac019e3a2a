package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

func init() { registerCommand(newCompareCmd) }

func newCompareCmd() *cobra.Command {
	var failOn []string
	var out string
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare two runs, two --seeds outputs or two sweeps, figure by figure",
		Long: `Compare B with A: two results directories of single runs, two directories written by
"run --seeds" (or their aggregate.json), or two sweeps (or their sweep.json), arm by arm. For
every figure of summary.json: both values (means with 95% intervals over the seeds), the
difference B minus A with its 95% interval (paired seed by seed when both ran the same seeds,
else Welch's), and a verdict: better or worse (by the figure's direction: higher delivery is
better, lower latency is better), changed (a figure with no better side), or no significant
change. A single run on a side gives no interval: then only an exact tie is called.

The terminal shows the headline figures and every one that changed; compare.json holds
every figure, and compare.html is a page of them, both in the current directory or --out.

--fail-on "FIGURE OP THRESHOLD" (OP <, <=, > or >=; repeatable) is a rule on the mean
difference B minus A: "delivery_ratio<-0.001" fails when B delivers more than 0.1 points less.
Any broken rule makes the exit code 3. Results of different schema versions, sweeps of
different grids, or a rule on a figure summary.json does not have are refused (exit 2).`,
		Example: `  sessionsim compare runs/before runs/after
  sessionsim compare runs/sweep-main runs/sweep-branch --fail-on "delivery_ratio<-0.001" --fail-on "onion_rtt_ms.p99>50" --out cmp`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules := make([]stats.Rule, len(failOn))
			for i, text := range failOn {
				r, err := stats.ParseRule(text)
				if err != nil {
					return usageError(err)
				}
				p, err := checks.ParsePath(r.Figure)
				if err == nil {
					err = checks.Summary.Validate(p)
				}
				if err != nil {
					return usageError(fmt.Errorf("--fail-on %q: %w", text, err))
				}
				rules[i] = r
			}
			a, err := loadExperiment(args[0])
			if err != nil {
				return usageError(fmt.Errorf("side A: %w", err))
			}
			b, err := loadExperiment(args[1])
			if err != nil {
				return usageError(fmt.Errorf("side B: %w", err))
			}
			zeroAbsentCounts(&a, &b)
			zeroAbsentCounts(&b, &a)
			arms, err := stats.Compare(a, b)
			if err != nil {
				return usageError(err)
			}
			c := stats.Comparison{A: source(args[0], a), B: source(args[1], b), Arms: arms, Rules: stats.Apply(rules, arms)}
			return writeComparison(cmd, out, c)
		},
	}
	cmd.Flags().StringArrayVar(&failOn, "fail-on", nil, `a regression rule on the difference B-A, e.g. "delivery_ratio<-0.001" (repeatable; exit 3 when broken)`)
	cmd.Flags().StringVar(&out, "out", ".", "the directory for compare.json and compare.html")
	return cmd
}

func source(path string, e stats.Experiment) stats.Source {
	return stats.Source{Path: path, Kind: e.Kind, Scenario: e.Scenario, Seeds: e.Seeds}
}

// compareSides says what compare takes as a side.
const compareSides = "give a run's results directory, a --seeds output or a sweep (or its " + stats.AggregateFile + " or " + stats.SweepFile + ")"

// loadExperiment reads one side of a comparison: a sweep or --seeds directory (or its JSON
// file), or a single run's results directory, which becomes an experiment of one seed.
func loadExperiment(path string) (stats.Experiment, error) {
	var e stats.Experiment
	file := path
	if fi, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return e, fmt.Errorf("%s: no such file or directory; %s", path, compareSides)
	} else if err != nil {
		return e, err
	} else if fi.IsDir() {
		file = ""
		for _, name := range []string{stats.SweepFile, stats.AggregateFile} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				file = filepath.Join(path, name)
				break
			}
		}
	}
	if file == "" {
		s, err := results.ReadSummary(path)
		if err != nil {
			return e, err
		}
		figures, values := checks.Collect([]any{s})
		arm := stats.NewArm("run", nil, stats.Table{Figures: figures, Values: values})
		if results.ChecksFailed(s.Checks) > 0 {
			arm.ChecksFailed = []uint64{s.Seed}
		}
		return stats.Experiment{Kind: "run", Schema: s.Schema, Scenario: s.Scenario, Seeds: []uint64{s.Seed}, Arms: []stats.Arm{arm}}, nil
	}
	if err := results.ReadJSON(file, &e); err != nil {
		return e, fmt.Errorf("%w; %s", err, compareSides)
	}
	switch {
	case e.Kind != "seeds" && e.Kind != "sweep":
		return e, fmt.Errorf("%s is neither a sweep's %s nor a --seeds run's %s", file, stats.SweepFile, stats.AggregateFile)
	case e.Schema != results.SchemaVersion:
		return e, fmt.Errorf("%s: summary schema %d, this build reads schema %d", file, e.Schema, results.SchemaVersion)
	case len(e.Arms) == 0:
		return e, errors.New(file + " has no arms")
	}
	return e, nil
}

// writeComparison prints the comparison, writes compare.json and compare.html to dir, and
// fails (exit 3) when a rule broke.
func writeComparison(cmd *cobra.Command, dir string, c stats.Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError(outError(dir, err))
	}
	if err := results.WriteJSON(dir, stats.CompareFile, c); err != nil {
		return err
	}
	if err := writeRendered(dir, stats.CompareHTML, func(w io.Writer) error { return reports.WriteCompareHTML(w, c) }); err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	if err := reports.WriteCompareText(stdout, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nEvery figure in %s; page %s\n", filepath.Join(dir, stats.CompareFile), filepath.Join(dir, stats.CompareHTML))
	broken := 0
	for _, r := range c.Rules {
		if r.Broken {
			broken++
		}
	}
	if broken > 0 {
		return &exitError{code: exitChecks, err: fmt.Errorf("%d of %d --fail-on verdicts broken: B regressed", broken, len(c.Rules))}
	}
	return nil
}

// zeroAbsentCounts gives e the counts by cause (messages.lost_by_cause.KEY, ...) that other has
// and e's runs never saw: 0 in each of them, as a check reads them, rather than missing.
func zeroAbsentCounts(e, other *stats.Experiment) {
	for i := range min(len(e.Arms), len(other.Arms)) {
		for _, f := range other.Arms[i].Figures {
			if e.Arms[i].Figure(f.Figure) != nil {
				continue
			}
			p, err := checks.ParsePath(f.Figure)
			if err != nil {
				continue
			}
			if v, err := checks.Lookup(results.Summary{}, p); err != nil || v == nil {
				continue // not a count: a figure these runs do not have
			}
			zeros := make([]*float64, len(e.Seeds))
			xs := make([]float64, len(e.Seeds))
			for s := range zeros {
				zeros[s] = &xs[s]
			}
			e.Arms[i].Insert(stats.Figure{Figure: f.Figure, Direction: f.Direction, Values: zeros, Interval: stats.Mean(xs)})
		}
	}
}
