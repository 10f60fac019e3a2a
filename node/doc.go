// Package node is the service node actor: session-storage-server as an actor.Actor. It answers
// the storage RPC (directly and as an onion destination), replicates recursive requests across
// its swarm and moves data when swarms change, relays onion requests, tests the reachability of
// other nodes and reports to the service-node list (the registry, standing in for the node's
// oxend), and reports what it saw as events.
//
// The node never touches the clock, the network or randomness directly: everything comes
// through its actor.Env, so the same code runs in the simulator and in the live drivers. All
// asymmetric cryptography goes through the configured cryptomode.Suite, and its CPU cost is
// charged with Env.Work.
//
// Endpoints (actor.Request.Method):
//
//	/storage_rpc/v1    client RPC, JSON body ([]byte); rate-limited per client IP
//	/onion_req/v2      onion request from a client (the node is the guard)
//	sn.onion_request   onion request from the previous node (bencoded, carries the hop number)
//	/ping_test/v1      reachability test
//	sn.storage_cc      a recursive request forwarded by a swarm member (*Forward)
//	sn.data_ready      ready handshake before a push (*DataReady; 2.11)
//	sn.data            messages pushed on a swarm change (*DataBatch)
//	sn.list            a service-node list pushed by the registry (*registry.List)
//	monitor.messages   push-notification subscriptions from the push server ([]byte, bencoded;
//	                   see monitor.go), which then gets a notify.message for each new message
//
// Every request a node sends and every answer it gives is charged its exact size on the wire,
// computed by the protocol library: the encoded body in its transport's framing
// (protocol/transport: HTTPS to clients and servers, OxenMQ between nodes). Bodies that are
// bytes (client RPCs and their answers, onion layers, text refusals) are measured as they are.
// Node-to-node bodies that travel as Go values in the simulator (shared, never copied) are
// charged the exact length of the encoding the storage server sends for them:
//   - *Forward (sn.storage_cc): the forwarded request, bencoded (storagerpc.ForwardSize);
//   - a member's answer to a forward, *storagerpc.StoreResult, *storagerpc.HashesResult or
//     *storagerpc.ExpireResult, bencoded (storagerpc.ForwardedStoreResultSize,
//     storagerpc.ForwardedHashesResultSize, storagerpc.ForwardedExpireResultSize);
//   - *DataBatch (sn.data): the pushed messages as one bencoded list (storagerpc.PushSize of the
//     messages' storagerpc.PushedMessageSize);
//   - *DataReady (sn.data_ready): the swarm ID, 8 bytes.
//
// Onion requests in structural form (wiremode.Structural, sent by clients configured so) arrive
// as *onion.Request values on /onion_req/v2 and sn.onion_request, charged the lengths of the
// bodies they stand for (onion.Request.GuardBodyLen, RelayBodyLen); the node answers them with
// an *onion.Reply of the sealed reply's length (onion.Reply.WireLen).
//
// The *registry.List on sn.list is the registry's to size.
//
// Two storage server versions are modelled (Config.Version): "2.11" (default), which keeps
// failed forwards for retries and pushes data on swarm changes only after a ready handshake,
// limited to the swarm's own part of the space; and "2.8", which forwards and pushes once.
//
// Where the model departs from the real server, on purpose:
//   - Pushed batches carry the namespace (2.8's serialisation drops it).
//   - The rate limiter forgets full buckets without the real one's double counting on cleanup.
//   - Reachability tests run on exact timers instead of a 200 ms tick, and only over HTTPS.
//   - A retried forward is validated as of its first arrival (2.10+ accepts retries past their
//     signature's freshness); it is refused once the message has expired.
//   - oxend_request is answered from the node's own list, not a local oxend.
//   - A proxied onion request can only reach the servers in Config.Servers.
package node
