package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

func init() { registerCommand(newRunCmd) }

// scenarioFlags are the flags of run and sweep that change the scenario every run loads.
type scenarioFlags struct {
	sets []string
	seed string
}

type runFlags struct {
	scenarioFlags
	batchFlags // with --seeds (runseeds.go)
	out        string
	progress   string
	quiet      bool
	cpuprof    string
	memprof    string
	quick      bool
}

// workersUsage is the help of --workers, on run and sweep.
const workersUsage = "run each world on this many workers (cores), with the same results for every number; a world that cannot says so and runs on fewer (run.json's workers and workers_note)"

// batchWorkers is the --workers to pass on to each run of a batch: the one given or, by
// default, the cores shared among the jobs that run at once (at least 1), so that jobs times
// workers does not ask for more cores than the machine has.
func batchWorkers(cmd *cobra.Command, n, jobs int) int {
	if cmd.Flags().Changed("workers") {
		return n
	}
	return max(1, runtime.NumCPU()/max(jobs, 1))
}

// checkWorkers refuses a --workers no engine can run on.
func checkWorkers(n int) error {
	if n < 1 {
		return fmt.Errorf("--workers %d: give at least 1 worker (the default is this machine's %d cores)", n, runtime.NumCPU())
	}
	return nil
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Run a scenario (simulated, or live or in docker as its mode says) and write its results directory",
		Long: `Run a scenario (a built-in name such as "default" or "large", or a YAML file) on the
in-process simulator, in deterministic virtual time (or, with --set mode=live or mode=docker,
on real sockets in real time: see the README's Live mode and Docker mode), and write a results
directory holding the resolved scenario, summary.json, run.json and report.html (and
link_taps.csv.gz when the scenario sets leakage.link_taps).

Scenario keys can be overridden by SESSIONSIM_* environment variables (SESSIONSIM_NODES_COUNT=50)
and by --set key=value, which wins. An unknown key or a bad value, a network too small to
deliver or a world too large for this machine's memory is an error (exit code 2) naming the key,
the value and where it was set; no results directory is written then.

A scenario's checks (its "checks:" list, e.g. "delivery_ratio >= 0.999") are evaluated on the
summary when the run ends: each is printed with its measured value and verdict, recorded in
summary.json and written to junit.xml in the results directory; any failing check makes the
exit code 3. A malformed check, or one naming a figure summary.json does not have, is refused
at load like any other bad key (exit code 2).

--seeds N runs N seeds (the scenario's seed or --seed, then the next ones), each a new
network, client set and workload, as separate processes, --jobs at a time. Each run's results
directory is OUT/seed-S, the same bytes a plain run with --seed S writes; OUT/aggregate.json and
OUT/aggregate.txt give every figure's mean and 95% interval over the seeds. Each seed's checks
are evaluated in its run; the exit code is 3 when any failed.

Progress (--progress) shows the virtual time reached, the events per second of wall time and an
estimate of the wall time left, at the pace so far. Ctrl-C stops the run at the next virtual
second: what was measured until then is printed and written (summary.json, with "incomplete":
true, and run.json), and the directory keeps its INCOMPLETE marker (exit code 1).

` + scenarios.QuickRules,
		Example: `  sessionsim run
  sessionsim run large --out runs/large-1
  sessionsim run my.yaml --seed 7 --set nodes.count=300 --set crypto=modeled
  sessionsim run default --seeds 10 --jobs 2 --set crypto=modeled --out runs/ten
  sessionsim run churn --quick`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "default"
			if len(args) == 1 {
				name = args[0]
			}
			if cmd.Flags().Changed("seeds") {
				return runSeeds(cmd, name, f)
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
	fl.IntVar(&f.seeds, "seeds", 1, "run this many seeds (the scenario's or --seed, then the next ones) in parallel processes and aggregate them")
	fl.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "with --seeds: how many runs at a time")
	fl.BoolVar(&f.quick, "quick", false, "run the scenario shortened: a tenth of the nodes and clients, a quarter of the time, its quick.checks (see above)")
	fl.StringVar(&f.cpuprof, "cpuprofile", "", "write a Go CPU profile of the run to this file (for performance work)")
	fl.StringVar(&f.memprof, "memprofile", "", "write a Go heap profile of the run's allocations to this file when it ends (for performance work)")
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), workersUsage+"; with --seeds, unless given, each run gets the cores divided among --jobs")
	return cmd
}

func runScenario(cmd *cobra.Command, name string, f runFlags) error {
	load, err := f.loadOptions(f.quick)
	if err != nil {
		return usageError(err)
	}
	switch f.progress {
	case "auto", "bar", "lines", "none":
	default:
		return usageError(fmt.Errorf("--progress %q: use auto, bar, lines or none", f.progress))
	}
	if err := checkWorkers(f.workers); err != nil {
		return usageError(err)
	}
	sc, err := scenarios.Load(name, load)
	if err != nil {
		return usageError(err)
	}
	cs, err := checks.ParseAll(sc.Checks) // validated by Load: this only keeps them parsed
	if err != nil {
		return usageError(err)
	}
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
	var memprof *os.File
	if f.memprof != "" {
		// Created now so that a path that cannot be written is refused before the run, not after it.
		if memprof, err = os.Create(f.memprof); err != nil {
			return usageError(fmt.Errorf("--memprofile: %w", err))
		}
		defer memprof.Close()
	}
	dir, err := prepareResultsDir(f.out, sc)
	if err != nil {
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
	prog.settingUp(sc)
	tuneGC(load.MachineMemory, scenarios.EstimateMemory(sc))
	// Ctrl-C ends the run at the next virtual second; what was measured until then is kept.
	// A second Ctrl-C, after stop, kills the process as usual.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	start := time.Now()
	workers, workersNote, window := 1, "", time.Duration(0)
	opts := scenarios.RunOptions{Version: Version, Progress: prog.update, Stop: ctx.Done(), Workers: f.workers,
		OnWorkers: func(used int, why string) {
			workers, workersNote = used, why
			if line := workersLine(sc.Mode, f.workers, cmd.Flags().Changed("workers"), used, why); line != "" && !f.quiet {
				fmt.Fprintln(stderr, line)
			}
		},
		OnWindow: func(d time.Duration) { window = d }}
	var taps *os.File
	if sc.Leakage.LinkTaps {
		if taps, err = os.Create(filepath.Join(dir, results.LinkTapsFile)); err != nil {
			return fmt.Errorf("link taps: %w", err)
		}
		opts.LinkTaps = taps
	}
	var memErr error // the heap profile's; reported once the run's results are written
	if memprof != nil {
		opts.AtEnd = func() { memErr = writeHeapProfile(memprof) }
	}
	summary, err := scenarios.Run(sc, opts)
	stop()
	prog.finish()
	if memErr != nil && err != nil { // a run that completes reports it after writing its results
		fmt.Fprintf(stderr, "--memprofile: %v\n", memErr)
	}
	if taps != nil {
		if cerr := taps.Close(); cerr != nil && err == nil {
			return fmt.Errorf("link taps: %w", cerr)
		}
	}
	interrupted := errors.Is(err, scenarios.ErrInterrupted)
	if err != nil && !interrupted {
		return fmt.Errorf("running scenario %q: %w (partial results left in %s, marked %s)", sc.Name, err, dir, results.IncompleteMarker)
	}
	wall := time.Since(start).Seconds()
	run := results.Run{
		Version:         Version,
		Commit:          buildCommit(),
		GoVersion:       runtime.Version(),
		WallSeconds:     wall,
		Speedup:         summary.VirtualSeconds / max(wall, 1e-9),
		StartedAt:       start.UTC().Format(time.RFC3339),
		Command:         runCommand(name, f),
		Mode:            realTimeMode(sc.Mode),
		Workers:         workers,
		WorkersNote:     workersNote,
		WorkersWindowMs: float64(window) / float64(time.Millisecond),
	}
	if interrupted {
		return keepInterrupted(stdout, dir, summary, run, sc)
	}
	if len(cs) > 0 {
		summary.Checks = checks.Evaluate(cs, summary)
	}
	if err := writeResults(dir, summary, run, scenarioYAML); err != nil {
		return err
	}
	if f.quiet {
		fmt.Fprintln(stdout, dir)
	} else {
		reports.WriteText(stdout, summary, &run)
		fmt.Fprintf(stdout, "\nResults in %s (report: %s)\n", dir, filepath.Join(dir, results.ReportFile))
	}
	if memErr != nil {
		return fmt.Errorf("--memprofile: %w (the run's results are in %s)", memErr, dir)
	}
	return checksVerdict(summary.Checks, filepath.Join(dir, results.JUnitFile))
}

// writeHeapProfile writes the allocations profile (every sample type: alloc_space and
// alloc_objects since the process started, inuse_* as of a collection run just before, so that
// they count what is live then rather than as of the last automatic collection) to f and closes
// it. runScenario calls it at the end of the run, while the world is still live
// (scenarios.RunOptions.AtEnd): called after Run returns, inuse_* would count none of it.
func writeHeapProfile(f *os.File) error {
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return err
	}
	return f.Close()
}

// workersLine is what run says when a world runs on fewer workers than --workers asked, or ""
// when there is nothing to say. Workers are the simulator's: a live or docker run says that it
// does not use them only to someone who gave --workers, not to every run on a many-core machine.
func workersLine(mode string, asked int, given bool, used int, why string) string {
	switch {
	case used >= asked:
		return ""
	case mode == "sim":
		return fmt.Sprintf("workers: %d of %d (%s)", used, asked, why)
	case given:
		return fmt.Sprintf("--workers %d: not used (%s)", asked, why)
	}
	return ""
}

// realTimeMode is run.json's mode: the scenario's when it runs in real time, empty for the
// simulator.
func realTimeMode(mode string) string {
	if mode == "sim" {
		return ""
	}
	return mode
}

// runCommand is the command line run.json records: what gives the run again (the scenario,
// --seed, each --set in order, --quick), without the flags that change only where and how it
// is written or shown. Overrides from SESSIONSIM_* variables are not in it: the resolved
// scenario's description names them.
func runCommand(name string, f runFlags) string {
	words := []string{"sessionsim", "run", name}
	if f.seed != "" {
		words = append(words, "--seed", f.seed)
	}
	for _, set := range f.sets {
		words = append(words, "--set", set)
	}
	if f.quick {
		words = append(words, "--quick")
	}
	for i, w := range words {
		if w == "" || strings.ContainsFunc(w, func(r rune) bool { return !plainWord(r) }) {
			words[i] = shellQuote(w)
		}
	}
	return strings.Join(words, " ")
}

// plainWord reports whether r needs no quoting in a shell word.
func plainWord(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:/=+@%", r)
}

// checksVerdict is the error that ends a command whose checks failed (exit code 3), or nil
// when they all passed or there were none. junit names where the verdicts were written.
func checksVerdict(cs []results.CheckResult, junit string) error {
	failed := results.ChecksFailed(cs)
	if failed == 0 {
		return nil
	}
	where := ""
	if junit != "" {
		where = " (verdicts in " + junit + ")"
	}
	return &exitError{code: exitChecks, err: fmt.Errorf("%d of %d checks failed%s", failed, len(cs), where)}
}

// keepInterrupted writes what an interrupted run measured, leaves the directory marked
// incomplete, and says what is there.
func keepInterrupted(w io.Writer, dir string, s results.Summary, run results.Run, sc scenarios.Scenario) error {
	s.Incomplete = true
	if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
		return err
	}
	if err := results.WriteJSON(dir, results.RunFile, run); err != nil {
		return err
	}
	total := sc.Warmup + sc.Duration + sc.Drain
	fmt.Fprintf(w, "Interrupted after %s of %s of %s. What was measured until then:\n\n", time.Duration(s.VirtualSeconds*float64(time.Second)), total, run.Clock())
	reports.WriteText(w, s, &run)
	fmt.Fprintf(w, "\nKept in %s: %s (the resolved scenario), %s (partial) and %s; marked %s, so `sessionsim report` refuses it.\n",
		dir, results.ScenarioFile, results.SummaryFile, results.RunFile, results.IncompleteMarker)
	return &exitError{code: exitFailure, err: fmt.Errorf("scenario %q interrupted", sc.Name)}
}

// timestampedDir is where a command writes when not given --out: runs/NAME-TIME, with TIME the
// local time to the second, so later runs sort after earlier ones.
func timestampedDir(name string) string {
	return filepath.Join("runs", name+"-"+time.Now().Format("20060102-150405"))
}

// outError is the refusal of an --out directory that cannot be created.
func outError(dir string, err error) error {
	return fmt.Errorf("--out %s: %w; give a directory that can be created here", dir, err)
}

// prepareResultsDir creates the results directory and marks it incomplete until the run has
// written everything. An --out directory that already holds a run is refused, so nothing is
// lost; without --out the directory is runs/<scenario>-seed<seed>-<time>, with -2, -3, ...
// appended when a run started in the same second took the name.
func prepareResultsDir(out string, sc scenarios.Scenario) (string, error) {
	dir := out
	if dir == "" {
		base := timestampedDir(fmt.Sprintf("%s-seed%d", sc.Name, sc.Seed))
		if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
			return "", fmt.Errorf("creating results directory: %w", err)
		}
		for i := 1; ; i++ {
			dir = base
			if i > 1 {
				dir = fmt.Sprintf("%s-%d", base, i)
			}
			err := os.Mkdir(dir, 0o755) // fails if another run made it first
			if err == nil {
				break
			}
			if !errors.Is(err, os.ErrExist) {
				return "", fmt.Errorf("creating results directory: %w", err)
			}
		}
	} else {
		if _, err := os.Stat(filepath.Join(dir, results.SummaryFile)); err == nil {
			return "", fmt.Errorf("results directory %s already holds a run; choose another --out or remove it", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", outError(dir, err)
		}
	}
	return dir, results.WriteFile(dir, results.IncompleteMarker, []byte("this run has not finished; its results are incomplete\n"))
}

func writeResults(dir string, s results.Summary, run results.Run, scenarioYAML []byte) error {
	if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
		return err
	}
	if err := results.WriteJSON(dir, results.RunFile, run); err != nil {
		return err
	}
	if len(s.Checks) > 0 {
		if err := writeJUnit(dir, results.JUnitFile, s, &run); err != nil {
			return err
		}
	}
	html, err := htmlReport(s, &run, scenarioYAML)
	if err != nil {
		return err
	}
	if err := results.WriteFile(dir, results.ReportFile, html); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, results.IncompleteMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// writeJUnit writes the summary's checks as JUnit XML to dir/name.
func writeJUnit(dir, name string, s results.Summary, run *results.Run) error {
	return writeRendered(dir, name, func(w io.Writer) error { return reports.WriteJUnit(w, s, run) })
}

// writeRendered writes what render gives to dir/name, rendering it whole first so that a
// failure to render leaves no file.
func writeRendered(dir, name string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	return results.WriteFile(dir, name, b.Bytes())
}

// buildCommit is the VCS revision the binary was built from (see commitOf); "" when the build
// recorded none (go run, go test, a build outside a git clone, or -buildvcs=false).
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return commitOf(info.Settings)
}

// commitOf reads the revision from a build's VCS settings, with "-dirty" when the tree had
// uncommitted changes.
func commitOf(settings []debug.BuildSetting) string {
	var rev, modified string
	for _, kv := range settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	return rev
}

// machineMemory is the machine's physical memory in bytes (MemTotal in /proc/meminfo), or 0
// where that cannot be read.
func machineMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// progress draws a bar on a terminal and plain lines elsewhere (CI logs).
type progress struct {
	mu       sync.Mutex // the setup timer writes from its own goroutine
	w        io.Writer
	bar      *progressbar.ProgressBar
	lines    bool
	quiet    bool
	lastLine int
	start    time.Time
	setup    *time.Timer // pending "setting up" notice; nil once the run has started
	started  bool
	rate     rateMeter
	lastAt   time.Time // when the last line was written
}

// linesEvery is the longest a long run goes without a progress line, between its 10% steps.
const linesEvery = 30 * time.Second

// rateMeter turns progress reports into events per second of wall time and an estimate of the
// wall time left. It measures from the first report, so building the world does not count, and
// assumes the rest of the run goes at the pace of the run so far.
type rateMeter struct {
	wall0    time.Time
	events0  uint64
	virtual0 time.Duration
	set      bool
}

// observe records a report at wall time now and returns the events per second so far and the
// time left; ok is false until there is enough to say (a first report, no virtual time passed).
func (m *rateMeter) observe(now time.Time, pr scenarios.Progress) (eventsPerSec float64, left time.Duration, ok bool) {
	if !m.set {
		m.wall0, m.events0, m.virtual0, m.set = now, pr.Events, pr.Virtual, true
		return 0, 0, false
	}
	wall := now.Sub(m.wall0)
	virtual := pr.Virtual - m.virtual0
	if wall <= 0 || virtual <= 0 {
		return 0, 0, false
	}
	eventsPerSec = float64(pr.Events-m.events0) / wall.Seconds()
	left = time.Duration(float64(wall) * float64(max(pr.Total-pr.Virtual, 0)) / float64(virtual))
	return eventsPerSec, left, true
}

// rateText is the events per second and time left of a progress line, or "" before they are known.
func rateText(eventsPerSec float64, left time.Duration, ok bool) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf(", %.0f events/s, about %s left", eventsPerSec, left.Round(time.Second))
}

// isTerminal reports whether w is a terminal, where a redrawn progress bar reads well (in a
// log or pipe it would be a stream of control characters).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, mode string, quiet bool) *progress {
	p := &progress{w: w, start: time.Now(), lastLine: -1, quiet: quiet || mode == "none"}
	if p.quiet {
		return p
	}
	if mode == "bar" || (mode == "auto" && isTerminal(w)) {
		p.bar = progressbar.NewOptions64(1000,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		return p
	}
	p.lines = true
	return p
}

// settingUpEvery is how often a world still being built is reported, after the first second.
const settingUpEvery = 5 * time.Second

// settingUp reports, when building the world takes more than a second, that it is under way
// and for how long, until the run's first progress report.
func (p *progress) settingUp(sc scenarios.Scenario) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var tell func()
	tell = func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.started {
			return
		}
		fmt.Fprintf(p.w, "sessionsim: setting up the world: %d service nodes, %d clients, about %s of memory (%s so far)\n",
			sc.Nodes.Count, sc.Clients.Count, reports.ByteSize(scenarios.EstimateMemory(sc)), time.Since(p.start).Round(time.Second))
		p.setup = time.AfterFunc(settingUpEvery, tell)
	}
	p.setup = time.AfterFunc(time.Second, tell)
}

func (p *progress) update(pr scenarios.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		p.started = true
		if p.setup != nil {
			p.setup.Stop()
		}
	}
	frac := 0.0
	if pr.Total > 0 {
		frac = min(1, float64(pr.Virtual)/float64(pr.Total))
	}
	now := time.Now()
	rates := rateText(p.rate.observe(now, pr))
	switch {
	case p.bar != nil:
		p.bar.Describe(fmt.Sprintf("%-8s virtual %s/%s, %d msgs sent, %d delivered%s", pr.Phase, pr.Virtual.Truncate(time.Second), pr.Total, pr.Sent, pr.Delivered, rates))
		_ = p.bar.Set64(int64(frac * 1000))
	case p.lines:
		step := int(frac * 10)
		if step == p.lastLine && now.Sub(p.lastAt) < linesEvery {
			return
		}
		p.lastLine, p.lastAt = step, now
		wall := time.Since(p.start).Seconds()
		fmt.Fprintf(p.w, "sessionsim: %3d%% %-8s virtual %s of %s, %d events, %d messages sent, %d delivered, %.1fx real time%s\n",
			int(frac*100), pr.Phase, pr.Virtual.Truncate(time.Second), pr.Total, pr.Events, pr.Sent, pr.Delivered, pr.Virtual.Seconds()/max(wall, 1e-9), rates)
	}
}

// finish ends the display: the bar is left at where the run got to (100% unless interrupted).
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = true
	if p.setup != nil {
		p.setup.Stop()
	}
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Exit() // keeps the bar where it got to; OnCompletion ends its line
	}
}

// tuneGC trades memory for speed: a simulated world allocates short-lived request bodies at a
// high rate while its live heap stays moderate, so collecting at 4x the live heap (GOGC=400
// instead of Go's 100) removes most collection work. A soft limit (softMemoryLimit) then makes
// the collector work harder before a large world's heap grows far past what it holds live.
// GOGC and GOMEMLIMIT in the environment win.
func tuneGC(machine, estimate uint64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if limit := softMemoryLimit(machine, estimate); os.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		debug.SetMemoryLimit(int64(limit))
	}
}

// memoryLimitHeadroom is what the soft limit leaves above a world's estimated live heap. With
// 2,000 nodes, at GOGC=400, 50,000 clients held about 0.9 GB live two virtual minutes in (0.6 GB
// estimated), and 100,000 clients grew to 7.9 GiB of resident memory under a limit of half the
// machine but to 6.4 GiB under GOMEMLIMIT=7GiB, for the same CPU time (README, Performance):
// the collector needs no more room than this to stay cheap, and the estimate's shortfall fits in
// it. The estimate is of the run's end (a long run's stored messages included), so the limit
// leaves this much above the heap the run is expected to reach, not the one it starts with.
const memoryLimitHeadroom = 6 << 30

// softMemoryLimit is the heap's soft limit for a world estimated to need estimate bytes live:
// the estimate plus memoryLimitHeadroom, at most half the machine's memory (0: no limit, when
// the machine's memory is unknown).
func softMemoryLimit(machine, estimate uint64) uint64 {
	if machine == 0 {
		return 0
	}
	return min(machine/2, estimate+memoryLimitHeadroom)
}

// loadOptions are what the scenario's loader takes from the command line and the machine: the
// --set pairs with --seed, when given, added as the scenario's seed, the environment and the
// machine's memory.
func (f scenarioFlags) loadOptions(quick bool) (scenarios.LoadOptions, error) {
	sets := append([]string(nil), f.sets...)
	if f.seed != "" {
		if _, err := strconv.ParseUint(f.seed, 10, 64); err != nil {
			return scenarios.LoadOptions{}, fmt.Errorf("--seed %q: must be an unsigned integer", f.seed)
		}
		sets = append(sets, "seed="+f.seed)
	}
	return scenarios.LoadOptions{Environ: os.Environ(), Sets: sets, MachineMemory: machineMemory(), Quick: quick}, nil
}
