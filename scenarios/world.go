package scenarios

import (
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/wiremode"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/placement"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/sim"
)

// world is one scenario's network on the engine: the registry and seed nodes, the service
// nodes, the clients, and the collector measuring them.
type world struct {
	sc        Scenario
	sn        *simnet.Net // the laid-out network; eng, net, reg and seeds are its parts
	eng       *sim.Engine
	drv       driver       // runs the actors: eng, or live in live mode
	live      *liveDriver  // nil in sim mode
	docker    *dockerWorld // nil unless docker mode (then live is its driver)
	net       *netem.Network
	matrix    *netem.Matrix
	suite     cryptomode.Suite
	wire      wiremode.Mode
	reg       *registry.Registry
	seeds     []actor.Addr
	nodes     []*worldNode
	clients   []*worldClient
	servers   []*worldServer // file, push and community servers (buildServers)
	groups    []*worldGroup  // group chats (buildGroups)
	push      *pushWorld     // the push server, nil without one (servers.push)
	col       *collector
	pinned    []bool     // clients held offline by a fault
	rng       *rand.Rand // the world's own stream: faults, churn, workload choices
	lifetimes *rand.Rand // node lifetimes (nodes.churn.lifetime_median); nil without them
	epoch     time.Time
	planned   int // nodes planned so far (names node-0 ... node-(planned-1))
	operators int // operators planned so far (numbers 0 ... operators-1)
	plan      placement.Config
	nodeConf  node.Config
	// ownSinksOnly: no sink but the world's own reads the events (see buildWorldOn).
	ownSinksOnly bool

	communities []*communityServer // servers.communities, also in servers
	// fileServer is the file server among servers; nil when the scenario needs none.
	fileServer *worldServer
	// attachStreams are the clients' streams of attachment draws, made at their first message.
	attachStreams []*rand.Rand

	leak    *leakage.Recorder // nil without a leakage section: nothing recorded, nothing paid
	taps    *leakage.LinkTaps // nil without leakage.link_taps
	sybilOf map[string]string // node name -> the sybil adversary that registers it

	caches []*workerCaches // by group of hosts (cachesOf)

	// replies counts what answerMessages did, so that a run's reply rate can be measured.
	replies struct {
		due    uint64 // messages clients received early enough to answer within the sending period
		online uint64 // of those, the ones whose recipient was online when the answer was due
		sent   uint64 // replies sent (a client offline when its answer is due sends none)
	}
}

type worldNode struct {
	name     string
	addr     actor.Addr
	host     sim.HostID
	n        *node.Node
	alive    bool
	operator int    // the operator's rank at the start (0: the largest); -1 for nodes that joined later
	region   string // where it was placed (docker mode's partitions pick nodes by it)
	hung     bool   // frozen by a hang fault (hang.go): alive, answering nothing
	hangs    int    // hang faults that froze it so far
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

// buildWorld builds the scenario's world on one worker; with taps non-nil every transmission is
// written to it (leakage.link_taps) from the first.
func buildWorld(sc Scenario, progress func(sim.Progress), taps io.Writer) (*world, error) {
	return buildWorldOn(sc, 1, progress, taps, false)
}

// buildWorldOn is buildWorld with the engine asked to run on workers workers (in sim mode:
// see Workers). ownSinksOnly says that no sink but the world's own (the collector, the
// leakage recorder, the answering clients) will read the events: without a leakage recorder,
// which reads them, the nodes then leave out their per-request events (node.Config.Quiet).
func buildWorldOn(sc Scenario, workers int, progress func(sim.Progress), taps io.Writer, ownSinksOnly bool) (*world, error) {
	w := &world{sc: sc, col: newCollector(), ownSinksOnly: ownSinksOnly}
	var err error
	built := false
	defer func() {
		if !built {
			w.closeDocker() // a world that failed halfway leaves no container behind
		}
	}()
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
	if w.wire, err = wiremode.Parse(sc.Wire); err != nil {
		return nil, &Error{Key: "wire", Value: sc.Wire, Reason: err.Error()}
	}

	if err := w.buildNet(nodeWeights, workers, progress); err != nil {
		return nil, err
	}
	w.drv, w.epoch = w.eng, w.eng.Now()
	if sc.Mode == "live" {
		w.live = newLiveDriver(w.eng, w.net)
		w.drv, w.epoch = w.live, w.live.Now()
	}
	w.col.epoch = w.epoch
	if taps != nil {
		w.taps = leakage.NewLinkTaps(taps, w.epoch)
		eng := w.eng
		if w.live != nil {
			// Every write on every connection, as the link model shapes it (see liveTap).
			w.live.model.SetTap(w.liveTap)
		} else {
			w.sn.SetTap(func(from, to sim.HostID, size int, sent, arrive int64, ok bool) {
				w.taps.Record(eng.HostIP(from), eng.HostIP(to), size, sent, arrive, ok)
			})
		}
	}
	w.rng = w.eng.Stream("world")

	if len(sc.Leakage.Adversaries) > 0 {
		w.leak = leakage.NewRecorder(leakage.NewTables(), w.epoch)
		// Over a horizon the run gives only the request rates (see analyzeLeakage).
		w.leak.RequestsOnly = sc.Leakage.Horizon > 0
	}
	if err := w.buildNodes(); err != nil {
		return nil, err
	}
	if err := w.buildServers(); err != nil {
		return nil, err
	}
	if err := w.buildClients(clientWeights); err != nil {
		return nil, err
	}
	if err := w.buildGroups(); err != nil {
		return nil, err
	}
	w.drv.AddSink(w.col.Observe)
	if w.leak != nil {
		w.drv.AddSink(w.leak.Observe)
	}
	built = true
	return w, nil
}

// buildNet lays out the engine and the link model, and places the registry and the seed nodes
// on hosts in the regions that host most nodes (the real seed nodes are a handful of
// well-connected servers).
func (w *world) buildNet(nodeWeights []netem.RegionWeight, workers int, progress func(sim.Progress)) error {
	sc := w.sc
	byWeight := append([]netem.RegionWeight(nil), nodeWeights...)
	sort.SliceStable(byWeight, func(i, j int) bool { return byWeight[i].Weight > byWeight[j].Weight })
	regions := make([]string, len(byWeight))
	for i, x := range byWeight {
		regions[i] = x.Region
	}
	reg := sc.registryConfig()
	if sc.Nodes.StorageServer == "2.8" {
		reg.StorageServerVersion = [3]int{2, 8, 0}
	}
	net, err := simnet.New(simnet.Config{
		Engine:    sim.Config{Seed: sc.Seed, Cores: sc.Nodes.Cores, Progress: progress, Workers: w.engineWorkers(workers)},
		Links:     netem.Config{Matrix: w.matrix, SameRegionRTT: sc.Network.SameRegionRTT, PathJitter: sc.Network.Jitter},
		Registry:  reg,
		Regions:   regions,
		SeedNodes: sc.Registry.SeedNodes,
	})
	if err != nil {
		return err
	}
	w.sn, w.eng, w.net, w.reg, w.seeds = net, net.Engine, net.Links, net.Registry, net.Seeds
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
	cfg.Obligations = registry.Obligations(s.Registry.Obligations)
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
	add := w.sn.AddNode
	if w.live != nil && w.live.running() {
		add = w.addLiveNodeHost // a node joining a running live world
	}
	h, err := add(spec.Registration)
	if err != nil {
		return nil, err
	}
	return &worldNode{name: spec.Name, addr: spec.Addr, host: h, operator: spec.Operator, region: spec.Region}, nil
}

// spawnNode starts the node actor of a registered node, with list as its first view.
func (w *world) spawnNode(wn *worldNode, spec placement.Spec, list *registry.List) error {
	n, err := w.newNode(spec.Name, wn.host, spec.Keys, memory.New(memory.Config{}))
	if err != nil {
		return err
	}
	if list != nil {
		n.SetList(list)
	}
	wn.n = n
	if _, err := w.drv.Spawn(wn.host, spec.Addr.Port(), spec.Name, n); err != nil {
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

// newNode makes a node of the world's configuration for host h over a store: a new node's
// empty one, or the one a crashed node left (a restart).
func (w *world) newNode(name string, h sim.HostID, keys identity.Keys, st store.Store) (*node.Node, error) {
	cfg := w.nodeConf
	if w.live != nil {
		// The shared memos are not safe across goroutines: each node keeps its own.
		cfg.Views, cfg.KeyMemo = node.NewViews(), identity.NewX25519Memo()
	} else {
		c := w.cachesOf(h)
		cfg.Views, cfg.KeyMemo = c.views, c.keys
	}
	n, err := node.New(cfg, keys, st)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	return n, nil
}

func (w *world) buildNodes() error {
	w.plan = w.sc.placementConfig(0, 0)
	w.nodeConf = node.DefaultConfig()
	w.nodeConf.Version = w.sc.Nodes.StorageServer
	w.nodeConf.Suite = w.suite
	w.nodeConf.Registry = w.sn.RegistryAddr
	w.nodeConf.Servers = map[string]actor.Addr{} // filled by buildServers
	w.nodeConf.UptimeProofInterval = min(w.nodeConf.UptimeProofInterval, w.sc.Registry.UptimeProofMaxAge/2)
	w.nodeConf.Quiet = w.ownSinksOnly && w.leak == nil
	if w.sc.Mode == "docker" {
		return w.startDocker()
	}
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
	if w.live != nil {
		return w.startLive(specs, hosts, list)
	}
	for i, spec := range specs {
		if err := w.spawnNode(hosts[i], spec, list); err != nil {
			return err
		}
	}
	return w.sn.Start(list)
}

// applyDefences sets the client options a scenario overrides on top of the client's network
// profile; what it leaves alone keeps the profile's. The encoding and the guard test were
// validated at load.
func (c Clients) applyDefences(cfg *client.Config) {
	if enc, own, _ := parseEncoding(c.Encoding); !own {
		cfg.Encoding = enc
	}
	if g, _ := client.ParseGuardTest(c.GuardTest); g != client.GuardTestDefault {
		cfg.GuardTest = g
	}
	if c.GuardLifetime > 0 {
		cfg.GuardLifetime = c.GuardLifetime
	}
	if c.PathRotation > 0 {
		cfg.PathRotate = c.PathRotation
	}
	cfg.Paths = c.Paths
	if len(c.OnionPadding) > 0 {
		cfg.OnionPadding = c.OnionPadding
	}
	cfg.CoverPollsPerHour = c.CoverTraffic
}

func (w *world) buildClients(weights []netem.RegionWeight) error {
	picker, err := netem.NewRegionPicker(w.matrix, weights)
	if err != nil {
		return &Error{Key: "clients.regions", Reason: err.Error()}
	}
	platforms := sortedWeights(w.sc.Clients.Platforms)
	place := w.eng.Stream("client-placement")
	sessions := w.sc.Clients.Sessions
	onlineShare := 1.0
	if sessions.MeanOnline > 0 {
		onlineShare = float64(sessions.MeanOnline) / float64(sessions.MeanOnline+sessions.MeanOffline)
	}
	// The crowd is drawn from a stream of its own, so a scenario without one draws as before.
	crowd, crowdStream := map[int]bool{}, w.eng.Stream("flash-crowd")
	// Clocks too, so that the other draws stay as they were.
	clocks := w.eng.Stream("clock")
	// Community memberships too.
	joins := w.eng.Stream("communities")
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
		region := w.matrix.Name(picker.Draw(place))
		h, addr, err := w.sn.AddClient(name, region, pl)
		if err != nil {
			return err
		}
		np, err := w.sc.Clients.profile(pl)
		if err != nil {
			return &Error{Key: "clients.profiles." + platform, Reason: err.Error()}
		}
		cfg := np.Config()
		cfg.Suite, cfg.Wire, cfg.Seeds = w.suite, w.wire, w.seeds
		if w.live != nil {
			// Not safe across goroutines: one of each per client.
			cfg.Directory, cfg.KeyMemo = client.NewDirectory(), identity.NewX25519Memo()
		} else {
			c := w.cachesOf(h)
			cfg.Directory, cfg.KeyMemo = c.dir, c.keys
		}
		w.sc.Clients.applyDefences(&cfg)
		w.configurePush(&cfg, name, platform, addr)
		w.attachmentConfig(&cfg)
		cfg.ClockOffset = w.sc.Clients.Clock.draw(clocks)
		cfg.Communities = w.communitiesOf(joins)
		w.col.clocks.client(cfg.ClockOffset)
		c, err := client.New(cfg, keys)
		if err != nil {
			return fmt.Errorf("client %s: %w", name, err)
		}
		online := place.Float64() < onlineShare
		wc := &worldClient{name: name, addr: addr, c: c, id: c.ID(), platform: platform, online: online}
		// Apps start at random moments of the warmup, as users open them, rather than all
		// bootstrapping from the seed nodes in the same instant.
		startAt := time.Duration(place.Float64() * float64(w.sc.Warmup))
		if crowd[i] {
			// A crowd client opens the app in the burst, online: that is what brought it.
			fc := w.sc.Clients.FlashCrowd
			startAt = w.sc.Warmup + fc.At + time.Duration(crowdStream.Float64()*float64(fc.Within))
			wc.online, wc.waiting, online = false, true, false
		}
		w.drv.AfterFunc(startAt, func() {
			if wc.waiting {
				wc.waiting, wc.online = false, true
				w.col.setOnline(i, true, w.drv.Now())
			}
			if _, err := w.drv.Spawn(h, simnet.ClientPort, name, c); err != nil {
				panic(fmt.Sprintf("spawning %s: %v", name, err)) // the address was free when the host was made
			}
			if !wc.online {
				_ = w.drv.Invoke(wc.addr, c.GoOffline)
			}
		})
		w.col.addClient(wc.addr, wc.id, platform, online)
		if w.leak != nil {
			ci := w.leak.T.AddClient(leakage.ClientInfo{Name: name, Addr: wc.addr, ID: wc.id, Region: region, Platform: platform})
			w.blindedAliases(ci, keys, cfg.Communities)
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
