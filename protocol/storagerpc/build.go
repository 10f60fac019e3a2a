package storagerpc

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
)

// Client-side encoding. Requests are written as Session Desktop writes them (JSON.stringify of
// objects built in a fixed field order, a "jsonrpc": "2.0" member in the envelope, base64 with
// padding, some Ed25519 keys in upper case), so their sizes are those of real traffic.

// EncodeRequest returns the body of a /storage_rpc/v1 call (or of an onion request's payload).
func EncodeRequest(r Request) []byte { return AppendRequest(nil, r) }

// AppendRequest appends {"jsonrpc":"2.0","method":...,"params":{...}}.
func AppendRequest(dst []byte, r Request) []byte {
	w := jsonWriter{b: slices.Grow(dst, len(`{"jsonrpc":"2.0","method":"","params":}`)+len(r.Method())+paramsSizeHint(r))}
	writeRequest(&w, r)
	return w.b
}

// RequestLen is len(EncodeRequest(r)), computed without writing it.
func RequestLen(r Request) int {
	w := counter()
	writeRequest(&w, r)
	return w.n
}

func writeRequest(w *jsonWriter, r Request) {
	w.lit(`{"jsonrpc":"2.0","method":`)
	w.text(r.Method())
	w.lit(`,"params":`)
	*w = r.writeParams(*w)
	w.char('}')
}

// objWriter writes a JSON object member by member; first tracks whether a comma is needed.
type objWriter struct {
	*jsonWriter
	first bool
}

// obj starts an object.
func (w *jsonWriter) obj() objWriter {
	w.char('{')
	return objWriter{jsonWriter: w, first: true}
}

// key writes "key": (with a leading comma unless first).
func (w *objWriter) key(k string) {
	// Written on a copy held here, whose stores need no write barriers, and stored back once.
	t := *w.jsonWriter
	if !w.first {
		t.char(',')
	}
	w.first = false
	t.char('"')
	t.lit(k)
	t.lit(`":`)
	*w.jsonWriter = t
}

func (w *objWriter) str(k, v string)          { w.key(k); w.text(v) }
func (w *objWriter) int(k string, v int64)    { w.key(k); w.number(v) }
func (w *objWriter) boolean(k string, v bool) { w.key(k); w.truth(v) }
func (w *objWriter) b64(k string, v []byte)   { w.key(k); w.b64str(v) }
func (w *objWriter) hex(k string, v []byte)   { w.key(k); w.hexstr(v) }
func (w *objWriter) pubkey(p Pubkey)          { w.key("pubkey"); w.pubkeyHex(p) }
func (w *objWriter) end()                     { w.char('}') }

// pubkeyHex writes an account as a quoted 66-digit hex string.
func (w *jsonWriter) pubkeyHex(p Pubkey) {
	if w.count {
		w.n += 2 + 66
		w.esc += 2
		return
	}
	w.b = append(w.b, '"')
	w.b = p.appendHex(w.b)
	w.b = append(w.b, '"')
}

// edKey writes pubkey_ed25519 when present; upper reproduces the clients that send it in upper
// case.
func (w *objWriter) edKey(a *Auth, upper bool) {
	if !a.HasEd25519 {
		return
	}
	w.key("pubkey_ed25519")
	if w.count || !upper {
		w.hexstr(a.Ed25519[:])
		return
	}
	w.b = append(w.b, '"')
	start := len(w.b)
	w.b = hex.AppendEncode(w.b, a.Ed25519[:])
	for i := start; i < len(w.b); i++ {
		if c := w.b[i]; c >= 'a' && c <= 'f' {
			w.b[i] = c - 'a' + 'A'
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
	w.texts(ss)
}

// writeParams writes a store as the desktop does: unsigned (someone's inbox) as pubkey,
// timestamp, namespace, ttl, data; signed (own config, group) as namespace, ttl, data,
// timestamp, signature, pubkey_ed25519, pubkey.
func (r *Store) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	life := func() {
		if r.HasTTL {
			w.key("ttl")
			w.unsigned(uint64(r.TTL), 10)
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
		w.end()
		return jw
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
	w.end()
	return jw
}

// writeParams writes namespace, pubkey, pubkey_ed25519, signature, timestamp, last_hash (always,
// "" when none), max_size and max_count when set.
func (r *Retrieve) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
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
	w.end()
	return jw
}

// writeParams writes pubkey, pubkey_ed25519, signature, messages (and required when set).
func (r *Delete) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.signedAccount(&r.SignedAccount, false)
	w.strings("messages", r.Messages)
	if r.Required {
		w.boolean("required", true)
	}
	w.end()
	return jw
}

func (w *objWriter) namespaceSel(s NamespaceSel) {
	w.key("namespace")
	if s.All {
		w.lit(`"all"`)
	} else {
		w.number(int64(s.Namespace))
	}
}

// writeParams writes pubkey, pubkey_ed25519 (upper case, as the desktop sends it), signature,
// timestamp, namespace.
func (r *DeleteAll) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.signedAccount(&r.SignedAccount, true)
	w.int("timestamp", r.Timestamp)
	w.namespaceSel(r.Namespace)
	w.end()
	return jw
}

// writeParams writes pubkey, pubkey_ed25519, signature, namespace, before.
func (r *DeleteBefore) writeParams(w jsonWriter) jsonWriter {
	writeNamespaceNumber(&w, &r.SignedAccount, r.Namespace, "before", r.Before)
	return w
}

// writeParams writes pubkey, pubkey_ed25519, signature, namespace, expiry.
func (r *ExpireAll) writeParams(w jsonWriter) jsonWriter {
	writeNamespaceNumber(&w, &r.SignedAccount, r.Namespace, "expiry", r.Expiry)
	return w
}

// writeNamespaceNumber writes the params delete_before and expire_all share: the signed account,
// the namespace selection, then one number under key.
func writeNamespaceNumber(jw *jsonWriter, acct *SignedAccount, ns NamespaceSel, key string, n int64) {
	w := jw.obj()
	w.signedAccount(acct, false)
	w.namespaceSel(ns)
	w.int(key, n)
	w.end()
}

// writeParams writes pubkey, pubkey_ed25519, signature, messages, expiry (a number, or an
// array for per-message expiries), and shorten or extend when set.
func (r *Expire) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.signedAccount(&r.SignedAccount, false)
	w.strings("messages", r.Messages)
	w.key("expiry")
	if len(r.Expiries) == 1 {
		w.number(r.Expiries[0])
	} else {
		w.numbers(r.Expiries...)
	}
	switch r.Mode {
	case ExpireShorten:
		w.boolean("shorten", true)
	case ExpireExtend:
		w.boolean("extend", true)
	}
	w.end()
	return jw
}

// writeParams writes pubkey, pubkey_ed25519 (upper case), signature, messages, timestamp.
func (r *GetExpiries) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.signedAccount(&r.SignedAccount, true)
	w.strings("messages", r.Messages)
	w.int("timestamp", r.Timestamp)
	w.end()
	return jw
}

// snodeFieldsParams is the (ignored) filter the desktop attaches to get_swarm and sends to
// oxend with get_service_nodes.
const snodeFieldsParams = `{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}`

// writeParams writes pubkey and the node-field filter the desktop sends along (which the
// server ignores).
func (r *GetSwarm) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.pubkey(r.Pubkey)
	w.key("params")
	w.lit(snodeFieldsParams)
	w.end()
	return jw
}

// writeParams writes {}.
func (r *Info) writeParams(w jsonWriter) jsonWriter {
	w.lit("{}")
	return w
}

// NewGetServiceNodes is the oxend_request the desktop sends to refresh its node pool.
func NewGetServiceNodes() *OxendRequest {
	return &OxendRequest{Endpoint: "get_service_nodes", Params: []byte(snodeFieldsParams)}
}

// writeParams writes endpoint and params.
func (r *OxendRequest) writeParams(jw jsonWriter) jsonWriter {
	w := jw.obj()
	w.str("endpoint", r.Endpoint)
	if r.Params != nil {
		w.key("params")
		w.raw(r.Params)
	}
	w.end()
	return jw
}

// writeParams writes {"requests":[{"method":...,"params":{...}},...]}.
func (r *Batch) writeParams(w jsonWriter) jsonWriter {
	w.lit(`{"requests":[`)
	for i, s := range r.Requests {
		if i > 0 {
			w.char(',')
		}
		w.lit(`{"method":`)
		w.text(s.Method())
		w.lit(`,"params":`)
		w = s.writeParams(w)
		w.char('}')
	}
	w.lit("]}")
	return w
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
