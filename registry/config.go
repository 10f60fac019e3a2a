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
	// BlockInterval is the time between blocks. Default 2 min (oxen's target block time).
	BlockInterval time.Duration
	// ListDelay is how long after a block the nodes (and seed nodes) receive the new list: the
	// time for the block to propagate and for each storage server to fetch the list from its
	// oxend. Default 10 s.
	ListDelay time.Duration
	// DecommissionAfter is how long a node may fail reachability tests before it fails its
	// obligations. Default 1h05m (oxen's UPTIME_PROOF_VALIDITY - UPTIME_PROOF_FREQUENCY).
	DecommissionAfter time.Duration
	// UptimeProofMaxAge is how old a node's last uptime proof may be. Default 2h05m.
	UptimeProofMaxAge time.Duration
	// ReachFailureValidity is how long a failed reachability report counts: if the last report
	// is a failure older than this, the node is given the benefit of the doubt. Default 5 min
	// (oxen's REACHABLE_MAX_FAILURE_VALIDITY).
	ReachFailureValidity time.Duration
	// InitialCredit is the downtime credit of a new node. Default 2 h.
	InitialCredit time.Duration
	// CreditPerPeriod is the credit earned per CreditPeriod of activity. Defaults 24 h per
	// 30 days.
	CreditPerPeriod time.Duration
	CreditPeriod    time.Duration
	// MaxCredit caps the credit. Default 48 h.
	MaxCredit time.Duration
	// MinimumCredit is the credit a failing node needs to be decommissioned rather than
	// deregistered. Default 2 h.
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

// RecommissionPenalty is oxen's RECOMMISSION_CREDIT factor: a recommissioned node keeps the
// credit it had when decommissioned, minus twice the time it was down.
const RecommissionPenalty = 2

// DefaultConfig is the real network's rules.
func DefaultConfig() Config {
	return Config{
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
