package onion

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

const testRPC = `{"method":"retrieve","params":{"pubkey":"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72","namespace":0}}`

// layerCost is what one layer costs the client (fresh key, agreement, derivation, encryption of
// n plaintext bytes).
func layerCost(c cryptomode.Costs, e EncType, n int) time.Duration {
	return c.X25519KeyGen + rederiveCost(c, e) + SymmetricCost(c, e, n)
}

func TestNodeOnionRoundTrip(t *testing.T) {
	for _, m := range modes {
		for _, e := range encTypes {
			for _, shape := range []struct{ hops, start int }{{1, 0}, {3, 0}, {3, 2}, {5, 10}} {
				t.Run(fmt.Sprintf("%v/%v/%d-hops-from-%d", m, e, shape.hops, shape.start), func(t *testing.T) {
					s := suite(m)
					c := s.Costs()
					nodes := makeNodes(t, s, 11, shape.hops+1)
					path, dest := nodes[:shape.hops], nodes[shape.hops]
					b, err := BuildToNode(s, seeded(5), Path{Hops: hops(path), EncType: e, HopNo: shape.start}, dest.Node, []byte(testRPC))
					require.NoError(t, err)

					views, final := walk(t, s, b, nodes)
					require.Len(t, views, shape.hops+1)
					var wantBuild time.Duration
					for i, v := range views {
						assert.Equal(t, shape.start+i, v.HopNo, "hop number at hop %d", i)
						wantBuild += layerCost(c, e, v.CiphertextLen-e.Overhead())
						if i < shape.hops {
							assert.Equal(t, Forward, v.Action)
							assert.Equal(t, nodes[i+1].Ed25519, v.Next, "hop %d forwards to the next node", i)
							assert.Equal(t, e, v.Routing.EncType)
						}
					}
					last := views[len(views)-1]
					assert.Equal(t, Deliver, last.Action)
					assert.Equal(t, testRPC, string(last.Payload))
					assert.Equal(t, 4+len(testRPC)+len(`{"headers":""}`)+e.Overhead(), last.CiphertextLen)
					assert.Equal(t, wantBuild, b.Cost, "the build costs the sum of its layers")
					assert.Equal(t, rederiveCost(c, e)+SymmetricCost(c, e, last.CiphertextLen-e.Overhead()), final.Cost)

					// The destination answers once, under the destination layer's key; the client
					// opens it with what the builder kept.
					assert.Equal(t, b.Reply, final.Reply)
					body := []byte(`{"messages":[],"more":false,"t":1700000000000,"hf":[19,3]}`)
					reply, cost, err := SealNodeResponse(s, final.Reply, seeded(6), final.Routing.Format, NodeResponse{Status: 200, Body: body})
					require.NoError(t, err)
					assert.Positive(t, cost)
					got, _, err := OpenNodeResponse(c, b.Reply, ResponseFormat{}, reply)
					require.NoError(t, err)
					assert.Equal(t, NodeResponse{Status: 200, Body: body}, got)
				})
			}
		}
	}
}

func TestServerOnionRoundTrip(t *testing.T) {
	req := V4Request{Method: "POST", Endpoint: "/file", Headers: map[string]string{"Content-Type": "application/octet-stream"},
		Body: bytes.Repeat([]byte{0, 1, 2, 0xff}, 300)}
	for _, m := range modes {
		for _, e := range encTypes {
			t.Run(fmt.Sprintf("%v/%v", m, e), func(t *testing.T) {
				s := suite(m)
				nodes := makeNodes(t, s, 12, 4)
				path, server := nodes[:3], nodes[3]
				b, err := BuildToServer(s, seeded(8), Path{Hops: hops(path), EncType: e},
					Server{Host: "filev2.getsession.org", X25519: server.X25519}, req)
				require.NoError(t, err)

				views, final := walk(t, s, b, nodes)
				require.Len(t, views, 3)
				assert.Equal(t, Proxy, final.Routing.Action)
				assert.Equal(t, Routing{Action: Proxy, Host: "filev2.getsession.org", Port: 443, Protocol: "https",
					Target: V4Target, Method: "POST", EphemeralKey: final.Routing.EphemeralKey, EncType: e}, final.Routing)

				got, k, cost, err := OpenServerRequest(s, server.KP, final.Payload)
				require.NoError(t, err)
				assert.Positive(t, cost)
				assert.Equal(t, req, got)
				assert.Equal(t, b.Reply, k)

				resp := V4Response{Code: 201, Headers: map[string]string{"content-type": "application/json"}, Body: []byte(`{"id":"12345"}`)}
				sealed, _, err := SealV4Response(s, k, seeded(9), resp)
				require.NoError(t, err)
				assert.Len(t, sealed, len(EncodeV4Response(resp))+e.Overhead())
				opened, _, err := OpenV4Response(s.Costs(), b.Reply, sealed)
				require.NoError(t, err)
				assert.Equal(t, resp, opened)
			})
		}
	}
}

// The same onion built in real and modeled mode from the same seeded stream looks the same to
// every node: same sizes received, same routing decisions and fields, same payload, same costs.
// Only the values of ephemeral keys differ (a modeled public key is not a curve point), and with
// them every ciphertext byte.
func TestModesGiveTheSameView(t *testing.T) {
	type run struct {
		built Built
		views []hopView
	}
	build := func(t *testing.T, m cryptomode.Mode, e EncType, toServer bool) run {
		s := suite(m)
		nodes := makeNodes(t, s, 21, 4)
		p := Path{Hops: hops(nodes[:3]), EncType: e}
		var b Built
		var err error
		if toServer {
			b, err = BuildToServer(s, seeded(77), p, Server{Host: "open.getsession.org", Protocol: "http", X25519: nodes[3].X25519},
				V4Request{Method: "GET", Endpoint: "/room/session/messages/recent"})
		} else {
			b, err = BuildToNode(s, seeded(77), p, nodes[3].Node, []byte(testRPC))
		}
		require.NoError(t, err)
		views, _ := walk(t, s, b, nodes)
		for i := range views {
			if views[i].Action != Deliver {
				assert.NotZero(t, views[i].Routing.EphemeralKey, "hop %d", i)
			}
			views[i].Routing.EphemeralKey = [32]byte{}
		}
		return run{b, views}
	}
	for _, e := range encTypes {
		for _, toServer := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/server=%v", e, toServer), func(t *testing.T) {
				real, modeled := build(t, cryptomode.Real, e, toServer), build(t, cryptomode.Modeled, e, toServer)
				assert.Len(t, modeled.built.Body, len(real.built.Body))
				assert.Equal(t, real.built.Cost, modeled.built.Cost)
				assert.Equal(t, real.built.Reply.EncType, modeled.built.Reply.EncType)
				assert.NotEqual(t, real.built.Body, modeled.built.Body)
				require.Len(t, modeled.views, len(real.views))
				for i := range real.views {
					rv, mv := real.views[i], modeled.views[i]
					if rv.Action == Proxy {
						// The proxied payload is the whole layer, ephemeral key included: same size.
						assert.Len(t, mv.Payload, len(rv.Payload))
						rv.Payload, mv.Payload = nil, nil
					}
					assert.Equal(t, rv, mv, "hop %d", i)
				}
			})
		}
	}
}

// A flipped bit anywhere in any layer fails authentication at the node that opens that layer.
func TestTamperedLayersFail(t *testing.T) {
	for _, e := range encTypes {
		t.Run(e.String(), func(t *testing.T) {
			s := suite(cryptomode.Real)
			nodes := makeNodes(t, s, 31, 4)
			b, err := BuildToNode(s, seeded(3), Path{Hops: hops(nodes[:3]), EncType: e}, nodes[3].Node, []byte(testRPC))
			require.NoError(t, err)
			in, err := ParseGuardRequest(b.Body)
			require.NoError(t, err)
			for hop := range nodes {
				ct := in.Ciphertext
				for _, bit := range sampleBits(len(ct)) {
					bad := in
					bad.Ciphertext = bytes.Clone(ct)
					bad.Ciphertext[bit/8] ^= 1 << (bit % 8)
					_, err := Peel(s, nodes[hop].KP, bad)
					require.ErrorIs(t, err, ErrInvalidCiphertext, "hop %d bit %d", hop, bit)
				}
				bad := in
				bad.EphemeralKey[5] ^= 0x10
				_, err := Peel(s, nodes[hop].KP, bad)
				require.ErrorIs(t, err, ErrInvalidCiphertext, "hop %d with another ephemeral key", hop)

				p, err := Peel(s, nodes[hop].KP, in)
				require.NoError(t, err)
				in = p.Next
			}
		})
	}
}

// sampleBits picks bit positions covering the nonce, both ends of the ciphertext and the tag,
// and a stride through the middle.
func sampleBits(n int) []int {
	var bits []int
	for i := range n * 8 {
		if i < 32*8 || i >= (n-24)*8 || i%61 == 0 {
			bits = append(bits, i)
		}
	}
	return bits
}

func TestPeelErrorsAnsweredEncrypted(t *testing.T) {
	s := suite(cryptomode.Real)
	nodes := makeNodes(t, s, 41, 1)
	tests := []struct {
		name  string
		plain []byte
		want  error
	}{
		{"no frame", []byte{1, 2}, ErrInvalidJSON},
		{"not json", AppendCombined(nil, []byte("x"), []byte("nope")), ErrInvalidJSON},
		{"unknown shape", AppendCombined(nil, []byte("x"), []byte(`{"a":1}`)), ErrInvalidJSON},
		{"disallowed target", AppendCombined(nil, []byte("x"), []byte(`{"host":"h","target":"/oxen/v4/lsrpc?x=1"}`)), ErrInvalidURL},
		{"ftp", AppendCombined(nil, []byte("x"), []byte(`{"host":"h","target":"/oxen/v4/lsrpc","protocol":"ftp"}`)), ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, ck, eph, _, err := encryptTo(s, XChaCha20, seeded(1), nodes[0].X25519, tt.plain)
			require.NoError(t, err)
			p, err := Peel(s, nodes[0].KP, Request{Ciphertext: sealed, EphemeralKey: eph, EncType: XChaCha20})
			require.ErrorIs(t, err, tt.want)
			oe := hopError(t, err)
			require.True(t, oe.Encrypted())
			assert.Equal(t, ck, p.Reply, "the node can answer under the layer's key")
			assert.Positive(t, p.Cost)

			reply, _, err := SealNodeResponse(s, p.Reply, seeded(2), ResponseFormat{}, NodeResponse{Status: oe.Status(), Body: []byte(oe.Text())})
			require.NoError(t, err)
			got, _, err := OpenNodeResponse(s.Costs(), ck, ResponseFormat{}, reply)
			require.NoError(t, err)
			assert.Equal(t, 400, got.Status)
			assert.Equal(t, oe.Text(), string(got.Body))
		})
	}
}

func TestHopLimit(t *testing.T) {
	s := suite(cryptomode.Modeled)
	nodes := makeNodes(t, s, 51, 4)
	p := Path{Hops: hops(nodes[:3]), HopNo: MaxHops - 3}
	b, err := BuildToNode(s, seeded(1), p, nodes[3].Node, []byte(testRPC))
	require.NoError(t, err, "a destination at hop %d is allowed", MaxHops)
	views, _ := walk(t, s, b, nodes)
	assert.Equal(t, MaxHops, views[len(views)-1].HopNo)

	p.HopNo++
	_, err = BuildToNode(s, seeded(1), p, nodes[3].Node, []byte(testRPC))
	assert.ErrorIs(t, err, ErrBadInput)

	// A client that starts too high anyway is stopped by the relay that would be hop 16.
	in, err := ParseGuardRequest(Request{Ciphertext: []byte("x"), HopNo: MaxHops}.GuardBody())
	require.NoError(t, err)
	next := Request{Ciphertext: in.Ciphertext, HopNo: in.HopNo + 1}
	_, err = ParseRelayRequest(next.RelayBody())
	oe := hopError(t, err)
	assert.Equal(t, KindTooManyHops, oe.Kind)
	assert.Equal(t, 400, oe.Status())
}

func TestBuilderRefusesBadInput(t *testing.T) {
	s := suite(cryptomode.Modeled)
	nodes := makeNodes(t, s, 61, 2)
	good := Path{Hops: hops(nodes[:1])}
	tests := []struct {
		name  string
		build func() (Built, error)
	}{
		{"empty path", func() (Built, error) { return BuildToNode(s, seeded(1), Path{}, nodes[1].Node, nil) }},
		{"unknown enc type", func() (Built, error) {
			return BuildToNode(s, seeded(1), Path{Hops: good.Hops, EncType: 9}, nodes[1].Node, nil)
		}},
		{"negative hop number", func() (Built, error) {
			return BuildToNode(s, seeded(1), Path{Hops: good.Hops, HopNo: -1}, nodes[1].Node, nil)
		}},
		{"server without host", func() (Built, error) {
			return BuildToServer(s, seeded(1), good, Server{}, V4Request{Method: "GET", Endpoint: "/x"})
		}},
		{"v4 request without method", func() (Built, error) {
			return BuildToServer(s, seeded(1), good, Server{Host: "h"}, V4Request{Endpoint: "/x"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.build()
			assert.ErrorIs(t, err, ErrBadInput)
		})
	}
	_, err := BuildToNode(s, bytes.NewReader(make([]byte, 40)), good, nodes[1].Node, nil)
	assert.Error(t, err, "a randomness stream that runs dry")
}

// The builder draws from the stream in a fixed order, so the same seed gives the same bytes.
func TestBuildIsDeterministic(t *testing.T) {
	for _, m := range modes {
		s := suite(m)
		nodes := makeNodes(t, s, 71, 4)
		p := Path{Hops: hops(nodes[:3]), EncType: XChaCha20}
		a, err := BuildToNode(s, seeded(4), p, nodes[3].Node, []byte(testRPC))
		require.NoError(t, err)
		b, err := BuildToNode(s, seeded(4), p, nodes[3].Node, []byte(testRPC))
		require.NoError(t, err)
		assert.Equal(t, a, b, "%v", m)
		c, err := BuildToNode(s, seeded(5), p, nodes[3].Node, []byte(testRPC))
		require.NoError(t, err)
		assert.NotEqual(t, a.Body, c.Body, "%v", m)
	}
}

func TestErrorResponse(t *testing.T) {
	s := suite(cryptomode.Real)
	k := Key{EncType: AESGCM, Key: [32]byte{4}}
	status, body, cost, err := ErrorResponse(s, k, seeded(1), NextNodeNotFound([32]byte{1}))
	require.NoError(t, err)
	assert.Equal(t, 502, status)
	assert.Equal(t, "Next node not found: 01"+strings.Repeat("00", 31), string(body))
	assert.Zero(t, cost)

	status, body, cost, err = ErrorResponse(s, k, seeded(1), &Error{Kind: KindInvalidURL})
	require.NoError(t, err)
	assert.Equal(t, 200, status, "an encrypted failure travels as a reply")
	assert.Positive(t, cost)
	got, _, err := OpenNodeResponse(s.Costs(), k, ResponseFormat{}, body)
	require.NoError(t, err)
	assert.Equal(t, NodeResponse{Status: 400, Body: []byte("Invalid url")}, got)
}
