package client

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// The client's side of the wire: requests built and answers read with protocol/storagerpc and
// protocol/onion, in the shapes the desktop app uses (every onion RPC inside a batch).

const (
	storageEndpoint = "/storage_rpc/v1"
	// seedEndpoint is the seed nodes' (oxend's) JSON-RPC endpoint.
	seedEndpoint = "/json_rpc"
)

// seedRequest is the desktop's get_n_service_nodes call to a seed node. Request bodies are
// never changed once sent, so every client shares this one.
var seedRequest = []byte(`{"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}}`)

// seedRequestSwarms is seedRequest asking for each node's swarm_id too, as libsession-util's
// snode pool (src/network/snode_pool.cpp) does to compute swarms locally (Config.LocalSwarms).
// libsession asks for no X25519 key (it derives it from the Ed25519 one); the simulator's
// clients read it from the list, so the request keeps asking for it.
var seedRequestSwarms = []byte(`{"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"swarm_id":true}}}`)

// seedRequest is the client's bootstrap request.
func (c *Client) seedRequest() []byte {
	if c.cfg.LocalSwarms {
		return seedRequestSwarms
	}
	return seedRequest
}

// serviceNodesSwarmParams are the get_service_nodes parameters of a pool refresh that asks for
// swarm ids (see seedRequestSwarms).
const serviceNodesSwarmParams = `{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"swarm_id":true}}`

// post is an HTTPS POST of body to endpoint at to, charged its exact size on the wire.
func post(to actor.Addr, endpoint, contentType string, body []byte) actor.Request {
	return actor.Request{Method: endpoint, Body: body, Size: transport.HTTPSRequestSize(to, endpoint, contentType, len(body))}
}

func pubkeyOf(id identity.ID) storagerpc.Pubkey {
	return storagerpc.Pubkey{Prefix: id[0], Key: id.Key()}
}

// rpcRequest is a storage RPC request for an onion, as values: its JSON is written when the
// onion travels as bytes, while in structural form the destination takes the values in place of
// parsing the JSON, which is only measured (storagerpc.ParseRequest gives back what
// EncodeRequest encodes, and storagerpc.RequestLen is its length).
type rpcRequest struct {
	req storagerpc.Request
}

func rpcOf(req storagerpc.Request) rpcRequest { return rpcRequest{req: req} }

func batch(reqs ...storagerpc.Request) rpcRequest {
	return rpcOf(&storagerpc.Batch{Requests: reqs})
}

// getSwarmRequest is a direct get_swarm (the guard test); onion lookups wrap it in a batch.
func getSwarmRequest(id identity.ID) []byte {
	return storagerpc.EncodeRequest(&storagerpc.GetSwarm{Pubkey: pubkeyOf(id)})
}

func getSwarmBatch(id identity.ID) rpcRequest {
	return batch(&storagerpc.GetSwarm{Pubkey: pubkeyOf(id)})
}

// getServiceNodesRequest is a pool refresh's oxend_request; swarms asks for swarm ids too.
func getServiceNodesRequest(swarms bool) rpcRequest {
	if swarms {
		return batch(&storagerpc.OxendRequest{Endpoint: "get_service_nodes", Params: []byte(serviceNodesSwarmParams)})
	}
	return batch(storagerpc.NewGetServiceNodes())
}

// contentNamespace is where 1:1 messages are stored (the default namespace).
const contentNamespace int16 = 0

// storeNamespaces is what a store of a 1:1 message names, for the OnionRoundTrip event.
var storeNamespaces = []int16{contentNamespace}

// storeRequest is an unsigned store of a 1:1 message (or sync copy) in a one-request batch, or
// sequence when the app sends it so (StoreRetry.Sequence).
func storeRequest(to identity.ID, raw []byte, ts int64, ttl time.Duration, sequence bool) rpcRequest {
	return rpcOf(&storagerpc.Batch{Sequence: sequence, Requests: []storagerpc.Request{
		storagerpc.NewStore(pubkeyOf(to), storagerpc.Namespace(contentNamespace), ts, ttl, raw)}})
}

func messageHash(to identity.ID, ns int16, raw []byte) string {
	return storagerpc.MessageHash(pubkeyOf(to), storagerpc.Namespace(ns), raw)
}

// configPushRequest is a config push as the desktop sends it (UserSyncJob): a sequence of one
// signed store per config message, TTL configTTL, then a signed delete of the superseded
// messages when there are any.
func configPushRequest(s cryptomode.Suite, key ed25519.PrivateKey, id identity.ID, msgs []configMsg, old []string, nowMs int64) (rpcRequest, time.Duration) {
	signer := &storagerpc.Signer{Suite: s, Account: pubkeyOf(id), Key: key}
	reqs := make([]storagerpc.Request, 0, len(msgs)+1)
	var cost time.Duration
	for _, m := range msgs {
		st := storagerpc.NewStore(pubkeyOf(id), m.ns, nowMs, configTTL, m.data)
		cost += st.Sign(signer)
		reqs = append(reqs, st)
	}
	if len(old) > 0 {
		d := &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: pubkeyOf(id)}, Messages: old}
		cost += d.Sign(signer)
		reqs = append(reqs, d)
	}
	return rpcOf(&storagerpc.Batch{Sequence: true, Requests: reqs}), cost
}

// pollExpire is the expire a poll carries for the account's config messages (ConfigExpiry).
type pollExpire struct {
	hashes []string
	expiry int64 // ms
	mode   storagerpc.ExpireMode
	first  bool // before the retrieves
}

// retrieveRequest is one signed retrieve per namespace, in a batch, as the apps poll, with the
// signed expire of exp when it has hashes, before or after the retrieves (the apps differ);
// maxSize gives each namespace's max_size (0 leaves it out).
func retrieveRequest(s cryptomode.Suite, key ed25519.PrivateKey, id identity.ID, nss []int16, last []string, nowMs int64, maxSize func(ns int16) int, exp pollExpire) (rpcRequest, time.Duration) {
	signer := &storagerpc.Signer{Suite: s, Account: pubkeyOf(id), Key: key}
	reqs := make([]storagerpc.Request, 0, len(nss)+1)
	var cost time.Duration
	var ex *storagerpc.Expire
	if len(exp.hashes) > 0 {
		ex = &storagerpc.Expire{SignedAccount: storagerpc.SignedAccount{Pubkey: pubkeyOf(id)}, Messages: exp.hashes, Expiries: []int64{exp.expiry}, Mode: exp.mode}
		cost += ex.Sign(signer)
	}
	if ex != nil && exp.first {
		reqs = append(reqs, ex)
	}
	reqs, c := appendRetrieves(reqs, signer, nss, last, nowMs, maxSize)
	cost += c
	if ex != nil && !exp.first {
		reqs = append(reqs, ex)
	}
	return batch(reqs...), cost
}

// appendRetrieves appends one retrieve per namespace of the signer's account, after last[k]
// in namespace nss[k], each signed at nowMs, and returns the signing cost.
func appendRetrieves(reqs []storagerpc.Request, signer *storagerpc.Signer, nss []int16, last []string, nowMs int64, maxSize func(ns int16) int) ([]storagerpc.Request, time.Duration) {
	var cost time.Duration
	rs := make([]storagerpc.Retrieve, len(nss)) // one allocation for the batch, not one each
	for k, ns := range nss {
		r := &rs[k]
		*r = storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: signer.Account}, Namespace: storagerpc.Namespace(ns), LastHash: last[k], MaxSize: maxSize(ns)}
		cost += r.Sign(signer, nowMs)
		reqs = append(reqs, r)
	}
	return reqs, cost
}

// at is where the expire's result is in the poll's answer, -1 without an expire; the retrieves'
// results start at the first index that is not it.
func (exp pollExpire) at(n int) int {
	switch {
	case len(exp.hashes) == 0:
		return -1
	case exp.first:
		return 0
	}
	return n
}

// openedResponse is a destination's opened onion reply: status, body, and the body's batch
// results as values when the reply carried them (structural form).
type openedResponse struct {
	onion.NodeResponse
	batch []storagerpc.SubResult
}

// openNodeResponse opens a destination's onion reply, bytes or structural.
func openNodeResponse(s cryptomode.Suite, k onion.Key, answer any) (openedResponse, time.Duration, error) {
	rep, ok := answer.(*onion.Reply)
	if !ok {
		r, cost, err := onion.OpenNodeResponse(s.Costs(), k, onion.ResponseFormat{}, bodyBytes(answer))
		return openedResponse{NodeResponse: r}, cost, err
	}
	r, cost, err := onion.OpenStructuralResponse(s.Costs(), k, rep)
	out := openedResponse{NodeResponse: r}
	if err == nil {
		out.batch, _ = rep.Decoded.([]storagerpc.SubResult)
	}
	return out, cost, err
}

// batchAnswer is a destination's answer to a batch: its body, and its results when the node
// sent them as values too (structural form), which are what decoding the body gives
// (storagerpc.AppendBatchResponse and DecodeBatchResponse round-trip) without parsing it. With
// the results the body is nil: the node measured it rather than writing it.
type batchAnswer struct {
	body    []byte
	results []storagerpc.SubResult
}

// decode is the answer's batch results, a slice the caller may change.
func (a batchAnswer) decode() ([]storagerpc.SubResult, error) {
	if a.results != nil {
		return slices.Clone(a.results), nil
	}
	return storagerpc.DecodeBatchResponse(a.body)
}

// subResults reads a batch answer of n requests, which must hold n results.
func subResults(a batchAnswer, n int) ([]storagerpc.SubResult, error) {
	rs, err := a.decode()
	if err != nil {
		return nil, err
	}
	if len(rs) != n {
		return nil, fmt.Errorf("%w: %d batch results for %d requests", storagerpc.ErrBadResponse, len(rs), n)
	}
	for k, r := range rs {
		if r.Code < 100 || r.Code > 599 {
			return nil, fmt.Errorf("%w: batch result %d has status %d", storagerpc.ErrBadResponse, k, r.Code)
		}
	}
	return rs, nil
}

// firstResult is the single sub-result of a one-request batch: its code and body.
func firstResult(a batchAnswer) (int, []byte, error) {
	rs, err := subResults(a, 1)
	if err != nil {
		return 0, nil, err
	}
	return rs[0].Code, rs[0].Body, nil
}

// firstOKResult is a one-request batch's result, an error naming method unless it is a 200.
func firstOKResult(a batchAnswer, method string) (storagerpc.SubResult, error) {
	rs, err := subResults(a, 1)
	if err != nil {
		return storagerpc.SubResult{}, err
	}
	if rs[0].Code != 200 {
		return storagerpc.SubResult{}, fmt.Errorf("%s answered %d", method, rs[0].Code)
	}
	return rs[0], nil
}

// firstOK is the body of a batch's first result, an error naming method unless it is a 200.
func firstOK(a batchAnswer, method string) ([]byte, error) {
	sub, err := firstOKResult(a, method)
	return sub.Body, err
}

// swarmNodes converts a get_swarm / 421 answer.
func swarmNodes(body []byte) ([]NodeInfo, error) {
	r, err := storagerpc.DecodeSwarmInfoResponse(body)
	if err != nil {
		return nil, err
	}
	return swarmInfoNodes(r), nil
}

// swarmInfoNodes are the contactable nodes of a get_swarm answer.
func swarmInfoNodes(r *storagerpc.SwarmInfoResponse) []NodeInfo {
	out := make([]NodeInfo, 0, len(r.Snodes))
	for _, s := range r.Snodes {
		ip, err := netip.ParseAddr(s.IP)
		if err != nil || !ip.IsValid() || ip.IsUnspecified() {
			continue // a node without a usable address cannot be contacted
		}
		out = append(out, NodeInfo{Ed25519: s.PubkeyEd25519, X25519: s.PubkeyX25519, Addr: netip.AddrPortFrom(ip, s.PortHTTPS)})
	}
	return out
}

// decodeSwarm reads the batch answer of an onion get_swarm, from the answer's value when the
// node kept it (parsing the bytes gives the same).
func decodeSwarm(a batchAnswer) ([]NodeInfo, error) {
	sub, err := firstOKResult(a, "get_swarm")
	if err != nil {
		return nil, err
	}
	if r, ok := sub.Value.(*storagerpc.SwarmInfoResponse); ok {
		return swarmInfoNodes(r), nil
	}
	return swarmNodes(sub.Body)
}

// decode421 reads the swarm a 421 names (the 421 body, or a batch whose first result is one).
func decode421(body []byte) ([]NodeInfo, error) {
	if code, sub, err := firstResult(batchAnswer{body: body}); err == nil {
		if code != 421 {
			return nil, fmt.Errorf("not a 421 answer (%d)", code)
		}
		body = sub
	}
	return swarmNodes(body)
}

// storeOutcome reads a store batch answer: the store's code and, for 421, its body.
func storeOutcome(a batchAnswer) (int, []byte, error) {
	rs, err := subResults(a, 1)
	if err != nil {
		return 0, nil, err
	}
	code, err := storeCode(rs[0])
	return code, rs[0].Body, err
}

// storeCode is a store sub-result's code, 500 when the node answered 200 but no member stored.
func storeCode(sub storagerpc.SubResult) (int, error) {
	if sub.Code != 200 {
		return sub.Code, nil
	}
	r, ok := sub.Value.(*storagerpc.StoreResponse)
	if !ok {
		var err error
		if r, err = storagerpc.DecodeStoreResponse(sub.Body); err != nil {
			return 0, err
		}
	}
	if r.AllFailed() {
		return 500, nil
	}
	return sub.Code, nil
}

// expireOutcome is what a poll's expire achieved: the members whose part succeeded and the
// (member, hash) expiries they report changed.
type expireOutcome struct {
	status  int
	members int
	updated int
}

// decodeExpire reads an expire sub-result.
func decodeExpire(r storagerpc.SubResult) (expireOutcome, error) {
	out := expireOutcome{status: r.Code}
	if r.Code != 200 {
		return out, nil
	}
	resp, ok := r.Value.(*storagerpc.SwarmResponse[storagerpc.ExpireResult])
	if !ok {
		var err error
		if resp, err = storagerpc.DecodeExpireResponse(r.Body); err != nil {
			return out, err
		}
	}
	for _, e := range resp.Swarm {
		if e.Failed == nil {
			out.members++
			out.updated += len(e.Result.Updated)
		}
	}
	return out, nil
}

// retrieved is one message of a retrieve answer.
type retrieved struct {
	Hash   string
	Data   []byte
	Expiry int64 // ms
}

// nsResult is one namespace's part of a poll.
type nsResult struct {
	status   int
	messages []retrieved
	body421  []byte
}

// decodeRetrieve reads the batch answer of a poll of n namespaces and the expire exp added.
func decodeRetrieve(a batchAnswer, n int, exp pollExpire) ([]nsResult, expireOutcome, error) {
	at := exp.at(n)
	total := n
	if at >= 0 {
		total++
	}
	rs, err := subResults(a, total)
	if err != nil {
		return nil, expireOutcome{}, err
	}
	var eo expireOutcome
	if at >= 0 {
		if eo, err = decodeExpire(rs[at]); err != nil {
			return nil, eo, err
		}
		rs = slices.Delete(rs, at, at+1)
	}
	out, err := decodeRetrieves(rs)
	return out, eo, err
}

// decodeRetrieves reads the retrieves' results of a poll.
func decodeRetrieves(rs []storagerpc.SubResult) ([]nsResult, error) {
	out := make([]nsResult, len(rs))
	for k, r := range rs {
		out[k].status = r.Code
		switch r.Code {
		case 200:
			rr, ok := r.Value.(*storagerpc.RetrieveResponse)
			if !ok {
				var err error
				if rr, err = storagerpc.DecodeRetrieveResponse(r.Body); err != nil {
					return nil, err
				}
			}
			ms := make([]retrieved, len(rr.Messages))
			for j, m := range rr.Messages {
				ms[j] = retrieved{Hash: m.Hash, Data: m.Data, Expiry: m.Expiry}
			}
			out[k].messages = ms
		case 421:
			out[k].body421 = r.Body
		}
	}
	return out, nil
}

// nodeStates is oxend's node list, as the seed nodes' get_n_service_nodes and the storage
// servers' oxend_request get_service_nodes return it.
type nodeStates struct {
	States []struct {
		PublicIP    string  `json:"public_ip"`
		StoragePort uint16  `json:"storage_port"`
		Ed25519     string  `json:"pubkey_ed25519"`
		X25519      string  `json:"pubkey_x25519"`
		SwarmID     *uint64 `json:"swarm_id"`
	} `json:"service_node_states"`
}

var errNoNodes = errors.New("no service_node_states")

// parseNodeStates reads {"service_node_states":[...]}; nodes without an address or with bad
// keys are left out, as the apps leave them out.
func parseNodeStates(raw []byte) ([]NodeInfo, error) {
	var ns nodeStates
	if err := json.Unmarshal(raw, &ns); err != nil {
		return nil, fmt.Errorf("node list: %w", err)
	}
	if ns.States == nil {
		return nil, fmt.Errorf("node list: %w", errNoNodes)
	}
	out := make([]NodeInfo, 0, len(ns.States))
	for _, s := range ns.States {
		ip, err := netip.ParseAddr(s.PublicIP)
		if err != nil || ip.IsUnspecified() || s.StoragePort == 0 {
			continue
		}
		var n NodeInfo
		if hex.DecodedLen(len(s.Ed25519)) != 32 || hex.DecodedLen(len(s.X25519)) != 32 {
			continue
		}
		if _, err := hex.Decode(n.Ed25519[:], []byte(s.Ed25519)); err != nil {
			continue
		}
		if _, err := hex.Decode(n.X25519[:], []byte(s.X25519)); err != nil {
			continue
		}
		n.Addr = netip.AddrPortFrom(ip, s.StoragePort)
		if s.SwarmID != nil {
			n.swarm, n.hasSwarm = swarm.ID(*s.SwarmID), true
		}
		out = append(out, n)
	}
	return out, nil
}

// decodeSeedResponse reads a seed node's JSON-RPC answer {"result":{"service_node_states":...}}.
func decodeSeedResponse(body []byte) ([]NodeInfo, error) {
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("seed answer: %w", err)
	}
	if env.Result == nil {
		return nil, errors.New(`seed answer: no "result"`)
	}
	return parseNodeStates(env.Result)
}

// serviceNodesResult reads the batch answer of an oxend_request get_service_nodes and returns
// oxend's result, {"service_node_states":[...]}.
func serviceNodesResult(a batchAnswer) ([]byte, error) {
	sub, err := firstOK(a, "oxend_request")
	if err != nil {
		return nil, err
	}
	r, err := storagerpc.DecodeOxendResponse(sub)
	if err != nil {
		return nil, err
	}
	return r.Result, nil
}
