package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

func init() { registerCommand(newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var checksFile, junit string
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Evaluate checks on an existing results directory",
		Long: `Evaluate checks on the summary.json of a results directory, without running anything: the
scenario's own checks (the "checks:" list of DIR/scenario.yaml), or with --checks those of a
YAML file holding only a "checks:" list, so thresholds can be kept apart from scenarios.

Each check is printed with its measured value and verdict. Nothing in DIR is written or
changed: the run's own junit.xml keeps the verdicts of the run's checks. --junit PATH writes
these verdicts as JUnit XML to PATH (its directory is created if need be).

Exit codes: 0 every check passed; 3 a check failed; 2 bad input: DIR is no complete results
directory (a run that did not finish is refused), a check is malformed or names a figure
summary.json does not have, or there is no check to evaluate.`,
		Example: `  sessionsim check runs/default-seed1-20261126-101500
  sessionsim check runs/mine --checks thresholds.yaml --junit junit.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if fi, err := os.Stat(junit); junit != "" && err == nil && fi.IsDir() {
				return usageError(fmt.Errorf("--junit %s is a directory; give the file to write, e.g. %s", junit, filepath.Join(junit, results.JUnitFile)))
			}
			s, err := results.ReadSummary(dir)
			if err != nil {
				return usageError(err)
			}
			cs, from, err := checksFor(dir, checksFile)
			if err != nil {
				return usageError(err)
			}
			if junit != "" { // before anything is printed: a path that cannot be written is bad input
				if err := os.MkdirAll(filepath.Dir(junit), 0o755); err != nil {
					return usageError(fmt.Errorf("--junit %s: %w; give a file in a directory that can be created here", junit, err))
				}
			}
			s.Checks = checks.Evaluate(cs, s)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Scenario %q, seed %d, in %s; checks from %s\n", s.Scenario, s.Seed, dir, from)
			reports.WriteChecks(out, s.Checks)
			if junit != "" {
				run, err := results.ReadRun(dir)
				if err != nil {
					return usageError(err)
				}
				if err := writeJUnit(filepath.Dir(junit), filepath.Base(junit), s, run); err != nil {
					return err
				}
			}
			return checksVerdict(s.Checks, junit)
		},
	}
	cmd.Flags().StringVar(&checksFile, "checks", "", "a YAML `FILE` holding a checks: list, evaluated instead of the scenario's own")
	cmd.Flags().StringVar(&junit, "junit", "", "write the verdicts as JUnit XML to this file")
	return cmd
}

// checksFor reads the checks to evaluate on dir: file's, or else those of the scenario the run
// resolved. from says where they came from.
func checksFor(dir, file string) (cs []checks.Check, from string, err error) {
	if file != "" {
		cs, err = checks.ReadFile(file)
		return cs, file, err
	}
	from = filepath.Join(dir, results.ScenarioFile)
	src, err := os.ReadFile(from)
	if err != nil {
		return nil, from, fmt.Errorf("%s: reading the scenario's checks: %w; give --checks FILE", dir, err)
	}
	if cs, err = checks.FromYAML(src, from, false); err != nil {
		return nil, from, err
	}
	if len(cs) == 0 {
		return nil, from, fmt.Errorf("%s has no checks; give --checks FILE, a YAML file with a `checks:` list", from)
	}
	return cs, from, nil
}
