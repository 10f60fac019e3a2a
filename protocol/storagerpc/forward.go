package storagerpc

import (
	"strconv"

	"github.com/sessionsim/sessionsim/protocol/bencode"
)

// Swarm forwarding sizes. The node that receives a store, delete or expire forwards it to every
// other swarm member in the server's binary (bencoded) form, and each member answers its own
// result the same way. The simulator passes typed values between nodes; these functions give the
// byte counts the real encoding would have, so the network model charges the real sizes.

// btSize accumulates the length of a bencoded dictionary. Keys must be added in sorted order
// only for the encoding itself; the length does not depend on it.
type btSize int

func (s *btSize) str(n int)    { *s += btSize(bencode.StringLen(n)) }
func (s *btSize) key(k string) { s.str(len(k)) }
func (s *btSize) int(n int64)  { *s += btSize(bencode.IntLen(n)) }
func (s *btSize) strField(k string, n int) {
	s.key(k)
	s.str(n)
}
func (s *btSize) intField(k string, n int64) {
	s.key(k)
	s.int(n)
}
func (s *btSize) bytesField(k string, b []byte) { s.strField(k, len(b)) }
func (s *btSize) textField(k, v string)         { s.strField(k, len(v)) }
func (s *btSize) counting() bool                { return true }
func (s *btSize) dictField(k string, fill func(forwardFields)) {
	s.key(k)
	*s += 2
	fill(s)
}
func (s *btSize) stringsField(k string, ss []string) {
	s.key(k)
	*s += 2
	for _, x := range ss {
		s.str(len(x))
	}
}
func (s *btSize) intsField(k string, ns []int64) {
	s.key(k)
	*s += 2
	for _, n := range ns {
		s.int(n)
	}
}

// account is what every forwarded request carries: the account (33 raw bytes), the signature,
// pubkey_ed25519 and a subaccount when present. The dictionary's own "d" and "e" are added here.
func (s *btSize) account(acct *SignedAccount, signed bool) {
	*s += 2
	s.strField("pubkey", 33)
	a := &acct.Auth
	if signed {
		s.strField("signature", 64)
	}
	if a.HasEd25519 {
		s.strField("pubkey_ed25519", 32)
	}
	if a.Subaccount != nil {
		s.strField("subaccount", SubaccountTokenLen)
		s.strField("subaccount_sig", 64)
	}
}

// forwardFields is what a forwarded request or a peer's answer to it is written to: btSize counts its bytes (all the
// simulator needs), btDict builds the dictionary (forwardwire.go). Both take the fields from
// writeForward, so the size charged and the bytes sent cannot drift apart.
type forwardFields interface {
	account(acct *SignedAccount, signed bool)
	intField(k string, n int64)
	bytesField(k string, b []byte)
	stringsField(k string, ss []string)
	intsField(k string, ns []int64)
	textField(k, v string)
	// dictField writes a dictionary under k whose fields fill writes.
	dictField(k string, fill func(forwardFields))
	// counting: only lengths are taken, so the bytes of a field need not be made (a deferred
	// signature's: ExpireResult.signature).
	counting() bool
}

// writeForward writes the fields of the request a node forwards to each swarm peer; false for
// requests that are not forwarded. (delete's "required" and the TTL are not forwarded: the
// expiry is.)
func writeForward(w forwardFields, r Request) bool {
	switch r := r.(type) {
	case *Store:
		w.account(&r.SignedAccount, r.Signed)
		w.intField("timestamp", r.Timestamp)
		w.intField("expiry", r.Expiry)
		w.bytesField("data", r.Data)
		if r.Signed {
			w.intField("sig_timestamp", r.SigTimestamp)
		}
		if r.Namespace != 0 {
			w.intField("namespace", int64(r.Namespace))
		}
	case *Delete:
		w.account(&r.SignedAccount, true)
		w.stringsField("messages", r.Messages)
	case *DeleteAll:
		writeNumberNamespace(w, &r.SignedAccount, "timestamp", r.Timestamp, r.Namespace)
	case *DeleteBefore:
		writeNumberNamespace(w, &r.SignedAccount, "before", r.Before, r.Namespace)
	case *ExpireAll:
		writeNumberNamespace(w, &r.SignedAccount, "expiry", r.Expiry, r.Namespace)
	case *Expire:
		w.account(&r.SignedAccount, true)
		if len(r.Expiries) == 1 {
			w.intField("expiry", r.Expiries[0])
		} else {
			w.intsField("expiry", r.Expiries)
		}
		switch r.Mode {
		case ExpireShorten:
			w.intField("shorten", 1)
		case ExpireExtend:
			w.intField("extend", 1)
		}
		w.stringsField("messages", r.Messages)
	default:
		return false
	}
	return true
}

// allNamespaces is how a selection of every namespace is written.
var allNamespaces = []byte("all")

// writeNumberNamespace writes a whole signed request of delete_all, delete_before or
// expire_all: the account fields, one number and the namespace selection.
func writeNumberNamespace(w forwardFields, acct *SignedAccount, key string, n int64, ns NamespaceSel) {
	w.account(acct, true)
	w.intField(key, n)
	if ns.All {
		w.bytesField("namespace", allNamespaces)
		return
	}
	w.intField("namespace", int64(ns.Namespace))
}

// ForwardSize is the size of the request a node forwards to each swarm peer (writeForward); 0
// for requests that are not forwarded.
func ForwardSize(r Request) int {
	var s btSize
	if !writeForward(&s, r) {
		return 0
	}
	return int(s)
}

// writeStoreResult writes the fields of a peer's answer to a forwarded store.
func writeStoreResult(w forwardFields, r *StoreResult) {
	if r.Already {
		w.intField("already", 1)
	}
	w.intField("expiry", r.Expiry)
	w.textField("hash", r.Hash)
	w.bytesField("signature", r.Signature[:])
}

// writeHashesResult writes the fields of a peer's answer to a forwarded delete, delete_all,
// delete_before or expire_all (under "deleted"; expire_all's "updated" has the same length, and
// the method beside it says which).
func writeHashesResult(w forwardFields, r *HashesResult) {
	if r.AllNS {
		w.dictField("deleted", func(byNS forwardFields) {
			for _, g := range r.ByNamespace {
				byNS.stringsField(strconv.FormatInt(int64(g.Namespace), 10), g.Hashes)
			}
		})
	} else {
		w.stringsField("deleted", r.Hashes)
	}
	w.bytesField("signature", r.Signature[:])
}

// writeExpireResult writes the fields of a peer's answer to a forwarded expire.
func writeExpireResult(w forwardFields, r *ExpireResult) {
	switch {
	case r.Multi:
		w.intsField("expiry", r.Expiries)
	case len(r.Expiries) > 0:
		w.intField("expiry", r.Expiries[0])
	default:
		w.intField("expiry", 0)
	}
	w.bytesField("signature", r.signature(w.counting()))
	if r.HasUnchanged {
		w.dictField("unchanged", func(un forwardFields) {
			for _, u := range r.Unchanged {
				un.intField(u.Hash, u.Expiry)
			}
		})
	}
	w.stringsField("updated", r.Updated)
}

// resultSize is the size of the dictionary write writes.
func resultSize(write func(forwardFields)) int {
	s := btSize(2)
	write(&s)
	return int(s)
}

// ForwardedStoreResultSize is the size of a peer's answer to a forwarded store.
func ForwardedStoreResultSize(r *StoreResult) int {
	return resultSize(func(w forwardFields) { writeStoreResult(w, r) })
}

// ForwardedHashesResultSize is the size of a peer's answer to a forwarded delete, delete_all,
// delete_before or expire_all.
func ForwardedHashesResultSize(r *HashesResult) int {
	return resultSize(func(w forwardFields) { writeHashesResult(w, r) })
}

// ForwardedExpireResultSize is the size of a peer's answer to a forwarded expire.
func ForwardedExpireResultSize(r *ExpireResult) int {
	return resultSize(func(w forwardFields) { writeExpireResult(w, r) })
}
