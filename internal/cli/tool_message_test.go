package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/internal/testkit"
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

// sealedForBob is a sealed 1:1 message from Alice to Bob carrying content padded as enc pads.
func sealedForBob(t *testing.T, enc message.Encoding, content []byte) string {
	t.Helper()
	return sealForBob(t, 1, enc.Pad(content))
}

// sealForBob seals plaintext as given from Alice to Bob, with randomness from the stream seeded
// by stream.
func sealForBob(t *testing.T, stream byte, plaintext []byte) string {
	t.Helper()
	alice, err := identity.FromSeed(testkit.Hex(t, msgAliceSeed))
	require.NoError(t, err)
	bob, err := identity.FromSeed(testkit.Hex(t, msgBobSeed))
	require.NoError(t, err)
	s := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	box, _, err := message.Seal(s, testkit.Seeded(uint64(stream)), alice.Ed25519Private, bob.X25519Public, plaintext)
	require.NoError(t, err)
	return hex.EncodeToString(box)
}

func TestToolMessageOpen(t *testing.T) {
	content := message.NewText("hello bob", 1_712_345_678_901).Marshal()
	for _, enc := range []message.Encoding{message.Libsession, message.Legacy} {
		box := sealedForBob(t, enc, content)
		total := enc.PaddedLen(len(content))
		for _, seed := range []string{msgBobSeed, msgBobSeed + strings.Repeat("00", 16)} {
			code, out, errOut := runCLI("tool", "message-open", "--recipient-seed", seed, box)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "plaintext (hex): "+hex.EncodeToString(content)+"\n")
			assert.Contains(t, out, "hello bob")
			assert.Contains(t, out, "sender Ed25519: "+msgAliceEd+"\n")
			assert.Contains(t, out, "sender Session ID: "+msgAliceID+"\n")
			assert.Contains(t, out, fmt.Sprintf("padding: 0x80 and %d zeros after %d bytes of content, %d bytes in all: %s encoding\n",
				total-len(content)-1, len(content), total, enc))
			assert.Contains(t, out, "content: a Content: data message with a 9-byte body, sigTimestamp 1712345678901\n")
			assert.NotContains(t, out, "error")

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
			assert.Contains(t, got["padding"], enc.String()+" encoding")
			assert.NotContains(t, got, "padding_error")
			assert.NotContains(t, got, "content_error")
		}
	}
}

// A message that opens but whose plaintext is not a padded Content still shows its plaintext
// and sender, with the padding and the Content each reported with its own error.
func TestToolMessageOpenMalformedPlaintext(t *testing.T) {
	content := message.NewText("hi", 1).Marshal()
	tests := []struct {
		name       string
		plaintext  []byte
		shown      []byte // the plaintext shown: what the apps would decode
		padding    string // "" when the padding is reported fine
		paddingErr string
		contentErr string
	}{
		{"unpadded content", content, content, "", "last non-zero byte", ""},
		{"not a content", []byte("no marker"), []byte("no marker"), "", "last non-zero byte is 0x72", "decoding Content"},
		{"padded garbage", message.Libsession.Pad([]byte{0xff}), []byte{0xff}, "libsession encoding", "", "decoding Content"},
		{"odd length", append(append(append([]byte{}, content...), 0x80), make([]byte, 20)...), content, "neither encoding's length", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI("tool", "message-open", "--recipient-seed", msgBobSeed, sealForBob(t, 2, tt.plaintext), "--json")
			require.Equal(t, 0, code, errOut)
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, msgAliceID, got["sender_session_id"])
			assert.Equal(t, hex.EncodeToString(tt.shown), got["plaintext_hex"])
			if tt.paddingErr != "" {
				assert.Contains(t, got["padding_error"], tt.paddingErr)
				assert.NotContains(t, got, "padding")
			} else {
				assert.Contains(t, got["padding"], tt.padding)
				assert.NotContains(t, got, "padding_error")
			}
			if tt.contentErr != "" {
				assert.Contains(t, got["content_error"], tt.contentErr)
				assert.NotContains(t, got, "content")
			} else {
				assert.Contains(t, got["content"], "a Content")
				assert.NotContains(t, got, "content_error")
			}
		})
	}
}

func TestToolMessageOpenFailures(t *testing.T) {
	box := sealedForBob(t, message.Libsession, []byte("x"))
	assertToolFailures(t, []string{"tool", "message-open"}, []failingTool{
		{"no seed", []string{box}, "--recipient-seed is required", 2},
		{"seed not hex", []string{"--recipient-seed", "xyz", box}, "not hex", 2},
		{"seed wrong length", []string{"--recipient-seed", "0011", box}, "2 bytes", 2},
		{"ciphertext not hex", []string{"--recipient-seed", msgBobSeed, "zz"}, "ciphertext is not hex", 2},
		{"too short", []string{"--recipient-seed", msgBobSeed, "00ff"}, "too short", 1},
		{"wrong recipient", []string{"--recipient-seed", msgAliceSeed, box}, "decryption failed", 1},
		{"tampered", []string{"--recipient-seed", msgBobSeed, box[:10] + "ff" + box[12:]}, "decryption failed", 1},
	})
}
