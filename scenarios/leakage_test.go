package scenarios

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/leakage"
	"github.com/sessionsim/sessionsim/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leakageScenario is the small network with random coalitions of f = 0, 0.1, 0.3 and 1 (64
// draws each) and one of every other kind.
func leakageScenario(t *testing.T) Scenario {
	t.Helper()
	sc := small(t, "modeled")
	sc.Name = "leakage-e2e"
	sc.Nodes.Count = 60
	sc.Clients.Count = 80
	sc.Duration = 4 * time.Minute
	sc.Drain = time.Minute
	// Every client tests its guards with its own ID (iOS's profile pings instead), so that a
	// coalition learns each client at its first guard test: the premise of the checks below.
	sc.Clients.GuardTest = "own-id"
	sc.Leakage.Adversaries = []Adversary{
		{Kind: "random", Fractions: []float64{0, 0.1, 0.3, 1}, Draws: 64},
		{Kind: "operator"},
		{Kind: "provider", View: "link"},
		{Kind: "global-timing"},
	}
	sc.fillLeakage()
	require.NoError(t, sc.Validate())
	return sc
}

func adversary(t *testing.T, l *results.Leakage, name string) results.Adversary {
	t.Helper()
	for _, a := range l.Adversaries {
		if a.Name == name {
			return a
		}
	}
	require.Failf(t, "no adversary", "%s in %+v", name, l.Adversaries)
	return results.Adversary{}
}

func TestLeakageEndToEnd(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := leakageScenario(t)
	r := runShared(t, sc)
	w, l := r.w, r.sum.Leakage
	require.NotNil(t, l)
	require.Equal(t, sc.Clients.Count, l.ActiveClients, "every client bootstraps within the warmup")
	require.Positive(t, l.GuardCandidatesTestedMean)

	levels := func(e results.Exposure) map[string]*float64 {
		return map[string]*float64{"direct": e.Direct, "guard_and_destination": e.GuardAndDestination, "full_path": e.FullPath}
	}
	t.Run("f=0 sees nothing", func(t *testing.T) {
		a := adversary(t, l, "random-0")
		for name, e := range map[string]results.Exposure{"clients": a.Exposure, "pairs": a.PairExposure} {
			for level, v := range levels(e) {
				require.NotNil(t, v, "%s %s", name, level)
				assert.Zero(t, *v, "%s %s", name, level)
			}
		}
		assert.Nil(t, a.TTFC.Direct.MedianS, "never compromised")
	})
	t.Run("f=1 exposes every active client at its first request", func(t *testing.T) {
		a := adversary(t, l, "random-1")
		assert.Equal(t, 1.0, *a.Exposure.Direct)
		// S(0) = 0: every client was compromised by the very request that made it active.
		require.NotEmpty(t, a.TTFC.Direct.Curve)
		assert.Equal(t, [2]float64{0, 0}, a.TTFC.Direct.Curve[0])
		assert.Equal(t, 0.0, *a.TTFC.Direct.P90S)
		assert.Positive(t, *a.Exposure.GuardAndDestination)
		assert.Equal(t, *a.Exposure.GuardAndDestination, *a.Exposure.FullPath, "with every node, a request seen at both ends is seen everywhere")
		assert.Equal(t, 1.0, *a.PairExposure.GuardAndDestination, "every stored pair went through the coalition")
	})
	t.Run("direct agrees with 1-(1-f)^m", func(t *testing.T) {
		m := w.leak.DirectContacts()
		for _, f := range []float64{0.1, 0.3} {
			a := adversary(t, l, "random-"+trimFloat(f))
			want := 0.0
			for _, mc := range m {
				want += 1 - math.Pow(1-f, float64(mc))
			}
			want /= float64(l.ActiveClients)
			// The interval: three standard errors of the mean over the 64 draws (the draws'
			// spread from their 95% range), plus 0.005 for drawing exactly round(f*N) nodes
			// without replacement rather than each with probability f.
			sd := (*a.ExposureHigh.Direct - *a.ExposureLow.Direct) / (2 * 1.96)
			tol := 3*sd/math.Sqrt(64) + 0.005
			assert.InDelta(t, want, *a.Exposure.Direct, tol, "f=%v: m per client %v", f, m)
			assert.Greater(t, *a.Exposure.Direct, *a.Exposure.GuardAndDestination, "f=%v: the guard test dominates", f)
		}
	})
	t.Run("link observers decrypt nothing", func(t *testing.T) {
		for _, name := range []string{"provider", "global-timing"} {
			a := adversary(t, l, name)
			assert.Equal(t, "link", a.View)
			for level, v := range levels(a.Exposure) {
				assert.Nil(t, v, "%s %s", name, level)
			}
			assert.Nil(t, a.Exposure.Correlation, "%s links addresses to nodes, not to Session IDs", name)
			assert.Nil(t, a.ContactGraph, name)
			require.NotNil(t, a.TimingBothEnds)
		}
		assert.Equal(t, 1.0, *adversary(t, l, "global-timing").TimingBothEnds)
	})
	t.Run("the link attack's figures", func(t *testing.T) {
		a := adversary(t, l, "global-timing")
		lk := a.Linkability["1m"]
		require.NotNil(t, lk, "watching every link, it scores every one-minute window")
		assert.Equal(t, "node", lk.Target)
		assert.Nil(t, lk.TimingOnly)
		assert.Positive(t, lk.Positives)
		assert.Positive(t, lk.Negatives)
		require.NotNil(t, lk.TPRAtFPR1e3)
		require.NotNil(t, lk.Threshold)
		assert.LessOrEqual(t, len(lk.ROC), 50)
		assert.Nil(t, a.Linkability["10m"], "the run is shorter than ten minutes")
		require.NotNil(t, a.AnonymitySet)
		assert.GreaterOrEqual(t, *a.AnonymitySet.P10, 1.0)
	})
	t.Run("the attack's figures", func(t *testing.T) {
		a := adversary(t, l, "random-1")
		require.NotNil(t, a.Exposure.Correlation)
		assert.Positive(t, *a.Exposure.Correlation, "holding every node, the timing attack links some clients")
		assert.LessOrEqual(t, *a.Exposure.Correlation, *a.Exposure.GuardAndDestination, "it links only what it saw at both ends")
		lk := a.Linkability["1m"]
		require.NotNil(t, lk)
		require.NotNil(t, lk.TPRAtFPR1e3)
		assert.Positive(t, *lk.TPRAtFPR1e3)
		assert.LessOrEqual(t, len(lk.ROC), 50)
		assert.Nil(t, a.Linkability["10m"], "the run is shorter than ten minutes")
		require.NotNil(t, a.AnonymitySet)
		assert.GreaterOrEqual(t, *a.AnonymitySet.P10, 1.0)
		require.NotNil(t, a.ContactGraph)
		assert.Positive(t, a.ContactGraph.Edges)
		z := adversary(t, l, "random-0")
		assert.Nil(t, z.AnonymitySet, "no store seen")
		assert.Zero(t, *z.Exposure.Correlation)
	})
	t.Run("same seed, same leakage section", func(t *testing.T) {
		_, again, err := run(sc, RunOptions{})
		require.NoError(t, err)
		a, _ := json.Marshal(l)
		b, _ := json.Marshal(again.Leakage)
		assert.JSONEq(t, string(a), string(b))
		assert.Equal(t, string(a), string(b))
	})
}

// leakage.link_taps writes every transmission, and only that: the run's summary is the one it
// has without taps, the file holds one line per message the network carried (delivered or
// not), and a second run writes the same bytes.
func TestLinkTaps(t *testing.T) {
	endToEnd(t, "end-to-end run")
	plain := tiny(t)
	without := runShared(t, plain).sum

	sc := plain
	sc.Leakage.LinkTaps = true
	_, _, err := run(sc, RunOptions{})
	assert.ErrorContains(t, err, "leakage.link_taps", "nowhere to write them")

	var files [2]bytes.Buffer
	for i := range files {
		w, with, err := run(sc, RunOptions{Version: without.Version, LinkTaps: &files[i]})
		require.NoError(t, err)
		assert.Equal(t, without, with, "recording the links changes nothing in the run")
		zr, err := gzip.NewReader(bytes.NewReader(files[i].Bytes()))
		require.NoError(t, err)
		rows, err := csv.NewReader(zr).ReadAll()
		require.NoError(t, err)
		require.NotEmpty(t, rows)
		assert.Equal(t, strings.Split(leakage.LinkTapsHeader, ","), rows[0])
		var delivered, lost, bytesDelivered uint64
		for _, row := range rows[1:] {
			sent, err := strconv.ParseInt(row[0], 10, 64)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, sent, int64(0))
			size, err := strconv.ParseUint(row[4], 10, 64)
			require.NoError(t, err)
			if row[1] == "" {
				lost++
				continue
			}
			arrive, err := strconv.ParseInt(row[1], 10, 64)
			require.NoError(t, err)
			assert.Greater(t, arrive, sent)
			delivered++
			bytesDelivered += size
		}
		st := w.net.Stats()
		assert.Equal(t, st.Messages, delivered)
		assert.Equal(t, st.Bytes, bytesDelivered)
		assert.Equal(t, st.Failed+st.Blocked, lost)
	}
	assert.Equal(t, files[0].Bytes(), files[1].Bytes(), "same seed, same file")
}

func TestNoLeakageSectionRecordsNothing(t *testing.T) {
	sc := small(t, "modeled")
	w, err := buildWorld(sc, nil, nil)
	require.NoError(t, err)
	assert.Nil(t, w.leak, "no recorder, no sink")
}

// trimFloat writes f as the adversary names do.
func trimFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestLeakageChangesNothingItObserves runs the leakage scenario with and without its leakage
// section: recording what each role sees must not change what happens, so every figure of the
// summary but the leakage section itself is the same.
func TestLeakageChangesNothingItObserves(t *testing.T) {
	endToEnd(t, "end-to-end runs")
	with := leakageScenario(t)
	without := with
	without.Leakage = Leakage{}
	require.NoError(t, without.Validate())
	// The run without the section first: TestLeakageEndToEnd may be making the one with it.
	_, plain, err := run(without, RunOptions{Version: "test"})
	require.NoError(t, err)
	recorded := runShared(t, with).sum // a copy: clearing its section leaves the shared run as it was
	require.NotNil(t, recorded.Leakage, "the section was recorded")
	summaries := make([][]byte, 2)
	for k, sum := range []results.Summary{recorded, plain} {
		sum.Leakage = nil
		summaries[k], err = json.Marshal(sum)
		require.NoError(t, err)
	}
	assert.JSONEq(t, string(summaries[1]), string(summaries[0]))
}
