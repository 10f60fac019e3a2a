package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "90d", want: 90 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "0.5d", want: 12 * time.Hour},
		{in: "-2d", want: -48 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "d", bad: true},
		{in: "1e3d", bad: true},
		{in: "2d-1h", bad: true},
		{in: "90 days", bad: true},
	} {
		got, err := parseDays(tc.in)
		if tc.bad {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// TestPathSelectionAgreesWithFullSimulation plays the same hour of the same network both ways:
// the full simulation, and the path-selection mode at the request rates that simulation
// measured. Both face the same coalitions (their streams depend on the seed and the network
// only), so exposure and time to first compromise must agree within their intervals.
func TestPathSelectionAgreesWithFullSimulation(t *testing.T) {
	endToEnd(t, "two end-to-end runs")
	sc := Default()
	sc.Name = "horizon-validation"
	sc.Crypto = "modeled"
	// The structural form: the summary of wire=bytes byte for byte (TestStructuralSameSummary;
	// this hour gave the same full and path-selection summaries both ways), in a third of the time.
	sc.Wire = "structural"
	sc.Nodes.Count = 200
	sc.Clients.Count = 300
	sc.Warmup = time.Minute
	sc.Duration = 58 * time.Minute
	sc.Drain = time.Minute
	sc.Leakage.Adversaries = []Adversary{{Kind: "random", Fractions: []float64{0.05, 0.2}, Draws: 32}, {Kind: "operator"}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	w, full, err := run(sc, RunOptions{})
	require.NoError(t, err)
	// The mode's own step after the same run: a second full run would only repeat the first.
	total := sc.Warmup + sc.Duration + sc.Drain
	w.sc.Leakage.Horizon = total
	l, err := w.analyzeLeakage(total)
	require.NoError(t, err)
	ps := results.Summary{Leakage: l}

	require.Nil(t, full.Leakage.RequestRates, "a full simulation is not the path-selection mode")
	assert.Empty(t, full.Leakage.Mode)
	assert.Equal(t, "path-selection", ps.Leakage.Mode)
	assert.Contains(t, ps.Leakage.Note, "path-selection mode")
	assert.Equal(t, full.Leakage.ActiveClients, ps.Leakage.ActiveClients)
	assert.InDelta(t, full.Leakage.GuardCandidatesTestedMean, ps.Leakage.GuardCandidatesTestedMean, 0.05)
	require.Positive(t, ps.Leakage.RequestRates["desktop"]["poll"], "polls were measured")

	for _, name := range []string{"random-0.05", "random-0.2", "operator"} {
		f, p := adversary(t, full.Leakage, name), adversary(t, ps.Leakage, name)
		levels := []struct {
			level        string
			f, p, lo, hi *float64
			fSurv, pSurv *results.Survival
		}{
			{"direct", f.Exposure.Direct, p.Exposure.Direct, f.ExposureLow.Direct, f.ExposureHigh.Direct, f.TTFC.Direct, p.TTFC.Direct},
			{"guard_and_destination", f.Exposure.GuardAndDestination, p.Exposure.GuardAndDestination, f.ExposureLow.GuardAndDestination, f.ExposureHigh.GuardAndDestination, f.TTFC.GuardAndDestination, p.TTFC.GuardAndDestination},
			{"full_path", f.Exposure.FullPath, p.Exposure.FullPath, f.ExposureLow.FullPath, f.ExposureHigh.FullPath, f.TTFC.FullPath, p.TTFC.FullPath},
		}
		for _, l := range levels {
			what := fmt.Sprintf("%s %s", name, l.level)
			require.NotNil(t, l.f, what)
			require.NotNil(t, l.p, what)
			// The interval of the mean over the draws: three standard errors from the spread
			// of the full simulation's draws (their 95% range), and for a fixed coalition
			// (one draw) three binomial standard errors over the clients, plus 0.01 for the
			// rates' Poisson approximation of the apps' fixed poll intervals.
			n := float64(f.Draws)
			sd := (*l.hi - *l.lo) / (2 * 1.96)
			tol := 3*sd/math.Sqrt(n) + 3*math.Sqrt(*l.f*(1-*l.f)/float64(full.Leakage.ActiveClients)/n) + 0.01
			assert.InDelta(t, *l.f, *l.p, tol, what)
			// Time to first compromise: the fraction compromised by 1 h, and the curves on
			// their common grid, within the same interval.
			assert.InDelta(t, l.fSurv.At(1800), l.pSurv.At(1800), tol, "%s: S(30 min)", what)
			assert.InDelta(t, l.fSurv.At(60), l.pSurv.At(60), tol, "%s: S(1 min)", what)
		}
	}
}

// TestHorizonChurn plays three days of a small network in the path-selection mode under node
// churn: the recorder gets the records in time order, nothing is recorded at or through a node
// after it crashed, and no client that is ready keeps a crashed node on a path.
func TestHorizonChurn(t *testing.T) {
	endToEnd(t, "an end-to-end run")
	sc := memoryWorld(40, 80)
	sc.Duration, sc.Drain = 2*time.Minute, 30*time.Second
	sc.Leakage.Adversaries = []Adversary{{Kind: "random", Fractions: []float64{0.2}, Draws: 4}}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	w, _, err := run(sc, RunOptions{})
	require.NoError(t, err)
	rates := w.leak.RequestRates(sc.Warmup, sc.Warmup+sc.Duration)

	for _, tc := range []struct {
		name               string
		crashes, joins     float64
		rotation           time.Duration
		wantCrashedAtLeast int
	}{
		{name: "no churn"},
		{name: "crashes", crashes: 0.5, wantCrashedAtLeast: 10},
		{name: "crashes and joins, paths rotating", crashes: 1, joins: 1, rotation: 30 * time.Minute, wantCrashedAtLeast: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.sc.Nodes.Churn.CrashesPerHour, w.sc.Nodes.Churn.JoinsPerHour = tc.crashes, tc.joins
			w.sc.Clients.PathRotation = tc.rotation
			w.sc.Leakage.Horizon = 3 * 24 * time.Hour
			h, err := newHorizon(w, rates)
			require.NoError(t, err)
			rec := h.play()

			crashed := 0
			for _, n := range h.nodes {
				if !n.alive {
					crashed++
				}
			}
			assert.GreaterOrEqual(t, crashed, tc.wantCrashedAtLeast)
			if tc.crashes == 0 {
				assert.Zero(t, crashed)
			}
			if tc.joins > 0 {
				assert.Greater(t, len(h.nodes), sc.Nodes.Count, "nodes joined")
			}
			require.NotEmpty(t, rec.Onion)

			byTime := func(a, b time.Duration) int { return cmp.Compare(a, b) }
			assert.True(t, slices.IsSortedFunc(rec.Onion, func(a, b leakage.OnionRecord) int { return byTime(a.Sent, b.Sent) }), "requests in time order")
			assert.True(t, slices.IsSortedFunc(rec.GuardTests, func(a, b leakage.GuardTestRecord) int { return byTime(a.At, b.At) }), "guard tests in time order")
			assert.True(t, slices.IsSortedFunc(rec.Direct, func(a, b leakage.DirectRecord) int { return byTime(a.At, b.At) }), "direct requests in time order")
			assert.True(t, slices.IsSortedFunc(rec.Paths, func(a, b leakage.PathRecord) int { return byTime(a.At, b.At) }), "paths in time order")

			// up says whether node n was running at t.
			up := func(n int32, t time.Duration) bool { return h.nodes[n].alive || t < h.nodes[n].down }
			for _, o := range rec.Onion {
				for _, n := range append(slices.Clone(rec.Hops(o.Path())), o.Dest) {
					require.True(t, up(n, o.Sent), "a request at %v through node %d, which crashed at %v: %s from client %d through %v to %d", o.Sent, n, h.nodes[n].down, rec.Method(o.Method), o.Client, rec.Hops(o.Path()), o.Dest)
				}
			}
			for _, d := range rec.Direct {
				require.True(t, up(d.Node, d.At), "a direct request at %v to node %d, which crashed at %v", d.At, d.Node, h.nodes[d.Node].down)
			}
			for _, g := range rec.GuardTests {
				if g.OK {
					require.True(t, up(g.Node, g.At), "node %d passed a guard test at %v, after it crashed at %v", g.Node, g.At, h.nodes[g.Node].down)
				}
			}
			for _, c := range h.clients {
				if !c.ready {
					continue
				}
				for _, p := range c.sel.Paths() {
					for _, k := range p {
						assert.True(t, h.nodes[h.byKey[k]].alive, "client %d ends with a crashed node on a path", c.i)
					}
				}
			}
		})
	}
}
