package registry

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The answer to oxend's get_service_nodes (alias get_n_service_nodes, get_all_service_nodes),
// which seed nodes serve to bootstrapping clients and storage servers relay to clients with
// oxend_request. Field names, the field selection, active_only, limit with its shuffling and
// poll_block_hash follow oxend; keys come out sorted, as oxend's JSON library writes them.

// fieldSet is a set of get_service_nodes fields, one bit per entry of snFields.
type fieldSet uint32

// snFields are the per-node fields this list can fill, in output order: sorted bytewise, as
// oxend's JSON objects are.
var snFields = []string{
	"active",
	"decommission_count",
	"earned_downtime_blocks",
	"funded",
	"last_uptime_proof",
	"pubkey_ed25519",
	"pubkey_x25519",
	"public_ip",
	"registration_height",
	"requested_unlock_height",
	"service_node_pubkey",
	"state_height",
	"storage_lmq_port",
	"storage_port",
	"storage_server_version",
	"swarm",
	"swarm_id",
}

// ServiceNodesParams are the request parameters oxend understands (unknown ones are ignored).
type ServiceNodesParams struct {
	ActiveOnly bool
	// Fields selects what is returned, for the nodes and for the top-level height, block_hash,
	// hardfork, snode_revision and target_height; empty means everything ("all" too, and
	// "-name" then removes one).
	Fields []string
	// Limit: 0 returns every node in key order; n > 0 returns n random nodes (all of them,
	// shuffled, if there are not that many); negative returns all, shuffled.
	Limit int
	// PollBlockHash: if it is the list's block hash, the answer only says "unchanged".
	PollBlockHash string
	// ServiceNodePubkeys restricts the answer to these nodes (hex Ed25519 keys).
	ServiceNodePubkeys []string
}

// ParseServiceNodesParams reads get_service_nodes parameters from JSON: an object with
// active_only, fields (an object of booleans, or a list of names), limit, poll_block_hash and
// service_node_pubkeys. Empty input means no parameters.
func ParseServiceNodesParams(b []byte) (ServiceNodesParams, error) {
	var p ServiceNodesParams
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return p, nil
	}
	var raw struct {
		ActiveOnly         *bool           `json:"active_only"`
		Fields             json.RawMessage `json:"fields"`
		Limit              *int            `json:"limit"`
		PollBlockHash      *string         `json:"poll_block_hash"`
		ServiceNodePubkeys []string        `json:"service_node_pubkeys"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return p, fmt.Errorf("get_service_nodes params: %w", err)
	}
	if raw.ActiveOnly != nil {
		p.ActiveOnly = *raw.ActiveOnly
	}
	if raw.Limit != nil {
		p.Limit = *raw.Limit
	}
	if raw.PollBlockHash != nil {
		p.PollBlockHash = *raw.PollBlockHash
	}
	p.ServiceNodePubkeys = raw.ServiceNodePubkeys
	if f := bytes.TrimSpace(raw.Fields); len(f) > 0 && string(f) != "null" {
		switch f[0] {
		case '{':
			// The older form {"name": true, ...}; {"all": true} means everything.
			var m map[string]bool
			if err := json.Unmarshal(f, &m); err != nil {
				return p, fmt.Errorf("get_service_nodes params: fields: %w", err)
			}
			if m["all"] {
				break
			}
			for k, v := range m {
				if v {
					p.Fields = append(p.Fields, k)
				}
			}
		case '[':
			if err := json.Unmarshal(f, &p.Fields); err != nil {
				return p, fmt.Errorf("get_service_nodes params: fields: %w", err)
			}
		default:
			return p, errors.New("get_service_nodes params: fields must be an object of booleans or a list of names")
		}
	}
	return p, nil
}

// selection is oxend's requested(): which keys go into the answer.
type selection struct {
	all     bool
	names   map[string]bool
	exclude map[string]bool
}

func newSelection(fields []string) selection {
	s := selection{names: map[string]bool{}, exclude: map[string]bool{}}
	for _, f := range fields {
		if name, ok := strings.CutPrefix(f, "-"); ok {
			s.exclude[name] = true
		}
		s.names[f] = true
	}
	s.all = len(fields) == 0 || (len(fields) == 1 && fields[0] == "all")
	return s
}

func (s selection) wants(key string) bool {
	if s.all {
		return true
	}
	if s.names["all"] {
		return !s.exclude[key]
	}
	return s.names[key]
}

func (s selection) fieldSet() fieldSet {
	var fs fieldSet
	for i, name := range snFields {
		if s.wants(name) {
			fs |= 1 << i
		}
	}
	return fs
}

// encodedList is every node's entry of a list encoded once for a field set.
type encodedList struct {
	entries [][]byte
}

// Entries answers get_service_nodes from one list, encoding each node's entry once per field
// selection, the first time an answer asks for it: every client asks with the same few
// selections, and a 2,000-node list is half a megabyte of JSON.
//
// An Entries is the state of whoever answers from its list: an actor, or (for the nodes, which
// all answer from the same lists) the world's shared index of lists. It is not safe for
// concurrent use: a real-time driver that lets actors on their own goroutines answer from one
// Entries must serialise the calls.
type Entries struct {
	list  *List
	bySet map[fieldSet]*encodedList
}

// NewEntries prepares answers from l (nil: an empty list).
func NewEntries(l *List) *Entries {
	if l == nil {
		l = &List{}
	}
	return &Entries{list: l, bySet: map[fieldSet]*encodedList{}}
}

// List is the list the answers come from.
func (e *Entries) List() *List { return e.list }

func (e *Entries) encoded(fs fieldSet) *encodedList {
	if enc, ok := e.bySet[fs]; ok {
		return enc
	}
	l := e.list
	enc := &encodedList{entries: make([][]byte, len(l.Nodes))}
	for i := range l.Nodes {
		enc.entries[i] = l.appendEntry(nil, &l.Nodes[i], fs)
	}
	e.bySet[fs] = enc
	return enc
}

func (l *List) appendEntry(b []byte, p *Peer, fs fieldSet) []byte {
	b = append(b, '{')
	first := true
	key := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	hexKey := func(k *[32]byte) {
		b = append(b, '"')
		b = hex.AppendEncode(b, k[:])
		b = append(b, '"')
	}
	for i, name := range snFields {
		if fs&(1<<i) == 0 {
			continue
		}
		key(name)
		switch name {
		case "active":
			b = strconv.AppendBool(b, p.Active())
		case "decommission_count":
			b = strconv.AppendUint(b, uint64(p.DecommissionCount), 10)
		case "earned_downtime_blocks":
			b = strconv.AppendInt(b, p.EarnedDowntimeBlocks, 10)
		case "funded":
			b = append(b, "true"...)
		case "last_uptime_proof":
			b = strconv.AppendInt(b, p.LastUptimeProof, 10)
		case "public_ip":
			b = append(b, '"')
			b = p.Addr.Addr().AppendTo(b)
			b = append(b, '"')
		case "pubkey_ed25519", "service_node_pubkey":
			hexKey(&p.Ed25519)
		case "pubkey_x25519":
			hexKey(&p.X25519)
		case "registration_height":
			b = strconv.AppendUint(b, p.RegistrationHeight, 10)
		case "requested_unlock_height":
			b = append(b, '0')
		case "state_height":
			b = strconv.AppendUint(b, p.StateHeight, 10)
		case "storage_lmq_port":
			b = strconv.AppendUint(b, uint64(p.OMQPort), 10)
		case "storage_port":
			b = strconv.AppendUint(b, uint64(p.Addr.Port()), 10)
		case "storage_server_version":
			v := l.StorageServerVersion
			b = fmt.Appendf(b, "[%d,%d,%d]", v[0], v[1], v[2])
		case "swarm":
			b = append(b, '"')
			b = strconv.AppendUint(b, uint64(p.Swarm), 16)
			b = append(b, '"')
		case "swarm_id":
			b = strconv.AppendUint(b, uint64(p.Swarm), 10)
		}
	}
	return append(b, '}')
}

// ServiceNodes answers get_service_nodes from e's list: oxend's "result" object as JSON. r
// shuffles when a limit asks for random nodes.
func ServiceNodes(e *Entries, p ServiceNodesParams, r *rand.Rand) []byte {
	return appendServiceNodes(nil, e, p, r)
}

func appendServiceNodes(b []byte, e *Entries, p ServiceNodesParams, r *rand.Rand) []byte {
	l := e.list
	sel := newSelection(p.Fields)
	b = append(b, '{')
	comma := false
	field := func(name string) {
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	hash := hex.EncodeToString(l.BlockHash[:])
	unchanged := p.PollBlockHash != "" && strings.EqualFold(p.PollBlockHash, hash)
	// Keys in sorted order, as oxend writes them.
	if sel.wants("block_hash") || p.PollBlockHash != "" {
		field("block_hash")
		b = strconv.AppendQuote(b, hash)
	}
	if sel.wants("hardfork") {
		field("hardfork")
		b = strconv.AppendInt(b, int64(l.Hardfork[0]), 10)
	}
	if sel.wants("height") {
		field("height")
		b = strconv.AppendUint(b, l.Height, 10)
	}
	if !unchanged {
		field("service_node_states")
		b = e.appendStates(b, p, sel, r)
	}
	if sel.wants("snode_revision") {
		field("snode_revision")
		b = strconv.AppendInt(b, int64(l.Hardfork[1]), 10)
	}
	field("status")
	b = append(b, `"OK"`...)
	if sel.wants("target_height") {
		field("target_height")
		b = strconv.AppendUint(b, l.Height, 10)
	}
	if p.PollBlockHash != "" {
		field("unchanged")
		b = strconv.AppendBool(b, unchanged)
	}
	return append(b, '}')
}

func (e *Entries) appendStates(b []byte, p ServiceNodesParams, sel selection, r *rand.Rand) []byte {
	l := e.list
	enc := e.encoded(sel.fieldSet())
	idx := make([]int, 0, len(l.Nodes))
	var only map[[32]byte]bool
	if len(p.ServiceNodePubkeys) > 0 {
		only = map[[32]byte]bool{}
		for _, s := range p.ServiceNodePubkeys {
			var k [32]byte
			if n, err := hex.Decode(k[:], []byte(s)); err == nil && n == 32 {
				only[k] = true
			}
		}
	}
	for i := range l.Nodes {
		if p.ActiveOnly && !l.Nodes[i].Active() {
			continue
		}
		if only != nil && !only[l.Nodes[i].Ed25519] {
			continue
		}
		idx = append(idx, i)
	}
	top := len(idx) - 1
	switch {
	case p.Limit < 0 || p.Limit > top:
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	case p.Limit > 0:
		// A partial Fisher-Yates: n random nodes in random order.
		for i := 0; i < p.Limit; i++ {
			j := i + r.IntN(top-i+1)
			idx[i], idx[j] = idx[j], idx[i]
		}
		idx = idx[:p.Limit]
	}
	need := len(idx) + 2
	for _, i := range idx {
		need += len(enc.entries[i])
	}
	b = slices.Grow(b, need)
	b = append(b, '[')
	for n, i := range idx {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, enc.entries[i]...)
	}
	return append(b, ']')
}

// JSON-RPC 2.0 error codes oxend answers with.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
)

// JSONRPC answers a JSON-RPC 2.0 request to a seed node (POST /json_rpc) from e's list. Only
// the get_service_nodes family is served; anything else is a JSON-RPC error (HTTP 200, as oxend
// answers). The reply is always valid JSON.
func JSONRPC(e *Entries, body []byte, r *rand.Rand) []byte {
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return rpcError(nil, rpcParseError, "Parse error")
	}
	id := req.ID
	if len(id) == 0 || !json.Valid(id) {
		id = json.RawMessage("null")
	}
	switch req.Method {
	case "get_service_nodes", "get_n_service_nodes", "get_all_service_nodes":
	case "":
		return rpcError(id, rpcInvalidRequest, "Invalid Request")
	default:
		return rpcError(id, rpcMethodNotFound, "Method not found")
	}
	params, err := ParseServiceNodesParams(req.Params)
	if err != nil {
		return rpcError(id, rpcInvalidParams, err.Error())
	}
	out := make([]byte, 0, 512)
	out = append(out, `{"id":`...)
	out = append(out, id...)
	out = append(out, `,"jsonrpc":"2.0","result":`...)
	out = appendServiceNodes(out, e, params, r)
	return append(out, '}')
}

func rpcError(id json.RawMessage, code int, msg string) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	m, _ := json.Marshal(msg)
	return fmt.Appendf(nil, `{"error":{"code":%d,"message":%s},"id":%s,"jsonrpc":"2.0"}`, code, m, id)
}
