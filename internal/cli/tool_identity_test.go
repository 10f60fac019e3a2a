package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToolSessionID(t *testing.T) {
	tests := []struct {
		name, seed, session, ed string
	}{
		{"recovery seed", "0123456789abcdef0123456789abcdef",
			"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
			"4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"},
		{"32-byte seed", "00112233445566778899AABBCCDDEEFF" + strings.Repeat("00", 16),
			"05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
			"5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runCLI("tool", "session-id", "--seed", tt.seed)
			require.Equal(t, 0, code)
			assert.Contains(t, out, "session_id: "+tt.session+"\n")
			assert.Contains(t, out, "ed25519_pubkey: "+tt.ed+"\n")

			code, out, _ = runCLI("tool", "session-id", "--seed", tt.seed, "--json")
			require.Equal(t, 0, code)
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, tt.session, got["session_id"])
			assert.Equal(t, tt.ed, got["ed25519_pubkey"])
			assert.Equal(t, tt.session[2:], got["x25519_pubkey"])
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
	})
}
