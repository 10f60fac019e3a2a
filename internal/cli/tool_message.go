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

Prints, after checking the sender's signature, the sender's Ed25519 key and Session ID and the
plaintext without its padding (what the apps decode as the Content protobuf) in hex and as text
where printable. Two lines then report the two checks the apps make separately, each with its
own error: "padding" (0x80 then zeros; which encoding's length: libsession's multiple of 160 or
the 2024 apps' one byte less) and "content" (whether the plaintext decodes as a Content). The
apps open a message whose padding is missing or malformed, so a padding error alone does not
make the message unreadable; the tool still exits 0 once the sender is verified.`,
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
	plain, padErr := message.Unpad(opened.Padded)
	fields := []toolField{
		{Key: "sender_ed25519", Label: "sender Ed25519", Value: hex.EncodeToString(opened.SenderEd25519[:])},
		{Key: "sender_session_id", Label: "sender Session ID", Value: opened.SenderID().String()},
		{Key: "plaintext_hex", Label: "plaintext (hex)", Value: hex.EncodeToString(plain)},
		{Key: "plaintext", Label: "plaintext", Value: printable(plain)},
	}
	if padErr != nil {
		fields = append(fields, toolField{Key: "padding_error", Label: "padding error", Value: padErr.Error()})
	} else {
		fields = append(fields, toolField{Key: "padding", Value: describePadding(len(plain), len(opened.Padded))})
	}
	if c, err := message.UnmarshalContent(plain); err != nil {
		fields = append(fields, toolField{Key: "content_error", Label: "content error", Value: err.Error()})
	} else {
		fields = append(fields, toolField{Key: "content", Value: describeContent(c)})
	}
	return fields, nil
}

// describePadding says how n bytes of content were padded to total bytes, and whose rule that
// length follows.
func describePadding(n, total int) string {
	whose := "neither encoding's length (libsession pads to a multiple of 160, the 2024 apps to one byte less)"
	if enc, ok := message.PaddedBy(total); ok && total == enc.PaddedLen(n) {
		whose = enc.String() + " encoding"
	} else if ok {
		whose = fmt.Sprintf("%s encoding's length, though it pads %d bytes of content to %d", enc, n, enc.PaddedLen(n))
	}
	return fmt.Sprintf("0x80 and %d zeros after %d bytes of content, %d bytes in all: %s", total-n-1, n, total, whose)
}

// describeContent names what a decoded Content carries.
func describeContent(c *message.Content) string {
	var parts []string
	if dm := c.DataMessage; dm != nil {
		parts = append(parts, fmt.Sprintf("data message with a %d-byte body", len(dm.Body)))
	}
	if c.SigTimestamp != 0 {
		parts = append(parts, fmt.Sprintf("sigTimestamp %d", c.SigTimestamp))
	}
	if len(parts) == 0 {
		return "a Content with no data message"
	}
	return "a Content: " + strings.Join(parts, ", ")
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
