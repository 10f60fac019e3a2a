package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios"
)

// runCLI executes the command line and returns the exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// failingTool is a tool command line that must fail.
type failingTool struct {
	name string
	args []string
	want string // in the error, text and JSON
	code int    // 2: a missing or malformed argument; 1: data that does not check out
}

// assertToolFailures runs cmd followed by each case's args, in text and in JSON. Text: the exit
// code, nothing on stdout and one line on stderr containing want. JSON (--json): the exit code,
// nothing on stderr and an {"error": ...} object on stdout containing want.
func assertToolFailures(t *testing.T, cmd []string, tests []failingTool) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(slices.Clip(cmd), tt.args...)
			code, out, errOut := runCLI(args...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, out)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			assert.Contains(t, errOut, tt.want)

			code, out, errOut = runCLI(append(args, "--json")...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, errOut)
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			assert.Contains(t, got["error"], tt.want)
		})
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		return path
	}
	small := []string{"--set", "clients.count=20", "--set", "workload.contacts=4"}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string // fragments of the one error line
	}{
		{"bad value", []string{"run", file("count.yaml", "name: bad\nnodes: {count: lots}\n")}, nil, []string{"count.yaml:2", `key "nodes.count"`, "lots"}},
		{"duration without unit", []string{"run", file("unit.yaml", "name: t\nduration: 5\n")}, nil, []string{"unit.yaml:2", `key "duration" = 5`, "no unit"}},
		{"empty file", []string{"run", file("empty.yaml", "")}, nil, []string{"empty.yaml", "sets nothing"}},
		{"unknown node region", []string{"run", file("region.yaml", "name: t\nnodes:\n  regions: {mars-1: 1}\n")}, nil, []string{"region.yaml:3", `"nodes.regions.mars-1"`, "no such region"}},
		{"unknown client region", []string{"run", "--set", "clients.regions.mars-1=1"}, nil, []string{"--set", `"clients.regions.mars-1" = 1`, "no such region"}},
		{"unknown fault region", []string{"run", file("fregion.yaml", "name: t\nfaults:\n  - {at: 1m, kind: partition, regions: [mars-1]}\n")}, nil, []string{"fregion.yaml:3", `"faults[0].regions[0]" = mars-1`, "no such region"}},
		{"fault after the end", []string{"run", file("late.yaml", "name: t\nfaults:\n  - {at: 1h, kind: crash, count: 1}\n")}, nil, []string{"late.yaml:3", `"faults[0].at" = 1h0m0s`, "after the run ends"}},
		{"hang on the file server", []string{"run", file("hangfs.yaml", "name: t\nfaults:\n  - {at: 1m, for: 1m, kind: hang, target: file-server}\n")}, nil, []string{"hangfs.yaml:3", `"faults[0].target" = file-server`, "a hang takes target random, paths or largest-operator"}},
		{"hang of too many nodes", []string{"run", file("hangn.yaml", "name: t\nnodes: {count: 30}\nfaults:\n  - {at: 1m, kind: hang, count: 31}\n")}, nil, []string{"hangn.yaml:4", `"faults[0].count" = 31`}},
		{"fault count and fraction", []string{"run", file("both.yaml", "name: t\nfaults:\n  - {at: 1m, kind: crash, count: 1, fraction: 0.5}\n")}, nil, []string{"both.yaml:3", `"faults[0].fraction" = 0.5`, "not both"}},
		{"unknown fault key", []string{"run", file("fkey.yaml", "name: t\nfaults:\n  - at: 1m\n    kind: crash\n    cuont: 1\n")}, nil, []string{"fkey.yaml:5", `"faults[0].cuont"`, "unknown key (known keys here:"}},
		{"leakage fraction outside [0,1]", []string{"run", file("lfrac.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: random, fractions: [2]}\n")}, nil, []string{"lfrac.yaml:4", `"leakage.adversaries[0].fractions[0]" = 2`, "between 0 and 1"}},
		{"leakage unknown kind", []string{"run", file("lkind.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: alien}\n")}, nil, []string{"lkind.yaml:4", `"leakage.adversaries[0].kind" = alien`}},
		{"leakage sybil at after the end", []string{"run", file("lsybil.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 0.1, at: 1h}\n")}, nil, []string{"lsybil.yaml:4", `"leakage.adversaries[0].at" = 1h0m0s`, "within the run"}},
		{"leakage operator rank", []string{"run", file("lop.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: operator, operators: 900}\n")}, nil, []string{"lop.yaml:4", `"leakage.adversaries[0].operators" = 900`, "operators"}},
		{"leakage unknown provider", []string{"run", file("lprov.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: provider, provider: 10.9.0.0/16}\n")}, nil, []string{"lprov.yaml:4", `"leakage.adversaries[0].provider" = 10.9.0.0/16`}},
		{"leakage unknown region", []string{"run", file("lreg.yaml", "name: t\nleakage:\n  adversaries:\n    - {kind: region, region: mars-1}\n")}, nil, []string{"lreg.yaml:4", `"leakage.adversaries[0].region" = mars-1`, "no such region"}},
		{"unknown key", []string{"run", "--set", "nodes.cuont=3"}, nil, []string{"--set", `"nodes.cuont"`}},
		{"too few nodes", append([]string{"run", "--set", "nodes.count=11"}, small...), nil, []string{"--set", `"nodes.count" = 11`, "at least 12", "a swarm needs 5 nodes", "(profile android-2026)"}},
		{"no clients", []string{"run"}, map[string]string{"SESSIONSIM_CLIENTS_COUNT": "0"}, []string{"SESSIONSIM_CLIENTS_COUNT", `"clients.count" = 0`, "at least 1"}},
		{"more than the machine's memory", []string{"run", "--set", "nodes.count=100000000"}, nil, []string{"--set", `"nodes.count" = 100000000`, "the world would need an estimated", "100000000 nodes x", "more than this machine's"}},
		{"stray variable", []string{"run"}, map[string]string{"SESSIONSIM_FOO": "1"}, []string{"SESSIONSIM_FOO", "unset SESSIONSIM_FOO"}},
		{"live mode with modeled crypto", []string{"run", "--set", "mode=live", "--set", "crypto=modeled"}, nil, []string{`"crypto" = modeled`, "use crypto=real"}},
		{"unknown clock distribution", []string{"run", "--set", "clients.clock.distribution=gaussian"}, nil, []string{"--set", `"clients.clock.distribution" = gaussian`, "unknown clock distribution: use none, normal, uniform"}},
		{"docker mode with more nodes than its network holds", []string{"run", "leakage", "--set", "crypto=real"}, map[string]string{"SESSIONSIM_MODE": "docker", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, []string{`"nodes.count" = 2000`, "at most 254"}},
		{"docker mode without an engine", []string{"run", "--set", "servers.push.enabled=false", "--set", "workload.attachments.share=0"},
			map[string]string{"SESSIONSIM_MODE": "docker", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, []string{"SESSIONSIM_MODE", `"mode" = docker`, "needs a Docker engine"}},
		{"unknown scenario", []string{"run", "no-such-scenario"}, nil, []string{"built-ins"}},
		{"a directory for a scenario", []string{"run", dir}, nil, []string{"scenario " + dir + ": a directory; give a scenario file or a built-in name"}},
		{"a results directory for a scenario", []string{"run", filepath.Dir(file("results/scenario.yaml", "name: t\n"))}, nil,
			[]string{"a directory; give a scenario file or a built-in name (to run this results directory's scenario again, give " + filepath.Join(dir, "results", "scenario.yaml") + ")"}},
		{"bad seed", []string{"run", "--seed", "-1"}, nil, []string{"--seed"}},
		{"bad progress", []string{"run", "--progress", "fancy"}, nil, []string{"--progress"}},
		{"out under a file", []string{"run", "--out", filepath.Join(file("plain", ""), "r")}, nil, []string{"--out " + filepath.Join(dir, "plain", "r") + ": mkdir", "not a directory", "give a directory that can be created"}},
		{"no workers", []string{"run", "--workers", "0"}, nil, []string{"--workers 0", "at least 1 worker"}},
		{"negative workers", []string{"run", "--workers", "-2"}, nil, []string{"--workers -2", "at least 1 worker"}},
		{"seeds on no workers", []string{"run", "--seeds", "2", "--workers", "0"}, nil, []string{"--workers 0"}},
		{"sweep on no workers", []string{"sweep", "default", "--param", "nodes.count=10,20", "--workers", "0"}, nil, []string{"--workers 0"}},
		{"unknown flag", []string{"run", "--nodes", "3"}, nil, []string{"unknown flag: --nodes; usage: sessionsim run [SCENARIO] [flags] (`sessionsim run --help` says more)"}},
		{"too many arguments", []string{"run", "default", "large"}, nil, []string{"accepts at most 1 arg(s), received 2; usage: sessionsim run [SCENARIO] [flags]"}},
		{"check without its directory", []string{"check"}, nil, []string{"accepts 1 arg(s), received 0; usage: sessionsim check DIR [flags]"}},
		{"unknown command", []string{"rn"}, nil, []string{`unknown command "rn" (did you mean "run"?); run ` + "`sessionsim --help`"}},
		{"help on no command", []string{"help", "rn"}, nil, []string{`unknown command "rn" (did you mean "run"?)`}},
		{"help on no tool", []string{"help", "tool", "swarmz"}, nil, []string{`unknown tool "swarmz" (did you mean "swarms"?); run ` + "`sessionsim tool --help`"}},
		{"help on no bench", []string{"help", "bench", "onoin"}, nil, []string{`unknown command "onoin" (did you mean "onion"?); run ` + "`sessionsim bench --help`"}},
		{"unknown bench", []string{"bench", "onoin"}, nil, []string{`unknown command "onoin" (did you mean "onion"?); run ` + "`sessionsim bench --help`"}},
		{"unknown shell", []string{"completion", "tcsh"}, nil, []string{`unknown command "tcsh"`, "`sessionsim completion --help`"}},
		{"unknown tool", []string{"tool", "swarmz"}, nil, []string{`unknown tool "swarmz"`, `did you mean "swarms"?`}},
		{"unknown tool, far from any", []string{"tool", "nosuch"}, nil, []string{`unknown tool "nosuch"`, "did you mean"}},
		{"tool without its flag", []string{"tool", "session-id"}, nil, []string{"--seed is required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(dir, "out", tc.name)
			args := tc.args
			if args[0] == "run" && !slices.Contains(args, "--out") {
				args = append(args, "--out", out)
			}
			code, stdout, stderr := runCLI(args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one message: %q", stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.NoDirExists(t, out, "nothing written")
		})
	}
}

func TestToolDataErrorExitsOne(t *testing.T) {
	code, _, stderr := runCLI("tool", "message-open", "--recipient-seed", strings.Repeat("00", 16), "00ff")
	assert.Equal(t, exitFailure, code, stderr)
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	code, stdout, _ := runCLI("--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"Exit codes:", "0  success", "1  the run failed", "2  bad input or usage", "3  checks failed"} {
		assert.Contains(t, stdout, want)
	}
}

// TestHelpOnCommands: help names a command as its own --help does, the words after a command
// that takes arguments being its arguments, not subcommands.
func TestHelpOnCommands(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // at the start of the usage in stdout
	}{
		{"a tool", []string{"help", "tool", "swarms"}, "Usage:\n  sessionsim tool swarms --nodes N"},
		{"a command and its argument", []string{"help", "run", "default"}, "Usage:\n  sessionsim run [SCENARIO]"},
		{"a tool and its argument", []string{"help", "tool", "swarm-space", "05ab"}, "Usage:\n  sessionsim tool swarm-space"},
		{"a group", []string{"help", "bench"}, "Usage:\n  sessionsim bench [command]\n"},
		{"the root", []string{"help"}, "Usage:\n  sessionsim [command]\n"},
		{"the tools", []string{"tool", "--help"}, "Usage:\n  sessionsim tool NAME [flags]\n  sessionsim tool [command]\n"},
		{"a shell", []string{"completion", "bash", "--help"}, "Usage:\n  sessionsim completion bash\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stdout, tc.want)
			assert.Empty(t, stderr)
		})
	}
}

// TestToolJSONAsCobraReadsIt: a flag or argument cobra refuses before the tool runs is reported
// in JSON when the command line asks for it in any form pflag accepts, and only then.
func TestToolJSONAsCobraReadsIt(t *testing.T) {
	cases := []struct {
		name string
		args []string
		json bool
	}{
		{"--json", []string{"--bogus", "--json"}, true},
		{"--json=true", []string{"--bogus", "--json=true"}, true},
		{"--json=1 before the bad flag", []string{"--json=1", "--bogus"}, true},
		{"--json=false", []string{"--bogus", "--json=false"}, false},
		{"the last one wins", []string{"--json", "--json=false", "--bogus"}, false},
		{"an argument after --", []string{"--bogus", "--", "--json"}, false},
		{"none", []string{"--bogus"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"tool", "swarms", "--nodes", "3"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			if !tc.json {
				assert.Empty(t, stdout)
				assert.Contains(t, stderr, "unknown flag: --bogus")
				return
			}
			assert.Empty(t, stderr)
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
			assert.Contains(t, got["error"], "unknown flag: --bogus")
		})
	}
}

// TestFlagHelpNamesValues: each flag's help shows its value as a word (pflag takes a
// back-quoted word of the usage text as the value's name, so "`checks:`" showed --checks checks:).
func TestFlagHelpNamesValues(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			assert.Regexp(t, `^[A-Za-z]*$`, name, "%s --%s", c.CommandPath(), f.Name)
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(io.Discard, io.Discard))
	_, stdout, _ := runCLI("check", "--help")
	assert.Contains(t, stdout, "--checks FILE ")
}

// smallRun is a run of a small network, quick enough for tests.
var smallRun = []string{"--set", "nodes.count=12", "--set", "clients.count=6", "--set", "workload.contacts=2",
	"--set", "warmup=30s", "--set", "drain=1m", "--set", "crypto=modeled"}

func TestDefaultResultsDirectoriesDiffer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario twice")
	}
	t.Chdir(t.TempDir())
	var dirs []string
	for range 2 {
		// checks= drops the default scenario's checks, which a network this small need not meet.
		code, stdout, stderr := runCLI(append([]string{"run", "-q", "--set", "duration=1m", "--set", "checks="}, smallRun...)...)
		require.Equal(t, exitOK, code, stderr)
		dirs = append(dirs, strings.TrimSpace(stdout))
	}
	assert.NotEqual(t, dirs[0], dirs[1])
	for _, d := range dirs {
		assert.FileExists(t, filepath.Join(d, results.SummaryFile))
	}
}

// interruptOnProgress sends the process SIGINT when the first progress line is written, as a
// user pressing Ctrl-C during a run would.
type interruptOnProgress struct {
	bytes.Buffer
	once sync.Once
}

func (w *interruptOnProgress) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("% ")) {
		w.once.Do(func() { _ = syscall.Kill(os.Getpid(), syscall.SIGINT) })
	}
	return w.Buffer.Write(p)
}

func TestRunInterruptedKeepsWhatItHas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario")
	}
	out := filepath.Join(t.TempDir(), "r")
	var stdout bytes.Buffer
	stderr := &interruptOnProgress{}
	code := Execute(append([]string{"run", "--out", out, "--progress", "lines", "--set", "duration=6h"}, smallRun...), &stdout, stderr)
	assert.Equal(t, exitFailure, code, stderr.String())
	assert.Regexp(t, `Interrupted after \S+ of \S+ of virtual time\.`, stdout.String())
	assert.Contains(t, stdout.String(), "marked INCOMPLETE")
	assert.Contains(t, stderr.String(), "interrupted")
	assert.FileExists(t, filepath.Join(out, results.IncompleteMarker))
	assert.FileExists(t, filepath.Join(out, results.ScenarioFile))
	assert.NoFileExists(t, filepath.Join(out, results.ReportFile))
	var s results.Summary
	require.NoError(t, results.ReadJSON(filepath.Join(out, results.SummaryFile), &s))
	assert.Less(t, s.VirtualSeconds, (6*time.Hour + 90*time.Second).Seconds(), "stopped early")
	assert.True(t, s.Incomplete, "the summary says it is incomplete")
	_, err := results.ReadSummary(out)
	assert.ErrorContains(t, err, "did not finish")
}

func TestRunWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario")
	}
	out := filepath.Join(t.TempDir(), "r")
	args := append([]string{"run", "--out", out, "--progress", "lines", "--seed", "3", "--set", "duration=2m", "--set", "checks=", "--workers", "4"}, smallRun...)
	code, stdout, stderr := runCLI(args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "delivery ratio")
	// The world runs on the workers asked for, so there is no fewer to explain.
	assert.NotContains(t, stderr, "workers:")
	var run results.Run
	require.NoError(t, results.ReadJSON(filepath.Join(out, results.RunFile), &run))
	assert.Equal(t, 4, run.Workers)
	assert.Equal(t, "sessionsim run default --seed 3 --set duration=2m --set checks= --set nodes.count=12 --set clients.count=6 --set workload.contacts=2 "+
		"--set warmup=30s --set drain=1m --set crypto=modeled", run.Command, "the command gives the run again")
	assert.Empty(t, run.WorkersNote)
	assert.InDelta(t, 0.5, run.WorkersWindowMs, 1e-9, "the default matrix's same-region one-way delay over the path jitter floor")
	assert.Contains(t, stderr, "100%", "progress lines end at 100%")
	for _, f := range []string{results.SummaryFile, results.RunFile, results.ScenarioFile, results.ReportFile} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	assert.NoFileExists(t, filepath.Join(out, results.IncompleteMarker))
	var s map[string]any
	require.NoError(t, results.ReadJSON(filepath.Join(out, results.SummaryFile), &s))
	assert.Contains(t, s, "delivery_ratio")
	assert.NotContains(t, s, "incomplete", "a finished run is not marked incomplete")
	assert.EqualValues(t, 3, s["seed"])
	msgs := s["messages"].(map[string]any)
	done := stderr[strings.LastIndex(stderr, "100% done"):]
	assert.Contains(t, done, fmt.Sprintf("%v messages sent, %v delivered", msgs["sent"], msgs["delivered"]), "the last progress line agrees with the summary")

	code, _, stderr = runCLI(args...)
	assert.Equal(t, exitUsage, code, "a directory holding a run is never overwritten")
	assert.Contains(t, stderr, "already holds a run")

	code, stdout, _ = runCLI("report", out)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "delivery ratio")
}

func TestRunCommand(t *testing.T) {
	cases := []struct {
		name string
		f    runFlags
		want string
	}{
		{"plain", runFlags{}, "sessionsim run default"},
		{"quick", runFlags{quick: true}, "sessionsim run default --quick"},
		{"seed and sets in order", runFlags{scenarioFlags: scenarioFlags{seed: "7", sets: []string{"nodes.count=300", "crypto=modeled"}}, quick: true},
			"sessionsim run default --seed 7 --set nodes.count=300 --set crypto=modeled --quick"},
		{"quoted where the shell needs it", runFlags{scenarioFlags: scenarioFlags{sets: []string{"checks=delivery_ratio >= 0.9", "description=it's"}}},
			`sessionsim run default --set 'checks=delivery_ratio >= 0.9' --set 'description=it'\''s'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, runCommand("default", tc.f))
		})
	}
}

func TestWorkersLine(t *testing.T) {
	const realTime = " mode runs its actors in real time on goroutines of their own, not on the engine's workers"
	cases := []struct {
		name  string
		mode  string
		asked int
		given bool
		used  int
		want  string
	}{
		{"sim on all it asked", "sim", 4, false, 4, ""},
		{"sim on fewer", "sim", 4, false, 1, "workers: 1 of 4 (why)"},
		{"live by default", "live", 2, false, 1, ""},
		{"live on one asked", "live", 1, true, 1, ""},
		{"live with --workers", "live", 4, true, 1, "--workers 4: not used (live" + realTime + ")"},
		{"docker with --workers", "docker", 2, true, 1, "--workers 2: not used (docker" + realTime + ")"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			why := "why"
			if tc.mode != "sim" {
				why = tc.mode + realTime
			}
			assert.Equal(t, tc.want, workersLine(tc.mode, tc.asked, tc.given, tc.used, why))
		})
	}
}

func TestRunWritesProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario")
	}
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	args := append([]string{"run", "-q", "--out", filepath.Join(dir, "r"), "--set", "duration=1m", "--set", "checks=",
		"--cpuprofile", cpu, "--memprofile", mem}, smallRun...)
	code, _, stderr := runCLI(args...)
	require.Equal(t, exitOK, code, stderr)
	// A profile is a gzipped protocol buffer whose string table names its sample types.
	for _, tc := range []struct {
		path  string
		types []string
	}{
		{cpu, []string{"samples", "cpu", "nanoseconds"}},
		{mem, []string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"}},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			f, err := os.Open(tc.path)
			require.NoError(t, err)
			defer f.Close()
			zr, err := gzip.NewReader(f)
			require.NoError(t, err)
			raw, err := io.ReadAll(zr)
			require.NoError(t, err)
			for _, typ := range tc.types {
				assert.Contains(t, string(raw), typ)
			}
		})
	}

	code, _, stderr = runCLI("run", "--memprofile", filepath.Join(dir, "no-such-dir", "mem.prof"), "--out", filepath.Join(dir, "r2"))
	assert.Equal(t, exitUsage, code, "a profile that cannot be written is refused before the run")
	assert.Contains(t, stderr, "--memprofile")
	assert.NoDirExists(t, filepath.Join(dir, "r2"))

	// A profile that fails to be written at the end (a full disk) fails the command, but the
	// run's results are written all the same.
	if _, err := os.Stat("/dev/full"); err == nil {
		args := append([]string{"run", "-q", "--out", filepath.Join(dir, "r3"), "--set", "duration=1m", "--set", "checks=",
			"--memprofile", "/dev/full"}, smallRun...)
		code, _, stderr = runCLI(args...)
		assert.Equal(t, exitFailure, code, stderr)
		assert.Contains(t, stderr, "--memprofile")
		assert.FileExists(t, filepath.Join(dir, "r3", results.SummaryFile))
		assert.NoFileExists(t, filepath.Join(dir, "r3", results.IncompleteMarker))
	}
}

func TestCommitOf(t *testing.T) {
	const rev = "aae80458aa5a78b143ff435f52230c01bfb4c5df"
	cases := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"clean", []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}, rev},
		{"dirty", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}}, rev + "-dirty"},
		{"no vcs", []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "vcs.modified", Value: "true"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, commitOf(tc.settings))
		})
	}
}

func TestProgressLinesShowRateAndTimeLeft(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "lines", false)
	p.start = time.Now()
	total := time.Hour
	p.update(scenarios.Progress{Phase: "warmup", Virtual: 0, Total: total, Events: 0})
	first := out.String()
	assert.Contains(t, first, "  0% warmup")
	assert.NotContains(t, first, "events/s", "one report gives no rate yet")

	// Pretend the first report came 10 s ago: 6 virtual minutes (10%) and 2M events since.
	p.rate.wall0 = p.rate.wall0.Add(-10 * time.Second)
	p.update(scenarios.Progress{Phase: "sending", Virtual: 6 * time.Minute, Total: total, Events: 2_000_000})
	second := strings.TrimPrefix(out.String(), first)
	assert.Contains(t, second, " 10% sending  virtual 6m0s of 1h0m0s")
	assert.Regexp(t, `, (199\d\d\d|200000) events/s, about 1m30s left`, second, "90 percent left at 10 s per 10 percent")

	// Within the same 10% step and 30 s: no new line.
	p.update(scenarios.Progress{Phase: "sending", Virtual: 7 * time.Minute, Total: total, Events: 2_100_000})
	assert.Equal(t, first+second, out.String())
}

func TestRateMeter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		wall      time.Duration
		pr        scenarios.Progress
		ok        bool
		perSecond float64
		left      time.Duration
	}{
		{"no wall time yet", 0, scenarios.Progress{Virtual: time.Minute, Total: time.Hour, Events: 10}, false, 0, 0},
		{"no virtual time yet", time.Second, scenarios.Progress{Virtual: 0, Total: time.Hour, Events: 10}, false, 0, 0},
		{"a quarter in 20 s", 20 * time.Second, scenarios.Progress{Virtual: 15 * time.Minute, Total: time.Hour, Events: 4_000_000}, true, 200_000, time.Minute},
		{"at the end", time.Minute, scenarios.Progress{Virtual: time.Hour, Total: time.Hour, Events: 60}, true, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m rateMeter
			_, _, ok := m.observe(t0, scenarios.Progress{Total: tc.pr.Total})
			require.False(t, ok, "a first report sets the origin")
			perSecond, left, ok := m.observe(t0.Add(tc.wall), tc.pr)
			require.Equal(t, tc.ok, ok)
			assert.InDelta(t, tc.perSecond, perSecond, 1e-6)
			assert.Equal(t, tc.left, left)
		})
	}
}

// TestSoftMemoryLimit checks the heap's soft limit: the world's estimate plus the headroom, at
// most half the machine, none when the machine's memory is unknown.
func TestSoftMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name              string
		machine, estimate uint64
		want              uint64
	}{
		{"unknown machine", 0, 1 * gib, 0},
		{"small world", 24 * gib, 100 << 20, 100<<20 + memoryLimitHeadroom},
		{"full-size world", 24 * gib, 1200 << 20, 1200<<20 + memoryLimitHeadroom},
		{"world near half the machine", 24 * gib, 10 * gib, 12 * gib},
		{"small machine", 4 * gib, 100 << 20, 2 * gib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, softMemoryLimit(tc.machine, tc.estimate))
		})
	}
}
