package docker

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"

	"github.com/sessionsim/sessionsim/live/proc"
)

// Ports every container uses on its own address.
const (
	ServicePort = 22021 // HTTPS: storage RPC, onion, node-to-node, the registry's API
	AdminPort   = 9000  // plain HTTP: the admin endpoint
	// MaxNodes is what one run's /16 network holds: node i at .(i+1).10, a /24 of its own,
	// because the apps take at most one node per /24 into their paths (client/paths.go); the
	// registry at .0.2, the harness at the gateway .0.1, the harness's servers from .0.3.
	MaxNodes = 254
	// MaxServers is how many servers the harness can run on the network (ServerAddr).
	MaxServers = 200
	// dataDir is where a node keeps its database in its container.
	dataDir = "/data"
)

// Config sets up a Cluster.
type Config struct {
	// Binary is the static sessionsim executable the image is built around.
	Binary string
	// Nodes is how many service nodes run from the start (1 to MaxNodes).
	Nodes int
	// Joins is how many nodes may join the running network (AddNode), counted with Nodes
	// against MaxNodes and the machine's capacity.
	Joins int
	// Seed derives the nodes' keys and the swarms.
	Seed uint64
	// BlockInterval is the registry's block interval (0: the network's 2m).
	BlockInterval time.Duration
	// ListPoll is how often nodes ask the registry for its list (0: the node's default).
	ListPoll time.Duration
	// Servers are the host names of the servers the harness runs (file server, push server)
	// that the nodes proxy onion requests to: server i is at ServerAddr(i), which the nodes
	// are told at start (node --server), as a real node resolves the name.
	Servers []string
	// Log receives what the cluster does (default slog.Default()).
	Log *slog.Logger
}

// Cluster is one run's registry and nodes in containers. Close removes everything it made.
type Cluster struct {
	pool   *dockertest.Pool
	cfg    Config
	log    *slog.Logger
	run    string
	image  string
	netID  string
	prefix netip.Prefix
	nodes  []proc.Member

	mu  sync.Mutex
	ids map[string]string // container name -> id
	// follow is what FollowNodes follows the streams with, for the nodes that join later
	// (nil until it is called).
	follow *follower
}

// Registry is the registry's container name; node i's is NodeName(i).
const Registry = "registry"

// NodeName is node i's name, in the roster and as a container (prefixed by the run).
func NodeName(i int) string { return fmt.Sprintf("n%d", i) }

// Start builds the image, makes the network and starts the registry and the nodes, waiting
// until each serves. It refuses a run the engine's machine cannot hold (ErrTooMany) and raises
// the kernel's neighbour table for a large one. On any failure it removes what it made.
func Start(pool *dockertest.Pool, cfg Config) (c *Cluster, err error) {
	if cfg.Nodes < 1 || cfg.Joins < 0 || cfg.Nodes+cfg.Joins > MaxNodes {
		return nil, fmt.Errorf("docker: %d nodes and %d joining: a run's network holds 1 to %d", cfg.Nodes, cfg.Joins, MaxNodes)
	}
	if len(cfg.Servers) > MaxServers {
		return nil, fmt.Errorf("docker: %d servers: a run's network holds at most %d", len(cfg.Servers), MaxServers)
	}
	if err := CheckStatic(cfg.Binary); err != nil {
		return nil, err
	}
	if err := CheckCapacity(pool, cfg.Nodes+cfg.Joins+1); err != nil {
		return nil, err
	}
	var id [4]byte
	_, _ = crand.Read(id[:])
	run := hex.EncodeToString(id[:])
	c = &Cluster{pool: pool, cfg: cfg, log: cfg.Log, run: run, image: "sessionsim-run:" + run, ids: map[string]string{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("run", run)
	defer func() {
		if err != nil {
			_ = c.Close()
			c = nil
		}
	}()
	RaiseNeighbourTable(cfg.Nodes+cfg.Joins+1, c.log)
	if err := c.build(); err != nil {
		return c, err
	}
	if err := c.network(); err != nil {
		return c, err
	}
	for i := range cfg.Nodes {
		c.nodes = append(c.nodes, proc.Member{Name: NodeName(i), Addr: netip.AddrPortFrom(nodeAddr(c.prefix, i), ServicePort)})
	}
	if err := c.start(Registry, c.registryArgs(), addrIn(c.prefix, 2)); err != nil {
		return c, err
	}
	if err := c.waitHealthy(addrIn(c.prefix, 2)); err != nil {
		return c, fmt.Errorf("docker: the registry did not come up: %w", err)
	}
	for _, m := range c.nodes {
		if err := c.start(m.Name, c.nodeArgs(m), m.Addr.Addr()); err != nil {
			return c, err
		}
	}
	for _, m := range c.nodes {
		if err := c.waitHealthy(m.Addr.Addr()); err != nil {
			return c, fmt.Errorf("docker: node %s did not come up: %w", m.Name, err)
		}
	}
	c.log.Info("docker cluster up", "nodes", cfg.Nodes, "network", c.prefix.String())
	return c, nil
}

// Run is the run's label value.
func (c *Cluster) Run() string { return c.run }

// Nodes is the roster: names and addresses, the nodes that joined (AddNode) after the first.
func (c *Cluster) Nodes() []proc.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// RegistryAddr is the registry's HTTPS address.
func (c *Cluster) RegistryAddr() netip.AddrPort {
	return netip.AddrPortFrom(addrIn(c.prefix, 2), ServicePort)
}

// AdminURL is the admin endpoint of the container at ip.
func AdminURL(ip netip.Addr) string { return "http://" + netip.AddrPortFrom(ip, AdminPort).String() }

func (c *Cluster) labels() map[string]string {
	return map[string]string{LabelRun: c.run, LabelPID: strconv.Itoa(os.Getpid())}
}

func (c *Cluster) build() error {
	ctx, err := buildContext(c.cfg.Binary)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	begin := time.Now()
	if err := c.pool.Client.BuildImage(dc.BuildImageOptions{Name: c.image, InputStream: ctx, OutputStream: &out,
		Labels: c.labels(), RmTmpContainer: true, ForceRmTmpContainer: true}); err != nil {
		return fmt.Errorf("docker: building the image: %w: %s", err, lastLines(out.String()))
	}
	// The image must exist before a container is made of it: dockertest would try to pull a
	// tag it cannot find.
	if _, err := c.pool.Client.InspectImage(c.image); err != nil {
		return fmt.Errorf("docker: the image %s was not built: %w: %s", c.image, err, lastLines(out.String()))
	}
	c.log.Info("image built", "image", c.image, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

// nodeAddr is node i's address in the run's network prefix (see MaxNodes).
func nodeAddr(prefix netip.Prefix, i int) netip.Addr { return addrIn(prefix, (i+1)*256+10) }

// network makes the run's bridge network on a /16 of 10.128.0.0/9 drawn at random, drawing again
// when the engine says it overlaps one in use.
func (c *Cluster) network() error {
	var err error
	for range 8 {
		c.prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(128 + rand.IntN(120)), 0, 0}), 16)
		var n *dockertest.Network
		n, err = c.pool.CreateNetwork("sessionsim-"+c.run, func(o *dc.CreateNetworkOptions) {
			o.Driver, o.Labels, o.CheckDuplicate = "bridge", c.labels(), true
			// Named, so that the clients' addresses can be added to it (AddClientAddrs).
			o.Options = map[string]any{"com.docker.network.bridge.name": c.bridge()}
			o.IPAM = &dc.IPAMOptions{Config: []dc.IPAMConfig{{Subnet: c.prefix.String(), Gateway: addrIn(c.prefix, 1).String()}}}
		})
		if err == nil {
			c.netID = n.Network.ID
			return nil
		}
	}
	return fmt.Errorf("docker: creating the run's network: %w", err)
}

// bridge is the name of the run network's interface on the engine's machine (at most 15
// characters, as Linux allows).
func (c *Cluster) bridge() string { return "ssim-" + c.run }

// MaxClients is how many client addresses a run's network has (ClientAddr).
const MaxClients = MaxNodes * clientsPerBlock

// clientsPerBlock is how many clients share a node's /24 (.11 to .250, the node at .10).
const clientsPerBlock = 240

// ClientAddr is client k's address in the run's network: in the /24s of the nodes, after them.
func (c *Cluster) ClientAddr(k int) netip.Addr {
	return addrIn(c.prefix, (k/clientsPerBlock+1)*256+11+k%clientsPerBlock)
}

// ServerAddr is where the harness runs server i of Config.Servers on the run's network.
func (c *Cluster) ServerAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(addrIn(c.prefix, 3+i), ServicePort)
}

// AddClientAddrs gives the engine machine's end of the run network the addresses of n clients
// (ClientAddr) and of the servers (ServerAddr), so that actors running in the harness (docker
// mode's clients and servers) each have an address of their own on the network, which the
// nodes reach and tell apart as they would on the real network. They go with the network's
// interface when the run is removed. It needs root and the ip command on the engine's machine
// (a local engine).
func (c *Cluster) AddClientAddrs(n int) ([]netip.Addr, error) {
	if err := CheckClientAddrs(); err != nil {
		return nil, err
	}
	if n > MaxClients {
		return nil, fmt.Errorf("docker: %d clients: a run's network holds %d", n, MaxClients)
	}
	var batch strings.Builder
	addrs := make([]netip.Addr, n)
	for k := range addrs {
		addrs[k] = c.ClientAddr(k)
		fmt.Fprintf(&batch, "address add %s/32 dev %s\n", addrs[k], c.bridge())
	}
	for i := range c.cfg.Servers {
		fmt.Fprintf(&batch, "address add %s/32 dev %s\n", c.ServerAddr(i).Addr(), c.bridge())
	}
	cmd := exec.Command("ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker: adding the clients' addresses to %s: %w: %s", c.bridge(), err, lastLines(string(out)))
	}
	return addrs, nil
}

// CheckClientAddrs says whether AddClientAddrs can work here: it needs root and the ip
// command.
func CheckClientAddrs() error {
	if os.Geteuid() != 0 {
		return errors.New("docker: adding the clients' addresses to the run's network needs root on the engine's machine")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("docker: adding the clients' addresses to the run's network needs the ip command (iproute2): %w", err)
	}
	return nil
}

func (c *Cluster) registryArgs() []string {
	args := []string{"registry", "--listen", c.RegistryAddr().String(), "--admin", netip.AddrPortFrom(addrIn(c.prefix, 2), AdminPort).String(),
		"--seed", strconv.FormatUint(c.cfg.Seed, 10), "--block-interval", c.cfg.BlockInterval.String()}
	for _, m := range c.nodes {
		args = append(args, "--node", m.Name+"="+m.Addr.String())
	}
	return args
}

func (c *Cluster) nodeArgs(m proc.Member) []string {
	args := []string{"node", "--name", m.Name, "--listen", m.Addr.String(), "--registry", c.RegistryAddr().String(),
		"--db", dataDir + "/node.db", "--admin", netip.AddrPortFrom(m.Addr.Addr(), AdminPort).String(),
		"--seed", strconv.FormatUint(c.cfg.Seed, 10), "--list-poll", c.cfg.ListPoll.String()}
	for k, host := range c.cfg.Servers {
		args = append(args, "--server", host+"="+c.ServerAddr(k).String())
	}
	return args
}

// start creates and starts a container at ip. The container is made through the pool's client
// rather than RunWithOptions, which cannot give an address on a network; no port is published
// (the harness reaches the containers on the bridge).
func (c *Cluster) start(name string, args []string, ip netip.Addr) error {
	cname := "sessionsim-" + c.run + "-" + name
	ct, err := c.pool.Client.CreateContainer(dc.CreateContainerOptions{
		Name:       cname,
		Config:     &dc.Config{Image: c.image, Cmd: args, Labels: c.labels(), StopSignal: "SIGTERM"},
		HostConfig: &dc.HostConfig{NetworkMode: c.netID, RestartPolicy: dc.NeverRestart()},
		NetworkingConfig: &dc.NetworkingConfig{EndpointsConfig: map[string]*dc.EndpointConfig{
			c.netID: {IPAMConfig: &dc.EndpointIPAMConfig{IPv4Address: ip.String()}},
		}},
	})
	if err != nil {
		return fmt.Errorf("docker: creating container %s: %w", cname, err)
	}
	c.mu.Lock()
	c.ids[name] = ct.ID
	c.mu.Unlock()
	if err := c.pool.Client.StartContainer(ct.ID, nil); err != nil {
		return fmt.Errorf("docker: starting container %s: %w", cname, err)
	}
	return nil
}

func (c *Cluster) id(name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[name]
	if !ok {
		return "", fmt.Errorf("docker: no container %s in this run", name)
	}
	return id, nil
}

var adminClient = &http.Client{Timeout: 2 * time.Second}

// waitHealthy waits until the admin endpoint at ip answers 200 on /health (a minute at most).
func (c *Cluster) waitHealthy(ip netip.Addr) error {
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		resp, err := adminClient.Get(AdminURL(ip) + "/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/health answered %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// Kill sends SIGKILL to a container (a crash: no graceful stop).
func (c *Cluster) Kill(name string) error {
	id, err := c.id(name)
	if err != nil {
		return err
	}
	c.log.Info("kill", "container", name)
	if err := c.pool.Client.KillContainer(dc.KillContainerOptions{ID: id, Signal: dc.SIGKILL}); err != nil {
		return err
	}
	// Wait until the engine sees it stopped, so that a restart does not race the kill.
	_, err = c.pool.Client.WaitContainer(id)
	return err
}

// Restart starts a stopped container again: same address, same database, and waits until it
// serves.
func (c *Cluster) Restart(name string) error {
	id, err := c.id(name)
	if err != nil {
		return err
	}
	c.log.Info("restart", "container", name)
	if err := c.pool.Client.StartContainer(id, nil); err != nil {
		return err
	}
	ct, err := c.pool.Client.InspectContainer(id)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(ct.NetworkSettings.Networks[firstKey(ct.NetworkSettings.Networks)].IPAddress)
	if err != nil {
		return fmt.Errorf("docker: %s has no address after restart: %w", name, err)
	}
	return c.waitHealthy(ip)
}

func firstKey[V any](m map[string]V) string {
	for k := range m {
		return k
	}
	return ""
}

// Pause freezes a container (a hang: its sockets stay open, nothing answers).
func (c *Cluster) Pause(name string) error {
	id, err := c.id(name)
	if err != nil {
		return err
	}
	return c.pool.Client.PauseContainer(id)
}

// Unpause lets a paused container run again.
func (c *Cluster) Unpause(name string) error {
	id, err := c.id(name)
	if err != nil {
		return err
	}
	return c.pool.Client.UnpauseContainer(id)
}

// SetFaults replaces the link table of the container at ip (partition, added latency).
func SetFaults(ip netip.Addr, s proc.FaultState) error {
	return postAdmin(ip, "/fault", s)
}

// Halt tells the registry that a node's machine is down (after Kill: its oxend casts no more
// quorum votes), as the simulator's world tells its registry.
func (c *Cluster) Halt(name string) error {
	return postAdmin(c.RegistryIP(), "/halt", map[string]string{"node": name})
}

// Unhalt tells the registry that a node's machine runs again (after Restart or Unpause): its
// oxend votes again.
func (c *Cluster) Unhalt(name string) error {
	return postAdmin(c.RegistryIP(), "/unhalt", map[string]string{"node": name})
}

// Usage is what a container's process reports of its own work (GET /stats).
type Usage struct {
	// Bytes is every byte it wrote on its service connections (TLS and HTTP included).
	Bytes uint64
	// CPU is its CPU time, user and system.
	CPU time.Duration
}

// ReadUsage asks the process in the container at ip for its Usage.
func ReadUsage(ip netip.Addr) (Usage, error) {
	resp, err := adminClient.Get(AdminURL(ip) + "/stats")
	if err != nil {
		return Usage{}, err
	}
	defer resp.Body.Close()
	var st struct {
		Links      proc.LinkStats `json:"links"`
		CPUSeconds float64        `json:"cpu_seconds"`
	}
	if resp.StatusCode != http.StatusOK {
		return Usage{}, fmt.Errorf("docker: GET /stats of %v: %s", ip, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return Usage{}, fmt.Errorf("docker: GET /stats of %v: %w", ip, err)
	}
	return Usage{Bytes: st.Links.Bytes, CPU: time.Duration(st.CPUSeconds * float64(time.Second))}, nil
}

// RegistryIP is the registry container's address.
func (c *Cluster) RegistryIP() netip.Addr { return addrIn(c.prefix, 2) }

// postAdmin posts v as JSON to path on the admin endpoint of the container at ip.
func postAdmin(ip netip.Addr, path string, v any) error {
	body, _ := json.Marshal(v)
	resp, err := adminClient.Post(AdminURL(ip)+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("docker: POST %s of %v: %s: %s", path, ip, resp.Status, b)
	}
	return nil
}

// Close removes the run's containers, network and image.
func (c *Cluster) Close() error {
	o, err := remove(c.pool, c.run, func(map[string]string) bool { return false })
	c.log.Info("docker run removed", "containers", o.Containers, "networks", o.Networks, "images", o.Images, "rules", o.Rules)
	if err != nil {
		return fmt.Errorf("docker: removing run %s: %w", c.run, err)
	}
	return nil
}

// ErrTooMany is returned when the engine's machine cannot hold the containers a run asks for.
var ErrTooMany = errors.New("docker: more containers than the machine can hold")

// CloseOnInterrupt removes the run when the harness gets SIGINT or SIGTERM (Ctrl-C), then ends
// the harness with exit status 130, so that an interrupted run leaves nothing behind. Call the
// function it returns once the run is closed normally.
func (c *Cluster) CloseOnInterrupt() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			c.log.Warn("interrupted: removing the run's containers, network and image", "signal", sig.String())
			_ = c.Close()
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// AddNode is a node joining the running network: the next name and address of the roster (at
// most Config.Joins of them), for StartNode.
func (c *Cluster) AddNode() (proc.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.nodes)
	if i >= c.cfg.Nodes+c.cfg.Joins {
		return proc.Member{}, fmt.Errorf("docker: node %d would join a run started for %d nodes and %d joining", i, c.cfg.Nodes, c.cfg.Joins)
	}
	m := proc.Member{Name: NodeName(i), Addr: netip.AddrPortFrom(nodeAddr(c.prefix, i), ServicePort)}
	c.nodes = append(c.nodes, m)
	return m, nil
}

// StartNode registers a node AddNode gave with the registry's container (POST /register: it is
// listed from the next block, as a joining node is), starts its container, as Start starts the
// first ones, and follows its events if FollowNodes follows the others. It returns once the
// node's admin endpoint answers, before the node is in a swarm (that waits for the registry's
// next block).
func (c *Cluster) StartNode(m proc.Member) error {
	if err := postAdmin(c.RegistryIP(), "/register", map[string]string{"node": m.Name + "=" + m.Addr.String()}); err != nil {
		return fmt.Errorf("docker: registering node %s: %w", m.Name, err)
	}
	if err := c.start(m.Name, c.nodeArgs(m), m.Addr.Addr()); err != nil {
		return err
	}
	c.mu.Lock()
	if c.follow != nil {
		// Under the lock: the follower's stop, which clears c.follow first, waits for it.
		c.follow.add(m, c.log)
	}
	c.mu.Unlock()
	return c.waitAnswers(m.Addr.Addr())
}

// waitAnswers waits until the admin endpoint at ip answers at all (a minute at most): a node
// answers 503 on /health until it is in a swarm.
func (c *Cluster) waitAnswers(ip netip.Addr) error {
	deadline := time.Now().Add(time.Minute)
	var err error
	for time.Now().Before(deadline) {
		var resp *http.Response
		if resp, err = adminClient.Get(AdminURL(ip) + "/health"); err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("docker: %v did not answer: %w", ip, err)
}
