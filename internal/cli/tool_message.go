package cli

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/spf13/cobra"
)

func init() { registerTool(newMessageOpenCmd) }

func newMessageOpenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "message-open --recipient-seed HEX CIPHERTEXT_HEX",
		Short: "Open a sealed 1:1 Session message (the envelope's content) with the recipient's seed",
		Long: `Opens a sealed 1:1 Session message: the sealed box that an Envelope carries as its
content, without the Envelope or WebSocketMessage around it. The recipient's seed is 16 bytes
(the recovery phrase's) or 32 bytes (a full Ed25519 seed), in hex.

Prints the unpadded plaintext (the Content protobuf) in hex and as text where printable, the
sender's Ed25519 key and the sender's Session ID, after checking the sender's signature.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seedHex, _ := cmd.Flags().GetString("recipient-seed")
			fields, err := openMessage(seedHex, args[0])
			if err != nil {
				return toolFailure(cmd, err)
			}
			return printTool(cmd, fields)
		},
	}
	cmd.Flags().String("recipient-seed", "", "recipient's seed in hex: 16 bytes (recovery phrase) or 32 bytes (Ed25519 seed)")
	return cmd
}

func openMessage(seedHex, ciphertextHex string) ([]toolField, error) {
	if seedHex == "" {
		return nil, usageError(fmt.Errorf("--recipient-seed is required: the recipient's 16- or 32-byte seed in hex"))
	}
	seed, err := hex.DecodeString(strings.TrimSpace(seedHex))
	if err != nil {
		return nil, usageError(fmt.Errorf("--recipient-seed is not hex: %w", err))
	}
	box, err := hex.DecodeString(strings.TrimSpace(ciphertextHex))
	if err != nil {
		return nil, usageError(fmt.Errorf("ciphertext is not hex: %w", err))
	}
	if len(seed) != identity.RecoverySeedSize && len(seed) != identity.SeedSize {
		return nil, usageError(fmt.Errorf("--recipient-seed is %d bytes: want 16 (recovery seed) or 32 (Ed25519 seed)", len(seed)))
	}
	keys, err := identity.FromSeed(seed)
	if err != nil {
		return nil, err
	}
	suite := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	recipient, _, err := suite.X25519FromSecret(keys.X25519Secret)
	if err != nil {
		return nil, err
	}
	opened, _, err := message.Open(suite, recipient, box)
	if err != nil {
		return nil, fmt.Errorf("%w (recipient %s)", err, keys.SessionID())
	}
	plain, err := message.Unpad(opened.Padded)
	if err != nil {
		return nil, fmt.Errorf("message from %s: %w", opened.SenderID(), err)
	}
	return []toolField{
		{Key: "plaintext_hex", Label: "plaintext (hex)", Value: hex.EncodeToString(plain)},
		{Key: "plaintext", Label: "plaintext", Value: printable(plain)},
		{Key: "sender_ed25519", Label: "sender Ed25519", Value: hex.EncodeToString(opened.SenderEd25519[:])},
		{Key: "sender_session_id", Label: "sender Session ID", Value: opened.SenderID().String()},
	}, nil
}

// printable shows bytes as text: printable UTF-8 stays, everything else (protobuf keys and
// lengths, binary fields) becomes '.', so a message body can be read in place.
func printable(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError && unicode.IsPrint(r) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('.')
			n = 1
		}
		b = b[n:]
	}
	return sb.String()
}
