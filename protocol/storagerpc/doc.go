// Package storagerpc is the storage server's JSON RPC (POST /storage_rpc/v1, and the payload of
// onion requests to a node) as session-storage-server 2.8 speaks it: typed requests for every
// client method, a parser that accepts and refuses exactly what the server does (with its
// status codes and error texts), the messages clients sign and nodes verify, message hashes,
// the server's limits, the answers nodes write and the decoders clients read them with.
//
// It is a pure library over byte slices, shared by the service node (server side) and the
// client (client side). Signatures go through a cryptomode.Suite so that the modeled crypto
// mode works unchanged; every operation that verifies or signs returns the CPU time the real
// operation costs.
//
// Server side:
//
//	req, err := storage.ParseRequest(body) // 400 *Error on bad input
//	if o, ok := req.(storage.Owned); ok && !mine(o.Owner()) { /* 421 + SwarmInfoResponse */ }
//	cost, err := req.Check(storage.CheckEnv{Now: now, Suite: suite})
//
// Client side:
//
//	st := storage.NewStore(to, storage.NamespaceDefault, nowMs, 14*24*time.Hour, data)
//	body := storage.EncodeRequest(&storage.Batch{Requests: []storage.Request{st}})
//	results, err := storage.DecodeBatchResponse(answer)
//
// Where the real server departs from the protocol description it is followed, and the
// departure is documented on the function concerned (for instance: a too-large message is a
// 400, not a 413; swarm-wide answers are always 200).
package storagerpc
