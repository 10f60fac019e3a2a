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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(stderr, "sessionsim:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "sessionsim:", err)
	if isUsageProblem(err) {
		return exitUsage
	}
	return exitFailure
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
