package storagerpc

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
)

type parseCase struct {
	name   string
	body   []byte
	text   string // "" means the request parses
	field  string
	status int // 0 means 400 when text is set
	check  func(t *testing.T, r Request)
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest(tc.body)
			if tc.text == "" {
				require.NoError(t, err)
				require.NotNil(t, r)
				if tc.check != nil {
					tc.check(t, r)
				}
				return
			}
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "error %v is not an *Error", err)
			status := tc.status
			if status == 0 {
				status = http.StatusBadRequest
			}
			assert.Equal(t, status, e.Status)
			assert.Equal(t, tc.text, e.Text)
			if tc.field != "" {
				assert.Equal(t, tc.field, e.Field)
			}
			assert.Equal(t, status, StatusOf(err))
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "not json", body: []byte(`{"method":`), text: "invalid json"},
		{name: "trailing garbage", body: []byte(`{"method":"info","params":{}} x`), text: "invalid json"},
		{name: "empty", body: nil, text: "invalid json"},
		{name: "array", body: []byte(`[1,2]`), text: "invalid json: no `method` field"},
		{name: "no method", body: []byte(`{"params":{}}`), text: "invalid json: no `method` field"},
		{name: "method not string", body: []byte(`{"method":1,"params":{}}`), text: "invalid json: no `method` field"},
		{name: "no params", body: []byte(`{"method":"info"}`), text: "invalid json: no `params` field"},
		{name: "params array", body: []byte(`{"method":"info","params":[]}`), text: "invalid json: no `params` field"},
		{name: "unknown method", body: []byte(`{"method":"frobnicate","params":{}}`), text: "no method frobnicate", field: "method"},
		{name: "info", body: []byte(` {"jsonrpc":"2.0", "method" : "info", "params":{"x":[1,{"y":null}]}} `), check: func(t *testing.T, r Request) {
			assert.IsType(t, &Info{}, r)
		}},
		{name: "repeated key keeps last", body: []byte(`{"method":"nope","method":"info","params":{}}`), check: func(t *testing.T, r Request) {
			assert.IsType(t, &Info{}, r)
		}},
		{name: "escaped method", body: []byte(`{"method":"in\u0066o","params":{}}`), check: func(t *testing.T, r Request) {
			assert.IsType(t, &Info{}, r)
		}},
		{name: "invalid utf8", body: []byte("{\"method\":\"info\",\"params\":{\"x\":\"\xff\"}}"), text: "invalid json"},
		{name: "lone surrogate", body: []byte(`{"method":"info","params":{"x":"\ud800"}}`), text: "invalid json"},
		{name: "surrogate pair", body: []byte(`{"method":"info","params":{"x":"\ud83d\ude00"}}`)},
		{name: "raw control char", body: []byte("{\"method\":\"info\",\"params\":{\"x\":\"a\tb\"}}"), text: "invalid json"},
		{name: "bad number", body: []byte(`{"method":"info","params":{"x":01}}`), text: "invalid json"},
		{name: "deep nesting", body: []byte(`{"method":"info","params":{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}}`), text: "invalid json"},
	})
}

func TestParseStore(t *testing.T) {
	data := "YWJjIDEyMw==" // "abc 123"
	runParseCases(t, []parseCase{
		{name: "desktop 1:1", body: body("store", `"pubkey":"PK","timestamp":NOW,"namespace":0,"ttl":1209600000,"data":"`+data+`"`), check: func(t *testing.T, r Request) {
			s := r.(*Store)
			assert.Equal(t, MustParsePubkey(phPK), s.Pubkey)
			assert.Equal(t, nowMs, s.Timestamp)
			assert.True(t, s.HasTTL)
			assert.Equal(t, nowMs+1209600000, s.Expiry)
			assert.Equal(t, "abc 123", string(s.Data))
			assert.False(t, s.Signed)
			assert.Equal(t, s.Pubkey, s.Owner())
		}},
		{name: "stringified ttl and timestamp, pubKey", body: body("store", `"pubKey":"PK","timestamp":"1700000000000","ttl":"86400000","data":"YWJjIDEyMw"`), check: func(t *testing.T, r Request) {
			s := r.(*Store)
			assert.Equal(t, nowMs, s.Timestamp)
			assert.Equal(t, int64(86400000), s.TTL)
			assert.Equal(t, "abc 123", string(s.Data))
		}},
		{name: "expiry instead of ttl", body: body("store", `"pubkey":"PK","timestamp":NOW,"expiry":1700000100000,"data":""`), check: func(t *testing.T, r Request) {
			s := r.(*Store)
			assert.False(t, s.HasTTL)
			assert.Equal(t, int64(1700000100000), s.Expiry)
			assert.Empty(t, s.Data)
		}},
		{name: "signed with sig_timestamp", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":"","namespace":3,"signature":"SIG","pubkey_ed25519":"ED","sig_timestamp":1700000001000`), check: func(t *testing.T, r Request) {
			s := r.(*Store)
			assert.True(t, s.Signed)
			assert.True(t, s.Auth.HasEd25519)
			assert.Equal(t, NamespaceContacts, s.Namespace)
			assert.Equal(t, int64(1700000001000), s.SigTimestamp)
		}},
		{name: "null is absent", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":"","signature":null,"namespace":null`), check: func(t *testing.T, r Request) {
			assert.False(t, r.(*Store).Signed)
		}},
		{name: "uppercase hex pubkey", body: body("store", `"pubkey":"`+strings.ToUpper(phPK)+`","timestamp":NOW,"ttl":100000,"data":""`)},
		{name: "missing timestamp", body: body("store", `"pubkey":"PK","ttl":100000,"data":""`), text: "invalid request: Required field 'timestamp' missing", field: "timestamp"},
		{name: "missing ttl and expiry", body: body("store", `"pubkey":"PK","timestamp":NOW,"data":""`), text: "invalid request: Required field 'expiry' or 'ttl' missing"},
		{name: "both ttl and expiry", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"expiry":1700000100000,"data":""`), text: "invalid request: Cannot specify both 'expiry' and 'ttl'"},
		{name: "missing pubkey", body: body("store", `"timestamp":NOW,"ttl":100000,"data":""`), text: "invalid request: Required field 'pubkey' missing", field: "pubkey"},
		{name: "both pubkeys", body: body("store", `"pubkey":"PK","pubKey":"PK","timestamp":NOW,"ttl":100000,"data":""`), text: "invalid request: Cannot specify both 'pubkey' and 'pubKey'"},
		{name: "short pubkey", body: body("store", `"pubkey":"05ab","timestamp":NOW,"ttl":100000,"data":""`), text: "invalid request: Pubkey must be 66 hex digits (33 bytes) long"},
		{name: "non-hex pubkey", body: body("store", `"pubkey":"`+strings.Repeat("zz", 33)+`","timestamp":NOW,"ttl":100000,"data":""`), text: "invalid request: Pubkey must be 66 hex digits (33 bytes) long"},
		{name: "missing data", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000`), text: "invalid request: Required field 'data' missing", field: "data"},
		{name: "data not base64", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":"abc!"`), text: "invalid request: Invalid 'data' value: not base64 encoded"},
		{name: "data too large", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":"`+strings.Repeat("A", MaxDataSize/3*4+4)+`"`), text: "invalid request: Message body exceeds maximum allowed length of 76800 bytes", field: "data"},
		{name: "data at limit", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":"`+strings.Repeat("A", MaxDataSize/3*4)+`"`), check: func(t *testing.T, r Request) {
			assert.Len(t, r.(*Store).Data, MaxDataSize)
		}},
		{name: "data wrong type", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":100000,"data":5`), text: "invalid request: Invalid value given for 'data': expected string", field: "data"},
		{name: "ttl negative", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":-5,"data":""`), text: "invalid request: Invalid value given for 'ttl': expected positive integer", field: "ttl"},
		{name: "ttl float", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1.5,"data":""`), text: "invalid request: Invalid value given for 'ttl': expected positive integer"},
		{name: "ttl bad string", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":"12a","data":""`), text: `invalid request: Invalid value given for 'ttl': "12a"`},
		{name: "ttl negative string", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":"-1","data":""`), text: `invalid request: Invalid value given for 'ttl': "-1"`},
		{name: "timestamp bool", body: body("store", `"pubkey":"PK","timestamp":true,"ttl":1,"data":""`), text: "invalid request: Invalid value given for 'timestamp': expected integer"},
		{name: "expiry in seconds", body: body("store", `"pubkey":"PK","timestamp":NOW,"expiry":900000000,"data":""`), text: "invalid request: Invalid timestamp for 'expiry': timestamp must be in milliseconds", field: "expiry"},
		{name: "namespace out of range", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","namespace":40000`), text: "invalid request: Invalid value given for 'namespace': value out of range"},
		{name: "namespace string", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","namespace":"3"`), text: "invalid request: Invalid value given for 'namespace': expected 16-bit integer"},
		{name: "first error in alphabetical order", body: body("store", `"pubkey":5,"data":5`), text: "invalid request: Invalid value given for 'data': expected string"},
		{name: "bad signature", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"abc"`), text: "invalid request: invalid signature: expected base64 encoded Ed25519 signature", field: "signature"},
		{name: "padded signature", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG=="`)},
		{name: "pubkey_ed25519 on group", body: body("store", `"pubkey":"03`+strings.Repeat("ab", 32)+`","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","pubkey_ed25519":"ED"`), text: "invalid request: pubkey_ed25519 is only permitted for 05[...] pubkeys"},
		{name: "pubkey_ed25519 not hex", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","pubkey_ed25519":"`+strings.Repeat("zz", 32)+`"`), text: "invalid request: invalid pubkey_ed25519: value is not hex"},
		{name: "pubkey_ed25519 wrong size", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","pubkey_ed25519":"abcd"`), text: "invalid request: Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey"},
		{name: "subaccount without sig", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","subaccount":"`+strings.Repeat("00", 36)+`"`), text: "invalid request: invalid subaccount: subaccount_sig is required when using subaccount"},
		{name: "subaccount bad token", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","subaccount":"abc","subaccount_sig":"SIG"`), text: "invalid request: invalid subaccount: expected base64 or hex-encoded subaccount token"},
		{name: "subaccount hex", body: body("store", `"pubkey":"PK","timestamp":NOW,"ttl":1,"data":"","signature":"SIG","subaccount":"`+strings.Repeat("0a", 36)+`","subaccount_sig":"SIG"`), check: func(t *testing.T, r Request) {
			sa := r.(*Store).Auth.Subaccount
			require.NotNil(t, sa)
			assert.Equal(t, byte(0x0a), sa.Token[35])
		}},
	})
}

func TestParseRetrieve(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "desktop", body: body("retrieve", `"namespace":0,"pubkey":"PK","pubkey_ed25519":"ED","signature":"SIG","timestamp":NOW,"last_hash":"","max_size":-5`), check: func(t *testing.T, r Request) {
			rr := r.(*Retrieve)
			assert.True(t, rr.Signed)
			assert.Equal(t, "", rr.LastHash)
			assert.Equal(t, -5, rr.MaxSize)
			assert.Equal(t, nowMs, rr.Timestamp)
		}},
		{name: "unsigned default namespace parses", body: body("retrieve", `"pubkey":"PK"`), check: func(t *testing.T, r Request) {
			assert.False(t, r.(*Retrieve).Signed)
		}},
		{name: "unsigned legacy group", body: body("retrieve", `"pubkey":"PK","namespace":-10,"lastHash":"HASH"`), check: func(t *testing.T, r Request) {
			rr := r.(*Retrieve)
			assert.False(t, rr.Signed)
			assert.Equal(t, phHash, rr.LastHash)
		}},
		{name: "unsigned public outbox", body: body("retrieve", `"pubkey":"PK","namespace":-21`)},
		{name: "explicit namespace needs signature", body: body("retrieve", `"pubkey":"PK","namespace":0`), text: "invalid request: Required field 'signature' missing", field: "signature"},
		{name: "signature without timestamp", body: body("retrieve", `"pubkey":"PK","signature":"SIG"`), text: "invalid request: Required field 'timestamp' missing"},
		{name: "both last hashes", body: body("retrieve", `"pubkey":"PK","last_hash":"HASH","lastHash":"HASH"`), text: "invalid request: Cannot specify both 'last_hash' and 'lastHash'"},
		{name: "short last hash", body: body("retrieve", `"pubkey":"PK","last_hash":"abc"`), text: "invalid request: Invalid last_hash: expected base64 (43 chars)"},
		{name: "non-base64 last hash", body: body("retrieve", `"pubkey":"PK","last_hash":"`+strings.Repeat("!", 43)+`"`), text: "invalid request: Invalid last_hash: not base64"},
		{name: "max_count string", body: body("retrieve", `"pubkey":"PK","max_count":"5"`), text: "invalid request: Invalid value given for 'max_count': expected integer"},
		{name: "timestamp string", body: body("retrieve", `"pubkey":"PK","timestamp":"1700000000000"`), text: "invalid request: Invalid value given for 'timestamp': expected integer timestamp (in milliseconds)"},
	})
}

func TestParseDeletesAndExpiries(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "delete", body: body("delete", `"pubkey":"PK","pubkey_ed25519":"ED","signature":"SIG","messages":["HASH"]`), check: func(t *testing.T, r Request) {
			assert.Equal(t, []string{phHash}, r.(*Delete).Messages)
		}},
		{name: "delete single string", body: body("delete", `"pubkey":"PK","signature":"SIG","messages":"HASH","required":true`), check: func(t *testing.T, r Request) {
			d := r.(*Delete)
			assert.Equal(t, []string{phHash}, d.Messages)
			assert.True(t, d.Required)
		}},
		{name: "delete unsigned", body: body("delete", `"pubkey":"PK","messages":["HASH"]`), text: "invalid request: Required field 'signature' missing"},
		{name: "delete empty", body: body("delete", `"pubkey":"PK","signature":"SIG","messages":[]`), text: "invalid request: messages does not contain any message hashes"},
		{name: "delete bad hash", body: body("delete", `"pubkey":"PK","signature":"SIG","messages":["x\"y"]`), text: `invalid request: invalid message hash: x"y`},
		{name: "delete mixed array", body: body("delete", `"pubkey":"PK","signature":"SIG","messages":["HASH",1]`), text: "invalid request: Invalid value given for 'messages': expected string array"},
		{name: "delete required not bool", body: body("delete", `"pubkey":"PK","signature":"SIG","messages":["HASH"],"required":1`), text: "invalid request: Invalid value given for 'required': expected boolean"},
		{name: "delete_all all", body: body("delete_all", `"pubkey":"PK","signature":"SIG","timestamp":NOW,"namespace":"all"`), check: func(t *testing.T, r Request) {
			assert.Equal(t, AllNamespaces, r.(*DeleteAll).Namespace)
		}},
		{name: "delete_all bad namespace", body: body("delete_all", `"pubkey":"PK","signature":"SIG","timestamp":NOW,"namespace":"some"`), text: `invalid request: Invalid value given for 'namespace': expected integer or "all"`},
		{name: "delete_all missing timestamp", body: body("delete_all", `"pubkey":"PK","signature":"SIG"`), text: "invalid request: Required field 'timestamp' missing"},
		{name: "delete_before", body: body("delete_before", `"pubkey":"PK","signature":"SIG","before":NOW,"namespace":5`), check: func(t *testing.T, r Request) {
			d := r.(*DeleteBefore)
			assert.Equal(t, OneNamespace(5), d.Namespace)
			assert.Equal(t, nowMs, d.Before)
		}},
		{name: "delete_before missing", body: body("delete_before", `"pubkey":"PK","signature":"SIG"`), text: "invalid request: Required field 'before' missing"},
		{name: "expire_all", body: body("expire_all", `"pubkey":"PK","signature":"SIG","expiry":NOW`)},
		// Fields are checked in the server's (alphabetical) key order: before and expiry come
		// before namespace, timestamp after it; a missing one only after the signature fields.
		{name: "delete_before bad before and namespace", body: body("delete_before", `"pubkey":"PK","signature":"SIG","before":"x","namespace":"some"`), text: "invalid request: Invalid value given for 'before': expected integer timestamp (in milliseconds)"},
		{name: "expire_all bad expiry and namespace", body: body("expire_all", `"pubkey":"PK","signature":"SIG","expiry":"x","namespace":"some"`), text: "invalid request: Invalid value given for 'expiry': expected integer timestamp (in milliseconds)"},
		{name: "delete_all bad timestamp and namespace", body: body("delete_all", `"pubkey":"PK","signature":"SIG","timestamp":"x","namespace":"some"`), text: `invalid request: Invalid value given for 'namespace': expected integer or "all"`},
		{name: "delete_all bad timestamp, no signature", body: body("delete_all", `"pubkey":"PK","timestamp":"x"`), text: "invalid request: Invalid value given for 'timestamp': expected integer timestamp (in milliseconds)"},
		{name: "expire_all no expiry, no signature", body: body("expire_all", `"pubkey":"PK"`), text: "invalid request: Required field 'signature' missing"},
		{name: "expire single", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH"],"expiry":NOW,"extend":true`), check: func(t *testing.T, r Request) {
			e := r.(*Expire)
			assert.Equal(t, []int64{nowMs}, e.Expiries)
			assert.Equal(t, ExpireExtend, e.Mode)
		}},
		{name: "expire multi", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH","HASH"],"expiry":[NOW,NOW]`)},
		{name: "expire multi mismatch", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH","HASH","HASH"],"expiry":[NOW,NOW]`), text: "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"},
		{name: "expire empty expiries", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH"],"expiry":[]`), text: "invalid request: 'expiry' does not contain any expiration timestamps"},
		{name: "expire shorten and extend", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH"],"expiry":NOW,"shorten":true,"extend":true`), text: "invalid request: cannot specify both 'shorten' and 'extend'"},
		{name: "expire negative expiry", body: body("expire", `"pubkey":"PK","signature":"SIG","messages":["HASH"],"expiry":[-1]`), text: "invalid request: Invalid value given for 'expiry': expected timestamp array"},
		{name: "get_expiries", body: body("get_expiries", `"pubkey":"PK","pubkey_ed25519":"ED","signature":"SIG","messages":["anything"],"timestamp":NOW`), check: func(t *testing.T, r Request) {
			assert.Equal(t, []string{"anything"}, r.(*GetExpiries).Messages)
		}},
	})
}

func TestParseOthers(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "get_swarm", body: body("get_swarm", `"pubkey":"PK","params":{"active_only":true}`), check: func(t *testing.T, r Request) {
			g := r.(*GetSwarm)
			assert.Equal(t, MethodGetSwarm, g.Method())
		}},
		{name: "get_snodes_for_pubkey", body: body("get_snodes_for_pubkey", `"pubKey":"PK"`), check: func(t *testing.T, r Request) {
			assert.Equal(t, MethodGetSnodesForPubkey, r.Method())
		}},
		{name: "get_swarm bad pubkey", body: body("get_swarm", `"pubkey":"05"`), text: "invalid request: Pubkey must be 66 hex digits/33 bytes long"},
		{name: "oxend", body: body("oxend_request", `"endpoint":"get_service_nodes","params":{"active_only":true}`), check: func(t *testing.T, r Request) {
			o := r.(*OxendRequest)
			assert.JSONEq(t, `{"active_only":true}`, string(o.Params))
		}},
		{name: "oxend other endpoint", body: body("oxend_request", `"endpoint":"ons_resolve"`), text: "invalid request: Invalid oxend endpoint 'ons_resolve'"},
		{name: "oxend missing endpoint", body: body("oxend_request", ``), text: "invalid request: Required field 'endpoint' missing"},
		{name: "batch", body: body("batch", `"requests":[{"method":"info","params":{}},{"method":"get_swarm","params":{"pubkey":"PK"}}]`), check: func(t *testing.T, r Request) {
			b := r.(*Batch)
			require.Len(t, b.Requests, 2)
			assert.False(t, b.Sequence)
			assert.IsType(t, &GetSwarm{}, b.Requests[1])
		}},
		{name: "sequence", body: body("sequence", `"requests":[{"method":"info","params":{}}]`), check: func(t *testing.T, r Request) {
			assert.True(t, r.(*Batch).Sequence)
		}},
		{name: "batch empty", body: body("batch", `"requests":[]`), text: `invalid request: Invalid batch request: no valid "requests" field`},
		{name: "batch too many", body: body("batch", `"requests":[`+strings.Repeat(`{"method":"info","params":{}},`, 20)+`{"method":"info","params":{}}]`), text: "invalid request: Invalid batch request: subrequest limit exceeded"},
		{name: "batch 20", body: body("batch", `"requests":[`+strings.Repeat(`{"method":"info","params":{}},`, 19)+`{"method":"info","params":{}}]`)},
		{name: "batch non-object", body: body("batch", `"requests":[1]`), text: "invalid request: Invalid batch request: requests must be objects"},
		{name: "batch no params", body: body("batch", `"requests":[{"method":"info"}]`), text: "invalid request: Invalid batch request: subrequests must have method/params keys"},
		{name: "batch unknown", body: body("batch", `"requests":[{"method":"nope","params":{}}]`), text: `invalid request: Invalid batch subrequest: invalid method "nope"`},
		{name: "batch nested", body: body("batch", `"requests":[{"method":"batch","params":{"requests":[{"method":"info","params":{}}]}}]`), text: "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests"},
		{name: "batch sub error", body: body("batch", `"requests":[{"method":"store","params":{}}]`), text: "invalid request: Required field 'timestamp' missing"},
	})
}

func TestParsePubkey(t *testing.T) {
	pk, err := ParsePubkey(phPK)
	require.NoError(t, err)
	assert.Equal(t, PrefixSessionID, pk.Prefix)
	assert.Equal(t, phPK, pk.Hex())
	raw := string(testkit.Hex(t, phPK))
	pk2, err := ParsePubkey(raw)
	require.NoError(t, err)
	assert.Equal(t, pk, pk2)
	assert.Equal(t, pk, PubkeyFromID(pk.ID()))
	assert.Equal(t, phPK, pk.ID().String())
	for _, bad := range []string{"", "05", phPK + "00", strings.Repeat("g", 66)} {
		_, err := ParsePubkey(bad)
		assert.Error(t, err, bad)
	}
}

func TestKeyConversion(t *testing.T) {
	// Vectors from the protocol description: Ed25519 public key -> Session ID.
	for _, v := range []struct{ ed, id string }{
		{"4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7", "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"},
		{"5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876", "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"},
	} {
		var ed [32]byte
		copy(ed[:], testkit.Hex(t, v.ed))
		x, err := ed25519ToX25519(ed)
		require.NoError(t, err)
		assert.Equal(t, v.id, Pubkey{Prefix: PrefixSessionID, Key: x}.Hex())
	}
	// The identity (small order) and a point with a torsion component are refused, as libsodium
	// refuses them; so is an encoding that is not a point.
	var identityPoint [32]byte
	identityPoint[0] = 1
	_, err := ed25519ToX25519(identityPoint)
	assert.ErrorIs(t, err, ErrBadEd25519)
	_, err = ed25519ToX25519(notAPoint(t))
	assert.ErrorIs(t, err, ErrBadEd25519)
	var torsioned [32]byte
	copy(torsioned[:], testkit.Hex(t, "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"))
	_, err = ed25519ToX25519(addTorsion(t, torsioned))
	assert.ErrorIs(t, err, ErrBadEd25519)
}
