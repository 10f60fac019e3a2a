package storagerpc

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeDesktopStore(t *testing.T) {
	to := MustParsePubkey(phPK)
	r := NewStore(to, NamespaceDefault, nowMs, 14*24*time.Hour, []byte("abc 123"))
	want := `{"jsonrpc":"2.0","method":"store","params":{"pubkey":"` + phPK +
		`","timestamp":1700000000000,"namespace":0,"ttl":1209600000,"data":"YWJjIDEyMw=="}}`
	assert.Equal(t, want, string(EncodeRequest(r)))
}

func TestEncodeDesktopSignedRequests(t *testing.T) {
	alice := newUser(t, 1)
	s := alice.signer(realSuite())
	idHex := alice.id.Hex()
	r := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: NamespaceUserProfile, MaxSize: -5}
	r.Sign(s, nowMs)
	var got map[string]any
	require.NoError(t, json.Unmarshal(EncodeRequest(r), &got))
	params := got["params"].(map[string]any)
	assert.Equal(t, "2.0", got["jsonrpc"])
	assert.Equal(t, "retrieve", got["method"])
	assert.Equal(t, idHex, params["pubkey"])
	assert.Equal(t, "", params["last_hash"])
	assert.Equal(t, float64(2), params["namespace"])
	assert.Equal(t, float64(-5), params["max_size"])
	assert.Len(t, params["signature"], 88)

	// Field order follows the desktop's object literals.
	raw := string(EncodeRequest(r))
	assertOrder(t, raw, `"namespace"`, `"pubkey"`, `"pubkey_ed25519"`, `"signature"`, `"timestamp"`, `"last_hash"`, `"max_size"`)

	ge := &GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
	ge.Sign(s, nowMs)
	raw = string(EncodeRequest(ge))
	// The desktop upper-cases this key for get_expiries and delete_all.
	assert.Contains(t, raw, `"pubkey_ed25519":"`+upperHex(alice.key[32:])+`"`)
}

func upperHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func assertOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	at := -1
	for _, p := range parts {
		i := indexAfter(s, p, at+1)
		require.GreaterOrEqual(t, i, 0, "%s missing or out of order in %s", p, s)
		at = i
	}
}

func indexAfter(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestRoundTrip: every request a client builds parses back to the same value.
// sampleRequests is one request of every kind and shape the clients send, batches and sequences
// included.
func sampleRequests(t testing.TB) []Request {
	alice := newUser(t, 1)
	group := newGroup(3)
	s := alice.signer(realSuite())
	gs := group.signer(realSuite())
	var memberEd [32]byte
	copy(memberEd[:], alice.key[32:])
	sub := &Subaccount{Token: NewSubaccountToken(PrefixGroup, AccessRead|AccessWrite, memberEd)}
	memberSigner := &Signer{Suite: realSuite(), Account: group.id, Key: alice.key, Subaccount: sub}

	signedStore := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte{0, 1, 2, 250})
	signedStore.Sign(s)
	withSigTs := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
	withSigTs.Sign(s)
	withSigTs.SigTimestamp, withSigTs.HasSigTimestamp = nowMs+5, true
	expiryStore := &Store{SignedAccount: SignedAccount{Pubkey: alice.id}, Timestamp: nowMs, Expiry: nowMs + 20_000, Data: []byte{}, SigTimestamp: nowMs}
	memberStore := NewStore(group.id, NamespaceGroupMessages, nowMs, time.Hour, []byte("hello group"))
	memberStore.Sign(memberSigner)
	retrieve := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, LastHash: phHash, MaxCount: 10, MaxSize: 1000}
	retrieve.Sign(s, nowMs)
	groupRetrieve := &Retrieve{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: NamespaceGroupKeys}
	groupRetrieve.Sign(gs, nowMs)
	del := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Required: true}
	del.Sign(s)
	delAll := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}
	delAll.Sign(s, nowMs)
	delBefore := &DeleteBefore{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: OneNamespace(-5), Before: nowMs}
	delBefore.Sign(gs)
	expAll := &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(0), Expiry: nowMs + 1}
	expAll.Sign(s)
	exp := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs + 1, nowMs + 2}, Mode: ExpireShorten}
	exp.Sign(s)
	exp1 := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}, Expiries: []int64{nowMs + 1}}
	exp1.Sign(s)
	getExp := &GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{"a", "b"}}
	getExp.Sign(s, nowMs)

	reqs := []Request{
		NewStore(alice.id, NamespaceDefault, nowMs, 14*24*time.Hour, []byte("abc 123")),
		signedStore, withSigTs, expiryStore, memberStore,
		&Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}},
		&Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: NamespaceLegacyClosedGroup},
		retrieve, groupRetrieve, del, delAll, delBefore, expAll, exp, exp1, getExp,
		&GetSwarm{Pubkey: alice.id}, &GetSwarm{Pubkey: group.id, Alias: true},
		&Info{}, NewGetServiceNodes(), &OxendRequest{Endpoint: "get_service_nodes"},
	}
	batch := &Batch{Requests: append([]Request(nil), reqs[:MaxBatch]...)}
	seq := &Batch{Sequence: true, Requests: []Request{signedStore, del}}
	return append(reqs, batch, seq)
}

func TestRoundTrip(t *testing.T) {
	for _, r := range sampleRequests(t) {
		t.Run(r.Method(), func(t *testing.T) {
			got, err := ParseRequest(EncodeRequest(r))
			require.NoError(t, err)
			assert.Equal(t, r, got)
		})
	}
}

func TestSubaccountEncodings(t *testing.T) {
	// The server takes the token as 48 base64 or 72 hex characters.
	tok := NewSubaccountToken(PrefixGroup, AccessRead, [32]byte{1, 2, 3})
	b64 := base64.StdEncoding.EncodeToString(tok[:])
	require.Len(t, b64, 48)
	r, err := ParseRequest(body("retrieve", `"pubkey":"03`+phPK[2:]+`","namespace":11,"signature":"SIG","timestamp":NOW,"subaccount":"`+b64+`","subaccount_sig":"SIG"`))
	require.NoError(t, err)
	require.NotNil(t, r.(*Retrieve).Auth.Subaccount)
	assert.Equal(t, tok, r.(*Retrieve).Auth.Subaccount.Token)
}
