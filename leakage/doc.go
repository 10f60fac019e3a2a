// Package leakage measures what observers of the Session network learn: the ground truth of
// what each role saw (recorded from the events nodes, clients and seed nodes report, which
// their own logic never reads), adversaries made of those roles (coalitions of nodes drawn at
// random, the largest operators, a hosting provider, a region's or every link), and the
// metrics joined over them: exposure of each client's (IP, Session ID) pair and of (sender
// IP, recipient ID) pairs, time to first compromise, and the per-role view table.
//
// It reads events and never runs actors or feeds anything back into them. The world builder
// registers a Recorder as an engine sink only when the scenario has a leakage section, so a
// run without one pays nothing.
//
// # Records
//
// A Recorder keeps compact records, in the order the events arrived (virtual time order), so
// later analyses (the timing correlation attack, anonymity sets, contact graphs) can be built
// on them without another run. Times are offsets from the run's start; nodes and clients are
// indices into Tables (-1 where the address or account belongs to nobody the tables know);
// lists of accounts and hops are spans into shared pools, read with Recorder.Accounts and
// Recorder.Hops:
//
//   - DirectRecord: a direct storage RPC at a node (source address, method, every account).
//   - OnionRecord: one onion request as its client sent it (path, destination, method,
//     account, size, outcome), from the client's side.
//   - HopRecord: one onion hop as the node saw it (previous and next hop, hop number, role,
//     bytes in and out, and at the destination every account named).
//   - SeedRecord: a bootstrap request at a seed node (client address).
//   - StoredRecord: a message written at a node (owner, size, namespace, how it got there),
//     which is also swarm replication's ground truth.
//   - PathRecord: a path built or rotated; GuardTestRecord: a guard candidate tested.
//
// # Exposure levels
//
// A client's (IP, Session ID) pair is compromised at level
//   - direct when a coalition node got a direct request naming the ID from the client's
//     address (the desktop guard test does exactly that);
//   - guard_and_destination when an onion request naming the ID reached its destination with
//     guard and destination in the coalition;
//   - full_path when every hop and the destination were;
//   - correlation when the timing attack links them (not built yet: null in the summary).
//
// An onion request counts from the moment its answer (or its failure) came back, at most one
// round trip after the destination saw it, and only if the destination answered it (a
// request lost on the way reached no destination). A link observer decrypts nothing and
// never sees an ID, so its node-view levels are null; TimingBothEnds says how often it
// watched both ends of a client's request.
//
// # Long horizons
//
// The records need not come from a full simulation. The path-selection mode of package
// scenarios (scenario key leakage.horizon) plays months of pool refreshes, guard tests, paths,
// node churn and swarm changes with the real client's decisions and no message bytes, drawing
// requests at the rates Recorder.RequestRates measured in a full run, and feeds the same events
// into a Recorder; Analyze then computes the same section. Only the first request of each
// (path, destination, account) is played, which changes no level: a later identical request
// sets no bit the first did not.
package leakage
