package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
	"github.com/sessionsim/sessionsim/scenarios"
)

func init() { registerCommand(newSweepCmd) }

type sweepFlags struct {
	scenarioFlags
	batchFlags
	params  []string
	out     string
	resume  bool
	quiet   bool
	emit    string
	collect string
	quick   bool
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO --param KEY=V1,V2,... [--param ...] --seeds N",
		Short: "Run a scenario over a grid of parameter values and seeds, and compare each point with the first",
		Long: `Run a scenario at every point of a grid (every combination of the values of each --param,
the first --param varying slowest) times N seeds, in parallel child processes, --jobs at a time.
Every arm runs the same seeds (the scenario's or --seed, then the next ones): common random
numbers, so a difference between arms is the parameter's and not the network's draw.

Each run is a plain "sessionsim run" written to DIR/arm-NN-KEY=VALUE.../seed-S/. When all are
done, DIR/sweep.json and DIR/sweep.csv give, for every arm and every figure of summary.json,
the mean and 95% interval over the seeds and the paired difference to the first arm with its
interval and verdict (better, worse, changed, no significant change); DIR/sweep.html draws
each figure against the swept parameter with its interval bars. The same sweep run twice
writes the same sweep.json.

A --param key and its values are checked like --set (an unknown key or a value that does not
parse is refused before anything runs, exit 2). A value that itself holds commas cannot be
swept. --resume continues an interrupted sweep in DIR: finished runs are kept, the others
run again; a DIR from another scenario or another grid is refused (exit 2). Runs that failed
their checks make the exit code 3.

--quick runs every run of the sweep as "run --quick" does: shortened, with the scenario's quick
checks. The --param values are applied before the shortening, like --set: a swept nodes.count
or duration is scaled as the scenario's own would be. A sweep started with --quick is resumed
with it.

--emit k8s runs nothing here: it checks the grid as above and writes DIR/sweep-plan.json and
DIR/` + k8sJobFile + `, a Kubernetes Indexed Job with one pod per arm and seed, each a plain
"sessionsim run" writing to /results/ARM-seed-S on a shared volume. Copy the volume's
directories into DIR and "sessionsim sweep --collect DIR" writes the same sweep.json, sweep.csv
and sweep.html a local sweep would.`,
		Example: `  sessionsim sweep default --param nodes.storage_server=2.8,2.11 --seeds 5 --set crypto=modeled --out runs/replication
  sessionsim sweep my.yaml --param clients.paths=1,2,4 --param clients.guard_test=own-id,ping --seeds 3 --jobs 2 --out runs/paths
  sessionsim sweep my.yaml --param clients.paths=1,2,4 --seeds 3 --out runs/paths --resume
  sessionsim sweep churn --param nodes.storage_server=2.8,2.11 --seeds 2 --quick
  sessionsim sweep default --param clients.paths=1,2 --seeds 5 --out runs/paths --emit k8s
  sessionsim sweep --collect runs/paths`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.collect != "" {
				if len(args) > 0 || len(f.params) > 0 || f.emit != "" || f.resume || f.out != "" || f.quick {
					return usageError(errors.New("--collect DIR takes no scenario, --param, --emit, --resume, --out or --quick: it merges the runs in DIR, as planned by --emit k8s"))
				}
				return collectSweep(cmd, f.collect, f.quiet)
			}
			if len(args) != 1 {
				return usageError(errors.New("sweep needs a SCENARIO (a built-in name or a YAML file), or --collect DIR"))
			}
			return runSweep(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.params, "param", nil, "a key to sweep and its values, KEY=V1,V2,... (repeatable: the grid is every combination)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key in every run, e.g. --set crypto=modeled (repeatable)")
	fl.StringVar(&f.seed, "seed", "", "the first seed (default: the scenario's)")
	fl.IntVar(&f.seeds, "seeds", 3, "seeds per arm")
	fl.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "how many runs at a time")
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), workersUsage+"; unless given, each run gets the cores divided among --jobs")
	fl.StringVar(&f.out, "out", "", "the sweep directory (default runs/<scenario>-sweep-<time>)")
	fl.BoolVar(&f.resume, "resume", false, "continue an interrupted sweep in --out, keeping its finished runs")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the sweep directory path, and no progress")
	fl.BoolVar(&f.quick, "quick", false, "run every run shortened, as run --quick does: a tenth of the nodes and clients, a quarter of the time, the quick checks")
	fl.StringVar(&f.emit, "emit", "", "instead of running, write the sweep for another engine to run: k8s (a Kubernetes Indexed Job, "+k8sJobFile+" in --out)")
	fl.StringVar(&f.collect, "collect", "", "merge the runs of a sweep planned by --emit k8s, copied into this directory, into its sweep.json")
	return cmd
}

// sweepPlan is DIR/sweep-plan.json, written before the first run: what the sweep is, so
// --resume can refuse a directory that holds another scenario's or another grid's runs.
type sweepPlan struct {
	Scenario string `json:"scenario"`
	// ScenarioSHA256 is the hash of the resolved scenario before the swept keys are applied
	// (the file with its defaults, the environment and --set).
	ScenarioSHA256 string        `json:"scenario_sha256"`
	Params         []stats.Param `json:"params"`
	Seeds          []uint64      `json:"seeds"`
	// Quick is whether the sweep runs shortened (--quick). The hash above already differs
	// between the two; this says why when a sweep is resumed the other way.
	Quick bool `json:"quick,omitempty"`
}

const sweepPlanFile = "sweep-plan.json"

// parseParams reads the --param flags: KEY=V1,V2,... each, no key twice.
func parseParams(flags []string) ([]stats.Param, error) {
	if len(flags) == 0 {
		return nil, errors.New("no --param: give at least one, e.g. --param nodes.count=50,100")
	}
	var ps []stats.Param
	for _, fl := range flags {
		key, list, ok := strings.Cut(fl, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" || list == "" {
			return nil, fmt.Errorf("--param %q: expected KEY=V1,V2,..., e.g. --param nodes.count=50,100", fl)
		}
		if key == "seed" {
			return nil, errors.New("--param seed: every arm runs the same seeds; give the first with --seed and how many with --seeds")
		}
		if slices.ContainsFunc(ps, func(p stats.Param) bool { return p.Key == key }) {
			return nil, fmt.Errorf("--param %s is given twice: list all its values in one --param", key)
		}
		p := stats.Param{Key: key}
		for v := range strings.SplitSeq(list, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				return nil, fmt.Errorf("--param %q: an empty value; separate values by single commas", fl)
			}
			if slices.Contains(p.Values, v) {
				return nil, fmt.Errorf("--param %q: the value %q is given twice", fl, v)
			}
			p.Values = append(p.Values, v)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// grid is every combination of the params' values, the first param varying slowest.
func grid(ps []stats.Param) [][]stats.Setting {
	arms := [][]stats.Setting{nil}
	for _, p := range ps {
		var next [][]stats.Setting
		for _, a := range arms {
			for _, v := range p.Values {
				next = append(next, append(slices.Clip(a), stats.Setting{Key: p.Key, Value: v}))
			}
		}
		arms = next
	}
	return arms
}

// armName is an arm's name and directory: arm-01-nodes.count=100,clients.paths=2.
func armName(i, n int, settings []stats.Setting) string {
	parts := make([]string, len(settings))
	for j, s := range settings {
		parts[j] = s.Key + "=" + strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(s.Value)
	}
	return fmt.Sprintf("arm-%0*d-%s", max(2, len(fmt.Sprint(n))), i+1, strings.Join(parts, ","))
}

func settingSets(settings []stats.Setting) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.Key + "=" + s.Value
	}
	return out
}

func runSweep(cmd *cobra.Command, name string, f sweepFlags) error {
	if err := f.check(); err != nil {
		return usageError(err)
	}
	switch {
	case f.emit != "" && f.emit != "k8s":
		return usageError(fmt.Errorf("--emit %q: the one engine sweeps can be handed to is k8s (Kubernetes)", f.emit))
	case f.emit != "" && f.resume:
		return usageError(errors.New("--emit k8s writes a new sweep; --resume continues one run here"))
	}
	params, err := parseParams(f.params)
	if err != nil {
		return usageError(err)
	}
	opts, err := f.loadOptions(f.quick)
	if err != nil {
		return usageError(err)
	}
	base, err := scenarios.Load(name, opts)
	if err != nil {
		return usageError(err)
	}
	baseYAML, err := base.YAML()
	if err != nil {
		return err
	}
	arms := grid(params)
	if f.emit == "" { // pods get their own machines: this one's memory is no limit for them
		if err := fitJobs(base, min(f.jobs, f.seeds*len(arms))); err != nil {
			return usageError(err)
		}
	}
	// Every arm is loaded as its runs will load it, so a bad key or value is refused now, in
	// the loader's words for --set, before anything is written.
	var memory uint64 // the most any arm's run needs
	for _, a := range arms {
		armOpts := opts
		armOpts.Sets = append(slices.Clip(opts.Sets), settingSets(a)...)
		sc, err := scenarios.Load(name, armOpts)
		if err != nil {
			return usageError(fmt.Errorf("--param %s: %w", strings.Join(settingSets(a), " "), err))
		}
		memory = max(memory, scenarios.EstimateMemory(sc))
	}
	sum := sha256.Sum256(baseYAML)
	plan := sweepPlan{Scenario: base.Name, ScenarioSHA256: hex.EncodeToString(sum[:]), Params: params, Seeds: seedList(base.Seed, f.seeds), Quick: f.quick}
	out := f.out
	if out == "" {
		if f.resume {
			return usageError(errors.New("--resume needs --out, the directory of the sweep to continue"))
		}
		out = timestampedDir(base.Name + "-sweep")
	}
	if err := prepareSweepDir(out, plan, f.resume); err != nil {
		return usageError(err)
	}

	names := armNames(arms)
	r := runner{scenario: name, sets: f.sets, quick: f.quick, jobs: f.jobs, workers: batchWorkers(cmd, f.workers, f.jobs), label: "sweep", progress: cmd.ErrOrStderr()}
	if f.emit == "k8s" {
		return emitK8s(cmd.OutOrStdout(), out, r, plan, names, arms, memory, f.quiet)
	}
	var jobs []job
	armDirs := make([][]string, len(arms))
	for i, a := range arms {
		for _, s := range plan.Seeds {
			d := seedDir(filepath.Join(out, names[i]), s)
			armDirs[i] = append(armDirs[i], d)
			jobs = append(jobs, job{dir: d, seed: s, sets: settingSets(a)})
		}
	}
	if f.quiet {
		r.progress = nil
	}
	if err := r.runJobs(cmd.Context(), jobs); err != nil {
		return err
	}
	return mergeSweep(cmd.OutOrStdout(), out, plan, names, arms, armDirs, f.quiet)
}

// armNames names the arms of a grid, in order.
func armNames(arms [][]stats.Setting) []string {
	names := make([]string, len(arms))
	for i, a := range arms {
		names[i] = armName(i, len(arms), a)
	}
	return names
}

// mergeSweep reads the finished runs of every arm (armDirs[i] holds arm i's, one per seed of the
// plan), compares each arm with the first, writes sweep.json, sweep.csv and sweep.html in out
// and reports them. A local sweep and a collected one (--collect) both end here.
func mergeSweep(stdout io.Writer, out string, plan sweepPlan, names []string, arms [][]stats.Setting, armDirs [][]string, quiet bool) error {
	e := stats.Experiment{Kind: "sweep", Scenario: plan.Scenario, Params: plan.Params, Seeds: plan.Seeds}
	for i, a := range arms {
		arm, schema, err := collectArm(names[i], a, armDirs[i], plan.Seeds)
		if err != nil {
			return err
		}
		e.Schema = schema
		e.Arms = append(e.Arms, arm)
	}
	e.DiffToFirst()
	if err := writeSweep(out, e); err != nil {
		return err
	}
	if quiet {
		fmt.Fprintln(stdout, out)
	} else {
		if err := reports.WriteExperimentText(stdout, e); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nEvery figure in %s and %s; charts in %s\n", filepath.Join(out, stats.SweepFile), filepath.Join(out, stats.SweepCSV), filepath.Join(out, stats.SweepHTML))
	}
	return checksFailedError(e)
}

// prepareSweepDir creates the sweep directory and its plan, or on --resume checks that the
// directory holds this very sweep.
func prepareSweepDir(dir string, plan sweepPlan, resume bool) error {
	b, err := os.ReadFile(filepath.Join(dir, sweepPlanFile))
	switch {
	case err == nil && !resume:
		return fmt.Errorf("%s already holds a sweep; give --resume to continue it, or another --out", dir)
	case err == nil:
		var old sweepPlan
		if err := json.Unmarshal(b, &old); err != nil {
			return fmt.Errorf("%s: %w; this is not a sweep this build can resume", filepath.Join(dir, sweepPlanFile), err)
		}
		return samePlan(dir, old, plan)
	case !errors.Is(err, os.ErrNotExist):
		return outError(dir, err)
	}
	if err := newExperimentDir(dir); err != nil {
		if resume {
			return fmt.Errorf("%s holds no sweep to resume (no %s) but other files; choose another --out", dir, sweepPlanFile)
		}
		return err
	}
	return results.WriteJSON(dir, sweepPlanFile, plan)
}

// samePlan refuses to resume a sweep of another scenario or grid in dir.
func samePlan(dir string, old, plan sweepPlan) error {
	oldJSON, _ := json.Marshal(old.Params)
	newJSON, _ := json.Marshal(plan.Params)
	switch {
	case old.Scenario != plan.Scenario:
		return fmt.Errorf("%s holds a sweep of scenario %q, not %q; choose another --out", dir, old.Scenario, plan.Scenario)
	case old.ScenarioSHA256 != plan.ScenarioSHA256 && old.Quick != plan.Quick:
		with := "without"
		if old.Quick {
			with = "with"
		}
		return fmt.Errorf("%s holds a sweep that was started %s --quick; resume it %s --quick, or choose another --out", dir, with, with)
	case old.ScenarioSHA256 != plan.ScenarioSHA256:
		return fmt.Errorf("%s holds a sweep of another version of scenario %q (its file, environment or --set differ); resume it with the same ones, or choose another --out", dir, plan.Scenario)
	case !bytes.Equal(oldJSON, newJSON):
		return fmt.Errorf("%s holds a sweep of another grid (%s); resume it with the same --param flags, or choose another --out", dir, oldJSON)
	case !slices.Equal(old.Seeds, plan.Seeds):
		return fmt.Errorf("%s holds a sweep of seeds %v, not %v; resume it with the same --seed and --seeds, or choose another --out", dir, old.Seeds, plan.Seeds)
	}
	return nil
}

// writeSweep writes sweep.json, sweep.csv and sweep.html.
func writeSweep(dir string, e stats.Experiment) error {
	if err := results.WriteJSON(dir, stats.SweepFile, e); err != nil {
		return err
	}
	if err := writeRendered(dir, stats.SweepCSV, func(w io.Writer) error { return reports.WriteSweepCSV(w, e) }); err != nil {
		return err
	}
	return writeRendered(dir, stats.SweepHTML, func(w io.Writer) error { return reports.WriteSweepHTML(w, e) })
}
