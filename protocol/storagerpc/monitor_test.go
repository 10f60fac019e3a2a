package storagerpc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func signedMonitor(t testing.TB, s *Signer, ts int64, data bool, ns ...Namespace) Monitor {
	t.Helper()
	m := Monitor{Data: data, Namespaces: ns}
	m.Sign(s, ts)
	return m
}

func TestMonitorSigMessage(t *testing.T) {
	acct := Pubkey{Prefix: PrefixSessionID}
	for i := range acct.Key {
		acct.Key[i] = 0xab
	}
	got := MonitorSigMessage(acct, 1677520760, true, []Namespace{-400, 0, 1, 2, 17})
	assert.Equal(t, "MONITOR05"+strings.Repeat("ab", 32)+"16775207601-400,0,1,2,17", string(got))
	got = MonitorSigMessage(acct, 5, false, []Namespace{0})
	assert.Equal(t, "MONITOR05"+strings.Repeat("ab", 32)+"500", string(got))
}

func TestMonitorEncoding(t *testing.T) {
	alice := newUser(t, 1)
	m := signedMonitor(t, alice.signer(realSuite()), 1677520760, true, 0, 5)
	got := AppendMonitor(nil, &m)
	want := "d1:P32:" + string(alice.key[32:]) + "1:di1e1:nli0ei5ee1:s64:" + string(m.Signature[:]) + "1:ti1677520760ee"
	assert.Equal(t, want, string(got))

	g := newGroup(3)
	gm := signedMonitor(t, g.signer(realSuite()), 1677520760, false, 11)
	raw := g.id.raw()
	want = "d1:nli11ee1:p33:" + string(raw[:]) + "1:s64:" + string(gm.Signature[:]) + "1:ti1677520760ee"
	assert.Equal(t, want, string(AppendMonitor(nil, &gm)))
}

func TestMonitorRoundTrip(t *testing.T) {
	now := testNow
	ts := now.Unix()
	for _, suite := range []struct {
		name string
		s    func() Signer
	}{
		{"real", func() Signer { return *newUser(t, 1).signer(realSuite()) }},
		{"modeled", func() Signer { return *newUser(t, 1).signer(modeledSuite()) }},
		{"group", func() Signer { return *newGroup(9).signer(realSuite()) }},
	} {
		t.Run(suite.name, func(t *testing.T) {
			s := suite.s()
			ms := []Monitor{signedMonitor(t, &s, ts, true, 0), signedMonitor(t, &s, ts-3600, false, -10, 0, 2, 5)}
			body := AppendMonitorList(nil, ms)
			entries, list, err := ParseMonitorRequest(body)
			require.NoError(t, err)
			require.True(t, list)
			require.Len(t, entries, 2)
			for i, e := range entries {
				require.Nil(t, e.Err)
				cost, merr := e.Monitor.Check(CheckEnv{Now: now, Suite: s.Suite})
				require.Nil(t, merr, "entry %d", i)
				assert.Positive(t, cost)
				assert.Equal(t, s.Account, e.Monitor.Account)
				assert.Equal(t, ms[i].Namespaces, e.Monitor.Namespaces)
				assert.Equal(t, ms[i].Data, e.Monitor.Data)
				assert.Equal(t, body, AppendMonitorList(nil, []Monitor{entries[0].Monitor, entries[1].Monitor}))
			}
			single := AppendMonitor(nil, &ms[0])
			entries, list, err = ParseMonitorRequest(single)
			require.NoError(t, err)
			assert.False(t, list)
			require.Len(t, entries, 1)
		})
	}
}

func TestMonitorRefusals(t *testing.T) {
	alice, bob := newUser(t, 1), newUser(t, 2)
	now := testNow
	ts := now.Unix()
	good := signedMonitor(t, alice.signer(realSuite()), ts, false, 0)
	forged := good
	forged.Signature[0] ^= 1
	stolen := signedMonitor(t, bob.signer(realSuite()), ts, false, 0)
	stolen.Ed25519 = good.Ed25519 // bob's signature presented for alice's key
	old := signedMonitor(t, alice.signer(realSuite()), now.Add(-MonitorMaxAge-time.Second).Unix(), false, 0)
	ahead := signedMonitor(t, alice.signer(realSuite()), now.Add(MonitorMaxAhead+time.Second).Unix(), false, 0)
	oldest := signedMonitor(t, alice.signer(realSuite()), now.Add(-MonitorMaxAge).Unix(), false, 0)
	tests := []struct {
		name  string
		body  []byte
		whole bool // refused as a whole
		code  MonitorCode
		text  string
	}{
		{name: "good", body: AppendMonitor(nil, &good)},
		{name: "14 days old still valid", body: AppendMonitor(nil, &oldest)},
		{name: "forged", body: AppendMonitor(nil, &forged), code: MonitorBadSig, text: "Signature verification failed"},
		{name: "someone else's signature", body: AppendMonitor(nil, &stolen), code: MonitorBadSig},
		{name: "too old", body: AppendMonitor(nil, &old), code: MonitorBadTS, text: "too old"},
		{name: "ahead", body: AppendMonitor(nil, &ahead), code: MonitorBadTS, text: "in the future"},
		{name: "namespaces not ascending", body: []byte("d1:P32:" + strings.Repeat("a", 32) + "1:nli5ei0ee1:s64:" + strings.Repeat("s", 64) + "1:ti1ee"), code: MonitorBadNS},
		{name: "no namespaces", body: []byte("d1:P32:" + strings.Repeat("a", 32) + "1:s64:" + strings.Repeat("s", 64) + "1:ti1ee"), code: MonitorBadArgs},
		{name: "no pubkey", body: []byte("d1:nli0ee1:s64:" + strings.Repeat("s", 64) + "1:ti1ee"), code: MonitorBadArgs, text: "Either p= or P="},
		{name: "short P", body: []byte("d1:P3:abc1:nli0ee1:s64:" + strings.Repeat("s", 64) + "1:ti1ee"), code: MonitorBadPubkey},
		{name: "short signature", body: []byte("d1:P32:" + strings.Repeat("a", 32) + "1:nli0ee1:s3:abc1:ti1ee"), code: MonitorBadSig},
		{name: "no timestamp", body: []byte("d1:P32:" + strings.Repeat("a", 32) + "1:nli0ee1:s64:" + strings.Repeat("s", 64) + "e"), code: MonitorBadArgs},
		{name: "not bencode", body: []byte(`{"pubkey":"05"}`), whole: true},
		{name: "list of integers", body: []byte("li1ee"), whole: true},
		{name: "trailing bytes", body: []byte("dee"), whole: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, _, err := ParseMonitorRequest(tc.body)
			if tc.whole {
				require.ErrorIs(t, err, ErrMonitorRequest)
				return
			}
			require.NoError(t, err)
			require.Len(t, entries, 1)
			merr := entries[0].Err
			if merr == nil {
				_, merr = entries[0].Monitor.Check(CheckEnv{Now: now, Suite: realSuite()})
			}
			if tc.code == 0 {
				assert.Nil(t, merr)
				return
			}
			require.NotNil(t, merr)
			assert.Equal(t, tc.code, merr.Code)
			assert.Contains(t, merr.Text, tc.text)
		})
	}
}

func TestMonitorReply(t *testing.T) {
	got := AppendMonitorReply(nil, true, []*MonitorError{nil, {Code: MonitorBadSig, Text: "Signature verification failed"}})
	assert.Equal(t, "ld7:successi1eed7:errcodei5e5:error29:Signature verification failedee", string(got))
	assert.Equal(t, "d7:successi1ee", string(AppendMonitorReply(nil, false, []*MonitorError{nil})))
}

func TestNotificationRoundTrip(t *testing.T) {
	alice := newUser(t, 1)
	for _, n := range []Notification{
		{Account: alice.id, Hash: vectorHash, Namespace: 0, Timestamp: nowMs, Expiry: nowMs + 1_209_600_000},
		{Account: alice.id, Hash: vectorHash, Namespace: -32768, Timestamp: nowMs, Expiry: nowMs, Data: []byte("payload"), HasData: true},
	} {
		b := AppendNotification(nil, &n)
		got, err := ParseNotification(b)
		require.NoError(t, err)
		assert.Equal(t, n, got)
		assert.True(t, bytes.HasPrefix(b, []byte("d1:@33:\x05")))
	}
	for _, bad := range []string{"", "de", "d1:@3:abce", "li1ee", "d1:@33:" + strings.Repeat("a", 33) + "1:h3:abce"} {
		_, err := ParseNotification([]byte(bad))
		assert.True(t, errors.Is(err, ErrNotification), "%q", bad)
	}
}

func FuzzParseMonitorRequest(f *testing.F) {
	alice := newUser(f, 1)
	m := signedMonitor(f, alice.signer(realSuite()), nowMs/1000, true, 0, 2)
	f.Add(AppendMonitor(nil, &m))
	f.Add(AppendMonitorList(nil, []Monitor{m, m}))
	f.Add([]byte("le"))
	f.Add([]byte("d1:nli0ee1:p33:" + strings.Repeat("\x03", 33) + "1:s64:" + strings.Repeat("s", 64) + "1:ti1ee"))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, list, err := ParseMonitorRequest(body)
		if err != nil {
			require.ErrorIs(t, err, ErrMonitorRequest)
			return
		}
		for _, e := range entries {
			if e.Err != nil {
				continue
			}
			// A parsed subscription encodes back to a body that parses to the same.
			again, _, err := ParseMonitorRequest(AppendMonitor(nil, &e.Monitor))
			require.NoError(t, err)
			require.Len(t, again, 1)
			require.Nil(t, again[0].Err)
			assert.Equal(t, e.Monitor, again[0].Monitor)
			_, _ = e.Monitor.Check(CheckEnv{Now: testNow, Suite: modeledSuite()})
		}
		_ = list
	})
}

func FuzzParseNotification(f *testing.F) {
	alice := newUser(f, 1)
	n := Notification{Account: alice.id, Hash: vectorHash, Timestamp: nowMs, Expiry: nowMs, Data: []byte("x"), HasData: true}
	f.Add(AppendNotification(nil, &n))
	f.Add([]byte("d1:@33:" + strings.Repeat("a", 33) + "e"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseNotification(body)
		if err != nil {
			require.ErrorIs(t, err, ErrNotification)
			return
		}
		again, err := ParseNotification(AppendNotification(nil, &got))
		require.NoError(t, err)
		assert.Equal(t, got, again)
	})
}
