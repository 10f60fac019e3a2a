package storagerpc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Push-notification subscriptions between the push server and the storage server, over OxenMQ
// (session-storage-server oxenss/server/mqbase.cpp handle_monitor_message_single and
// omq_monitor.cpp; session-push-notification-server spns/hive/snode.cpp check_subs):
//
//   - monitor.messages: one bencoded dict, or a list of dicts, each with (keys in order)
//     "P" the 32-byte Ed25519 key of a 05 account (or "p", the 33-byte account of any other
//     prefix), "S"/"T" a subaccount signature and token (optional), "d" i1e when the message
//     data is wanted, "n" the ascending namespaces, "s" the 64-byte signature and "t" its Unix
//     time in seconds. The signature is over
//     "MONITOR" || hex(account) || t || ("1"|"0") || n[0] "," n[1] ...,
//     the same one the device gave the push server in its /subscribe request. The answer is one
//     dict per subscription ({"success": 1} or {"errcode": N, "error": text}), in a list when
//     the request was a list.
//   - notify.message: the node's notice of a newly stored message to each subscriber whose
//     subscription covers the message's namespace, a dict of "@" the account (33 bytes), "h"
//     the hash, "n" the namespace, "t" and "z" the message's timestamp and expiry in ms, and
//     "~" the data when the subscriber asked for it.

// Monitor subscription limits of the storage server (mqbase.cpp): a signature at most 14 days
// old and at most 24 hours ahead; a subscription lasts MonitorLifetime after its last renewal
// (MonitorData::MONITOR_EXPIRY_TIME, oxenss/server/omq.h).
const (
	MonitorMaxAge   = 14 * 24 * time.Hour
	MonitorMaxAhead = 24 * time.Hour
	MonitorLifetime = 65 * time.Minute
)

// The OxenMQ commands of the exchange.
const (
	CommandMonitor = "monitor.messages"
	CommandNotify  = "notify.message"
)

// MonitorCode is the storage server's error code in a refused subscription (MonitorResponse).
type MonitorCode int

// The refusal codes.
const (
	MonitorBadArgs    MonitorCode = 1
	MonitorBadPubkey  MonitorCode = 2
	MonitorBadNS      MonitorCode = 3
	MonitorBadTS      MonitorCode = 4
	MonitorBadSig     MonitorCode = 5
	MonitorWrongSwarm MonitorCode = 6
)

// MonitorError is one refused subscription: the code and text the server answers with.
type MonitorError struct {
	Code MonitorCode
	Text string
}

func (e *MonitorError) Error() string { return fmt.Sprintf("monitor error %d: %s", e.Code, e.Text) }

// Monitor is one subscription of a monitor.messages request.
type Monitor struct {
	// Account is the monitored account. For a 05 account the request carries only Ed25519 (P)
	// and the server derives the account from it; Parse fills it in then.
	Account Pubkey
	// Ed25519 is the 05 account's signing key (P); unset for other prefixes, which send "p".
	Ed25519    [32]byte
	HasEd25519 bool
	// Subaccount authorises another key to read the account (groups), when set.
	Subaccount *Subaccount
	// Data asks for each message's data in the notifications.
	Data bool
	// Namespaces are monitored, strictly ascending.
	Namespaces []Namespace
	// Timestamp is when the signature was made, Unix seconds.
	Timestamp int64
	Signature [64]byte
}

// MonitorSigMessage is the text a subscription's signature covers (mqbase.cpp; the push server
// documents the same in spns/register.py).
func MonitorSigMessage(account Pubkey, ts int64, data bool, ns []Namespace) []byte {
	b := make([]byte, 0, len("MONITOR")+66+11+1+7*len(ns))
	b = append(b, "MONITOR"...)
	b = account.appendHex(b)
	b = strconv.AppendInt(b, ts, 10)
	if data {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return b
}

// SigMessage is the text m's signature covers.
func (m *Monitor) SigMessage() []byte {
	return MonitorSigMessage(m.Account, m.Timestamp, m.Data, m.Namespaces)
}

// Sign signs m for s's account at ts (Unix seconds) and returns the signing cost. A 05 account
// signs with its Ed25519 key and sends it as P.
func (m *Monitor) Sign(s *Signer, ts int64) time.Duration {
	m.Account, m.Timestamp = s.Account, ts
	m.HasEd25519 = s.Account.Prefix == PrefixSessionID && s.Subaccount == nil
	if m.HasEd25519 {
		copy(m.Ed25519[:], s.Key[32:])
	}
	if s.Subaccount != nil {
		sa := *s.Subaccount
		m.Subaccount = &sa
	}
	sig, cost := s.Suite.Sign(s.Key, m.SigMessage())
	copy(m.Signature[:], sig)
	return cost
}

// AppendMonitor appends m as the bencoded dict the push server sends.
func AppendMonitor(b []byte, m *Monitor) []byte {
	b = append(b, 'd')
	if m.HasEd25519 {
		b = appendKeyString(b, "P", m.Ed25519[:])
	}
	if sa := m.Subaccount; sa != nil {
		b = appendKeyString(b, "S", sa.Signature[:])
		b = appendKeyString(b, "T", sa.Token[:])
	}
	if m.Data {
		b = bencode.AppendString(b, []byte("d"))
		b = bencode.AppendInt(b, 1)
	}
	b = bencode.AppendString(b, []byte("n"))
	b = append(b, 'l')
	for _, n := range m.Namespaces {
		b = bencode.AppendInt(b, int64(n))
	}
	b = append(b, 'e')
	if !m.HasEd25519 {
		raw := m.Account.raw()
		b = appendKeyString(b, "p", raw[:])
	}
	b = appendKeyString(b, "s", m.Signature[:])
	b = bencode.AppendString(b, []byte("t"))
	b = bencode.AppendInt(b, m.Timestamp)
	return append(b, 'e')
}

// AppendMonitorList appends subscriptions as one list, as the push server batches them for a
// node.
func AppendMonitorList(b []byte, ms []Monitor) []byte {
	b = append(b, 'l')
	for i := range ms {
		b = AppendMonitor(b, &ms[i])
	}
	return append(b, 'e')
}

func appendKeyString(b []byte, key string, v []byte) []byte {
	b = bencode.AppendString(b, []byte(key))
	return bencode.AppendString(b, v)
}

func (p Pubkey) raw() [33]byte {
	var r [33]byte
	r[0] = p.Prefix
	copy(r[1:], p.Key[:])
	return r
}

// MonitorEntry is one subscription of a parsed request: the subscription, or why the server
// refuses it without looking further (the others of the request are still served).
type MonitorEntry struct {
	Monitor Monitor
	Err     *MonitorError
}

// ErrMonitorRequest is a monitor.messages body the server refuses as a whole (errcode 1): not
// a bencoded dict or list of dicts.
var ErrMonitorRequest = errors.New("monitor.messages takes a single bencoded dict or list parameter")

// ParseMonitorRequest reads a monitor.messages body: the entries in order and whether they came
// as a list. For a 05 account given by P, the account is left for Check to derive (it costs a
// conversion). A body that is not one bencoded dict or list of dicts is an error wrapping
// ErrMonitorRequest; an entry with missing or malformed fields is returned with its refusal.
func ParseMonitorRequest(body []byte) ([]MonitorEntry, bool, error) {
	if len(body) < 2 || (body[0] != 'd' && body[0] != 'l') || body[len(body)-1] != 'e' {
		return nil, false, ErrMonitorRequest
	}
	v, n, err := bencode.Decode(body)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrMonitorRequest, err)
	}
	if n != len(body) {
		return nil, false, fmt.Errorf("%w: %d bytes after the value", ErrMonitorRequest, len(body)-n)
	}
	if v.Kind == bencode.Dict {
		return []MonitorEntry{parseMonitorDict(&v)}, false, nil
	}
	out := make([]MonitorEntry, 0, len(v.List))
	for i := range v.List {
		if v.List[i].Kind != bencode.Dict {
			return nil, true, fmt.Errorf("%w: list item %d is a %v", ErrMonitorRequest, i, v.List[i].Kind)
		}
		out = append(out, parseMonitorDict(&v.List[i]))
	}
	return out, true, nil
}

func monitorRefusal(code MonitorCode, text string) MonitorEntry {
	return MonitorEntry{Err: &MonitorError{Code: code, Text: text}}
}

// parseMonitorDict reads one subscription with the server's checks, in its order.
func parseMonitorDict(d *bencode.Value) MonitorEntry {
	var m Monitor
	badArgs := func(why string) MonitorEntry { return monitorRefusal(MonitorBadArgs, "Invalid arguments: "+why) }
	str := func(key string) ([]byte, bool, bool) {
		v, ok := d.Get(key)
		if !ok {
			return nil, false, true
		}
		return v.Str, true, v.Kind == bencode.String
	}
	if p, has, ok := str("P"); has {
		if !ok || len(p) != 32 {
			return monitorRefusal(MonitorBadPubkey, "Provided P= Session Ed25519 pubkey must be 32 bytes")
		}
		copy(m.Ed25519[:], p)
		m.HasEd25519 = true
	}
	if s, has, ok := str("S"); has {
		if !ok || len(s) != 64 {
			return monitorRefusal(MonitorBadPubkey, "Provided S subaccount signature must be 64 bytes")
		}
		t, hasT, okT := str("T")
		if !hasT || !okT || len(t) != SubaccountTokenLen {
			return monitorRefusal(MonitorBadPubkey, fmt.Sprintf("Provided T subaccount token must be %d bytes", SubaccountTokenLen))
		}
		m.Subaccount = &Subaccount{}
		copy(m.Subaccount.Signature[:], s)
		copy(m.Subaccount.Token[:], t)
	}
	if v, ok := d.Get("d"); ok {
		if v.Kind != bencode.Int {
			return badArgs("d= must be an integer")
		}
		m.Data = v.Int != 0
	}
	ns, ok := d.Get("n")
	if !ok || ns.Kind != bencode.List || len(ns.List) == 0 {
		return badArgs("required n= namespace list is missing")
	}
	for _, x := range ns.List {
		if x.Kind != bencode.Int || x.Int < -32768 || x.Int > 32767 {
			return badArgs("n= holds a value that is not a namespace")
		}
		n := Namespace(x.Int)
		if len(m.Namespaces) > 0 && n <= m.Namespaces[len(m.Namespaces)-1] {
			return monitorRefusal(MonitorBadNS, "Invalid n= namespace list: namespaces must be ascending")
		}
		m.Namespaces = append(m.Namespaces, n)
	}
	if p, has, ok := str("p"); has {
		if m.HasEd25519 {
			return badArgs("Cannot provide both p= and P= pubkey values")
		}
		if !ok || len(p) != 33 {
			return monitorRefusal(MonitorBadPubkey, "Provided p= pubkey must be 33 bytes")
		}
		m.Account.Prefix = p[0]
		copy(m.Account.Key[:], p[1:])
	} else if !m.HasEd25519 {
		return badArgs("Either p= or P= must be given")
	}
	sig, has, ok := str("s")
	if !has || !ok {
		return badArgs("required signature is missing")
	}
	if len(sig) != 64 {
		return monitorRefusal(MonitorBadSig, "Provided s= signature must be 64 bytes")
	}
	copy(m.Signature[:], sig)
	t, ok := d.Get("t")
	if !ok || t.Kind != bencode.Int {
		return badArgs("required signature timestamp is missing")
	}
	m.Timestamp = t.Int
	return MonitorEntry{Monitor: m}
}

// Check runs the server's checks on a parsed subscription: the signature time within
// [now - MonitorMaxAge, now + MonitorMaxAhead], the 05 account derived from P (which must be a
// valid key), the subaccount token (read access) and the signature. It fills in the derived
// account and returns the cost of the verification.
func (m *Monitor) Check(c CheckEnv) (time.Duration, *MonitorError) {
	ts := time.Unix(m.Timestamp, 0)
	if old := ts.Before(c.Now.Add(-MonitorMaxAge)); old || ts.After(c.Now.Add(MonitorMaxAhead)) {
		when := "in the future"
		if old {
			when = "too old"
		}
		return 0, &MonitorError{Code: MonitorBadTS, Text: "Invalid t= signature timestamp: timestamp is " + when}
	}
	var cost time.Duration
	if m.HasEd25519 {
		convert := c.ConvertKey
		if convert == nil {
			convert = ed25519ToX25519
		}
		cost += c.Suite.Costs().X25519
		x, err := convert(m.Ed25519)
		if err != nil {
			return cost, &MonitorError{Code: MonitorBadPubkey, Text: "Invalid P= ed25519 public key"}
		}
		m.Account = Pubkey{Prefix: PrefixSessionID, Key: x}
	}
	vc, err := m.Verify(c.Suite)
	return cost + vc, err
}

// Verify checks m's signature: by the account's key, or, with a subaccount, the token (read
// access, signed by the account) and then the signature by the key the token names. The push
// server runs the same checks on a subscription before passing it on. It returns the cost.
func (m *Monitor) Verify(suite cryptomode.Suite) (time.Duration, *MonitorError) {
	var cost time.Duration
	pk := m.Account.Key[:]
	if m.HasEd25519 {
		pk = m.Ed25519[:]
	}
	if sa := m.Subaccount; sa != nil {
		// The subaccount's own key verifies, once the token checks out for reading.
		if sa.prefix() != m.Account.Prefix && !sa.has(AccessAnyPrefix) || !sa.has(AccessRead) {
			return cost, &MonitorError{Code: MonitorBadSig, Text: "Subaccount verification failed: token not valid for reading this account"}
		}
		ok, vc := suite.Verify(pk, sa.Token[:], sa.Signature[:])
		cost += vc
		if !ok {
			return cost, &MonitorError{Code: MonitorBadSig, Text: "Subaccount verification failed: bad token signature"}
		}
		pk = sa.key()
	}
	ok, vc := suite.Verify(pk, m.SigMessage(), m.Signature[:])
	cost += vc
	if !ok {
		return cost, &MonitorError{Code: MonitorBadSig, Text: "Signature verification failed"}
	}
	return cost, nil
}

// AppendMonitorReply appends the server's answer to a request: one dict per entry ({"success":
// 1}, or the refusal), in a list when the request was one.
func AppendMonitorReply(b []byte, list bool, results []*MonitorError) []byte {
	if list {
		b = append(b, 'l')
	}
	for _, r := range results {
		b = AppendMonitorResult(b, r)
	}
	if list {
		b = append(b, 'e')
	}
	return b
}

// AppendMonitorResult appends one entry's answer: {"success": 1} for nil, else the refusal.
func AppendMonitorResult(b []byte, r *MonitorError) []byte {
	b = append(b, 'd')
	if r == nil {
		b = bencode.AppendString(b, []byte("success"))
		b = bencode.AppendInt(b, 1)
		return append(b, 'e')
	}
	b = bencode.AppendString(b, []byte("errcode"))
	b = bencode.AppendInt(b, int64(r.Code))
	b = appendKeyString(b, "error", []byte(r.Text))
	return append(b, 'e')
}

// Notification is a node's notify.message: a new message for a monitored account.
type Notification struct {
	Account   Pubkey
	Hash      string
	Namespace Namespace
	Timestamp int64 // ms
	Expiry    int64 // ms
	// Data is the message's data, sent when the subscription asked for it (HasData).
	Data    []byte
	HasData bool
}

// AppendNotification appends n as the node sends it (send_notifies).
func AppendNotification(b []byte, n *Notification) []byte {
	raw := n.Account.raw()
	b = append(b, 'd')
	b = appendKeyString(b, "@", raw[:])
	b = appendKeyString(b, "h", []byte(n.Hash))
	b = bencode.AppendString(b, []byte("n"))
	b = bencode.AppendInt(b, int64(n.Namespace))
	b = bencode.AppendString(b, []byte("t"))
	b = bencode.AppendInt(b, n.Timestamp)
	b = bencode.AppendString(b, []byte("z"))
	b = bencode.AppendInt(b, n.Expiry)
	if n.HasData {
		b = appendKeyString(b, "~", n.Data)
	}
	return append(b, 'e')
}

// Hash lengths the push server accepts in a notification (spns hivemind.hpp MSG_HASH_MIN_SIZE
// and MSG_HASH_MAX_SIZE: base64 of a 32-byte hash, padded or not, up to twice that).
const (
	notifyHashMin = 43
	notifyHashMax = 88
)

// ErrNotification is a notify.message the push server ignores (it logs and drops it).
var ErrNotification = errors.New("malformed notify.message")

// ParseNotification reads a notify.message as the push server does (on_message_notification):
// "@" 33 bytes, "h" a hash of plausible length, "n", "t", "z" integers, "~" optional.
func ParseNotification(body []byte) (Notification, error) {
	var n Notification
	v, used, err := bencode.Decode(body)
	if err != nil {
		return n, fmt.Errorf("%w: %w", ErrNotification, err)
	}
	if used != len(body) || v.Kind != bencode.Dict {
		return n, fmt.Errorf("%w: not one dict", ErrNotification)
	}
	acct, ok := v.Get("@")
	if !ok || acct.Kind != bencode.String || len(acct.Str) != 33 {
		return n, fmt.Errorf("%w: missing or wrong-sized account (@)", ErrNotification)
	}
	n.Account.Prefix = acct.Str[0]
	copy(n.Account.Key[:], acct.Str[1:])
	h, ok := v.Get("h")
	if !ok || h.Kind != bencode.String || len(h.Str) < notifyHashMin || len(h.Str) > notifyHashMax {
		return n, fmt.Errorf("%w: missing or wrong-sized hash (h)", ErrNotification)
	}
	n.Hash = string(h.Str)
	ints := []struct {
		key string
		dst *int64
	}{{"n", nil}, {"t", &n.Timestamp}, {"z", &n.Expiry}}
	for _, f := range ints {
		x, ok := v.Get(f.key)
		if !ok || x.Kind != bencode.Int {
			return n, fmt.Errorf("%w: missing %s", ErrNotification, f.key)
		}
		if f.dst == nil {
			if x.Int < -32768 || x.Int > 32767 {
				return n, fmt.Errorf("%w: namespace out of range", ErrNotification)
			}
			n.Namespace = Namespace(x.Int)
			continue
		}
		*f.dst = x.Int
	}
	if d, ok := v.Get("~"); ok {
		if d.Kind != bencode.String {
			return n, fmt.Errorf("%w: data (~) is not a string", ErrNotification)
		}
		n.Data, n.HasData = slices.Clone(d.Str), true
	}
	return n, nil
}
