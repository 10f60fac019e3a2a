package node

import (
	"cmp"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// Strategy is how a node moves data to other swarm members: the behaviour of a storage server
// version.
type Strategy uint8

const (
	// StrategyV211 is session-storage-server 2.10 and later: forwards that fail are kept and
	// retried; data is pushed on swarm changes only after the receiver answered a ready
	// handshake (retried until it does), and a newcomer gets only what its swarm owns.
	StrategyV211 Strategy = iota
	// StrategyV28 is session-storage-server 2.8: forwards and pushes are sent once, at once,
	// and a newcomer gets a member's whole store.
	StrategyV28
)

var strategyNames = enum.Names[Strategy]{
	Type:  "Strategy",
	Names: []string{StrategyV211: "v2.11", StrategyV28: "v2.8"},
	Aliases: map[string]Strategy{
		"": StrategyV211, "2.11": StrategyV211,
		"2.10": StrategyV211, "v2.10": StrategyV211, "2.12": StrategyV211, "v2.12": StrategyV211,
		"2.8": StrategyV28,
	},
}

func (s Strategy) String() string { return strategyNames.Name(s) }

// ParseStrategy reads a storage server version as scenarios name it: "2.11" (or "v2.11",
// "2.10", "2.12") and "2.8" (or "v2.8").
func ParseStrategy(v string) (Strategy, error) {
	return strategyNames.Read(v, "storage server version", `"2.11" (retries, ready handshake, range-limited dumps) or "2.8" (single pushes)`)
}

// Config is a node's configuration. The zero value of each field means its default (see
// DefaultConfig); Fill applies them.
type Config struct {
	// Version is the storage server version modelled: "2.11" (default) or "2.8". It selects
	// the replication strategy and is reported by the info method.
	Version string
	// Suite does every asymmetric operation (signatures, onion key agreement) in real or
	// modeled mode and says what each costs; the node charges the costs with Env.Work.
	// Default: real mode with cryptomode.DefaultCosts.
	Suite cryptomode.Suite
	// Registry is the address of the service-node list (the node's oxend): it reports
	// reachability results and uptime proofs there, and takes its lists from it. The zero
	// address means none (lists are then given with SetList; nothing is reported).
	Registry actor.Addr
	// ListPoll is how often the node asks the registry for the list (the storage server polls
	// oxend on every block notification; the registry pushes too). Default 30 s; negative
	// disables polling.
	ListPoll time.Duration
	// UptimeProofInterval is how often the node sends an uptime proof to the registry.
	// Default 1 h (oxen-core's proof frequency); negative disables proofs.
	UptimeProofInterval time.Duration

	// ForwardTimeout bounds a store (or other recursive request) forwarded to a swarm member.
	// Default 5 s.
	ForwardTimeout time.Duration
	// RetryFirst is when a failed forward is tried again (v2.11); RetryEvery the interval of
	// later attempts; RetryMaxAge when it is given up. Defaults 15 s, 60 s, 24 h.
	RetryFirst, RetryEvery, RetryMaxAge time.Duration
	// HandshakeInterval is how often a ready handshake is retried (v2.11). Default 10 s.
	HandshakeInterval time.Duration
	// HandshakeTimeout bounds one ready handshake. Default 5 s.
	HandshakeTimeout time.Duration
	// PushTimeout bounds one batch of messages pushed on a swarm change (the OxenMQ default
	// request timeout). Default 15 s.
	PushTimeout time.Duration
	// PushBatchBytes is the most a pushed batch holds (serialized). Default 9,000,000.
	PushBatchBytes int
	// CleanupInterval is how often expired messages are removed. Default 10 s.
	CleanupInterval time.Duration

	// RelayTimeout bounds an onion request forwarded to the next node. Default 30 s.
	RelayTimeout time.Duration
	// ProxyTimeout bounds an onion request posted to a server. Default 25 s.
	ProxyTimeout time.Duration
	// Servers are the servers (file server, community servers) onion requests may be proxied
	// to, by host name as the routing JSON names them. A node never posts anywhere else.
	Servers map[string]actor.Addr

	// RateLimit limits direct client requests per IP. Default DefaultRateLimit.
	RateLimit RateLimit
	// Reachability is the peer testing. Default DefaultReachability.
	Reachability Reachability
	// Hardfork is reported as "hf" in responses. Default [19, 3].
	Hardfork [2]int

	// Quiet: the node does not report RequestServed, OnionHop and ReplicationDone, the events it
	// reports for every request served, onion hop and forward answered, for a run none of whose
	// sinks reads them. Building and boxing each is a good share of what a large run allocates;
	// nothing the node does depends on them.
	Quiet bool

	// Views indexes service-node lists. The nodes of a world that run on one engine worker
	// share one (see Views); nil gives the node an index of its own.
	Views *Views
	// KeyMemo remembers account key conversions. The nodes of a world that run on one engine
	// worker share one (see identity.X25519Memo); nil gives the node a memo of its own.
	KeyMemo *identity.X25519Memo
}

// DefaultConfig is a storage server 2.11 with the real server's timings.
func DefaultConfig() Config {
	return Config{
		Version:             "2.11",
		Suite:               cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts),
		ListPoll:            30 * time.Second,
		UptimeProofInterval: time.Hour,
		ForwardTimeout:      5 * time.Second,
		RetryFirst:          15 * time.Second,
		RetryEvery:          60 * time.Second,
		RetryMaxAge:         24 * time.Hour,
		HandshakeInterval:   10 * time.Second,
		HandshakeTimeout:    5 * time.Second,
		PushTimeout:         15 * time.Second,
		PushBatchBytes:      9_000_000,
		CleanupInterval:     10 * time.Second,
		RelayTimeout:        30 * time.Second,
		ProxyTimeout:        25 * time.Second,
		RateLimit:           DefaultRateLimit,
		Reachability:        DefaultReachability,
		Hardfork:            [2]int{19, 3},
	}
}

// Fill returns c with every zero field set to its default, and checks the version.
func (c Config) Fill() (Config, error) {
	d := DefaultConfig()
	if c.Version == "" {
		c.Version = d.Version
	}
	if _, err := ParseStrategy(c.Version); err != nil {
		return c, err
	}
	if c.Suite == nil {
		c.Suite = d.Suite
	}
	c.ListPoll = cmp.Or(c.ListPoll, d.ListPoll)
	c.UptimeProofInterval = cmp.Or(c.UptimeProofInterval, d.UptimeProofInterval)
	c.ForwardTimeout = cmp.Or(c.ForwardTimeout, d.ForwardTimeout)
	c.RetryFirst = cmp.Or(c.RetryFirst, d.RetryFirst)
	c.RetryEvery = cmp.Or(c.RetryEvery, d.RetryEvery)
	c.RetryMaxAge = cmp.Or(c.RetryMaxAge, d.RetryMaxAge)
	c.HandshakeInterval = cmp.Or(c.HandshakeInterval, d.HandshakeInterval)
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, d.HandshakeTimeout)
	c.PushTimeout = cmp.Or(c.PushTimeout, d.PushTimeout)
	c.CleanupInterval = cmp.Or(c.CleanupInterval, d.CleanupInterval)
	c.RelayTimeout = cmp.Or(c.RelayTimeout, d.RelayTimeout)
	c.ProxyTimeout = cmp.Or(c.ProxyTimeout, d.ProxyTimeout)
	if c.PushBatchBytes <= 0 {
		c.PushBatchBytes = d.PushBatchBytes
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = d.RateLimit
	}
	if c.Reachability == (Reachability{}) {
		c.Reachability = d.Reachability
	} else {
		r, dr := &c.Reachability, d.Reachability
		r.Interval = cmp.Or(r.Interval, dr.Interval)
		r.IntervalSD = cmp.Or(r.IntervalSD, dr.IntervalSD)
		r.MinInterval = cmp.Or(r.MinInterval, dr.MinInterval)
		r.Backoff = cmp.Or(r.Backoff, dr.Backoff)
		r.BackoffMax = cmp.Or(r.BackoffMax, dr.BackoffMax)
		r.Timeout = cmp.Or(r.Timeout, dr.Timeout)
	}
	if c.Hardfork == ([2]int{}) {
		c.Hardfork = d.Hardfork
	}
	if c.Views == nil {
		c.Views = NewViews()
	}
	if c.KeyMemo == nil {
		c.KeyMemo = identity.NewX25519Memo()
	}
	return c, nil
}

// Strategy is the replication strategy of c.Version.
func (c Config) Strategy() Strategy {
	s, _ := ParseStrategy(c.Version)
	return s
}
