package ci

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sessionsim/sessionsim/internal/cli"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios"
)

type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Name            string            `yaml:"name"`
			Uses            string            `yaml:"uses"`
			Run             string            `yaml:"run"`
			If              string            `yaml:"if"`
			ContinueOnError bool              `yaml:"continue-on-error"`
			With            map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// sessionsimCommands returns the sessionsim command lines of a script, split into words, with
// the binary's name dropped and shell variables given the values in vars.
func sessionsimCommands(text string, vars map[string]string) [][]string {
	var out [][]string
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.Contains(fields[0], "=") || filepath.Base(fields[0]) != "sessionsim" && fields[0] != `"$SESSIONSIM"` {
			continue
		}
		var args []string
		for _, f := range fields[1:] {
			f = strings.Trim(f, `"`)
			if v, ok := vars[f]; ok {
				f = v
			}
			if f != "" {
				args = append(args, f)
			}
		}
		out = append(out, args)
	}
	return out
}

// checkCommand requires a sessionsim command line to name a real command and real flags (its
// --help then succeeds in-process) and, for run, a built-in scenario that loads as it is run.
func checkCommand(t *testing.T, args []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Execute(append(slices.Clone(args), "--help"), &stdout, &stderr)
	require.Zero(t, code, "sessionsim %s: %s", strings.Join(args, " "), stderr.String())
	if args[0] == "run" {
		_, err := scenarios.Load(args[1], scenarios.LoadOptions{Quick: slices.Contains(args, "--quick")})
		require.NoError(t, err, "the scenario the example runs")
	}
}

func TestWorkflow(t *testing.T) {
	b, err := os.ReadFile("github-actions.yml")
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(b, &wf))
	require.Len(t, wf.Jobs, 1)
	var runs, uploads, reports int
	var outDir string
	for _, job := range wf.Jobs {
		for _, step := range job.Steps {
			for _, args := range sessionsimCommands(step.Run, nil) {
				runs++
				checkCommand(t, args)
				assert.False(t, step.ContinueOnError, "exit code 3 must fail the job")
				assert.Empty(t, step.If, "the run step runs unconditionally")
				i := slices.Index(args, "--out")
				require.Positive(t, i, "the run writes where the artefact steps look")
				outDir = args[i+1]
			}
			switch {
			case strings.HasPrefix(step.Uses, "actions/upload-artifact@"):
				uploads++
				assert.Equal(t, "always()", step.If, "artefacts are published when checks fail too")
				var names []string
				for p := range strings.Lines(step.With["path"]) {
					p = strings.TrimSpace(p)
					assert.Equal(t, outDir, filepath.Dir(p), "artefacts come from the run's results directory")
					names = append(names, filepath.Base(p))
				}
				assert.Subset(t, names, []string{results.JUnitFile, results.ReportFile})
			case strings.Contains(step.Uses, "junit"):
				reports++
				assert.Equal(t, "always()", step.If)
				assert.Equal(t, filepath.Join(outDir, results.JUnitFile), step.With["report_paths"])
			}
		}
	}
	assert.Equal(t, 1, runs, "one sessionsim run")
	assert.Equal(t, 1, uploads)
	assert.Equal(t, 1, reports)
}

func TestScriptCommands(t *testing.T) {
	b, err := os.ReadFile("run-scenarios.sh")
	require.NoError(t, err)
	cmds := sessionsimCommands(string(b), map[string]string{"$scenario": "churn", "$QUICK": "--quick", "$out": "results/churn"})
	require.Len(t, cmds, 1)
	checkCommand(t, cmds[0])
	for _, f := range []string{results.JUnitFile, results.ReportFile, results.SummaryFile} {
		assert.Contains(t, string(b), " "+f, "the script copies %s", f)
	}
}

// TestScriptExitCodes runs the script against a stand-in sessionsim that writes a results
// directory and exits with a given code: checks that fail make the script exit 3 after every
// scenario ran, with the artefacts copied; other failures stop it at once with their code.
func TestScriptExitCodes(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	script, err := filepath.Abs("run-scenarios.sh")
	require.NoError(t, err)
	cases := []struct {
		name  string
		codes map[string]string // scenario -> exit code of the stand-in
		want  int
		ran   []string
	}{
		{"all pass", map[string]string{"a": "0", "b": "0"}, 0, []string{"a", "b"}},
		{"checks fail", map[string]string{"a": "3", "b": "0"}, 3, []string{"a", "b"}},
		{"run error stops", map[string]string{"a": "1", "b": "0"}, 1, []string{"a"}},
		{"bad input stops", map[string]string{"a": "2", "b": "3"}, 2, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stub := filepath.Join(dir, "sessionsim")
			// The stand-in: "run NAME --quick --progress lines --out DIR" writes DIR's files
			// and exits with NAME's code.
			body := "#!/bin/sh\nout=$7\nmkdir -p \"$out\"\nfor f in junit.xml report.html summary.json; do echo \"$2\" > \"$out/$f\"; done\necho \"$2\" >> " + filepath.Join(dir, "ran") + "\ncase $2 in\n"
			for name, code := range tc.codes {
				body += name + ") exit " + code + ";;\n"
			}
			body += "esac\n"
			require.NoError(t, os.WriteFile(stub, []byte(body), 0o755))
			cmd := exec.Command("sh", script, "a", "b")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "SESSIONSIM="+stub)
			cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, code)
			ran, err := os.ReadFile(filepath.Join(dir, "ran"))
			require.NoError(t, err)
			assert.Equal(t, tc.ran, strings.Fields(string(ran)))
			for _, name := range tc.ran {
				got, err := os.ReadFile(filepath.Join(dir, "artefacts", name, results.JUnitFile))
				require.NoError(t, err, "the verdicts of %s are kept", name)
				assert.Equal(t, name+"\n", string(got))
			}
		})
	}
}
