package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/scenarios"
)

func init() { registerCommand(newCompareModesCmd) }

// modesTotal is the length of the world compare-modes runs when no scenario is named.
const modesTotal = 5 * time.Minute

func newCompareModesCmd() *cobra.Command {
	var f scenarioFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare-modes [SCENARIO]",
		Short: "Run one scenario in sim mode and in live mode and compare delivery and onion round trips",
		Long: `Runs the scenario in the simulator, then live (every actor on real loopback sockets in real
time, so it takes the scenario's warmup, duration and drain of wall-clock time), and compares
them: messages sent, delivered and lost with the delivery ratio, the end-to-end latency of
messages to online recipients, and the onion round trips (every successful one is kept): their
p50 and p99, the ratio live over sim, and the two-sample Kolmogorov-Smirnov distance between the
two distributions with its 5% critical value for the sample sizes. The modes are not expected
to agree exactly: live mode pays for real TLS, HTTP and goroutines.

Without SCENARIO the world is the default scenario at 20 nodes and 50 clients, crypto real, no
groups and no push (the comparison is of 1:1 messages and onion round trips), 5 minutes long
(1 minute warmup, 3 sending, 1 drain). --set overrides its keys, as for run, but for mode: both
modes are run. What live mode refuses (crypto=modeled: live mode sends real bytes) is refused
before either run starts (exit 2).`,
		Example: `  sessionsim compare-modes
  sessionsim compare-modes --set warmup=15s --set duration=30s --set drain=15s --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, kv := range f.sets {
				if key, _, _ := strings.Cut(kv, "="); strings.EqualFold(strings.TrimSpace(key), "mode") {
					return usageError(fmt.Errorf("--set %s: compare-modes runs the scenario in both modes, sim and then live; drop this --set", kv))
				}
			}
			load, err := f.loadOptions(false)
			if err != nil {
				return usageError(err)
			}
			load.Mode = "live" // validated for the stricter of the two runs
			var sc scenarios.Scenario
			if len(args) == 1 {
				sc, err = scenarios.Load(args[0], load)
			} else {
				var src []byte
				if src, err = scenarios.ModesScenario(modesTotal).YAML(); err != nil {
					return err
				}
				sc, err = scenarios.Parse(src, "compare-modes", load)
			}
			if err != nil {
				return usageError(err)
			}
			errw := cmd.ErrOrStderr()
			c, err := scenarios.CompareModes(sc, scenarios.RunOptions{Version: Version}, func(mode string) {
				fmt.Fprintf(errw, "running %s in %s mode (%v)\n", sc.Name, mode, sc.Warmup+sc.Duration+sc.Drain)
			})
			if err != nil {
				return err
			}
			return printJSONOrTable(cmd.OutOrStdout(), asJSON, c, func(w io.Writer) error { return modesTable(w, c) })
		},
	}
	cmd.Flags().StringVar(&f.seed, "seed", "", "override the scenario's seed (an unsigned integer)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario key, e.g. --set nodes.count=30 (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	return cmd
}

// modesTable prints both runs side by side and the distances between them.
func modesTable(w io.Writer, c scenarios.ModeComparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ratio := func(r *float64) string {
		if r == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.4f", *r)
	}
	fmt.Fprintln(tw, "\tsim\tlive\tlive/sim")
	fmt.Fprintf(tw, "messages sent / delivered / lost\t%d / %d / %d\t%d / %d / %d\t\n", c.Sim.Sent, c.Sim.Delivered, c.Sim.Lost, c.Live.Sent, c.Live.Delivered, c.Live.Lost)
	fmt.Fprintf(tw, "delivery ratio\t%s\t%s\t%+.4f (difference)\n", ratio(c.Sim.DeliveryRatio), ratio(c.Live.DeliveryRatio), c.DeliveryDiff)
	fmt.Fprintf(tw, "end-to-end p50 / p99 ms (online)\t%.0f / %.0f\t%.0f / %.0f\t\n", c.Sim.E2EP50MS, c.Sim.E2EP99MS, c.Live.E2EP50MS, c.Live.E2EP99MS)
	fmt.Fprintf(tw, "onion round trips\t%d\t%d\t\n", c.Sim.OnionRoundTrips, c.Live.OnionRoundTrips)
	fmt.Fprintf(tw, "onion RTT p50 ms\t%.1f\t%.1f\t%.3f\n", c.Sim.OnionP50MS, c.Live.OnionP50MS, c.P50Ratio)
	fmt.Fprintf(tw, "onion RTT p99 ms\t%.1f\t%.1f\t%.3f\n", c.Sim.OnionP99MS, c.Live.OnionP99MS, c.P99Ratio)
	fmt.Fprintf(tw, "KS distance (5%% critical)\t\t\t%.3f (%.3f)\n", c.KSDistance, c.KSCritical5)
	fmt.Fprintf(tw, "wall time\t%v\t%v\t\n", c.Sim.Wall.Round(time.Millisecond), c.Live.Wall.Round(time.Millisecond))
	return tw.Flush()
}
