package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios"
)

func init() { registerCommand(newRunCmd) }

type runFlags struct {
	out      string
	seed     string
	sets     []string
	progress string
	quiet    bool
	cpuprof  string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Run a scenario on the in-process simulator and write its results directory",
		Long: `Run a scenario (a built-in name such as "default" or "large", or a YAML file) on the
in-process simulator, in deterministic virtual time, and write a results directory holding the
resolved scenario, summary.json, run.json and report.html.

Scenario keys can be overridden by SESSIONSIM_* environment variables (SESSIONSIM_NODES_COUNT=50)
and by --set key=value, which wins. An unknown key or a bad value is an error (exit code 2)
naming the key and the value; no results directory is written then.`,
		Example: `  sessionsim run
  sessionsim run large --out runs/large-1
  sessionsim run my.yaml --seed 7 --set nodes.count=300 --set crypto=modeled`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "default"
			if len(args) == 1 {
				name = args[0]
			}
			return runScenario(cmd, name, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "results directory (default runs/<scenario>-seed<seed>-<time>)")
	fl.StringVar(&f.seed, "seed", "", "override the scenario's seed (an unsigned integer)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key, e.g. --set nodes.count=50 (repeatable)")
	fl.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the results directory path")
	fl.StringVar(&f.cpuprof, "cpuprofile", "", "write a Go CPU profile of the run to this file (for performance work)")
	return cmd
}

func runScenario(cmd *cobra.Command, name string, f runFlags) error {
	sets := append([]string(nil), f.sets...)
	if f.seed != "" {
		if _, err := strconv.ParseUint(f.seed, 10, 64); err != nil {
			return usageError(fmt.Errorf("--seed %q: must be an unsigned integer", f.seed))
		}
		sets = append(sets, "seed="+f.seed)
	}
	switch f.progress {
	case "auto", "bar", "lines", "none":
	default:
		return usageError(fmt.Errorf("--progress %q: use auto, bar, lines or none", f.progress))
	}
	sc, err := scenarios.Load(name, scenarios.LoadOptions{Environ: os.Environ(), Sets: sets})
	if err != nil {
		return usageError(err)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("%s-seed%d-%s", sc.Name, sc.Seed, time.Now().Format("20060102-150405")))
	}
	if err := prepareResultsDir(dir); err != nil {
		return usageError(err)
	}
	scenarioYAML, err := sc.YAML()
	if err != nil {
		return err
	}
	if err := results.WriteFile(dir, results.ScenarioFile, scenarioYAML); err != nil {
		return err
	}

	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	prog := newProgress(stderr, f.progress, f.quiet)
	if f.cpuprof != "" {
		pf, err := os.Create(f.cpuprof)
		if err != nil {
			return usageError(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	tuneGC()
	start := time.Now()
	summary, err := scenarios.Run(sc, scenarios.RunOptions{Version: Version, Progress: prog.update})
	prog.finish()
	if err != nil {
		return fmt.Errorf("running scenario %q: %w (partial results left in %s, marked %s)", sc.Name, err, dir, results.IncompleteMarker)
	}
	wall := time.Since(start).Seconds()
	run := results.Run{
		Version:     Version,
		GoVersion:   runtime.Version(),
		WallSeconds: wall,
		Speedup:     summary.VirtualSeconds / max(wall, 1e-9),
		StartedAt:   start.UTC().Format(time.RFC3339),
		Command:     "sessionsim run " + name,
	}
	if err := writeResults(dir, summary, run, scenarioYAML); err != nil {
		return err
	}
	if f.quiet {
		fmt.Fprintln(stdout, dir)
		return nil
	}
	reports.WriteText(stdout, summary, &run)
	fmt.Fprintf(stdout, "\nResults in %s (report: %s)\n", dir, filepath.Join(dir, results.ReportFile))
	return nil
}

// prepareResultsDir creates dir, refusing one that already holds results so nothing is lost,
// and marks it incomplete until the run has written everything.
func prepareResultsDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, results.SummaryFile)); err == nil {
		return fmt.Errorf("results directory %s already holds a run; choose another --out or remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating results directory: %w", err)
	}
	return results.WriteFile(dir, results.IncompleteMarker, []byte("this run has not finished; its results are incomplete\n"))
}

func writeResults(dir string, s results.Summary, run results.Run, scenarioYAML []byte) error {
	if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
		return err
	}
	if err := results.WriteJSON(dir, results.RunFile, run); err != nil {
		return err
	}
	var html bytes.Buffer
	if err := reports.WriteHTML(&html, s, &run, scenarioYAML); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := results.WriteFile(dir, results.ReportFile, html.Bytes()); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, results.IncompleteMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// progress draws a bar on a terminal and plain lines elsewhere (CI logs).
type progress struct {
	w        io.Writer
	bar      *progressbar.ProgressBar
	lines    bool
	lastLine int
	start    time.Time
}

// isTerminal reports whether w is a terminal, where a redrawn progress bar reads well (in a
// log or pipe it would be a stream of control characters).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, mode string, quiet bool) *progress {
	p := &progress{w: w, start: time.Now(), lastLine: -1}
	if quiet || mode == "none" {
		return p
	}
	if mode == "bar" || (mode == "auto" && isTerminal(w)) {
		p.bar = progressbar.NewOptions64(1000,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		return p
	}
	p.lines = true
	return p
}

func (p *progress) update(pr scenarios.Progress) {
	frac := 0.0
	if pr.Total > 0 {
		frac = min(1, float64(pr.Virtual)/float64(pr.Total))
	}
	switch {
	case p.bar != nil:
		p.bar.Describe(fmt.Sprintf("%-8s virtual %s/%s, %d msgs sent, %d delivered", pr.Phase, pr.Virtual.Truncate(time.Second), pr.Total, pr.Sent, pr.Delivered))
		_ = p.bar.Set64(int64(frac * 1000))
	case p.lines:
		step := int(frac * 10)
		if step == p.lastLine {
			return
		}
		p.lastLine = step
		wall := time.Since(p.start).Seconds()
		fmt.Fprintf(p.w, "sessionsim: %3d%% %-8s virtual %s of %s, %d events, %d messages sent, %d delivered, %.1fx real time\n",
			step*10, pr.Phase, pr.Virtual.Truncate(time.Second), pr.Total, pr.Events, pr.Sent, pr.Delivered, pr.Virtual.Seconds()/max(wall, 1e-9))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// tuneGC trades memory for speed: a simulated world allocates short-lived request bodies at a
// high rate while its live heap stays moderate, so collecting at 4x the live heap (instead of
// Go's 2x) removes most collection work. A soft limit of half the machine's memory keeps
// large worlds from growing past it. GOGC and GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(12 << 30)
	}
}
