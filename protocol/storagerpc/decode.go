package storagerpc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// Client-side decoders of the node's answers. They accept what real nodes send, including the
// relayed forms of peers' results (flags as 1, refusal codes as strings), and refuse anything
// else with an error wrapping ErrBadResponse.

// ErrBadResponse is wrapped by every decoding error.
var ErrBadResponse = errors.New("malformed storage server response")

func badResponse(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadResponse, what, fmt.Sprintf(format, args...))
}

func decodeObject(body []byte, what string) (wirejson.Value, error) {
	v, err := wirejson.Parse(body)
	if err != nil {
		return v, badResponse(what, "not JSON")
	}
	if v.Kind != wirejson.Object {
		return v, badResponse(what, "not a JSON object")
	}
	return v, nil
}

func reqInt(o wirejson.Value, key, what string) (int64, error) {
	v, ok := o.Member(key)
	if !ok {
		return 0, badResponse(what, "no %q", key)
	}
	n, ok := asInt(v)
	if !ok {
		return 0, badResponse(what, "%q is not an integer", key)
	}
	return n, nil
}

func reqString(o wirejson.Value, key, what string) (string, error) {
	v, ok := o.Member(key)
	if !ok || v.Kind != wirejson.String {
		return "", badResponse(what, "no string %q", key)
	}
	return v.Text(), nil
}

// flagValue reads a flag written as true/false or, after the swarm link, as an integer.
func flagValue(v wirejson.Value) (bool, bool) {
	switch v.Kind {
	case wirejson.True:
		return true, true
	case wirejson.False:
		return false, true
	}
	n, ok := asInt(v)
	return n != 0, ok
}

func optFlag(o wirejson.Value, key, what string) (bool, error) {
	v, ok := o.Member(key)
	if !ok {
		return false, nil
	}
	b, ok := flagValue(v)
	if !ok {
		return false, badResponse(what, "%q is not a flag", key)
	}
	return b, nil
}

func reqSignature(o wirejson.Value, what string) ([64]byte, error) {
	var sig [64]byte
	v, ok := o.Member("signature")
	if !ok || v.Kind != wirejson.String || !decodeSignature(sig[:], v.Bytes()) {
		return sig, badResponse(what, "no base64 Ed25519 \"signature\"")
	}
	return sig, nil
}

// objectList reads o[key] as a list of objects; item names an element in errors.
func objectList(o wirejson.Value, key, what, item string) ([]wirejson.Value, error) {
	v, ok := o.Member(key)
	if !ok || v.Kind != wirejson.Array {
		return nil, badResponse(what, "no %q list", key)
	}
	for i, e := range v.Elems {
		if e.Kind != wirejson.Object {
			return nil, badResponse(what, "%s %d is not an object", item, i)
		}
	}
	return v.Elems, nil
}

func stringList(v wirejson.Value, what, key string) ([]string, error) {
	if v.Kind != wirejson.Array {
		return nil, badResponse(what, "%q is not a list", key)
	}
	out, ok := arrayOf(v, asString)
	if !ok {
		return nil, badResponse(what, "%q holds a non-string", key)
	}
	return out, nil
}

// intTuple reads o[key] as a list of exactly len(dst) integers (a hard fork, a version) into dst.
func intTuple(o wirejson.Value, key, what string, dst []int) error {
	v, ok := o.Member(key)
	if !ok {
		return badResponse(what, "no %q", key)
	}
	if v.Kind != wirejson.Array || len(v.Elems) != len(dst) {
		return badResponse(what, "%q is not a %d-element list", key, len(dst))
	}
	for i, e := range v.Elems {
		n, ok := asInt(e)
		if !ok {
			return badResponse(what, "%q holds a non-integer", key)
		}
		dst[i] = int(n)
	}
	return nil
}

// hashExpiries reads v, o[key], as an object of expiries keyed by message hash; the result is in
// hash order.
func hashExpiries(v wirejson.Value, key, what string) ([]HashExpiry, error) {
	if v.Kind != wirejson.Object {
		return nil, badResponse(what, "%q is not an object", key)
	}
	out := make([]HashExpiry, 0, len(v.Members))
	for _, m := range v.UniqueMembers() {
		n, ok := asInt(m.Value)
		if !ok {
			return nil, badResponse(what, "%q: expiry of %q is not an integer", key, m.Key)
		}
		out = append(out, HashExpiry{Hash: string(m.Key), Expiry: n})
	}
	sortHashExpiries(out)
	return out, nil
}

// decodeStamped reads an answer that carries the node's clock ("t") and hard fork ("hf"), as all
// but the get_expiries and batch answers do, and sets t and hf from them.
func decodeStamped(body []byte, what string, t *int64, hf *HF) (wirejson.Value, error) {
	o, err := decodeObject(body, what)
	if err != nil {
		return o, err
	}
	if *t, err = reqInt(o, "t", what); err != nil {
		return o, err
	}
	return o, intTuple(o, "hf", what, hf[:])
}

func decodeFailure(o wirejson.Value, what string) (*Failure, bool, error) {
	f := &Failure{}
	var err error
	var asOne bool
	if fv, ok := o.Member("failed"); ok {
		asOne = fv.Kind != wirejson.True
	}
	if f.Timeout, err = optFlag(o, "timeout", what); err != nil {
		return nil, false, err
	}
	if f.BadPeerResponse, err = optFlag(o, "bad_peer_response", what); err != nil {
		return nil, false, err
	}
	if f.QueryFailure, err = optFlag(o, "query_failure", what); err != nil {
		return nil, false, err
	}
	if v, ok := o.Member("code"); ok {
		switch v.Kind {
		case wirejson.String:
			f.Code = v.Text()
		case wirejson.Number:
			n, ok := asInt(v)
			if !ok {
				return nil, false, badResponse(what, `"code" is not an integer`)
			}
			f.Code = strconv.FormatInt(n, 10)
		default:
			return nil, false, badResponse(what, `"code" is neither string nor integer`)
		}
	}
	if v, ok := o.Member("reason"); ok {
		if v.Kind != wirejson.String {
			return nil, false, badResponse(what, `"reason" is not a string`)
		}
		f.Reason = v.Text()
	}
	return f, asOne, nil
}

// decodeSwarm reads the "swarm" object. result decodes a successful entry and may report that
// it is the answering node's own; a database failure written with true is also the node's own.
func decodeSwarm[T any](o wirejson.Value, what string, result func(v wirejson.Value) (T, bool, error)) ([]SwarmEntry[T], string, error) {
	sw, ok := o.Member("swarm")
	if !ok || sw.Kind != wirejson.Object {
		return nil, "", badResponse(what, `no "swarm" object`)
	}
	entries := make([]SwarmEntry[T], 0, len(sw.Members))
	self := ""
	for _, m := range sw.UniqueMembers() {
		node := string(m.Key)
		if len(node) != 64 {
			return nil, "", badResponse(what, "swarm member %q is not a hex Ed25519 key", node)
		}
		var key [32]byte
		if _, err := hex.Decode(key[:], m.Key); err != nil {
			return nil, "", badResponse(what, "swarm member %q is not a hex Ed25519 key", node)
		}
		if m.Value.Kind != wirejson.Object {
			return nil, "", badResponse(what, "swarm member %s: not an object", node[:8])
		}
		e := SwarmEntry[T]{Node: node}
		if _, failed := m.Value.Member("failed"); failed {
			f, asOne, err := decodeFailure(m.Value, what)
			if err != nil {
				return nil, "", err
			}
			e.Failed = f
			if f.QueryFailure && !asOne {
				self = node
			}
		} else {
			r, own, err := result(m.Value)
			if err != nil {
				return nil, "", err
			}
			e.Result = r
			if own {
				self = node
			}
		}
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries, self, nil
}

// DecodeStoreResponse reads the answer to a store.
func DecodeStoreResponse(body []byte) (*StoreResponse, error) {
	const what = "store response"
	r := &StoreResponse{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	if v, ok := o.Member("hash"); ok {
		if v.Kind != wirejson.String {
			return nil, badResponse(what, `"hash" is not a string`)
		}
		r.Hash = v.Text()
	}
	r.Swarm, r.Self, err = decodeSwarm(o, what, func(v wirejson.Value) (StoreResult, bool, error) {
		var s StoreResult
		var err error
		if s.Hash, err = reqString(v, "hash", what); err != nil {
			return s, false, err
		}
		if s.Expiry, err = reqInt(v, "expiry", what); err != nil {
			return s, false, err
		}
		if s.Signature, err = reqSignature(v, what); err != nil {
			return s, false, err
		}
		if s.Already, err = optFlag(v, "already", what); err != nil {
			return s, false, err
		}
		_, own := v.Member("t")
		return s, own, nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func decodeHashes(v wirejson.Value, key, what string) (HashesResult, error) {
	var r HashesResult
	h, ok := v.Member(key)
	if !ok {
		return r, badResponse(what, "no %q", key)
	}
	var err error
	switch h.Kind {
	case wirejson.Array:
		if r.Hashes, err = stringList(h, what, key); err != nil {
			return r, err
		}
	case wirejson.Object:
		r.AllNS = true
		r.ByNamespace = make([]NSHashes, 0, len(h.Members))
		for _, m := range h.UniqueMembers() {
			n, perr := strconv.ParseInt(string(m.Key), 10, 16)
			if perr != nil || strconv.FormatInt(n, 10) != string(m.Key) {
				return r, badResponse(what, "%q key %q is not a namespace", key, m.Key)
			}
			hs, err := stringList(m.Value, what, key)
			if err != nil {
				return r, err
			}
			r.ByNamespace = append(r.ByNamespace, NSHashes{Namespace: Namespace(n), Hashes: hs})
			r.Hashes = append(r.Hashes, hs...)
		}
		slices.Sort(r.Hashes)
		slices.SortFunc(r.ByNamespace, compareNSKey)
	default:
		return r, badResponse(what, "%q is neither a list nor an object", key)
	}
	r.Signature, err = reqSignature(v, what)
	return r, err
}

func decodeHashesResponse(body []byte, key, what string) (*SwarmResponse[HashesResult], error) {
	r := &SwarmResponse[HashesResult]{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	r.Swarm, r.Self, err = decodeSwarm(o, what, func(v wirejson.Value) (HashesResult, bool, error) {
		h, err := decodeHashes(v, key, what)
		return h, false, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeDeleteResponse reads the answer to delete, delete_all or delete_before.
func DecodeDeleteResponse(body []byte) (*SwarmResponse[HashesResult], error) {
	return decodeHashesResponse(body, "deleted", "delete response")
}

// DecodeExpireAllResponse reads the answer to expire_all.
func DecodeExpireAllResponse(body []byte) (*SwarmResponse[HashesResult], error) {
	return decodeHashesResponse(body, "updated", "expire_all response")
}

// DecodeExpireResponse reads the answer to expire.
func DecodeExpireResponse(body []byte) (*SwarmResponse[ExpireResult], error) {
	const what = "expire response"
	r := &SwarmResponse[ExpireResult]{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	r.Swarm, r.Self, err = decodeSwarm(o, what, func(v wirejson.Value) (ExpireResult, bool, error) {
		var e ExpireResult
		ex, ok := v.Member("expiry")
		if !ok {
			return e, false, badResponse(what, `no "expiry"`)
		}
		if ex.Kind == wirejson.Array {
			e.Multi = true
			if e.Expiries, ok = arrayOf(ex, asInt); !ok {
				return e, false, badResponse(what, `"expiry" holds a non-integer`)
			}
		} else {
			n, ok := asInt(ex)
			if !ok {
				return e, false, badResponse(what, `"expiry" is not an integer`)
			}
			e.Expiries = []int64{n}
		}
		up, ok := v.Member("updated")
		if !ok {
			return e, false, badResponse(what, `no "updated"`)
		}
		var err error
		if e.Updated, err = stringList(up, what, "updated"); err != nil {
			return e, false, err
		}
		if un, ok := v.Member("unchanged"); ok {
			e.HasUnchanged = true
			if e.Unchanged, err = hashExpiries(un, "unchanged", what); err != nil {
				return e, false, err
			}
		}
		e.Signature, err = reqSignature(v, what)
		return e, false, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeRetrieveResponse reads the answer to a retrieve.
func DecodeRetrieveResponse(body []byte) (*RetrieveResponse, error) {
	const what = "retrieve response"
	r := &RetrieveResponse{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	if r.More, err = optFlag(o, "more", what); err != nil {
		return nil, err
	}
	ms, err := objectList(o, "messages", what, "message")
	if err != nil {
		return nil, err
	}
	r.Messages = make([]RetrievedMessage, len(ms))
	for i, m := range ms {
		msg := &r.Messages[i]
		if msg.Hash, err = reqString(m, "hash", what); err != nil {
			return nil, err
		}
		if msg.Timestamp, err = reqInt(m, "timestamp", what); err != nil {
			return nil, err
		}
		if msg.Expiry, err = reqInt(m, "expiration", what); err != nil {
			return nil, err
		}
		d, ok := m.Member("data")
		if !ok || d.Kind != wirejson.String || !isBase64(d.Bytes()) {
			return nil, badResponse(what, `message %d: no base64 "data"`, i)
		}
		if msg.Data, err = decodeBase64(make([]byte, 0, len(d.Raw)*3/4), d.Bytes()); err != nil {
			return nil, badResponse(what, `message %d: no base64 "data"`, i)
		}
	}
	return r, nil
}

func hexKey(o wirejson.Value, key, what string) ([32]byte, error) {
	var k [32]byte
	v, ok := o.Member(key)
	if !ok || v.Kind != wirejson.String {
		return k, badResponse(what, "no %q", key)
	}
	s := v.Bytes()
	if len(s) != 64 {
		return k, badResponse(what, "%q is not a 64-digit hex key", key)
	}
	if _, err := hex.Decode(k[:], s); err != nil {
		return k, badResponse(what, "%q is not a 64-digit hex key", key)
	}
	return k, nil
}

func port(o wirejson.Value, key string) (uint16, bool) {
	v, ok := o.Member(key)
	if !ok {
		return 0, false
	}
	if v.Kind == wirejson.String {
		n, err := strconv.ParseUint(v.Text(), 10, 16)
		return uint16(n), err == nil
	}
	n, k := v.Integer()
	return uint16(n), k == wirejson.Unsigned && n <= 65535
}

// DecodeSwarmInfoResponse reads the answer to get_swarm, or the body of a 421. Nodes that give
// only the deprecated string "port" are accepted; "pubkey_legacy" and "port_omq" may be absent.
func DecodeSwarmInfoResponse(body []byte) (*SwarmInfoResponse, error) {
	const what = "swarm response"
	r := &SwarmInfoResponse{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	sw, err := reqString(o, "swarm", what)
	if err != nil {
		return nil, err
	}
	if r.SwarmID, err = strconv.ParseUint(sw, 16, 64); err != nil {
		return nil, badResponse(what, `"swarm" %q is not a hex swarm id`, sw)
	}
	sn, err := objectList(o, "snodes", what, "node")
	if err != nil {
		return nil, err
	}
	r.Snodes = make([]SnodeInfo, len(sn))
	for i, e := range sn {
		s := &r.Snodes[i]
		if s.PubkeyEd25519, err = hexKey(e, "pubkey_ed25519", what); err != nil {
			return nil, err
		}
		if s.PubkeyX25519, err = hexKey(e, "pubkey_x25519", what); err != nil {
			return nil, err
		}
		s.PubkeyLegacy = s.PubkeyEd25519
		if _, ok := e.Member("pubkey_legacy"); ok {
			if s.PubkeyLegacy, err = hexKey(e, "pubkey_legacy", what); err != nil {
				return nil, err
			}
		}
		if s.IP, err = reqString(e, "ip", what); err != nil {
			return nil, err
		}
		p, ok := port(e, "port_https")
		if !ok {
			if p, ok = port(e, "port"); !ok {
				return nil, badResponse(what, "node %d has no port", i)
			}
		}
		s.PortHTTPS = p
		s.PortOMQ, _ = port(e, "port_omq")
	}
	return r, nil
}

// DecodeInfoResponse reads the answer to info.
func DecodeInfoResponse(body []byte) (*InfoResponse, error) {
	const what = "info response"
	r := &InfoResponse{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	if r.Timestamp, err = reqInt(o, "timestamp", what); err != nil {
		return nil, err
	}
	if err := intTuple(o, "version", what, r.Version[:]); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeGetExpiriesResponse reads the answer to get_expiries.
func DecodeGetExpiriesResponse(body []byte) (*GetExpiriesResponse, error) {
	const what = "get_expiries response"
	o, err := decodeObject(body, what)
	if err != nil {
		return nil, err
	}
	e, ok := o.Member("expiries")
	if !ok {
		return nil, badResponse(what, `no "expiries"`)
	}
	r := &GetExpiriesResponse{}
	if r.Expiries, err = hashExpiries(e, "expiries", what); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeOxendResponse reads the answer to oxend_request; Result is oxend's raw JSON.
func DecodeOxendResponse(body []byte) (*OxendResponse, error) {
	const what = "oxend response"
	r := &OxendResponse{}
	o, err := decodeStamped(body, what, &r.T, &r.HF)
	if err != nil {
		return nil, err
	}
	v, ok := o.Member("result")
	if !ok {
		return nil, badResponse(what, `no "result"`)
	}
	r.Result = append([]byte(nil), v.Raw...)
	return r, nil
}

// DecodeBatchResponse reads the answer to batch or sequence.
func DecodeBatchResponse(body []byte) ([]SubResult, error) {
	const what = "batch response"
	o, err := decodeObject(body, what)
	if err != nil {
		return nil, err
	}
	rs, err := objectList(o, "results", what, "result")
	if err != nil {
		return nil, err
	}
	out := make([]SubResult, len(rs))
	for i, e := range rs {
		code, err := reqInt(e, "code", what)
		if err != nil {
			return nil, err
		}
		b, ok := e.Member("body")
		if !ok {
			return nil, badResponse(what, `result %d has no "body"`, i)
		}
		out[i] = SubResult{Code: int(code), Body: append([]byte(nil), b.Raw...)}
	}
	return out, nil
}
