package cli

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// The tool prints the keys package identity derives (whose own tests hold the apps' vectors),
// for a seed in either length and either case.
func TestToolSessionID(t *testing.T) {
	tests := []struct{ name, seed string }{
		{"recovery seed", "0123456789abcdef0123456789abcdef"},
		{"32-byte seed in capitals", "00112233445566778899AABBCCDDEEFF" + strings.Repeat("00", 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := identity.FromSeed(testkit.Hex(t, tt.seed))
			require.NoError(t, err)
			session, ed := k.SessionID().String(), hex.EncodeToString(k.Ed25519Public[:])

			code, out, _ := runCLI("tool", "session-id", "--seed", tt.seed)
			require.Equal(t, 0, code)
			assert.Contains(t, out, "session_id: "+session+"\n")
			assert.Contains(t, out, "ed25519_pubkey: "+ed+"\n")

			code, out, _ = runCLI("tool", "session-id", "--seed", tt.seed, "--json")
			require.Equal(t, 0, code)
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, session, got["session_id"])
			assert.Equal(t, ed, got["ed25519_pubkey"])
			assert.Equal(t, hex.EncodeToString(k.X25519Public[:]), got["x25519_pubkey"])
		})
	}
}

func TestToolSessionIDFailures(t *testing.T) {
	assertToolFailures(t, []string{"tool", "session-id"}, []failingTool{
		{"missing", nil, "--seed is required", 2},
		{"not hex", []string{"--seed", "xyz"}, "not hex", 2},
		{"odd length", []string{"--seed", "abc"}, "not hex", 2},
		{"wrong length", []string{"--seed", "00112233"}, "4 bytes", 2},
		{"64 bytes", []string{"--seed", strings.Repeat("ab", 64)}, "64 bytes", 2},
		{"positional seed", []string{"0123456789abcdef0123456789abcdef"}, "--seed", 2},
		{"unknown flag", []string{"--sed", "0123456789abcdef0123456789abcdef"}, "unknown flag: --sed; usage: sessionsim tool session-id --seed HEX", 2},
	})
}
