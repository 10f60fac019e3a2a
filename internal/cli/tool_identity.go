package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

func init() { registerTool(newSessionIDCmd) }

func newSessionIDCmd() *cobra.Command {
	var seedHex string
	cmd := &cobra.Command{
		Use:   "session-id --seed HEX",
		Short: "Derive the Ed25519 and X25519 keys and the Session ID of a seed",
		Long: `Derive an account's keys from its seed: a 16-byte recovery seed (what the recovery phrase
encodes; the apps pad it with 16 zero bytes) or a full 32-byte Ed25519 seed, in hex.`,
		Example: `  sessionsim tool session-id --seed 0123456789abcdef0123456789abcdef`,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return toolFailure(cmd, usageError(fmt.Errorf("session-id takes no arguments (got %q): pass the seed with --seed", wireerr.Excerpt(args[0]))))
			}
			seed, err := parseSeedHex(seedHex)
			if err != nil {
				return toolFailure(cmd, err)
			}
			k, err := identity.FromSeed(seed)
			if err != nil {
				return toolFailure(cmd, err)
			}
			return printTool(cmd, []toolField{
				{Key: "ed25519_pubkey", Value: hex.EncodeToString(k.Ed25519Public[:])},
				{Key: "x25519_pubkey", Value: hex.EncodeToString(k.X25519Public[:])},
				{Key: "session_id", Value: k.SessionID().String()},
			})
		},
	}
	cmd.Flags().StringVar(&seedHex, "seed", "", "the seed in hex: 16 bytes (recovery seed) or 32 bytes (Ed25519 seed)")
	return cmd
}

func parseSeedHex(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, usageError(errors.New("--seed is required: the seed in hex, 32 characters (16-byte recovery seed) or 64 (32-byte Ed25519 seed)"))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usageError(fmt.Errorf("--seed %q is not hex: %w", wireerr.Excerpt(s), err))
	}
	if len(b) != identity.RecoverySeedSize && len(b) != identity.SeedSize {
		return nil, usageError(fmt.Errorf("--seed is %d bytes: want 16 (recovery seed, 32 hex characters) or 32 (Ed25519 seed, 64 hex characters)", len(b)))
	}
	return b, nil
}
