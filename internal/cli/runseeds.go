package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
	"github.com/sessionsim/sessionsim/scenarios"
)

// maxSeeds bounds --seeds: far more than any study needs, few enough to list in a directory.
const maxSeeds = 10000

// batchFlags are the flags of run --seeds and sweep that say how many runs there are and how
// many go at a time.
type batchFlags struct {
	seeds   int // runs per arm, one seed each
	jobs    int
	workers int // --workers of each run
}

// check refuses counts no batch can run.
func (f batchFlags) check() error {
	if err := checkWorkers(f.workers); err != nil {
		return err
	}
	if f.seeds < 1 || f.seeds > maxSeeds {
		return fmt.Errorf("--seeds %d: give a number of seeds from 1 to %d", f.seeds, maxSeeds)
	}
	if f.jobs < 1 {
		return fmt.Errorf("--jobs %d: give at least 1 run at a time", f.jobs)
	}
	return nil
}

// fitJobs refuses more parallel runs than the machine's memory holds: each run builds its own
// world, so jobs of them need jobs times one's estimate.
func fitJobs(sc scenarios.Scenario, jobs int) error {
	machine, one := machineMemory(), scenarios.EstimateMemory(sc)
	if machine == 0 || one*uint64(jobs) <= machine {
		return nil
	}
	return fmt.Errorf("--jobs %d: %d runs of scenario %q at once need an estimated %s (%s each), more than this machine's %s; lower --jobs to %d",
		jobs, jobs, sc.Name, reports.ByteSize(one*uint64(jobs)), reports.ByteSize(one), reports.ByteSize(machine), max(1, machine/one))
}

// runSeeds is `run --seeds N`: N runs of the scenario, one per seed, then their aggregate.
func runSeeds(cmd *cobra.Command, name string, f runFlags) error {
	if err := f.check(); err != nil {
		return usageError(err)
	}
	if f.cpuprof != "" {
		return usageError(errors.New("--cpuprofile profiles one run: use it without --seeds"))
	}
	if f.memprof != "" {
		return usageError(errors.New("--memprofile profiles one run: use it without --seeds"))
	}
	opts, err := f.loadOptions(f.quick)
	if err != nil {
		return usageError(err)
	}
	sc, err := scenarios.Load(name, opts)
	if err != nil {
		return usageError(err)
	}
	if err := fitJobs(sc, min(f.jobs, f.seeds)); err != nil {
		return usageError(err)
	}
	out := f.out
	if out == "" {
		out = timestampedDir(fmt.Sprintf("%s-seeds%d", sc.Name, f.seeds))
	}
	if err := newExperimentDir(out); err != nil {
		return usageError(err)
	}
	seeds := seedList(sc.Seed, f.seeds)
	jobs := make([]job, len(seeds))
	dirs := make([]string, len(seeds))
	for i, s := range seeds {
		dirs[i] = seedDir(out, s)
		jobs[i] = job{dir: dirs[i], seed: s}
	}
	r := runner{scenario: name, sets: f.sets, quick: f.quick, jobs: f.jobs, workers: batchWorkers(cmd, f.workers, f.jobs), label: "seeds", progress: cmd.ErrOrStderr()}
	if f.quiet || f.progress == "none" {
		r.progress = nil
	}
	if err := r.runJobs(cmd.Context(), jobs); err != nil {
		return err
	}
	arm, schema, err := collectArm("seeds", nil, dirs, seeds)
	if err != nil {
		return err
	}
	e := stats.Experiment{Kind: "seeds", Schema: schema, Scenario: sc.Name, Seeds: seeds, Arms: []stats.Arm{arm}}
	var text, page bytes.Buffer
	if err := reports.WriteExperimentText(&text, e); err != nil {
		return err
	}
	if err := reports.WriteAggregateHTML(&page, e); err != nil {
		return err
	}
	if err := results.WriteJSON(out, stats.AggregateFile, e); err != nil {
		return err
	}
	if err := results.WriteFile(out, stats.AggregateText, text.Bytes()); err != nil {
		return err
	}
	if err := results.WriteFile(out, stats.AggregateHTML, page.Bytes()); err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	if f.quiet {
		fmt.Fprintln(stdout, out)
	} else {
		_, _ = stdout.Write(text.Bytes())
		fmt.Fprintf(stdout, "\nRuns in %s/seed-*; aggregate in %s, charts in %s\n", out, filepath.Join(out, stats.AggregateFile), filepath.Join(out, stats.AggregateHTML))
	}
	return checksFailedError(e)
}

// newExperimentDir creates an experiment's directory, refusing one that holds anything, so no
// earlier result is mixed in or lost.
func newExperimentDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already holds files; choose another --out or remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return outError(dir, err)
	}
	return nil
}
