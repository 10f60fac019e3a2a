package storagerpc

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
)

// Client-side encoding. Requests are written as Session Desktop writes them (JSON.stringify of
// objects built in a fixed field order, a "jsonrpc": "2.0" member in the envelope, base64 with
// padding, some Ed25519 keys in upper case), so their sizes are those of real traffic.

// EncodeRequest returns the body of a /storage_rpc/v1 call (or of an onion request's payload).
func EncodeRequest(r Request) []byte { return AppendRequest(nil, r) }

// AppendRequest appends {"jsonrpc":"2.0","method":...,"params":{...}}.
func AppendRequest(dst []byte, r Request) []byte {
	dst = slices.Grow(dst, len(`{"jsonrpc":"2.0","method":"","params":}`)+len(r.Method())+paramsSizeHint(r))
	dst = append(dst, `{"jsonrpc":"2.0","method":`...)
	dst = appendJSONString(dst, r.Method())
	dst = append(dst, `,"params":`...)
	dst = r.AppendParams(dst)
	return append(dst, '}')
}

// objWriter appends a JSON object member by member; first tracks whether a comma is needed.
type objWriter struct {
	b     []byte
	first bool
}

func newObj(dst []byte) objWriter { return objWriter{b: append(dst, '{'), first: true} }

func (w *objWriter) key(k string) {
	w.b = appendKey(w.b, k, w.first)
	w.first = false
}

func (w *objWriter) str(k, v string) { w.key(k); w.b = appendJSONString(w.b, v) }
func (w *objWriter) int(k string, v int64) {
	w.key(k)
	w.b = appendInt(w.b, v)
}
func (w *objWriter) boolean(k string, v bool) { w.key(k); w.b = appendBool(w.b, v) }
func (w *objWriter) b64(k string, v []byte)   { w.key(k); w.b = appendB64String(w.b, v) }
func (w *objWriter) hex(k string, v []byte)   { w.key(k); w.b = appendHexString(w.b, v) }
func (w *objWriter) pubkey(p Pubkey) {
	w.key("pubkey")
	w.b = append(w.b, '"')
	w.b = p.appendHex(w.b)
	w.b = append(w.b, '"')
}
func (w *objWriter) end() []byte { return append(w.b, '}') }

// edKey writes pubkey_ed25519 when present; upper reproduces the clients that send it in upper
// case.
func (w *objWriter) edKey(a *Auth, upper bool) {
	if !a.HasEd25519 {
		return
	}
	w.key("pubkey_ed25519")
	w.b = append(w.b, '"')
	start := len(w.b)
	w.b = hex.AppendEncode(w.b, a.Ed25519[:])
	if upper {
		for i := start; i < len(w.b); i++ {
			if c := w.b[i]; c >= 'a' && c <= 'f' {
				w.b[i] = c - 'a' + 'A'
			}
		}
	}
	w.b = append(w.b, '"')
}

func (w *objWriter) signature(a *Auth) { w.b64("signature", a.Signature[:]) }

func (w *objWriter) subaccount(a *Auth) {
	if a.Subaccount == nil {
		return
	}
	w.b64("subaccount", a.Subaccount.Token[:])
	w.b64("subaccount_sig", a.Subaccount.Signature[:])
}

// signedAccount writes the account and its authentication in the order clients send them:
// pubkey, pubkey_ed25519 (upper case when upperEd), signature, then any subaccount.
func (w *objWriter) signedAccount(acct *SignedAccount, upperEd bool) {
	w.pubkey(acct.Pubkey)
	w.edKey(&acct.Auth, upperEd)
	w.signature(&acct.Auth)
	w.subaccount(&acct.Auth)
}

func (w *objWriter) strings(k string, ss []string) {
	w.key(k)
	w.b = appendArray(w.b, ss, appendJSONString)
}

// AppendParams writes a store as the desktop does: unsigned (someone's inbox) as pubkey,
// timestamp, namespace, ttl, data; signed (own config, group) as namespace, ttl, data,
// timestamp, signature, pubkey_ed25519, pubkey.
func (r *Store) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	life := func() {
		if r.HasTTL {
			w.key("ttl")
			w.b = strconv.AppendUint(w.b, uint64(r.TTL), 10)
		} else {
			w.int("expiry", r.Expiry)
		}
	}
	if !r.Signed {
		w.pubkey(r.Pubkey)
		w.int("timestamp", r.Timestamp)
		w.int("namespace", int64(r.Namespace))
		life()
		w.b64("data", r.Data)
		return w.end()
	}
	w.int("namespace", int64(r.Namespace))
	life()
	w.b64("data", r.Data)
	w.int("timestamp", r.Timestamp)
	if r.HasSigTimestamp {
		w.int("sig_timestamp", r.SigTimestamp)
	}
	w.signature(&r.Auth)
	w.edKey(&r.Auth, false)
	w.pubkey(r.Pubkey)
	w.subaccount(&r.Auth)
	return w.end()
}

// AppendParams writes namespace, pubkey, pubkey_ed25519, signature, timestamp, last_hash (always,
// "" when none), max_size and max_count when set.
func (r *Retrieve) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	// An explicit namespace demands a signature unless it is read without one, so an unsigned
	// retrieve of the default namespace leaves it out.
	if r.Signed || r.Namespace != 0 {
		w.int("namespace", int64(r.Namespace))
	}
	w.pubkey(r.Pubkey)
	if r.Signed {
		w.edKey(&r.Auth, false)
		w.signature(&r.Auth)
		w.int("timestamp", r.Timestamp)
		w.subaccount(&r.Auth)
	}
	w.str("last_hash", r.LastHash)
	if r.MaxSize != 0 {
		w.int("max_size", int64(r.MaxSize))
	}
	if r.MaxCount != 0 {
		w.int("max_count", int64(r.MaxCount))
	}
	return w.end()
}

// AppendParams writes pubkey, pubkey_ed25519, signature, messages (and required when set).
func (r *Delete) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.signedAccount(&r.SignedAccount, false)
	w.strings("messages", r.Messages)
	if r.Required {
		w.boolean("required", true)
	}
	return w.end()
}

func (w *objWriter) namespaceSel(s NamespaceSel) {
	w.key("namespace")
	w.b = s.appendJSON(w.b)
}

// AppendParams writes pubkey, pubkey_ed25519 (upper case, as the desktop sends it), signature,
// timestamp, namespace.
func (r *DeleteAll) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.signedAccount(&r.SignedAccount, true)
	w.int("timestamp", r.Timestamp)
	w.namespaceSel(r.Namespace)
	return w.end()
}

// AppendParams writes pubkey, pubkey_ed25519, signature, namespace, before.
func (r *DeleteBefore) AppendParams(dst []byte) []byte {
	return appendNamespaceNumber(dst, &r.SignedAccount, r.Namespace, "before", r.Before)
}

// AppendParams writes pubkey, pubkey_ed25519, signature, namespace, expiry.
func (r *ExpireAll) AppendParams(dst []byte) []byte {
	return appendNamespaceNumber(dst, &r.SignedAccount, r.Namespace, "expiry", r.Expiry)
}

// appendNamespaceNumber writes the params delete_before and expire_all share: the signed account,
// the namespace selection, then one number under key.
func appendNamespaceNumber(dst []byte, acct *SignedAccount, ns NamespaceSel, key string, n int64) []byte {
	w := newObj(dst)
	w.signedAccount(acct, false)
	w.namespaceSel(ns)
	w.int(key, n)
	return w.end()
}

// AppendParams writes pubkey, pubkey_ed25519, signature, messages, expiry (a number, or an
// array for per-message expiries), and shorten or extend when set.
func (r *Expire) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.signedAccount(&r.SignedAccount, false)
	w.strings("messages", r.Messages)
	w.key("expiry")
	if len(r.Expiries) == 1 {
		w.b = appendInt(w.b, r.Expiries[0])
	} else {
		w.b = appendArray(w.b, r.Expiries, appendInt)
	}
	switch r.Mode {
	case ExpireShorten:
		w.boolean("shorten", true)
	case ExpireExtend:
		w.boolean("extend", true)
	}
	return w.end()
}

// AppendParams writes pubkey, pubkey_ed25519 (upper case), signature, messages, timestamp.
func (r *GetExpiries) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.signedAccount(&r.SignedAccount, true)
	w.strings("messages", r.Messages)
	w.int("timestamp", r.Timestamp)
	return w.end()
}

// snodeFieldsParams is the (ignored) filter the desktop attaches to get_swarm and sends to
// oxend with get_service_nodes.
const snodeFieldsParams = `{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}`

// AppendParams writes pubkey and the node-field filter the desktop sends along (which the
// server ignores).
func (r *GetSwarm) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.pubkey(r.Pubkey)
	w.key("params")
	w.b = append(w.b, snodeFieldsParams...)
	return w.end()
}

// AppendParams writes {}.
func (r *Info) AppendParams(dst []byte) []byte { return append(dst, "{}"...) }

// NewGetServiceNodes is the oxend_request the desktop sends to refresh its node pool.
func NewGetServiceNodes() *OxendRequest {
	return &OxendRequest{Endpoint: "get_service_nodes", Params: []byte(snodeFieldsParams)}
}

// AppendParams writes endpoint and params.
func (r *OxendRequest) AppendParams(dst []byte) []byte {
	w := newObj(dst)
	w.str("endpoint", r.Endpoint)
	if r.Params != nil {
		w.key("params")
		w.b = append(w.b, r.Params...)
	}
	return w.end()
}

// AppendParams writes {"requests":[{"method":...,"params":{...}},...]}.
func (r *Batch) AppendParams(dst []byte) []byte {
	dst = slices.Grow(dst, paramsSizeHint(r))
	dst = append(dst, `{"requests":[`...)
	for i, s := range r.Requests {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"method":`...)
		dst = appendJSONString(dst, s.Method())
		dst = append(dst, `,"params":`...)
		dst = s.AppendParams(dst)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// signedParamsSize bounds the params of a signed request without data: an account and an
// Ed25519 key in hex, a signature in base64, a subaccount token, a hash, numbers and names.
const signedParamsSize = 640

// paramsSizeHint is about (at least, for most requests) the length of r's params, so that
// writing them grows the buffer once rather than doubling it field by field.
func paramsSizeHint(r Request) int {
	switch r := r.(type) {
	case *Batch:
		n := len(`{"requests":[]}`)
		for _, s := range r.Requests {
			n += len(`{"method":"","params":},`) + len(s.Method()) + paramsSizeHint(s)
		}
		return n
	case *Store:
		return signedParamsSize + base64.StdEncoding.EncodedLen(len(r.Data))
	}
	return signedParamsSize
}
