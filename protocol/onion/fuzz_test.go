package onion

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// fuzzNode is the node every fuzz target decrypts as, and a valid onion to it for the seeds.
func fuzzNode(t testing.TB) (cryptomode.Suite, testNode, Built) {
	s := suite(cryptomode.Real)
	nodes := makeNodes(t, s, 99, 2)
	b, err := BuildToNode(s, seeded(1), Path{Hops: hops(nodes[:1])}, nodes[1].Node, []byte(testRPC))
	require.NoError(t, err)
	return s, nodes[0], b
}

func FuzzParseGuardRequest(f *testing.F) {
	_, _, b := fuzzNode(f)
	f.Add(b.Body)
	f.Add(Request{Ciphertext: []byte("x"), EncType: XChaCha20, HopNo: 4}.GuardBody())
	f.Add(AppendCombined(nil, []byte("ct"), []byte(` {"ephemeral_key" : "`+string(bytes.Repeat([]byte("0f"), 32))+`", "enc_type": "gcm", "hop_no": 1e3}`)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseGuardRequest(body)
		if err != nil {
			assert.Contains(t, []Kind{KindBadRequest, KindTooLarge}, hopError(t, err).Kind)
			return
		}
		again, err := ParseGuardRequest(r.GuardBody())
		require.NoError(t, err)
		assert.Equal(t, r, again)
	})
}

func FuzzParseRelayRequest(f *testing.F) {
	f.Add(Request{Ciphertext: []byte("ciphertext"), EncType: XChaCha20, HopNo: 3}.RelayBody())
	f.Add([]byte("d4:data2:ct13:ephemeral_key32:kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk6:hop_noi99ee"))
	f.Add([]byte("d1:ali1ee4:data0:13:ephemeral_key32:kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk1:zd1:ai-1eee"))
	f.Add([]byte("d4:data99999999999:x"))
	f.Add([]byte("llllllllllllllllllllllllllllllllllllllllllll"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRelayRequest(body)
		if err != nil {
			assert.Contains(t, []Kind{KindBadRelay, KindTooLarge, KindTooManyHops}, hopError(t, err).Kind)
			return
		}
		assert.GreaterOrEqual(t, r.HopNo, 1)
		assert.LessOrEqual(t, r.HopNo, MaxHops)
		again, err := ParseRelayRequest(r.RelayBody())
		require.NoError(t, err)
		assert.Equal(t, r, again)
	})
}

func FuzzParseRouting(f *testing.F) {
	f.Add([]byte(`{"headers":""}`))
	f.Add([]byte(`{"headers":"","json":true,"base64":false}`))
	f.Add(forwardRouting([32]byte{1}, [32]byte{2}, XChaCha20))
	f.Add([]byte(`{"host":"h","target":"/oxen/v4/lsrpc","port":80,"protocol":"http","method":"POST"}`))
	f.Add([]byte(`{"destination":"00","ephemeral_key":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRouting(b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidJSON)
			return
		}
		switch r.Action {
		case Forward:
			again, err := ParseRouting(forwardRouting(r.Destination, r.EphemeralKey, r.EncType))
			require.NoError(t, err)
			assert.Equal(t, r, again)
		case Proxy:
			assert.NotEmpty(t, r.Protocol)
		case Deliver:
		default:
			t.Fatalf("action %v", r.Action)
		}
	})
}

// FuzzPeel seals arbitrary plaintext as a valid layer, so the fuzzer reaches the parsing a node
// does after decryption.
func FuzzPeel(f *testing.F) {
	s, node, _ := fuzzNode(f)
	f.Add(AppendCombined(nil, []byte(testRPC), deliverJSON), false)
	f.Add(AppendCombined(nil, []byte("inner"), forwardRouting([32]byte{7}, [32]byte{8}, AESGCM)), true)
	f.Add(AppendCombined(nil, []byte("x"), []byte(`{"host":"h","target":"/loki/v3/lsrpc"}`)), false)
	f.Add([]byte{3, 0, 0}, true)
	f.Fuzz(func(t *testing.T, plain []byte, xchacha bool) {
		e := AESGCM
		if xchacha {
			e = XChaCha20
		}
		sealed, ck, eph, _, err := encryptTo(s, e, seeded(1), node.X25519, plain)
		require.NoError(t, err)
		p, err := Peel(s, node.KP, Request{Ciphertext: sealed, EphemeralKey: eph, EncType: e, HopNo: 2})
		assert.Equal(t, ck, p.Reply)
		if err != nil {
			require.True(t, hopError(t, err).Encrypted(), "a layer that opened fails only with an encrypted answer: %v", err)
			return
		}
		switch p.Routing.Action {
		case Deliver:
			assert.True(t, bytes.HasPrefix(plain[4:], p.Payload))
		case Proxy:
			assert.Equal(t, plain, p.Payload)
			assert.True(t, TargetAllowed(p.Routing.Target))
		case Forward:
			assert.Equal(t, 3, p.Next.HopNo)
			assert.Equal(t, p.Routing.EphemeralKey, p.Next.EphemeralKey)
		}
	})
}

// FuzzPeelRequest feeds whole guard bodies, mostly not decrypting, through parse and peel.
func FuzzPeelRequest(f *testing.F) {
	s, node, b := fuzzNode(f)
	f.Add(b.Body)
	bad := bytes.Clone(b.Body)
	bad[10] ^= 1
	f.Add(bad)
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ParseGuardRequest(body)
		if err != nil {
			return
		}
		_, err = Peel(s, node.KP, in)
		if err != nil {
			hopError(t, err)
		}
	})
}

func FuzzOpenNodeResponse(f *testing.F) {
	s := suite(cryptomode.Real)
	k := Key{EncType: XChaCha20, Key: [32]byte{5}}
	f.Add([]byte(`{"body":"ok","status":200}`), false)
	f.Add([]byte(`{"body":{"a":[1,2]},"status":421.5}`), true)
	f.Add([]byte(`{"status":1e400}`), false)
	f.Add([]byte(`not json`), true)
	f.Fuzz(func(t *testing.T, plain []byte, raw bool) {
		sealed, _, err := k.Seal(s.Costs(), seeded(3), plain)
		require.NoError(t, err)
		format := ResponseFormat{Raw: raw}
		reply := sealed
		if !raw {
			reply = []byte(b64(sealed))
		}
		r, _, err := OpenNodeResponse(s.Costs(), k, format, reply)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			return
		}
		// What opened re-seals and opens to the same.
		again, _, err := SealNodeResponse(s, k, seeded(4), format, r)
		require.NoError(t, err)
		r2, _, err := OpenNodeResponse(s.Costs(), k, format, again)
		require.NoError(t, err)
		assert.Equal(t, r.Status, r2.Status)
		// Arbitrary fuzzed bytes can also be the reply itself.
		_, _, err = OpenNodeResponse(s.Costs(), k, format, plain)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
		}
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func FuzzDecodeV4Response(f *testing.F) {
	f.Add(EncodeV4Response(V4Response{Code: 200, Headers: map[string]string{"content-type": "application/json"}, Body: []byte("{}")}))
	f.Add(EncodeV4Response(V4Response{Code: 404}))
	f.Add([]byte(`l2:{}0:e`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeV4Response(b)
		if err != nil {
			return
		}
		again, err := DecodeV4Response(EncodeV4Response(r))
		require.NoError(t, err)
		assert.Equal(t, r.Code, again.Code)
		assert.Equal(t, r.Body, again.Body)
		assert.Equal(t, len(r.Headers), len(again.Headers))
	})
}

func FuzzDecodeV4Request(f *testing.F) {
	enc, err := EncodeV4Request(V4Request{Method: "POST", Endpoint: "/file", Body: []byte{0, 1}})
	require.NoError(f, err)
	f.Add(enc)
	f.Add([]byte(`l31:{"method":"GET","endpoint":"/"}e`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeV4Request(b)
		if err != nil {
			return
		}
		enc, err := EncodeV4Request(r)
		if err != nil {
			require.True(t, errors.Is(err, ErrBadInput))
			return
		}
		again, err := DecodeV4Request(enc)
		require.NoError(t, err)
		assert.Equal(t, r.Method, again.Method)
		assert.Equal(t, r.Body, again.Body)
	})
}

func FuzzOpenServerRequest(f *testing.F) {
	s := suite(cryptomode.Real)
	nodes := makeNodes(f, s, 98, 2)
	b, err := BuildToServer(s, seeded(1), Path{Hops: hops(nodes[:1])}, Server{Host: "h", X25519: nodes[1].X25519},
		V4Request{Method: "GET", Endpoint: "/capabilities"})
	require.NoError(f, err)
	in, err := ParseGuardRequest(b.Body)
	require.NoError(f, err)
	p, err := Peel(s, nodes[0].KP, in)
	require.NoError(f, err)
	f.Add(p.Payload)
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, _, err := OpenServerRequest(s, nodes[1].KP, body)
		if err != nil {
			hopError(t, err)
		}
	})
}
