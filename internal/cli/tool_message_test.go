package cli

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	msgAliceSeed = "0123456789abcdef0123456789abcdef"
	msgAliceID   = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
	msgAliceEd   = "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
	msgBobSeed   = "00112233445566778899aabbccddeeff"
)

// sealedForBob is a sealed 1:1 message from Alice to Bob carrying content.
func sealedForBob(t *testing.T, content []byte) string {
	t.Helper()
	return sealForBob(t, 1, message.Pad(content))
}

// unpaddedForBob is a correctly sealed and signed message whose content lacks the 0x80 marker.
func unpaddedForBob(t *testing.T) string {
	t.Helper()
	return sealForBob(t, 2, []byte("no marker"))
}

// sealForBob seals plaintext as given from Alice to Bob, with randomness from the stream seeded
// by stream.
func sealForBob(t *testing.T, stream byte, plaintext []byte) string {
	t.Helper()
	alice, err := identity.FromSeed(mustDecodeHex(t, msgAliceSeed))
	require.NoError(t, err)
	bob, err := identity.FromSeed(mustDecodeHex(t, msgBobSeed))
	require.NoError(t, err)
	s := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	box, _, err := message.Seal(s, rand.NewChaCha8([32]byte{stream}), alice.Ed25519Private, bob.X25519Public, plaintext)
	require.NoError(t, err)
	return hex.EncodeToString(box)
}

func mustDecodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestToolMessageOpen(t *testing.T) {
	content := message.NewText("hello bob", 1_712_345_678_901).Marshal()
	box := sealedForBob(t, content)
	for _, seed := range []string{msgBobSeed, msgBobSeed + strings.Repeat("00", 16)} {
		code, out, errOut := runCLI("tool", "message-open", "--recipient-seed", seed, box)
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "plaintext (hex): "+hex.EncodeToString(content)+"\n")
		assert.Contains(t, out, "hello bob")
		assert.Contains(t, out, "sender Ed25519: "+msgAliceEd+"\n")
		assert.Contains(t, out, "sender Session ID: "+msgAliceID+"\n")

		code, out, _ = runCLI("tool", "message-open", "--recipient-seed", seed, box, "--json")
		require.Equal(t, 0, code)
		var got map[string]string
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		assert.Equal(t, hex.EncodeToString(content), got["plaintext_hex"])
		// Protobuf keys, lengths and varints show as dots around the body where not printable
		// (the timestamp varint ends in 0x31, "1").
		assert.Equal(t, "....hello bobx.....1", got["plaintext"])
		assert.Equal(t, msgAliceEd, got["sender_ed25519"])
		assert.Equal(t, msgAliceID, got["sender_session_id"])
	}
}

func TestToolMessageOpenFailures(t *testing.T) {
	box := sealedForBob(t, []byte("x"))
	assertToolFailures(t, []string{"tool", "message-open"}, []failingTool{
		{"no seed", []string{box}, "--recipient-seed is required", 2},
		{"seed not hex", []string{"--recipient-seed", "xyz", box}, "not hex", 2},
		{"seed wrong length", []string{"--recipient-seed", "0011", box}, "2 bytes", 2},
		{"ciphertext not hex", []string{"--recipient-seed", msgBobSeed, "zz"}, "ciphertext is not hex", 2},
		{"too short", []string{"--recipient-seed", msgBobSeed, "00ff"}, "too short", 1},
		{"wrong recipient", []string{"--recipient-seed", msgAliceSeed, box}, "decryption failed", 1},
		{"tampered", []string{"--recipient-seed", msgBobSeed, box[:10] + "ff" + box[12:]}, "decryption failed", 1},
		{"unpadded", []string{"--recipient-seed", msgBobSeed, unpaddedForBob(t)}, "padding", 1},
	})
}
