package storagerpc

import (
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// ParseRequest reads a /storage_rpc/v1 body, {"method": ..., "params": {...}}, into a typed
// request. It accepts exactly what the storage server accepts (numbers where it takes numbers,
// stringified integers for store's timestamp and ttl, hex or raw keys, padded or unpadded base64,
// null as absent, the last of repeated keys) and refuses the rest with an *Error carrying the
// server's status (400) and text, naming the field at fault. Unknown methods are refused too.
func ParseRequest(body []byte) (Request, error) {
	doc, err := wirejson.Parse(body)
	if err != nil {
		return nil, ErrInvalidJSON
	}
	m, ok := doc.Member("method")
	if doc.Kind != wirejson.Object || !ok || m.Kind != wirejson.String {
		return nil, ErrNoMethod
	}
	p, ok := doc.Member("params")
	if !ok || p.Kind != wirejson.Object {
		return nil, ErrNoParams
	}
	r, perr := parseMethod(m.Bytes(), p)
	if perr != nil {
		return nil, perr
	}
	return r, nil
}

// parseMethod dispatches on the method name. The returned error is a typed nil-able *Error.
func parseMethod(method []byte, p wirejson.Value) (Request, *Error) {
	l := &loader{obj: p}
	switch string(method) {
	case MethodStore:
		return l.store()
	case MethodRetrieve:
		return l.retrieve()
	case MethodDelete:
		return l.delete()
	case MethodDeleteAll:
		return l.deleteAll()
	case MethodDeleteBefore:
		return l.deleteBefore()
	case MethodExpire:
		return l.expire()
	case MethodExpireAll:
		return l.expireAll()
	case MethodGetExpiries:
		return l.getExpiries()
	case MethodGetSwarm, MethodGetSnodesForPubkey:
		r, err := l.getSwarm()
		if r != nil {
			r.Alias = string(method) == MethodGetSnodesForPubkey
		}
		return r, err
	case MethodInfo:
		return &Info{}, nil
	case MethodOxendRequest:
		return l.oxend()
	case MethodBatch, MethodSequence:
		return l.batch(string(method) == MethodSequence)
	}
	return nil, &Error{Status: http.StatusBadRequest, Text: "no method " + string(method), Field: "method"}
}

// loader reads typed fields from a params object with the server's type rules and messages. Like
// bufio.Scanner it keeps its first error: once a read fails, later reads return zero values and
// leave the error in place. A method's parser is then the list of its fields in the order the
// server reads them, checked once, and the error it reports is the one the server reports first.
type loader struct {
	obj wirejson.Value
	err *Error
}

// get is the field name, with null counting as absent as the server's field loader reads it; absent
// too once a read has failed.
func (l *loader) get(name string) (wirejson.Value, bool) {
	if l.err != nil {
		return wirejson.Value{}, false
	}
	v, ok := l.obj.Member(name)
	return v, ok && v.Kind != wirejson.Null
}

// fail records a failed read; it is only called while l.err is nil.
func (l *loader) fail(err *Error) { l.err = err }

func wrongType(name, desc string) *Error {
	return invalid(name, "Invalid value given for '%s': expected %s", name, desc)
}

func missing(name string) *Error { return invalid(name, "Required field '%s' missing", name) }

func (l *loader) str(name string) ([]byte, bool) {
	v, ok := l.get(name)
	if !ok {
		return nil, false
	}
	if v.Kind != wirejson.String {
		l.fail(wrongType(name, "string"))
		return nil, false
	}
	return v.Bytes(), true
}

func (l *loader) boolean(name string) bool {
	v, ok := l.get(name)
	if !ok {
		return false
	}
	b, isBool := v.Bool()
	if !isBool {
		l.fail(wrongType(name, "boolean"))
	}
	return b
}

// integer reads a C++ int: any integer literal, truncated to 32 bits as the server's cast does.
func (l *loader) integer(name string) int {
	v, ok := l.get(name)
	if !ok {
		return 0
	}
	n, k := v.Integer()
	if k == wirejson.NotInteger {
		l.fail(wrongType(name, "integer"))
	}
	return int(int32(n))
}

// minTimestamp: timestamps below a million seconds were surely given in seconds.
const minTimestamp = 1_000_000_000

func (l *loader) timestamp(name string) (int64, bool) {
	v, ok := l.get(name)
	if !ok {
		return 0, false
	}
	n, k := v.Integer()
	switch {
	case k != wirejson.Unsigned:
		l.fail(wrongType(name, "integer timestamp (in milliseconds)"))
	case n < minTimestamp:
		l.fail(invalid(name, "Invalid timestamp for '%s': timestamp must be in milliseconds", name))
	}
	return n, l.err == nil
}

// ns16 checks that v is an integer in the 16-bit namespace range; desc names what was expected.
func (l *loader) ns16(name string, v wirejson.Value, desc string) Namespace {
	n, k := v.Integer()
	switch {
	case k == wirejson.NotInteger:
		l.fail(wrongType(name, desc))
	case n < -32768 || n > 32767:
		l.fail(invalid(name, "Invalid value given for '%s': value out of range", name))
	}
	return Namespace(n)
}

func (l *loader) namespace(name string) (Namespace, bool) {
	v, ok := l.get(name)
	if !ok {
		return 0, false
	}
	ns := l.ns16(name, v, "16-bit integer")
	return ns, l.err == nil
}

func (l *loader) namespaceSel(name string) NamespaceSel {
	const desc = `integer or "all"`
	v, ok := l.get(name)
	switch {
	case !ok:
		return NamespaceSel{}
	case v.Kind != wirejson.String:
		return OneNamespace(l.ns16(name, v, desc))
	case string(v.Bytes()) == "all":
		return AllNamespaces
	}
	l.fail(wrongType(name, desc))
	return NamespaceSel{}
}

// strings reads a string array; a single string counts as a one-element array.
func (l *loader) strings(name string) ([]string, bool) {
	v, ok := l.get(name)
	if !ok {
		return nil, false
	}
	if v.Kind == wirejson.String {
		return []string{v.Text()}, true
	}
	out, ok := arrayOf(v, asString)
	if !ok {
		l.fail(wrongType(name, "string array"))
	}
	return out, ok
}

// timestamps reads a timestamp or an array of them (no seconds check on these, as the server).
func (l *loader) timestamps(name string) ([]int64, bool) {
	v, ok := l.get(name)
	if !ok {
		return nil, false
	}
	unsigned := func(e wirejson.Value) (int64, bool) {
		n, k := e.Integer()
		return n, k == wirejson.Unsigned
	}
	if n, ok := unsigned(v); ok {
		return []int64{n}, true
	}
	out, ok := arrayOf(v, unsigned)
	if !ok {
		l.fail(wrongType(name, "timestamp array"))
	}
	return out, ok
}

// asString and asInt read a value as a string, and as an integer of any sign, reporting whether
// it is one; they are also arrayOf's element readers.
func asString(v wirejson.Value) (string, bool) {
	if v.Kind != wirejson.String {
		return "", false
	}
	return v.Text(), true
}

func asInt(v wirejson.Value) (int64, bool) {
	n, k := v.Integer()
	return n, k != wirejson.NotInteger
}

// arrayOf reads v as an array whose every element elem accepts.
func arrayOf[T any](v wirejson.Value, elem func(wirejson.Value) (T, bool)) ([]T, bool) {
	if v.Kind != wirejson.Array {
		return nil, false
	}
	out := make([]T, len(v.Elems))
	for i, e := range v.Elems {
		var ok bool
		if out[i], ok = elem(e); !ok {
			return nil, false
		}
	}
	return out, true
}

// stringified reads store's timestamp/ttl, which may also be a decimal string. signed selects
// int64 (timestamp: any integer) over uint64 (ttl: non-negative only).
func (l *loader) stringified(name string, signed bool) (int64, bool) {
	v, ok := l.get(name)
	if !ok {
		return 0, false
	}
	if v.Kind == wirejson.String {
		s := v.Bytes()
		var n int64
		var err error
		if signed {
			n, err = parseDecimalInt(s)
		} else {
			var u uint64
			u, err = parseDecimalUint(s)
			n = int64(u)
		}
		if err != nil {
			l.fail(invalid(name, "Invalid value given for '%s': %s", name, appendJSONString(nil, string(s))))
		}
		return n, l.err == nil
	}
	n, k := v.Integer()
	switch {
	case signed && k == wirejson.NotInteger:
		l.fail(wrongType(name, "integer"))
	case !signed && k != wirejson.Unsigned:
		l.fail(wrongType(name, "positive integer"))
	}
	return n, l.err == nil
}

// parseDecimalInt and parseDecimalUint accept what std::from_chars accepts for the whole string:
// an optional '-' (signed only) and at least one digit, no '+', no spaces, no overflow.
func parseDecimalInt(s []byte) (int64, error) {
	if len(s) == 0 || s[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(string(s), 10, 64)
}

func parseDecimalUint(s []byte) (uint64, error) {
	if len(s) == 0 || s[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(string(s), 10, 64)
}

func loadPubkey(s []byte, msg string) (Pubkey, *Error) {
	var pk Pubkey
	switch len(s) {
	case 66:
		var raw [33]byte
		if _, err := hex.Decode(raw[:], s); err != nil {
			return pk, invalid("pubkey", "%s", msg)
		}
		pk.Prefix = raw[0]
		copy(pk.Key[:], raw[1:])
	case 33:
		pk.Prefix = s[0]
		copy(pk.Key[:], s[1:])
	default:
		return pk, invalid("pubkey", "%s", msg)
	}
	return pk, nil
}

const (
	pubkeyLenMsg        = "Pubkey must be 66 hex digits (33 bytes) long"
	pubkeyLenMsgSwarm   = "Pubkey must be 66 hex digits/33 bytes long"
	signatureFormatMsg  = "invalid signature: expected base64 encoded Ed25519 signature"
	subaccountFormatMsg = "invalid subaccount: expected base64 or hex-encoded subaccount token"
	subaccountSigMsg    = "invalid subaccount signature: expected base64 encoded Ed25519 signature"
)

// authFields holds the raw authentication parameters, read in the server's (alphabetical) order
// together with the method's other fields.
type authFields struct {
	pubkeyEd, signature, subaccount, subaccountSig             []byte
	hasPubkeyEd, hasSignature, hasSubaccount, hasSubaccountSig bool
}

// auth reads the named authentication fields in the order given.
func (l *loader) auth(a *authFields, names ...string) {
	for _, name := range names {
		switch name {
		case "pubkey_ed25519":
			a.pubkeyEd, a.hasPubkeyEd = l.str(name)
		case "signature":
			a.signature, a.hasSignature = l.str(name)
		case "subaccount":
			a.subaccount, a.hasSubaccount = l.str(name)
		case "subaccount_sig":
			a.subaccountSig, a.hasSubaccountSig = l.str(name)
		}
	}
}

// pickPubkey applies the server's rule for the account's two spellings: exactly one of "pubkey"
// and the legacy "pubKey" must be given.
func pickPubkey(pk []byte, hasPk bool, alt []byte, hasAlt bool) ([]byte, *Error) {
	switch {
	case hasPk && hasAlt:
		return nil, invalid("pubkey", "Cannot specify both 'pubkey' and 'pubKey'")
	case !hasPk && !hasAlt:
		return nil, missing("pubkey")
	case !hasPk:
		return alt, nil
	}
	return pk, nil
}

// loadSigned is the server's signed-request loader: the account must parse, a signature must be
// present, pubkey_ed25519 is only allowed for 05 accounts and must be 64 hex or 32 raw bytes,
// the signature is 86 (or padded 88) base64 characters, and an optional subaccount follows.
func loadSigned(pkStr []byte, hasPk bool, a *authFields) (SignedAccount, *Error) {
	var acct SignedAccount
	if !hasPk {
		return acct, missing("pubkey")
	}
	var err *Error
	if acct.Pubkey, err = loadPubkey(pkStr, pubkeyLenMsg); err != nil {
		return acct, err
	}
	if !a.hasSignature {
		return acct, missing("signature")
	}
	auth := &acct.Auth
	if a.hasPubkeyEd {
		if acct.Pubkey.Prefix != PrefixSessionID {
			return acct, invalid("pubkey_ed25519", "pubkey_ed25519 is only permitted for 05[...] pubkeys")
		}
		switch len(a.pubkeyEd) {
		case 64:
			if _, herr := hex.Decode(auth.Ed25519[:], a.pubkeyEd); herr != nil {
				return acct, invalid("pubkey_ed25519", "invalid pubkey_ed25519: value is not hex")
			}
		case 32:
			copy(auth.Ed25519[:], a.pubkeyEd)
		default:
			return acct, invalid("pubkey_ed25519", "Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey")
		}
		auth.HasEd25519 = true
	}
	if !decodeSignature(auth.Signature[:], a.signature) {
		return acct, invalid("signature", signatureFormatMsg)
	}
	return acct, loadSubaccount(a, auth)
}

// signed is loadSigned once every field of the request has been read: a failed read is reported
// first, as the server reads all fields before it checks the account.
func (l *loader) signed(pkStr []byte, hasPk bool, a *authFields) (SignedAccount, *Error) {
	if l.err != nil {
		return SignedAccount{}, l.err
	}
	return loadSigned(pkStr, hasPk, a)
}

func decodeSignature(dst []byte, s []byte) bool {
	if !isBase64(s) || !(len(s) == 86 || (len(s) == 88 && s[86] == '=' && s[87] == '=')) {
		return false
	}
	b, err := decodeBase64(dst[:0], s)
	return err == nil && len(b) == 64
}

// loadSubaccount reads the optional subaccount token and its signature.
func loadSubaccount(a *authFields, auth *Auth) *Error {
	if !a.hasSubaccount || len(a.subaccount) == 0 {
		return nil
	}
	if !a.hasSubaccountSig {
		return invalid("subaccount_sig", "invalid subaccount: subaccount_sig is required when using subaccount")
	}
	sa := &Subaccount{}
	switch t := a.subaccount; {
	case isBase64(t) && len(t) == SubaccountTokenLen*4/3:
		b, err := decodeBase64(nil, t)
		if err != nil {
			return invalid("subaccount", subaccountFormatMsg)
		}
		copy(sa.Token[:], b)
	case len(t) == SubaccountTokenLen*2:
		if _, err := hex.Decode(sa.Token[:], t); err != nil {
			return invalid("subaccount", subaccountFormatMsg)
		}
	default:
		return invalid("subaccount", subaccountFormatMsg)
	}
	if !decodeSignature(sa.Signature[:], a.subaccountSig) {
		return invalid("subaccount_sig", subaccountSigMsg)
	}
	auth.Subaccount = sa
	return nil
}

// The per-method loaders read fields in the order the server does (alphabetical, then the
// method's own checks), so the first error reported is the server's.

func (l *loader) store() (*Store, *Error) {
	var a authFields
	data, hasData := l.str("data")
	expiry, hasExpiry := l.timestamp("expiry")
	ns, hasNs := l.namespace("namespace")
	pkAlt, hasPkAlt := l.str("pubKey")
	pk, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519")
	sigTs, hasSigTs := l.timestamp("sig_timestamp")
	l.auth(&a, "signature", "subaccount", "subaccount_sig")
	ts, hasTs := l.stringified("timestamp", true)
	ttl, hasTTL := l.stringified("ttl", false)
	if l.err != nil {
		return nil, l.err
	}
	if !hasTs {
		return nil, missing("timestamp")
	}
	switch {
	case hasExpiry && hasTTL:
		return nil, invalid("ttl", "Cannot specify both 'expiry' and 'ttl'")
	case !hasExpiry && !hasTTL:
		return nil, invalid("ttl", "Required field 'expiry' or 'ttl' missing")
	}
	r := &Store{Timestamp: ts, Expiry: expiry}
	if hasTTL {
		r.TTL, r.HasTTL = ttl, true
		r.Expiry = ts + ttl
	}
	pk, err := pickPubkey(pk, hasPk, pkAlt, hasPkAlt)
	if err != nil {
		return nil, err
	}
	if hasNs {
		r.Namespace = ns
	}
	if a.hasSignature {
		r.SignedAccount, err = loadSigned(pk, true, &a)
		if err != nil {
			return nil, err
		}
		r.Signed = true
		r.SigTimestamp, r.HasSigTimestamp = ts, false
		if hasSigTs {
			r.SigTimestamp, r.HasSigTimestamp = sigTs, true
		}
	} else {
		if r.Pubkey, err = loadPubkey(pk, pubkeyLenMsg); err != nil {
			return nil, err
		}
		r.SigTimestamp = ts
	}
	if !hasData {
		return nil, missing("data")
	}
	if !isBase64(data) {
		return nil, invalid("data", "Invalid 'data' value: not base64 encoded")
	}
	if len(data) > MaxDataSize/3*4 {
		return nil, invalid("data", "Message body exceeds maximum allowed length of %d bytes", MaxDataSize)
	}
	d, derr := decodeBase64(make([]byte, 0, len(data)*3/4), data)
	if derr != nil {
		return nil, invalid("data", "Invalid 'data' value: not base64 encoded")
	}
	r.Data = d
	return r, nil
}

func (l *loader) retrieve() (*Retrieve, *Error) {
	var a authFields
	lastHashAlt, hasLastHashAlt := l.str("lastHash")
	lastHash, hasLastHash := l.str("last_hash")
	maxCount := l.integer("max_count")
	maxSize := l.integer("max_size")
	ns, hasNs := l.namespace("namespace")
	pkAlt, hasPkAlt := l.str("pubKey")
	pk, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519", "signature", "subaccount", "subaccount_sig")
	ts, hasTs := l.timestamp("timestamp")
	if l.err != nil {
		return nil, l.err
	}
	r := &Retrieve{MaxCount: maxCount, MaxSize: maxSize}
	pk, err := pickPubkey(pk, hasPk, pkAlt, hasPkAlt)
	if err != nil {
		return nil, err
	}
	if a.hasPubkeyEd || a.hasSignature || hasTs || (hasNs && !ns.NoAuthRetrieve()) {
		r.SignedAccount, err = loadSigned(pk, true, &a)
		if err != nil {
			return nil, err
		}
		if !hasTs {
			return nil, missing("timestamp")
		}
		r.Timestamp = ts
		r.Signed = true
	} else if r.Pubkey, err = loadPubkey(pk, pubkeyLenMsg); err != nil {
		return nil, err
	}
	if hasNs {
		r.Namespace = ns
	}
	if hasLastHash && hasLastHashAlt {
		return nil, invalid("last_hash", "Cannot specify both 'last_hash' and 'lastHash'")
	}
	if hasLastHashAlt {
		lastHash = lastHashAlt
	}
	switch {
	case len(lastHash) == 0:
	case len(lastHash) == HashLen:
		if !isBase64(lastHash) {
			return nil, invalid("last_hash", "Invalid last_hash: not base64")
		}
		r.LastHash = string(lastHash)
	default:
		return nil, invalid("last_hash", "Invalid last_hash: expected base64 (43 chars)")
	}
	return r, nil
}

// requireHashes refuses a messages list that is missing or empty.
func requireHashes(msgs []string, has bool) *Error {
	if !has {
		return missing("messages")
	}
	if len(msgs) == 0 {
		return invalid("messages", "messages does not contain any message hashes")
	}
	return nil
}

// checkHashes refuses the first entry of a messages list not shaped like a hash.
func checkHashes(msgs []string) *Error {
	for _, m := range msgs {
		if !ValidHash(m) {
			return invalid("messages", "invalid message hash: %s", m)
		}
	}
	return nil
}

func (l *loader) delete() (*Delete, *Error) {
	var a authFields
	msgs, hasMsgs := l.strings("messages")
	pk, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519")
	required := l.boolean("required")
	l.auth(&a, "signature", "subaccount", "subaccount_sig")
	acct, err := l.signed(pk, hasPk, &a)
	if err != nil {
		return nil, err
	}
	if err := requireHashes(msgs, hasMsgs); err != nil {
		return nil, err
	}
	if err := checkHashes(msgs); err != nil {
		return nil, err
	}
	return &Delete{SignedAccount: acct, Messages: msgs, Required: required}, nil
}

// nsSignedAt reads what delete_all, delete_before and expire_all share: a namespace, the signed
// account and one timestamp field. The server reads keys in alphabetical order, so a field that
// sorts before "namespace" (before, expiry) is read, and fails, first; "timestamp" is read last.
// A missing timestamp is reported only after the signature fields have been checked.
func (l *loader) nsSignedAt(name string) (ns NamespaceSel, acct SignedAccount, at int64, err *Error) {
	var (
		a     authFields
		hasAt bool
	)
	first := name < "namespace"
	if first {
		at, hasAt = l.timestamp(name)
	}
	ns = l.namespaceSel("namespace")
	pkStr, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519", "signature", "subaccount", "subaccount_sig")
	if !first {
		at, hasAt = l.timestamp(name)
	}
	if acct, err = l.signed(pkStr, hasPk, &a); err != nil {
		return
	}
	if !hasAt {
		err = missing(name)
	}
	return
}

func (l *loader) deleteAll() (*DeleteAll, *Error) {
	ns, acct, ts, err := l.nsSignedAt("timestamp")
	if err != nil {
		return nil, err
	}
	return &DeleteAll{SignedAccount: acct, Namespace: ns, Timestamp: ts}, nil
}

func (l *loader) deleteBefore() (*DeleteBefore, *Error) {
	ns, acct, before, err := l.nsSignedAt("before")
	if err != nil {
		return nil, err
	}
	return &DeleteBefore{SignedAccount: acct, Namespace: ns, Before: before}, nil
}

func (l *loader) expireAll() (*ExpireAll, *Error) {
	ns, acct, expiry, err := l.nsSignedAt("expiry")
	if err != nil {
		return nil, err
	}
	return &ExpireAll{SignedAccount: acct, Namespace: ns, Expiry: expiry}, nil
}

func (l *loader) expire() (*Expire, *Error) {
	var a authFields
	expiries, hasExpiries := l.timestamps("expiry")
	extend := l.boolean("extend")
	msgs, hasMsgs := l.strings("messages")
	pk, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519")
	shorten := l.boolean("shorten")
	l.auth(&a, "signature", "subaccount", "subaccount_sig")
	acct, err := l.signed(pk, hasPk, &a)
	if err != nil {
		return nil, err
	}
	r := &Expire{SignedAccount: acct}
	if !hasExpiries {
		return nil, missing("expiry")
	}
	if len(expiries) == 0 {
		return nil, invalid("expiry", "'expiry' does not contain any expiration timestamps")
	}
	if shorten && extend {
		return nil, invalid("shorten", "cannot specify both 'shorten' and 'extend'")
	}
	switch {
	case shorten:
		r.Mode = ExpireShorten
	case extend:
		r.Mode = ExpireExtend
	}
	if err := requireHashes(msgs, hasMsgs); err != nil {
		return nil, err
	}
	if len(expiries) > 1 && len(expiries) != len(msgs) {
		return nil, invalid("expiry", "'expiry' must be a single expiry, or the same length as 'messages'")
	}
	if err := checkHashes(msgs); err != nil {
		return nil, err
	}
	r.Messages, r.Expiries = msgs, expiries
	return r, nil
}

func (l *loader) getExpiries() (*GetExpiries, *Error) {
	var a authFields
	msgs, hasMsgs := l.strings("messages")
	pk, hasPk := l.str("pubkey")
	l.auth(&a, "pubkey_ed25519", "signature", "subaccount", "subaccount_sig")
	ts, hasTs := l.timestamp("timestamp")
	acct, err := l.signed(pk, hasPk, &a)
	if err != nil {
		return nil, err
	}
	if !hasTs {
		return nil, missing("timestamp")
	}
	if err := requireHashes(msgs, hasMsgs); err != nil {
		return nil, err
	}
	return &GetExpiries{SignedAccount: acct, Messages: msgs, Timestamp: ts}, nil
}

func (l *loader) getSwarm() (*GetSwarm, *Error) {
	pkAlt, hasPkAlt := l.str("pubKey")
	pk, hasPk := l.str("pubkey")
	if l.err != nil {
		return nil, l.err
	}
	pk, err := pickPubkey(pk, hasPk, pkAlt, hasPkAlt)
	if err != nil {
		return nil, err
	}
	r := &GetSwarm{}
	if r.Pubkey, err = loadPubkey(pk, pubkeyLenMsgSwarm); err != nil {
		return nil, err
	}
	return r, nil
}

func (l *loader) oxend() (*OxendRequest, *Error) {
	ep, hasEp := l.str("endpoint")
	params, hasParams := l.get("params")
	if l.err != nil {
		return nil, l.err
	}
	if !hasEp {
		return nil, missing("endpoint")
	}
	// The real server also forwards ons_resolve; the simulated network has no name service.
	if string(ep) != "get_service_nodes" {
		return nil, invalid("endpoint", "Invalid oxend endpoint '%s'", ep)
	}
	r := &OxendRequest{Endpoint: string(ep)}
	if hasParams {
		r.Params = append([]byte(nil), params.Raw...)
	}
	return r, nil
}

func (l *loader) batch(sequence bool) (*Batch, *Error) {
	reqs, ok := l.obj.Member("requests")
	if !ok || reqs.Kind != wirejson.Array || len(reqs.Elems) == 0 {
		return nil, invalid("requests", `Invalid batch request: no valid "requests" field`)
	}
	if len(reqs.Elems) > MaxBatch {
		return nil, invalid("requests", "Invalid batch request: subrequest limit exceeded")
	}
	b := &Batch{Sequence: sequence, Requests: make([]Request, 0, len(reqs.Elems))}
	for _, e := range reqs.Elems {
		if e.Kind != wirejson.Object {
			return nil, invalid("requests", "Invalid batch request: requests must be objects")
		}
		m, okM := e.Member("method")
		p, okP := e.Member("params")
		if !okM || !okP || m.Kind != wirejson.String || p.Kind != wirejson.Object {
			return nil, invalid("requests", "Invalid batch request: subrequests must have method/params keys")
		}
		method := m.Bytes()
		switch string(method) {
		case MethodBatch, MethodSequence, "ifelse":
			if string(method) != "ifelse" {
				// The server loads the nested request (reporting its errors) before refusing it.
				if _, err := parseMethod(method, p); err != nil {
					return nil, err
				}
			}
			return nil, invalid("requests", "Invalid batch subrequest: subrequests may not contain meta-requests")
		}
		sub, err := parseMethod(method, p)
		if err != nil {
			if err.Field == "method" {
				return nil, invalid("requests", "Invalid batch subrequest: invalid method \"%s\"", method)
			}
			return nil, err
		}
		b.Requests = append(b.Requests, sub)
	}
	return b, nil
}
