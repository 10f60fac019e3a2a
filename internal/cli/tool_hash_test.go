package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The storage server's regression vector (namespace 0).
const (
	hashPubkey = "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48"
	hashData   = "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSag" +
		"rtpeEpY31L7VxawfS8aSya0SiDa4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyW" +
		"F8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe540zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3" +
		"mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxYwBW5+AbGQ2" +
		"d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTs" +
		"q/wZyYFKFKKD+q+zh704dYBILvs5yXUA96pIAA="
	hashWant = "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs"
)

func TestMessageHashTool(t *testing.T) {
	code, out, errOut := runCLI("tool", "message-hash", "--pubkey", hashPubkey, "--data", hashData)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "hash: "+hashWant+"\n", out)

	// Unpadded data and an explicit namespace 0 give the same hash.
	code, out, _ = runCLI("tool", "message-hash", "--pubkey", strings.ToUpper(hashPubkey), "--namespace", "0", "--data", strings.TrimRight(hashData, "="))
	require.Equal(t, 0, code)
	assert.Equal(t, "hash: "+hashWant+"\n", out)

	code, out, _ = runCLI("tool", "message-hash", "--json", "--pubkey", hashPubkey, "--data", hashData)
	require.Equal(t, 0, code)
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, map[string]string{"hash": hashWant}, got)

	// Another namespace gives another hash.
	code, out, _ = runCLI("tool", "message-hash", "--pubkey", hashPubkey, "--namespace", "-10", "--data", hashData)
	require.Equal(t, 0, code)
	assert.NotContains(t, out, hashWant)
	assert.Len(t, strings.TrimSpace(strings.TrimPrefix(out, "hash: ")), 43)
}

func TestMessageHashToolBadInput(t *testing.T) {
	assertToolFailures(t, []string{"tool", "message-hash"}, []failingTool{
		{"no pubkey", []string{"--data", "YQ=="}, "--pubkey is required", 2},
		{"short pubkey", []string{"--pubkey", "05ab", "--data", "YQ=="}, "is not an account ID", 2},
		{"raw-length pubkey", []string{"--pubkey", strings.Repeat("a", 33), "--data", "YQ=="}, "is not an account ID", 2},
		{"bad namespace", []string{"--pubkey", hashPubkey, "--namespace", "40000", "--data", "YQ=="}, "is not a namespace", 2},
		{"no data", []string{"--pubkey", hashPubkey}, "--data is required", 2},
		{"bad data", []string{"--pubkey", hashPubkey, "--data", "a!b"}, "--data is not standard base64", 2},
	})
}
