package storagerpc

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type checkCase struct {
	name   string
	req    func(s cryptomode.Suite) Request
	env    func(e *CheckEnv)
	status int // 0: accepted
	text   string
}

// runCheckCases sends each request through the wire (encode, parse) and checks it, in both crypto
// modes: the outcome must not depend on the mode.
func runCheckCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		suite := cryptomode.New(mode, cryptomode.DefaultCosts)
		for _, tc := range cases {
			t.Run(mode.String()+"/"+tc.name, func(t *testing.T) {
				parsed, err := ParseRequest(EncodeRequest(tc.req(suite)))
				require.NoError(t, err)
				env := CheckEnv{Now: testNow, Suite: suite}
				if tc.env != nil {
					tc.env(&env)
				}
				cost, err := parsed.Check(env)
				assert.GreaterOrEqual(t, cost, time.Duration(0))
				if tc.status == 0 {
					assert.NoError(t, err)
					return
				}
				var e *Error
				require.True(t, errors.As(err, &e), "want refusal %d, got %v", tc.status, err)
				assert.Equal(t, tc.status, e.Status)
				assert.Equal(t, tc.text, e.Text)
			})
		}
	}
}

func TestCheckStore(t *testing.T) {
	alice, bob := newUser(t, 1), newUser(t, 2)
	day := 24 * time.Hour
	signed := func(s cryptomode.Suite, ns Namespace, ts int64, ttl time.Duration, by testUser) *Store {
		r := NewStore(alice.id, ns, ts, ttl, []byte("config"))
		r.Sign(by.signer(s))
		return r
	}
	runCheckCases(t, []checkCase{
		{name: "public inbox unsigned", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs, 14*day, []byte("hi"))
		}},
		{name: "ttl too short", status: http.StatusForbidden, text: "Provided expiry/TTL is not valid.", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs, 9*time.Second, []byte("hi"))
		}},
		{name: "ttl at minimum", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs, 10*time.Second, []byte("hi"))
		}},
		{name: "public ttl over 14 days", status: http.StatusForbidden, text: "Provided expiry/TTL is not valid.", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs, 14*day+time.Millisecond, []byte("hi"))
		}},
		{name: "private ttl 30 days", req: func(s cryptomode.Suite) Request { return signed(s, NamespaceUserProfile, nowMs, 30*day, alice) }},
		{name: "private ttl over 30 days", status: http.StatusForbidden, text: "Provided expiry/TTL is not valid.", req: func(s cryptomode.Suite) Request {
			return signed(s, NamespaceUserProfile, nowMs, 30*day+time.Millisecond, alice)
		}},
		{name: "timestamp ahead", status: http.StatusNotAcceptable, text: "Timestamp error: check your clock", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs+10_001, day, []byte("hi"))
		}},
		{name: "timestamp 10s ahead ok", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs+10_000, day, []byte("hi"))
		}},
		{name: "already expired", status: http.StatusNotAcceptable, text: "Timestamp error: check your clock", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceDefault, nowMs-60_000, 49*time.Second, []byte("hi"))
		}},
		{name: "private unsigned", status: http.StatusUnauthorized, text: "store: signature required to store to namespace 3", req: func(cryptomode.Suite) Request {
			return NewStore(alice.id, NamespaceContacts, nowMs, day, []byte("hi"))
		}},
		{name: "private signed", req: func(s cryptomode.Suite) Request { return signed(s, NamespaceContacts, nowMs, day, alice) }},
		{name: "private signed by someone else", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			return signed(s, NamespaceContacts, nowMs, day, bob)
		}},
		{name: "signature timestamp old", status: http.StatusNotAcceptable, text: "store signature timestamp too far from current time", req: func(s cryptomode.Suite) Request {
			r := signed(s, NamespaceContacts, nowMs-61_000, day, alice)
			return r
		}},
		{name: "tampered data keeps signature valid (not signed)", req: func(s cryptomode.Suite) Request {
			r := signed(s, NamespaceContacts, nowMs, day, alice)
			r.Data = []byte("other")
			return r
		}},
		{name: "tampered namespace", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := signed(s, NamespaceContacts, nowMs, day, alice)
			r.Namespace = NamespaceUserGroups
			return r
		}},
		{name: "public inbox signature not checked", req: func(s cryptomode.Suite) Request {
			r := signed(s, NamespaceDefault, nowMs, day, bob)
			return r
		}},
		{name: "ed25519 key of another account", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := NewStore(alice.id, NamespaceContacts, nowMs, day, []byte("x"))
			sg := bob.signer(s)
			sg.Account = alice.id
			r.Sign(sg)
			return r
		}},
		{name: "05 without pubkey_ed25519", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := signed(s, NamespaceContacts, nowMs, day, alice)
			r.Auth.HasEd25519 = false
			return r
		}},
	})
}

func TestCheckRetrieve(t *testing.T) {
	alice, bob := newUser(t, 1), newUser(t, 2)
	sign := func(s cryptomode.Suite, ns Namespace, ts int64, by testUser) *Retrieve {
		r := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: ns}
		sg := by.signer(s)
		sg.Account = alice.id
		r.Sign(sg, ts)
		return r
	}
	runCheckCases(t, []checkCase{
		{name: "signed", req: func(s cryptomode.Suite) Request { return sign(s, 0, nowMs, alice) }},
		{name: "signed config", req: func(s cryptomode.Suite) Request { return sign(s, NamespaceConvoInfoVolatile, nowMs+59_000, alice) }},
		{name: "unsigned", status: http.StatusUnauthorized, text: "retrieve: request signature required", req: func(cryptomode.Suite) Request {
			return &rawRequest{method: "retrieve", params: `{"pubkey":"` + alice.id.Hex() + `"}`}
		}},
		{name: "legacy group unsigned", req: func(cryptomode.Suite) Request {
			return &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: NamespaceLegacyClosedGroup}
		}},
		{name: "skewed", status: http.StatusNotAcceptable, text: "retrieve timestamp too far from current time", req: func(s cryptomode.Suite) Request {
			return sign(s, 0, nowMs+61_000, alice)
		}},
		{name: "wrong signer", status: http.StatusUnauthorized, text: "retrieve signature verification failed", req: func(s cryptomode.Suite) Request {
			return sign(s, 0, nowMs, bob)
		}},
		{name: "signed for another namespace", status: http.StatusUnauthorized, text: "retrieve signature verification failed", req: func(s cryptomode.Suite) Request {
			r := sign(s, 2, nowMs, alice)
			r.Namespace = 3
			return r
		}},
	})
}

func TestCheckGroupAndSubaccount(t *testing.T) {
	group := newGroup(7)
	member := newUser(t, 9)
	var memberEd [32]byte
	copy(memberEd[:], member.key[32:])
	token := func(s cryptomode.Suite, access Access, prefix byte) *Subaccount {
		sa := &Subaccount{Token: NewSubaccountToken(prefix, access, memberEd)}
		sig, _ := s.Sign(group.key, sa.Token[:])
		copy(sa.Signature[:], sig)
		return sa
	}
	memberSigner := func(s cryptomode.Suite, sa *Subaccount) *Signer {
		return &Signer{Suite: s, Account: group.id, Key: member.key, Subaccount: sa}
	}
	day := 24 * time.Hour
	runCheckCases(t, []checkCase{
		{name: "admin store", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, NamespaceGroupInfo, nowMs, day, []byte("info"))
			r.Sign(group.signer(s))
			return r
		}},
		{name: "member store with write token", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, NamespaceGroupMessages, nowMs, day, []byte("msg"))
			r.Sign(memberSigner(s, token(s, AccessRead|AccessWrite, PrefixGroup)))
			return r
		}},
		{name: "member store with read-only token", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, NamespaceGroupMessages, nowMs, day, []byte("msg"))
			r.Sign(memberSigner(s, token(s, AccessRead, PrefixGroup)))
			return r
		}},
		{name: "token for another prefix", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, NamespaceGroupMessages, nowMs, day, []byte("msg"))
			r.Sign(memberSigner(s, token(s, AccessWrite, PrefixSessionID)))
			return r
		}},
		{name: "any-prefix token", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, NamespaceGroupMessages, nowMs, day, []byte("msg"))
			r.Sign(memberSigner(s, token(s, AccessWrite|AccessAnyPrefix, PrefixSessionID)))
			return r
		}},
		{name: "revoked token", status: http.StatusUnauthorized, text: "retrieve signature verification failed",
			env: func(e *CheckEnv) { e.Revoked = func(Pubkey, [SubaccountTokenLen]byte) bool { return true } },
			req: func(s cryptomode.Suite) Request {
				r := &Retrieve{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: NamespaceGroupMessages}
				r.Sign(memberSigner(s, token(s, AccessRead, PrefixGroup)), nowMs)
				return r
			}},
		{name: "revoked token on unrevocable namespace", env: func(e *CheckEnv) { e.Revoked = func(Pubkey, [SubaccountTokenLen]byte) bool { return true } },
			req: func(s cryptomode.Suite) Request {
				r := &Retrieve{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: -11}
				r.Sign(memberSigner(s, token(s, AccessRead, PrefixGroup)), nowMs)
				return r
			}},
		{name: "token signed by someone else", status: http.StatusUnauthorized, text: "retrieve signature verification failed", req: func(s cryptomode.Suite) Request {
			sa := token(s, AccessRead, PrefixGroup)
			sa.Signature[0] ^= 1
			r := &Retrieve{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: NamespaceGroupMessages}
			r.Sign(memberSigner(s, sa), nowMs)
			return r
		}},
		{name: "outbox store needs delete", status: http.StatusUnauthorized, text: "store signature verification failed", req: func(s cryptomode.Suite) Request {
			r := NewStore(group.id, -1, nowMs, day, []byte("profile"))
			r.Sign(memberSigner(s, token(s, AccessWrite, PrefixGroup)))
			return r
		}},
		{name: "expire shorten without delete", status: http.StatusBadRequest, text: "expire: shorten parameter cannot be used with this subaccount token (missing delete access)", req: func(s cryptomode.Suite) Request {
			r := &Expire{SignedAccount: SignedAccount{Pubkey: group.id}, Messages: []string{phHash}, Expiries: []int64{nowMs + 1000}, Mode: ExpireShorten}
			r.Sign(memberSigner(s, token(s, AccessWrite, PrefixGroup)))
			return r
		}},
	})
}

func TestCheckDeletesAndExpiries(t *testing.T) {
	alice, bob := newUser(t, 1), newUser(t, 2)
	as := func(s cryptomode.Suite, u testUser) *Signer {
		sg := u.signer(s)
		sg.Account = alice.id
		return sg
	}
	runCheckCases(t, []checkCase{
		{name: "delete", req: func(s cryptomode.Suite) Request {
			r := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "delete by another", status: http.StatusUnauthorized, text: "delete_msgs signature verification failed", req: func(s cryptomode.Suite) Request {
			r := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
			r.Sign(as(s, bob))
			return r
		}},
		{name: "delete hashes reordered", status: http.StatusUnauthorized, text: "delete_msgs signature verification failed", req: func(s cryptomode.Suite) Request {
			r := &Delete{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash[:42] + "A"}}
			r.Sign(as(s, alice))
			r.Messages[0], r.Messages[1] = r.Messages[1], r.Messages[0]
			return r
		}},
		{name: "delete_all all", req: func(s cryptomode.Suite) Request {
			r := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}
			r.Sign(as(s, alice), nowMs)
			return r
		}},
		{name: "delete_all skewed", status: http.StatusNotAcceptable, text: "delete_all timestamp too far from current time", req: func(s cryptomode.Suite) Request {
			r := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(2)}
			r.Sign(as(s, alice), nowMs-65_000)
			return r
		}},
		{name: "delete_all skewed but forwarded", env: func(e *CheckEnv) { e.Forwarded = true }, req: func(s cryptomode.Suite) Request {
			r := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(2)}
			r.Sign(as(s, alice), nowMs-65_000)
			return r
		}},
		{name: "delete_all namespace changed", status: http.StatusUnauthorized, text: "delete_all signature verification failed", req: func(s cryptomode.Suite) Request {
			r := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: OneNamespace(0)}
			r.Sign(as(s, alice), nowMs)
			r.Namespace = AllNamespaces
			return r
		}},
		{name: "delete_before", req: func(s cryptomode.Suite) Request {
			r := &DeleteBefore{SignedAccount: SignedAccount{Pubkey: alice.id}, Before: nowMs + 59_000}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "delete_before future", status: http.StatusUnauthorized, text: "delete_before timestamp too far in the future", req: func(s cryptomode.Suite) Request {
			r := &DeleteBefore{SignedAccount: SignedAccount{Pubkey: alice.id}, Before: nowMs + 61_000}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "expire_all", req: func(s cryptomode.Suite) Request {
			r := &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces, Expiry: nowMs + 3600_000}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "expire_all past", status: http.StatusNotAcceptable, text: "expire_all timestamp should be >= current time", req: func(s cryptomode.Suite) Request {
			r := &ExpireAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Expiry: nowMs - 61_000}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "expire extend", req: func(s cryptomode.Suite) Request {
			r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}, Expiries: []int64{nowMs + 86400_000}, Mode: ExpireExtend}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "expire mode dropped", status: http.StatusUnauthorized, text: "expire: signature verification failed", req: func(s cryptomode.Suite) Request {
			r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}, Expiries: []int64{nowMs + 86400_000}, Mode: ExpireExtend}
			r.Sign(as(s, alice))
			r.Mode = ExpireSet
			return r
		}},
		{name: "expire past", status: http.StatusUnauthorized, text: "expire: timestamp should be >= current time", req: func(s cryptomode.Suite) Request {
			r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}, Expiries: []int64{nowMs - 61_000}}
			r.Sign(as(s, alice))
			return r
		}},
		{name: "expire multi refused before the fork", status: http.StatusForbidden, text: "expire: multi-expiry requests are not yet active on the network",
			env: func(e *CheckEnv) { e.NoMultiExpiry = true },
			req: func(s cryptomode.Suite) Request {
				r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs + 1000, nowMs + 2000}}
				r.Sign(as(s, alice))
				return r
			}},
		{name: "get_expiries", req: func(s cryptomode.Suite) Request {
			r := &GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
			r.Sign(as(s, alice), nowMs)
			return r
		}},
		{name: "get_expiries skewed", status: http.StatusNotAcceptable, text: "get_expiries timestamp too far from current time", req: func(s cryptomode.Suite) Request {
			r := &GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
			r.Sign(as(s, alice), nowMs+70_000)
			return r
		}},
		{name: "get_expiries wrong signer", status: http.StatusUnauthorized, text: "get_expiries signature verification failed", req: func(s cryptomode.Suite) Request {
			r := &GetExpiries{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash}}
			r.Sign(as(s, bob), nowMs)
			return r
		}},
	})
}

func TestCheckCostsAreModeIndependent(t *testing.T) {
	alice := newUser(t, 1)
	var costs []time.Duration
	for _, s := range []cryptomode.Suite{realSuite(), modeledSuite()} {
		r := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
		signCost := r.Sign(alice.signer(s))
		assert.Equal(t, cryptomode.DefaultCosts.Ed25519Sign, signCost)
		cost, err := r.Check(CheckEnv{Now: testNow, Suite: s})
		require.NoError(t, err)
		costs = append(costs, cost)
	}
	// The 05 key conversion is charged as one scalar multiplication, then the verification.
	assert.Equal(t, cryptomode.DefaultCosts.X25519+cryptomode.DefaultCosts.Ed25519Verify, costs[0])
	assert.Equal(t, costs[0], costs[1])

	// A group account has no conversion; a subaccount adds a second verification.
	group := newGroup(3)
	g := NewStore(group.id, NamespaceGroupInfo, nowMs, time.Hour, []byte("x"))
	g.Sign(group.signer(realSuite()))
	cost, err := g.Check(CheckEnv{Now: testNow, Suite: realSuite()})
	require.NoError(t, err)
	assert.Equal(t, cryptomode.DefaultCosts.Ed25519Verify, cost)
}

// A memoizing conversion, as a node passes, gives the same answers and costs.
func TestCheckCachedConversion(t *testing.T) {
	alice, bob := newUser(t, 1), newUser(t, 2)
	convert := identity.NewX25519Memo().Convert
	var a [32]byte
	copy(a[:], alice.key[32:])
	for range 2 {
		x, err := convert(a)
		require.NoError(t, err)
		assert.Equal(t, alice.id.Key, x)
	}
	for range 2 {
		_, err := convert(notAPoint(t))
		assert.Error(t, err)
	}

	r := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
	r.Sign(alice.signer(realSuite()))
	for range 2 {
		cost, err := r.Check(CheckEnv{Now: testNow, Suite: realSuite(), ConvertKey: convert})
		require.NoError(t, err)
		assert.Equal(t, cryptomode.DefaultCosts.X25519+cryptomode.DefaultCosts.Ed25519Verify, cost)
	}
	r.Pubkey = bob.id
	_, err := r.Check(CheckEnv{Now: testNow, Suite: realSuite(), ConvertKey: convert})
	assert.Equal(t, http.StatusUnauthorized, StatusOf(err))
}

func TestExpireApply(t *testing.T) {
	r := &Expire{Expiries: []int64{nowMs + 1000, nowMs + 40*86400_000}, Mode: ExpireSet}
	exp, extendOnly := r.Apply(testNow)
	assert.Equal(t, []int64{nowMs + 1000, testNow.Add(TTLMaxPrivate).UnixMilli()}, exp)
	assert.False(t, extendOnly)
	r.Auth.Subaccount = &Subaccount{Token: NewSubaccountToken(PrefixGroup, AccessWrite, [32]byte{})}
	_, extendOnly = r.Apply(testNow)
	assert.True(t, extendOnly)
}

func TestRetrieveBudget(t *testing.T) {
	type msg struct{ hash, data int }
	small := msg{HashLen, 100} // costs 100+43+133 = 276
	for _, tc := range []struct {
		name     string
		maxCount int
		maxSize  int
		msgs     []msg
		taken    int
		more     bool
	}{
		{name: "default is a fifth", msgs: repeatMsg(msg{HashLen, 76800}, 100), taken: 15, more: true},
		{name: "all small fit", msgs: repeatMsg(small, 10), taken: 10, more: false},
		{name: "max_count", maxCount: 3, msgs: repeatMsg(small, 10), taken: 3, more: true},
		{name: "max_count exact", maxCount: 10, msgs: repeatMsg(small, 10), taken: 10, more: false},
		{name: "max_size bytes", maxSize: 600, msgs: repeatMsg(small, 10), taken: 2, more: true},
		{name: "at least one", maxSize: 10, msgs: repeatMsg(small, 3), taken: 1, more: true},
		{name: "max_size -1 is all of it", maxSize: -1, msgs: repeatMsg(msg{HashLen, 76800}, 100), taken: 76, more: true},
		{name: "max_size capped", maxSize: 1 << 30, msgs: repeatMsg(msg{HashLen, 76800}, 100), taken: 76, more: true},
		{name: "max_size -10 is a tenth", maxSize: -10, msgs: repeatMsg(msg{HashLen, 76800}, 100), taken: 7, more: true},
		{name: "a fraction below a byte still returns one", maxSize: -10_000_000, msgs: repeatMsg(small, 3), taken: 1, more: true},
		{name: "max_count -1 returns nothing", maxCount: -1, msgs: repeatMsg(small, 3), taken: 0, more: false},
		{name: "max_count -2 is unlimited", maxCount: -2, msgs: repeatMsg(small, 3), taken: 3, more: false},
		{name: "empty", msgs: nil, taken: 0, more: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := (&Retrieve{MaxCount: tc.maxCount, MaxSize: tc.maxSize}).Budget()
			taken, more := 0, false
			for _, m := range tc.msgs {
				ok, mo := b.Next(m.hash, m.data)
				if !ok {
					more = mo
					break
				}
				taken++
			}
			assert.Equal(t, tc.taken, taken)
			assert.Equal(t, tc.more, more)
		})
	}
	assert.Equal(t, int64(1_560_000), (&Retrieve{}).Budget().MaxSize())
}

func repeatMsg[T any](m T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = m
	}
	return out
}

// rawRequest sends hand-written params, for requests the builders would not produce.
type rawRequest struct{ method, params string }

func (r *rawRequest) Method() string                        { return r.method }
func (r *rawRequest) Check(CheckEnv) (time.Duration, error) { return 0, nil }
func (r *rawRequest) writeParams(w jsonWriter) jsonWriter {
	w.lit(r.params)
	return w
}

// countingSuite counts the signature verifications a suite performs.
type countingSuite struct {
	cryptomode.Suite
	verifies *int
}

func (s countingSuite) Verify(pub, msg, sig []byte) (bool, time.Duration) {
	*s.verifies++
	return s.Suite.Verify(pub, msg, sig)
}

// A signature's memo, recorded where it verified, lets another check of the same request skip
// the verification (and the key conversion) and charge exactly what it charged.
func TestCheckVerifiedMemo(t *testing.T) {
	alice := newUser(t, 1)
	group, member := newGroup(7), newUser(t, 9)
	var memberEd [32]byte
	copy(memberEd[:], member.key[32:])
	hashes := []string{phHash, phHash + "x"}
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		base := cryptomode.New(mode, cryptomode.DefaultCosts)
		sa, _ := SignSubaccount(base, group.key, AccessWrite|AccessDelete, memberEd)
		memberSigner := &Signer{Suite: base, Account: group.id, Key: member.key, Subaccount: sa}
		for _, tc := range []struct {
			name string
			req  Request
		}{
			{"05 store", func() Request {
				r := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
				r.Sign(alice.signer(base))
				return r
			}()},
			{"05 retrieve", func() Request {
				r := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: NamespaceUserProfile}
				r.Sign(alice.signer(base), nowMs)
				return r
			}()},
			{"05 expire", func() Request {
				r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: hashes, Expiries: []int64{nowMs + 60_000}, Mode: ExpireExtend}
				r.Sign(alice.signer(base))
				return r
			}()},
			{"group admin delete", func() Request {
				r := &Delete{SignedAccount: SignedAccount{Pubkey: group.id}, Messages: hashes}
				r.Sign(group.signer(base))
				return r
			}()},
			{"group member expire with subaccount", func() Request {
				r := &Expire{SignedAccount: SignedAccount{Pubkey: group.id}, Messages: hashes, Expiries: []int64{nowMs + 60_000}, Mode: ExpireShorten}
				r.Sign(memberSigner)
				return r
			}()},
			{"05 delete_all", func() Request {
				r := &DeleteAll{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: AllNamespaces}
				r.Sign(alice.signer(base), nowMs)
				return r
			}()},
		} {
			t.Run(mode.String()+"/"+tc.name, func(t *testing.T) {
				verifies, conversions := 0, 0
				suite := countingSuite{Suite: base, verifies: &verifies}
				convert := func(ed [32]byte) ([32]byte, error) {
					conversions++
					return ed25519ToX25519(ed)
				}
				var memo Verified
				want, err := tc.req.Check(CheckEnv{Now: testNow, Suite: suite, ConvertKey: convert, Record: &memo})
				require.NoError(t, err)
				require.Positive(t, verifies)
				require.Positive(t, want)

				verifies, conversions = 0, 0
				got, err := tc.req.Check(CheckEnv{Now: testNow, Suite: suite, ConvertKey: convert, Forwarded: true, Verified: &memo})
				require.NoError(t, err)
				assert.Equal(t, want, got, "the same CPU time is charged")
				assert.Zero(t, verifies, "no verification")
				assert.Zero(t, conversions, "no key conversion")

				// Where the memo does not apply, the check verifies again.
				slower := cryptomode.DefaultCosts
				slower.Ed25519Verify *= 2
				other := cryptomode.Real
				if mode == cryptomode.Real {
					other = cryptomode.Modeled
				}
				// A memo like the one recorded, but not marked as a verification that passed.
				notOK := memo
				notOK.ok = false
				// The same request as another object: a memo speaks for the object it was
				// recorded for only.
				copied := reflect.New(reflect.TypeOf(tc.req).Elem())
				copied.Elem().Set(reflect.ValueOf(tc.req).Elem())
				for _, c := range []struct {
					name string
					env  CheckEnv
					req  Request
				}{
					{"no memo", CheckEnv{}, nil},
					{"an empty memo", CheckEnv{Verified: &Verified{}}, nil},
					{"a memo not marked verified", CheckEnv{Verified: &notOK}, nil},
					{"a copy of the request", CheckEnv{Verified: &memo}, copied.Interface().(Request)},
					{"other costs", CheckEnv{Verified: &memo, Suite: countingSuite{Suite: cryptomode.New(mode, slower), verifies: &verifies}}, nil},
					{"other mode", CheckEnv{Verified: &memo, Suite: countingSuite{Suite: cryptomode.New(other, cryptomode.DefaultCosts), verifies: &verifies}}, nil},
					{"revocations consulted", CheckEnv{Verified: &memo, Revoked: func(Pubkey, [SubaccountTokenLen]byte) bool { return false }}, nil},
				} {
					env := c.env
					env.Now, env.Forwarded = testNow, true
					if env.Suite == nil {
						env.Suite = suite
					}
					req := tc.req
					if c.req != nil {
						req = c.req
					}
					verifies = 0
					_, err := req.Check(env)
					if c.name == "other mode" {
						// A signature made in one mode does not verify in the other.
						assert.Error(t, err, c.name)
					} else {
						assert.NoError(t, err, c.name)
					}
					assert.Positive(t, verifies, c.name)
				}
			})
		}
	}

	t.Run("a signature that fails records nothing", func(t *testing.T) {
		r := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: hashes, Expiries: []int64{nowMs + 60_000}}
		r.Sign(newUser(t, 2).signer(realSuite()))
		memo := Verified{}
		_, err := r.Check(CheckEnv{Now: testNow, Suite: realSuite(), Record: &memo})
		assert.Equal(t, http.StatusUnauthorized, StatusOf(err))
		assert.Equal(t, Verified{}, memo)
		_, err = r.Check(CheckEnv{Now: testNow, Suite: realSuite(), Verified: &memo})
		assert.Equal(t, http.StatusUnauthorized, StatusOf(err))
	})

	t.Run("a memo does not pass another request", func(t *testing.T) {
		signed := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
		signed.Sign(alice.signer(realSuite()))
		var memo Verified
		_, err := signed.Check(CheckEnv{Now: testNow, Suite: realSuite(), Record: &memo})
		require.NoError(t, err)
		// Another store for the same account, signed by someone else: the memo of the first
		// must not vouch for it.
		forged := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("y"))
		forged.Sign(newUser(t, 2).signer(realSuite()))
		forged.Pubkey = alice.id
		_, err = forged.Check(CheckEnv{Now: testNow, Suite: realSuite(), Forwarded: true, Verified: &memo})
		assert.Equal(t, http.StatusUnauthorized, StatusOf(err))
	})

	t.Run("revocations consulted record nothing", func(t *testing.T) {
		r := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, []byte("x"))
		r.Sign(alice.signer(realSuite()))
		memo := Verified{}
		_, err := r.Check(CheckEnv{Now: testNow, Suite: realSuite(), Record: &memo, Revoked: func(Pubkey, [SubaccountTokenLen]byte) bool { return false }})
		require.NoError(t, err)
		assert.Equal(t, Verified{}, memo)
	})
}
