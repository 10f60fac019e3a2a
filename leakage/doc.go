// Package leakage measures what observers of the Session network learn: the ground truth of
// what each role saw (recorded from the events nodes, clients and seed nodes report, which
// their own logic never reads), adversaries made of those roles (coalitions of nodes drawn at
// random, the largest operators, a hosting provider, a region's or every link, new nodes a
// sybil registered during the run), and the
// metrics joined over them: exposure of each client's (IP, Session ID) pair and of (sender
// IP, recipient ID) pairs, time to first compromise, the per-role view table, the timing
// correlation attack, anonymity sets and contact-graph recovery.
//
// It reads events and never runs actors or feeds anything back into them. The world builder
// registers a Recorder as an engine sink only when the scenario has a leakage section, so a
// run without one pays nothing; a run evaluated over a long horizon keeps only its onion
// requests (Recorder.RequestsOnly), whose rates are all that mode takes from it.
//
// # Records
//
// A Recorder keeps compact records, in the order the events arrived (virtual time order), so
// later analyses (the timing correlation attack, anonymity sets, contact graphs) can be built
// on them without another run. Times are offsets from the run's start; nodes and clients are
// indices into Tables (-1 where the address or account belongs to nobody the tables know);
// lists of accounts and hops are spans into shared pools, read with Recorder.Accounts and
// Recorder.Hops. Times stay exact nanoseconds, since the timing attack compares them to the
// nanosecond; the records made for every request (OnionRecord, and about four HopRecords) pack
// their other fields into 40 bytes each, read through methods:
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
//   - correlation when the timing attack below links them (a true positive at its threshold),
//     at the end of the observation window in which it did.
//
// An onion request counts from the moment its answer (or its failure) came back, at most one
// round trip after the destination saw it, and only if the destination answered it (a
// request lost on the way reached no destination). A link observer decrypts nothing and
// never sees an ID, so its node-view levels are null; TimingBothEnds says how often it
// watched both ends of a client's request.
//
// # The correlation attack
//
// A node coalition sees at its guards, for client address c, the arrival times a_i and sizes
// b_i of c's onion requests, and at its destinations, for account o, the arrival times u_j
// and sizes z_j of requests naming o (D_o). It scores
//
//	S(c, o) = (1/|D_o|) * sum over j in D_o of max over i of
//	          [0 < u_j - a_i <= Delta] * [|z_j - (b_i - k)| <= eps]
//
// for accounts with |D_o| >= 3, where Delta is the network's 99th-percentile 3-hop transit
// time (destination arrival minus guard arrival, over the requests matched at both ends in
// the records), k the onion-layer overhead (the median of guard bytes in minus destination
// bytes in over the requests whose guard and destination the coalition held in the same
// draw: it can pair those, as it can its own requests; a coalition that held none uses the
// network's median, which its own requests would show it), and eps 16 bytes; the
// timing-only variant has eps infinite. The run is cut into windows of 1, 10 and 60 minutes
// and each window scored on its own.
//
// True pairs are (client, own ID) for polls and (sender, recipient) for stores: (c, o)
// whenever c sent a request naming o in the window. Every other pair of a client seen at a
// guard and an account seen at a destination in the window is a negative. Negatives are
// split in two halves by the adversary's stream; the threshold is the lowest score whose
// false-positive rate on the first half is at most 1e-3, and pairs at or above it are
// linked. The summary gives the true-positive rate at that threshold, precision with the
// second half's false-positive rate applied to every negative (the base rate), and the ROC
// curve. Scores, halves and totals are pooled over windows and draws. Only pairs with a
// candidate match are visited; pairs scoring 0 are counted, never listed, and beyond a
// budget of destination observations the target accounts are a uniform sample.
//
// # Anonymity sets and contact graphs
//
// For each store a coalition sees at a destination it holds, the candidate senders are the
// clients online (an onion request sent in the minute before). The posterior over them is
// uniform, weighted by the attack's likelihood ratio for one observation: m1/m0 for a client
// with a matching guard observation, (1-m1)/(1-m0) for one without, where m1 and m0 are how
// often the true sender and another online client match, measured over the coalition's
// stores. The effective set size is 2^H (Serjantov and Danezis); the floor is the number of
// clients whose requests used the store's last hop in that minute.
//
// Contact graphs are recovered by statistical disclosure: N(c, o) counts stores to o that
// follow a matching request of c within Delta, E(c, o) = n_c * n_o * Delta / T is what
// independence predicts, and {c, o} is inferred when N >= 2 and N > E + 3 sqrt(E); scored
// against the workload's contact graph.
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
