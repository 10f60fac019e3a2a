// Package simnet lays a Session network out on the simulator: the engine over the netem link
// model, the registry and the seed nodes on well-connected hosts, and the hosts of service
// nodes and of clients. The scenario world builder lays its worlds out with it, and so do the
// tests that run nodes or clients on the real engine, so that a test's network is wired as a
// run's is: the same ports, access links and registry and seed-node hosts.
//
// It places hosts and the network's own services; the service nodes and clients are the
// caller's, who makes them with the configuration it needs and spawns them on their hosts.
package simnet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/sim"
)

// Ports of the actors that are not service nodes (whose ports are in their registrations).
const (
	registryPort = 22022
	seedPort     = 443
	// ClientPort is where clients listen, on their hosts' addresses.
	ClientPort = 40000
)

// Cores of the hosts that are not service nodes (whose cores are the engine's default): the
// registry and the seed nodes are servers, and a client's cores are its device's.
const (
	registryCores = 4
	seedCores     = 2
	clientCores   = 4
)

// seedProfile is a seed node's link: every client's first request is the whole node list
// (about 400 KB for 2,000 nodes) from every seed at once, so seeds are well-provisioned
// servers (10 Gbit/s) rather than ordinary service nodes.
var seedProfile = netem.Profile{Name: "seed", Latency: netem.DataCentre.Latency, Jitter: netem.DataCentre.Jitter, Uplink: 10 * netem.Gbps, Downlink: 10 * netem.Gbps}

// platformProfile is the access link of each app: desktops on broadband, phones on 4G.
func platformProfile(p client.Platform) netem.Profile {
	if p == client.Desktop {
		return netem.Broadband
	}
	return netem.Mobile4G
}

// Config is the network to lay out.
type Config struct {
	// Engine configures the engine; New sets its Network to the link model. Its Cores are the
	// service nodes' cores.
	Engine sim.Config
	// Links configures the link model.
	Links netem.Config
	// Registry is the ledger's rules. New sets its Seed to the engine's, so that one seed
	// makes a run, and its Seeds to the seed nodes' addresses.
	Registry registry.Config
	// Regions are where the registry (in the first) and the seed nodes (in turn) are placed:
	// the regions that host most nodes, most first. Required.
	Regions []string
	// SeedNodes is how many seed nodes answer clients' bootstrap requests.
	SeedNodes int
}

// Net is a network being laid out on its engine.
type Net struct {
	Engine *sim.Engine
	// Links is the link model itself: for partitions, degradations and its statistics.
	Links *netem.Network
	// Registry is the service-node list; Start spawns it.
	Registry *registry.Registry
	// RegistryAddr is where the registry listens: the nodes' Config.Registry.
	RegistryAddr actor.Addr
	// Seeds are the seed nodes' addresses: the clients' Config.Seeds.
	Seeds []actor.Addr

	links     *simlink.Network
	regHost   sim.HostID
	seedHosts []sim.HostID
}

// SetTap has every transmission on every link reported to tap from now on (nil stops it).
func (n *Net) SetTap(tap simlink.Tap) { n.links.SetTap(tap) }

// New builds the engine and its link model, and places the registry and the seed nodes.
func New(cfg Config) (*Net, error) {
	if len(cfg.Regions) == 0 {
		return nil, errors.New("simnet: no region for the registry and the seed nodes")
	}
	links, err := simlink.New(cfg.Links)
	if err != nil {
		return nil, fmt.Errorf("network model: %w", err)
	}
	cfg.Engine.Network = links
	n := &Net{Links: links.Model(), links: links}
	if n.Engine, err = sim.New(cfg.Engine); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if n.regHost, err = n.Engine.AddHost(sim.HostConfig{Name: "registry", Link: simlink.Host{Region: cfg.Regions[0], Profile: netem.DataCentre}, Cores: registryCores}); err != nil {
		return nil, err
	}
	n.RegistryAddr = netip.AddrPortFrom(n.Engine.HostIP(n.regHost), registryPort)
	for i := range cfg.SeedNodes {
		h, err := n.Engine.AddHost(sim.HostConfig{Name: seedName(i), Link: simlink.Host{Region: cfg.Regions[i%len(cfg.Regions)], Profile: seedProfile}, Cores: seedCores})
		if err != nil {
			return nil, err
		}
		n.seedHosts = append(n.seedHosts, h)
		n.Seeds = append(n.Seeds, netip.AddrPortFrom(n.Engine.HostIP(h), seedPort))
	}
	cfg.Registry.Seed, cfg.Registry.Seeds = cfg.Engine.Seed, n.Seeds
	if n.Registry, err = registry.New(cfg.Registry); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return n, nil
}

// seedName names seed node i (and its host); seed nodes are numbered from 1.
func seedName(i int) string { return fmt.Sprintf("seed-%d", i+1) }

// AddNodeHost places the host of a node, at its registration's address on a data-centre link
// in its region, without registering it: for a driver on which the registry's state may only
// be touched on the registry's own goroutine.
func (n *Net) AddNodeHost(r registry.Registration) (sim.HostID, error) {
	h, err := n.Engine.AddHost(sim.HostConfig{Name: r.Name, IP: r.Addr.Addr(), Link: simlink.Host{Region: r.Region, Profile: netem.DataCentre}})
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", r.Name, err)
	}
	return h, nil
}

// AddNode places the host of a node, at its registration's address on a data-centre link in
// its region, and registers the node. The node is the caller's to spawn on the host, at its
// address's port.
func (n *Net) AddNode(r registry.Registration) (sim.HostID, error) {
	h, err := n.AddNodeHost(r)
	if err != nil {
		return 0, err
	}
	if err := n.Registry.Register(r); err != nil {
		return 0, fmt.Errorf("registering %s: %w", r.Name, err)
	}
	return h, nil
}

// AddClient places the host of a client that runs app p in region, on its app's access link,
// and returns the host and the client's address: the caller spawns the client there, on
// ClientPort.
func (n *Net) AddClient(name, region string, p client.Platform) (sim.HostID, actor.Addr, error) {
	h, err := n.Engine.AddHost(sim.HostConfig{Name: name, Link: simlink.Host{Region: region, Profile: platformProfile(p)}, Cores: clientCores})
	if err != nil {
		return 0, actor.Addr{}, err
	}
	return h, netip.AddrPortFrom(n.Engine.HostIP(h), ClientPort), nil
}

// ServerPort is where servers (file, push and community servers) listen: HTTPS.
const ServerPort = 443

// AddServer places the host of a server (file server, push server, community server) on a
// data-centre link in region, with cores CPU cores. The server is the caller's to spawn on the
// host, at ServerPort.
func (n *Net) AddServer(name, region string, cores int) (sim.HostID, actor.Addr, error) {
	h, err := n.Engine.AddHost(sim.HostConfig{Name: name, Link: simlink.Host{Region: region, Profile: netem.DataCentre}, Cores: cores})
	if err != nil {
		return 0, actor.Addr{}, err
	}
	return h, netip.AddrPortFrom(n.Engine.HostIP(h), ServerPort), nil
}

// Start spawns the registry and the seed nodes; the seed nodes serve list to clients until the
// registry publishes the next.
func (n *Net) Start(list *registry.List) error {
	if _, err := n.Engine.Spawn(n.regHost, registryPort, "registry", n.Registry); err != nil {
		return err
	}
	// The seed nodes of one group of hosts (sim.Engine.Worker), which one worker at a time runs,
	// keep one copy of each answer between them.
	kept := map[int]*registry.SeedAnswers{}
	for i, h := range n.seedHosts {
		w := n.Engine.Worker(h)
		if kept[w] == nil {
			kept[w] = &registry.SeedAnswers{}
		}
		if _, err := n.Engine.Spawn(h, seedPort, seedName(i), registry.NewSharedSeedNode(list, kept[w])); err != nil {
			return err
		}
	}
	return nil
}
