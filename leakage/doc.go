// Package leakage measures what observers of the Session network learn: the ground truth of
// what each role saw (recorded from the events nodes, clients and seed nodes report, which
// their own logic never reads), adversaries made of those roles (coalitions of nodes drawn at
// random, the largest operators, a hosting provider, a region's or every link, new nodes a
// sybil registered during the run), and the
// metrics joined over them: exposure of each client's (IP, Session ID) pair and of (sender
// IP, recipient ID) pairs, time to first compromise, the per-role view table, the timing
// correlation attacks of node coalitions and of link observers, anonymity sets and
// contact-graph recovery.
//
// It reads events and never runs actors or feeds anything back into them. The world builder
// registers a Recorder as an engine sink only when the scenario has a leakage section, so a
// run without one pays nothing; a run evaluated over a long horizon keeps only its onion
// requests (Recorder.RequestsOnly), whose rates are all that mode takes from it.
//
// # Records
//
// A Recorder keeps compact records, in the order the events arrived (virtual time order; a live
// run's sinks get them in the order of the driver's world lock, which Recorder.SortByTime puts
// back in time order before the analysis), so later analyses (the timing correlation attack,
// anonymity sets, contact graphs) can be built on them without another run. Times are offsets from the run's start; nodes and clients are
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
// watched both ends of a client's request. Its correlation level is null too: its attack
// (below) links an address to a destination node, which serves a whole swarm's accounts, never
// to one Session ID.
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
// # The link observers' attack
//
// A link observer (kinds region and global-timing, and provider with view link) sees
// addresses, times and sizes on the links it watches: those with an end at a node or client
// in its scope. It decrypts nothing, so at the exit it cannot see an account, only the node a
// request goes to, and from the public node list the swarm that node serves. Its attack is
// the cross-correlation of counts in fixed bins (Levine et al., FC 2004). For client address
// c, x_k counts c's onion requests reaching a guard in bin k of the window over a link it
// watches (the client's access link or the guard's); for the link from node p into node n,
// y_k counts the requests reaching n from p that n runs as their destination. With K bins of
// 50 ms in the window and L = ceil(Delta / 50 ms), Delta as above,
//
//	S(c, n) = max over links p->n of max(0, max over l in 0..L of r_l(c, p->n))
//	r_l     = (K Sxy - Sx Sy) / sqrt((K Sxx - Sx^2) (K Syy - Sy^2))
//
// where Sx and Sxx are the sums of x_k and x_k^2, Sy and Syy those of y_(k+l) and Sxy that of
// x_k y_(k+l), over k = 0..K-1 (y runs L bins past the window's end): the Pearson correlation
// of the client's series with the link's, delayed by l bins. Links with fewer than 3 arrivals
// in the window are not scored. The series count onion requests only, leaving out the other
// traffic on the same links (direct requests, responses, swarm replication, relayed onion
// requests) that a real observer would have to filter out, so the figures are what this
// attack achieves at best.
//
// It links a client address to a destination node, hence to the accounts of one swarm. True
// pairs are (c, n) whenever c sent a request in the window to node n naming an account (a
// poll of its own ID, whose swarm n is in; a store to a recipient, whose swarm n is in; a swarm
// lookup at a pool node); every other pair of a client seen on the client side and a node
// with a scored link in the window is a negative. Thresholds, halves, precision, the ROC and
// the windows are the node coalition's, from the same code; scores are rounded to 1e-4,
// pairs scoring 0 (a negative correlation, or no request in the L bins before any arrival) are
// counted, never listed, and beyond the same budget of arrivals the target nodes are a
// uniform sample. Linkability's target says what was linked: "account" for coalitions,
// "node" here; timing_only is null, the attack being on timing alone.
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
// A link observer's sets are the same with its attack's evidence: for each store it sees
// arrive at a node its one-minute attack scored, a candidate's weight is the likelihood ratio
// of the class of its score against that node in that window (0 for none, then (0, 0.1], ...,
// (0.9, 1]), P(class | sender) / P(class | another online client), measured over the
// observer's stores. A link observer has no contact graph: it links addresses to nodes, never
// to a recipient's ID, so its contact_graph is null.
//
// Contact graphs are recovered by statistical disclosure: N(c, o) counts stores to o that
// follow a matching request of c within Delta, E(c, o) = n_c * n_o * Delta / T is what
// independence predicts, and {c, o} is inferred when N >= 2 and N > E + 3 sqrt(E); scored
// against the workload's contact graph.
//
// # Servers
//
// The file server, the push server and community servers are destinations of onion requests
// to servers (v4, proxied by the path's last hop). Each reports lsrpc.Served for every request
// (the proxying node's address, the endpoint, sizes) and lsrpc.Learned when it learns of an
// account: a push subscription (account and device), a notification of a new message for an
// account, a community request signed with a blinded ID. A blinded ID is tied to its account
// (Tables.AddAlias) because anyone who knows a Session ID derives its blinded ID towards a
// server from public keys alone. The view table has a row per server role the world has
// (file_server, push_server, community_server), zero when it saw nothing, none when the world
// has no such server.
//
// An adversary of kind server runs the servers of the roles it names. It never sees a client's
// address (only the last hop's), so its (IP, Session ID) exposure levels are null. It learns
// accounts (community members, push subscribers), accounts tied to devices (push), and at the
// push server who receives when: the times at which each recipient gets messages. It cannot
// learn who sent them: a notification names the recipient only, and the sender's store
// reached a swarm node, not the server. Its recipients_timed is the share of active pairs
// whose recipient's message times it learnt, the recipient half of a pair that only a
// coalition holding the senders' guards can complete by timing. With fractions, the server
// adversary is joined with random node coalitions and does: for recipient o notified at times
// N_o (at least 3) and client c seen at the coalition's guards, S(c, o) is the share of N_o
// preceded within lag by a request of c reaching a coalition guard, lag being Delta plus the
// 99th percentile of the store-to-notification time; (c, o) is linked when c alone scores 1.
// pairs_linked is the share of active pairs so linked truly, pairs_linked_precision the share
// of links that were true.
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
