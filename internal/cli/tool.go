package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// toolCommands are the `sessionsim tool` subcommands, each registered from its own file.
var toolCommands []func() *cobra.Command

func registerTool(f func() *cobra.Command) { toolCommands = append(toolCommands, f) }

func init() {
	registerCommand(func() *cobra.Command {
		tool := &cobra.Command{
			Use:   "tool",
			Short: "Protocol tools for debugging captured Session traffic (IDs, swarms, hashes, onion layers, messages)",
		}
		tool.PersistentFlags().Bool("json", false, "print one JSON object instead of readable text")
		for _, f := range toolCommands {
			tool.AddCommand(f())
		}
		return tool
	})
}

// toolField is one named value of a tool's answer: JSON key and readable label.
type toolField struct {
	Key   string // JSON field name
	Label string // readable label; empty uses Key
	Value any
}

// printTool writes a tool's answer: one JSON object with --json, else one "label: value" line
// per field.
func printTool(cmd *cobra.Command, fields []toolField) error {
	out := cmd.OutOrStdout()
	if jsonOutput(cmd) {
		obj := make(map[string]any, len(fields))
		for _, f := range fields {
			obj[f.Key] = f.Value
		}
		return writeJSON(out, obj)
	}
	for _, f := range fields {
		label := f.Label
		if label == "" {
			label = f.Key
		}
		fmt.Fprintf(out, "%s: %v\n", label, f.Value)
	}
	return nil
}

// toolFailure reports a tool's failure: one line on stderr, or {"error": ...} on stdout with
// --json; the process exits 1 either way.
func toolFailure(cmd *cobra.Command, err error) error {
	if jsonOutput(cmd) {
		_ = writeJSON(cmd.OutOrStdout(), map[string]string{"error": err.Error()})
		return &exitError{code: exitFailure, err: errReported}
	}
	return &exitError{code: exitFailure, err: err}
}

func jsonOutput(cmd *cobra.Command) bool {
	v, err := cmd.Flags().GetBool("json")
	return err == nil && v
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
