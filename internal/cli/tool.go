package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// toolCommands are the `sessionsim tool` subcommands, each registered from its own file.
var toolCommands []func() *cobra.Command

func registerTool(f func() *cobra.Command) { toolCommands = append(toolCommands, f) }

func init() {
	registerCommand(func() *cobra.Command {
		tool := &cobra.Command{
			Use:   "tool NAME",
			Short: "Protocol tools for debugging captured Session traffic (IDs, swarms, hashes, onion layers, messages)",
			Long: `Protocol tools for debugging captured Session traffic (IDs, swarms, hashes, onion layers,
messages). Each prints readable text, or one JSON object with --json.

Exit codes: 0 the answer was printed; 1 the input is well-formed but the data does not check out
(a layer or message that does not open with the key given); 2 a missing or malformed argument
or flag, or an unknown tool name.`,
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				return toolFailure(cmd, unknownSubcommand(cmd, args[0]))
			},
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
// --json. The process exits 2 when err is a usageError (a missing or malformed argument or
// flag) and 1 otherwise (the input is well-formed but the data does not check out).
func toolFailure(cmd *cobra.Command, err error) error {
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if jsonOutput(cmd) {
		_ = writeJSON(cmd.OutOrStdout(), map[string]string{"error": err.Error()})
		return &exitError{code: code, err: errReported}
	}
	return &exitError{code: code, err: err}
}

// closestCommand names the subcommand of cmd closest to name, as cobra measures it (edit
// distance, or name as a prefix), e.g. ` (did you mean "swarms"?)`.
func closestCommand(cmd *cobra.Command, name string) string {
	defer func(d int) { cmd.SuggestionsMinimumDistance = d }(cmd.SuggestionsMinimumDistance)
	for d := 1; d <= len(name)+32; d++ {
		cmd.SuggestionsMinimumDistance = d
		if s := cmd.SuggestionsFor(name); len(s) > 0 {
			return fmt.Sprintf(" (did you mean %q?)", s[0])
		}
	}
	return ""
}

// isToolGroup reports whether cmd is `sessionsim tool`.
func isToolGroup(cmd *cobra.Command) bool {
	return cmd.Name() == "tool" && cmd.HasParent() && !cmd.Parent().HasParent()
}

// isTool reports whether cmd is one of the `sessionsim tool` subcommands.
func isTool(cmd *cobra.Command) bool { return cmd.HasParent() && isToolGroup(cmd.Parent()) }

// jsonAsked reports whether a command line gives a tool --json as pflag reads it (--json or
// --json=BOOL, the last one winning, none after "--"), for a failure cobra reports before it
// has parsed the flags.
func jsonAsked(args []string) bool {
	asked := false
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" {
			asked = true
		} else if v, ok := strings.CutPrefix(a, "--json="); ok {
			if b, err := strconv.ParseBool(v); err == nil {
				asked = b
			}
		}
	}
	return asked
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
