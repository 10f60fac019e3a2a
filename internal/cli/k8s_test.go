package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
)

// TestSweepOnKubernetes emits a sweep's Job, decodes it strictly with the Kubernetes API types,
// runs each pod's command here (the results volume a temporary directory, sessionsim this test
// binary), collects the pods' directories and finds the sweep.json a local sweep writes.
func TestSweepOnKubernetes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2 arms x 2 seeds of a small scenario, twice")
	}
	asChildren(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return append([]string{"sweep", "default", "--param", "clients.paths=1,2", "--seeds", "2", "--jobs", "2", "--out", out, "--set", "checks="}, tinyRun...)
	}
	local, emitted := filepath.Join(dir, "local"), filepath.Join(dir, "k8s")
	code, _, stderr := runCLI(args(local)...)
	require.Equal(t, exitOK, code, stderr)

	code, stdout, stderr := runCLI(append(args(emitted), "--emit", "k8s")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "Indexed Job of 4 pods (2 arms x 2 seeds), image sessionsim:"+Version)
	assert.Contains(t, stdout, "sessionsim sweep --collect "+emitted)
	manifest := readFile(t, filepath.Join(emitted, k8sJobFile))
	var job batchv1.Job
	require.NoError(t, yaml.UnmarshalStrict(manifest, &job), "the manifest is a batch/v1 Job, every field known")
	assert.Equal(t, "batch/v1", job.APIVersion)
	assert.Equal(t, "Job", job.Kind)
	require.NotNil(t, job.Spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode)
	require.NotNil(t, job.Spec.Completions)
	assert.EqualValues(t, 4, *job.Spec.Completions, "one pod per arm and seed")
	require.NotNil(t, job.Spec.Parallelism)
	assert.EqualValues(t, 2, *job.Spec.Parallelism, "--jobs")
	pod := job.Spec.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, containerImage(), c.Image)
	assert.Equal(t, "sessionsim:"+Version, c.Image)
	assert.Positive(t, c.Resources.Requests.Memory().Value())
	assert.Equal(t, int64(1), c.Resources.Requests.Cpu().Value())
	require.Len(t, c.VolumeMounts, 1)
	assert.Equal(t, k8sResultsDir, c.VolumeMounts[0].MountPath)
	require.Len(t, pod.Volumes, 1)
	assert.Equal(t, c.VolumeMounts[0].Name, pod.Volumes[0].Name)
	require.NotNil(t, pod.Volumes[0].PersistentVolumeClaim)
	assert.Equal(t, k8sClaim, pod.Volumes[0].PersistentVolumeClaim.ClaimName)
	require.Len(t, c.Command, 3)
	assert.Equal(t, []string{"/bin/sh", "-c"}, c.Command[:2])

	// The pods, here: the volume is a directory, and sessionsim on the PATH this test binary.
	volume, bin := filepath.Join(dir, "volume"), filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(volume, 0o755))
	require.NoError(t, os.MkdirAll(bin, 0o755))
	exe, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "sessionsim"), []byte("#!/bin/sh\nexec "+shellQuote(exe)+" \"$@\"\n"), 0o755))
	script := strings.ReplaceAll(c.Command[2], "'"+k8sResultsDir+"/", "'"+volume+"/")
	for i := range 5 {
		cmd := exec.Command(c.Command[0], c.Command[1], script)
		cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX="+strconv.Itoa(i), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if i == 4 {
			assert.Error(t, err, "no fifth pod")
			assert.Contains(t, string(out), "no run for index 4")
			continue
		}
		require.NoError(t, err, string(out))
	}
	pods, err := os.ReadDir(volume)
	require.NoError(t, err)
	var names []string
	for _, p := range pods {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{"arm-01-clients.paths=1-seed-1", "arm-01-clients.paths=1-seed-2", "arm-02-clients.paths=2-seed-1", "arm-02-clients.paths=2-seed-2"}, names)

	// Collecting before the results are copied names what is missing.
	code, _, stderr = runCLI("sweep", "--collect", emitted)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "4 of 4 runs are missing")
	for _, n := range names {
		require.NoError(t, os.Rename(filepath.Join(volume, n), filepath.Join(emitted, n)))
	}
	code, stdout, stderr = runCLI("sweep", "--collect", emitted)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "arm-02-clients.paths=2")
	for _, f := range []string{stats.SweepFile, stats.SweepCSV, stats.SweepHTML} {
		assert.Equal(t, readFile(t, filepath.Join(local, f)), readFile(t, filepath.Join(emitted, f)), "%s as the local sweep wrote it", f)
	}
	assert.Equal(t, readFile(t, filepath.Join(local, "arm-02-clients.paths=2", "seed-2", results.SummaryFile)),
		readFile(t, filepath.Join(emitted, "arm-02-clients.paths=2-seed-2", results.SummaryFile)), "a pod's run is the local run")
}

// TestSweepQuick: --quick reaches every run of the sweep, here the pods' command lines, and a
// sweep planned quick is another sweep than the same one planned whole.
func TestSweepQuick(t *testing.T) {
	dir := t.TempDir()
	sweep := func(out string, extra ...string) (int, string) {
		code, _, stderr := runCLI(append([]string{"sweep", "churn", "--param", "clients.paths=1,2", "--seeds", "2", "--out", out}, extra...)...)
		return code, stderr
	}
	quick, whole := filepath.Join(dir, "quick"), filepath.Join(dir, "whole")
	code, stderr := sweep(quick, "--quick", "--emit", "k8s")
	require.Equal(t, exitOK, code, stderr)
	code, stderr = sweep(whole, "--emit", "k8s")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, 4, strings.Count(string(readFile(t, filepath.Join(quick, k8sJobFile))), " '--quick'"), "every pod's run is quick")
	assert.NotContains(t, string(readFile(t, filepath.Join(whole, k8sJobFile))), "--quick")
	var q, w sweepPlan
	require.NoError(t, results.ReadJSON(filepath.Join(quick, sweepPlanFile), &q))
	require.NoError(t, results.ReadJSON(filepath.Join(whole, sweepPlanFile), &w))
	assert.NotEqual(t, w.ScenarioSHA256, q.ScenarioSHA256, "the plan is of the shortened scenario")
}

func TestSweepOnKubernetesRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	notPlan := filepath.Join(dir, "not-a-plan")
	require.NoError(t, os.MkdirAll(notPlan, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(notPlan, sweepPlanFile), []byte(`{"scenario":"default","grid":1}`), 0o644))
	local := filepath.Join(dir, "local")
	require.NoError(t, os.MkdirAll(filepath.Join(local, "arm-01-clients.paths=1", "seed-1"), 0o755))
	require.NoError(t, results.WriteJSON(local, sweepPlanFile, sweepPlan{Scenario: "default", Params: []stats.Param{{Key: "clients.paths", Values: []string{"1", "2"}}}, Seeds: []uint64{1, 2}}))
	require.NoError(t, results.WriteJSON(filepath.Join(local, "arm-01-clients.paths=1", "seed-1"), results.SummaryFile, results.Summary{}))
	sweep := []string{"sweep", "default", "--param", "clients.paths=1,2", "--seeds", "2"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"another engine", append(sweep, "--emit", "slurm", "--out", filepath.Join(dir, "a")), `--emit "slurm"`},
		{"emit and resume", append(sweep, "--emit", "k8s", "--resume", "--out", filepath.Join(dir, "b")), "--resume continues"},
		{"collect with a scenario", []string{"sweep", "default", "--collect", dir}, "--collect DIR takes no scenario"},
		{"collect with params", []string{"sweep", "--collect", dir, "--param", "clients.paths=1"}, "--collect DIR takes no scenario, --param"},
		{"collect where no plan is", []string{"sweep", "--collect", filepath.Join(dir, "nowhere")}, "where `sweep --emit k8s` wrote its plan"},
		{"collect another file", []string{"sweep", "--collect", notPlan}, "not a sweep plan this build reads"},
		{"collect a sweep run here", []string{"sweep", "--collect", local}, "this sweep ran here (its runs are in " + filepath.Join(local, "arm-01-clients.paths=1", "seed-N") + "), not from `sweep --emit k8s`"},
		{"collect quick", []string{"sweep", "--collect", dir, "--quick"}, "--collect DIR takes no scenario, --param, --emit, --resume, --out or --quick"},
		{"no scenario", []string{"sweep", "--param", "clients.paths=1"}, "sweep needs a SCENARIO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			assert.NoDirExists(t, filepath.Join(dir, "a"))
			assert.NoDirExists(t, filepath.Join(dir, "b"))
		})
	}
}

func TestLabelValue(t *testing.T) {
	for in, want := range map[string]string{
		"default":               "default",
		"My Scenario.yaml":      "my-scenario-yaml",
		"--":                    "scenario",
		strings.Repeat("a", 50): strings.Repeat("a", 40),
	} {
		assert.Equal(t, want, labelValue(in), in)
	}
}
