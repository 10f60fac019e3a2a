package scenarios

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/sim"
)

// Ports the world uses for actors that are not service nodes (whose ports come from the plan).
const (
	registryPort = 22022
	seedPort     = 443
	clientPort   = 40000
)

// world is one scenario's network on the engine: the registry and seed nodes, the service
// nodes, the clients, and the collector measuring them.
type world struct {
	sc        Scenario
	eng       *sim.Engine
	net       *netem.Network
	matrix    *netem.Matrix
	suite     cryptomode.Suite
	reg       *registry.Registry
	regAddr   actor.Addr
	seeds     []actor.Addr
	nodes     []*worldNode
	clients   []*worldClient
	col       *collector
	pinned    []bool     // clients held offline by a fault
	rng       *rand.Rand // the world's own stream: faults, churn, workload choices
	lifetimes *rand.Rand // node lifetimes (nodes.churn.lifetime_median); nil without them
	epoch     time.Time
	planned   int // nodes planned so far (names node-0 ... node-(planned-1))
	operators int // operators planned so far (numbers 0 ... operators-1)
	plan      placement.Config
	nodeConf  node.Config

	leak    *leakage.Recorder // nil without a leakage section: nothing recorded, nothing paid
	sybilOf map[string]string // node name -> the sybil adversary that registers it
}

type worldNode struct {
	name     string
	addr     actor.Addr
	host     sim.HostID
	n        *node.Node
	alive    bool
	operator int // the operator's rank at the start (0: the largest); -1 for nodes that joined later
}

type worldClient struct {
	name     string
	addr     actor.Addr
	c        *client.Client
	id       identity.ID
	platform string
	contacts []int
	online   bool
	waiting  bool // a flash-crowd client not started yet: offline, and nothing switches it online before its start
}

// regionWeights turns a scenario weight map into the network model's list, sorted by region,
// checking every region against the matrix (key names the scenario key in errors).
func regionWeights(m *netem.Matrix, key string, w map[string]float64) ([]netem.RegionWeight, error) {
	out := sortedWeights(w)
	for _, x := range out {
		if _, err := m.Lookup(x.Region); err != nil {
			return nil, &Error{Key: key + "." + x.Region, Value: x.Weight, Reason: fmt.Sprintf("no such region in the latency matrix %s (regions: %v)", m.Source(), m.Regions())}
		}
	}
	return out, nil
}

func buildWorld(sc Scenario, progress func(sim.Progress)) (*world, error) {
	w := &world{sc: sc, col: newCollector()}
	var err error
	if w.matrix, err = latencyMatrix(sc.Network.LatencyMatrix); err != nil {
		return nil, &Error{Key: "network.latency_matrix", Value: sc.Network.LatencyMatrix, Reason: err.Error()}
	}
	nodeWeights, err := regionWeights(w.matrix, "nodes.regions", sc.Nodes.Regions)
	if err != nil {
		return nil, err
	}
	clientWeights, err := regionWeights(w.matrix, "clients.regions", sc.Clients.Regions)
	if err != nil {
		return nil, err
	}
	mode, err := cryptomode.Parse(sc.Crypto)
	if err != nil {
		return nil, &Error{Key: "crypto", Value: sc.Crypto, Reason: err.Error()}
	}
	w.suite = cryptomode.New(mode, cryptomode.DefaultCosts)

	links, err := simlink.New(netem.Config{Matrix: w.matrix, SameRegionRTT: sc.Network.SameRegionRTT, PathJitter: sc.Network.Jitter})
	if err != nil {
		return nil, fmt.Errorf("network model: %w", err)
	}
	w.net = links.Model()
	if w.eng, err = sim.New(sim.Config{Seed: sc.Seed, Network: links, Cores: sc.Nodes.Cores, Progress: progress}); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	w.epoch = w.eng.Now()
	w.col.epoch = w.epoch
	w.rng = w.eng.Stream("world")

	if len(sc.Leakage.Adversaries) > 0 {
		w.leak = leakage.NewRecorder(leakage.NewTables(), w.epoch)
		// Over a horizon the run gives only the request rates (see analyzeLeakage).
		w.leak.RequestsOnly = sc.Leakage.Horizon > 0
	}
	if err := w.buildRegistry(nodeWeights); err != nil {
		return nil, err
	}
	if err := w.buildNodes(); err != nil {
		return nil, err
	}
	if err := w.buildClients(clientWeights); err != nil {
		return nil, err
	}
	w.eng.AddSink(w.col.Observe)
	if w.leak != nil {
		w.eng.AddSink(w.leak.Observe)
	}
	return w, nil
}

// seedProfile is a seed node's link: every client's first request is the whole node list
// (about 400 KB for 2,000 nodes) from every seed at once, so seeds are well-provisioned
// servers (10 Gbit/s) rather than ordinary service nodes.
var seedProfile = netem.Profile{Name: "seed", Latency: netem.DataCentre.Latency, Jitter: netem.DataCentre.Jitter, Uplink: 10 * netem.Gbps, Downlink: 10 * netem.Gbps}

// buildRegistry places the registry and the seed nodes on data-centre hosts in the regions
// that host most nodes (the real seed nodes are a handful of well-connected servers).
func (w *world) buildRegistry(nodeWeights []netem.RegionWeight) error {
	byWeight := append([]netem.RegionWeight(nil), nodeWeights...)
	sort.SliceStable(byWeight, func(i, j int) bool { return byWeight[i].Weight > byWeight[j].Weight })
	regHost, err := w.eng.AddHost(sim.HostConfig{Name: "registry", Link: simlink.Host{Region: byWeight[0].Region, Profile: netem.DataCentre}, Cores: 4})
	if err != nil {
		return err
	}
	w.regAddr = netip.AddrPortFrom(w.eng.HostIP(regHost), registryPort)
	for i := range w.sc.Registry.SeedNodes {
		h, err := w.eng.AddHost(sim.HostConfig{Name: fmt.Sprintf("seed-%d", i+1), Link: simlink.Host{Region: byWeight[i%len(byWeight)].Region, Profile: seedProfile}, Cores: 2})
		if err != nil {
			return err
		}
		w.seeds = append(w.seeds, netip.AddrPortFrom(w.eng.HostIP(h), seedPort))
	}
	cfg := w.sc.registryConfig()
	cfg.Seeds = w.seeds
	if w.sc.Nodes.StorageServer == "2.8" {
		cfg.StorageServerVersion = [3]int{2, 8, 0}
	}
	if w.reg, err = registry.New(cfg); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	w.plan = w.sc.placementConfig(0, 0)
	w.nodeConf = node.DefaultConfig()
	w.nodeConf.Version = w.sc.Nodes.StorageServer
	w.nodeConf.Suite = w.suite
	w.nodeConf.Registry = w.regAddr
	// Every node of the world indexes each list and converts each account key once.
	w.nodeConf.Views = node.NewViews()
	w.nodeConf.KeyMemo = identity.NewX25519Memo()
	w.nodeConf.UptimeProofInterval = min(w.nodeConf.UptimeProofInterval, w.sc.Registry.UptimeProofMaxAge/2)
	return nil
}

// registryConfig is the ledger's rules as the scenario sets them.
func (s Scenario) registryConfig() registry.Config {
	cfg := registry.DefaultConfig()
	cfg.Seed = s.Seed
	cfg.BlockInterval = s.Registry.BlockInterval
	cfg.ListDelay = s.Registry.ListDelay
	cfg.DecommissionAfter = s.Registry.DecommissionAfter
	cfg.UptimeProofMaxAge = s.Registry.UptimeProofMaxAge
	return cfg
}

// planNodes draws count more nodes (names continue from the ones planned before).
func (w *world) planNodes(count int) ([]placement.Spec, error) {
	pc := w.plan
	pc.Nodes = count
	pc.FirstIndex = w.planned
	pc.FirstOperator = w.operators
	specs, err := placement.Plan(pc, w.eng.Stream(planStream(w.planned)))
	if err != nil {
		return nil, fmt.Errorf("planning nodes: %w", err)
	}
	w.planned += count
	for _, sp := range specs {
		w.operators = max(w.operators, sp.Operator+1)
	}
	return specs, nil
}

// addNodeHost creates the host of a planned node and registers the node.
func (w *world) addNodeHost(spec placement.Spec) (*worldNode, error) {
	h, err := w.eng.AddHost(sim.HostConfig{Name: spec.Name, IP: spec.Addr.Addr(), Link: simlink.Host{Region: spec.Region, Profile: netem.DataCentre}, Cores: w.sc.Nodes.Cores})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", spec.Name, err)
	}
	if err := w.reg.Register(spec.Registration); err != nil {
		return nil, fmt.Errorf("registering %s: %w", spec.Name, err)
	}
	return &worldNode{name: spec.Name, addr: spec.Addr, host: h, operator: spec.Operator}, nil
}

// spawnNode starts the node actor of a registered node, with list as its first view.
func (w *world) spawnNode(wn *worldNode, spec placement.Spec, list *registry.List) error {
	n, err := node.New(w.nodeConf, spec.Keys, memory.New(memory.Config{}))
	if err != nil {
		return fmt.Errorf("node %s: %w", spec.Name, err)
	}
	if list != nil {
		n.SetList(list)
	}
	wn.n = n
	if _, err := w.eng.Spawn(wn.host, spec.Addr.Port(), spec.Name, n); err != nil {
		return err
	}
	wn.alive = true
	w.col.addNode(wn.addr)
	if w.leak != nil {
		info := nodeInfo(spec)
		info.Sybil = w.sybilOf[spec.Name]
		w.leak.T.AddNode(info)
	}
	w.nodes = append(w.nodes, wn)
	return nil
}

func (w *world) buildNodes() error {
	specs, err := w.planNodes(w.sc.Nodes.Count)
	if err != nil {
		return err
	}
	hosts := make([]*worldNode, len(specs))
	for i, spec := range specs {
		if hosts[i], err = w.addNodeHost(spec); err != nil {
			return err
		}
	}
	list, err := w.reg.Bootstrap(w.epoch)
	if err != nil {
		return err
	}
	for i, spec := range specs {
		if err := w.spawnNode(hosts[i], spec, list); err != nil {
			return err
		}
	}
	regHost, _ := w.eng.HostByIP(w.regAddr.Addr())
	if _, err := w.eng.Spawn(regHost, registryPort, "registry", w.reg); err != nil {
		return err
	}
	for i, addr := range w.seeds {
		h, _ := w.eng.HostByIP(addr.Addr())
		if _, err := w.eng.Spawn(h, seedPort, fmt.Sprintf("seed-%d", i+1), registry.NewSeedNode(list)); err != nil {
			return err
		}
	}
	return nil
}

// applyDefences sets the client options a scenario overrides; what it leaves alone takes the
// platform's default. The guard test was validated at load.
func (c Clients) applyDefences(cfg *client.Config) {
	cfg.GuardTest, _ = client.ParseGuardTest(c.GuardTest)
	cfg.GuardLifetime = c.GuardLifetime
	if c.PathRotation > 0 {
		cfg.PathRotate = c.PathRotation
	}
	cfg.Paths = c.Paths
	if len(c.OnionPadding) > 0 {
		cfg.OnionPadding = c.OnionPadding
	}
	cfg.CoverPollsPerHour = c.CoverTraffic
}

// platformProfile is the access link of each app: desktops on broadband, phones on 4G.
func platformProfile(p client.Platform) netem.Profile {
	if p == client.Desktop {
		return netem.Broadband
	}
	return netem.Mobile4G
}

func (w *world) buildClients(weights []netem.RegionWeight) error {
	picker, err := netem.NewRegionPicker(w.matrix, weights)
	if err != nil {
		return &Error{Key: "clients.regions", Reason: err.Error()}
	}
	platforms := sortedWeights(w.sc.Clients.Platforms)
	dir := client.NewDirectory()
	place := w.eng.Stream("client-placement")
	sessions := w.sc.Clients.Sessions
	onlineShare := 1.0
	if sessions.MeanOnline > 0 {
		onlineShare = float64(sessions.MeanOnline) / float64(sessions.MeanOnline+sessions.MeanOffline)
	}
	// The crowd is drawn from a stream of its own, so a scenario without one draws as before.
	crowd, crowdStream := map[int]bool{}, w.eng.Stream("flash-crowd")
	if fc := w.sc.Clients.FlashCrowd; fc.Fraction > 0 {
		for _, i := range crowdStream.Perm(w.sc.Clients.Count)[:int(fc.Fraction*float64(w.sc.Clients.Count)+0.5)] {
			crowd[i] = true
		}
	}
	for i := range w.sc.Clients.Count {
		name := fmt.Sprintf("client-%d", i)
		keys := identity.Derive(w.sc.Seed, name)
		platform := pickWeighted(platforms, place)
		pl, err := client.ParsePlatform(platform)
		if err != nil {
			return &Error{Key: "clients.platforms." + platform, Reason: err.Error()}
		}
		profile := platformProfile(pl)
		region := w.matrix.Name(picker.Draw(place))
		h, err := w.eng.AddHost(sim.HostConfig{Name: name, Link: simlink.Host{Region: region, Profile: profile}, Cores: 4})
		if err != nil {
			return err
		}
		cfg := client.Config{Platform: pl, Suite: w.suite, Directory: dir, Seeds: w.seeds}
		w.sc.Clients.applyDefences(&cfg)
		c, err := client.New(cfg, keys)
		if err != nil {
			return fmt.Errorf("client %s: %w", name, err)
		}
		online := place.Float64() < onlineShare
		wc := &worldClient{name: name, c: c, id: c.ID(), platform: platform, online: online}
		wc.addr = netip.AddrPortFrom(w.eng.HostIP(h), clientPort)
		// Apps start at random moments of the warmup, as users open them, rather than all
		// bootstrapping from the seed nodes in the same instant.
		startAt := time.Duration(place.Float64() * float64(w.sc.Warmup))
		if crowd[i] {
			// A crowd client opens the app in the burst, online: that is what brought it.
			fc := w.sc.Clients.FlashCrowd
			startAt = w.sc.Warmup + fc.At + time.Duration(crowdStream.Float64()*float64(fc.Within))
			wc.online, wc.waiting, online = false, true, false
		}
		w.eng.AfterFunc(startAt, func() {
			if wc.waiting {
				wc.waiting, wc.online = false, true
				w.col.setOnline(i, true, w.eng.Now())
			}
			if _, err := w.eng.Spawn(h, clientPort, name, c); err != nil {
				panic(fmt.Sprintf("spawning %s: %v", name, err)) // the address was free when the host was made
			}
			if !wc.online {
				_ = w.eng.Invoke(wc.addr, c.GoOffline)
			}
		})
		w.col.addClient(wc.addr, wc.id, platform, online)
		if w.leak != nil {
			w.leak.T.AddClient(leakage.ClientInfo{Name: name, Addr: wc.addr, ID: wc.id, Region: region, Platform: platform})
		}
		w.clients = append(w.clients, wc)
	}
	graph := ContactGraph(len(w.clients), w.sc.Workload, w.eng.Stream("contacts"))
	for i, cs := range graph {
		w.clients[i].contacts = cs
	}
	if w.leak != nil {
		w.leak.T.Contacts = graph
	}
	return nil
}

// sortedWeights lists a weight map by name, so that draws from it do not depend on map order.
// Region is the name whether the map weights regions or platforms.
func sortedWeights(m map[string]float64) []netem.RegionWeight {
	out := make([]netem.RegionWeight, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, netem.RegionWeight{Region: k, Weight: m[k]})
	}
	return out
}

// pickWeighted draws a name from ws in proportion to its weight.
func pickWeighted(ws []netem.RegionWeight, r *rand.Rand) string {
	total := 0.0
	for _, x := range ws {
		total += x.Weight
	}
	v := r.Float64() * total
	for _, x := range ws {
		if v < x.Weight {
			return x.Region
		}
		v -= x.Weight
	}
	return ws[len(ws)-1].Region
}

// expAfter draws the time to the next event of a Poisson process with rate perHour.
func expAfter(perHour float64, r *rand.Rand) time.Duration {
	if perHour <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(r.ExpFloat64() / perHour * float64(time.Hour))
}
