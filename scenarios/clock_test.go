package scenarios

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// TestClockDraw checks each distribution's draws against its definition: mean, spread, bounds
// and the share of far clocks, measured over many draws.
func TestClockDraw(t *testing.T) {
	const n = 40000
	for _, tc := range []struct {
		name  string
		clock Clock
		// wantSD is the standard deviation of the near clocks' errors.
		wantSD time.Duration
		// bound, when set, is the largest near error.
		bound time.Duration
	}{
		{"none", Clock{Distribution: ClockNone, Spread: time.Second}, 0, time.Nanosecond},
		{"normal", Clock{Distribution: ClockNormal, Spread: 2 * time.Second}, 2 * time.Second, 0},
		{"uniform", Clock{Distribution: ClockUniform, Spread: 3 * time.Second}, time.Duration(float64(3*time.Second) / math.Sqrt(3)), 3 * time.Second},
		{"normal with far clocks", Clock{Distribution: ClockNormal, Spread: time.Second, FarShare: 0.2, FarOffset: time.Hour}, time.Second, 0},
		{"far clocks alone", Clock{Distribution: ClockNone, FarShare: 0.035, FarOffset: 10 * time.Minute}, 0, time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			var near metrics.Histogram
			var sum, sumSq float64
			far, ahead := 0, 0
			for range n {
				d := tc.clock.draw(r)
				if tc.clock.FarShare > 0 && d.Abs() > tc.clock.FarOffset/2 {
					far++
					if d > 0 {
						ahead++
					}
					// A far clock is FarOffset off, plus the near spread.
					assert.InDelta(t, tc.clock.FarOffset.Seconds(), d.Abs().Seconds(), 6*tc.wantSD.Seconds()+1e-9)
					continue
				}
				near.Add(d.Seconds())
				sum += d.Seconds()
				sumSq += d.Seconds() * d.Seconds()
				if tc.bound > 0 {
					require.LessOrEqual(t, d.Abs(), tc.bound)
				}
			}
			count := float64(near.Count())
			mean := sum / count
			sd := math.Sqrt(sumSq/count - mean*mean)
			assert.InDelta(t, 0, mean, 0.03*tc.wantSD.Seconds()+1e-9, "errors centred on the true time")
			assert.InDelta(t, tc.wantSD.Seconds(), sd, 0.02*tc.wantSD.Seconds()+1e-9, "spread")
			share := float64(far) / n
			assert.InDelta(t, tc.clock.FarShare, share, 4*math.Sqrt(tc.clock.FarShare*(1-tc.clock.FarShare)/n)+1e-9, "share of far clocks")
			if far > 0 {
				assert.InDelta(t, 0.5, float64(ahead)/float64(far), 4*math.Sqrt(0.25/float64(far)), "far clocks are ahead or behind alike")
			}
		})
	}
}

func TestClockKeys(t *testing.T) {
	checkParseErrors(t, []parseError{
		{"unknown distribution", "name: t\nclients:\n  clock: {distribution: gaussian}\n", LoadOptions{}, "bad.yaml:3", "clients.clock.distribution", "unknown clock distribution: use none, normal, uniform"},
		{"unknown distribution by --set", "name: t\n", LoadOptions{Sets: []string{"clients.clock.distribution=lognormal"}}, "--set", "clients.clock.distribution", "none, normal, uniform"},
		{"negative spread", "name: t\nclients:\n  clock: {spread: -1s}\n", LoadOptions{}, "bad.yaml:3", "clients.clock.spread", "negative"},
		{"spread without unit", "name: t\nclients:\n  clock: {spread: 2}\n", LoadOptions{}, "bad.yaml:3", "clients.clock.spread", "no unit"},
		{"far share above 1", "name: t\n", LoadOptions{Sets: []string{"clients.clock.far_share=1.5"}}, "--set", "clients.clock.far_share", "between 0 and 1"},
		{"far clocks not off", "name: t\nclients:\n  clock: {far_share: 0.1, far_offset: 0s}\n", LoadOptions{}, "bad.yaml:3", "clients.clock.far_offset", "must be positive when clients.clock.far_share is set"},
	})
	s, err := Parse([]byte("name: t\nclients:\n  clock: {distribution: uniform, spread: 5s, far_share: 0.035}\n"), "ok.yaml", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, Clock{Distribution: ClockUniform, Spread: 5 * time.Second, FarShare: 0.035, FarOffset: time.Hour}, s.Clients.Clock, "far_offset keeps its default")
}

// TestClockRun runs a small network in which some clients' clocks are minutes off and every
// client closes its app for a minute and reopens it. At the first start the apps learn the
// network time before they sign; reopened, they have forgotten it and are refused with 406
// until they learn it again, after which they receive again. With the default clocks (a
// spread of seconds) nothing is refused.
func TestClockRun(t *testing.T) {
	endToEnd(t, "end-to-end run")
	const farOffset = 5 * time.Minute
	for _, tc := range []struct {
		name  string
		clock Clock
	}{
		{"default clocks", Default().Clients.Clock},
		{"far clocks", Clock{Distribution: ClockNormal, Spread: 2 * time.Second, FarShare: 0.4, FarOffset: farOffset}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // two runs of 72 virtual minutes that share nothing
			sc := tiny(t)
			// The structural form: the summary of wire=bytes byte for byte (both cases gave the
			// same both ways), in a quarter to a third of the time; what is measured is the
			// clients' clocks, which the nodes check and answer alike in either form.
			sc.Wire = "structural"
			sc.Clients.Clock = tc.clock
			// Long enough for the desktop's hourly refreshes, whose answers carry "t".
			sc.Duration = 70 * time.Minute
			sc.Faults = []Fault{{At: time.Minute, For: time.Minute, Kind: "offline", Fraction: 1}}
			w, sum, err := run(sc, RunOptions{})
			require.NoError(t, err)
			c := sum.Clocks

			// The offsets the world drew, drawn again from the same stream.
			r := w.eng.Stream("clock")
			offsets := make([]time.Duration, len(w.clients))
			for i := range offsets {
				offsets[i] = sc.Clients.Clock.draw(r)
			}
			assert.Equal(t, uint64(len(w.clients)), c.OffsetAbsMs.Count, "one offset per client")
			assert.Zero(t, c.Status425, "storage servers never answer 425")
			assert.Equal(t, c.Status406, c.RejectedTooOld+c.RejectedTooNew, "every refusal is on one side")
			var old, new uint64
			for _, r := range c.ByPlatform {
				old, new = old+r.RejectedTooOld, new+r.RejectedTooNew
			}
			assert.Equal(t, [2]uint64{c.RejectedTooOld, c.RejectedTooNew}, [2]uint64{old, new}, "the platforms add up")

			if tc.clock.FarShare == 0 {
				assert.Zero(t, c.Status406, "clocks seconds off are within every window")
				assert.Zero(t, c.ClientsRejected)
				return
			}
			require.Positive(t, c.Status406, "reopened apps sign with their own clocks")
			assert.Positive(t, c.RejectedTooOld)
			assert.Positive(t, c.RejectedTooNew)
			returned := w.epoch.Add(sc.Warmup + 2*time.Minute)
			for i := range w.clients {
				if !w.col.clocks.rejected[i] {
					continue
				}
				assert.Greater(t, offsets[i].Abs(), storagerpc.StoreTolerance, "client %d refused with a clock %v off", i, offsets[i])
				delivered := false
				for _, h := range w.col.order {
					rec := w.col.messages[h]
					delivered = delivered || (rec.recipient == i && rec.delivered && rec.deliveredAt.After(returned))
				}
				assert.True(t, delivered, "client %d (%s, clock %v off) receives again once it learnt the time", i, w.clients[i].platform, offsets[i])
			}
			assert.Zero(t, c.ClientsUnrecovered, "every refused client learnt the time again")
			// Android's resync at the first start may lose the race with its first poll: a
			// spell there too.
			assert.GreaterOrEqual(t, c.RecoveryMs.Count, c.ClientsRejected, "a spell of refusals per client after its return, each ended")
			assert.LessOrEqual(t, c.RecoveryMs.Max, float64(time.Hour/time.Millisecond)+60_000, "the desktop's hourly refreshes end the longest spell")
		})
	}
}
