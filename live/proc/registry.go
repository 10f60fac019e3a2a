package proc

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/registry"
)

// RegistryConfig sets up the registry process.
type RegistryConfig struct {
	// Listen is the registry's address: the nodes' oxend and the clients' seed node.
	Listen netip.AddrPort
	// Seed derives the nodes' keys and the block hashes (the swarms).
	Seed uint64
	// Nodes is the roster, registered before the first block.
	Nodes []Member
	// BlockInterval is the time between blocks (default the registry's 2 min).
	BlockInterval time.Duration
	// Obligations is how failing nodes are found (default quorum).
	Obligations registry.Obligations
	// Admin is the admin endpoint's listen address (empty: none).
	Admin string
	// Log receives the structured log (default slog.Default()).
	Log *slog.Logger
}

// RunRegistry runs the registry until ctx ends.
func RunRegistry(ctx context.Context, cfg RegistryConfig) error {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("actor", "registry")
	reg, err := registry.New(registry.Config{Seed: cfg.Seed, BlockInterval: cfg.BlockInterval, Obligations: cfg.Obligations})
	if err != nil {
		return err
	}
	seen := map[netip.AddrPort]string{}
	keys := map[string][32]byte{}
	for i, m := range cfg.Nodes {
		keys[m.Name] = m.Keys(cfg.Seed).Ed25519Public
		if other, dup := seen[m.Addr]; dup {
			return fmt.Errorf("registry: nodes %s and %s both at %v: give each node an address of its own", other, m.Name, m.Addr)
		}
		seen[m.Addr] = m.Name
		if err := reg.Register(m.Registration(cfg.Seed, i)); err != nil {
			return fmt.Errorf("registry: node %s: %w", m.Name, err)
		}
	}
	adm := newAdmin(log, cfg.Listen, "registry")
	drv := adm.drv
	defer drv.Close()
	adm.ready = func() bool { return reg.Height() > 0 }
	adm.stats = func() any {
		return map[string]any{"height": reg.Height(), "nodes": len(reg.Nodes()), "swarms": len(reg.Swarms()), "published_nodes": len(reg.Published().Nodes)}
	}
	adm.halt = func(name string, down bool) error {
		ed, ok := keys[name]
		if !ok {
			return fmt.Errorf("no node %q in the roster", name)
		}
		if down {
			return reg.Halt(ed)
		}
		return reg.Unhalt(ed)
	}
	if err := drv.Spawn(cfg.Listen, "registry", reg); err != nil {
		return err
	}
	stopAdmin, err := adm.serve(ctx, cfg.Admin)
	if err != nil {
		return err
	}
	defer stopAdmin()
	log.Info("registry serving", "addr", cfg.Listen.String(), "nodes", len(cfg.Nodes))
	<-ctx.Done()
	log.Info("registry stopping")
	stopGracefully(drv, cfg.Listen)
	return nil
}
