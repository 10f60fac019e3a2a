package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/live/onionbench"
	"github.com/sessionsim/sessionsim/protocol/onion"
)

func init() { registerCommand(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the real stack on loopback (bench onion)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchOnionCmd())
	return cmd
}

func newBenchOnionCmd() *cobra.Command {
	var sizes []int
	var latencies []time.Duration
	var requests int
	var encType string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "onion",
		Short: "Time real onion requests over real sockets through 3 nodes, against the link model and crypto floor",
		Long: `Runs a client and three service nodes (guard, relay, destination) on the live driver, each
on its own loopback address with HTTPS, and times real onion requests (an info request padded to
each --sizes payload) one at a time, from the start of the build to the opened answer, with each
--latencies one-way delay added to every link by the link model (0: bare loopback).

Each point reports the round trip's p50 and p99 and its floor: the link model's round trip over
the path (three hops, each both ways) plus the path's cryptography (build, three peels, the
destination's seal, the client's open) timed in-process in the same run. ratio_p50 is p50 over
the floor; what is above 1 is what TLS, HTTP and the sockets and goroutines add.`,
		Example: `  sessionsim bench onion
  sessionsim bench onion --sizes 100,102400 --latencies 0,20ms --requests 500 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc, err := onion.ParseEncType(encType)
			if err != nil {
				return usageError(fmt.Errorf("--enc-type: %w", err))
			}
			if requests < 1 {
				return usageError(fmt.Errorf("--requests %d: give at least one request per point", requests))
			}
			cfg := onionbench.Config{Sizes: sizes, Latencies: latencies, Requests: requests, EncType: enc}
			if err := onionbench.Validate(cfg); err != nil {
				return usageError(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			errw := cmd.ErrOrStderr()
			pts, err := onionbench.Run(ctx, cfg, func(p onionbench.Point) {
				fmt.Fprintf(errw, "%g ms one way, %d B: p50 %.3f ms\n", p.LinkLatencyMS, p.PayloadBytes, p.P50MS)
			})
			if err != nil {
				return err
			}
			return printJSONOrTable(cmd.OutOrStdout(), asJSON, pts, func(w io.Writer) error { return benchTable(w, pts) })
		},
	}
	cmd.Flags().IntSliceVar(&sizes, "sizes", onionbench.DefaultSizes, "RPC payload sizes in bytes")
	cmd.Flags().DurationSliceVar(&latencies, "latencies", onionbench.DefaultLatencies, "one-way latencies added to every link (0: none)")
	cmd.Flags().IntVar(&requests, "requests", onionbench.DefaultRequests, "requests timed per point")
	cmd.Flags().StringVar(&encType, "enc-type", "aes-gcm", "onion layer cipher: aes-gcm or xchacha20")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the points as JSON")
	return cmd
}

// printJSONOrTable prints v as indented JSON when asJSON is set, else as table prints it.
func printJSONOrTable(w io.Writer, asJSON bool, v any, table func(io.Writer) error) error {
	if !asJSON {
		return table(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// benchTable prints the points as an aligned table.
func benchTable(w io.Writer, pts []onionbench.Point) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency ms\tpayload B\trequests\tfailed\tp50 ms\tp99 ms\tlink RTT ms\tcrypto ms\tfloor ms\tp50/floor\tp99/floor\t")
	for _, p := range pts {
		fmt.Fprintf(tw, "%g\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", p.LinkLatencyMS, p.PayloadBytes, p.Requests, p.Failures,
			p.P50MS, p.P99MS, p.LinkRTTMS, p.CryptoMS, p.FloorMS, p.RatioP50, p.RatioP99)
	}
	return tw.Flush()
}
