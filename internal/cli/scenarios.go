package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/scenarios"
)

func init() { registerCommand(newScenariosCmd) }

func newScenariosCmd() *cobra.Command {
	var explain bool
	cmd := &cobra.Command{
		Use:   "scenarios [NAME]",
		Short: "List the built-in scenarios, or print one with every default filled in",
		Long: `Without an argument, list the scenarios built into the binary. With a name (or a YAML
file), print that scenario resolved: every key with its value, defaults included. The output is a
valid scenario file to copy and edit. With --explain, list every scenario key with its unit,
default and meaning, and every fault kind with an example.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if explain {
				if len(args) > 0 {
					return usageError(fmt.Errorf("--explain takes no scenario name: it describes the keys every scenario has"))
				}
				return scenarios.Explain(out)
			}
			if len(args) == 0 {
				for _, name := range scenarios.Builtins() {
					sc, err := scenarios.Load(name, scenarios.LoadOptions{})
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "%-16s %s\n", name, sc.Description)
				}
				return nil
			}
			sc, err := scenarios.Load(args[0], scenarios.LoadOptions{})
			if err != nil {
				return usageError(err)
			}
			b, err := sc.YAML()
			if err != nil {
				return err
			}
			_, err = out.Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&explain, "explain", false, "list every scenario key (unit, default, meaning) and every fault kind with an example")
	return cmd
}
