package registry

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Config is the service-node list's rules. The zero value of a field means its default (see
// DefaultConfig); Fill applies them. Short scenarios shorten the thresholds: the real ones are
// hours long.
type Config struct {
	// Seed makes the block hashes (and so the swarms) of a run.
	Seed uint64
	// BlockInterval is the time between blocks. Default 2 min (TARGET_BLOCK_TIME,
	// network_config/mainnet.h).
	BlockInterval time.Duration
	// ListDelay is how long after a block the nodes (and seed nodes) receive the new list: the
	// time for the block to propagate and for each storage server to fetch the list from its
	// oxend. Default 10 s.
	ListDelay time.Duration
	// Obligations is how nodes that fail their obligations are found. Default
	// ObligationsQuorum.
	Obligations Obligations
	// DecommissionAfter is how long a node may fail reachability tests, in the view that judges
	// it, before it fails its obligations. Default 1h05m (UPTIME_PROOF_VALIDITY -
	// UPTIME_PROOF_FREQUENCY: network_config/mainnet.h, as
	// cryptonote_core/service_node_quorum_cop.cpp uses them).
	DecommissionAfter time.Duration
	// UptimeProofMaxAge is how old a node's last uptime proof may be. Default 2h05m
	// (UPTIME_PROOF_VALIDITY, network_config/mainnet.h).
	UptimeProofMaxAge time.Duration
	// ReachFailureValidity is how long a failed reachability report counts: if the last report
	// is a failure older than this, the node is given the benefit of the doubt. Default 5 min
	// (REACHABLE_MAX_FAILURE_VALIDITY, cryptonote_config.h).
	ReachFailureValidity time.Duration
	// InitialCredit is the downtime credit of a new node. Default 2 h
	// (DECOMMISSION_INITIAL_CREDIT, cryptonote_core/service_node_rules.h).
	InitialCredit time.Duration
	// CreditPerPeriod is the credit earned per CreditPeriod of activity. Defaults 24 h per
	// 30 days (DECOMMISSION_CREDIT_PER_DAY = 24 x 60 min / 30,
	// cryptonote_core/service_node_rules.h).
	CreditPerPeriod time.Duration
	CreditPeriod    time.Duration
	// MaxCredit caps the credit. Default 48 h (DECOMMISSION_MAX_CREDIT,
	// cryptonote_core/service_node_rules.h).
	MaxCredit time.Duration
	// MinimumCredit is the credit a failing node needs to be decommissioned rather than
	// deregistered. Default 2 h (DECOMMISSION_MINIMUM, cryptonote_core/service_node_rules.h).
	MinimumCredit time.Duration
	// Seeds are the seed nodes: they receive every list, as the nodes do, to answer clients'
	// bootstrap requests.
	Seeds []actor.Addr
	// Hardfork is the network version reported in lists and get_service_nodes ("hardfork",
	// "snode_revision"). Default {19, 3}.
	Hardfork [2]int
	// StorageServerVersion is reported as every node's "storage_server_version". Default
	// {2, 11, 0}.
	StorageServerVersion [3]int
	// ListSize is the wire size charged for a list pushed to a node. A storage server gets the
	// list from its own oxend on the same machine, so only a nominal size crosses the simulated
	// network. Default 512 bytes.
	ListSize int
}

// RecommissionPenalty is the factor of RECOMMISSION_CREDIT (cryptonote_core/service_node_rules.h):
// a recommissioned node keeps the credit it had when decommissioned, minus twice the time it was
// down.
const RecommissionPenalty = 2

// Obligations names how the ledger finds the nodes that fail their obligations.
type Obligations string

const (
	// ObligationsQuorum is oxen-core's obligations quorum (see Quorum): every block draws from
	// its hash QuorumSize validators and WorkerCount(N - QuorumSize) nodes to test; the
	// validators vote ReorgSafetyBlocks + 1 blocks later, each by the uptime proofs and its own
	// storage server's reachability reports at that time, and MinVotes matching votes change a
	// node's state in the next block. Each vote tests a fresh sample, so a node that fails stays
	// in its swarm N/WorkerCount(N - QuorumSize) blocks on average (40 blocks, 80 minutes, on
	// 2,000 nodes). The chain starts with the run: its first ReorgSafetyBlocks + 1 blocks have
	// no votes.
	ObligationsQuorum Obligations = "quorum"
	// ObligationsPooled judges every node in every block by every tester's reports pooled, and
	// acts in that block, so a node is out at the first block after it fails: a fast detector
	// for short runs that want swarms to re-form, not what the network does.
	ObligationsPooled Obligations = "pooled"
)

// DefaultConfig is the real network's rules.
func DefaultConfig() Config {
	return Config{
		Obligations:          ObligationsQuorum,
		BlockInterval:        2 * time.Minute,
		ListDelay:            10 * time.Second,
		DecommissionAfter:    65 * time.Minute,
		UptimeProofMaxAge:    125 * time.Minute,
		ReachFailureValidity: 5 * time.Minute,
		InitialCredit:        2 * time.Hour,
		CreditPerPeriod:      24 * time.Hour,
		CreditPeriod:         30 * 24 * time.Hour,
		MaxCredit:            48 * time.Hour,
		MinimumCredit:        2 * time.Hour,
		Hardfork:             [2]int{19, 3},
		StorageServerVersion: [3]int{2, 11, 0},
		ListSize:             512,
	}
}

// Fill returns c with zero fields set to their defaults, or an error naming a field that is
// negative or inconsistent.
func (c Config) Fill() (Config, error) {
	d := DefaultConfig()
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"BlockInterval", &c.BlockInterval, d.BlockInterval},
		{"ListDelay", &c.ListDelay, d.ListDelay},
		{"DecommissionAfter", &c.DecommissionAfter, d.DecommissionAfter},
		{"UptimeProofMaxAge", &c.UptimeProofMaxAge, d.UptimeProofMaxAge},
		{"ReachFailureValidity", &c.ReachFailureValidity, d.ReachFailureValidity},
		{"InitialCredit", &c.InitialCredit, d.InitialCredit},
		{"CreditPerPeriod", &c.CreditPerPeriod, d.CreditPerPeriod},
		{"CreditPeriod", &c.CreditPeriod, d.CreditPeriod},
		{"MaxCredit", &c.MaxCredit, d.MaxCredit},
		{"MinimumCredit", &c.MinimumCredit, d.MinimumCredit},
	}
	for _, f := range durations {
		if *f.v < 0 {
			return c, fmt.Errorf("registry config: %s is %v: it must be positive (0 means the default, %v)", f.name, *f.v, f.def)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	switch c.Obligations {
	case "":
		c.Obligations = d.Obligations
	case ObligationsQuorum, ObligationsPooled:
	default:
		return c, fmt.Errorf("registry config: Obligations %q: it must be %q or %q", c.Obligations, ObligationsQuorum, ObligationsPooled)
	}
	if c.Hardfork == ([2]int{}) {
		c.Hardfork = d.Hardfork
	}
	if c.StorageServerVersion == ([3]int{}) {
		c.StorageServerVersion = d.StorageServerVersion
	}
	if c.ListSize < 0 {
		return c, fmt.Errorf("registry config: ListSize is %d: it must be positive (0 means the default, %d)", c.ListSize, d.ListSize)
	}
	if c.ListSize == 0 {
		c.ListSize = d.ListSize
	}
	if c.InitialCredit > c.MaxCredit {
		return c, fmt.Errorf("registry config: InitialCredit %v exceeds MaxCredit %v", c.InitialCredit, c.MaxCredit)
	}
	for i, s := range c.Seeds {
		if !s.IsValid() {
			return c, fmt.Errorf("registry config: Seeds[%d] is not a valid address", i)
		}
	}
	return c, nil
}

var errNotRegistered = errors.New("not a registered service node")
