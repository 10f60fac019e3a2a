package proc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/sqlite"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// NodeConfig sets up one service-node process.
type NodeConfig struct {
	// Member is the node's name and address; Seed derives its keys (the registry's roster must
	// use the same seed).
	Member Member
	Seed   uint64
	// Registry is the registry's address: lists come from it, proofs and reports go to it.
	Registry netip.AddrPort
	// DB is the SQLite database file (created when missing, kept across restarts).
	DB string
	// Admin is the admin endpoint's listen address (host:port; empty: none).
	Admin string
	// ListPoll is how often the node asks the registry for a new list (default the node's 30 s).
	ListPoll time.Duration
	// Servers are the servers (file server, push server) the node proxies onion requests to,
	// by host name, as the real node resolves them.
	Servers map[string]netip.AddrPort
	// Log receives the structured log (default slog.Default()).
	Log *slog.Logger
}

// graceTime is how long a stopping actor's last replies and sends get before the sockets close.
const graceTime = 300 * time.Millisecond

// RunNode runs the node until ctx ends, then stops it gracefully and closes its database.
func RunNode(ctx context.Context, cfg NodeConfig) error {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", cfg.Member.Name)
	if cfg.DB == "" {
		return errors.New("node: no database file given")
	}
	st, err := sqlite.Open(sqlite.Config{Path: cfg.DB})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // after the driver has stopped the actor (below)
	ncfg := node.DefaultConfig()
	ncfg.Suite = cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	ncfg.Registry = cfg.Registry
	if cfg.ListPoll > 0 {
		ncfg.ListPoll = cfg.ListPoll
	}
	ncfg.Servers = map[string]actor.Addr{}
	for host, addr := range cfg.Servers {
		ncfg.Servers[host] = addr
	}
	n, err := node.New(ncfg, cfg.Member.Keys(cfg.Seed), st)
	if err != nil {
		return err
	}
	addr := cfg.Member.Addr
	adm := newAdmin(log, addr, cfg.Member.Name)
	drv := adm.drv
	defer drv.Close()
	adm.ready = func() bool { return n.Swarm() != swarm.Unassigned }
	adm.stats = func() any { return nodeStats(n) }
	adm.hashes = func() ([]string, error) {
		var hs []string
		err := n.Store().EachInRange(store.FullSpace, func(m store.Message) bool { hs = append(hs, m.Hash); return true })
		return hs, err
	}
	if err := drv.Spawn(addr, cfg.Member.Name, n); err != nil {
		return err
	}
	stopAdmin, err := adm.serve(ctx, cfg.Admin)
	if err != nil {
		return err
	}
	defer stopAdmin()
	log.Info("node serving", "addr", addr.String(), "registry", cfg.Registry.String(), "db", cfg.DB,
		"ed25519", fmt.Sprintf("%x", cfg.Member.Keys(cfg.Seed).Ed25519Public))
	<-ctx.Done()
	log.Info("node stopping")
	stopGracefully(drv, addr)
	log.Info("node stopped", "calls", drv.Stats().Calls, "handled", drv.Stats().Handled)
	return nil
}

// stopGracefully runs the actor's Stop, lets its last messages leave, and closes the driver,
// which waits for the actor's goroutine: nothing touches the store after it returns.
func stopGracefully(drv *live.Driver, addr actor.Addr) {
	if drv.Stop(addr) == nil {
		time.Sleep(graceTime)
	}
	drv.Close()
}

// nodeStats are a node's own figures for /stats.
func nodeStats(n *node.Node) any {
	out := map[string]any{"swarm": uint64(n.Swarm()), "list_height": n.ListHeight(),
		"pending_retries": n.PendingRetries(), "pending_transfers": n.PendingTransfers()}
	if st, err := n.Store().Stats(); err == nil {
		out["messages"], out["data_bytes"] = st.Messages, st.DataBytes
	}
	return out
}

// eventLogger logs what the actor observes at debug level.
func eventLogger(log *slog.Logger) live.Sink {
	return func(_ time.Time, _ actor.Addr, ev actor.Event) {
		if log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("event", "event", ev.EventName())
		}
	}
}
