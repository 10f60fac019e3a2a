package storagerpc

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionsim/sessionsim/protocol/bencode"
)

// encodeBT encodes the forwarded form written as Go values (maps for dicts, slices for lists),
// sorting dict keys as the format requires.
func encodeBT(v any) []byte { return bencode.AppendValue(nil, btValue(v)) }

func btValue(v any) bencode.Value {
	switch v := v.(type) {
	case map[string]any:
		d := bencode.Value{Kind: bencode.Dict}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			d.Dict = append(d.Dict, bencode.Entry{Key: []byte(k), Value: btValue(v[k])})
		}
		return d
	case []any:
		l := bencode.Value{Kind: bencode.List}
		for _, e := range v {
			l.List = append(l.List, btValue(e))
		}
		return l
	case string:
		return bencode.Value{Kind: bencode.String, Str: []byte(v)}
	case []byte:
		return bencode.Value{Kind: bencode.String, Str: v}
	case int64:
		return bencode.Value{Kind: bencode.Int, Int: v}
	case int:
		return bencode.Value{Kind: bencode.Int, Int: int64(v)}
	}
	panic(fmt.Sprintf("bencode: %T", v))
}

func authFieldsBT(m map[string]any, a *Auth, signed bool) map[string]any {
	m["pubkey"] = make([]byte, 33)
	if signed {
		m["signature"] = a.Signature[:]
	}
	if a.HasEd25519 {
		m["pubkey_ed25519"] = a.Ed25519[:]
	}
	if a.Subaccount != nil {
		m["subaccount"] = a.Subaccount.Token[:]
		m["subaccount_sig"] = a.Subaccount.Signature[:]
	}
	return m
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestForwardSize(t *testing.T) {
	alice := newUser(t, 1)
	s := alice.signer(realSuite())
	unsigned := NewStore(alice.id, 0, nowMs, time.Hour, make([]byte, 1000))
	signed := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, make([]byte, 12345))
	signed.Sign(s)
	del := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Required: true}
	del.Sign(s)
	da := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces, Timestamp: nowMs}
	db := &DeleteBefore{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(-10), Before: nowMs}
	ea := &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(0), Expiry: nowMs}
	ex := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs, nowMs + 1}, Mode: ExpireShorten}
	ex1 := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}, Expiries: []int64{nowMs}, Mode: ExpireExtend}

	for _, tc := range []struct {
		req  Request
		want map[string]any
	}{
		{unsigned, authFieldsBT(map[string]any{"timestamp": nowMs, "expiry": unsigned.Expiry, "data": unsigned.Data}, &unsigned.Auth, false)},
		{signed, authFieldsBT(map[string]any{"timestamp": nowMs, "expiry": signed.Expiry, "data": signed.Data, "sig_timestamp": nowMs, "namespace": 3}, &signed.Auth, true)},
		{del, authFieldsBT(map[string]any{"messages": strs(del.Messages)}, &del.Auth, true)},
		{da, authFieldsBT(map[string]any{"timestamp": nowMs, "namespace": "all"}, &da.Auth, true)},
		{db, authFieldsBT(map[string]any{"before": nowMs, "namespace": -10}, &db.Auth, true)},
		{ea, authFieldsBT(map[string]any{"expiry": nowMs, "namespace": 0}, &ea.Auth, true)},
		{ex, authFieldsBT(map[string]any{"expiry": []any{nowMs, nowMs + 1}, "shorten": 1, "messages": strs(ex.Messages)}, &ex.Auth, true)},
		{ex1, authFieldsBT(map[string]any{"expiry": nowMs, "extend": 1, "messages": strs(ex1.Messages)}, &ex1.Auth, true)},
	} {
		assert.Equal(t, len(encodeBT(tc.want)), ForwardSize(tc.req), "%s", tc.req.Method())
	}
	assert.Zero(t, ForwardSize(&Info{}))
	assert.Zero(t, ForwardSize(&Retrieve{}))
}

func TestForwardedResultSizes(t *testing.T) {
	st := &StoreResult{Hash: phHash, Expiry: nowMs, Already: true}
	assert.Equal(t, len(encodeBT(map[string]any{"already": 1, "expiry": nowMs, "hash": phHash, "signature": st.Signature[:]})), ForwardedStoreResultSize(st))
	st.Already = false
	assert.Equal(t, len(encodeBT(map[string]any{"expiry": nowMs, "hash": phHash, "signature": st.Signature[:]})), ForwardedStoreResultSize(st))

	one := &HashesResult{Hashes: []string{phHash, vectorHash}}
	assert.Equal(t, len(encodeBT(map[string]any{"deleted": strs(one.Hashes), "signature": one.Signature[:]})), ForwardedHashesResultSize(one))
	all := &HashesResult{AllNS: true, ByNamespace: []NSHashes{{Namespace: -10, Hashes: []string{phHash}}, {Namespace: 5, Hashes: []string{vectorHash, phHash}}}}
	assert.Equal(t, len(encodeBT(map[string]any{"deleted": map[string]any{"-10": strs([]string{phHash}), "5": strs([]string{vectorHash, phHash})}, "signature": all.Signature[:]})), ForwardedHashesResultSize(all))

	ex := &ExpireResult{Expiries: []int64{nowMs}, Updated: []string{phHash}, HasUnchanged: true, Unchanged: []HashExpiry{{vectorHash, nowMs + 5}}}
	assert.Equal(t, len(encodeBT(map[string]any{"expiry": nowMs, "signature": ex.Signature[:], "unchanged": map[string]any{vectorHash: nowMs + 5}, "updated": strs(ex.Updated)})), ForwardedExpireResultSize(ex))
	multi := &ExpireResult{Multi: true, Expiries: []int64{nowMs, nowMs + 1}, Updated: []string{phHash, vectorHash}}
	assert.Equal(t, len(encodeBT(map[string]any{"expiry": []any{nowMs, nowMs + 1}, "signature": multi.Signature[:], "updated": strs(multi.Updated)})), ForwardedExpireResultSize(multi))
}
