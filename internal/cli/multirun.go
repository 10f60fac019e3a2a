package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

// job is one run of an experiment (`run --seeds`, `sweep`): one seed of one arm, written to
// its own results directory by a child process that is a plain `sessionsim run`, so each
// directory is byte for byte what that run alone would write.
type job struct {
	dir  string
	seed uint64
	sets []string // the arm's --set pairs, after the user's
}

// runner runs jobs as child processes of this binary, at most jobs at a time.
type runner struct {
	scenario string   // the SCENARIO argument, passed on as given
	sets     []string // the user's --set pairs
	quick    bool     // --quick: every run shortened alike
	jobs     int
	workers  int    // --workers of each run; 0: the runs' default (batchWorkers gives one)
	label    string // names the experiment in progress lines ("sweep", "seeds")
	progress io.Writer
}

// selfExecutable is the binary that runs each job; a variable so tests can run their own
// binary as sessionsim.
var selfExecutable = os.Executable

// complete reports whether dir holds a run that finished: a summary and no INCOMPLETE marker.
func complete(dir string) bool {
	_, errSummary := os.Stat(filepath.Join(dir, results.SummaryFile))
	_, errMarker := os.Stat(filepath.Join(dir, results.IncompleteMarker))
	return errSummary == nil && errors.Is(errMarker, os.ErrNotExist)
}

// failedRun is a child that ended with neither success nor failed checks.
type failedRun struct {
	dir  string
	code int
	tail string // the end of its stderr
}

// runAll runs every job whose directory is not complete yet (a directory left by an
// interrupted run is removed and run again) and returns those that failed. Cancelling ctx
// (Ctrl-C) starts no new run and asks the running ones to stop; they keep what they measured,
// marked INCOMPLETE, so --resume runs them again.
func (r *runner) runAll(ctx context.Context, jobs []job) ([]failedRun, error) {
	exe, err := selfExecutable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run each seed: %w", err)
	}
	var todo []job
	for _, j := range jobs {
		if complete(j.dir) {
			continue
		}
		if err := os.RemoveAll(j.dir); err != nil {
			return nil, err
		}
		todo = append(todo, j)
	}
	st := progressState{w: r.progress, label: r.label, total: len(jobs), done: len(jobs) - len(todo), left: len(todo), start: time.Now()}
	if st.done > 0 {
		st.line(reports.Count(st.done, "run") + " already complete, kept")
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []failedRun
	)
	next := make(chan job)
	for range min(r.jobs, len(todo)) {
		wg.Go(func() {
			for j := range next {
				st.started()
				fr := r.runOne(ctx, exe, j)
				st.finished()
				if fr != nil {
					mu.Lock()
					failed = append(failed, *fr)
					mu.Unlock()
				}
			}
		})
	}
feed:
	for _, j := range todo {
		if ctx.Err() != nil { // stopped: a select below could still pick a waiting worker
			break
		}
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return failed, &exitError{code: exitFailure, err: fmt.Errorf("%s interrupted: finished runs are kept; --resume continues it", r.label)}
	}
	return failed, nil
}

// runJobs runs the jobs as runAll does, stopping at Ctrl-C, and fails when a run failed (a
// run whose checks failed finished: the experiment reports it).
func (r *runner) runJobs(ctx context.Context, jobs []job) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	failed, err := r.runAll(ctx, jobs)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return failure(failed)
	}
	return nil
}

// runOne runs one job; nil when the run finished (its checks passed or failed).
func (r *runner) runOne(ctx context.Context, exe string, j job) *failedRun {
	cmd := exec.CommandContext(ctx, exe, r.args(j)...)
	// Stopped like a run at a terminal (Ctrl-C): it writes what it has and marks it incomplete.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	var stderr tailBuffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return &failedRun{dir: j.dir, code: -1, tail: err.Error()}
	}
	if code == exitOK || code == exitChecks {
		return nil
	}
	return &failedRun{dir: j.dir, code: code, tail: strings.TrimSpace(stderr.String())}
}

// args is the command line of a job's run, after the program's name: a plain `sessionsim run`.
func (r *runner) args(j job) []string {
	args := []string{"run", r.scenario, "--seed", strconv.FormatUint(j.seed, 10), "--out", j.dir, "--quiet", "--progress", "none"}
	if r.quick {
		args = append(args, "--quick")
	}
	if r.workers > 0 {
		args = append(args, "--workers", strconv.Itoa(r.workers))
	}
	for _, s := range append(append([]string(nil), r.sets...), j.sets...) {
		args = append(args, "--set", s)
	}
	return args
}

// failure is the error for runs that failed, naming each with the end of what it said.
func failure(failed []failedRun) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed:", reports.Count(len(failed), "run"))
	for _, f := range failed {
		fmt.Fprintf(&b, " %s (exit %d: %s);", f.dir, f.code, f.tail)
	}
	return &exitError{code: exitFailure, err: errors.New(strings.TrimSuffix(b.String(), ";"))}
}

// tailBuffer keeps the last tailBytes written to it: enough to say why a run failed.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 2048

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBytes {
		t.buf = t.buf[len(t.buf)-tailBytes:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// progressState prints a line each time a run starts or ends: runs done, running and left,
// and an estimate of the time left from the wall time of the runs finished so far.
type progressState struct {
	mu                   sync.Mutex
	w                    io.Writer
	label                string
	total, done, running int
	left                 int
	finishedHere         int // runs finished by this invocation (not kept from before)
	start                time.Time
}

func (p *progressState) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running++
	p.left--
	p.report()
}

func (p *progressState) finished() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	p.done++
	p.finishedHere++
	p.report()
}

func (p *progressState) report() {
	eta := "estimating the time left"
	if p.finishedHere > 0 {
		// The rate at which this invocation has finished runs, all slots together.
		rest := time.Since(p.start) * time.Duration(p.left+p.running) / time.Duration(p.finishedHere)
		eta = "about " + rest.Round(time.Second).String() + " left"
		if p.left+p.running == 0 {
			eta = "took " + time.Since(p.start).Round(time.Second).String()
		}
	}
	p.line(fmt.Sprintf("%d of %d runs done, %d running, %d left; %s", p.done, p.total, p.running, p.left, eta))
}

func (p *progressState) line(s string) {
	if p.w != nil {
		fmt.Fprintf(p.w, "sessionsim %s: %s\n", p.label, s)
	}
}

// collectArm reads the runs of one arm (one directory per seed, in seed order) and summarises
// every figure, and every time-to-first-compromise curve, over them. schema is the summary
// schema version they share.
func collectArm(name string, settings []stats.Setting, dirs []string, seeds []uint64) (arm stats.Arm, schema int, err error) {
	sums := make([]any, len(dirs))
	leaks := make([]*results.Leakage, len(dirs))
	var failed []uint64
	for i, dir := range dirs {
		s, err := results.ReadSummary(dir)
		if err != nil {
			return arm, 0, err
		}
		schema = s.Schema
		if results.ChecksFailed(s.Checks) > 0 {
			failed = append(failed, seeds[i])
		}
		sums[i], leaks[i] = s, s.Leakage
	}
	figures, values := checks.Collect(sums)
	arm = stats.NewArm(name, settings, stats.Table{Figures: figures, Values: values})
	arm.ChecksFailed = failed
	arm.Survival = stats.AverageSurvival(leaks)
	return arm, schema, nil
}

// seedList is n consecutive seeds from first.
func seedList(first uint64, n int) []uint64 {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = first + uint64(i)
	}
	return seeds
}

// seedDir names a seed's directory inside its arm's.
func seedDir(parent string, seed uint64) string {
	return filepath.Join(parent, "seed-"+strconv.FormatUint(seed, 10))
}

// checksFailedError is exit 3 when a run of the experiment failed its checks.
func checksFailedError(e stats.Experiment) error {
	var parts []string
	for _, a := range e.Arms {
		if len(a.ChecksFailed) == 0 {
			continue
		}
		parts = append(parts, a.Name+" "+reports.NamedSeeds(a.ChecksFailed))
	}
	if len(parts) == 0 {
		return nil
	}
	return &exitError{code: exitChecks, err: fmt.Errorf("checks failed in %s (verdicts in each run's junit.xml)", strings.Join(parts, "; "))}
}
