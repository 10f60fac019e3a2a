package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/registry"
)

func init() {
	registerCommand(newNodeCmd)
	registerCommand(newRegistryCmd)
}

// procFlags are the flags node and registry share.
type procFlags struct {
	seed     uint64
	admin    string
	logLevel string
}

func (p *procFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Uint64Var(&p.seed, "seed", 1, "seed the nodes' keys are derived from (the same in the registry and every node)")
	fl.StringVar(&p.admin, "admin", "", "listen address (ip:port) of the plain-HTTP admin endpoint: /health, /stats, /links, POST /fault, /hashes (empty: none)")
	fl.StringVar(&p.logLevel, "log-level", "info", "log level: debug (every event the actor observes), info, warn or error")
}

// logger is a JSON slog logger on w at the flag's level.
func (p *procFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(p.logLevel)); err != nil {
		return nil, usageError(fmt.Errorf("--log-level %q: use debug, info, warn or error", p.logLevel))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// untilStopped is ctx ended by SIGTERM, SIGINT or SIGWINCH.
func untilStopped(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, proc.StopSignals...)
}

func parseAddrFlag(name, v string) (netip.AddrPort, error) {
	ap, err := proc.ParseAddr(v)
	if err != nil {
		return ap, usageError(fmt.Errorf("--%s: %w", name, err))
	}
	return ap, nil
}

func newNodeCmd() *cobra.Command {
	var (
		pf                    procFlags
		name, listen, reg, db string
		listPoll              time.Duration
		servers               []string
	)
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run one service node as a real process (HTTPS storage RPC and onion endpoints, SQLite store)",
		Long: `Run one service node as a process of its own: the storage RPC (/storage_rpc/v1) and the onion
endpoints over HTTPS with a self-signed certificate on --listen, its messages in the SQLite
database --db (kept across restarts), reachability tests and replication to its swarm peers
over real connections. Its keys come from --seed and --name, as the registry's roster derives
them (sessionsim registry --node name=ip:port): a node restarted with the same name, address
and database is the same service node. --server gives the host names of the servers (file
server, push server) it proxies onion requests to, and their addresses.

It stops gracefully on SIGTERM, SIGINT and SIGWINCH (the signal dockertest stops containers
with) and logs JSON lines (log/slog) on stderr. The admin endpoint (--admin) serves:
  GET  /health   200 once the node's list puts it in a swarm, 503 before
  GET  /stats    calls, responses, timeouts, the store's message count, swarm, list height
  GET  /links    the link table: partitioned peers, added latency, and what they did
  POST /fault    set the link table: {"partition":["127.70.0.2"] or ["*"],"latency_ms":20,
                 "peer_latency_ms":{"127.70.2.1":40}} (latency_ms on every write, a peer's on
                 writes to that peer), and "links": the world's link model on the links to the
                 peers (region matrix and settings, every host's region, access link and
                 degradation; what the node writes to a peer waits as the model says)
  GET  /hashes   every message hash in the store`,
		Example: `  sessionsim registry --listen 127.70.0.1:22021 --node n1=127.70.1.1:22021 --node n2=127.70.1.2:22021 &
  sessionsim node --name n1 --listen 127.70.1.1:22021 --registry 127.70.0.1:22021 --db /tmp/n1.db --admin 127.70.1.1:9001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError(fmt.Errorf("--name: give the node's name in the registry's roster"))
			}
			if db == "" {
				return usageError(fmt.Errorf("--db: give the SQLite database file (created when missing)"))
			}
			if listPoll < 0 {
				return usageError(fmt.Errorf("--list-poll %v: use a positive duration", listPoll))
			}
			addr, err := parseAddrFlag("listen", listen)
			if err != nil {
				return err
			}
			regAddr, err := parseAddrFlag("registry", reg)
			if err != nil {
				return err
			}
			serverAddrs := map[string]netip.AddrPort{}
			for _, s := range servers {
				host, ap, err := proc.ParseServer(s)
				if err != nil {
					return usageError(fmt.Errorf("--server: %w", err))
				}
				serverAddrs[host] = ap
			}
			log, err := pf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := checkDBPath(db); err != nil {
				return usageError(err)
			}
			ctx, stop := untilStopped(cmd.Context())
			defer stop()
			return proc.RunNode(ctx, proc.NodeConfig{Member: proc.Member{Name: name, Addr: addr}, Seed: pf.seed, Registry: regAddr,
				DB: db, Admin: pf.admin, ListPoll: listPoll, Servers: serverAddrs, Log: log})
		},
	}
	pf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the node's name in the registry's roster (its keys derive from --seed and it)")
	fl.StringVar(&listen, "listen", "", "IPv4 address and port the node serves HTTPS on (ip:port), as in the roster")
	fl.StringVar(&reg, "registry", "", "the registry's address (ip:port)")
	fl.StringVar(&db, "db", "", "SQLite database file of the node's messages")
	fl.DurationVar(&listPoll, "list-poll", 0, "how often the node asks the registry for a new list (0: the node's default, 30s)")
	fl.StringArrayVar(&servers, "server", nil, "a server the node proxies onion requests to, as host=ip:port (repeat the flag, one per server)")
	return cmd
}

// checkDBPath refuses a --db SQLite cannot create, before the node starts: a path in a
// directory that does not exist, or a directory. SQLite's own word for both is "unable to open
// database file", which names neither the path nor the remedy.
func checkDBPath(db string) error {
	if fi, err := os.Stat(db); err == nil && fi.IsDir() {
		return fmt.Errorf("--db %s is a directory: give the database file, e.g. %s", db, filepath.Join(db, "node.db"))
	}
	dir := filepath.Dir(db)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("--db %s: the directory %s does not exist; create it (mkdir -p %s) or give a file in an existing directory", db, dir, dir)
	case err != nil:
		return fmt.Errorf("--db %s: %w", db, err)
	case !fi.IsDir():
		return fmt.Errorf("--db %s: %s is not a directory; give a file in a directory", db, dir)
	}
	return nil
}

func newRegistryCmd() *cobra.Command {
	var (
		pf          procFlags
		listen      string
		nodes       []string
		block       time.Duration
		obligations string
	)
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run the registry and seed node (service-node list, swarms, bootstrap API) as a real process",
		Long: `Run the registry as a process of its own: the service-node list (registrations, blocks,
swarm assignment, reachability reports, uptime proofs) that nodes poll and that it pushes to
them, and the seed-node API (POST /json_rpc get_n_service_nodes) clients bootstrap from, over
HTTPS on --listen. The roster (--node name=ip:port, one per node) is registered before the
first block; each node's keys derive from --seed and its name, as sessionsim node derives them.

It stops gracefully on SIGTERM, SIGINT and SIGWINCH, logs JSON lines on stderr, and serves the
same admin endpoint as a node (--admin; /stats shows the height, nodes and swarms), and
POST /register {"node":"name=ip:port"}: a node joining the running network, registered as the
roster's are and listed from the next block.`,
		Example: `  sessionsim registry --listen 127.70.0.1:22021 --node n1=127.70.1.1:22021 --node n2=127.70.1.2:22021 --admin 127.70.0.1:9000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := parseAddrFlag("listen", listen)
			if err != nil {
				return err
			}
			if len(nodes) == 0 {
				return usageError(fmt.Errorf("--node: give at least one node as name=ip:port"))
			}
			members := make([]proc.Member, len(nodes))
			at := map[netip.AddrPort]string{}
			for i, s := range nodes {
				if members[i], err = proc.ParseMember(s); err != nil {
					return usageError(fmt.Errorf("--node: %w", err))
				}
				if other, dup := at[members[i].Addr]; dup {
					return usageError(fmt.Errorf("--node: %s and %s are both at %v: give each node an address of its own", other, members[i].Name, members[i].Addr))
				}
				at[members[i].Addr] = members[i].Name
			}
			if block < 0 {
				return usageError(fmt.Errorf("--block-interval %v: use a positive duration", block))
			}
			ob := registry.Obligations(obligations)
			if ob != registry.ObligationsQuorum && ob != registry.ObligationsPooled {
				return usageError(fmt.Errorf("--obligations %q: use %s or %s", obligations, registry.ObligationsQuorum, registry.ObligationsPooled))
			}
			log, err := pf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, stop := untilStopped(cmd.Context())
			defer stop()
			return proc.RunRegistry(ctx, proc.RegistryConfig{Listen: addr, Seed: pf.seed, Nodes: members, BlockInterval: block,
				Obligations: ob, Admin: pf.admin, Log: log})
		},
	}
	pf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "", "IPv4 address and port the registry serves HTTPS on (ip:port)")
	fl.StringArrayVar(&nodes, "node", nil, "a node of the roster as name=ip:port (repeat the flag, one per node)")
	fl.DurationVar(&block, "block-interval", 0, "time between blocks (0: the network's 2m)")
	fl.StringVar(&obligations, "obligations", string(registry.ObligationsQuorum), "how failing nodes are found: quorum (the network's) or pooled (fast, for short runs)")
	return cmd
}
