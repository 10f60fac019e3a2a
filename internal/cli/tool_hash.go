package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/spf13/cobra"
)

func init() { registerTool(newMessageHashCmd) }

// newMessageHashCmd computes the hash a storage server gives a message, to match captured
// traffic against what a node reports.
func newMessageHashCmd() *cobra.Command {
	var pubkey, data, namespace string
	cmd := &cobra.Command{
		Use:   "message-hash --pubkey ID [--namespace N] --data BASE64",
		Short: "Compute the storage server's hash of a message (base64 BLAKE2b-256 of prefix, key, namespace and data)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := messageHash(pubkey, namespace, data, cmd.Flags().Changed("data"))
			if err != nil {
				return toolFailure(cmd, err)
			}
			return printTool(cmd, []toolField{{Key: "hash", Value: h}})
		},
	}
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "account ID the message is stored for: 66 hex digits with the 05/03 prefix")
	cmd.Flags().StringVar(&namespace, "namespace", "0", "namespace the message is stored in (-32768..32767)")
	cmd.Flags().StringVar(&data, "data", "", "message data in standard base64, padded or not (the store request's \"data\")")
	return cmd
}

func messageHash(pubkey, namespace, data string, dataGiven bool) (string, error) {
	if pubkey == "" {
		return "", usageError(errors.New("--pubkey is required: give the account ID as 66 hex digits (05... or 03...)"))
	}
	pk, err := storagerpc.ParsePubkey(pubkey)
	if err != nil || len(pubkey) != 66 {
		return "", usageError(fmt.Errorf("--pubkey %q is not an account ID: give 66 hex digits with the 05/03 prefix", pubkey))
	}
	ns, err := strconv.ParseInt(namespace, 10, 16)
	if err != nil {
		return "", usageError(fmt.Errorf("--namespace %q is not a namespace: give an integer from -32768 to 32767", namespace))
	}
	if !dataGiven {
		return "", usageError(errors.New("--data is required: give the message data in base64 (use --data '' for an empty message)"))
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	}
	if err != nil {
		return "", usageError(fmt.Errorf("--data is not standard base64: %w", err))
	}
	return storagerpc.MessageHash(pk, storagerpc.Namespace(ns), raw), nil
}
