package scenarios

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// faultWorld builds a small world with the scenario's faults and churn scheduled, and nothing
// else (no workload, no sessions), so that what changes over time is what they do.
func faultWorld(t *testing.T, edit func(*Scenario)) *world {
	t.Helper()
	sc := memoryWorld(20, 6)
	sc.Name = "faults"
	sc.Warmup = 30 * time.Second
	sc.Duration = 5 * time.Minute
	sc.Drain = time.Minute
	sc.Network.Jitter = 0 // transit times are then a function of the link state alone
	edit(&sc)
	require.NoError(t, sc.Validate())
	w, err := buildWorld(sc, nil, nil)
	require.NoError(t, err)
	w.pinned = make([]bool, len(w.clients))
	require.NoError(t, w.scheduleFaults())
	w.scheduleChurn()
	return w
}

// runTo runs w until offset after the end of the warmup (where fault times count from) and
// returns that moment.
func runTo(w *world, offset time.Duration) time.Time {
	t := w.epoch.Add(w.sc.Warmup + offset)
	w.eng.RunUntil(t)
	return t
}

// crashed counts the crashed nodes, checking that the engine has stopped each one's actor.
func crashed(t *testing.T, w *world) (n int) {
	for _, wn := range w.nodes {
		assert.Equal(t, wn.alive, w.eng.Alive(wn.addr), "%s: the world and the engine agree", wn.name)
		if !wn.alive {
			n++
		}
	}
	return n
}

func TestCrashFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault Fault
		want  int
	}{
		{"count", Fault{At: time.Minute, Kind: "crash", Count: 3}, 3},
		{"fraction rounds to nearest", Fault{At: 2 * time.Minute, Kind: "crash", Fraction: 0.12}, 2}, // 0.12 x 20 = 2.4
		{"on paths", Fault{At: time.Minute, Kind: "crash", Target: "paths", Count: 4}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := faultWorld(t, func(s *Scenario) { s.Faults = []Fault{tc.fault} })
			runTo(w, tc.fault.At-time.Millisecond)
			require.Zero(t, crashed(t, w), "nothing crashes before the fault")
			runTo(w, tc.fault.At)
			assert.Equal(t, tc.want, crashed(t, w), "the fault crashes its nodes at its time")
			runTo(w, w.sc.Duration+w.sc.Drain)
			assert.Equal(t, tc.want, crashed(t, w), "crashed nodes stay down")
		})
	}
}

func TestDegradeFaults(t *testing.T) {
	const lost = time.Duration(-1) // what probe reports for a message the link drops
	cases := []struct {
		name  string
		fault Fault
		// hit says whether a probe's transit time d, against the node's time before the fault,
		// shows the degradation.
		hit      func(d, before time.Duration) bool
		degraded int
	}{
		{"all traffic lost for a while", Fault{At: time.Minute, For: 2 * time.Minute, Kind: "degrade", Count: 5, Loss: 1},
			func(d, _ time.Duration) bool { return d == lost }, 5},
		{"added latency until the end", Fault{At: 3 * time.Minute, Kind: "degrade", Fraction: 0.25, AddedLatency: 300 * time.Millisecond},
			func(d, before time.Duration) bool { return d >= before+300*time.Millisecond }, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := faultWorld(t, func(s *Scenario) { s.Faults = []Fault{tc.fault} })
			// A host of its own receives the probes, so no simulated traffic queues with them.
			sink, err := w.eng.AddHost(sim.HostConfig{Name: "probe-sink", Link: simlink.Host{Region: "us-east-1", Profile: netem.DataCentre}, Cores: 1})
			require.NoError(t, err)
			// probe sends 100 bytes from node i at t, with a fresh random stream so that only the
			// links' state decides the outcome.
			probe := func(i int, at time.Time) time.Duration {
				arrive, ok := w.net.Transit(simlink.ID(w.nodes[i].host), simlink.ID(sink), 100, at, rand.New(rand.NewPCG(1, 2)))
				if !ok {
					return lost
				}
				return arrive.Sub(at)
			}
			before := make([]time.Duration, len(w.nodes))
			at := runTo(w, tc.fault.At-time.Second)
			for i := range w.nodes {
				before[i] = probe(i, at)
				require.NotEqual(t, lost, before[i])
			}
			// degradedAt counts the nodes whose probes show the degradation at offset.
			degradedAt := func(offset time.Duration) (n int) {
				at := runTo(w, offset)
				for i := range w.nodes {
					if tc.hit(probe(i, at), before[i]) {
						n++
					}
				}
				return n
			}
			assert.Equal(t, tc.degraded, degradedAt(tc.fault.At+time.Second), "the fault degrades its nodes at its time")
			if tc.fault.For > 0 {
				assert.Zero(t, degradedAt(tc.fault.At+tc.fault.For+time.Second), "the nodes recover when the fault ends")
			} else {
				assert.Equal(t, tc.degraded, degradedAt(w.sc.Duration+w.sc.Drain-time.Second), "a degradation without an end lasts to the end of the run")
			}
		})
	}
}

func TestPartitionFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault Fault
	}{
		{"healed", Fault{At: time.Minute, For: 90 * time.Second, Kind: "partition", Regions: []string{"eu-west-1", "eu-central-1"}}},
		{"until the end", Fault{At: 2 * time.Minute, Kind: "partition", Regions: []string{"us-east-1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := faultWorld(t, func(s *Scenario) { s.Faults = []Fault{tc.fault} })
			inside := map[string]bool{}
			for _, r := range tc.fault.Regions {
				inside[r] = true
			}
			var in, out []netem.HostID
			for h := range w.eng.Hosts() {
				id := simlink.ID(sim.HostID(h))
				region, err := w.net.Region(id)
				require.NoError(t, err)
				if inside[w.matrix.Name(region)] {
					in = append(in, id)
				} else {
					out = append(out, id)
				}
			}
			require.NotEmpty(t, in)
			require.NotEmpty(t, out)
			start := w.epoch.Add(w.sc.Warmup + tc.fault.At)
			end := w.epoch.Add(w.sc.Warmup + w.sc.Duration + w.sc.Drain)
			if tc.fault.For > 0 {
				end = start.Add(tc.fault.For)
			}
			healed := tc.fault.For > 0
			for _, c := range []struct {
				at        time.Time
				reachable bool
			}{
				{start.Add(-time.Nanosecond), true},
				{start, false},
				{end.Add(-time.Nanosecond), false},
				{end, healed}, // without a heal the run ends partitioned
			} {
				for _, a := range in {
					assert.Equal(t, c.reachable, w.net.Reachable(a, out[0], c.at), "inside -> outside at %v", c.at.Sub(w.epoch))
					assert.Equal(t, c.reachable, w.net.Reachable(out[len(out)-1], a, c.at), "outside -> inside at %v", c.at.Sub(w.epoch))
					assert.True(t, w.net.Reachable(a, in[0], c.at), "traffic inside the cut-off regions flows")
				}
				assert.True(t, w.net.Reachable(out[0], out[len(out)-1], c.at), "traffic outside them flows")
			}
		})
	}
}

// churnTimes replays the churn process of stream name: the moments (from the epoch) at which
// the world's churn acts, as scheduleChurn draws them.
func churnTimes(w *world, name string, perHour float64) []time.Duration {
	return w.sc.churnArrivals(name, perHour)
}

func TestChurn(t *testing.T) {
	cases := []struct {
		name   string
		churn  Churn
		stream string
		rate   float64
		// alive and total are the running and registered nodes after k churn events.
		alive, total func(k int) int
	}{
		{"crashes", Churn{CrashesPerHour: 60}, "churn-crash", 60,
			func(k int) int { return 20 - k }, func(int) int { return 20 }},
		{"joins", Churn{JoinsPerHour: 60}, "churn-join", 60,
			func(k int) int { return 20 + k }, func(k int) int { return 20 + k }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := faultWorld(t, func(s *Scenario) { s.Nodes.Churn = tc.churn })
			times := churnTimes(w, tc.stream, tc.rate)
			require.GreaterOrEqual(t, len(times), 2, "the test needs a few churn events in 5 minutes")
			check := func(at time.Duration, k int) {
				w.eng.RunUntil(w.epoch.Add(at))
				alive := len(w.aliveNodes())
				assert.Equal(t, tc.alive(k), alive, "running nodes at %v after %d churn events", at, k)
				assert.Equal(t, tc.total(k), len(w.nodes), "nodes at %v", at)
			}
			for k, at := range times {
				check(at-time.Nanosecond, k)
				check(at, k+1)
			}
			check(w.sc.Warmup+w.sc.Duration+w.sc.Drain, len(times)) // nothing after the sending period
		})
	}
}
