package storagerpc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// Responses. Encoders write the bodies a real node writes; decoders read them on the client
// side. A node answering a swarm-wide request (store, delete*, expire*) reports every member's
// outcome under "swarm", keyed by the member's Ed25519 key: its own result, its peers' results
// relayed from the swarm link, or why a peer failed.

// HF is a hard fork revision, as the "hf" field reports it: [19, 3].
type HF [2]int

// Version is a storage server version, [2, 8, 0].
type Version [3]int

// Failure is why one swarm member's part of a swarm-wide request failed.
type Failure struct {
	// Timeout: the peer did not answer within the forwarding timeout.
	Timeout bool
	// Code and Reason: the peer refused with this status (as a decimal string, which is how the
	// server relays it) and body.
	Code   string
	Reason string
	// BadPeerResponse: the peer's answer did not parse.
	BadPeerResponse bool
	// QueryFailure: the member's database failed; Reason may hold the error.
	QueryFailure bool
}

// SwarmEntry is one member's part of a swarm-wide answer.
type SwarmEntry[T any] struct {
	// Node is the member's Ed25519 public key in hex.
	Node string
	// Failed is set when the member's part failed; Result is then empty.
	Failed *Failure
	Result T
}

// SwarmResponse is the answer to delete, delete_all, delete_before, expire and expire_all.
type SwarmResponse[T any] struct {
	// Self is the answering node's key (hex). Every other entry came from a peer over the swarm
	// link, whose encoding has no booleans: a peer's own flags arrive as 1 instead of true.
	Self string
	// Swarm holds one entry per member, sorted by Node.
	Swarm []SwarmEntry[T]
	T     int64
	HF    HF
}

// Status is the HTTP status of a swarm-wide answer: 200. The real server means to answer 500
// when every member failed, but its test looks one level too high in the answer and always
// passes; clients must look at the entries (AllFailed).
func (r *SwarmResponse[T]) Status() int { return http.StatusOK }

// AllFailed reports whether no member succeeded.
func (r *SwarmResponse[T]) AllFailed() bool { return allFailed(r.Swarm) }

func allFailed[T any](entries []SwarmEntry[T]) bool {
	for _, e := range entries {
		if e.Failed == nil {
			return false
		}
	}
	return true
}

func sortEntries[T any](entries []SwarmEntry[T]) {
	slices.SortStableFunc(entries, func(a, b SwarmEntry[T]) int { return strings.Compare(a.Node, b.Node) })
}

// flag writes a boolean as the member's encoding has it: true, or 1 after the swarm link.
func (w *objWriter) flag(k string, remote bool) {
	w.key(k)
	if remote {
		w.char('1')
	} else {
		w.lit("true")
	}
}

// writeFailure writes a failed member. Timeouts, refusals and unparsable answers are written by
// the answering node (true); database failures by the member itself (1 when remote). t is the
// answering node's own deprecated "t" for its own store.
func writeFailure(jw *jsonWriter, f *Failure, remote bool, t *int64) {
	w := jw.obj()
	// Only a database failure is the member's own answer, relayed with booleans as 1.
	asOne := f.QueryFailure && remote
	if f.BadPeerResponse {
		w.flag("bad_peer_response", false)
	}
	if f.Code != "" {
		w.str("code", f.Code)
	}
	w.flag("failed", asOne)
	if f.QueryFailure {
		w.flag("query_failure", asOne)
	}
	if f.Reason != "" || (f.Code != "" && !f.QueryFailure) {
		w.str("reason", f.Reason)
	}
	if t != nil {
		w.int("t", *t)
	}
	if f.Timeout {
		w.flag("timeout", false)
	}
	w.end()
}

// writeSwarm writes "swarm":{node: result, ...} with entries in key order. The result writer
// gets whether the entry is a peer's (remote) and, for the answering node's own entry, ownT.
func writeSwarm[T any](w *objWriter, entries []SwarmEntry[T], self string, ownT *int64, result func(w jsonWriter, e *SwarmEntry[T], remote bool, t *int64) jsonWriter) {
	sorted := entries
	if !w.count { // the order does not change the length
		sorted = slices.Clone(entries)
		sortEntries(sorted)
	}
	w.key("swarm")
	w.char('{')
	for i := range sorted {
		e := &sorted[i]
		if i > 0 {
			w.char(',')
		}
		w.text(e.Node)
		w.char(':')
		remote := e.Node != self
		var t *int64
		if !remote {
			t = ownT
		}
		if e.Failed != nil {
			writeFailure(w.jsonWriter, e.Failed, remote, t)
		} else {
			*w.jsonWriter = result(*w.jsonWriter, e, remote, t)
		}
	}
	w.char('}')
}

// objects writes k: a list of one object per item, which item writes.
func objects[T any](w *objWriter, k string, items []T, item func(w jsonWriter, x *T) jsonWriter) {
	w.key(k)
	w.char('[')
	for i := range items {
		if i > 0 {
			w.char(',')
		}
		*w.jsonWriter = item(*w.jsonWriter, &items[i])
	}
	w.char(']')
}

func (w *objWriter) hf(h HF) {
	w.key("hf")
	w.numbers(int64(h[0]), int64(h[1]))
}

// stamped starts an answer framed as most of the server's are: "hf" first, then the answer's
// own members (keys that sort between "hf" and "t", as the server's JSON keys are sorted), then
// the node's clock "t", which endStamped writes.
func (w *jsonWriter) stamped(hf HF) objWriter {
	o := w.obj()
	o.hf(hf)
	return o
}

// endStamped writes the node's clock "t" and closes an answer stamped began.
func (w *objWriter) endStamped(t int64) {
	w.int("t", t)
	w.end()
}

// appendWith appends what write writes.
func appendWith[R any](dst []byte, r R, write func(R, jsonWriter) jsonWriter) []byte {
	return write(r, jsonWriter{b: dst}).b
}

// sizeWith is the size of what write writes, counted without writing it.
func sizeWith[R any](r R, write func(R, jsonWriter) jsonWriter) BodySize {
	w := write(r, counter())
	return w.size()
}

// StoreResult is one member's outcome of a store.
type StoreResult struct {
	Hash string
	// Signature is the member's signature of the hash string.
	Signature [64]byte
	// Expiry is the message's expiry on that member (later than asked when it already had it).
	Expiry int64
	// Already: the member had the message before.
	Already bool
}

// NewStoreResult is a node's own result for a stored message, signed with its key.
func NewStoreResult(s cryptomode.Suite, node ed25519.PrivateKey, hash string, expiry int64, already bool) (StoreResult, time.Duration) {
	r := StoreResult{Hash: hash, Expiry: expiry, Already: already}
	// The message is the hash's bytes, copied on the stack: a store's every member signs one.
	var room [HashLen]byte
	return r, cryptomode.SignTo(s, &r.Signature, node, append(room[:0], hash...))
}

// StoreResponse is the answer to a store.
type StoreResponse struct {
	// Self is the answering node's key (see SwarmResponse.Self).
	Self string
	// Hash is the message hash; the server sets it only when its own store succeeded ("" else).
	Hash  string
	Swarm []SwarmEntry[StoreResult]
	T     int64
	HF    HF
}

// Status is 200: see SwarmResponse.Status.
func (r *StoreResponse) Status() int { return http.StatusOK }

// AllFailed reports whether no member stored the message.
func (r *StoreResponse) AllFailed() bool { return allFailed(r.Swarm) }

// Append writes the store answer. The answering node's own entry also carries "t", a field the
// server keeps for old clients.
func (r *StoreResponse) Append(dst []byte) []byte { return appendWith(dst, r, (*StoreResponse).write) }

// Size is the size of the answer Append writes.
func (r *StoreResponse) Size() BodySize { return sizeWith(r, (*StoreResponse).write) }

func (r *StoreResponse) write(jw jsonWriter) jsonWriter {
	w := jw.obj()
	if r.Hash != "" {
		w.str("hash", r.Hash)
	}
	w.hf(r.HF)
	writeSwarm(&w, r.Swarm, r.Self, &r.T, func(jw jsonWriter, e *SwarmEntry[StoreResult], remote bool, t *int64) jsonWriter {
		v := jw.obj()
		if e.Result.Already {
			v.flag("already", remote)
		}
		v.int("expiry", e.Result.Expiry)
		v.str("hash", e.Result.Hash)
		v.b64("signature", e.Result.Signature[:])
		if t != nil {
			v.int("t", *t)
		}
		v.end()
		return jw
	})
	w.endStamped(r.T)
	return jw
}

// NSHashes is the hashes affected in one namespace.
type NSHashes struct {
	Namespace Namespace
	Hashes    []string
}

// compareNSKey orders groups as a JSON object keyed by namespace lists them: namespace keys are
// decimal strings, ordered as strings. The digits are written on the stack, not into strings.
func compareNSKey(a, b NSHashes) int {
	var x, y [6]byte // len("-32768")
	return bytes.Compare(strconv.AppendInt(x[:0], int64(a.Namespace), 10), strconv.AppendInt(y[:0], int64(b.Namespace), 10))
}

// NSHash is one affected message and its namespace, as a node's database reports it.
type NSHash struct {
	Namespace Namespace
	Hash      string
}

// HashesResult is one member's outcome of delete, delete_all, delete_before or expire_all: the
// hashes it deleted (or whose expiry it shortened), sorted, and its signature over them. For
// requests on all namespaces the hashes are also grouped by namespace.
type HashesResult struct {
	Hashes []string
	// ByNamespace is set (possibly empty) for requests on all namespaces.
	ByNamespace []NSHashes
	AllNS       bool
	Signature   [64]byte
}

// sortedHashes sorts affected messages by hash, which is both the order the node signs them in
// and the order each namespace's list keeps.
func sortedHashes(affected []NSHash) ([]string, []NSHashes) {
	s := slices.Clone(affected)
	slices.SortStableFunc(s, func(a, b NSHash) int { return strings.Compare(a.Hash, b.Hash) })
	hashes := make([]string, len(s))
	var groups []NSHashes
	for i, a := range s {
		hashes[i] = a.Hash
		j := slices.IndexFunc(groups, func(g NSHashes) bool { return g.Namespace == a.Namespace })
		if j < 0 {
			groups = append(groups, NSHashes{Namespace: a.Namespace})
			j = len(groups) - 1
		}
		groups[j].Hashes = append(groups[j].Hashes, a.Hash)
	}
	return hashes, groups
}

func newHashesResult(s cryptomode.Suite, node ed25519.PrivateKey, sel NamespaceSel, affected []NSHash, msg func([]string) []byte) (HashesResult, time.Duration) {
	hashes, groups := sortedHashes(affected)
	r := HashesResult{Hashes: hashes}
	if sel.All {
		r.AllNS, r.ByNamespace = true, groups
		if r.ByNamespace == nil {
			r.ByNamespace = []NSHashes{}
		}
	}
	sig, cost := s.Sign(node, msg(hashes))
	copy(r.Signature[:], sig)
	return r, cost
}

// NewDeleteResult is a node's own result for a delete by hash.
func NewDeleteResult(s cryptomode.Suite, node ed25519.PrivateKey, req *Delete, deleted []string) (HashesResult, time.Duration) {
	hashes := slices.Clone(deleted)
	slices.Sort(hashes)
	r := HashesResult{Hashes: hashes}
	sig, cost := s.Sign(node, DeleteResultSigMessage(req.Pubkey, req.Messages, hashes))
	copy(r.Signature[:], sig)
	return r, cost
}

// NewDeleteAllResult is a node's own result for delete_all.
func NewDeleteAllResult(s cryptomode.Suite, node ed25519.PrivateKey, req *DeleteAll, deleted []NSHash) (HashesResult, time.Duration) {
	return newHashesResult(s, node, req.Namespace, deleted, func(h []string) []byte {
		return DeleteAllResultSigMessage(req.Pubkey, req.Timestamp, h)
	})
}

// NewDeleteBeforeResult is a node's own result for delete_before.
func NewDeleteBeforeResult(s cryptomode.Suite, node ed25519.PrivateKey, req *DeleteBefore, deleted []NSHash) (HashesResult, time.Duration) {
	return newHashesResult(s, node, req.Namespace, deleted, func(h []string) []byte {
		return DeleteBeforeResultSigMessage(req.Pubkey, req.Before, h)
	})
}

// NewExpireAllResult is a node's own result for expire_all.
func NewExpireAllResult(s cryptomode.Suite, node ed25519.PrivateKey, req *ExpireAll, updated []NSHash) (HashesResult, time.Duration) {
	return newHashesResult(s, node, req.Namespace, updated, func(h []string) []byte {
		return ExpireAllResultSigMessage(req.Pubkey, req.Expiry, h)
	})
}

func (r *HashesResult) writeHashes(w *objWriter, key string) {
	w.key(key)
	if !r.AllNS {
		w.texts(r.Hashes)
		return
	}
	groups := slices.Clone(r.ByNamespace)
	slices.SortFunc(groups, compareNSKey)
	w.char('{')
	for i, g := range groups {
		if i > 0 {
			w.char(',')
		}
		w.char('"')
		w.number(int64(g.Namespace))
		w.lit(`":`)
		w.texts(g.Hashes)
	}
	w.char('}')
}

// AppendDeleteResponse writes the answer to delete, delete_all or delete_before.
func AppendDeleteResponse(dst []byte, r *SwarmResponse[HashesResult]) []byte {
	return appendWith(dst, r, writeDeleteResponse)
}

// DeleteResponseSize is the size of the answer AppendDeleteResponse writes.
func DeleteResponseSize(r *SwarmResponse[HashesResult]) BodySize {
	return sizeWith(r, writeDeleteResponse)
}

func writeDeleteResponse(r *SwarmResponse[HashesResult], w jsonWriter) jsonWriter {
	writeHashesResponse(&w, r, "deleted")
	return w
}

func writeExpireAllResponse(r *SwarmResponse[HashesResult], w jsonWriter) jsonWriter {
	writeHashesResponse(&w, r, "updated")
	return w
}

// DeleteStatus is the status of the answer to a delete: 404 when the request set Required and
// no member deleted anything (failed members count as having deleted nothing), else 200.
func DeleteStatus(req *Delete, r *SwarmResponse[HashesResult]) int {
	if !req.Required {
		return http.StatusOK
	}
	for _, e := range r.Swarm {
		if e.Failed == nil && len(e.Result.Hashes) > 0 {
			return http.StatusOK
		}
	}
	return http.StatusNotFound
}

// AppendExpireAllResponse writes the answer to expire_all.
func AppendExpireAllResponse(dst []byte, r *SwarmResponse[HashesResult]) []byte {
	return appendWith(dst, r, writeExpireAllResponse)
}

// ExpireAllResponseSize is the size of the answer AppendExpireAllResponse writes.
func ExpireAllResponseSize(r *SwarmResponse[HashesResult]) BodySize {
	return sizeWith(r, writeExpireAllResponse)
}

func writeHashesResponse(jw *jsonWriter, r *SwarmResponse[HashesResult], key string) {
	w := jw.stamped(r.HF)
	writeSwarm(&w, r.Swarm, r.Self, nil, func(jw jsonWriter, e *SwarmEntry[HashesResult], _ bool, _ *int64) jsonWriter {
		v := jw.obj()
		if key == "deleted" {
			e.Result.writeHashes(&v, key)
			v.b64("signature", e.Result.Signature[:])
		} else {
			v.b64("signature", e.Result.Signature[:])
			e.Result.writeHashes(&v, key)
		}
		v.end()
		return jw
	})
	w.endStamped(r.T)
}

// ExpireResult is one member's outcome of an expire.
type ExpireResult struct {
	// Expiries is the expiry applied: one value for a single-expiry request (even when nothing
	// was updated), else the expiries of Updated in the same order.
	Expiries []int64
	// Multi marks a request with one expiry per message (Expiries is then written as a list).
	Multi bool
	// Updated is the sorted hashes whose expiry changed.
	Updated []string
	// Unchanged (only with shorten or extend) holds the messages left as they were, by hash.
	Unchanged    []HashExpiry
	HasUnchanged bool
	// Signature is the member's signature (ExpireResultSigMessage), unless deferred is set.
	Signature [64]byte
	// deferred, when set, is what the signature is still to be made with: NewExpireResult
	// charges it and leaves the signing to whoever reads its bytes (signature). A structural
	// run only measures the answers, so the members of a swarm, which each sign every expire,
	// never hash its message.
	deferred deferredSig
}

// deferredSig is a member's key and the request its expire result answers, for signing later;
// the zero value defers nothing.
type deferredSig struct {
	suite cryptomode.Suite
	key   ed25519.PrivateKey
	req   *Expire
}

// signature is r's signature, made now if it was deferred; a writer that only measures gets
// r.Signature in place, whose bytes it does not read, without the signing or an allocation. r
// is not changed: a result is shared with whoever holds the answer, and its bytes are written
// about once in a run.
func (r *ExpireResult) signature(measuring bool) []byte {
	d := &r.deferred
	if d.suite == nil || measuring {
		return r.Signature[:]
	}
	sig := new([ed25519.SignatureSize]byte)
	var room [expireSigRoom]byte
	msg := appendExpireResultSigMessage(room[:0], d.req.Pubkey, r.Expiries, d.req.Messages, r.Updated, r.Unchanged)
	cryptomode.SignTo(d.suite, sig, d.key, msg)
	return sig[:]
}

// NewExpireResult is a node's own result for an expire. applied is from Expire.Apply; updated
// is what its database changed (hash and new expiry); unchanged is what it left alone because of
// shorten/extend. The caller hands the three slices over: updated and unchanged are sorted in
// place, which spares a copy of each on every member's answer, and the result keeps unchanged
// and, for a single expiry, applied. When the suite lets a
// signature be put off (cryptomode.SignCost: the modeled one), it is charged now and made each
// time its bytes are read (see ExpireResult.deferred): node, req and the result's slices must
// then stay as they are.
func NewExpireResult(s cryptomode.Suite, node ed25519.PrivateKey, req *Expire, applied []int64, updated, unchanged []HashExpiry) (ExpireResult, time.Duration) {
	sortHashExpiries(updated)
	r := ExpireResult{Multi: len(req.Expiries) > 1, Updated: make([]string, len(updated))}
	for i, x := range updated {
		r.Updated[i] = x.Hash
	}
	if r.Multi {
		r.Expiries = make([]int64, len(updated))
		for i, x := range updated {
			r.Expiries[i] = x.Expiry
		}
	} else if len(applied) > 0 {
		r.Expiries = applied[:1:1]
	}
	if req.Mode != ExpireSet {
		r.HasUnchanged = true
		r.Unchanged = unchanged
		sortHashExpiries(r.Unchanged)
	}
	if cost, ok := cryptomode.SignCost(s); ok {
		r.deferred = deferredSig{suite: s, key: node, req: req}
		return r, cost
	}
	var room [expireSigRoom]byte
	msg := appendExpireResultSigMessage(room[:0], req.Pubkey, r.Expiries, req.Messages, r.Updated, r.Unchanged)
	return r, cryptomode.SignTo(s, &r.Signature, node, msg)
}

// AppendExpireResponse writes the answer to an expire.
func AppendExpireResponse(dst []byte, r *SwarmResponse[ExpireResult]) []byte {
	// Grown once, for the members' keys, signatures and hashes (every poll's expire answer).
	n := 64
	for i := range r.Swarm {
		e := &r.Swarm[i].Result
		n += 200 + 20*len(e.Expiries)
		for _, h := range e.Updated {
			n += len(h) + 3
		}
		for _, u := range e.Unchanged {
			n += len(u.Hash) + 20
		}
	}
	return appendWith(slices.Grow(dst, n), r, writeExpireResponse)
}

// ExpireResponseSize is the size of the answer AppendExpireResponse writes.
func ExpireResponseSize(r *SwarmResponse[ExpireResult]) BodySize {
	return sizeWith(r, writeExpireResponse)
}

func writeExpireResponse(r *SwarmResponse[ExpireResult], jw jsonWriter) jsonWriter {
	w := jw.stamped(r.HF)
	writeSwarm(&w, r.Swarm, r.Self, nil, func(jw jsonWriter, e *SwarmEntry[ExpireResult], _ bool, _ *int64) jsonWriter {
		v := jw.obj()
		v.key("expiry")
		if e.Result.Multi {
			v.numbers(e.Result.Expiries...)
		} else if len(e.Result.Expiries) > 0 {
			jw.number(e.Result.Expiries[0])
		} else {
			jw.char('0')
		}
		v.b64("signature", e.Result.signature(v.count))
		if e.Result.HasUnchanged {
			v.key("unchanged")
			writeHashExpiries(&jw, e.Result.Unchanged)
		}
		v.strings("updated", e.Result.Updated)
		v.end()
		return jw
	})
	w.endStamped(r.T)
	return jw
}

// RetrievedMessage is one message of a retrieve answer.
type RetrievedMessage struct {
	Hash      string
	Timestamp int64
	Expiry    int64
	Data      []byte
}

// RetrieveResponse is the answer to a retrieve.
type RetrieveResponse struct {
	Messages []RetrievedMessage
	// More: the limits cut the answer short; retrieve again from the last hash.
	More bool
	T    int64
	HF   HF
}

// Append writes the retrieve answer.
func (r *RetrieveResponse) Append(dst []byte) []byte {
	// Grown once for the messages' data (base64) and their other fields, which are most of
	// the answer.
	n := 64
	for i := range r.Messages {
		n += base64.StdEncoding.EncodedLen(len(r.Messages[i].Data)) + len(r.Messages[i].Hash) + 80
	}
	return appendWith(slices.Grow(dst, n), r, (*RetrieveResponse).write)
}

// Size is the size of the answer Append writes.
func (r *RetrieveResponse) Size() BodySize { return sizeWith(r, (*RetrieveResponse).write) }

func (r *RetrieveResponse) write(jw jsonWriter) jsonWriter {
	w := jw.stamped(r.HF)
	objects(&w, "messages", r.Messages, func(jw jsonWriter, m *RetrievedMessage) jsonWriter {
		v := jw.obj()
		v.b64("data", m.Data)
		v.int("expiration", m.Expiry)
		v.str("hash", m.Hash)
		v.int("timestamp", m.Timestamp)
		v.end()
		return jw
	})
	w.boolean("more", r.More)
	w.endStamped(r.T)
	return jw
}

// SnodeInfo is a service node as get_swarm and 421 answers describe it.
type SnodeInfo struct {
	// PubkeyLegacy is the node's primary key (equal to its Ed25519 key on current nodes).
	PubkeyLegacy  [32]byte
	PubkeyEd25519 [32]byte
	PubkeyX25519  [32]byte
	IP            string
	PortHTTPS     uint16
	PortOMQ       uint16
}

// InvalidSwarmID is the swarm id reported when a node knows no swarm for the account.
const InvalidSwarmID = ^uint64(0)

// SwarmInfoResponse is the answer to get_swarm, and the body of the 421 (Misdirected Request) a
// node answers a request for an account whose swarm it is not in, naming that account's swarm.
type SwarmInfoResponse struct {
	Snodes  []SnodeInfo
	SwarmID uint64
	T       int64
	HF      HF
}

// Append writes the answer. Each node also carries the deprecated "address" (base32z of the
// legacy key + ".snode") and string "port", and "port_omq"/"port_quic" (the same port).
func (r *SwarmInfoResponse) Append(dst []byte) []byte {
	return appendWith(dst, r, (*SwarmInfoResponse).write)
}

// Size is the size of the answer Append writes.
func (r *SwarmInfoResponse) Size() BodySize { return sizeWith(r, (*SwarmInfoResponse).write) }

func (r *SwarmInfoResponse) write(jw jsonWriter) jsonWriter {
	w := jw.stamped(r.HF)
	objects(&w, "snodes", r.Snodes, func(jw jsonWriter, sn *SnodeInfo) jsonWriter {
		v := jw.obj()
		v.key("address")
		v.char('"')
		if v.count {
			v.n += base32zLen(len(sn.PubkeyLegacy))
		} else {
			v.b = appendBase32z(v.b, sn.PubkeyLegacy[:])
		}
		v.lit(`.snode"`)
		v.str("ip", sn.IP)
		v.key("port")
		v.char('"')
		v.unsigned(uint64(sn.PortHTTPS), 10)
		v.char('"')
		v.int("port_https", int64(sn.PortHTTPS))
		v.int("port_omq", int64(sn.PortOMQ))
		v.int("port_quic", int64(sn.PortOMQ))
		v.hex("pubkey_ed25519", sn.PubkeyEd25519[:])
		v.hex("pubkey_legacy", sn.PubkeyLegacy[:])
		v.hex("pubkey_x25519", sn.PubkeyX25519[:])
		v.end()
		return jw
	})
	w.key("swarm")
	w.char('"')
	w.unsigned(r.SwarmID, 16)
	w.char('"')
	w.endStamped(r.T)
	return jw
}

// InfoResponse is the answer to info.
type InfoResponse struct {
	Version   Version
	Timestamp int64
	T         int64
	HF        HF
}

// Append writes the info answer; its "t" is not last, as "timestamp" and "version" sort after it.
func (r *InfoResponse) Append(dst []byte) []byte { return appendWith(dst, r, (*InfoResponse).write) }

// Size is the size of the answer Append writes.
func (r *InfoResponse) Size() BodySize { return sizeWith(r, (*InfoResponse).write) }

func (r *InfoResponse) write(jw jsonWriter) jsonWriter {
	w := jw.stamped(r.HF)
	w.int("t", r.T)
	w.int("timestamp", r.Timestamp)
	w.key("version")
	w.numbers(int64(r.Version[0]), int64(r.Version[1]), int64(r.Version[2]))
	w.end()
	return jw
}

// GetExpiriesResponse is the answer to get_expiries: the messages found, by hash. It carries
// no "t" or "hf".
type GetExpiriesResponse struct {
	Expiries []HashExpiry
}

// Append writes the answer, hashes in order.
func (r *GetExpiriesResponse) Append(dst []byte) []byte {
	return appendWith(dst, r, (*GetExpiriesResponse).write)
}

// Size is the size of the answer Append writes.
func (r *GetExpiriesResponse) Size() BodySize { return sizeWith(r, (*GetExpiriesResponse).write) }

func (r *GetExpiriesResponse) write(w jsonWriter) jsonWriter {
	e := slices.Clone(r.Expiries)
	sortHashExpiries(e)
	e = slices.CompactFunc(e, func(a, b HashExpiry) bool { return a.Hash == b.Hash })
	w.lit(`{"expiries":`)
	writeHashExpiries(&w, e)
	w.char('}')
	return w
}

// writeHashExpiries writes messages' expiries as the server does, an object keyed by hash, in
// the order given.
func writeHashExpiries(w *jsonWriter, e []HashExpiry) {
	w.char('{')
	for i, x := range e {
		if i > 0 {
			w.char(',')
		}
		w.text(x.Hash)
		w.char(':')
		w.number(x.Expiry)
	}
	w.char('}')
}

// OxendResponse is the answer to oxend_request: oxend's JSON result, unchanged.
type OxendResponse struct {
	Result []byte
	T      int64
	HF     HF
}

// Append writes the answer. Result must be valid JSON.
func (r *OxendResponse) Append(dst []byte) []byte { return appendWith(dst, r, (*OxendResponse).write) }

// Size is the size of the answer Append writes.
func (r *OxendResponse) Size() BodySize { return sizeWith(r, (*OxendResponse).write) }

func (r *OxendResponse) write(jw jsonWriter) jsonWriter {
	w := jw.stamped(r.HF)
	w.key("result")
	w.raw(r.Result)
	w.endStamped(r.T)
	return jw
}

// SubResult is one subrequest's outcome in a batch or sequence answer. Body is raw JSON: the
// subrequest's answer, or a JSON string holding the refusal text.
type SubResult struct {
	Code int
	Body []byte
	// Value is the answer Body was written from, when the answering side kept it (a batch
	// answered in structural form), such as the *RetrieveResponse whose Append is Body, so
	// that the reader need not parse Body: parsing gives the same answer (a swarm answer's
	// entries in the body's node order). Nil when not kept; it never travels on the wire, and
	// a reader that does not know its type parses Body. It is read-only: its byte slices may
	// be the answering node's own (a retrieve's message data is its store's), which a reader
	// on another host, or another worker, must not change.
	//
	// Body is nil when the answer was measured rather than written, because no one reads
	// its bytes (a batch in a structural onion reply, whose reader takes Value): Value then
	// holds it, and writing Value (AppendBatchResponse does) gives the body.
	Value any
}

// TextResult is a refused subrequest: the status and the refusal text as a JSON string.
func TextResult(status int, text string) SubResult {
	return SubResult{Code: status, Body: appendJSONString(nil, text)}
}

// ErrorResult is the sub-result for an error from this package (or 500 "request failed" for any
// other error, as the server answers).
func ErrorResult(err error) SubResult {
	status, text := ErrorBody(err)
	return TextResult(status, string(text))
}

// ErrorBody is the status and plain-text body a node answers a failed request with: the
// Error's own, or 500 "request failed" for anything else, as the server hides unexpected errors.
func ErrorBody(err error) (int, []byte) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, []byte(e.Text)
	}
	return http.StatusInternalServerError, []byte("request failed")
}

// Text returns the refusal text when the body is a JSON string.
func (s SubResult) Text() (string, bool) {
	v, err := wirejson.Parse(s.Body)
	if err != nil || v.Kind != wirejson.String {
		return "", false
	}
	return v.Text(), true
}

// OK reports a 2xx code.
func (s SubResult) OK() bool { return s.Code >= 200 && s.Code <= 299 }

// AppendBatchResponse writes {"results":[{"body":...,"code":...},...]}. A sequence's results
// end at the first one that is not OK; the answer itself is 200 either way. A result measured
// rather than written (Body nil) is written from its Value.
func AppendBatchResponse(dst []byte, results []SubResult) []byte {
	// Grown once: the bodies are most of the answer, and an answer is written per batch.
	n := len(`{"results":[]}`)
	for _, r := range results {
		n += len(`{"body":,"code":000},`) + len(r.Body)
	}
	return appendWith(slices.Grow(dst, n), results, writeBatchResponse)
}

// BatchResponseSize is the size of the answer AppendBatchResponse writes.
func BatchResponseSize(results []SubResult) BodySize { return sizeWith(results, writeBatchResponse) }

func writeBatchResponse(results []SubResult, w jsonWriter) jsonWriter {
	w.lit(`{"results":[`)
	for i := range results {
		r := &results[i]
		if i > 0 {
			w.char(',')
		}
		w.lit(`{"body":`)
		if r.Body == nil && r.Value != nil {
			writeValue(&w, r.Value)
		} else {
			w.raw(r.Body)
		}
		w.lit(`,"code":`)
		w.number(int64(r.Code))
		w.char('}')
	}
	w.lit("]}")
	return w
}

// writeValue writes an answer a SubResult.Value holds.
func writeValue(w *jsonWriter, v any) {
	switch v := v.(type) {
	case *RetrieveResponse:
		*w = v.write(*w)
	case *StoreResponse:
		*w = v.write(*w)
	case *SwarmResponse[ExpireResult]:
		*w = writeExpireResponse(v, *w)
	default:
		panic(fmt.Sprintf("storagerpc: a measured result holds a %T, which has no encoding here", v))
	}
}

// NodeKeyHex is the hex form of a node's Ed25519 public key, the key of its swarm entries.
func NodeKeyHex(pub ed25519.PublicKey) string { return hex.EncodeToString(pub) }

// base32z alphabet, used for the deprecated "address" of a node.
const base32zAlphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"

// base32zLen is the length of n bytes in base32z: five bits a character, the last one padded.
func base32zLen(n int) int { return (8*n + 4) / 5 }

// appendBase32z encodes bits most significant first, the last character padded with zero bits.
func appendBase32z(dst []byte, b []byte) []byte {
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			dst = append(dst, base32zAlphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		dst = append(dst, base32zAlphabet[(acc<<(5-bits))&31])
	}
	return dst
}

func sortHashExpiries(e []HashExpiry) {
	slices.SortStableFunc(e, func(a, b HashExpiry) int { return strings.Compare(a.Hash, b.Hash) })
}
