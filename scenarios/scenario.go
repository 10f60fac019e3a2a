// Package scenarios defines what a sessionsim run does: the scenario schema with its defaults and
// validation, the built-in scenario files, and loading them (file, SESSIONSIM_* environment,
// --set overrides) strictly, so that a typo is an error rather than a silently ignored setting.
package scenarios

import (
	"time"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/registry"
)

// Scenario is one run's full description. Every field has a default (see Default); the resolved
// scenario, with every default filled in, is written into the results directory.
type Scenario struct {
	// Name identifies the scenario in reports and in the default results directory name.
	Name string `yaml:"name"`
	// Description is free text shown in reports.
	Description string `yaml:"description"`
	// Seed makes the run reproducible: same seed, same binary, byte-identical summary.json.
	Seed uint64 `yaml:"seed"`
	// Mode is the driver: "sim" (in-process, virtual time), "live" (real sockets, real time) or
	// "docker" (the registry and nodes in containers, the clients on the live driver).
	Mode string `yaml:"mode"`
	// Crypto is "real" (every byte as on the real network) or "modeled" (same sizes and views,
	// no curve operations, their CPU cost charged): modeled is what makes 100,000 clients fit.
	Crypto string `yaml:"crypto"`
	// Wire is "bytes" (every request and answer as the real wire's bytes) or "structural"
	// (onion requests and their answers as values carrying their exact sizes, with the same CPU
	// charges and observations: the same summary as crypto=modeled, faster). Structural needs
	// crypto=modeled and the sim driver.
	Wire string `yaml:"wire"`
	// Duration is the virtual time during which clients send.
	Duration time.Duration `yaml:"duration"`
	// Warmup is virtual time before the first message, for clients to bootstrap and build paths.
	Warmup time.Duration `yaml:"warmup"`
	// Drain is virtual time after Duration in which nothing new is sent, so messages in flight
	// arrive; messages whose recipient was not online since they were sent are reported pending.
	Drain time.Duration `yaml:"drain"`

	Network  Network  `yaml:"network"`
	Nodes    Nodes    `yaml:"nodes"`
	Registry Registry `yaml:"registry"`
	Clients  Clients  `yaml:"clients"`
	Workload Workload `yaml:"workload"`
	Faults   []Fault  `yaml:"faults"`
	// Servers are the servers besides the service nodes: the file server, the push server,
	// community servers.
	Servers Servers `yaml:"servers"`
	// Checks are assertions on the run's summary figures, such as "delivery_ratio >= 0.999"
	// (syntax: package scenarios/checks); a run with a failing check exits 3. Left out of the
	// resolved scenario when empty.
	Checks []string `yaml:"checks,omitempty"`
	// Leakage measures what adversaries learn; without adversaries nothing is recorded.
	Leakage Leakage `yaml:"leakage,omitempty"`
	// Quick is what changes when the scenario runs shortened (`sessionsim run --quick`, see
	// Quick in quick.go). Left out of the resolved scenario when empty.
	Quick Quick `yaml:"quick,omitempty"`
}

// Network is the link model.
type Network struct {
	// LatencyMatrix is a CSV of region-to-region RTTs in ms; "builtin" is the embedded
	// aws-2017 matrix.
	LatencyMatrix string `yaml:"latency_matrix"`
	// SameRegionRTT is the RTT between two hosts of one region (the matrix diagonal).
	SameRegionRTT time.Duration `yaml:"same_region_rtt"`
	// Jitter is the standard deviation added to each one-way propagation delay, as a fraction of it.
	Jitter float64 `yaml:"jitter"`
}

// Nodes are the service nodes.
type Nodes struct {
	// Count is how many service nodes are registered at the start.
	Count int `yaml:"count"`
	// Regions weights where nodes are placed (an assumption: the public figures only say "about
	// 2,000 nodes in 39 countries", many on large European hosts).
	Regions map[string]float64 `yaml:"regions"`
	// StorageServer selects the replication behaviour: "2.11" (ready handshake, bounded dumps,
	// retried forwards) or "2.8" (full pushes, no retries).
	StorageServer string `yaml:"storage_server"`
	// Cores is the CPU cores of each node host.
	Cores int `yaml:"cores"`
	// LargestOperatorShare is the fraction of nodes run by the largest operator.
	LargestOperatorShare float64 `yaml:"largest_operator_share"`
	// Churn makes nodes fail and join during the run.
	Churn Churn `yaml:"churn"`
}

// Churn is random node failure and arrival, as Poisson processes over the whole network.
type Churn struct {
	// CrashesPerHour is the rate at which random active nodes crash (and stay down).
	CrashesPerHour float64 `yaml:"crashes_per_hour"`
	// JoinsPerHour is the rate at which new nodes register.
	JoinsPerHour float64 `yaml:"joins_per_hour"`
	// LifetimeMedian, when set, gives every node a lifetime after which it crashes, drawn from a
	// Pareto distribution of the second kind (Lomax) with this median: measured peer-to-peer
	// lifetimes are heavy-tailed (most nodes leave soon, a few stay for very long), which
	// exponential crashes miss. A
	// node's lifetime counts from the start of the sending period, or from its join. 0: none.
	LifetimeMedian time.Duration `yaml:"lifetime_median"`
	// LifetimeShape is the Pareto shape (alpha) of the lifetimes: the smaller, the heavier the
	// tail (at 1 or less the mean is infinite).
	LifetimeShape float64 `yaml:"lifetime_shape"`
}

// Registry is the service-node list's rules, shortened where a scenario is shorter than the
// real thresholds.
type Registry struct {
	// BlockInterval is the time between blocks (2 minutes on the real chain).
	BlockInterval time.Duration `yaml:"block_interval"`
	// ListDelay is how long after a block the nodes learn the new list.
	ListDelay time.Duration `yaml:"list_delay"`
	// DecommissionAfter is how long a node may fail reachability tests before it is
	// decommissioned (1h05m on the real network).
	DecommissionAfter time.Duration `yaml:"decommission_after"`
	// UptimeProofMaxAge is how old a node's last uptime proof may be (2h05m on the real network).
	UptimeProofMaxAge time.Duration `yaml:"uptime_proof_max_age"`
	// Obligations is how failing nodes are found: "quorum", oxen-core's obligations quorum (a
	// dead node stays in its swarm until a quorum that tests it votes it out), or "pooled",
	// every node judged in every block by all testers' reports (out at the first block it
	// fails).
	Obligations string `yaml:"obligations"`
	// SeedNodes is how many seed nodes answer clients' bootstrap requests.
	SeedNodes int `yaml:"seed_nodes"`
}

// Clients are the simulated users.
type Clients struct {
	// Count is how many clients (users) take part.
	Count int `yaml:"count"`
	// Regions weights where clients are placed.
	Regions map[string]float64 `yaml:"regions"`
	// Platforms weights the app each client runs: desktop, ios, android.
	Platforms map[string]float64 `yaml:"platforms"`
	// Profiles names the network profile of each platform's clients (client.NetProfile): how
	// they poll, keep their pool, test guards and rotate paths. A platform left out runs its
	// current app ("desktop-2026", "ios-2026", "android-2026"); "android-2024" is the older
	// Android app, and "legacy-encoding" any platform's current app with the 2024 1:1 encoding.
	Profiles map[string]string `yaml:"profiles"`
	// Sessions makes clients go offline and come back.
	Sessions Sessions `yaml:"sessions"`
	// Encoding is how every client frames and pads its 1:1 messages: "libsession" (what the
	// 2026 apps send), "legacy" (the 2024 apps'), or "platform" for each client's own
	// (libsession on all three). Either opens the other's messages.
	Encoding string `yaml:"encoding"`

	// The defences below default to what the apps do today, so that a run can switch one on
	// and measure what it buys (leakage) and what it costs (bytes, latency).

	// GuardTest is the direct request that tests a guard candidate, for every client: "own-id"
	// (get_swarm for the client's own Session ID, as the desktop does), "random-id" (get_swarm
	// for a random ID), "ping" (an info request naming no account, as libsession does), or
	// "platform" for each client's profile's own.
	GuardTest string `yaml:"guard_test"`
	// GuardLifetime replaces a guard this long after it was selected; 0 keeps each profile's
	// own (10 days on iOS, until it fails on the others).
	GuardLifetime time.Duration `yaml:"guard_lifetime"`
	// PathRotation rebuilds the non-guard hops of each path once it is this old; 0 keeps each
	// profile's own (10 min on the 2026 phones, none on desktop).
	PathRotation time.Duration `yaml:"path_rotation"`
	// Paths is the number of onion paths each client keeps (the apps keep 2).
	Paths int `yaml:"paths"`
	// OnionPadding pads the destination layer of every onion request up to the next of these
	// sizes in bytes (past the largest, to a multiple of it) with JSON whitespace the node
	// skips; "none" (empty) pads nothing, as the apps do.
	OnionPadding Buckets `yaml:"onion_padding"`
	// CoverTraffic is each online client's rate of dummy polls per hour: retrieves shaped like
	// its real polls, for a decoy account at random members of the decoy's swarm, through its
	// onion paths. 0: none.
	CoverTraffic float64 `yaml:"cover_traffic"`
	// FlashCrowd holds a share of the clients back until a burst, as when a news event brings
	// many users to the app at once.
	FlashCrowd FlashCrowd `yaml:"flash_crowd"`
	// Clock is how far the clients' device clocks are from the true time (see Clock).
	Clock Clock `yaml:"clock"`
}

// Clock draws each client's device clock error. The nodes' clocks are the true time. The
// default is a normal spread of 2 s and no far-off clocks: phones and PCs set their clocks by
// NTP or the carrier, and OpenSignal's June 2013 measurement of a million Android speed tests
// (opensignal.com/reports/timestamps) found clocks concentrated within seconds of its server's,
// but 3.5% over an hour out (time-zone edge cases, manual changes to cheat games): set
// far_share 0.035 and far_offset 1h to model that tail.
type Clock struct {
	// Distribution is "none" (every clock exact), "normal" (Spread is the standard deviation)
	// or "uniform" (errors uniform in [-Spread, Spread]).
	Distribution string `yaml:"distribution"`
	// Spread is the distribution's width (see Distribution).
	Spread time.Duration `yaml:"spread"`
	// FarShare is the share of clients whose clock is FarOffset off instead, ahead or behind
	// with equal chance (plus the spread); 0: none.
	FarShare float64 `yaml:"far_share"`
	// FarOffset is how far off those clocks are.
	FarOffset time.Duration `yaml:"far_offset"`
}

// FlashCrowd is a share of the clients that start (open the app for the first time in the run)
// within a short window of the sending period instead of during the warmup. Until then they
// are offline, so messages to them wait as they would for any offline user.
type FlashCrowd struct {
	// Fraction of the clients in the crowd; 0: none.
	Fraction float64 `yaml:"fraction"`
	// At is when the window opens, counted from the end of the warmup, like faults.
	At time.Duration `yaml:"at"`
	// Within is the window's length: each client of the crowd starts at a uniform moment in it.
	Within time.Duration `yaml:"within"`
}

// Buckets are onion padding sizes in bytes, ascending. A scenario writes them as a list
// ([512, 1024, 4096]), as "512,1024,4096" (--set and the environment), or as "none".
type Buckets []int

// Sessions are clients' online/offline periods, exponentially distributed.
type Sessions struct {
	// MeanOnline is the mean length of an online period; 0 keeps every client online.
	MeanOnline time.Duration `yaml:"mean_online"`
	// MeanOffline is the mean length of an offline period.
	MeanOffline time.Duration `yaml:"mean_offline"`
}

// Workload is who writes to whom, how often and how much.
type Workload struct {
	// Graph is the conversation graph: "small-world" (Watts-Strogatz ring with rewiring) or
	// "random" (each client picks contacts uniformly).
	Graph string `yaml:"graph"`
	// Contacts is each client's number of contacts (even, for the small-world ring).
	Contacts int `yaml:"contacts"`
	// Rewire is the small-world rewiring probability.
	Rewire float64 `yaml:"rewire"`
	// MessagesPerHour is each online client's mean sending rate (Poisson), replies included:
	// conversations start at MessagesPerHour x (1 - ReplyProbability), so that replies, when all
	// are sent, make up the rest and the load stays that of a workload without them.
	MessagesPerHour float64 `yaml:"messages_per_hour"`
	// Activity is how sending rates differ between clients: "uniform" (each at MessagesPerHour)
	// or "heavy-tailed" (log-normal per-client rates with that mean; see ActivityRates).
	Activity string `yaml:"activity"`
	// ActivityTop15Share is, for heavy-tailed activity, the expected share of the messages that
	// the most active 15% of clients send (over 0.8 on one storage server in October 2023).
	ActivityTop15Share float64 `yaml:"activity_top15_share"`
	// ReplyProbability is the chance that a client answers a message it receives, so that
	// conversations go both ways; a reply may be answered in turn.
	ReplyProbability float64 `yaml:"reply_probability"`
	// ReplyDelay is the time from receiving a message to sending the reply, log-normally
	// distributed; a client offline by then does not reply.
	ReplyDelay DelayDist `yaml:"reply_delay"`
	// Size is the message body size in bytes, log-normally distributed.
	Size SizeDist `yaml:"size"`
	// UnknownRecipientShare is the fraction of messages sent to Session IDs no client owns
	// (counted as undeliverable, never as delivered).
	UnknownRecipientShare float64 `yaml:"unknown_recipient_share"`
	// Attachments makes a share of the messages carry a voice clip, photo or file, uploaded to
	// the file server (see Attachments).
	Attachments Attachments `yaml:"attachments"`
	// Groups are the group chats (03 groups) clients are members of.
	Groups Groups `yaml:"groups"`
}

// Groups are the world's group chats: how many, how large, how busy, who is in them.
type Groups struct {
	// PerClient is the mean number of groups a client is in; 0 makes no groups.
	PerClient float64 `yaml:"per_client"`
	// Size is the number of members of a group (its creator included), log-normally
	// distributed; at most 100, the apps' limit.
	Size SizeDist `yaml:"size"`
	// MessagesPerHour is each group's sending rate (Poisson), each message from a random member
	// online at that moment (none is sent when no member is online).
	MessagesPerHour float64 `yaml:"messages_per_hour"`
	// Overlap is the share of a group's members drawn from its creator's contacts in the
	// contact graph (as far as there are enough); the rest are drawn at random.
	Overlap float64 `yaml:"overlap"`
	// RemovalsPerHour is each group's rate (Poisson) at which its admin removes a random
	// member, rotating the group key; the admin must be online, and a group keeps two members.
	RemovalsPerHour float64 `yaml:"removals_per_hour"`

	// AdditionsPerHour is each group's rate (Poisson) at which its admin adds a client that
	// never was a member, drawn as the members were (from the admin's contacts with
	// probability Overlap, else at random); the admin must be online, and a full group (100)
	// adds nobody. The new member gets the group's keys in a key supplement, without a rekey.
	AdditionsPerHour float64 `yaml:"additions_per_hour"`
}

// SizeDist is a log-normal body size, clipped to [Min, Max].
type SizeDist struct {
	Median int     `yaml:"median"`
	Sigma  float64 `yaml:"sigma"`
	Min    int     `yaml:"min"`
	Max    int     `yaml:"max"`
}

// DelayDist is a log-normal duration, clipped to [Min, Max].
type DelayDist struct {
	Median time.Duration `yaml:"median"`
	Sigma  float64       `yaml:"sigma"`
	Min    time.Duration `yaml:"min"`
	Max    time.Duration `yaml:"max"`
}

// Fault is one scheduled impairment.
type Fault struct {
	// At is when the fault starts, in virtual time from the start of the run.
	At time.Duration `yaml:"at"`
	// For is how long it lasts; 0 means until the end. A crash with For > 0 restarts its nodes
	// For later (same identity, address and stored messages: a crash loses memory, not disk);
	// with 0 they stay down.
	For time.Duration `yaml:"for"`
	// Kind is "crash" (Count nodes, or Fraction of them, are killed), "hang" (Count or Fraction
	// of nodes freeze as a stopped process: they keep their state and connections but answer
	// nothing, so requests to them time out at their callers, their timers wait and their
	// oxend casts no votes; when For ends they carry on, late timers firing and queued
	// requests served), "partition" (the regions in Regions are cut off from the rest),
	// "degrade" (Count or Fraction of nodes get AddedLatency and Loss), or "offline" (Count or
	// Fraction of clients go offline for For).
	Kind string `yaml:"kind"`
	// Target chooses the nodes of a crash, hang or degrade: "random" (default), "paths" (nodes
	// that are on clients' onion paths at that moment, most used first) or "largest-operator"
	// (the running nodes of the operator with most nodes at the start); or, for a degrade, the
	// clients: "phones" (iOS and Android clients, whose access links it impairs); or
	// "file-server" (a crash stops it, and restarts it with its files after For when set).
	Target       string        `yaml:"target"`
	Count        int           `yaml:"count"`
	Fraction     float64       `yaml:"fraction"`
	Regions      []string      `yaml:"regions"`
	AddedLatency time.Duration `yaml:"added_latency"`
	Loss         float64       `yaml:"loss"`
}

// DefaultNodeRegions are the default node placement weights (see the latency data's README: an
// assumption, not a measurement). They are the network model's own list, so the two cannot drift.
func DefaultNodeRegions() map[string]float64 { return weightMap(netem.DefaultNodeWeights()) }

// DefaultClientRegions are the default client placement weights (an assumption), from the
// network model's list as for nodes.
func DefaultClientRegions() map[string]float64 { return weightMap(netem.DefaultClientWeights()) }

// weightMap turns the network model's weight list into the scenario's region -> weight form.
func weightMap(ws []netem.RegionWeight) map[string]float64 {
	m := make(map[string]float64, len(ws))
	for _, w := range ws {
		m[w.Region] = w.Weight
	}
	return m
}

// Default is the scenario every file starts from: every key a file may set has its value here.
func Default() Scenario {
	return Scenario{
		Name:     "unnamed",
		Seed:     1,
		Mode:     "sim",
		Crypto:   "real",
		Wire:     "bytes",
		Duration: 20 * time.Minute,
		Warmup:   1 * time.Minute,
		Drain:    2 * time.Minute,
		Network: Network{
			LatencyMatrix: "builtin",
			SameRegionRTT: 2 * time.Millisecond,
			Jitter:        0.05,
		},
		Nodes: Nodes{
			Count:                100,
			Regions:              DefaultNodeRegions(),
			StorageServer:        "2.11",
			Cores:                2,
			LargestOperatorShare: 0.10,
			Churn:                Churn{LifetimeShape: 1.5},
		},
		Registry: Registry{
			BlockInterval:     2 * time.Minute,
			ListDelay:         10 * time.Second,
			DecommissionAfter: 65 * time.Minute,
			UptimeProofMaxAge: 125 * time.Minute,
			Obligations:       string(registry.ObligationsQuorum),
			SeedNodes:         3,
		},
		Clients: Clients{
			Count:     200,
			Regions:   DefaultClientRegions(),
			Platforms: map[string]float64{"desktop": 0.4, "ios": 0.3, "android": 0.3},
			Profiles:  map[string]string{"desktop": "desktop-2026", "ios": "ios-2026", "android": "android-2026"},
			Encoding:  "platform",
			GuardTest: "platform",
			Paths:     2,
			Clock:     Clock{Distribution: ClockNormal, Spread: 2 * time.Second, FarOffset: time.Hour},
		},
		Workload: Workload{
			Graph:           "small-world",
			Contacts:        6,
			Rewire:          0.1,
			MessagesPerHour: 30,
			Size:            SizeDist{Median: 120, Sigma: 1.0, Min: 1, Max: 4000},

			// Every client alike and no replies unless a scenario asks for them (default and
			// large do), so that each built-in's checks measure the workload they were
			// calibrated on.
			Activity:           "uniform",
			ActivityTop15Share: 0.8,
			ReplyDelay:         DelayDist{Median: 30 * time.Second, Sigma: 1.0, Min: 2 * time.Second, Max: 10 * time.Minute},
			Attachments:        defaultAttachments(),
			// No groups unless a scenario asks for them.
			Groups: Groups{Size: SizeDist{Median: 8, Sigma: 1.0, Min: 2, Max: 100}, MessagesPerHour: 6, Overlap: 0.5},
		},
		Servers: defaultServers(),
	}
}
