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

// reader reads the fields of one answer. Like the request loader it keeps its first failure:
// once a read fails, later reads return zero values and leave the error in place, so a decoder
// is the list of the fields it reads, in order, checked once at the end, and the error it
// reports is the first thing it found wrong.
type reader struct {
	// what names the answer in errors: "store response".
	what string
	err  error
}

// fail records a failure unless one is recorded already.
func (rd *reader) fail(format string, args ...any) {
	if rd.err == nil {
		rd.err = fmt.Errorf("%w: %s: %s", ErrBadResponse, rd.what, fmt.Sprintf(format, args...))
	}
}

// member is o[key]; absent once a read has failed.
func (rd *reader) member(o wirejson.Value, key string) (wirejson.Value, bool) {
	if rd.err != nil {
		return wirejson.Value{}, false
	}
	return o.Member(key)
}

// decoded is v, or the zero value and the first failure when a read failed.
func decoded[V any](v V, rd *reader) (V, error) {
	if rd.err != nil {
		var zero V
		return zero, rd.err
	}
	return v, nil
}

func (rd *reader) object(body []byte) wirejson.Value {
	v, err := wirejson.Parse(body)
	switch {
	case err != nil:
		rd.fail("not JSON")
	case v.Kind != wirejson.Object:
		rd.fail("not a JSON object")
	}
	return v
}

func (rd *reader) int(o wirejson.Value, key string) int64 {
	v, ok := rd.member(o, key)
	if !ok {
		rd.fail("no %q", key)
		return 0
	}
	n, ok := asInt(v)
	if !ok {
		rd.fail("%q is not an integer", key)
	}
	return n
}

func (rd *reader) str(o wirejson.Value, key string) string {
	v, ok := rd.member(o, key)
	if !ok || v.Kind != wirejson.String {
		rd.fail("no string %q", key)
		return ""
	}
	return v.Text()
}

// optStr is o[key] when it is given, which must then be a string.
func (rd *reader) optStr(o wirejson.Value, key string) string {
	v, ok := rd.member(o, key)
	if !ok {
		return ""
	}
	if v.Kind != wirejson.String {
		rd.fail("%q is not a string", key)
		return ""
	}
	return v.Text()
}

// flagValue reads a flag written as true/false or, after the swarm link, as an integer.
func flagValue(v wirejson.Value) (bool, bool) {
	if b, ok := v.Bool(); ok {
		return b, true
	}
	n, ok := asInt(v)
	return n != 0, ok
}

// flag is o[key] as a flag, false when absent.
func (rd *reader) flag(o wirejson.Value, key string) bool {
	v, ok := rd.member(o, key)
	if !ok {
		return false
	}
	b, ok := flagValue(v)
	if !ok {
		rd.fail("%q is not a flag", key)
	}
	return b
}

func (rd *reader) signature(o wirejson.Value) [64]byte {
	var sig [64]byte
	v, ok := rd.member(o, "signature")
	if !ok || v.Kind != wirejson.String || !decodeSignature(sig[:], v.Bytes()) {
		rd.fail("no base64 Ed25519 \"signature\"")
	}
	return sig
}

// objects reads o[key] as a list of objects; item names an element in errors.
func (rd *reader) objects(o wirejson.Value, key, item string) []wirejson.Value {
	v, ok := rd.member(o, key)
	if !ok || v.Kind != wirejson.Array {
		rd.fail("no %q list", key)
		return nil
	}
	for i, e := range v.Elems {
		if e.Kind != wirejson.Object {
			rd.fail("%s %d is not an object", item, i)
			return nil
		}
	}
	return v.Elems
}

// stringList reads v, o[key], as a list of strings.
func (rd *reader) stringList(v wirejson.Value, key string) []string {
	if rd.err != nil {
		return nil
	}
	if v.Kind != wirejson.Array {
		rd.fail("%q is not a list", key)
		return nil
	}
	out, ok := arrayOf(v, asString)
	if !ok {
		rd.fail("%q holds a non-string", key)
	}
	return out
}

// intTuple reads o[key] as a list of exactly len(dst) integers (a hard fork, a version) into dst.
func (rd *reader) intTuple(o wirejson.Value, key string, dst []int) {
	v, ok := rd.member(o, key)
	if !ok {
		rd.fail("no %q", key)
		return
	}
	if v.Kind != wirejson.Array || len(v.Elems) != len(dst) {
		rd.fail("%q is not a %d-element list", key, len(dst))
		return
	}
	for i, e := range v.Elems {
		n, ok := asInt(e)
		if !ok {
			rd.fail("%q holds a non-integer", key)
			return
		}
		dst[i] = int(n)
	}
}

// hashExpiries reads v, o[key], as an object of expiries keyed by message hash; the result is in
// hash order.
func (rd *reader) hashExpiries(v wirejson.Value, key string) []HashExpiry {
	if rd.err != nil {
		return nil
	}
	if v.Kind != wirejson.Object {
		rd.fail("%q is not an object", key)
		return nil
	}
	out := make([]HashExpiry, 0, len(v.Members))
	for _, m := range v.UniqueMembers() {
		n, ok := asInt(m.Value)
		if !ok {
			rd.fail("%q: expiry of %q is not an integer", key, m.Key)
			return nil
		}
		out = append(out, HashExpiry{Hash: string(m.Key), Expiry: n})
	}
	sortHashExpiries(out)
	return out
}

func (rd *reader) hexKey(o wirejson.Value, key string) [32]byte {
	var k [32]byte
	v, ok := rd.member(o, key)
	if !ok || v.Kind != wirejson.String {
		rd.fail("no %q", key)
		return k
	}
	if s := v.Bytes(); len(s) != 64 || !decodeHex(k[:], s) {
		rd.fail("%q is not a 64-digit hex key", key)
	}
	return k
}

// decodeHex decodes s, exactly 2*len(dst) hex digits, into dst.
func decodeHex(dst, s []byte) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, s)
	return err == nil
}

// stamped reads an answer that carries the node's clock ("t") and hard fork ("hf"), as all
// but the get_expiries and batch answers do, and sets t and hf from them.
func (rd *reader) stamped(body []byte, t *int64, hf *HF) wirejson.Value {
	o := rd.object(body)
	*t = rd.int(o, "t")
	rd.intTuple(o, "hf", hf[:])
	return o
}

// failure reads a member's refusal, and whether it was written as a peer's (failed: not true).
func (rd *reader) failure(o wirejson.Value) (f *Failure, asOne bool) {
	f = &Failure{}
	if fv, ok := o.Member("failed"); ok {
		asOne = fv.Kind != wirejson.True
	}
	f.Timeout = rd.flag(o, "timeout")
	f.BadPeerResponse = rd.flag(o, "bad_peer_response")
	f.QueryFailure = rd.flag(o, "query_failure")
	if v, ok := rd.member(o, "code"); ok {
		switch v.Kind {
		case wirejson.String:
			f.Code = v.Text()
		case wirejson.Number:
			n, ok := asInt(v)
			if !ok {
				rd.fail(`"code" is not an integer`)
			}
			f.Code = strconv.FormatInt(n, 10)
		default:
			rd.fail(`"code" is neither string nor integer`)
		}
	}
	f.Reason = rd.optStr(o, "reason")
	return f, asOne
}

// decodeSwarm reads the "swarm" object. result reads a successful entry and may report that it
// is the answering node's own; a database failure written with true is also the node's own.
func decodeSwarm[T any](rd *reader, o wirejson.Value, result func(v wirejson.Value) (T, bool)) ([]SwarmEntry[T], string) {
	sw, ok := rd.member(o, "swarm")
	if !ok || sw.Kind != wirejson.Object {
		rd.fail(`no "swarm" object`)
		return nil, ""
	}
	entries := make([]SwarmEntry[T], 0, len(sw.Members))
	self := ""
	for _, m := range sw.UniqueMembers() {
		node := string(m.Key)
		var key [32]byte
		if !decodeHex(key[:], m.Key) {
			rd.fail("swarm member %q is not a hex Ed25519 key", node)
			return nil, ""
		}
		if m.Value.Kind != wirejson.Object {
			rd.fail("swarm member %s: not an object", node[:8])
			return nil, ""
		}
		e := SwarmEntry[T]{Node: node}
		own := false
		if _, failed := m.Value.Member("failed"); failed {
			var asOne bool
			e.Failed, asOne = rd.failure(m.Value)
			own = e.Failed.QueryFailure && !asOne
		} else {
			e.Result, own = result(m.Value)
		}
		if rd.err != nil {
			return nil, ""
		}
		if own {
			self = node
		}
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries, self
}

// DecodeStoreResponse reads the answer to a store.
func DecodeStoreResponse(body []byte) (*StoreResponse, error) {
	rd := &reader{what: "store response"}
	r := &StoreResponse{}
	o := rd.stamped(body, &r.T, &r.HF)
	r.Hash = rd.optStr(o, "hash")
	r.Swarm, r.Self = decodeSwarm(rd, o, func(v wirejson.Value) (StoreResult, bool) {
		var s StoreResult
		s.Hash = rd.str(v, "hash")
		s.Expiry = rd.int(v, "expiry")
		s.Signature = rd.signature(v)
		s.Already = rd.flag(v, "already")
		_, own := v.Member("t")
		return s, own
	})
	return decoded(r, rd)
}

func (rd *reader) hashes(v wirejson.Value, key string) HashesResult {
	var r HashesResult
	h, ok := rd.member(v, key)
	if !ok {
		rd.fail("no %q", key)
		return r
	}
	switch h.Kind {
	case wirejson.Array:
		r.Hashes = rd.stringList(h, key)
	case wirejson.Object:
		r.AllNS = true
		r.ByNamespace = make([]NSHashes, 0, len(h.Members))
		for _, m := range h.UniqueMembers() {
			n, perr := strconv.ParseInt(string(m.Key), 10, 16)
			if perr != nil || strconv.FormatInt(n, 10) != string(m.Key) {
				rd.fail("%q key %q is not a namespace", key, m.Key)
				return r
			}
			hs := rd.stringList(m.Value, key)
			r.ByNamespace = append(r.ByNamespace, NSHashes{Namespace: Namespace(n), Hashes: hs})
			r.Hashes = append(r.Hashes, hs...)
		}
		slices.Sort(r.Hashes)
		slices.SortFunc(r.ByNamespace, compareNSKey)
	default:
		rd.fail("%q is neither a list nor an object", key)
	}
	r.Signature = rd.signature(v)
	return r
}

func decodeHashesResponse(body []byte, key, what string) (*SwarmResponse[HashesResult], error) {
	rd := &reader{what: what}
	r := &SwarmResponse[HashesResult]{}
	o := rd.stamped(body, &r.T, &r.HF)
	r.Swarm, r.Self = decodeSwarm(rd, o, func(v wirejson.Value) (HashesResult, bool) {
		return rd.hashes(v, key), false
	})
	return decoded(r, rd)
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
	rd := &reader{what: "expire response"}
	r := &SwarmResponse[ExpireResult]{}
	o := rd.stamped(body, &r.T, &r.HF)
	r.Swarm, r.Self = decodeSwarm(rd, o, func(v wirejson.Value) (ExpireResult, bool) {
		var e ExpireResult
		ex, ok := rd.member(v, "expiry")
		switch {
		case !ok:
			rd.fail(`no "expiry"`)
		case ex.Kind == wirejson.Array:
			e.Multi = true
			if e.Expiries, ok = arrayOf(ex, asInt); !ok {
				rd.fail(`"expiry" holds a non-integer`)
			}
		default:
			n, ok := asInt(ex)
			if !ok {
				rd.fail(`"expiry" is not an integer`)
			}
			e.Expiries = []int64{n}
		}
		up, ok := rd.member(v, "updated")
		if !ok {
			rd.fail(`no "updated"`)
		}
		e.Updated = rd.stringList(up, "updated")
		if un, ok := rd.member(v, "unchanged"); ok {
			e.HasUnchanged = true
			e.Unchanged = rd.hashExpiries(un, "unchanged")
		}
		e.Signature = rd.signature(v)
		return e, false
	})
	return decoded(r, rd)
}

// DecodeRetrieveResponse reads the answer to a retrieve.
func DecodeRetrieveResponse(body []byte) (*RetrieveResponse, error) {
	rd := &reader{what: "retrieve response"}
	r := &RetrieveResponse{}
	o := rd.stamped(body, &r.T, &r.HF)
	r.More = rd.flag(o, "more")
	ms := rd.objects(o, "messages", "message")
	r.Messages = make([]RetrievedMessage, len(ms))
	for i, m := range ms {
		msg := &r.Messages[i]
		msg.Hash = rd.str(m, "hash")
		msg.Timestamp = rd.int(m, "timestamp")
		msg.Expiry = rd.int(m, "expiration")
		d, ok := rd.member(m, "data")
		if ok && d.Kind == wirejson.String && isBase64(d.Bytes()) {
			var err error
			if msg.Data, err = decodeBase64(make([]byte, 0, len(d.Raw)*3/4), d.Bytes()); err == nil {
				continue
			}
		}
		rd.fail(`message %d: no base64 "data"`, i)
	}
	return decoded(r, rd)
}

// port is o[key] as a port number, given as an integer or, by older nodes, a string.
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
	rd := &reader{what: "swarm response"}
	r := &SwarmInfoResponse{}
	o := rd.stamped(body, &r.T, &r.HF)
	if sw := rd.str(o, "swarm"); rd.err == nil {
		var err error
		if r.SwarmID, err = strconv.ParseUint(sw, 16, 64); err != nil {
			rd.fail(`"swarm" %q is not a hex swarm id`, sw)
		}
	}
	sn := rd.objects(o, "snodes", "node")
	r.Snodes = make([]SnodeInfo, len(sn))
	for i, e := range sn {
		s := &r.Snodes[i]
		s.PubkeyEd25519 = rd.hexKey(e, "pubkey_ed25519")
		s.PubkeyX25519 = rd.hexKey(e, "pubkey_x25519")
		s.PubkeyLegacy = s.PubkeyEd25519
		if _, ok := rd.member(e, "pubkey_legacy"); ok {
			s.PubkeyLegacy = rd.hexKey(e, "pubkey_legacy")
		}
		s.IP = rd.str(e, "ip")
		p, ok := port(e, "port_https")
		if !ok {
			if p, ok = port(e, "port"); !ok {
				rd.fail("node %d has no port", i)
			}
		}
		s.PortHTTPS = p
		s.PortOMQ, _ = port(e, "port_omq")
	}
	return decoded(r, rd)
}

// DecodeInfoResponse reads the answer to info.
func DecodeInfoResponse(body []byte) (*InfoResponse, error) {
	rd := &reader{what: "info response"}
	r := &InfoResponse{}
	o := rd.stamped(body, &r.T, &r.HF)
	r.Timestamp = rd.int(o, "timestamp")
	rd.intTuple(o, "version", r.Version[:])
	return decoded(r, rd)
}

// DecodeGetExpiriesResponse reads the answer to get_expiries.
func DecodeGetExpiriesResponse(body []byte) (*GetExpiriesResponse, error) {
	rd := &reader{what: "get_expiries response"}
	o := rd.object(body)
	e, ok := rd.member(o, "expiries")
	if !ok {
		rd.fail(`no "expiries"`)
	}
	r := &GetExpiriesResponse{Expiries: rd.hashExpiries(e, "expiries")}
	return decoded(r, rd)
}

// DecodeOxendResponse reads the answer to oxend_request; Result is oxend's raw JSON.
func DecodeOxendResponse(body []byte) (*OxendResponse, error) {
	rd := &reader{what: "oxend response"}
	r := &OxendResponse{}
	o := rd.stamped(body, &r.T, &r.HF)
	if v, ok := rd.member(o, "result"); ok {
		r.Result = append([]byte(nil), v.Raw...)
	} else {
		rd.fail(`no "result"`)
	}
	return decoded(r, rd)
}

// DecodeBatchResponse reads the answer to batch or sequence.
func DecodeBatchResponse(body []byte) ([]SubResult, error) {
	rd := &reader{what: "batch response"}
	rs := rd.objects(rd.object(body), "results", "result")
	out := make([]SubResult, len(rs))
	for i, e := range rs {
		out[i].Code = int(rd.int(e, "code"))
		if b, ok := rd.member(e, "body"); ok {
			out[i].Body = append([]byte(nil), b.Raw...)
		} else {
			rd.fail(`result %d has no "body"`, i)
		}
	}
	return decoded(out, rd)
}
