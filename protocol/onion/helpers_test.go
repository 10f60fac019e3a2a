package onion

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

var modes = []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled}
var encTypes = []EncType{AESGCM, XChaCha20}

// seeded is testkit.Seeded, the stream the protocol tests draw from.
func seeded(seed uint64) io.Reader { return testkit.Seeded(seed) }

func suite(m cryptomode.Mode) cryptomode.Suite { return cryptomode.New(m, cryptomode.DefaultCosts) }

// hopError is err as the *Error every failure of this package must be.
func hopError(t testing.TB, err error) *Error {
	t.Helper()
	var oe *Error
	require.ErrorAs(t, err, &oe)
	return oe
}

func key32(t testing.TB, s string) [32]byte {
	t.Helper()
	var k [32]byte
	b := testkit.Hex(t, s)
	require.Len(t, b, 32)
	copy(k[:], b)
	return k
}

// testNode is a service node with its long-term keys: the X25519 pair from a seeded secret (the
// real conversion in both modes), an Ed25519 key standing in for its identity.
type testNode struct {
	Node
	KP cryptomode.X25519KeyPair
}

func makeNodes(t testing.TB, s cryptomode.Suite, seed uint64, n int) []testNode {
	t.Helper()
	r := seeded(seed)
	nodes := make([]testNode, n)
	for i := range nodes {
		var sec [32]byte
		_, err := io.ReadFull(r, sec[:])
		require.NoError(t, err)
		kp, _, err := s.X25519FromSecret(sec)
		require.NoError(t, err)
		nodes[i].KP = kp
		nodes[i].X25519 = kp.Public
		_, err = io.ReadFull(r, nodes[i].Ed25519[:])
		require.NoError(t, err)
	}
	return nodes
}

func hops(nodes []testNode) []Node {
	out := make([]Node, len(nodes))
	for i, n := range nodes {
		out[i] = n.Node
	}
	return out
}

// hopView is what one node sees of an onion: the sizes of what it received and the routing
// decision it made.
type hopView struct {
	ReceivedLen   int
	CiphertextLen int
	HopNo         int
	Action        Action
	Next          [32]byte
	Payload       []byte
	Routing       Routing
}

// walk carries a built onion along its path as the nodes would: the guard parses the posted
// body, every relay parses the bencoded request of the previous hop. It returns each node's
// view and the destination's Peeled.
func walk(t testing.TB, s cryptomode.Suite, b Built, nodes []testNode) ([]hopView, Peeled) {
	t.Helper()
	in, err := ParseGuardRequest(b.Body)
	require.NoError(t, err)
	received := len(b.Body)
	byEd := map[[32]byte]testNode{}
	for _, n := range nodes {
		byEd[n.Ed25519] = n
	}
	cur := nodes[0]
	var views []hopView
	for range MaxHops + 1 {
		p, err := Peel(s, cur.KP, in)
		require.NoError(t, err, "hop %d", len(views))
		v := hopView{ReceivedLen: received, CiphertextLen: len(in.Ciphertext), HopNo: in.HopNo,
			Action: p.Routing.Action, Payload: p.Payload, Routing: p.Routing}
		if p.Routing.Action != Forward {
			views = append(views, v)
			return views, p
		}
		v.Next = p.Routing.Destination
		views = append(views, v)
		body := p.Next.RelayBody()
		received = len(body)
		in, err = ParseRelayRequest(body)
		require.NoError(t, err)
		var ok bool
		cur, ok = byEd[p.Routing.Destination]
		require.True(t, ok, "next node %x unknown", p.Routing.Destination)
	}
	t.Fatal("onion did not end")
	return nil, Peeled{}
}
