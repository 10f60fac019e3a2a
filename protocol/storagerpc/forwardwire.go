package storagerpc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sessionsim/sessionsim/protocol/bencode"
)

// The bencoded forms of swarm forwards, their results and swarm-change pushes, whose lengths
// forward.go and push.go give. The simulator never needs the bytes (it passes values and
// charges these lengths); a driver on real sockets sends them. Every Append* here writes exactly
// the length its *Size function gives, and every Decode* reads back what it wrote (the fields a
// forward leaves out, such as a store's TTL, come back empty).

// btDict builds a dictionary; encode sorts its keys, as bencode requires.
type btDict []bencode.Entry

func (d *btDict) bytesField(k string, v []byte) {
	*d = append(*d, bencode.Entry{Key: []byte(k), Value: bencode.Value{Kind: bencode.String, Str: v}})
}
func (d *btDict) intField(k string, v int64) {
	*d = append(*d, bencode.Entry{Key: []byte(k), Value: bencode.Value{Kind: bencode.Int, Int: v}})
}
func (d *btDict) stringsField(k string, ss []string) { d.val(k, btStrings(ss)) }
func (d *btDict) intsField(k string, ns []int64)     { d.val(k, btInts(ns)) }
func (d *btDict) textField(k, v string)              { d.bytesField(k, []byte(v)) }
func (d *btDict) counting() bool                     { return false }

func (d *btDict) dictField(k string, fill func(forwardFields)) {
	var sub btDict
	fill(&sub)
	d.val(k, sub.value())
}
func (d *btDict) val(k string, v bencode.Value) {
	*d = append(*d, bencode.Entry{Key: []byte(k), Value: v})
}

func (d btDict) value() bencode.Value {
	slices.SortFunc(d, func(a, b bencode.Entry) int { return strings.Compare(string(a.Key), string(b.Key)) })
	return bencode.Value{Kind: bencode.Dict, Dict: d}
}

func btStrings(ss []string) bencode.Value {
	v := bencode.Value{Kind: bencode.List, List: make([]bencode.Value, len(ss))}
	for i, s := range ss {
		v.List[i] = bencode.Value{Kind: bencode.String, Str: []byte(s)}
	}
	return v
}

func btInts(ns []int64) bencode.Value {
	v := bencode.Value{Kind: bencode.List, List: make([]bencode.Value, len(ns))}
	for i, n := range ns {
		v.List[i] = bencode.Value{Kind: bencode.Int, Int: n}
	}
	return v
}

func (d *btDict) account(acct *SignedAccount, signed bool) {
	pk := append([]byte{acct.Pubkey.Prefix}, acct.Pubkey.Key[:]...)
	d.bytesField("pubkey", pk)
	a := &acct.Auth
	if signed {
		d.bytesField("signature", a.Signature[:])
	}
	if a.HasEd25519 {
		d.bytesField("pubkey_ed25519", a.Ed25519[:])
	}
	if a.Subaccount != nil {
		d.bytesField("subaccount", a.Subaccount.Token[:])
		d.bytesField("subaccount_sig", a.Subaccount.Signature[:])
	}
}

// AppendForward appends the bencoded request a node forwards to its swarm peers (writeForward;
// the method travels beside it, as its own OxenMQ message part). It fails for requests that are
// not forwarded.
func AppendForward(dst []byte, r Request) ([]byte, error) {
	var d btDict
	if !writeForward(&d, r) {
		return dst, fmt.Errorf("storagerpc: a %T is not forwarded to swarm peers", r)
	}
	return bencode.AppendValue(dst, d.value()), nil
}

// btReader reads fields of a decoded dictionary, keeping the first error.
type btReader struct {
	d   bencode.Value
	err error
}

func (rd *btReader) fail(format string, args ...any) {
	if rd.err == nil {
		rd.err = fmt.Errorf(format, args...)
	}
}

func (rd *btReader) get(k string, kind bencode.Kind, required bool) *bencode.Value {
	v, ok := rd.d.Get(k)
	if !ok {
		if required {
			rd.fail("missing %q", k)
		}
		return nil
	}
	if v.Kind != kind {
		rd.fail("%q is a %v, want a %v", k, v.Kind, kind)
		return nil
	}
	return v
}

func (rd *btReader) int(k string) int64 {
	if v := rd.get(k, bencode.Int, true); v != nil {
		return v.Int
	}
	return 0
}

func (rd *btReader) optInt(k string) (int64, bool) {
	if v := rd.get(k, bencode.Int, false); v != nil {
		return v.Int, true
	}
	return 0, false
}

// fixed copies a string field of exactly len(dst) bytes; false when absent.
func (rd *btReader) fixed(k string, dst []byte, required bool) bool {
	v := rd.get(k, bencode.String, required)
	if v == nil {
		return false
	}
	if len(v.Str) != len(dst) {
		rd.fail("%q has %d bytes, want %d", k, len(v.Str), len(dst))
		return false
	}
	copy(dst, v.Str)
	return true
}

func (rd *btReader) bytes(k string) []byte {
	if v := rd.get(k, bencode.String, true); v != nil {
		return slices.Clone(v.Str)
	}
	return nil
}

func (rd *btReader) strings(k string) []string {
	v := rd.get(k, bencode.List, true)
	if v == nil {
		return nil
	}
	out := make([]string, len(v.List))
	for i, x := range v.List {
		if x.Kind != bencode.String {
			rd.fail("%q item %d is a %v, want a string", k, i, x.Kind)
			return nil
		}
		out[i] = string(x.Str)
	}
	return out
}

func (rd *btReader) namespace(k string) Namespace {
	n, _ := rd.optInt(k)
	if n < -32768 || n > 32767 {
		rd.fail("%q %d is not a namespace", k, n)
	}
	return Namespace(n)
}

// numberNamespace reads what writeNumberNamespace writes into acct, and returns the number
// and the namespace selection.
func (rd *btReader) numberNamespace(acct *SignedAccount, key string) (int64, NamespaceSel) {
	rd.common(acct, true)
	n := rd.int(key)
	v, ok := rd.d.Get("namespace")
	if !ok {
		rd.fail(`missing "namespace"`)
		return n, NamespaceSel{}
	}
	if v.Kind == bencode.String {
		if string(v.Str) != "all" {
			rd.fail(`"namespace" %q is neither a number nor "all"`, v.Str)
		}
		return n, AllNamespaces
	}
	return n, OneNamespace(rd.namespace("namespace"))
}

func (rd *btReader) common(acct *SignedAccount, signed bool) {
	var pk [33]byte
	rd.fixed("pubkey", pk[:], true)
	acct.Pubkey = Pubkey{Prefix: pk[0]}
	copy(acct.Pubkey.Key[:], pk[1:])
	a := &acct.Auth
	if signed {
		rd.fixed("signature", a.Signature[:], true)
	}
	a.HasEd25519 = rd.fixed("pubkey_ed25519", a.Ed25519[:], false)
	var sa Subaccount
	if rd.fixed("subaccount", sa.Token[:], false) {
		rd.fixed("subaccount_sig", sa.Signature[:], true)
		a.Subaccount = &sa
	}
}

// decodeDict reads b as exactly one bencoded dictionary.
func decodeDict(b []byte) (btReader, error) {
	v, n, err := bencode.Decode(b)
	if err != nil {
		return btReader{}, err
	}
	if n != len(b) {
		return btReader{}, fmt.Errorf("%d bytes after the dictionary", len(b)-n)
	}
	if v.Kind != bencode.Dict {
		return btReader{}, fmt.Errorf("a %v, want a dictionary", v.Kind)
	}
	return btReader{d: v}, nil
}

// DecodeForward reads a forwarded request of the given method (store, delete, delete_all,
// delete_before, expire_all, expire).
func DecodeForward(method string, b []byte) (Request, error) {
	rd, err := decodeDict(b)
	if err != nil {
		return nil, fmt.Errorf("storagerpc: forwarded %s: %w", method, err)
	}
	var r Request
	switch method {
	case MethodStore:
		s := &Store{}
		_, s.Signed = rd.d.Get("signature")
		rd.common(&s.SignedAccount, s.Signed)
		s.Timestamp = rd.int("timestamp")
		s.Expiry = rd.int("expiry")
		s.Data = rd.bytes("data")
		if s.Signed {
			s.SigTimestamp = rd.int("sig_timestamp")
			s.HasSigTimestamp = true
		}
		s.Namespace = rd.namespace("namespace")
		r = s
	case MethodDelete:
		x := &Delete{}
		rd.common(&x.SignedAccount, true)
		x.Messages = rd.strings("messages")
		r = x
	case MethodDeleteAll:
		x := &DeleteAll{}
		x.Timestamp, x.Namespace = rd.numberNamespace(&x.SignedAccount, "timestamp")
		r = x
	case MethodDeleteBefore:
		x := &DeleteBefore{}
		x.Before, x.Namespace = rd.numberNamespace(&x.SignedAccount, "before")
		r = x
	case MethodExpireAll:
		x := &ExpireAll{}
		x.Expiry, x.Namespace = rd.numberNamespace(&x.SignedAccount, "expiry")
		r = x
	case MethodExpire:
		x := &Expire{}
		rd.common(&x.SignedAccount, true)
		x.Expiries = rd.intsOrInt("expiry")
		if _, ok := rd.optInt("shorten"); ok {
			x.Mode = ExpireShorten
		} else if _, ok := rd.optInt("extend"); ok {
			x.Mode = ExpireExtend
		}
		x.Messages = rd.strings("messages")
		r = x
	default:
		return nil, fmt.Errorf("storagerpc: %q is not a forwarded method", method)
	}
	if rd.err != nil {
		return nil, fmt.Errorf("storagerpc: forwarded %s: %w", method, rd.err)
	}
	return r, nil
}

// intsOrInt reads one integer (as a list of one) or a list of them.
func (rd *btReader) intsOrInt(k string) []int64 {
	v, ok := rd.d.Get(k)
	if !ok {
		rd.fail("missing %q", k)
		return nil
	}
	switch v.Kind {
	case bencode.Int:
		return []int64{v.Int}
	case bencode.List:
		out := make([]int64, len(v.List))
		for i, x := range v.List {
			if x.Kind != bencode.Int {
				rd.fail("%q item %d is a %v, want an integer", k, i, x.Kind)
				return nil
			}
			out[i] = x.Int
		}
		if len(out) == 1 {
			rd.fail("%q is a list of one: the encoding writes one integer", k)
		}
		return out
	}
	rd.fail("%q is a %v", k, v.Kind)
	return nil
}

// appendResult appends the dictionary write writes.
func appendResult(dst []byte, write func(forwardFields)) []byte {
	var d btDict
	write(&d)
	return bencode.AppendValue(dst, d.value())
}

// decodeResult reads b, one bencoded dictionary, into a new T with read; its errors name what
// was read.
func decodeResult[T any](b []byte, what string, read func(rd *btReader, r *T)) (*T, error) {
	rd, err := decodeDict(b)
	if err == nil {
		r := new(T)
		read(&rd, r)
		if rd.err == nil {
			return r, nil
		}
		err = rd.err
	}
	return nil, fmt.Errorf("storagerpc: forwarded %s: %w", what, err)
}

// AppendForwardedStoreResult appends a peer's answer to a forwarded store.
func AppendForwardedStoreResult(dst []byte, r *StoreResult) []byte {
	return appendResult(dst, func(w forwardFields) { writeStoreResult(w, r) })
}

// DecodeForwardedStoreResult reads what AppendForwardedStoreResult wrote.
func DecodeForwardedStoreResult(b []byte) (*StoreResult, error) {
	return decodeResult(b, "store result", func(rd *btReader, r *StoreResult) {
		_, r.Already = rd.optInt("already")
		r.Expiry = rd.int("expiry")
		r.Hash = string(rd.bytes("hash"))
		rd.fixed("signature", r.Signature[:], true)
	})
}

// AppendForwardedHashesResult appends a peer's answer to a forwarded delete, delete_all,
// delete_before or expire_all (writeHashesResult).
func AppendForwardedHashesResult(dst []byte, r *HashesResult) []byte {
	return appendResult(dst, func(w forwardFields) { writeHashesResult(w, r) })
}

// DecodeForwardedHashesResult reads what AppendForwardedHashesResult wrote. Groups of an
// all-namespace result come back in the encoding's key order.
func DecodeForwardedHashesResult(b []byte) (*HashesResult, error) {
	return decodeResult(b, "hashes result", func(rd *btReader, r *HashesResult) {
		v, ok := rd.d.Get("deleted")
		switch {
		case !ok:
			rd.fail(`missing "deleted"`)
		case v.Kind == bencode.Dict:
			r.AllNS = true
			for _, e := range v.Dict {
				sub := btReader{d: bencode.Value{Kind: bencode.Dict, Dict: []bencode.Entry{e}}}
				var ns int64
				if _, err := fmt.Sscan(string(e.Key), &ns); err != nil || fmt.Sprint(ns) != string(e.Key) || ns < -32768 || ns > 32767 {
					rd.fail("namespace key %q is not a namespace", e.Key)
					break
				}
				hs := sub.strings(string(e.Key))
				if sub.err != nil {
					rd.fail("%v", sub.err)
					break
				}
				r.ByNamespace = append(r.ByNamespace, NSHashes{Namespace: Namespace(ns), Hashes: hs})
			}
		default:
			r.Hashes = rd.strings("deleted")
		}
		rd.fixed("signature", r.Signature[:], true)
	})
}

// AppendForwardedExpireResult appends a peer's answer to a forwarded expire.
func AppendForwardedExpireResult(dst []byte, r *ExpireResult) []byte {
	return appendResult(dst, func(w forwardFields) { writeExpireResult(w, r) })
}

// DecodeForwardedExpireResult reads what AppendForwardedExpireResult wrote. Unchanged entries
// come back in hash order.
func DecodeForwardedExpireResult(b []byte) (*ExpireResult, error) {
	return decodeResult(b, "expire result", func(rd *btReader, r *ExpireResult) {
		if v, ok := rd.d.Get("expiry"); ok && v.Kind == bencode.List {
			r.Multi = true
			r.Expiries = btIntList(rd, v)
		} else {
			r.Expiries = []int64{rd.int("expiry")}
		}
		rd.fixed("signature", r.Signature[:], true)
		if v := rd.get("unchanged", bencode.Dict, false); v != nil {
			r.HasUnchanged = true
			for _, e := range v.Dict {
				if e.Value.Kind != bencode.Int {
					rd.fail("unchanged %q is a %v, want an integer", e.Key, e.Value.Kind)
					break
				}
				r.Unchanged = append(r.Unchanged, HashExpiry{Hash: string(e.Key), Expiry: e.Value.Int})
			}
		}
		r.Updated = rd.strings("updated")
	})
}

func btIntList(rd *btReader, v *bencode.Value) []int64 {
	out := make([]int64, len(v.List))
	for i, x := range v.List {
		if x.Kind != bencode.Int {
			rd.fail("item %d is a %v, want an integer", i, x.Kind)
			return nil
		}
		out[i] = x.Int
	}
	return out
}

// PushedMessage is one message of a swarm-change push (sn.data).
type PushedMessage struct {
	Owner     Pubkey
	Hash      string
	Timestamp int64 // ms since the epoch
	Expiry    int64 // ms since the epoch
	Data      []byte
	Namespace Namespace
}

// AppendPush appends a push of msgs: one list, and in it one list per message (account, hash,
// timestamp, expiry, data, namespace), PushSize of the messages' PushedMessageSize long.
func AppendPush(dst []byte, msgs []PushedMessage) []byte {
	v := bencode.Value{Kind: bencode.List, List: make([]bencode.Value, len(msgs))}
	for i, m := range msgs {
		pk := append([]byte{m.Owner.Prefix}, m.Owner.Key[:]...)
		v.List[i] = bencode.Value{Kind: bencode.List, List: []bencode.Value{
			{Kind: bencode.String, Str: pk},
			{Kind: bencode.String, Str: []byte(m.Hash)},
			{Kind: bencode.Int, Int: m.Timestamp},
			{Kind: bencode.Int, Int: m.Expiry},
			{Kind: bencode.String, Str: m.Data},
			{Kind: bencode.Int, Int: int64(m.Namespace)},
		}}
	}
	return bencode.AppendValue(dst, v)
}

var errPushShape = errors.New("a pushed message is a list of account (33 bytes), hash, timestamp, expiry, data and namespace")

// DecodePush reads what AppendPush wrote.
func DecodePush(b []byte) ([]PushedMessage, error) {
	v, n, err := bencode.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("storagerpc: push: %w", err)
	}
	if n != len(b) || v.Kind != bencode.List {
		return nil, errors.New("storagerpc: push: not exactly one list")
	}
	out := make([]PushedMessage, 0, len(v.List))
	for i, x := range v.List {
		f := x.List
		if x.Kind != bencode.List || len(f) != 6 || f[0].Kind != bencode.String || len(f[0].Str) != 33 ||
			f[1].Kind != bencode.String || f[2].Kind != bencode.Int || f[3].Kind != bencode.Int ||
			f[4].Kind != bencode.String || f[5].Kind != bencode.Int || f[5].Int < -32768 || f[5].Int > 32767 {
			return nil, fmt.Errorf("storagerpc: push: message %d: %w", i, errPushShape)
		}
		m := PushedMessage{Owner: Pubkey{Prefix: f[0].Str[0]}, Hash: string(f[1].Str), Timestamp: f[2].Int, Expiry: f[3].Int, Data: slices.Clone(f[4].Str), Namespace: Namespace(f[5].Int)}
		copy(m.Owner.Key[:], f[0].Str[1:])
		out = append(out, m)
	}
	return out, nil
}
