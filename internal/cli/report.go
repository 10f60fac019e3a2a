package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios"
)

func init() { registerCommand(newReportCmd) }

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Print the summary of a results directory and rebuild its report.html",
		Long: `Read a results directory written by "sessionsim run", print its summary in words, and
write report.html again from summary.json, run.json and scenario.yaml (nothing is re-run). The
checks of the run, when its scenario had any, are listed with their verdicts; the exit code is
0 whatever they say (sessionsim check gives a verdict).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			s, err := results.ReadSummary(dir)
			if err != nil {
				return usageError(err)
			}
			run, err := results.ReadRun(dir)
			if err != nil {
				return usageError(err)
			}
			scenarioYAML, _ := os.ReadFile(filepath.Join(dir, results.ScenarioFile))
			html, err := htmlReport(s, run, scenarioYAML)
			if err != nil {
				return err
			}
			if err := results.WriteFile(dir, results.ReportFile, html); err != nil {
				return err
			}
			reports.WriteText(cmd.OutOrStdout(), s, run)
			fmt.Fprintf(cmd.OutOrStdout(), "\nReport written to %s\n", filepath.Join(dir, results.ReportFile))
			return nil
		},
	}
}

// htmlReport builds report.html, marking the scenario keys whose values differ from the
// defaults every scenario file starts from.
func htmlReport(s results.Summary, run *results.Run, scenarioYAML []byte) ([]byte, error) {
	defaults, err := scenarios.Default().YAML()
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := reports.WriteHTML(&html, s, run, scenarioYAML, defaults); err != nil {
		return nil, fmt.Errorf("writing report: %w", err)
	}
	return html.Bytes(), nil
}
