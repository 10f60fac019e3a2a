package cli

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

// junitCounts reads the totals of a JUnit file.
func junitCounts(t *testing.T, path string) (tests, failures int) {
	t.Helper()
	b := readFile(t, path)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	return doc.Tests, doc.Failures
}

func TestRunChecksExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs small scenarios")
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "checked.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte("name: checked\nduration: 1m\nchecks:\n  - messages.sent >= 0\n  - replication.min_copies between 0 and 1000\n"), 0o644))
	cases := []struct {
		name      string
		args      []string
		env       map[string]string
		code      int
		junit     [2]int   // tests, failures in junit.xml; zero: no junit.xml
		stdout    []string // fragments
		stderr    []string
		noResults bool
	}{
		{name: "no checks", args: []string{"run", "--set", "duration=1m", "--set", "checks="}, code: exitOK},
		{name: "checks pass", args: []string{"run", scenario}, code: exitOK, junit: [2]int{2, 0},
			stdout: []string{"Checks: all 2 passed", "pass  messages.sent >= 0", "pass  replication.min_copies between 0 and 1000  measured "}},
		{name: "a check fails", args: []string{"run", scenario, "--set", "checks=onion_rtt_ms.p50 <= 1,delivery_ratio >= 0"}, code: exitChecks, junit: [2]int{2, 1},
			stdout: []string{"Checks: 1 of 2 failed", "FAIL  onion_rtt_ms.p50 <= 1  measured "}, stderr: []string{"1 of 2 checks failed (verdicts in ", "junit.xml"}},
		{name: "a check on a platform the run lacks fails", args: []string{"run", "--set", "duration=1m", "--set", "clients.platforms.ios=0", "--set", "checks=onion_rtt_ms_by_platform.ios.p50 <= 10000"},
			code: exitChecks, junit: [2]int{1, 1}, stdout: []string{`FAIL  onion_rtt_ms_by_platform.ios.p50 <= 10000  onion_rtt_ms_by_platform has no "ios" in this run (it has: android, desktop)`}},
		{name: "quiet", args: []string{"run", "-q", scenario, "--set", "checks=messages.sent <= 0"}, code: exitChecks, junit: [2]int{1, 1},
			stderr: []string{"1 of 1 checks failed"}},
		{name: "unknown figure", args: []string{"run", "--set", "checks=onion_rtt_ms.p95 <= 1"}, code: exitUsage, noResults: true,
			stderr: []string{"--set", `"checks[0]"`, `no figure "onion_rtt_ms.p95"`, "closest: onion_rtt_ms.p90, onion_rtt_ms.p99"}},
		{name: "malformed check in a file", args: []string{"run", filepath.Join(dir, "bad.yaml")}, code: exitUsage, noResults: true,
			stderr: []string{"bad.yaml:4", `"checks[1]"`, `operator "=<"`}},
		{name: "between backwards by env", args: []string{"run"}, env: map[string]string{"SESSIONSIM_CHECKS": "delivery_ratio between 1 and 0"}, code: exitUsage, noResults: true,
			stderr: []string{"SESSIONSIM_CHECKS", `"checks[0]"`, "lower one first"}},
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: bad\nchecks:\n  - delivery_ratio >= 0.5\n  - delivery_ratio =< 1\n"), 0o644))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(dir, "out", strings.ReplaceAll(tc.name, " ", "-"))
			args := append(append(slices.Clip(tc.args), "--out", out, "--progress", "none"), smallRun...)
			code, stdout, stderr := runCLI(args...)
			assert.Equal(t, tc.code, code, stderr)
			for _, w := range tc.stdout {
				assert.Contains(t, stdout, w)
			}
			for _, w := range tc.stderr {
				assert.Contains(t, stderr, w)
			}
			if tc.noResults {
				assert.NoDirExists(t, out, "nothing written")
				assert.Empty(t, stdout)
				return
			}
			s, err := results.ReadSummary(out)
			require.NoError(t, err)
			assert.Len(t, s.Checks, tc.junit[0])
			if tc.junit[0] == 0 {
				assert.NoFileExists(t, filepath.Join(out, results.JUnitFile))
				assert.NotContains(t, string(readFile(t, filepath.Join(out, results.SummaryFile))), `"checks"`)
				return
			}
			tests, failures := junitCounts(t, filepath.Join(out, results.JUnitFile))
			assert.Equal(t, tc.junit, [2]int{tests, failures})
			assert.Equal(t, failures, results.ChecksFailed(s.Checks))
		})
	}
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(path, text string) string {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		return path
	}
	resultsDir := func(name, scenario string, incomplete bool) string {
		d := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, writeSummary(d, 0.98))
		write(filepath.Join(d, "scenario.yaml"), scenario)
		write(filepath.Join(d, "run.json"), `{"wall_seconds": 2.5}`)
		if incomplete {
			write(filepath.Join(d, "INCOMPLETE"), "")
		}
		return d
	}
	checked := resultsDir("checked", "name: x\nchecks:\n  - delivery_ratio >= 0.9\n  - onion_rtt_ms.p99 <= 2000\n", false)
	failing := resultsDir("failing", "name: x\nchecks:\n  - delivery_ratio >= 0.99\n", false)
	unchecked := resultsDir("unchecked", "name: x\nnodes: {count: 30}\n", false)
	incomplete := resultsDir("incomplete", "name: x\nchecks: [delivery_ratio >= 0]\n", true)
	pass := write(filepath.Join(dir, "pass.yaml"), "checks:\n  - messages.delivered >= 98\n")
	fail := write(filepath.Join(dir, "fail.yaml"), "checks:\n  - messages.delivered >= 98\n  - onion_rtt_ms_by_platform.ios.p50 <= 1\n")
	unknown := write(filepath.Join(dir, "unknown.yaml"), "checks:\n  - delivery_ratio >= 0.9\n  - replication.min_copy >= 5\n")
	stray := write(filepath.Join(dir, "stray.yaml"), "checks: []\nname: x\n")

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		junit  [2]int // tests, failures in the --junit file
	}{
		{name: "scenario's checks pass", args: []string{checked}, code: exitOK,
			stdout: []string{"checks from " + filepath.Join(checked, "scenario.yaml"), "Checks: all 2 passed", "pass  delivery_ratio >= 0.9"}},
		{name: "scenario's check fails", args: []string{failing}, code: exitChecks,
			stdout: []string{"FAIL  delivery_ratio >= 0.99  measured 0.98"}, stderr: []string{"1 of 1 checks failed\n"}},
		{name: "file's checks pass", args: []string{unchecked, "--checks", pass}, code: exitOK, stdout: []string{"checks from " + pass}},
		{name: "file's checks fail, with junit", args: []string{checked, "--checks", fail, "--junit", filepath.Join(dir, "ci", "junit.xml")}, code: exitChecks,
			stdout: []string{`FAIL  onion_rtt_ms_by_platform.ios.p50 <= 1  onion_rtt_ms_by_platform has no "ios" in this run (it has: none)`},
			stderr: []string{"1 of 2 checks failed (verdicts in " + filepath.Join(dir, "ci", "junit.xml")}, junit: [2]int{2, 1}},
		{name: "unknown figure", args: []string{checked, "--checks", unknown}, code: exitUsage,
			stderr: []string{"unknown.yaml:3", `checks[1] "replication.min_copy >= 5"`, "closest: replication.min_copies"}},
		{name: "stray key in the checks file", args: []string{checked, "--checks", stray}, code: exitUsage, stderr: []string{`stray.yaml:2: unknown key "name"`}},
		{name: "missing checks file", args: []string{checked, "--checks", filepath.Join(dir, "absent.yaml")}, code: exitUsage, stderr: []string{"absent.yaml: no such file; give a YAML file holding a checks: list"}},
		{name: "a check for a checks file", args: []string{checked, "--checks", "delivery_ratio >= 2"}, code: exitUsage, stderr: []string{`checks delivery_ratio >= 2: no such file; give a YAML file holding a checks: list, such as checks: ["delivery_ratio >= 0.99"]`}},
		{name: "no checks anywhere", args: []string{unchecked}, code: exitUsage, stderr: []string{"has no checks; give --checks FILE"}},
		{name: "incomplete directory", args: []string{incomplete}, code: exitUsage, stderr: []string{"did not finish"}},
		{name: "no results directory", args: []string{filepath.Join(dir, "nowhere")}, code: exitUsage, stderr: []string{"nowhere: no such directory"}},
		{name: "the summary for its directory", args: []string{filepath.Join(checked, "summary.json")}, code: exitUsage, stderr: []string{"is a file; give the results directory that holds it"}},
		{name: "no argument", args: nil, code: exitUsage},
		{name: "junit into a directory", args: []string{checked, "--junit", checked}, code: exitUsage,
			stderr: []string{"--junit " + checked + " is a directory; give the file to write, e.g. " + filepath.Join(checked, "junit.xml")}},
		{name: "junit under a file", args: []string{checked, "--junit", filepath.Join(pass, "junit.xml")}, code: exitUsage,
			stderr: []string{"--junit " + filepath.Join(pass, "junit.xml") + ": mkdir " + pass + ": not a directory; give a file in a directory that can be created here"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, dir)
			code, stdout, stderr := runCLI(append([]string{"check"}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			for _, w := range tc.stdout {
				assert.Contains(t, stdout, w)
			}
			for _, w := range tc.stderr {
				assert.Contains(t, stderr, w)
			}
			if tc.code == exitUsage {
				assert.Empty(t, stdout)
				assert.Equal(t, 1, strings.Count(stderr, "\n"), "one message: %q", stderr)
			}
			after := snapshot(t, dir)
			if tc.junit[0] > 0 {
				junit := tc.args[len(tc.args)-1]
				tests, failures := junitCounts(t, junit)
				assert.Equal(t, tc.junit, [2]int{tests, failures})
				rel, err := filepath.Rel(dir, junit)
				require.NoError(t, err)
				delete(after, rel)
			}
			assert.Equal(t, before, after, "check writes nothing but its --junit file")
		})
	}
}

// writeSummary writes a minimal complete summary.json into dir.
func writeSummary(dir string, ratio float64) error {
	return results.WriteJSON(dir, results.SummaryFile, results.Summary{
		Schema: results.SchemaVersion, Scenario: "x", Seed: 1,
		Messages:      results.Messages{Sent: 100, Delivered: 98, Lost: 2},
		DeliveryRatio: &ratio,
		OnionRTTMs:    results.Percentiles{Count: 10, P99: 1500},
	})
}

// snapshot maps every file below dir to its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(b)
		return err
	}))
	return files
}
