package client

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// fakeNode is a service node of the fake network: real keys, real onion layers, real RPC
// formats, but no replication delays (a swarm shares one store) and no engine.
type fakeNode struct {
	keys  identity.Keys
	info  NodeInfo
	swarm int
	dead  bool // calls to it (and relays through it) time out
}

func (n *fakeNode) kp() cryptomode.X25519KeyPair {
	return cryptomode.X25519KeyPair{Secret: n.keys.X25519Secret, Public: n.keys.X25519Public}
}

// fakeNet answers a fake driver's calls as seed nodes and service nodes would.
type fakeNet struct {
	t      testing.TB
	suite  cryptomode.Suite
	nodes  []*fakeNode
	byAddr map[actor.Addr]*fakeNode
	byEd   map[[32]byte]*fakeNode
	seeds  []actor.Addr
	swarms int
	msgs   map[string][]storagerpc.RetrievedMessage // by owner hex + namespace
	rnd    *rand.Rand
	now    func() time.Time

	// Faults, consulted per request.
	seedDown    bool
	hideFromHop func(relay, next *fakeNode) bool                               // the relay answers "Next node not found"
	intercept   func(dest *fakeNode, r storagerpc.Request) (int, []byte, bool) // scripted RPC answers
	garbleReply bool                                                           // the destination's reply does not decrypt
	requests    map[string]int                                                 // RPC methods seen at destinations
	served      map[string]int                                                 // times retrieves returned each message, by hash
	moved       map[storagerpc.Pubkey]int                                      // accounts not in their usual swarm
	delivered   func(payload []byte)                                           // sees each onion request's RPC at its destination
	proxy       func(last *fakeNode, payload []byte) actor.Response            // answers a request the last hop proxies to a server
}

// newFakeNet builds n nodes in swarms of swarmSize, each node in its own /24, and one seed.
func newFakeNet(t testing.TB, drv *actortest.Driver, n, swarmSize int) *fakeNet {
	f := &fakeNet{
		t: t, suite: cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts),
		byAddr: map[actor.Addr]*fakeNode{}, byEd: map[[32]byte]*fakeNode{},
		seeds:  []actor.Addr{netip.MustParseAddrPort("198.51.100.1:443")},
		swarms: max(1, n/swarmSize), msgs: map[string][]storagerpc.RetrievedMessage{},
		rnd: rand.New(rand.NewPCG(9, 9)), now: drv.Now,
		requests: map[string]int{}, served: map[string]int{},
	}
	for k := range n {
		keys := identity.Derive(7, fmt.Sprintf("node-%d", k))
		ip := netip.AddrFrom4([4]byte{100, byte(k >> 8), byte(k), 10})
		nd := &fakeNode{keys: keys, swarm: k % f.swarms,
			info: NodeInfo{Ed25519: keys.Ed25519Public, X25519: keys.X25519Public, Addr: netip.AddrPortFrom(ip, 22021)}}
		f.nodes = append(f.nodes, nd)
		f.byAddr[nd.info.Addr] = nd
		f.byEd[nd.info.Ed25519] = nd
	}
	drv.Serve = f.serve
	return f
}

// swarmID is swarm s's id: the swarms spread evenly over the swarm space.
func (f *fakeNet) swarmID(s int) swarm.ID {
	return swarm.ID(uint64(s) * (math.MaxUint64 / uint64(f.swarms)))
}

// swarmOf is the swarm that owns id by the storage server's rule (unless a test moved it).
func (f *fakeNet) swarmOf(id storagerpc.Pubkey) int {
	if s, ok := f.moved[id]; ok {
		return s
	}
	ids := make([]swarm.ID, f.swarms)
	for s := range ids {
		ids[s] = f.swarmID(s)
	}
	owner, _ := swarm.Owner(ids, swarm.Space(id.Key))
	return slices.Index(ids, owner)
}

func (f *fakeNet) members(s int) []*fakeNode {
	var out []*fakeNode
	for _, n := range f.nodes {
		if n.swarm == s && !n.dead {
			out = append(out, n)
		}
	}
	return out
}

func (f *fakeNet) nodeStates(alive bool) []byte { return f.listOf(alive, nil) }

// nodeStatesWithout is the list of live nodes without omit, as a node whose list has not
// caught up (or disagrees) would answer.
func (f *fakeNet) nodeStatesWithout(omit ...*fakeNode) []byte { return f.listOf(true, omit) }

func (f *fakeNet) listOf(alive bool, omit []*fakeNode) []byte {
	var b strings.Builder
	b.WriteString(`{"service_node_states":[`)
	first := true
	for _, n := range f.nodes {
		if (alive && n.dead) || slices.Contains(omit, n) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, `{"public_ip":%q,"storage_port":%d,"pubkey_ed25519":%q,"pubkey_x25519":%q,"swarm_id":%d}`,
			n.info.Addr.Addr().String(), n.info.Addr.Port(), hex.EncodeToString(n.info.Ed25519[:]), hex.EncodeToString(n.info.X25519[:]), uint64(f.swarmID(n.swarm)))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func (f *fakeNet) serve(_, to actor.Addr, req actor.Request) (actor.Response, bool) {
	body := bodyBytes(req.Body)
	if slices.Contains(f.seeds, to) {
		if f.seedDown {
			return actor.Response{}, false
		}
		out := append([]byte(`{"id":"0","jsonrpc":"2.0","result":`), f.nodeStates(true)...)
		out = append(out, '}')
		return actor.Response{Status: 200, Body: out, Size: len(out)}, true
	}
	n := f.byAddr[to]
	if n == nil || n.dead {
		return actor.Response{}, false
	}
	switch req.Method {
	case storageEndpoint:
		status, out := f.rpc(n, body)
		return actor.Response{Status: status, Body: out, Size: len(out)}, true
	case onion.GuardEndpoint:
		return f.onion(n, body)
	}
	return actor.Response{Status: 404}, true
}

func plain(status int, text string) (actor.Response, bool) {
	return actor.Response{Status: status, Body: []byte(text), Size: len(text)}, true
}

// onion peels layers from the guard on, as the relays would, and answers at the destination.
func (f *fakeNet) onion(guard *fakeNode, body []byte) (actor.Response, bool) {
	in, err := onion.ParseGuardRequest(body)
	if err != nil {
		return plain(400, err.Error())
	}
	n := guard
	for {
		p, err := onion.Peel(f.suite, n.kp(), in)
		if err != nil {
			return plain(400, "Invalid ciphertext")
		}
		switch p.Routing.Action {
		case onion.Forward:
			next := f.byEd[p.Routing.Destination]
			if next == nil || (f.hideFromHop != nil && f.hideFromHop(n, next)) {
				return plain(502, "Next node not found: "+hex.EncodeToString(p.Routing.Destination[:]))
			}
			if next.dead {
				return plain(504, "Request time out")
			}
			n, in = next, p.Next
		case onion.Deliver:
			if f.delivered != nil {
				f.delivered(p.Payload)
			}
			status, out := f.rpc(n, p.Payload)
			reply, _, err := onion.SealNodeResponse(f.suite, p.Reply, actor.RandReader(f.rnd), p.Routing.Format,
				onion.NodeResponse{Status: status, Body: out})
			if err != nil {
				f.t.Fatalf("sealing reply: %v", err)
			}
			if f.garbleReply {
				reply = bytes.Repeat([]byte("A"), len(reply))
			}
			return actor.Response{Status: 200, Body: reply, Size: len(reply)}, true
		case onion.Proxy:
			if f.proxy == nil {
				return plain(502, "no server")
			}
			return f.proxy(n, p.Payload), true
		default:
			return plain(400, "unexpected action")
		}
	}
}

func (f *fakeNet) swarmInfo(s int) []byte {
	r := &storagerpc.SwarmInfoResponse{SwarmID: uint64(f.swarmID(s)), T: f.now().UnixMilli(), HF: storagerpc.HF{19, 3}}
	for _, m := range f.members(s) {
		r.Snodes = append(r.Snodes, storagerpc.SnodeInfo{PubkeyLegacy: m.info.Ed25519, PubkeyEd25519: m.info.Ed25519,
			PubkeyX25519: m.info.X25519, IP: m.info.Addr.Addr().String(), PortHTTPS: m.info.Addr.Port(), PortOMQ: 22020})
	}
	return r.Append(nil)
}

// rpc runs one RPC body at node n.
func (f *fakeNet) rpc(n *fakeNode, body []byte) (int, []byte) {
	r, err := storagerpc.ParseRequest(body)
	if err != nil {
		st, txt := storagerpc.ErrorBody(err)
		return st, txt
	}
	return f.handle(n, r)
}

func (f *fakeNet) handle(n *fakeNode, r storagerpc.Request) (int, []byte) {
	f.requests[r.Method()]++
	if f.intercept != nil {
		if st, out, ok := f.intercept(n, r); ok {
			return st, out
		}
	}
	if o, ok := r.(storagerpc.Owned); ok {
		if want := f.swarmOf(o.Owner()); want != n.swarm {
			if _, isSwarm := r.(*storagerpc.GetSwarm); !isSwarm {
				return 421, f.swarmInfo(want)
			}
		}
	}
	t := f.now().UnixMilli()
	switch r := r.(type) {
	case *storagerpc.Batch:
		var res []storagerpc.SubResult
		for _, s := range r.Requests {
			st, out := f.handle(n, s)
			res = append(res, storagerpc.SubResult{Code: st, Body: out})
			if r.Sequence && st != 200 {
				break
			}
		}
		return 200, storagerpc.AppendBatchResponse(nil, res)
	case *storagerpc.GetSwarm:
		return 200, f.swarmInfo(f.swarmOf(r.Pubkey))
	case *storagerpc.Info:
		return 200, (&storagerpc.InfoResponse{Timestamp: t, T: t, HF: storagerpc.HF{19, 3}}).Append(nil)
	case *storagerpc.OxendRequest:
		return 200, (&storagerpc.OxendResponse{Result: f.nodeStates(true), T: t, HF: storagerpc.HF{19, 3}}).Append(nil)
	case *storagerpc.Store:
		hash := storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data)
		key := fmt.Sprintf("%s/%d", r.Pubkey.Hex(), r.Namespace)
		if !slices.ContainsFunc(f.msgs[key], func(m storagerpc.RetrievedMessage) bool { return m.Hash == hash }) {
			f.msgs[key] = append(f.msgs[key], storagerpc.RetrievedMessage{Hash: hash, Timestamp: r.Timestamp, Expiry: r.Expiry, Data: r.Data})
		}
		res, _ := storagerpc.NewStoreResult(f.suite, n.keys.Ed25519Private, hash, r.Expiry, false)
		self := storagerpc.NodeKeyHex(n.keys.Ed25519Public[:])
		resp := &storagerpc.StoreResponse{Self: self, Hash: hash, T: t, HF: storagerpc.HF{19, 3},
			Swarm: []storagerpc.SwarmEntry[storagerpc.StoreResult]{{Node: self, Result: res}}}
		return 200, resp.Append(nil)
	case *storagerpc.Expire:
		var updated []string
		for key, ms := range f.msgs {
			if !strings.HasPrefix(key, r.Pubkey.Hex()+"/") {
				continue
			}
			for i := range ms {
				if slices.Contains(r.Messages, ms[i].Hash) && (r.Mode != storagerpc.ExpireExtend || r.Expiries[0] > ms[i].Expiry) {
					ms[i].Expiry = r.Expiries[0]
					updated = append(updated, ms[i].Hash)
				}
			}
		}
		slices.Sort(updated)
		self := storagerpc.NodeKeyHex(n.keys.Ed25519Public[:])
		resp := &storagerpc.SwarmResponse[storagerpc.ExpireResult]{Self: self, T: t, HF: storagerpc.HF{19, 3},
			Swarm: []storagerpc.SwarmEntry[storagerpc.ExpireResult]{{Node: self, Result: storagerpc.ExpireResult{Expiries: r.Expiries, Updated: updated}}}}
		return 200, storagerpc.AppendExpireResponse(nil, resp)
	case *storagerpc.Delete:
		var deleted []string
		for key, ms := range f.msgs {
			if strings.HasPrefix(key, r.Pubkey.Hex()+"/") {
				f.msgs[key] = slices.DeleteFunc(ms, func(m storagerpc.RetrievedMessage) bool {
					gone := slices.Contains(r.Messages, m.Hash)
					if gone {
						deleted = append(deleted, m.Hash)
					}
					return gone
				})
			}
		}
		slices.Sort(deleted)
		self := storagerpc.NodeKeyHex(n.keys.Ed25519Public[:])
		resp := &storagerpc.SwarmResponse[storagerpc.HashesResult]{Self: self, T: t, HF: storagerpc.HF{19, 3},
			Swarm: []storagerpc.SwarmEntry[storagerpc.HashesResult]{{Node: self, Result: storagerpc.HashesResult{Hashes: deleted}}}}
		return 200, storagerpc.AppendDeleteResponse(nil, resp)
	case *storagerpc.Retrieve:
		key := fmt.Sprintf("%s/%d", r.Pubkey.Hex(), r.Namespace)
		all := f.msgs[key]
		start := 0
		if r.LastHash != "" {
			if i := slices.IndexFunc(all, func(m storagerpc.RetrievedMessage) bool { return m.Hash == r.LastHash }); i >= 0 {
				start = i + 1
			}
		}
		for _, m := range all[start:] {
			f.served[m.Hash]++
		}
		resp := &storagerpc.RetrieveResponse{Messages: all[start:], T: t, HF: storagerpc.HF{19, 3}}
		return 200, resp.Append(nil)
	}
	return 400, []byte("unsupported in the fake network")
}

// put stores raw data for owner as if someone had stored it.
func (f *fakeNet) put(owner identity.ID, ns int16, data []byte) string {
	pk := pubkeyOf(owner)
	hash := storagerpc.MessageHash(pk, storagerpc.Namespace(ns), data)
	key := fmt.Sprintf("%s/%d", pk.Hex(), ns)
	t := f.now().UnixMilli()
	f.msgs[key] = append(f.msgs[key], storagerpc.RetrievedMessage{Hash: hash, Timestamp: t, Expiry: t + 3600_000, Data: data})
	return hash
}
