// Package proc runs one actor of the network as an operating-system process of its own: a
// service node (RunNode: HTTPS storage RPC and onion endpoints, the SQLite store on disk,
// reachability tests and replication to its swarm peers over real connections) or the registry
// with its seed-node API (RunRegistry), each on the live driver with a single actor.
//
// Both bootstrap from a roster the operator gives on the command line: every node's name and
// address, with keys derived from (seed, name) as the simulator derives them, so that the
// registry can register the nodes before they start and a node restarted with the same name,
// address and database is the same service node.
//
// Beside its actor's HTTPS socket, each process serves a plain-HTTP admin endpoint for the
// harness (health, stats, the link table and its fault switch, the stored hashes), logs in
// JSON with log/slog, and stops gracefully on SIGTERM, SIGINT and SIGWINCH (dockertest stops
// containers with SIGWINCH).
package proc
