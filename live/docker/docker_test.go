package docker

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/live/storeburst"
)

func TestCapacity(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		n      int
		mem    int64
		refuse bool
	}{
		{n: 12, mem: 24 * gib},
		{n: 700, mem: 24 * gib},
		{n: 800, mem: 24 * gib, refuse: true},
		{n: 40, mem: gib, refuse: true},
	}
	for _, tt := range tests {
		err := capacity(tt.n, tt.mem)
		if tt.refuse {
			assert.ErrorIs(t, err, ErrTooMany, "%d containers in %d MB", tt.n, tt.mem>>20)
			continue
		}
		assert.NoError(t, err, "%d containers in %d MB", tt.n, tt.mem>>20)
	}
}

func TestAddrIn(t *testing.T) {
	p := netip.MustParsePrefix("10.200.7.0/24")
	assert.Equal(t, netip.MustParseAddr("10.200.7.2"), addrIn(p, 2))
	assert.Equal(t, netip.MustParseAddr("10.200.8.4"), addrIn(p, 260))
	// Every node in a /24 of its own: a path takes at most one node per /24.
	q := netip.MustParsePrefix("10.130.0.0/16")
	assert.Equal(t, netip.MustParseAddr("10.130.1.10"), nodeAddr(q, 0))
	assert.Equal(t, netip.MustParseAddr("10.130.254.10"), nodeAddr(q, MaxNodes-1))
	// The clients after the node in each /24.
	c := &Cluster{prefix: q}
	for k, want := range map[int]string{0: "10.130.1.11", 239: "10.130.1.250", 240: "10.130.2.11", MaxClients - 1: "10.130.254.250"} {
		assert.Equal(t, netip.MustParseAddr(want), c.ClientAddr(k), "client %d", k)
	}
}

// TestAddNodeReserved: the joining nodes take the next names and /24s of the run, up to the
// number reserved at start, and a start whose nodes and joins exceed the network is refused
// before anything is made.
func TestAddNodeReserved(t *testing.T) {
	q := netip.MustParsePrefix("10.130.0.0/16")
	c := &Cluster{prefix: q, cfg: Config{Nodes: 2, Joins: 2}, nodes: []proc.Member{{Name: "n0"}, {Name: "n1"}}}
	for i, want := range []string{"10.130.3.10", "10.130.4.10"} {
		m, err := c.AddNode()
		require.NoError(t, err)
		assert.Equal(t, proc.Member{Name: NodeName(2 + i), Addr: netip.AddrPortFrom(netip.MustParseAddr(want), ServicePort)}, m)
	}
	_, err := c.AddNode()
	assert.ErrorContains(t, err, "2 joining")
	assert.Len(t, c.Nodes(), 4)
	_, err = Start(nil, Config{Nodes: MaxNodes - 1, Joins: 2})
	assert.ErrorContains(t, err, "a run's network holds 1 to 254")
}

func TestCheckStaticRefusesDynamic(t *testing.T) {
	// The test binary itself is dynamic when built with cgo; a text file is no executable.
	txt := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(txt, []byte("hello"), 0o644))
	assert.ErrorContains(t, CheckStatic(txt), "not an ELF")
}

// TestDockerCrashSafety is docker mode's crash test (make test-docker): the registry and 12
// nodes in containers on a network of their own, a burst of stores from the harness, one node
// killed with SIGKILL mid-burst and restarted with the same address and database; every store
// answered 200 must be in its database or on its peers. Hang (pause) and the fault switch are
// exercised too, and nothing labelled with the run may remain afterwards, even if the test
// fails halfway (t.Cleanup).
func TestDockerCrashSafety(t *testing.T) {
	if os.Getenv("SESSIONSIM_TEST_DOCKER") == "" {
		t.Skip("set SESSIONSIM_TEST_DOCKER=1 (make test-docker) to run containers")
	}
	// Beside scenarios' docker-mode worlds, in the lane it shares with two of them (make
	// test-docker runs the packages at once; scenarios' dockerLanes).
	testkit.Lane(t, testkit.DockerLanes, 0)
	pool, err := Connect()
	require.NoError(t, err)
	// A partition rule left by a harness that died (a process that has exited) is swept like
	// its containers; no other run sweeps in between (testkit.DockerSweeps).
	sweeping := testkit.Exclusive(t, testkit.DockerSweeps)
	require.NoError(t, CheckFilter())
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	ips := []netip.Addr{netip.MustParseAddr("10.255.1.10"), netip.MustParseAddr("10.255.2.10")}
	_, err = iptables(partitionRules("-I", "stale000", gone.Process.Pid, 0, ips[:1], ips[1:]), "--noflush")
	require.NoError(t, err)
	swept, err := Sweep(pool)
	require.NoError(t, err)
	t.Logf("swept from earlier runs: %+v", swept)
	assert.GreaterOrEqual(t, swept.Rules, 2, "the dead harness's rules")
	left, err := Count(pool, "stale000")
	require.NoError(t, err)
	assert.Zero(t, left.Rules)
	sweeping()

	dir := t.TempDir()
	bin := filepath.Join(dir, "sessionsim")
	// Built as scenarios' docker tests build it, from the packages this test was compiled with.
	build := exec.Command("go", "build", "-o", bin, "github.com/sessionsim/sessionsim/cmd/sessionsim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	const nodes = 12
	begin := time.Now()
	c, err := Start(pool, Config{Binary: bin, Nodes: nodes, Seed: 5, BlockInterval: 10 * time.Second, ListPoll: time.Second})
	if c != nil {
		run := c.Run()
		stop := c.CloseOnInterrupt()
		t.Cleanup(func() {
			stop()
			assert.NoError(t, c.Close())
			left, err := Count(pool, run)
			assert.NoError(t, err)
			assert.Equal(t, Objects{}, left, "objects of run %s left behind", run)
		})
	}
	require.NoError(t, err)
	t.Logf("%d nodes up in %v", nodes, time.Since(begin).Round(time.Millisecond))

	members := c.Nodes()
	urls := make([]string, nodes)
	for i, m := range members {
		urls[i] = "https://" + m.Addr.String() + "/storage_rpc/v1"
	}
	const victim = 3
	res, err := storeburst.Run(storeburst.Config{URLs: urls, Victim: victim, Stores: 300, Workers: 8, KillAt: 200,
		Kill: func() { assert.NoError(t, c.Kill(NodeName(victim))) }})
	require.NoError(t, err)
	t.Logf("burst: answers by status (0: no answer): %v", res.Status)
	require.NoError(t, c.Restart(NodeName(victim)))

	held := make([]map[string]bool, nodes)
	for i, m := range members {
		held[i], err = storeburst.Hashes(AdminURL(m.Addr.Addr()))
		require.NoError(t, err)
	}
	v := storeburst.Check(res.Acked, held, victim)
	t.Logf("%d stores answered 200 (%d by the killed node, %d of those in its database after restart)", len(res.Acked), v.ByVictim, v.VictimKept)
	assert.Empty(t, v.Lost, "stores answered 200 that no node holds")
	require.NotZero(t, v.ByVictim, "the burst must reach the killed node before it dies")
	assert.Equal(t, v.ByVictim, v.VictimKept)

	// Hang: a paused node answers nothing until it is unpaused.
	hung := members[5].Addr.Addr()
	require.NoError(t, c.Pause(NodeName(5)))
	_, err = storeburst.Hashes(AdminURL(hung))
	assert.Error(t, err, "a paused node must not answer")
	require.NoError(t, c.Unpause(NodeName(5)))
	_, err = storeburst.Hashes(AdminURL(hung))
	assert.NoError(t, err)

	// Added latency through the fault switch, set and lifted.
	require.NoError(t, SetFaults(members[0].Addr.Addr(), proc.FaultState{LatencyMS: 20}))
	require.NoError(t, SetFaults(members[0].Addr.Addr(), proc.FaultState{}))

	// A partition: node 0 against the others, a rule each way per pair, labelled with the
	// run, gone once healed (what it does to the traffic: TestDockerModeRunsAWorld).
	others := make([]netip.Addr, 0, nodes-1)
	for _, m := range members[1:] {
		others = append(others, m.Addr.Addr())
	}
	require.NoError(t, CheckFilter())
	require.NoError(t, c.Partition(0, []netip.Addr{members[0].Addr.Addr()}, others))
	o, err := Count(pool, c.Run())
	require.NoError(t, err)
	assert.Equal(t, 2*(nodes-1), o.Rules)
	require.NoError(t, c.Heal(0))
	o, err = Count(pool, c.Run())
	require.NoError(t, err)
	assert.Zero(t, o.Rules)
	// One left in place for Close to remove (checked by the cleanup).
	require.NoError(t, c.Partition(1, []netip.Addr{members[0].Addr.Addr()}, others[:1]))
}

func TestConnectWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	_, err := Connect()
	assert.ErrorIs(t, err, ErrNoEngine)
	assert.ErrorContains(t, err, "none answered")
}
