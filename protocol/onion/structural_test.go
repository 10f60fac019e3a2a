package onion

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// callLog is a randomness stream that records the length of every Read, since a stream like the
// simulator's (which draws whole words per call) advances by calls, not only by bytes.
type callLog struct {
	r     io.Reader
	calls []int
}

func (l *callLog) Read(p []byte) (int, error) {
	l.calls = append(l.calls, len(p))
	return l.r.Read(p)
}

// TestStructuralMatchesModeledBytes follows one request in both forms under modeled crypto, hop
// by hop: the structural form must draw the same randomness in the same calls, charge the same
// CPU at every party, have the same length on every link, reach the same outcome, and give the
// client the same answer.
func TestStructuralMatchesModeledBytes(t *testing.T) {
	s := suite(cryptomode.Modeled)
	bodies := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"json", `{"messages":[{"data":"CAES+/=","hash":"x"}],"more":false,"t":1700000000000,"hf":[19,3]}`},
		{"text with escapes", "Next node not found: \"a\\b\"\n\r\t\b\f\x00\x1f\x7f"},
		{"separators", "a\u2028b\u2029c\u00e9\U0001F600"},
		{"invalid utf-8", "a\xffb\xe2\x80"},
	}
	for _, e := range encTypes {
		for _, hops := range []int{1, 3} {
			for _, rpcLen := range []int{0, 117, 5000} {
				for _, hopNo := range []int{0, 2} {
					t.Run(fmt.Sprintf("%v/%d-hops/%dB/from-%d", e, hops, rpcLen, hopNo), func(t *testing.T) {
						nodes := makeNodes(t, s, uint64(hops*7+rpcLen), hops+1)
						p := Path{EncType: e, HopNo: hopNo}
						for _, n := range nodes[:hops] {
							p.Hops = append(p.Hops, n.Node)
						}
						dest := nodes[hops]
						rpc := []byte(strings.Repeat("r", rpcLen))
						rb, rs := &callLog{r: seeded(9)}, &callLog{r: seeded(9)}
						b, err := BuildToNode(s, rb, p, dest.Node, rpc)
						require.NoError(t, err)
						decoded := &struct{ rpc []byte }{rpc} // stands for the request as values
						nd := &callLog{r: seeded(9)}
						_, err = BuildToNodeStructural(s.Costs(), nd, p, dest.Node, nil, len(rpc))
						require.ErrorIs(t, err, ErrBadInput, "a request without its values")
						require.Empty(t, nd.calls, "refused before any draw")
						st, err := BuildToNodeStructural(s.Costs(), rs, p, dest.Node, decoded, len(rpc))
						require.NoError(t, err)
						assert.Equal(t, rb.calls, rs.calls, "the same draws")
						assert.Equal(t, b.Cost, st.Cost, "the client's building cost")
						_, n := st.Wire()
						require.Equal(t, len(b.Body), n, "the guard's request length")

						inB, err := ParseGuardRequest(b.Body)
						require.NoError(t, err)
						inS, err := CheckGuardRequest(st.Value)
						require.NoError(t, err)
						var pb, ps Peeled
						for i, node := range nodes {
							assert.Equal(t, inB.HopNo, inS.HopNo, "hop %d: hop number", i)
							// A node the layer is not sealed to fails alike.
							other := nodes[(i+1)%len(nodes)]
							wb, errB := Peel(s, other.KP, inB)
							ws, errS := Peel(s, other.KP, inS)
							assert.Equal(t, hopError(t, errB).Kind, hopError(t, errS).Kind, "hop %d: wrong node", i)
							assert.Equal(t, wb.Cost, ws.Cost, "hop %d: wrong node's cost", i)

							pb, err = Peel(s, node.KP, inB)
							require.NoError(t, err)
							ps, err = Peel(s, node.KP, inS)
							require.NoError(t, err)
							assert.Equal(t, pb.Cost, ps.Cost, "hop %d: peeling cost", i)
							require.Equal(t, pb.Routing.Action, ps.Routing.Action, "hop %d", i)
							if pb.Routing.Action == Deliver {
								require.Equal(t, len(nodes)-1, i, "only the destination delivers")
								assert.Equal(t, rpc, pb.Payload)
								assert.Same(t, decoded, ps.Decoded, "the request as values")
								assert.Equal(t, pb.Routing.Format, ps.Routing.Format)
								break
							}
							assert.Equal(t, pb.Routing.Destination, ps.Routing.Destination, "hop %d: next node", i)
							assert.Equal(t, pb.Routing.EncType, ps.Routing.EncType, "hop %d: next cipher", i)
							relay := pb.Next.RelayBody()
							_, n := ps.Next.Wire()
							require.Equal(t, len(relay), n, "hop %d: relayed request length", i)
							inB, err = ParseRelayRequest(relay)
							require.NoError(t, err)
							inS, err = CheckRelayRequest(&ps.Next)
							require.NoError(t, err)
						}

						for _, body := range bodies {
							for _, f := range []ResponseFormat{{}, {Raw: true}, {EmbedJSON: true}} {
								for _, status := range []int{200, 421, -1} {
									r := NodeResponse{Status: status, Body: []byte(body.body)}
									nb, ns := &callLog{r: seeded(3)}, &callLog{r: seeded(3)}
									sealed, cb, err := SealNodeResponse(s, pb.Reply, nb, f, r)
									require.NoError(t, err)
									rep, cs, err := SealStructuralResponse(s, ps.Reply, ns, f, r, nil)
									require.NoError(t, err)
									what := fmt.Sprintf("%s %+v %d", body.name, f, status)
									assert.Equal(t, nb.calls, ns.calls, "%s: the nonce's draw", what)
									assert.Equal(t, cb, cs, "%s: sealing cost", what)
									sealCost := cb
									require.Equal(t, len(sealed), rep.WireLen(), "%s: reply length", what)

									ob, cb, err := OpenNodeResponse(s.Costs(), b.Reply, f, sealed)
									require.NoError(t, err)
									os, cs, err := OpenStructuralResponse(s.Costs(), st.Reply, rep)
									require.NoError(t, err)
									assert.Equal(t, cb, cs, "%s: opening cost", what)
									assert.Equal(t, ob.Status, os.Status, what)
									assert.Equal(t, string(ob.Body), string(os.Body), what)

									if f.EmbedJSON || !utf8.ValidString(body.body) {
										continue // bodies that are written, and read back
									}
									nm := &callLog{r: seeded(3)}
									mr, cm, err := SealStructuralMeasured(s, ps.Reply, nm, f, status, wirejson.StringLen(body.body), decoded)
									require.NoError(t, err)
									assert.Equal(t, nb.calls, nm.calls, "%s: measured: the nonce's draw", what)
									assert.Equal(t, sealCost, cm, "%s: measured: sealing cost", what)
									require.Equal(t, len(sealed), mr.WireLen(), "%s: measured: reply length", what)
									om, cm, err := OpenStructuralResponse(s.Costs(), st.Reply, mr)
									require.NoError(t, err)
									assert.Equal(t, cs, cm, "%s: measured: opening cost", what)
									assert.Equal(t, ob.Status, om.Status, what)
									assert.Nil(t, om.Body, "%s: a measured body is not written", what)
									assert.Same(t, decoded, mr.Decoded, what)
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestStructuralChecks: the size and hop limits the parsers apply to bytes apply to values.
func TestStructuralChecks(t *testing.T) {
	huge := &Layer{EncType: AESGCM, PlainLen: MaxBodySize}
	cases := []struct {
		name  string
		check func(*Request) (Request, error)
		in    Request
		want  Kind
		hopNo int
	}{
		{"guard over the body limit", CheckGuardRequest, Request{Layer: huge}, KindTooLarge, 0},
		{"relay over the body limit", CheckRelayRequest, Request{Layer: huge, HopNo: 1}, KindTooLarge, 0},
		{"relay past the last hop", CheckRelayRequest, Request{Layer: &Layer{PlainLen: 10}, HopNo: MaxHops + 1}, KindTooManyHops, 0},
		{"relay at the last hop", CheckRelayRequest, Request{Layer: &Layer{PlainLen: 10}, HopNo: MaxHops}, 0, MaxHops},
		{"relay hop 0 reads as 1", CheckRelayRequest, Request{Layer: &Layer{PlainLen: 10}}, 0, 1},
		{"guard negative start reads as 0", CheckGuardRequest, Request{Layer: &Layer{PlainLen: 10}, HopNo: -3}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.check(&tc.in)
			if tc.want != 0 {
				assert.Equal(t, tc.want, hopError(t, err).Kind)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.hopNo, got.HopNo)
		})
	}
}
