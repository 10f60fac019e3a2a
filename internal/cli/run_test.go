package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunRefusesBadScenarios(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: bad\nnodes: {count: lots}\n"), 0o644))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad value", []string{"run", bad}, `key "nodes.count"`},
		{"unknown key", []string{"run", "--set", "nodes.cuont=3"}, `"nodes.cuont"`},
		{"unknown scenario", []string{"run", "no-such-scenario"}, "built-ins"},
		{"bad seed", []string{"run", "--seed", "-1"}, "--seed"},
		{"bad progress", []string{"run", "--progress", "fancy"}, "--progress"},
		{"unknown flag", []string{"run", "--nodes", "3"}, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			code, _, stderr := runCLI(append(tc.args, "--out", out)...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
			_, err := os.Stat(filepath.Join(out, results.SummaryFile))
			assert.True(t, os.IsNotExist(err), "no results directory that looks complete")
		})
	}
}

func TestRunWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario")
	}
	out := filepath.Join(t.TempDir(), "r")
	args := []string{"run", "--out", out, "--progress", "lines", "--seed", "3",
		"--set", "nodes.count=12", "--set", "clients.count=6", "--set", "workload.contacts=2",
		"--set", "duration=2m", "--set", "warmup=30s", "--set", "drain=1m", "--set", "crypto=modeled"}
	code, stdout, stderr := runCLI(args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "delivery ratio")
	assert.Contains(t, stderr, "100%", "progress lines end at 100%")
	for _, f := range []string{results.SummaryFile, results.RunFile, results.ScenarioFile, results.ReportFile} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	assert.NoFileExists(t, filepath.Join(out, results.IncompleteMarker))
	var s map[string]any
	b, err := os.ReadFile(filepath.Join(out, results.SummaryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Contains(t, s, "delivery_ratio")
	assert.EqualValues(t, 3, s["seed"])

	code, _, stderr = runCLI(args...)
	assert.Equal(t, exitUsage, code, "a directory holding a run is never overwritten")
	assert.Contains(t, stderr, "already holds a run")

	code, stdout, _ = runCLI("report", out)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "delivery ratio")
}
