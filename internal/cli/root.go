// Package cli is sessionsim's command line: cobra commands over the simulator, the scenario
// runner and the protocol tools, with viper for layered configuration.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/sessionsim/sessionsim/internal/cli.Version=...".
var Version = "dev"

// Exit codes shared by every subcommand, documented in the root command's help and README.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed or was interrupted, or the data did not check out (a tampered ciphertext)
	exitUsage   = 2 // the input was wrong: a bad flag or argument, an unknown command, an invalid scenario
	exitChecks  = 3 // the run (or the results checked) failed one of its checks
)

// exitError carries the exit code a failure should end the process with.
type exitError struct {
	code int
	err  error
	// showUsage: the error is cobra's own (an unknown flag, a wrong number of arguments), which
	// says what is wrong but not what the command takes, so its usage line follows.
	showUsage bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a problem with the user's input (exit code 2).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// subcommands registered by the files of this package (tool_*.go, run.go, ...), so that each
// command lives in a file of its own.
var subcommands []func() *cobra.Command

func registerCommand(f func() *cobra.Command) { subcommands = append(subcommands, f) }

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sessionsim",
		Short: "Simulate the Session messenger network and measure delivery, replication and privacy",
		Long: `Simulate the Session messenger network and measure delivery, replication and privacy.

Exit codes:
  0  success: every check passed
  1  the run failed or was interrupted (Ctrl-C), or a tool's data did not check out
  2  bad input or usage: an unknown command or flag, a malformed argument, or a scenario
     refused at load (the message names the key, the value and where it was set), a
     malformed check or one naming a figure summary.json does not have
  3  checks failed: the run finished, or the results directory was read, and at least
     one of its checks did not hold (in any seed or arm of run --seeds and sweep), or a
     compare --fail-on rule broke`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err, showUsage: true} })
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	root.InitDefaultCompletionCmd()
	refuseUnknownSubcommands(root)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			switch {
			case err != nil:
				return usageError(err)
			case len(rest) > 0 && cmd.HasSubCommands():
				// Below a command that groups others a word must name one of them; below any
				// other it is that command's argument (help run default), and its help is
				// what was asked for.
				return unknownSubcommand(cmd, rest[0])
			}
			return cmd.Help()
		},
	})
	return root
}

// refuseUnknownSubcommands makes root and every command below it that only groups others
// (bench, completion) refuse a name none of their subcommands has, in one line with exit code 2
// (cobra would print the help and succeed, or a suggestion over several lines); without a name
// they still print the help. Runnable only for this, they show no usage line of their own
// ("sessionsim [flags]" would promise a run), only "sessionsim [command]".
func refuseUnknownSubcommands(root *cobra.Command) {
	const groupOnly = "group-only"
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "Usage:{{if .Runnable}}",
		`Usage:{{if and .Runnable (not (index .Annotations "`+groupOnly+`"))}}`, 1))
	for _, c := range append(root.Commands(), root) {
		if c.HasSubCommands() && !c.Runnable() {
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[groupOnly] = "true"
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				return unknownSubcommand(cmd, args[0])
			}
		}
	}
}

// unknownSubcommand is the usage error for a NAME that is none of cmd's subcommands, naming
// the closest one; `sessionsim tool` calls its subcommands tools.
func unknownSubcommand(cmd *cobra.Command, name string) error {
	kind := "command"
	if isToolGroup(cmd) {
		kind = "tool"
	}
	return usageError(fmt.Errorf("unknown %s %q%s; run `%s --help` for the list", kind, name, closestCommand(cmd, name), cmd.CommandPath()))
}

// Execute runs the command line and returns the process exit code.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitFailure, err: err}
		if isUsageProblem(err) {
			ee.code, ee.showUsage = exitUsage, true
		}
	}
	if errors.Is(err, errReported) {
		return ee.code
	}
	msg := ee.err.Error()
	if ee.showUsage && cmd != root {
		msg += fmt.Sprintf("; usage: %s (`%s --help` says more)", cmd.UseLine(), cmd.CommandPath())
	}
	if isTool(cmd) && jsonAsked(args) {
		// A tool asked for JSON answers with JSON, even when cobra refused its flags or arguments
		// before the tool ran (toolFailure reports the tool's own failures).
		_ = writeJSON(stdout, map[string]string{"error": msg})
		return ee.code
	}
	fmt.Fprintln(stderr, "sessionsim:", msg)
	return ee.code
}

// errReported marks a failure whose message the command has already printed (for example as
// JSON on stdout), so Execute only sets the exit code.
var errReported = errors.New("already reported")

// isUsageProblem recognises cobra's own argument errors, which it does not type.
func isUsageProblem(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
