package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type onionTestNode struct {
	secret string
	kp     cryptomode.X25519KeyPair
	node   onion.Node
}

// onionFixture builds a 2-hop onion to a file server with the package's builder, from seeded
// randomness, and returns the hops, the server and the guard's body.
func onionFixture(t *testing.T, e onion.EncType) ([]onionTestNode, onionTestNode, []byte) {
	t.Helper()
	s := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	r := testkit.Seeded(42)
	nodes := make([]onionTestNode, 3)
	for i := range nodes {
		kp, _, err := s.NewX25519(r)
		require.NoError(t, err)
		nodes[i] = onionTestNode{secret: hex.EncodeToString(kp.Secret[:]), kp: kp, node: onion.Node{X25519: kp.Public}}
		_, err = io.ReadFull(r, nodes[i].node.Ed25519[:])
		require.NoError(t, err)
	}
	b, err := onion.BuildToServer(s, r, onion.Path{Hops: []onion.Node{nodes[0].node, nodes[1].node}, EncType: e},
		onion.Server{Host: "filev2.getsession.org", X25519: nodes[2].node.X25519},
		onion.V4Request{Method: "GET", Endpoint: "/file/1234"})
	require.NoError(t, err)
	return nodes[:2], nodes[2], b.Body
}

// runOnionTool runs tool onion-open with args.
func runOnionTool(args ...string) (int, string, string) {
	return runCLI(append([]string{"tool", "onion-open"}, args...)...)
}

type onionOpenResult struct {
	PlaintextHex string          `json:"plaintext_hex"`
	Plaintext    string          `json:"plaintext"`
	EphemeralKey string          `json:"ephemeral_key"`
	EncType      string          `json:"enc_type"`
	Routing      json.RawMessage `json:"routing"`
	InnerHex     string          `json:"inner_hex"`
}

func openJSON(t *testing.T, args ...string) onionOpenResult {
	t.Helper()
	code, out, errOut := runOnionTool(append([]string{"--json"}, args...)...)
	require.Equal(t, 0, code, errOut)
	var r onionOpenResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	return r
}

// Peels a whole onion with the tool: the guard's framed body, then each inner blob as a bare
// layer under the ephemeral key and enc_type its routing JSON names.
func TestOnionOpenToolPeelsAnOnion(t *testing.T) {
	for _, e := range []onion.EncType{onion.AESGCM, onion.XChaCha20} {
		t.Run(e.String(), func(t *testing.T) {
			hops, server, body := onionFixture(t, e)
			guard := openJSON(t, "--node-secret", hops[0].secret, hex.EncodeToString(body))
			assert.Equal(t, e.String(), guard.EncType)
			assert.Empty(t, guard.Plaintext, "a layer starts with a binary length")
			var routing struct {
				Destination  string `json:"destination"`
				EphemeralKey string `json:"ephemeral_key"`
				EncType      string `json:"enc_type"`
			}
			require.NoError(t, json.Unmarshal(guard.Routing, &routing))
			assert.Equal(t, hex.EncodeToString(hops[1].node.Ed25519[:]), routing.Destination)
			assert.Equal(t, e.String(), routing.EncType)
			require.NotEmpty(t, guard.InnerHex)

			last := openJSON(t, "--node-secret", hops[1].secret, "--ephemeral", routing.EphemeralKey, "--enc-type", routing.EncType, guard.InnerHex)
			assert.Equal(t, routing.EphemeralKey, last.EphemeralKey)
			var proxy map[string]any
			require.NoError(t, json.Unmarshal(last.Routing, &proxy))
			assert.Equal(t, "filev2.getsession.org", proxy["host"])
			assert.Equal(t, onion.V4Target, proxy["target"])

			srv := openJSON(t, "--node-secret", server.secret, "--ephemeral", proxy["ephemeral_key"].(string), "--enc-type", e.String(), last.InnerHex)
			assert.Equal(t, `l53:{"method":"GET","endpoint":"/file/1234","headers":{}}e`, srv.Plaintext)
			assert.Equal(t, hex.EncodeToString([]byte(srv.Plaintext)), srv.PlaintextHex)
			assert.Equal(t, "null", string(srv.Routing))
			assert.Empty(t, srv.InnerHex)
		})
	}
}

func TestOnionOpenToolText(t *testing.T) {
	hops, _, body := onionFixture(t, onion.AESGCM)
	code, out, errOut := runOnionTool("--node-secret", hops[0].secret, hex.EncodeToString(body))
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 6)
	for i, label := range []string{"plaintext_hex: ", "plaintext: ", "ephemeral_key: ", "enc_type: aes-gcm", `routing: {"destination":"`, "inner_hex: "} {
		assert.True(t, strings.HasPrefix(lines[i], label), "line %d: %q", i, lines[i])
	}
}

func TestOnionOpenToolFailures(t *testing.T) {
	hops, _, body := onionFixture(t, onion.XChaCha20)
	blob := hex.EncodeToString(body)
	tampered := bytes.Clone(body)
	tampered[20] ^= 1
	assertToolFailures(t, []string{"tool", "onion-open"}, []failingTool{
		{"no secret", []string{blob}, "--node-secret is required", 2},
		{"no blob", []string{"--node-secret", hops[0].secret}, "accepts 1 arg(s), received 0; usage: sessionsim tool onion-open", 2},
		{"short secret", []string{"--node-secret", "abcd", blob}, "--node-secret", 2},
		{"another node's secret", []string{"--node-secret", hops[1].secret, blob}, "does not open", 1},
		{"tampered", []string{"--node-secret", hops[0].secret, hex.EncodeToString(tampered)}, "Invalid ciphertext", 1},
		{"not hex", []string{"--node-secret", hops[0].secret, "xyz"}, "BLOB_HEX is not hex", 2},
		{"not framed", []string{"--node-secret", hops[0].secret, "0102"}, "not a framed onion request", 1},
		{"enc-type without ephemeral", []string{"--node-secret", hops[0].secret, "--enc-type", "xchacha20", blob}, "--enc-type applies only with --ephemeral", 2},
		{"bad ephemeral", []string{"--node-secret", hops[0].secret, "--ephemeral", "zz", blob}, "--ephemeral", 2},
		{"bad enc-type", []string{"--node-secret", hops[0].secret, "--ephemeral", strings.Repeat("11", 32), "--enc-type", "aes-cbc", blob}, "--enc-type", 2},
		{"bare layer with the wrong key", []string{"--node-secret", hops[0].secret, "--ephemeral", strings.Repeat("11", 32), blob}, "does not open", 1},
	})
	code, _, _ := runOnionTool("--node-secret", hops[0].secret)
	assert.Equal(t, 2, code, "BLOB_HEX is required")
}
