package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/results/stats"
)

// imageRepository is the name of the container image a sweep's pods run. It is built by hand
// (the README says how) and holds /bin/sh and sessionsim on its PATH: docker mode's images,
// built FROM scratch for one run under its own name and removed after it, hold no shell.
const imageRepository = "sessionsim"

// containerImage is the image of this version a sweep's pods run: sessionsim:<version>.
func containerImage() string { return imageRepository + ":" + Version }

// What the Job of a sweep handed to Kubernetes expects of the cluster: a claim on a volume that
// every pod can write (ReadWriteMany), mounted at k8sResultsDir.
const (
	k8sJobFile    = "sweep-job.yaml"
	k8sResultsDir = "/results"
	k8sClaim      = "sessionsim-results"
)

// podDir is where a pod writes its run, below the results volume and, once copied back, below
// the sweep directory: ARM-seed-S.
func podDir(arm string, seed uint64) string { return arm + "-seed-" + strconv.FormatUint(seed, 10) }

// The parts of a Kubernetes batch/v1 Job that a sweep sets, with the API's field names.
type (
	k8sJob struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   k8sMeta    `yaml:"metadata"`
		Spec       k8sJobSpec `yaml:"spec"`
	}
	k8sMeta struct {
		Name   string            `yaml:"name,omitempty"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}
	k8sJobSpec struct {
		CompletionMode string      `yaml:"completionMode"`
		Completions    int         `yaml:"completions"`
		Parallelism    int         `yaml:"parallelism"`
		BackoffLimit   int         `yaml:"backoffLimit"`
		Template       k8sTemplate `yaml:"template"`
	}
	k8sTemplate struct {
		Metadata k8sMeta    `yaml:"metadata"`
		Spec     k8sPodSpec `yaml:"spec"`
	}
	k8sPodSpec struct {
		RestartPolicy string         `yaml:"restartPolicy"`
		Containers    []k8sContainer `yaml:"containers"`
		Volumes       []k8sVolume    `yaml:"volumes"`
	}
	k8sContainer struct {
		Name         string        `yaml:"name"`
		Image        string        `yaml:"image"`
		Command      []string      `yaml:"command"`
		Resources    k8sResources  `yaml:"resources"`
		VolumeMounts []k8sVolMount `yaml:"volumeMounts"`
	}
	k8sResources struct {
		Requests map[string]string `yaml:"requests"`
	}
	k8sVolMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	k8sVolume struct {
		Name                  string      `yaml:"name"`
		PersistentVolumeClaim k8sClaimRef `yaml:"persistentVolumeClaim"`
	}
	k8sClaimRef struct {
		ClaimName string `yaml:"claimName"`
	}
)

// sweepJob is the Indexed Job of a sweep: pod i runs the i-th (arm, seed) pair, arms in grid
// order and seeds in order within each, picking its command line by JOB_COMPLETION_INDEX.
// Each pod asks for one core and the memory the largest arm's run is estimated to need.
func sweepJob(r runner, plan sweepPlan, names []string, arms [][]stats.Setting, memory uint64) k8sJob {
	var script strings.Builder
	script.WriteString("set -e\ncase \"$JOB_COMPLETION_INDEX\" in\n")
	n := 0
	for i, a := range arms {
		for _, s := range plan.Seeds {
			args := r.args(job{dir: path.Join(k8sResultsDir, podDir(names[i], s)), seed: s, sets: settingSets(a)})
			fmt.Fprintf(&script, "%d) exec sessionsim", n)
			for _, arg := range args {
				script.WriteString(" " + shellQuote(arg))
			}
			script.WriteString(" ;;\n")
			n++
		}
	}
	script.WriteString("*) echo \"no run for index $JOB_COMPLETION_INDEX\" >&2; exit 2 ;;\nesac\n")
	labels := map[string]string{"app.kubernetes.io/name": "sessionsim", "sessionsim/scenario": labelValue(plan.Scenario)}
	return k8sJob{
		APIVersion: "batch/v1",
		Kind:       "Job",
		Metadata:   k8sMeta{Name: "sessionsim-sweep-" + labelValue(plan.Scenario), Labels: labels},
		Spec: k8sJobSpec{
			CompletionMode: "Indexed",
			Completions:    n,
			Parallelism:    min(r.jobs, n),
			BackoffLimit:   n, // a pod that failed (evicted, say) is tried again, up to once per run overall
			Template: k8sTemplate{
				Metadata: k8sMeta{Labels: labels},
				Spec: k8sPodSpec{
					RestartPolicy: "Never",
					Containers: []k8sContainer{{
						Name:    "sessionsim",
						Image:   containerImage(),
						Command: []string{"/bin/sh", "-c", script.String()},
						Resources: k8sResources{Requests: map[string]string{
							"cpu":    "1",
							"memory": strconv.FormatUint((memory+1<<20-1)>>20, 10) + "Mi",
						}},
						VolumeMounts: []k8sVolMount{{Name: "results", MountPath: k8sResultsDir}},
					}},
					Volumes: []k8sVolume{{Name: "results", PersistentVolumeClaim: k8sClaimRef{ClaimName: k8sClaim}}},
				},
			},
		},
	}
}

// shellQuote quotes s for /bin/sh: inside single quotes nothing is special but the quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// labelValue makes a scenario's name fit a Kubernetes name and label value: lower-case letters,
// digits and dashes, at most 40 characters here (the Job's name adds its prefix).
func labelValue(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	v := strings.Trim(b.String(), "-")
	if len(v) > 40 {
		v = strings.TrimRight(v[:40], "-")
	}
	if v == "" {
		v = "scenario"
	}
	return v
}

// emitK8s writes the sweep's Job next to its plan in out and says how to run and collect it.
func emitK8s(stdout io.Writer, out string, r runner, plan sweepPlan, names []string, arms [][]stats.Setting, memory uint64, quiet bool) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# sessionsim sweep of %s: %s x %s, one pod each. Needs the image %s\n", plan.Scenario, reports.Count(len(arms), "arm"), reports.Count(len(plan.Seeds), "seed"), containerImage())
	fmt.Fprintf(&b, "# and a ReadWriteMany PersistentVolumeClaim named %s; then: sessionsim sweep --collect DIR.\n", k8sClaim)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(sweepJob(r, plan, names, arms, memory)); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := results.WriteFile(out, k8sJobFile, b.Bytes()); err != nil {
		return err
	}
	job := filepath.Join(out, k8sJobFile)
	if quiet {
		fmt.Fprintln(stdout, job)
		return nil
	}
	fmt.Fprintf(stdout, "Wrote %s: a Kubernetes Indexed Job of %s (%s x %s), image %s.\n", job, reports.Count(len(arms)*len(plan.Seeds), "pod"), reports.Count(len(arms), "arm"), reports.Count(len(plan.Seeds), "seed"), containerImage())
	fmt.Fprintf(stdout, "Run it with `kubectl apply -f %s`; each pod writes %s/ARM-seed-S on the volume of claim %s.\n", job, k8sResultsDir, k8sClaim)
	fmt.Fprintf(stdout, "Copy those directories into %s, then `sessionsim sweep --collect %s` writes sweep.json there.\n", out, out)
	return nil
}

// collectSweep merges the runs of a sweep handed to Kubernetes, copied into dir next to the
// plan --emit k8s wrote, exactly as a local sweep merges its own.
func collectSweep(cmd *cobra.Command, dir string, quiet bool) error {
	b, err := os.ReadFile(filepath.Join(dir, sweepPlanFile))
	if err != nil {
		return usageError(fmt.Errorf("--collect %s: %w; give the directory where `sweep --emit k8s` wrote its plan", dir, err))
	}
	var plan sweepPlan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&plan); err != nil || len(plan.Params) == 0 || len(plan.Seeds) == 0 {
		if err == nil {
			err = errors.New("no grid or no seeds")
		}
		return usageError(fmt.Errorf("--collect: %s: %w; this is not a sweep plan this build reads", filepath.Join(dir, sweepPlanFile), err))
	}
	arms := grid(plan.Params)
	names := armNames(arms)
	armDirs := make([][]string, len(arms))
	var missing []string
	for i := range arms {
		for _, s := range plan.Seeds {
			d := filepath.Join(dir, podDir(names[i], s))
			armDirs[i] = append(armDirs[i], d)
			if !complete(d) {
				missing = append(missing, podDir(names[i], s))
			}
		}
	}
	if len(missing) > 0 && complete(seedDir(filepath.Join(dir, names[0]), plan.Seeds[0])) {
		return usageError(fmt.Errorf("--collect %s: this sweep ran here (its runs are in %s), not from `sweep --emit k8s`: a local sweep writes its sweep.json when it ends; run the same sweep with --out %s --resume to finish it", dir, filepath.Join(dir, names[0], "seed-N"), dir))
	}
	if len(missing) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("--collect %s: %d of %d runs are missing or did not finish: %s; copy them from the volume of claim %s (or run those pods again)",
			dir, len(missing), len(arms)*len(plan.Seeds), strings.Join(missing, ", "), k8sClaim)}
	}
	return mergeSweep(cmd.OutOrStdout(), dir, plan, names, arms, armDirs, quiet)
}
