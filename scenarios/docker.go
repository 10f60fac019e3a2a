package scenarios

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/live/docker"
	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/live/storeburst"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/sim"
)

// Docker mode: the registry (also the clients' seed node) and every service node run as
// `sessionsim registry` / `sessionsim node` processes in containers of their own
// (live/docker), at their container addresses; the clients run in this process on the live
// driver, bound to the run network's gateway address (one port each), so that the nodes can
// reach them. The nodes' events the collector reads (node.MessageStored,
// node.ReplicationSent, node.SwarmDataMoved) come over each node's GET /events and go to the
// same sinks as the clients' events, under the world lock.

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
// refuses, and whatever needs the world to act on a node (faults, churn) or a server the nodes
// would have to reach (file server, push server, communities). Last, it asks the Docker engine.
func (s Scenario) validateDocker() error {
	if err := s.validateLive(); err != nil {
		// The clients run on the live driver as in live mode, so its limits are docker mode's.
		var e *Error
		if errors.As(err, &e) {
			e.Reason = strings.Replace(e.Reason, "live mode", "docker mode", 1)
		}
		return err
	}
	if len(s.Faults) > 0 {
		return bad("faults", len(s.Faults), "docker mode cannot apply a scenario's faults to the containers yet; remove the faults section")
	}
	ch := s.Nodes.Churn
	if ch.CrashesPerHour > 0 {
		return bad("nodes.churn.crashes_per_hour", ch.CrashesPerHour, "docker mode cannot crash nodes on a schedule yet; set it to 0")
	}
	if ch.LifetimeMedian > 0 {
		return bad("nodes.churn.lifetime_median", ch.LifetimeMedian, "docker mode cannot end nodes' lifetimes yet; set it to 0")
	}
	if s.Servers.Push.Enabled {
		return bad("servers.push.enabled", true, "docker mode runs no push server the nodes could reach yet; set it to false")
	}
	if s.Workload.Attachments.Share > 0 {
		return bad("workload.attachments.share", s.Workload.Attachments.Share, "docker mode runs no file server the nodes could reach yet; set it to 0")
	}
	if s.Servers.Communities.Count > 0 {
		return bad("servers.communities.count", s.Servers.Communities.Count, "docker mode runs no community server the nodes could reach yet; set it to 0")
	}
	if s.Nodes.Count > docker.MaxNodes {
		return bad("nodes.count", s.Nodes.Count, fmt.Sprintf("docker mode puts a run's nodes on one /24 network: at most %d", docker.MaxNodes))
	}
	if err := dockerPreflight(); err != nil {
		return bad("mode", s.Mode, err.Error())
	}
	return nil
}

// dockerDriver is the live driver for docker mode: the clients are laid out at world
// addresses like in live mode, but their sockets are ports of the run network's gateway
// address; it translates between the two (the nodes are at their real addresses in both).
type dockerDriver struct {
	*liveDriver
	gateway netip.Addr

	mu       sync.Mutex
	sinks    []sim.Sink // the nodes' events go here too (followDocker)
	toSocket map[actor.Addr]actor.Addr
	toWorld  map[actor.Addr]actor.Addr
	nextPort uint16
}

// firstClientPort is the gateway port of the first client: below Linux's ephemeral range
// (32768 up), so that the clients' own outgoing connections do not take them.
const firstClientPort = 20000

func newDockerDriver(eng *sim.Engine, links *netem.Network, gateway netip.Addr) *dockerDriver {
	// No link model on the clients' connections yet (model only holds the world's network):
	// the latency between the harness and the containers is the bridge's.
	ld := &liveDriver{Driver: live.New(live.Config{Codec: bodies.Codec()}), eng: eng, model: linkconn.NewModel(links)}
	return &dockerDriver{liveDriver: ld, gateway: gateway, toSocket: map[actor.Addr]actor.Addr{}, toWorld: map[actor.Addr]actor.Addr{}, nextPort: firstClientPort}
}

func (d *dockerDriver) socket(a actor.Addr) actor.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.toSocket[a]; ok {
		return s
	}
	return a
}

func (d *dockerDriver) world(s actor.Addr) actor.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.toWorld[s]; ok {
		return a
	}
	return s
}

// Spawn spawns a client at its world address h:port, on a gateway port of its own.
func (d *dockerDriver) Spawn(h sim.HostID, port uint16, name string, a actor.Actor) (actor.Addr, error) {
	addr := netip.AddrPortFrom(d.eng.HostIP(h), port)
	d.mu.Lock()
	sock, ok := d.toSocket[addr]
	if !ok {
		sock = netip.AddrPortFrom(d.gateway, d.nextPort)
		d.nextPort++
		d.toSocket[addr], d.toWorld[sock] = sock, addr
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
	c, err := docker.Start(pool, docker.Config{Binary: bin, Nodes: w.sc.Nodes.Count, Seed: w.sc.Seed,
		BlockInterval: w.sc.Registry.BlockInterval, Log: log})
	if err != nil {
		return err
	}
	w.docker = &dockerWorld{cluster: c, drv: newDockerDriver(w.eng, w.net, c.Gateway())}
	w.live, w.drv = w.docker.drv.liveDriver, w.docker.drv
	// The run starts once the containers serve.
	w.epoch = w.live.Now()
	w.col.epoch = w.epoch
	w.seeds = []actor.Addr{c.RegistryAddr()}
	for _, m := range c.Nodes() {
		wn := &worldNode{name: m.Name, addr: m.Addr, alive: true}
		w.col.addNode(wn.addr)
		w.nodes = append(w.nodes, wn)
	}
	return nil
}

// followDocker feeds the nodes' events to the sinks, under the world lock as the clients'.
func (w *world) followDocker() {
	d := w.docker.drv
	d.mu.Lock()
	sinks := append([]sim.Sink(nil), d.sinks...)
	d.mu.Unlock()
	w.docker.stopFollow = w.docker.cluster.FollowNodes(func(at time.Time, from actor.Addr, ev actor.Event) {
		w.live.Do(func() {
			for _, s := range sinks {
				s(at, from, ev)
			}
		})
	})
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
	if err := w.docker.cluster.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "docker mode:", err)
	}
	w.docker = nil
}

// dockerProbeLead is how long before a replication sample the nodes' stores are listed.
const dockerProbeLead = 2 * time.Second

// scheduleDockerSampling is scheduleSampling for docker mode: the stores are in the
// containers, listed over each node's admin endpoint (GET /hashes) before each sample.
func (w *world) scheduleDockerSampling(every, total time.Duration) {
	for t := every; t <= total; t += every {
		at := t
		var mu sync.Mutex
		held := map[int]map[string]bool{}
		w.drv.AfterFunc(max(at-dockerProbeLead, 0), func() {
			for n, wn := range w.nodes {
				go func() {
					hs, err := storeburst.Hashes(docker.AdminURL(wn.addr.Addr()))
					if err != nil {
						return // a node that does not answer holds nothing we can count
					}
					mu.Lock()
					held[n] = hs
					mu.Unlock()
				}()
			}
		})
		w.drv.AfterFunc(at, func() {
			mu.Lock()
			defer mu.Unlock()
			w.col.sampleReplication(at, func(n int, hash string) bool { return held[n][hash] })
		})
	}
}
