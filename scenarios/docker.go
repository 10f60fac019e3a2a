package scenarios

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/live/docker"
	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/live/storeburst"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// Docker mode: the registry (also the clients' seed node) and every service node run as
// `sessionsim registry` / `sessionsim node` processes in containers of their own
// (live/docker), at their container addresses; the clients run in this process on the live
// driver, each bound to an address of its own on the run's network (added to the network's
// interface on this machine), so that the nodes can reach them, and the world's link model
// shapes their connections to the nodes in both directions on this side (linkconn's
// WrapDuplex: the nodes shape nothing). The nodes' events the collector reads (node.MessageStored,
// node.ReplicationSent, node.SwarmDataMoved) and the registry's (blocks, decommissions,
// deregistrations) come over each process's GET /events and go to the same sinks as the
// clients' events, under the world lock. The scenario's faults are applied to the
// containers: crash = kill, degrade = the world's link model (the clients' links) and every
// node's link table (the nodes' links to each other), partition = packet-filter rules
// (live/docker). A node joining the run (nodes.churn.joins_per_hour) gets a container of its
// own on the run's network, reserved at start (docker.Config.Joins), registered with the
// registry's container.
//
// The file server, the push server and the community servers run in this process too, on the
// live driver, each at an address of its own on the run's network (docker.Cluster.ServerAddr),
// which the nodes are told at start by host name (node --server), as a real node resolves it:
// the nodes proxy onion requests and send notify.message there, and the push server
// subscribes on the nodes with monitor.messages and asks the registry's container for the
// list. Their connections are shaped by the link model like the clients', so file-server
// faults act on them as in live mode.

// BinaryEnv names the static sessionsim executable the containers run; without it the running
// executable is used (which must then be static: make build).
const BinaryEnv = "SESSIONSIM_DOCKER_BINARY"

// dockerBinary is the executable the image is built around.
func dockerBinary() (string, error) {
	if b := os.Getenv(BinaryEnv); b != "" {
		return b, nil
	}
	return os.Executable()
}

// dockerPreflight refuses docker mode when no engine answers or the binary cannot run FROM
// scratch; a variable so that the table test of refusals does not depend on the machine.
var dockerPreflight = func() error {
	if _, err := docker.Connect(); err != nil {
		return err
	}
	bin, err := dockerBinary()
	if err != nil {
		return err
	}
	return docker.CheckStatic(bin)
}

// validateDocker refuses what docker mode cannot do, naming the key: everything live mode
// refuses, more nodes (those joining and the sybil adversaries' included), servers or clients
// than the run's network has addresses for, for a partition a packet filter this process
// cannot change and, for the leakage section, clients this process cannot give addresses of
// their own. Last, it asks the Docker engine. The leakage section is measured as in live
// mode (see dockerLeakage).
func (s Scenario) validateDocker() error {
	if err := s.validateLive(); err != nil {
		// The clients run on the live driver as in live mode, so its limits are docker mode's.
		var e *Error
		if errors.As(err, &e) {
			e.Reason = strings.Replace(e.Reason, "live mode", "docker mode", 1)
		}
		return err
	}
	partition := false
	for _, f := range s.Faults {
		if f.Kind == "partition" {
			partition = true
		}
	}
	if s.Nodes.Count > docker.MaxNodes {
		return bad("nodes.count", s.Nodes.Count, fmt.Sprintf("docker mode puts a run's nodes on one /24 network: at most %d", docker.MaxNodes))
	}
	joins := s.dockerJoins()
	if s.Nodes.Count+joins > docker.MaxNodes {
		return bad("nodes.churn.joins_per_hour", s.Nodes.Churn.JoinsPerHour, fmt.Sprintf("%d nodes join the run's %d: docker mode's network holds at most %d nodes; lower the rate, nodes.count or the duration",
			joins, s.Nodes.Count, docker.MaxNodes))
	}
	if sybils := s.sybilNodes(); s.Nodes.Count+joins+sybils > docker.MaxNodes {
		return bad("leakage.adversaries", "sybil", fmt.Sprintf("the sybil adversaries register %d nodes besides the run's %d and the %d joining: docker mode's network holds at most %d nodes; lower their fractions or nodes.count",
			sybils, s.Nodes.Count, joins, docker.MaxNodes))
	}
	if n := len(s.dockerServers()); n > docker.MaxServers {
		return bad("servers.communities.count", s.Servers.Communities.Count, fmt.Sprintf("docker mode gives each server an address of its own on the run's network: at most %d servers in all (%d asked)", docker.MaxServers, n))
	}
	if s.Clients.Count > docker.MaxClients {
		return bad("clients.count", s.Clients.Count, fmt.Sprintf("docker mode gives each client an address of its own on the run's network: at most %d", docker.MaxClients))
	}
	if err := dockerPreflight(); err != nil {
		return bad("mode", s.Mode, err.Error())
	}
	if partition {
		if err := dockerFilterPreflight(); err != nil {
			return bad("faults", "partition", err.Error())
		}
	}
	if len(s.Leakage.Adversaries) > 0 || s.Leakage.LinkTaps {
		// The nodes tell the clients apart by their addresses (startDocker): refused here
		// rather than once every container has started.
		if err := dockerClientAddrsPreflight(); err != nil {
			return bad("leakage", "docker", err.Error()+": run as root with iproute2 on the engine's machine, or run the leakage section with mode=live")
		}
	}
	return nil
}

// dockerClientAddrsPreflight refuses the leakage section when the clients cannot have
// addresses of their own on the run's network; a variable for the same reason as
// dockerPreflight.
var dockerClientAddrsPreflight = docker.CheckClientAddrs

// dockerFilterPreflight refuses a partition when the packet filter cannot be changed; a
// variable for the same reason as dockerPreflight.
var dockerFilterPreflight = docker.CheckFilter

// dockerDriver is the live driver for docker mode: the clients are laid out at world
// addresses like in live mode, but their sockets are at their addresses on the run's network
// (or, where those could not be added, ports of its gateway address); it translates between
// the two (the nodes are at their real addresses in both).
type dockerDriver struct {
	*liveDriver
	gateway netip.Addr
	// clientAddrs are the clients' addresses on the run's network, in spawn order; none when
	// they could not be added (the clients then share the gateway, out of the link model).
	clientAddrs []netip.Addr

	mu       sync.Mutex
	sinks    []sim.Sink // the nodes' events go here too (followDocker)
	toSocket map[actor.Addr]actor.Addr
	toWorld  map[actor.Addr]actor.Addr
	// worldIPs maps the clients' and servers' addresses on the run's network to their world
	// addresses, for what the nodes report of them (worldEvent).
	worldIPs map[netip.Addr]netip.Addr
	nextPort uint16
	// clients counts the client addresses taken (the servers have theirs: placeServer).
	clients int
}

// firstClientPort is the gateway port of the first client: below Linux's ephemeral range
// (32768 up), so that the clients' own outgoing connections do not take them.
const firstClientPort = 20000

// newDockerDriver shapes the clients' connections with the world's link model, both ways, and
// counts their bytes with counter.
func newDockerDriver(eng *sim.Engine, links *netem.Network, gateway netip.Addr, clientAddrs []netip.Addr, counter *proc.Faults) *dockerDriver {
	model := linkconn.NewModel(links)
	wrap := func(c net.Conn, local, remote netip.Addr) net.Conn {
		return counter.Wrap(model.WrapDuplex(c, local, remote), local, remote)
	}
	ld := &liveDriver{Driver: live.New(live.Config{Codec: bodies.Codec(), WrapConn: wrap}), eng: eng, model: model}
	return &dockerDriver{liveDriver: ld, gateway: gateway, clientAddrs: clientAddrs, toSocket: map[actor.Addr]actor.Addr{}, toWorld: map[actor.Addr]actor.Addr{},
		worldIPs: map[netip.Addr]netip.Addr{}, nextPort: firstClientPort}
}

// socket is where the client at world address a listens (a itself for any other address).
func (d *dockerDriver) socket(a actor.Addr) actor.Addr { return translate(d, d.toSocket, a) }

// world is the world address of the client listening at s (s itself for any other address).
func (d *dockerDriver) world(s actor.Addr) actor.Addr { return translate(d, d.toWorld, s) }

// worldIP is the world address of what is at ip on the run's network: a client's or a
// server's world address, a node's own (the nodes are at their container addresses in both).
func (d *dockerDriver) worldIP(ip netip.Addr) netip.Addr { return translate(d, d.worldIPs, ip.Unmap()) }

// translate is a's entry in m (toSocket, toWorld or worldIPs), under d's lock, or a when it
// has none.
func translate[A comparable](d *dockerDriver, m map[A]A, a A) A {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := m[a]; ok {
		return t
	}
	return a
}

// Spawn spawns a client at its world address h:port, on its address on the run's network
// (host h of the link model), or on a gateway port of its own.
func (d *dockerDriver) Spawn(h sim.HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	addr := netip.AddrPortFrom(d.eng.HostIP(h), port)
	d.mu.Lock()
	sock, ok := d.toSocket[addr]
	if !ok {
		if k := d.clients; k < len(d.clientAddrs) {
			d.clients++
			sock = netip.AddrPortFrom(d.clientAddrs[k], port)
			d.model.AddAddr(sock.Addr(), simlink.ID(h))
		} else {
			sock = netip.AddrPortFrom(d.gateway, d.nextPort)
			d.nextPort++
		}
		d.toSocket[addr], d.toWorld[sock] = sock, addr
		if sock.Addr() != d.gateway {
			d.worldIPs[sock.Addr()] = addr.Addr()
		}
	}
	d.mu.Unlock()
	spawn := func() error { return d.Driver.Spawn(sock, name, a) }
	if d.later(spawn) {
		return addr, nil
	}
	return addr, spawn()
}

func (d *dockerDriver) Invoke(addr actor.Addr, f func()) error {
	return d.liveDriver.Invoke(d.socket(addr), f)
}

func (d *dockerDriver) Crash(addr actor.Addr) error { return d.Driver.Crash(d.socket(addr)) }

// AddSink adds s for the clients' events (their addresses translated back to the world's)
// and for the nodes' (dockerWorld.follow).
func (d *dockerDriver) AddSink(s sim.Sink) {
	d.mu.Lock()
	d.sinks = append(d.sinks, s)
	d.mu.Unlock()
	d.Driver.AddSink(func(at time.Time, from actor.Addr, ev actor.Event) { s(at, d.world(from), ev) })
}

// dockerWorld is what the world keeps of docker mode.
type dockerWorld struct {
	drv        *dockerDriver
	cluster    *docker.Cluster
	stopFollow func()
	log        *slog.Logger
	// table is the world's link model as every node's link table has it (matrix and
	// settings), hosts each node's host in it, ips its address and degrades the degradations
	// in force on it (linkNodes, faultState), by the world's node index; grown by the nodes
	// that join.
	table    proc.LinkTable
	hosts    []proc.LinkHost
	ips      []netip.Addr
	degrades [][]netem.Degradation
	// starting are the joining nodes whose containers do not answer yet: they get their
	// table once they do.
	starting map[int]bool
	// partitions numbers the run's partitions.
	partitions int
	// kills are the faults' and joins' engine calls still under way (onNode), waited for
	// before the containers are removed.
	kills sync.WaitGroup
	ops   dockerNodeOps
	// usage is what each node's process reported of its work, read last before its kill
	// (guarded by usageMu: the kills run on goroutines of their own).
	usageMu sync.Mutex
	usage   []docker.Usage
	// clientLinks counts the bytes the clients write (a fault switch without faults).
	clientLinks *proc.Faults
	// servers are the host names of the servers the nodes were told of, in the cluster's order.
	servers []string
	// nodeIPs are the nodes' container addresses by their hosts in the link model (liveTap),
	// written under the model's lock once the run has started; taps says the nodes report
	// their link taps (FaultState.Taps).
	nodeIPs map[sim.HostID]netip.Addr
	taps    bool
	// eventsDropped counts the event lines the processes dropped because this process read
	// them too slowly (followDocker): the figures from the nodes' events are short by them.
	eventsDropped atomic.Uint64
}

// startDocker sweeps what earlier crashed runs left, starts the registry and the scenario's
// nodes in containers, and makes the driver for the clients.
func (w *world) startDocker() error {
	pool, err := docker.Connect()
	if err != nil {
		return &Error{Key: "mode", Value: "docker", Reason: err.Error()}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if _, err := docker.Sweep(pool); err != nil {
		log.Warn("sweeping earlier runs", "err", err)
	}
	bin, err := dockerBinary()
	if err != nil {
		return err
	}
	// The sybil adversaries' nodes join as churn's do, in containers reserved with theirs.
	c, err := docker.Start(pool, docker.Config{Binary: bin, Nodes: w.sc.Nodes.Count, Joins: w.sc.dockerJoins() + w.sc.sybilNodes(), Seed: w.sc.Seed,
		BlockInterval: w.sc.Registry.BlockInterval, Servers: w.sc.dockerServers(), Log: log})
	if err != nil {
		return err
	}
	// The push server asks the registry's container for the list (buildPush).
	w.nodeConf.Registry = c.RegistryAddr()
	clientAddrs, err := c.AddClientAddrs(w.sc.Clients.Count)
	if err != nil {
		if len(w.sc.dockerServers()) > 0 {
			// The nodes could not reach the servers at the addresses they were told.
			_ = c.Close()
			return fmt.Errorf("docker mode: the servers need addresses of their own on the run's network: %w", err)
		}
		if w.dockerLeakage() != proc.LeakageNone {
			// On the gateway's address the nodes could not tell one client from another.
			_ = c.Close()
			return fmt.Errorf("docker mode: the leakage section needs each client an address of its own on the run's network: %w", err)
		}
		log.Warn("the clients share the gateway's address, out of the link model", "err", err)
	}
	clientLinks := proc.NewFaults()
	w.docker = &dockerWorld{cluster: c, drv: newDockerDriver(w.eng, w.net, c.Gateway(), clientAddrs, clientLinks), log: log,
		degrades: make([][]netem.Degradation, w.sc.Nodes.Count), usage: make([]docker.Usage, w.sc.Nodes.Count), clientLinks: clientLinks,
		servers: w.sc.dockerServers(), nodeIPs: map[sim.HostID]netip.Addr{}, taps: w.taps != nil}
	w.live, w.drv = w.docker.drv.liveDriver, w.docker.drv
	if w.taps != nil {
		// The clients' and servers' links; the nodes report theirs (recordNodeTap).
		w.docker.drv.model.SetTap(w.liveTap)
	}
	// The nodes are placed as for the simulator, for what the faults pick them by: node i of
	// the containers has the region and operator of the world's node i.
	specs, err := w.planNodes(w.sc.Nodes.Count)
	if err != nil {
		return err
	}
	// The run starts once the containers serve.
	w.epoch = w.live.Now()
	w.col.epoch = w.epoch
	if w.leak != nil {
		w.leak.SetEpoch(w.epoch)
	}
	if w.taps != nil {
		w.taps.SetEpoch(w.epoch)
	}
	w.seeds = []actor.Addr{c.RegistryAddr()}
	for i, m := range c.Nodes() {
		// A host of the link model (the world's registry, unused here, records the node).
		h, err := w.sn.AddNode(specs[i].Registration)
		if err != nil {
			return err
		}
		w.docker.drv.model.AddAddr(m.Addr.Addr(), simlink.ID(h))
		w.docker.nodeIPs[h] = m.Addr.Addr()
		wn := &worldNode{name: m.Name, addr: m.Addr, host: h, alive: true, operator: specs[i].Operator, region: specs[i].Region}
		w.col.addNode(wn.addr)
		w.addDockerNodeRow(m, specs[i])
		w.nodes = append(w.nodes, wn)
	}
	return w.docker.linkNodes(w)
}

// linkNodes gives each node's process the world's link table for its links to the other nodes
// (proc.LinkTable: the matrix and the network's settings, every node's region and access link),
// so that node-to-node connections pay the model's latency, jitter, bandwidth queues and loss
// as in live mode, where the link model shapes them; the clients' and servers' links are shaped
// on this side (WrapDuplex).
func (d *dockerWorld) linkNodes(w *world) error {
	var err error
	w.links(func(n *netem.Network) {
		d.table = proc.NewLinkTable(n)
		d.hosts, d.ips = make([]proc.LinkHost, len(w.nodes)), make([]netip.Addr, len(w.nodes))
		for i, wn := range w.nodes {
			d.ips[i] = wn.addr.Addr()
			if d.hosts[i], err = proc.HostLink(n, simlink.ID(wn.host)); err != nil {
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("docker mode: the nodes' link table: %w", err)
	}
	if bad := d.pushTables(w); bad != nil {
		return fmt.Errorf("docker mode: giving the nodes their link table: %w", bad)
	}
	return nil
}

// faultState is node i's link table: every node's host (its own among them) with the
// degradations in force on it, so that what the node writes to a peer waits as the world's
// model says for a message between the two hosts (a degraded peer's latency and loss
// included, and its own), and what it reads from a peer was shaped so by the peer.
func (d *dockerWorld) faultState(i int) proc.FaultState {
	t := d.table
	t.Hosts = make(map[string]proc.LinkHost, len(d.hosts))
	for j, h := range d.hosts {
		keep := 1.0
		for _, g := range d.degrades[j] {
			h.DegradeLatencyMS += float64(g.Latency) / float64(time.Millisecond)
			keep *= 1 - g.Loss
		}
		h.DegradeLoss = 1 - keep
		t.Hosts[d.ips[j].String()] = h
	}
	t.Self = d.ips[i].String()
	return proc.FaultState{Links: &t, Taps: d.taps}
}

// tablePosts bounds the link tables posted at once.
const tablePosts = 8

// pushTables posts every running node its link table (faultState), a few at a time, and
// returns the first failure. It runs under the world lock once the run has started, so that a
// table computed before a degrade cannot overwrite the one after it.
func (d *dockerWorld) pushTables(w *world) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	slots := make(chan struct{}, tablePosts)
	for i, wn := range w.nodes {
		if !wn.alive || wn.hung || d.starting[i] {
			continue // it gets its table once it answers (giveTable)
		}
		st := d.faultState(i)
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := docker.SetFaults(wn.addr.Addr(), st); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("node %s: %w", wn.name, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// giveTable posts node i its link table, under the world lock: a process restarted or run
// again after a hang, whose table is missing or stale. It runs on a goroutine of the node's
// operations (onNode), not under the world lock.
func (w *world) giveTable(i int) {
	d := w.docker
	w.live.Do(func() {
		if err := docker.SetFaults(w.nodes[i].addr.Addr(), d.faultState(i)); err != nil {
			d.log.Warn("a node's link table", "node", w.nodes[i].name, "err", err)
		}
	})
}

// dockerJoins is how many nodes join the run (nodes.churn.joins_per_hour): docker mode reserves
// a container and an address for each.
func (s *Scenario) dockerJoins() int {
	if s.Nodes.Churn.JoinsPerHour <= 0 {
		return 0
	}
	return len(s.churnArrivals(joinStream, s.Nodes.Churn.JoinsPerHour))
}

// dockerServers are the host names of the servers the harness runs for the nodes to reach:
// the file server, the push server and the community servers, when the scenario has them.
func (s *Scenario) dockerServers() []string {
	var hosts []string
	if s.needsFileServer() {
		hosts = append(hosts, fileServerHost)
	}
	if s.Servers.Push.Enabled {
		hosts = append(hosts, pushServerHost)
	}
	for i := range s.Servers.Communities.Count {
		_, host := communityName(i)
		hosts = append(hosts, host)
	}
	return hosts
}

// placeServer puts the server at world address addr (host h) on its address on the run's
// network, the one the nodes were told for hostName (docker.Config.Servers), in the link model
// as host h.
func (d *dockerWorld) placeServer(h sim.HostID, addr actor.Addr, hostName string) error {
	i := slices.Index(d.servers, hostName)
	if i < 0 {
		return fmt.Errorf("docker mode: the nodes were told of no server %s", hostName)
	}
	sock := d.cluster.ServerAddr(i)
	d.drv.mu.Lock()
	d.drv.toSocket[addr], d.drv.toWorld[sock] = sock, addr
	d.drv.worldIPs[sock.Addr()] = addr.Addr()
	d.drv.mu.Unlock()
	d.drv.model.AddAddr(sock.Addr(), simlink.ID(h))
	return nil
}

// crashDockerNode kills node i's container (SIGKILL: the node stays down unless the fault
// restarts it, restartDockerNode) and tells the registry its machine is down, after the node's
// earlier operations (onNode).
func (w *world) crashDockerNode(i int) {
	w.stopDockerNode(i, "crash fault", "killing", w.docker.cluster.Kill)
}

// degradeDockerNodes adds a degrade's latency and loss to the degraded nodes' hosts in every
// node's link table for its duration (faultState), so that the nodes' links to and from them
// pay it, as the world's model makes the clients' links pay it.
func (w *world) degradeDockerNodes(nodes []int, f Fault) {
	d := w.docker
	g := netem.Degradation{Latency: f.AddedLatency, Loss: f.Loss}
	push := func() {
		if err := d.pushTables(w); err != nil {
			d.log.Warn("degrade fault: the nodes' link tables", "err", err)
		}
	}
	for _, i := range nodes {
		d.degrades[i] = append(d.degrades[i], g)
	}
	push()
	if f.For > 0 {
		w.drv.AfterFunc(f.For, func() {
			for _, i := range nodes {
				if k := slices.Index(d.degrades[i], g); k >= 0 {
					d.degrades[i] = slices.Delete(d.degrades[i], k, k+1)
				}
			}
			push()
		})
	}
}

// joinDockerNode starts a node joining the run (churn's, or a sybil adversary's): the next
// container of the ones reserved for joins (docker.Cluster.AddNode), at the world's next
// node's place (region, operator, its host in the link model), registered with the registry's
// container. The container starts among the node's operations (onNode: a fault on it waits
// for the start), as a kill does (the world lock is held here); once it answers, every node
// gets the link table with it and the leakage table its row. A node whose container does not
// answer gets no row, so that a sybil adversary's coalition holds only the nodes it runs. (The
// row is added the moment its admin endpoint answers; the node stores and serves only once
// the registry's block lists it and it is in a swarm, which its start does not wait for.)
func (w *world) joinDockerNode(spec placement.Spec) error {
	d := w.docker
	m, err := d.cluster.AddNode()
	if err != nil {
		return err
	}
	var h sim.HostID
	var host proc.LinkHost
	w.links(func(n *netem.Network) {
		if h, err = w.sn.AddNodeHost(spec.Registration); err == nil {
			host, err = proc.HostLink(n, simlink.ID(h))
			d.nodeIPs[h] = m.Addr.Addr()
		}
	})
	if err != nil {
		return err
	}
	d.drv.model.AddAddr(m.Addr.Addr(), simlink.ID(h))
	wn := &worldNode{name: m.Name, addr: m.Addr, host: h, alive: true, operator: spec.Operator, region: spec.Region}
	w.col.addNode(wn.addr)
	w.nodes = append(w.nodes, wn)
	i := len(w.nodes) - 1
	d.hosts, d.ips, d.degrades = append(d.hosts, host), append(d.ips, m.Addr.Addr()), append(d.degrades, nil)
	d.usageMu.Lock()
	d.usage = append(d.usage, docker.Usage{})
	d.usageMu.Unlock()
	if d.starting == nil {
		d.starting = map[int]bool{}
	}
	d.starting[i] = true
	d.onNode(i, func() {
		err := d.cluster.StartNode(m)
		w.live.Do(func() {
			delete(d.starting, i)
			if err != nil {
				d.log.Warn("a joining node's container", "node", m.Name, "err", err)
				wn.alive = false
				return
			}
			w.addDockerNodeRow(m, spec)
			if err := d.pushTables(w); err != nil {
				d.log.Warn("a joining node: the nodes' link tables", "node", m.Name, "err", err)
			}
		})
	})
	return nil
}

// partitionDocker cuts the nodes in the fault's regions off from the others from at, for its
// duration, by packet-filter rules between their containers. (The clients' connections to
// the nodes are cut by the link model, as in live mode.)
func (w *world) partitionDocker(at time.Time, f Fault) {
	d := w.docker
	inside := map[string]bool{}
	for _, r := range f.Regions {
		inside[r] = true
	}
	var a, b []netip.Addr
	for _, wn := range w.nodes {
		if inside[wn.region] {
			a = append(a, wn.addr.Addr())
		} else {
			b = append(b, wn.addr.Addr())
		}
	}
	id := d.partitions
	d.partitions++
	w.drv.At(at, func() {
		if err := d.cluster.Partition(id, a, b); err != nil {
			d.log.Error("partition fault", "err", err)
			return
		}
		if f.For > 0 {
			w.drv.AfterFunc(f.For, func() {
				if err := d.cluster.Heal(id); err != nil {
					d.log.Error("healing a partition", "err", err)
				}
			})
		}
	})
}

// followDocker feeds the nodes' events to the sinks, under the world lock as the clients',
// with the clients' addresses as the world has them (worldEvent), and their link taps to the
// link taps file; it counts the lines the processes dropped (proc.EventsDropped).
func (w *world) followDocker() {
	d := w.docker.drv
	d.mu.Lock()
	sinks := append([]sim.Sink(nil), d.sinks...)
	d.mu.Unlock()
	w.docker.stopFollow = w.docker.cluster.FollowNodes(func(at time.Time, from actor.Addr, ev actor.Event) {
		if e, ok := ev.(proc.EventsDropped); ok {
			w.docker.eventsDropped.Add(e.Lines)
			return
		}
		ev = worldEvent(ev, d.worldIP)
		if t, ok := ev.(proc.LinkTapped); ok {
			if w.taps != nil {
				w.recordNodeTap(t)
			}
			return
		}
		w.live.Do(func() {
			for _, s := range sinks {
				s(at, from, ev)
			}
		})
	}, w.dockerLeakage())
}

// stopFollowing stops feeding the nodes' events to the sinks, before the summary reads them.
func (w *world) stopFollowing() {
	if w.docker != nil && w.docker.stopFollow != nil {
		w.docker.stopFollow()
		w.docker.stopFollow = nil
	}
}

// closeDocker stops following the nodes and removes the run's containers, network and image;
// nothing without docker mode.
func (w *world) closeDocker() {
	if w == nil || w.docker == nil {
		return
	}
	w.stopFollowing()
	w.docker.kills.Wait()
	if err := w.docker.cluster.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "docker mode:", err)
	}
	w.docker = nil
}

// scheduleDockerSampling is scheduleSampling for docker mode: the stores are in the
// containers, listed over each node's admin endpoint (GET /hashes) before each sample.
func (w *world) scheduleDockerSampling(every, total time.Duration) {
	ask := func(report func(n int, held map[string]bool)) {
		for n, wn := range w.nodes {
			go func() {
				hs, err := storeburst.Hashes(docker.AdminURL(wn.addr.Addr()))
				if err != nil {
					return // a node that does not answer holds nothing we can count
				}
				report(n, hs)
			}()
		}
	}
	w.scheduleProbedSampling(every, total, ask, func(int) bool { return true })
}

// readUsage keeps what node i's process reports of its work (an unanswered read keeps the
// last one).
func (d *dockerWorld) readUsage(i int, ip netip.Addr) {
	u, err := docker.ReadUsage(ip)
	if err != nil {
		return
	}
	d.usageMu.Lock()
	d.usage[i] = u
	d.usageMu.Unlock()
}

// fillDockerInfrastructure writes what the processes measured of themselves: the bytes written
// on every service connection (the clients', the nodes', the registry's: TLS and HTTP
// included, as live mode counts them) and the nodes' CPU time (the process's, user and system:
// cryptography, TLS, HTTP and the Go runtime, where the simulator charges the modelled cost of
// the node's work). A node killed by a fault counts what it reported just before.
func (w *world) fillDockerInfrastructure(s *results.Summary, total time.Duration) {
	d := w.docker
	d.kills.Wait()
	var wg sync.WaitGroup
	for i, wn := range w.nodes {
		if wn.alive {
			wg.Add(1)
			go func() { defer wg.Done(); d.readUsage(i, wn.addr.Addr()) }()
		}
	}
	reg, _ := docker.ReadUsage(d.cluster.RegistryIP())
	wg.Wait()
	bytes := reg.Bytes + d.clientLinks.Stats().Bytes
	var busySum, busyMax float64
	for i := range d.usage {
		u := d.usageOf(i)
		bytes += u.Bytes
		busySum += u.CPU.Seconds()
		busyMax = max(busyMax, u.CPU.Seconds())
	}
	s.Traffic.TotalBytes = bytes
	if n := d.eventsDropped.Load(); n > 0 {
		s.Engine.EventsDropped = n
		d.log.Warn("the nodes dropped event lines this process read too slowly: the figures from their events (copies, replication, leakage, link taps) are short by them; see the summary's engine.events_dropped", "lines", n)
	}
	if n := len(d.usage); n > 0 && total > 0 {
		mean := busySum / float64(n)
		s.CPU = results.CPU{MeanNodeBusySeconds: round6(mean), MaxNodeBusySeconds: round6(busyMax),
			MeanNodeUtilisation: round6(mean / (total.Seconds() * float64(w.sc.Nodes.Cores)))}
	}
}
