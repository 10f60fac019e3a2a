package scenarios

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/live/docker"
)

// TestDockerModeRunsAWorld runs a tiny world in docker mode (make test-docker): the registry
// and 12 nodes in containers, 6 desktop clients in the test process, a minute of messages.
// Messages must arrive, and nothing labelled as a run may be left on the engine afterwards.
func TestDockerModeRunsAWorld(t *testing.T) {
	if os.Getenv("SESSIONSIM_TEST_DOCKER") == "" {
		t.Skip("set SESSIONSIM_TEST_DOCKER=1 to run a world in containers")
	}
	pool, err := docker.Connect()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "sessionsim")
	build := exec.Command("go", "build", "-o", bin, "../cmd/sessionsim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Setenv(BinaryEnv, bin)

	sc := Default()
	sc.Mode = "docker"
	sc.Nodes.Count, sc.Clients.Count, sc.Workload.Contacts = 12, 6, 3
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, false, 0
	sc.Warmup, sc.Duration, sc.Drain = 15*time.Second, time.Minute, 10*time.Second
	sc.Workload.MessagesPerHour = 600
	w, s, err := run(sc, RunOptions{ReplicationSample: 20 * time.Second})
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	assert.Positive(t, s.Messages.Sent, "clients sent messages")
	assert.Positive(t, s.Messages.Delivered, "and some arrived through the nodes in containers")
	assert.Positive(t, s.Traffic.ReplicationForwards, "the nodes' events reached the collector")

	o, err := docker.Count(pool, "")
	require.NoError(t, err)
	assert.Equal(t, docker.Objects{}, o, "nothing labelled is left")
}

// TestDockerModeRefusals: docker mode refuses, at load, what it cannot run, and a machine
// whose engine does not answer.
func TestDockerModeRefusals(t *testing.T) {
	engine := errors.New("no engine here")
	saved := dockerPreflight
	t.Cleanup(func() { dockerPreflight = saved })
	dockerPreflight = func() error { return engine }
	base := func() Scenario {
		sc := Default()
		sc.Mode, sc.Crypto = "docker", "real"
		sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = false, 0
		sc.Servers.Communities.Count = 0
		return sc
	}
	tests := []struct {
		name string
		edit func(*Scenario)
		key  string
	}{
		{"no engine", func(*Scenario) {}, "mode"},
		{"modeled crypto", func(s *Scenario) { s.Crypto = "modeled" }, "crypto"},
		{"faults", func(s *Scenario) { s.Faults = []Fault{{Target: "random"}} }, "faults"},
		{"crashes", func(s *Scenario) { s.Nodes.Churn.CrashesPerHour = 1 }, "nodes.churn.crashes_per_hour"},
		{"lifetimes", func(s *Scenario) { s.Nodes.Churn.LifetimeMedian = time.Hour }, "nodes.churn.lifetime_median"},
		{"push", func(s *Scenario) { s.Servers.Push.Enabled = true }, "servers.push.enabled"},
		{"attachments", func(s *Scenario) { s.Workload.Attachments.Share = 0.1 }, "workload.attachments.share"},
		{"communities", func(s *Scenario) { s.Servers.Communities.Count = 1 }, "servers.communities.count"},
		{"too many nodes", func(s *Scenario) { s.Nodes.Count = docker.MaxNodes + 1 }, "nodes.count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := base()
			tt.edit(&sc)
			var e *Error
			require.ErrorAs(t, sc.validateDocker(), &e)
			assert.Equal(t, tt.key, e.Key)
		})
	}
	dockerPreflight = func() error { return nil }
	assert.NoError(t, base().validateDocker())
}
