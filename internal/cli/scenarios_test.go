package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func TestScenariosCommand(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each in stdout
		stderr string
	}{
		{"list with purposes", []string{"scenarios"}, 0, []string{"heavy-tailed lifetimes", "\nmobile-lossy ", "\nreplication "}, ""},
		{"explain", []string{"scenarios", "--explain"}, 0, []string{"nodes.churn.lifetime_median", "faults[].target", "FAULT KINDS", "{kind: partition", "--quick shortens"}, ""},
		{"explain takes no name", []string{"scenarios", "--explain", "default"}, 2, nil, "--explain takes no scenario name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			for _, want := range tc.stdout {
				assert.Contains(t, stdout, want)
			}
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}

func TestRunQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small scenario")
	}
	out := filepath.Join(t.TempDir(), "quick")
	// A scenario whose quick checks fail and whose full checks would pass: the quick ones apply.
	dir := t.TempDir()
	scenario := filepath.Join(dir, "q.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte("name: q\ncrypto: modeled\nnodes: {count: 40}\nclients: {count: 30}\nduration: 8m\n"+
		"checks: [messages.sent >= 0]\nquick: {checks: [messages.sent >= 1000000]}\n"), 0o644))
	code, _, stderr := runCLI("run", scenario, "--quick", "--progress", "none", "--out", out)
	assert.Equal(t, 3, code, stderr)
	resolved := readFile(t, filepath.Join(out, results.ScenarioFile))
	for _, want := range []string{"count: 20\n", "duration: 2m0s", "- messages.sent >= 1000000", "[quick: 20 nodes, 30 clients, 2m0s]"} {
		assert.Contains(t, string(resolved), want)
	}
	assert.False(t, strings.Contains(string(resolved), "\nquick:"), "the resolved scenario is the quick run itself")
	assert.Contains(t, string(readFile(t, filepath.Join(out, results.RunFile))), "--quick")
}
