package proc_test

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/live/storeburst"
)

// buildBinary builds sessionsim into dir, as a user's `go build` would.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sessionsim")
	// The test's own build settings, so that go test's build cache serves most packages.
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sessionsim/sessionsim/cmd/sessionsim")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// process is one running sessionsim process of a test, its log in a file.
type process struct {
	name string
	args []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// cluster is a registry and nodes as processes on loopback addresses of the test's own.
type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	net   string // "127.a.b.": the test's /24
	procs map[string]*process
	mu    sync.Mutex
}

func newCluster(t *testing.T) *cluster {
	dir := t.TempDir()
	// A /24 drawn at random keeps parallel runs of the test (and other engineers' processes)
	// apart.
	net := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(100), 1+rand.IntN(250))
	c := &cluster{t: t, bin: buildBinary(t, dir), dir: dir, net: net, procs: map[string]*process{}}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.procs {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			for _, p := range c.procs {
				b, _ := os.ReadFile(p.log)
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("log of %s (end):\n%s", p.name, b)
			}
		}
	})
	return c
}

func (c *cluster) ip(i int) string         { return fmt.Sprintf("%s%d", c.net, i) }
func (c *cluster) addr(i int) string       { return c.ip(i) + ":22021" }
func (c *cluster) adminURL(i int) string   { return "http://" + c.ip(i) + ":9000" }
func (c *cluster) storageURL(i int) string { return "https://" + c.addr(i) + "/storage_rpc/v1" }

// start runs the process name with args (its log appended to name.log).
func (c *cluster) start(name string, args ...string) {
	c.t.Helper()
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(c.t, err)
	cmd := exec.Command(c.bin, args...)
	cmd.Stderr, cmd.Stdout = f, f
	require.NoError(c.t, cmd.Start())
	p := &process{name: name, args: args, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = f.Close(); close(p.done) }()
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
}

// kill ends name with SIGKILL and waits for it.
func (c *cluster) kill(name string) {
	c.mu.Lock()
	p := c.procs[name]
	c.mu.Unlock()
	// Called from a sender's goroutine: Error, not FailNow.
	if err := p.cmd.Process.Kill(); err != nil {
		c.t.Errorf("killing %s: %v", name, err)
	}
	<-p.done
}

// restart starts name again with the arguments it had.
func (c *cluster) restart(name string) {
	c.mu.Lock()
	p := c.procs[name]
	c.mu.Unlock()
	c.start(name, p.args...)
}

var adminClient = &http.Client{Timeout: 5 * time.Second}

// waitHealthy waits until the admin endpoint at i answers 200 on /health.
func (c *cluster) waitHealthy(i int) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		resp, err := adminClient.Get(c.adminURL(i) + "/health")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "%s never became healthy", c.ip(i))
}

// startNetwork starts the registry (at .1) and nodes at .11, .12, ... and waits until every
// node serves.
func (c *cluster) startNetwork(nodes int) {
	args := []string{"registry", "--listen", c.addr(1), "--admin", c.ip(1) + ":9000", "--block-interval", "10s"}
	for i := range nodes {
		args = append(args, "--node", fmt.Sprintf("n%d=%s", i, c.addr(11+i)))
	}
	c.start("registry", args...)
	c.waitHealthy(1)
	for i := range nodes {
		c.start(fmt.Sprintf("n%d", i), "node", "--name", fmt.Sprintf("n%d", i), "--listen", c.addr(11+i),
			"--registry", c.addr(1), "--db", filepath.Join(c.dir, fmt.Sprintf("n%d.db", i)),
			"--admin", c.ip(11+i)+":9000", "--list-poll", "1s")
	}
	for i := range nodes {
		c.waitHealthy(11 + i)
	}
}

// TestCrashSafety kills a node with SIGKILL in the middle of a burst of stores, restarts it with
// the same address and database, and checks that every store a node answered 200 is in the
// restarted node's database or on one of its swarm peers (the four nodes form one swarm).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs five processes")
	}
	const (
		nodes  = 4
		victim = 1 // node n1
	)
	begin := time.Now()
	c := newCluster(t)
	t.Logf("built in %v", time.Since(begin).Round(time.Millisecond))
	c.startNetwork(nodes)
	t.Logf("network up at %v", time.Since(begin).Round(time.Millisecond))

	// Garbage over HTTPS is answered with an error, and the node keeps serving.
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, body := range []string{"", "{", `{"method":"store","params":{"pubkey":"zz"}}`, "\x00\xff garbage"} {
		resp, err := insecure.Post(c.storageURL(11), "application/json", strings.NewReader(body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.GreaterOrEqual(t, resp.StatusCode, 400, "body %q", body)
		assert.Less(t, resp.StatusCode, 500, "body %q", body)
	}
	c.waitHealthy(11)

	urls := make([]string, nodes)
	for i := range nodes {
		urls[i] = c.storageURL(11 + i)
	}
	res, err := storeburst.Run(storeburst.Config{URLs: urls, Victim: victim, Stores: 400, Workers: 8, KillAt: 400 / 3,
		Kill: func() { c.kill(fmt.Sprintf("n%d", victim)) }})
	require.NoError(t, err)
	t.Logf("burst over at %v; answers by status (0: no answer): %v", time.Since(begin).Round(time.Millisecond), res.Status)

	c.restart(fmt.Sprintf("n%d", victim))
	c.waitHealthy(11 + victim)
	t.Logf("restarted at %v", time.Since(begin).Round(time.Millisecond))
	held := make([]map[string]bool, nodes)
	for i := range nodes {
		held[i], err = storeburst.Hashes(c.adminURL(11 + i))
		require.NoError(t, err)
	}
	v := storeburst.Check(res.Acked, held, victim)
	t.Logf("%d stores answered 200 (%d by the killed node, %d of those in its database after restart)", len(res.Acked), v.ByVictim, v.VictimKept)
	assert.Empty(t, v.Lost, "stores answered 200 that no node holds")
	require.NotZero(t, v.ByVictim, "the burst must reach the killed node before it dies")
	// The node answers 200 only after its own store committed the message (WAL, synchronous
	// NORMAL survives a killed process), so whatever it acknowledged is in its database.
	assert.Equal(t, v.ByVictim, v.VictimKept, "stores the killed node acknowledged but lost from its own database")

	// SIGWINCH (dockertest's stop signal) stops a node gracefully: exit status 0.
	p := c.procs["n0"]
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGWINCH))
	select {
	case <-p.done:
		assert.Equal(t, 0, p.cmd.ProcessState.ExitCode())
	case <-time.After(10 * time.Second):
		t.Error("n0 did not stop within 10s of SIGWINCH")
	}
}
