package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/spf13/cobra"
)

func init() { registerTool(newOnionOpenCmd) }

// newOnionOpenCmd opens one onion layer with a node's X25519 secret, to read what a captured
// request told that node.
func newOnionOpenCmd() *cobra.Command {
	var secret, encType, ephemeral string
	cmd := &cobra.Command{
		Use:   "onion-open --node-secret HEX [--enc-type aes-gcm|xchacha20] [--ephemeral HEX] BLOB_HEX",
		Short: "Open one onion request layer with a node's X25519 secret and show its plaintext and routing JSON",
		Long: "Opens one onion request layer as the node holding --node-secret would.\n\n" +
			"Without --ephemeral, BLOB_HEX is a framed request as posted to a guard (LE32 length, ciphertext,\n" +
			"JSON with ephemeral_key and enc_type). With --ephemeral, BLOB_HEX is one bare layer (nonce,\n" +
			"ciphertext, tag) sealed under that ephemeral key with --enc-type: for example the inner blob of a\n" +
			"layer opened before, with the ephemeral_key and enc_type its routing JSON names.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fields, err := openOnionLayer(secret, encType, ephemeral, cmd.Flags().Changed("enc-type"), args[0])
			if err != nil {
				return toolFailure(cmd, err)
			}
			return printTool(cmd, fields)
		},
	}
	cmd.Flags().StringVar(&secret, "node-secret", "", "the node's X25519 secret key: 64 hex digits")
	cmd.Flags().StringVar(&encType, "enc-type", "aes-gcm", "cipher of a bare layer given with --ephemeral: aes-gcm or xchacha20")
	cmd.Flags().StringVar(&ephemeral, "ephemeral", "", "the layer's ephemeral X25519 public key (64 hex digits); BLOB_HEX is then one bare layer")
	return cmd
}

func openOnionLayer(secretHex, encType, ephemeralHex string, encTypeGiven bool, blobHex string) ([]toolField, error) {
	if secretHex == "" {
		return nil, usageError(errors.New("--node-secret is required: give the node's X25519 secret as 64 hex digits"))
	}
	secret, err := hexKey32(secretHex)
	if err != nil {
		return nil, usageError(fmt.Errorf("--node-secret: %w", err))
	}
	blob, err := hex.DecodeString(strings.TrimSpace(blobHex))
	if err != nil {
		return nil, usageError(fmt.Errorf("BLOB_HEX is not hex: %w", err))
	}
	s := cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	node, _, err := s.X25519FromSecret(secret)
	if err != nil {
		return nil, usageError(fmt.Errorf("--node-secret: %w", err))
	}

	var in onion.Request
	if ephemeralHex == "" {
		if encTypeGiven {
			return nil, usageError(errors.New("--enc-type applies only with --ephemeral: a framed request names its enc_type in its JSON"))
		}
		if in, err = onion.ParseGuardRequest(blob); err != nil {
			return nil, fmt.Errorf("BLOB_HEX is not a framed onion request (give --ephemeral for a bare layer): %w", err)
		}
	} else {
		if in.EphemeralKey, err = hexKey32(ephemeralHex); err != nil {
			return nil, usageError(fmt.Errorf("--ephemeral: %w", err))
		}
		if in.EncType, err = onion.ParseEncType(encType); err != nil {
			return nil, usageError(fmt.Errorf("--enc-type: %w", err))
		}
		in.Ciphertext = blob
	}

	plain, _, _, err := onion.OpenLayer(s, in.EncType, node, in.EphemeralKey, in.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("the layer does not open with this node secret, ephemeral key %x and %s: %w", in.EphemeralKey, in.EncType, err)
	}

	// A layer that is not LE32 + blob + JSON object (the innermost layer of a server request)
	// has no routing and no inner blob.
	var routing compactJSON
	inner := ""
	if b, rest, err := onion.SplitCombined(plain); err == nil {
		var obj map[string]any
		if json.Unmarshal(rest, &obj) == nil && obj != nil {
			inner = hex.EncodeToString(b)
			routing = rest
		}
	}
	printable := ""
	if isPrintable(plain) {
		printable = string(plain)
	}
	return []toolField{
		{Key: "plaintext_hex", Value: hex.EncodeToString(plain)},
		{Key: "plaintext", Value: printable},
		{Key: "ephemeral_key", Value: hex.EncodeToString(in.EphemeralKey[:])},
		{Key: "enc_type", Value: in.EncType.String()},
		{Key: "routing", Value: routing},
		{Key: "inner_hex", Value: inner},
	}, nil
}

func hexKey32(s string) ([32]byte, error) {
	var k [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return k, fmt.Errorf("%q is not a key: give 64 hex digits", s)
	}
	copy(k[:], b)
	return k, nil
}

// compactJSON is a JSON value that prints as its compact text and marshals as itself, so the
// routing JSON reads the same in both output forms; empty, it prints nothing and marshals null.
type compactJSON []byte

func (c compactJSON) String() string {
	var b bytes.Buffer
	if json.Compact(&b, c) != nil {
		return ""
	}
	return b.String()
}

func (c compactJSON) MarshalJSON() ([]byte, error) {
	if s := c.String(); s != "" {
		return []byte(s), nil
	}
	return []byte("null"), nil
}

// isPrintable reports whether b reads as text: valid UTF-8 of printable characters and ordinary
// whitespace.
func isPrintable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}
