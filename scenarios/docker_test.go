package scenarios

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/live/docker"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/node"
)

// TestDockerModeRunsAWorld runs a tiny world in docker mode (make test-docker): the registry
// and 12 nodes in containers, 6 desktop clients in the test process, a minute of messages,
// with a node crash and a partition applied to the containers. Messages must arrive, the
// faults must show in the nodes' own events (the killed node observes nothing more, no
// message crosses the partition while it lasts, though messages cross the same cut before and
// after it), and nothing labelled as a run may be left on the engine or in the packet filter
// afterwards.
func TestDockerModeRunsAWorld(t *testing.T) {
	d, sc := dockerTestWorld(t, 1)
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, false, 0
	sc.Warmup, sc.Duration, sc.Drain = 15*time.Second, time.Minute, 10*time.Second
	sc.Workload.MessagesPerHour = 1200
	sc.Registry.BlockInterval = 20 * time.Second // blocks within the run's minute and a half
	crash := Fault{Kind: "crash", At: 10 * time.Second, Count: 1}
	cut := Fault{Kind: "partition", At: 15 * time.Second, For: 40 * time.Second, Regions: []string{"eu-central-1", "eu-west-1"}}
	sc.Faults = []Fault{crash, cut}

	var seen storesSeen
	w, s, err := run(sc, RunOptions{ReplicationSample: 20 * time.Second, Sink: seen.sink, OnDocker: d.started})
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	assert.Positive(t, s.Messages.Sent, "clients sent messages")
	assert.Positive(t, s.Messages.Delivered, "and some arrived through the nodes in containers")
	assert.Positive(t, s.Traffic.ReplicationForwards, "the nodes' events reached the collector")
	t.Logf("sent %d, delivered %d; %d blocks, %d active nodes; %d bytes written; node CPU mean %.2f s, max %.2f s",
		s.Messages.Sent, s.Messages.Delivered, s.Network.Blocks, s.Network.ActiveNodes, s.Traffic.TotalBytes, s.CPU.MeanNodeBusySeconds, s.CPU.MaxNodeBusySeconds)
	assert.Positive(t, s.Network.Blocks, "and the registry's")
	assert.Positive(t, s.Network.ActiveNodes)
	assert.Positive(t, s.Traffic.TotalBytes, "the processes count the bytes they write")
	assert.Positive(t, s.CPU.MeanNodeBusySeconds, "and the CPU time they use")

	var shaped uint64
	w.links(func(n *netem.Network) { shaped = n.Stats().Bytes })
	t.Logf("onion round trip p50 %.0f ms, p99 %.0f ms; %d bytes through the link model", s.OnionRTTMs.P50, s.OnionRTTMs.P99, shaped)
	assert.Positive(t, shaped, "the clients' connections to the nodes go through the link model")

	stored := seen.list()
	// The crash: one node killed, which observes nothing after the kill (allowing the engine
	// a few seconds to stop it) but did before.
	killAt := w.epoch.Add(sc.Warmup + crash.At)
	var dead []actor.Addr
	inside := map[actor.Addr]bool{}
	for _, wn := range w.nodes {
		if !wn.alive {
			dead = append(dead, wn.addr)
		}
		inside[wn.addr] = slices.Contains(cut.Regions, wn.region)
	}
	require.Len(t, dead, 1, "the crash fault killed one node")
	var before, after int
	for _, e := range stored {
		if e.node == dead[0] {
			if e.at.Before(killAt.Add(3 * time.Second)) {
				before++
			} else {
				after++
			}
		}
	}
	assert.Positive(t, before, "the killed node stored messages before the crash")
	assert.Zero(t, after, "the killed node stores nothing after it")

	// The partition: a message a client stored on one side while the cut lasts has no copy
	// on the other side until it heals; before and after, copies cross the same cut.
	from, to := w.epoch.Add(sc.Warmup+cut.At), w.epoch.Add(sc.Warmup+cut.At+cut.For)
	first := map[string]storedAt{}
	for _, e := range stored {
		if e.source == node.FromClient {
			if f, ok := first[e.hash]; !ok || e.at.Before(f.at) {
				first[e.hash] = e
			}
		}
	}
	var during, crossedDuring, crossedOutside int
	for _, e := range stored {
		f, ok := first[e.hash]
		if !ok || e.source != node.FromReplica || inside[e.node] == inside[f.node] {
			continue
		}
		// A copy on the other side of the cut from the client's store.
		if f.at.After(from.Add(time.Second)) && f.at.Before(to.Add(-time.Second)) && e.at.Before(to.Add(-time.Second)) {
			crossedDuring++
		} else if f.at.Before(from) || f.at.After(to) {
			crossedOutside++
		}
	}
	for _, f := range first {
		if f.at.After(from.Add(time.Second)) && f.at.Before(to.Add(-time.Second)) {
			during++
		}
	}
	t.Logf("messages stored by clients during the partition: %d; copies across the cut: %d during it, %d outside it", during, crossedDuring, crossedOutside)
	require.Positive(t, during, "clients stored messages while the partition lasted")
	assert.Positive(t, crossedOutside, "copies cross the cut when there is no partition")
	assert.Zero(t, crossedDuring, "no copy crosses the partition while it lasts")

	d.nothingLeft(t)
}

// TestDockerModeRunsServers runs the push server and the file server in the test process
// beside 12 nodes in containers (make test-docker): 6 iOS clients, half of them away for
// 20 s, send messages, a third with an attachment. The push server must subscribe on the
// nodes and wake phones away when the nodes notify it, and the file server must serve uploads
// and downloads, both reached through the nodes' proxying; nothing labelled may be left.
func TestDockerModeRunsServers(t *testing.T) {
	d, sc := dockerTestWorld(t, 1)
	sc.Clients.Platforms = map[string]float64{"ios": 1}
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, true, 0.3
	sc.Warmup, sc.Duration, sc.Drain = 15*time.Second, 45*time.Second, 15*time.Second
	sc.Workload.MessagesPerHour = 1200
	sc.Faults = []Fault{{Kind: "offline", At: 5 * time.Second, For: 20 * time.Second, Count: 3}}

	var mu sync.Mutex
	uploads := map[string]int{} // the clients' upload round trips by status and failure
	sink := func(_ time.Time, _ actor.Addr, ev actor.Event) {
		if e, ok := ev.(client.OnionRoundTrip); ok && e.Method == "file.upload" {
			mu.Lock()
			uploads[fmt.Sprintf("%d %v", e.Status, e.Failure)]++
			mu.Unlock()
		}
	}
	w, s, err := run(sc, RunOptions{Sink: sink, OnDocker: d.started})
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	require.NotNil(t, s.Push)
	require.NotNil(t, s.FileServer)
	mu.Lock()
	t.Logf("sent %d, delivered %d; push: %d subscriptions, %d monitor requests, %d notifications, %d wake-ups; file server: %d uploads, %d downloads; upload round trips by status and failure: %v",
		s.Messages.Sent, s.Messages.Delivered, s.Push.Subscriptions, s.Push.MonitorRequests, s.Push.Notifications, s.Push.Wakeups,
		s.FileServer.Uploads, s.FileServer.Downloads, uploads)
	mu.Unlock()
	assert.Positive(t, s.Push.MonitorRequests, "the push server subscribed on the nodes")
	assert.Positive(t, s.Push.Wakeups, "the nodes notified the push server, which woke phones away")
	assert.Positive(t, s.FileServer.Uploads, "the nodes proxied uploads to the file server")
	assert.Positive(t, s.FileServer.Downloads, "and the recipients' downloads")

	d.nothingLeft(t)
}

// TestDockerModeRunsJoinsAndCommunities runs nodes joining the network and a community server
// in docker mode (make test-docker): 10 nodes in containers and the ones the join process
// starts, each in a container of its own, 6 desktop clients in rooms of a community server
// running in the test process, and two nodes degraded with latency and loss. The joined
// nodes must store messages (they were listed, put in a swarm and reached by their peers),
// the clients' community polls must come back through the nodes' proxying, and nothing
// labelled may be left.
func TestDockerModeRunsJoinsAndCommunities(t *testing.T) {
	d, sc := dockerTestWorld(t, 1)
	sc.Nodes.Count = 10
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, false, 0
	sc.Warmup, sc.Duration, sc.Drain = 15*time.Second, time.Minute, 15*time.Second
	sc.Workload.MessagesPerHour = 1200
	sc.Registry.BlockInterval = 10 * time.Second  // the joined nodes are listed within the run
	sc.Nodes.Churn.JoinsPerHour, sc.Seed = 150, 5 // joins 30, 33, 47 and 53 s from the start
	sc.Servers.Communities.Count, sc.Servers.Communities.Rooms, sc.Servers.Communities.JoinedShare = 1, 3, 1
	sc.Servers.Communities.RoomsPerClient, sc.Servers.Communities.MessagesPerHour = 2, 600
	sc.Faults = []Fault{{Kind: "degrade", At: 5 * time.Second, For: 30 * time.Second, Count: 2, AddedLatency: 50 * time.Millisecond, Loss: 0.02}}
	joins := sc.dockerJoins()
	require.GreaterOrEqual(t, joins, 2, "the seed's join process starts a few nodes within the minute")

	var mu sync.Mutex
	storedBy := map[actor.Addr]int{}
	sink := func(_ time.Time, from actor.Addr, ev actor.Event) {
		if _, ok := ev.(node.MessageStored); ok {
			mu.Lock()
			storedBy[from]++
			mu.Unlock()
		}
	}
	w, s, err := run(sc, RunOptions{ReplicationSample: 20 * time.Second, Sink: sink, OnDocker: d.started})
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	require.Len(t, w.nodes, sc.Nodes.Count+joins, "a node joined at each of the join process's times")
	mu.Lock()
	var joinedStored []int
	for _, wn := range w.nodes[sc.Nodes.Count:] {
		joinedStored = append(joinedStored, storedBy[wn.addr])
	}
	mu.Unlock()
	require.NotNil(t, s.Communities)
	t.Logf("sent %d, delivered %d; %d blocks, %d active nodes; messages stored by the %d joined nodes: %v; community polls %d (%d failed), %d room messages read; onion p50 %.0f ms",
		s.Messages.Sent, s.Messages.Delivered, s.Network.Blocks, s.Network.ActiveNodes, joins, joinedStored,
		s.Communities.Polls, s.Communities.PollFailures, s.Communities.MessagesRead, s.OnionRTTMs.P50)
	assert.Positive(t, s.Messages.Delivered)
	stored := 0
	for _, n := range joinedStored {
		stored += n
	}
	assert.Positive(t, stored, "the joined nodes' containers stored messages")
	assert.Positive(t, s.Communities.Polls, "the clients polled the community server")
	assert.Less(t, s.Communities.PollFailures, s.Communities.Polls, "and polls came back through the nodes")
	assert.Positive(t, s.Communities.MessagesRead, "with the rooms' messages")

	d.nothingLeft(t)
}

// dockerLanes names the two lanes docker mode's worlds run in, side by side (testkit.Lane): each
// test holds its lane while its world runs, so that at most two worlds of about 12 containers
// share the machine whatever -parallel allows (make test-docker lets every test wait on its
// lane at once, so that neither lane waits for the other's tests). live/docker's crash test
// takes a lane too, from its own test process: make test-docker runs the two packages at once.
// The tests are spread so that the lanes take about as long: lane 0 the leakage, the hang and
// live/docker's crash test (about 135, 85 and 75 s on two runs), lane 1 the joins, the world
// and the servers (about 100, 90 and 85 s).
const dockerLanes = testkit.DockerLanes

// dockerTestDir holds the static binary the containers run, built once for every docker-mode
// test of the process (buildDockerBinary) and removed by TestMain.
var dockerTestDir string

// buildDockerBinary builds the static binary into dockerTestDir and names it in BinaryEnv for
// the process: the docker-mode tests run side by side, where t.Setenv is refused.
var buildDockerBinary = sync.OnceValue(func() error {
	dir, err := os.MkdirTemp("", "sessionsim-docker-test-")
	if err != nil {
		return err
	}
	dockerTestDir = dir
	bin := filepath.Join(dir, "sessionsim")
	build := exec.Command("go", "build", "-o", bin, "../cmd/sessionsim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w: %s", err, out)
	}
	return os.Setenv(BinaryEnv, bin)
})

func TestMain(m *testing.M) {
	code := m.Run()
	if dockerTestDir != "" {
		_ = os.RemoveAll(dockerTestDir)
	}
	os.Exit(code)
}

// dockerTestWorld skips the test without SESSIONSIM_TEST_DOCKER, runs it beside the others in
// its lane of dockerLanes, builds the static binary the containers run, and gives the engine
// and a docker-mode world of 12 nodes and 6 clients with 3 contacts each.
func dockerTestWorld(t *testing.T, lane int) (*dockerTest, Scenario) {
	t.Helper()
	if os.Getenv("SESSIONSIM_TEST_DOCKER") == "" {
		t.Skip("set SESSIONSIM_TEST_DOCKER=1 to run a world in containers")
	}
	t.Parallel()
	testkit.Lane(t, dockerLanes, lane)
	pool, err := docker.Connect()
	require.NoError(t, err)
	require.NoError(t, buildDockerBinary())
	// Until the run has swept and started (started): live/docker's test of the sweep counts
	// what its own sweep removes.
	sweeping := testkit.Shared(t, testkit.DockerSweeps)
	sc := Default()
	sc.Mode = "docker"
	sc.Nodes.Count, sc.Clients.Count, sc.Workload.Contacts = 12, 6, 3
	return &dockerTest{pool: pool, sweeping: sweeping}, sc
}

// dockerTest is a docker-mode test's engine and the label of the run its world makes there.
type dockerTest struct {
	pool *dockertest.Pool
	// sweeping releases the test's hold on testkit.DockerSweeps.
	sweeping func()
	mu       sync.Mutex
	run      string
}

// started is the test's RunOptions.OnDocker: the run has swept what dead harnesses left and
// started; it keeps the run's label.
func (d *dockerTest) started(run string) {
	d.sweeping()
	d.mu.Lock()
	d.run = run
	d.mu.Unlock()
}

// nothingLeft checks that no container, network, image or packet-filter rule of the test's run
// is left (of its run only: the other lane's run may be under way beside it).
func (d *dockerTest) nothingLeft(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	run := d.run
	d.mu.Unlock()
	require.NotEmpty(t, run, "the run told its label (RunOptions.OnDocker)")
	o, err := docker.Count(d.pool, run)
	require.NoError(t, err)
	assert.Equal(t, docker.Objects{}, o, "nothing labelled with run %s is left", run)
}

// storedAt is a node's node.MessageStored, as the docker test keeps it.
type storedAt struct {
	at     time.Time
	node   actor.Addr
	hash   string
	source node.Source
}

// storesSeen records every message the nodes store, from a run's sink: the live driver calls
// it from its actors' goroutines, and the docker harness from its event streams.
type storesSeen struct {
	mu     sync.Mutex
	stored []storedAt
}

func (s *storesSeen) sink(at time.Time, from actor.Addr, ev actor.Event) {
	if e, ok := ev.(node.MessageStored); ok {
		s.mu.Lock()
		s.stored = append(s.stored, storedAt{at: at, node: from, hash: e.Hash, source: e.Source})
		s.mu.Unlock()
	}
}

// list is what was recorded so far.
func (s *storesSeen) list() []storedAt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stored)
}

// TestDockerModeRefusals: docker mode refuses, at load, what it cannot run, and a machine
// whose engine does not answer.
func TestDockerModeRefusals(t *testing.T) {
	engine, filter, addrs := errors.New("no engine here"), errors.New("no packet filter here"), errors.New("not root here")
	saved, savedFilter, savedAddrs := dockerPreflight, dockerFilterPreflight, dockerClientAddrsPreflight
	t.Cleanup(func() {
		dockerPreflight, dockerFilterPreflight, dockerClientAddrsPreflight = saved, savedFilter, savedAddrs
	})
	dockerPreflight = func() error { return engine }
	dockerFilterPreflight = func() error { return filter }
	dockerClientAddrsPreflight = func() error { return addrs }
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
		{"too many nodes", func(s *Scenario) { s.Nodes.Count = docker.MaxNodes + 1 }, "nodes.count"},
		{"too many joining", func(s *Scenario) { s.Nodes.Count, s.Nodes.Churn.JoinsPerHour = docker.MaxNodes-2, 3600 }, "nodes.churn.joins_per_hour"},
		{"too many servers", func(s *Scenario) { s.Servers.Communities.Count = docker.MaxServers + 1 }, "servers.communities.count"},
		{"too many clients", func(s *Scenario) { s.Clients.Count = docker.MaxClients + 1 }, "clients.count"},
		// A sybil adversary's nodes need containers and addresses as joining nodes do.
		{"too many sybil nodes", func(s *Scenario) {
			s.Nodes.Count = docker.MaxNodes - 2
			s.Leakage.Adversaries = []Adversary{{Kind: "sybil", Fraction: 0.1}}
		}, "leakage.adversaries"},
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
	assert.NoError(t, base().validateDocker(), "without a leakage section the clients may share the gateway")
	// The leakage section (link taps alone too) needs each client an address of its own.
	for _, l := range []Leakage{{Adversaries: []Adversary{{Kind: "random"}}}, {LinkTaps: true}} {
		sc := base()
		sc.Leakage = l
		var e *Error
		require.ErrorAs(t, sc.validateDocker(), &e)
		assert.Equal(t, "leakage", e.Key)
		assert.ErrorContains(t, e, "not root here")
		assert.ErrorContains(t, e, "or run the leakage section with mode=live")
	}
	dockerClientAddrsPreflight = func() error { return nil }
	// What docker mode applies: crashes and churn (kill), joins (containers reserved at
	// start), degrades (the link model and the nodes' link tables; the phones' and the file
	// server's links in the link model, loss included), the file server's crash, clients
	// offline, and partitions where the packet filter can be changed; the push server, the
	// file server and the community servers run in the harness, where the nodes reach them;
	// the leakage section, sybil nodes (joins) and link taps included.
	applied := base()
	applied.Servers.Push.Enabled, applied.Workload.Attachments.Share, applied.Servers.Communities.Count = true, 0.1, 3
	applied.Nodes.Churn.CrashesPerHour, applied.Nodes.Churn.LifetimeMedian, applied.Nodes.Churn.JoinsPerHour = 1, time.Hour, 60
	applied.Faults = []Fault{{Kind: "crash", Target: "largest-operator", Count: 1}, {Kind: "degrade", Count: 2, AddedLatency: time.Second, Loss: 0.1},
		{Kind: "degrade", Target: "phones", Fraction: 0.5, AddedLatency: time.Second, Loss: 0.05}, {Kind: "offline", Fraction: 0.1, For: time.Minute},
		{Kind: "crash", Target: "file-server", For: time.Minute}, {Kind: "degrade", Target: "file-server", AddedLatency: time.Second, Loss: 0.05}}
	applied.Leakage = Leakage{LinkTaps: true, Adversaries: []Adversary{{Kind: "random"}, {Kind: "sybil", Fraction: 0.1}, {Kind: "operator"}}}
	assert.NoError(t, applied.validateDocker())
	applied.Faults = append(applied.Faults, Fault{Kind: "partition", Regions: []string{"eu-west-1"}})
	var e *Error
	require.ErrorAs(t, applied.validateDocker(), &e, "a partition needs the packet filter")
	assert.Equal(t, "faults", e.Key)
	assert.ErrorContains(t, e, "no packet filter here")
	dockerFilterPreflight = func() error { return nil }
	assert.NoError(t, applied.validateDocker())
}
