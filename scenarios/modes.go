package scenarios

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/results"
)

// ModeRun is one mode's side of a ModeComparison.
type ModeRun struct {
	Mode          string   `json:"mode"`
	Sent          uint64   `json:"sent"`
	Delivered     uint64   `json:"delivered"`
	Lost          uint64   `json:"lost"`
	DeliveryRatio *float64 `json:"delivery_ratio"`
	// OnionRoundTrips counts the successful onion requests, as the summary's onion_rtt_ms does.
	OnionRoundTrips int     `json:"onion_round_trips"`
	OnionP50MS      float64 `json:"onion_rtt_p50_ms"`
	OnionP99MS      float64 `json:"onion_rtt_p99_ms"`
	// E2EP50MS and E2EP99MS are the end-to-end latency of messages whose recipient was online.
	E2EP50MS float64 `json:"e2e_online_p50_ms"`
	E2EP99MS float64 `json:"e2e_online_p99_ms"`
	// Wall is how long the run took.
	Wall time.Duration `json:"wall_ns"`
	// OnionRTTs are the round trips in milliseconds, in the order they ended.
	OnionRTTs []float64       `json:"-"`
	Summary   results.Summary `json:"-"`
}

// ModeComparison is one scenario run in sim mode and in live mode, and how close the two are:
// delivery, and the onion round-trip distributions under a two-sample Kolmogorov-Smirnov test.
// Nothing makes them equal: live mode pays for real TLS, HTTP, goroutines and the machine's
// scheduler, which the simulator's CPU model only approximates, and its random draws differ.
type ModeComparison struct {
	Sim  ModeRun `json:"sim"`
	Live ModeRun `json:"live"`
	// KSDistance is the largest gap between the two empirical distributions of onion round
	// trips (0: identical, 1: disjoint).
	KSDistance float64 `json:"ks_distance"`
	// KSCritical5 is the distance above which the test rejects "same distribution" at the 5%
	// level for these sample sizes (1.358 sqrt((n+m)/(n m))). With thousands of samples it is
	// small: the distance itself says how far apart the distributions are.
	KSCritical5 float64 `json:"ks_critical_5pct"`
	// P50Ratio and P99Ratio are live over sim of the onion round trip's percentiles.
	P50Ratio float64 `json:"onion_p50_ratio_live_sim"`
	P99Ratio float64 `json:"onion_p99_ratio_live_sim"`
	// DeliveryDiff is the live delivery ratio minus the simulated one (0 when either is null).
	DeliveryDiff float64 `json:"delivery_ratio_diff_live_sim"`
}

// CompareModes runs sc in sim mode, then in live mode (real sockets, real time: it takes the
// scenario's warmup, duration and drain of wall-clock time), and compares them. sc must be
// acceptable in both modes (crypto real: see validateLive).
// starting, if set, is told the mode about to run.
func CompareModes(sc Scenario, opts RunOptions, starting func(mode string)) (ModeComparison, error) {
	var c ModeComparison
	for _, m := range []struct {
		mode string
		out  *ModeRun
	}{{"sim", &c.Sim}, {"live", &c.Live}} {
		s := sc
		s.Mode = m.mode
		if err := s.Validate(); err != nil {
			return c, fmt.Errorf("%s mode: %w", m.mode, err)
		}
		if starting != nil {
			starting(m.mode)
		}
		r, err := runKeepingRTTs(s, opts)
		if err != nil {
			return c, fmt.Errorf("%s mode: %w", m.mode, err)
		}
		*m.out = r
	}
	if len(c.Sim.OnionRTTs) == 0 || len(c.Live.OnionRTTs) == 0 {
		return c, fmt.Errorf("no onion round trip to compare (sim %d, live %d): lengthen the run", len(c.Sim.OnionRTTs), len(c.Live.OnionRTTs))
	}
	c.KSDistance = ksDistance(c.Sim.OnionRTTs, c.Live.OnionRTTs)
	n, m := float64(len(c.Sim.OnionRTTs)), float64(len(c.Live.OnionRTTs))
	c.KSCritical5 = 1.358 * math.Sqrt((n+m)/(n*m))
	c.P50Ratio = c.Live.OnionP50MS / c.Sim.OnionP50MS
	c.P99Ratio = c.Live.OnionP99MS / c.Sim.OnionP99MS
	if c.Sim.DeliveryRatio != nil && c.Live.DeliveryRatio != nil {
		c.DeliveryDiff = *c.Live.DeliveryRatio - *c.Sim.DeliveryRatio
	}
	return c, nil
}

// runKeepingRTTs runs s and keeps every successful onion round trip beside the summary.
func runKeepingRTTs(s Scenario, opts RunOptions) (ModeRun, error) {
	var mu sync.Mutex // the live driver's sinks run on its actors' goroutines (one at a time)
	var rtts []float64
	opts.Sink = func(_ time.Time, _ actor.Addr, ev actor.Event) {
		if e, ok := ev.(client.OnionRoundTrip); ok && e.Failure == client.OK {
			mu.Lock()
			rtts = append(rtts, float64(e.RTT)/float64(time.Millisecond))
			mu.Unlock()
		}
	}
	start := time.Now()
	sum, err := Run(s, opts)
	if err != nil {
		return ModeRun{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	r := ModeRun{Mode: s.Mode, Sent: sum.Messages.Sent, Delivered: sum.Messages.Delivered, Lost: sum.Messages.Lost,
		DeliveryRatio: sum.DeliveryRatio, OnionRoundTrips: len(rtts), Wall: time.Since(start), OnionRTTs: rtts, Summary: sum,
		E2EP50MS: sum.EndToEndOnlineMs.P50, E2EP99MS: sum.EndToEndOnlineMs.P99}
	if len(rtts) > 0 {
		r.OnionP50MS, r.OnionP99MS = empiricalQuantile(rtts, 0.5), empiricalQuantile(rtts, 0.99)
	}
	return r, nil
}

// ksDistance is the two-sample Kolmogorov-Smirnov statistic of a and b.
func ksDistance(a, b []float64) float64 {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return stat.KolmogorovSmirnov(x, nil, y, nil)
}

func empiricalQuantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return stat.Quantile(q, stat.Empirical, s, nil)
}

// ModesScenario is the world CompareModes is run on by default: the default scenario at 20
// nodes and 50 clients, with groups and push off (the comparison is of 1:1 messages and onion
// round trips, as the README's figures were measured), for total of time (a fifth warmup, three fifths sending, a fifth drain).
func ModesScenario(total time.Duration) Scenario {
	sc := Default()
	sc.Name = "modes"
	sc.Crypto = "real"
	sc.Nodes.Count, sc.Clients.Count = 20, 50
	sc.Workload.Groups.PerClient = 0
	sc.Servers.Push.Enabled = false
	sc.Warmup, sc.Duration, sc.Drain = total/5, total*3/5, total/5
	return sc
}
