package pushrpc

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

func testSigner(t testing.TB) *storagerpc.Signer {
	t.Helper()
	k := identity.Derive(1, "phone")
	return &storagerpc.Signer{
		Suite:   cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts),
		Account: storagerpc.Pubkey{Prefix: storagerpc.PrefixSessionID, Key: k.X25519Public},
		Key:     ed25519.PrivateKey(k.Ed25519Private),
	}
}

func testSubscribe(t testing.TB) Subscribe {
	s := Subscribe{Namespaces: []storagerpc.Namespace{0}, Data: true, Service: ServiceAPNs, Token: strings.Repeat("ab", 32)}
	s.EncKey[0] = 7
	s.Sign(testSigner(t), 1_700_000_000)
	return s
}

func TestSubscribeRoundTrip(t *testing.T) {
	s := testSubscribe(t)
	body := AppendSubscribe(nil, &s)
	assert.Contains(t, string(body), `"pubkey":"05`)
	got, err := ParseSubscribe(body)
	require.NoError(t, err)
	assert.Equal(t, s, got)

	// The signature is the monitor subscription's, which a storage server accepts.
	m := got.Monitor()
	cost, merr := m.Check(storagerpc.CheckEnv{Now: timeOf(1_700_000_000), Suite: testSigner(t).Suite})
	require.Nil(t, merr)
	assert.Positive(t, cost)

	u := s
	u.SignUnsubscribe(testSigner(t), 1_700_000_100)
	ub := AppendUnsubscribe(nil, &u)
	assert.NotContains(t, string(ub), "namespaces")
	gu, err := ParseUnsubscribe(ub)
	require.NoError(t, err)
	assert.Equal(t, u.Signature, gu.Signature)
	ok, _ := testSigner(t).Suite.Verify(gu.Ed25519[:], UnsubscribeSigMessage(gu.Account, gu.SigTS), gu.Signature[:])
	assert.True(t, ok)
}

func TestSubscribeRefusals(t *testing.T) {
	s := testSubscribe(t)
	good := string(AppendSubscribe(nil, &s))
	for name, body := range map[string]string{
		"not json":      "garbage",
		"bad pubkey":    strings.Replace(good, `"pubkey":"05`, `"pubkey":"0`, 1),
		"no namespaces": strings.Replace(good, `"namespaces":[0]`, `"namespaces":[]`, 1),
		"unsorted":      strings.Replace(good, `"namespaces":[0]`, `"namespaces":[2,0]`, 1),
		"no token":      strings.Replace(good, s.Token, "", 1),
		"short enc key": strings.Replace(good, `"enc_key":"07`, `"enc_key":"7`, 1),
		"too large":     good + strings.Repeat(" ", MaxBody),
	} {
		_, err := ParseSubscribe([]byte(body))
		assert.ErrorIs(t, err, ErrRequest, name)
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		r     Result
		unsub bool
		want  string
	}{
		{Result{Added: true, Message: "Subscription successful"}, false, `{"success":true,"added":true,"message":"Subscription successful"}`},
		{Result{Updated: true}, false, `{"success":true,"updated":true}`},
		{Result{Removed: false}, true, `{"success":true,"removed":false}`},
		{Result{Code: BadInput, Message: "Invalid JSON"}, false, `{"error":1,"message":"Invalid JSON"}`},
	} {
		b := AppendResult(nil, tc.r, tc.unsub)
		assert.Equal(t, tc.want, string(b))
		got, err := ParseResult(b)
		require.NoError(t, err)
		assert.Equal(t, tc.r, got)
	}
	_, err := ParseResult([]byte(`{}`))
	assert.Error(t, err)
}

func TestPayloadSealOpen(t *testing.T) {
	acct := testSigner(t).Account
	var key [32]byte
	key[3] = 9
	rnd := actor.RandReader(rand.New(rand.NewPCG(1, 2)))
	for _, n := range []storagerpc.Notification{
		{Account: acct, Hash: strings.Repeat("h", 43), Namespace: 0, Timestamp: 1, Expiry: 2},
		{Account: acct, Hash: strings.Repeat("h", 43), Timestamp: 1, Expiry: 2, Data: bytes.Repeat([]byte("d"), 300), HasData: true},
		{Account: acct, Hash: strings.Repeat("h", 43), Timestamp: 1, Expiry: 2, Data: make([]byte, MaxPayloadData+1), HasData: true},
	} {
		p := PayloadOf(&n)
		sealed, err := Seal(&p, key, rnd)
		require.NoError(t, err)
		// 24-byte nonce, a multiple of 256 bytes of plaintext, 16-byte tag.
		assert.Zero(t, (len(sealed)-24-16)%256)
		got, err := Open(sealed, key)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		assert.Equal(t, len(n.Data) > MaxPayloadData, got.TooBig)
		var wrong [32]byte
		_, err = Open(sealed, wrong)
		assert.ErrorIs(t, err, ErrPayload)
		assert.True(t, bytes.HasPrefix(Notification(ServiceAPNs, sealed), []byte(`{"aps":`)))
	}
}

// testGroupSubscribe is a group member's subscription of the group's messages namespace.
func testGroupSubscribe(t testing.TB) Subscribe {
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	g := identity.Derive(1, "group")
	member := identity.Derive(1, "phone")
	tok, _ := storagerpc.SignSubaccount(suite, ed25519.PrivateKey(g.Ed25519Private), storagerpc.AccessRead|storagerpc.AccessWrite, member.Ed25519Public)
	signer := &storagerpc.Signer{Suite: suite, Account: storagerpc.Pubkey{Prefix: storagerpc.PrefixGroup, Key: g.Ed25519Public},
		Key: ed25519.PrivateKey(member.Ed25519Private), Subaccount: tok}
	s := Subscribe{Namespaces: []storagerpc.Namespace{storagerpc.NamespaceGroupMessages}, Data: true, Service: ServiceFirebase, Token: "tok"}
	s.Sign(signer, 1_700_000_000)
	return s
}

// TestGroupSubscribeRoundTrip: a group's subscription carries the member's subaccount token and
// signature instead of session_ed25519, with the exact body the server reads back, and the
// monitor it forwards verifies as a storage server checks it.
func TestGroupSubscribeRoundTrip(t *testing.T) {
	s := testGroupSubscribe(t)
	body := AppendSubscribe(nil, &s)
	assert.Contains(t, string(body), `"pubkey":"03`)
	assert.Contains(t, string(body), `"subaccount":"03`)
	assert.NotContains(t, string(body), "session_ed25519")
	// 36-byte token and 64-byte signature in hex, with their keys, on top of a 05 body's fields
	// less session_ed25519 (64 hex digits and its key).
	one := testSubscribe(t)
	one.Service, one.Token, one.Namespaces = s.Service, s.Token, s.Namespaces
	assert.Equal(t, len(AppendSubscribe(nil, &one))-len(`,"session_ed25519":""`)-64+len(`,"subaccount":"","subaccount_sig":""`)+72+128, len(body))
	got, err := ParseSubscribe(body)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	m := got.Monitor()
	require.False(t, m.HasEd25519)
	_, merr := m.Check(storagerpc.CheckEnv{Now: timeOf(1_700_000_000), Suite: testSigner(t).Suite})
	require.Nil(t, merr)
	m.Signature[0] ^= 1
	_, merr = m.Verify(testSigner(t).Suite)
	require.NotNil(t, merr, "a forged signature fails")

	_, err = ParseSubscribe(bytes.Replace(body, []byte(`"subaccount_sig":"`), []byte(`"subaccount_sig":"00`), 1))
	assert.ErrorIs(t, err, ErrRequest, "a subaccount signature of the wrong size")
}

func FuzzParseSubscribe(f *testing.F) {
	s := testSubscribe(f)
	f.Add(AppendSubscribe(nil, &s))
	gs := testGroupSubscribe(f)
	f.Add(AppendSubscribe(nil, &gs))
	f.Add(AppendUnsubscribe(nil, &gs))
	f.Add(AppendUnsubscribe(nil, &s))
	f.Add([]byte(`{"pubkey":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseSubscribe(body)
		if err != nil {
			require.True(t, errors.Is(err, ErrRequest))
			return
		}
		again, err := ParseSubscribe(AppendSubscribe(nil, &got))
		require.NoError(t, err)
		assert.Equal(t, got, again)
		_, _ = ParseUnsubscribe(body)
		_, _ = ParseResult(body)
	})
}

func FuzzOpen(f *testing.F) {
	var key [32]byte
	p := Payload{Hash: "x", Account: testSigner(f).Account}
	sealed, err := Seal(&p, key, actor.RandReader(rand.New(rand.NewPCG(3, 4))))
	require.NoError(f, err)
	f.Add(sealed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Open(b, key); err != nil {
			require.ErrorIs(t, err, ErrPayload)
		}
	})
}

// A notification reads back as the wake-up it was made from, for either service; anything else
// is refused.
func TestNotificationRoundTrip(t *testing.T) {
	sealed := bytes.Repeat([]byte{0xfe, 0x01}, 200)
	for _, tc := range []struct {
		name string
		body []byte
		want Wake
		err  string
	}{
		{"apns", Notification(ServiceAPNs, sealed), Wake{Service: ServiceAPNs, Sealed: sealed}, ""},
		{"firebase", Notification(ServiceFirebase, sealed), Wake{Service: ServiceFirebase, Sealed: sealed}, ""},
		{"not json", []byte("{"), Wake{}, "unexpected end"},
		{"neither", []byte(`{"enc_payload":"AA=="}`), Wake{}, "neither an APNs"},
		{"both", []byte(`{"aps":{},"data":{"enc_payload":"AA=="}}`), Wake{}, "neither an APNs"},
		{"no payload", []byte(`{"aps":{},"spns":1}`), Wake{}, "no enc_payload"},
		{"firebase payload at the top", []byte(`{"data":{},"enc_payload":"AA=="}`), Wake{}, "neither an APNs"},
		{"not base64", []byte(`{"data":{"enc_payload":"*"}}`), Wake{}, "not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNotification(tc.body)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrNotification)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add(Notification(ServiceAPNs, []byte("sealed")))
	f.Add(Notification(ServiceFirebase, []byte{}))
	f.Add([]byte(`{"aps":null,"enc_payload":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseNotification(b)
		if err != nil {
			require.ErrorIs(t, err, ErrNotification)
			return
		}
		again, err := ParseNotification(Notification(w.Service, w.Sealed))
		require.NoError(t, err)
		assert.Equal(t, w.Service, again.Service)
		assert.Equal(t, string(w.Sealed), string(again.Sealed))
	})
}

func timeOf(sec int64) time.Time { return time.Unix(sec, 0) }
