package storagerpc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forwardedRequests are requests of every forwarded method, in every shape the encoding has.
func forwardedRequests(t testing.TB) []Request {
	alice := newUser(t, 1)
	s := alice.signer(realSuite())
	signed := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("config"))
	signed.Sign(s)
	signed.Auth.HasEd25519 = true
	signed.Auth.Ed25519[0] = 7
	sub := &Subaccount{}
	sub.Token[0], sub.Signature[1] = 3, 4
	acct := SignedAccount{Pubkey: alice.id, Auth: Auth{Subaccount: sub}}
	acct.Auth.Signature[5] = 9
	return []Request{
		NewStore(alice.id, 0, nowMs, time.Hour, []byte("hi")),
		NewStore(alice.id, -10, nowMs, time.Hour, nil),
		signed,
		&Delete{SignedAccount: acct, Messages: []string{phHash, vectorHash}},
		&Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{}},
		&DeleteAll{SignedAccount: acct, Namespace: AllNamespaces, Timestamp: nowMs},
		&DeleteAll{SignedAccount: acct, Namespace: OneNamespace(-11), Timestamp: nowMs},
		&DeleteBefore{SignedAccount: acct, Namespace: OneNamespace(3), Before: nowMs},
		&ExpireAll{SignedAccount: acct, Namespace: AllNamespaces, Expiry: nowMs},
		&Expire{SignedAccount: acct, Messages: []string{phHash}, Expiries: []int64{nowMs}, Mode: ExpireShorten},
		&Expire{SignedAccount: acct, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs, nowMs + 1}, Mode: ExpireExtend},
		&Expire{SignedAccount: acct, Messages: []string{phHash}, Expiries: []int64{nowMs}},
	}
}

// forwardedForm is r as a peer receives it: what the forward leaves out cleared.
func forwardedForm(r Request) Request {
	switch r := r.(type) {
	case *Store:
		c := *r
		c.TTL, c.HasTTL = 0, false
		c.HasSigTimestamp = c.Signed
		if !c.Signed {
			c.SigTimestamp = 0
			c.Auth.Signature = [64]byte{}
		}
		if c.Data == nil {
			c.Data = []byte{}
		}
		return &c
	case *Delete:
		c := *r
		c.Required = false
		return &c
	}
	return r
}

func TestForwardEncodingRoundTripsAtItsSize(t *testing.T) {
	for _, r := range forwardedRequests(t) {
		t.Run(r.Method(), func(t *testing.T) {
			b, err := AppendForward(nil, r)
			require.NoError(t, err)
			assert.Len(t, b, ForwardSize(r), "the encoding is as long as the simulator charges")
			got, err := DecodeForward(r.Method(), b)
			require.NoError(t, err)
			assert.Equal(t, forwardedForm(r), got)
			again, err := AppendForward(nil, got)
			require.NoError(t, err)
			assert.Equal(t, b, again)
		})
	}
	_, err := AppendForward(nil, &Info{})
	assert.ErrorContains(t, err, "not forwarded")
	_, err = DecodeForward("retrieve", []byte("de"))
	assert.ErrorContains(t, err, "not a forwarded method")
}

func forwardedResults() []any {
	var sig [64]byte
	sig[3] = 1
	return []any{
		&StoreResult{Hash: phHash, Expiry: nowMs, Signature: sig},
		&StoreResult{Hash: phHash, Expiry: nowMs, Signature: sig, Already: true},
		&HashesResult{Hashes: []string{phHash, vectorHash}, Signature: sig},
		&HashesResult{Hashes: []string{}, Signature: sig},
		&HashesResult{AllNS: true, ByNamespace: []NSHashes{{Namespace: -10, Hashes: []string{phHash}}, {Namespace: 0, Hashes: []string{vectorHash}}, {Namespace: 3, Hashes: []string{}}}, Signature: sig},
		&ExpireResult{Expiries: []int64{nowMs}, Updated: []string{phHash}, Signature: sig},
		&ExpireResult{Expiries: []int64{nowMs, nowMs + 5}, Multi: true, Updated: []string{}, Signature: sig},
		&ExpireResult{Expiries: []int64{nowMs}, Updated: []string{phHash}, HasUnchanged: true, Unchanged: []HashExpiry{{Hash: vectorHash, Expiry: nowMs}, {Hash: phHash, Expiry: nowMs - 1}}, Signature: sig},
	}
}

// encodeResult encodes a forward result and gives the size the simulator charges for it.
func encodeResult(t *testing.T, r any) ([]byte, int, func([]byte) (any, error)) {
	switch r := r.(type) {
	case *StoreResult:
		return AppendForwardedStoreResult(nil, r), ForwardedStoreResultSize(r), func(b []byte) (any, error) { return DecodeForwardedStoreResult(b) }
	case *HashesResult:
		return AppendForwardedHashesResult(nil, r), ForwardedHashesResultSize(r), func(b []byte) (any, error) { return DecodeForwardedHashesResult(b) }
	case *ExpireResult:
		return AppendForwardedExpireResult(nil, r), ForwardedExpireResultSize(r), func(b []byte) (any, error) { return DecodeForwardedExpireResult(b) }
	}
	t.Fatalf("no encoding for %T", r)
	return nil, 0, nil
}

func TestForwardedResultsRoundTripAtTheirSize(t *testing.T) {
	for _, r := range forwardedResults() {
		b, size, decode := encodeResult(t, r)
		assert.Len(t, b, size, "%T %s", r, b)
		got, err := decode(b)
		require.NoError(t, err, "%s", b)
		assert.Equal(t, r, got)
	}
}

func TestPushRoundTripsAtItsSize(t *testing.T) {
	alice := newUser(t, 1)
	msgs := []PushedMessage{
		{Owner: alice.id, Hash: phHash, Timestamp: nowMs, Expiry: nowMs + 1000, Data: []byte("payload"), Namespace: 0},
		{Owner: alice.id, Hash: vectorHash, Timestamp: nowMs, Expiry: nowMs + 2000, Data: []byte{}, Namespace: -10},
	}
	for _, n := range []int{0, 1, 2} {
		b := AppendPush(nil, msgs[:n])
		sum := 0
		for _, m := range msgs[:n] {
			sum += PushedMessageSize(len(m.Hash), m.Namespace, m.Timestamp, m.Expiry, len(m.Data))
		}
		assert.Len(t, b, PushSize(sum))
		got, err := DecodePush(b)
		require.NoError(t, err)
		assert.Equal(t, msgs[:n], got)
	}
	_, err := DecodePush([]byte("ll1:xee"))
	assert.ErrorIs(t, err, errPushShape)
}

func FuzzDecodeForward(f *testing.F) {
	for _, r := range forwardedRequests(f) {
		b, err := AppendForward(nil, r)
		require.NoError(f, err)
		f.Add(r.Method(), b)
	}
	f.Fuzz(func(t *testing.T, method string, b []byte) {
		r, err := DecodeForward(method, b)
		if err != nil {
			return
		}
		out, err := AppendForward(nil, r)
		require.NoError(t, err)
		assert.Len(t, out, ForwardSize(r))
		again, err := DecodeForward(method, out)
		require.NoError(t, err)
		assert.Equal(t, r, again)
	})
}

func FuzzDecodeForwardedResults(f *testing.F) {
	for _, r := range forwardedResults() {
		switch r := r.(type) {
		case *StoreResult:
			f.Add(AppendForwardedStoreResult(nil, r))
		case *HashesResult:
			f.Add(AppendForwardedHashesResult(nil, r))
		case *ExpireResult:
			f.Add(AppendForwardedExpireResult(nil, r))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeForwardedStoreResult(b); err == nil {
			assert.Len(t, AppendForwardedStoreResult(nil, r), ForwardedStoreResultSize(r))
		}
		if r, err := DecodeForwardedHashesResult(b); err == nil {
			assert.Len(t, AppendForwardedHashesResult(nil, r), ForwardedHashesResultSize(r))
		}
		if r, err := DecodeForwardedExpireResult(b); err == nil {
			assert.Len(t, AppendForwardedExpireResult(nil, r), ForwardedExpireResultSize(r))
		}
	})
}

func FuzzDecodePush(f *testing.F) {
	f.Add(AppendPush(nil, []PushedMessage{{Hash: phHash, Timestamp: nowMs, Expiry: nowMs, Data: []byte("x"), Namespace: 3}}))
	f.Add([]byte("le"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := DecodePush(b)
		if err != nil {
			return
		}
		sum := 0
		for _, m := range msgs {
			sum += PushedMessageSize(len(m.Hash), m.Namespace, m.Timestamp, m.Expiry, len(m.Data))
		}
		out := AppendPush(nil, msgs)
		assert.Len(t, out, PushSize(sum))
		again, err := DecodePush(out)
		require.NoError(t, err)
		assert.Equal(t, msgs, again)
	})
}
