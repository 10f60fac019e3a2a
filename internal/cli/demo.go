package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/reports"
	"github.com/sessionsim/sessionsim/sim"
)

func init() { registerCommand(newDemoCmd) }

const (
	demoPort        = 22021
	demoMaxActors   = 200_000
	demoMaxDuration = 24 * time.Hour
)

func newDemoCmd() *cobra.Command {
	var (
		actors   int
		duration time.Duration
		seed     uint64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the simulation engine on its own: actors calling each other across the world's regions",
		Long: `Run a demonstration of the simulation engine, without the Session protocol: actors on
data-centre hosts, placed in regions by the default node weights, each calling a random other
actor about once a second (random sizes, a little CPU work per request, a 5 s timeout) across
the built-in inter-region latency matrix. It prints how fast the engine ran and the round-trip
times the network model produced, by how far apart the two ends were.`,
		Example: `  sessionsim demo
  sessionsim demo --actors 20000 --duration 5m --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if actors < 2 || actors > demoMaxActors {
				return usageError(fmt.Errorf("--actors %d: use 2 to %d", actors, demoMaxActors))
			}
			if duration <= 0 || duration > demoMaxDuration {
				return usageError(fmt.Errorf("--duration %v: use a positive duration up to %v", duration, demoMaxDuration))
			}
			return runDemo(cmd.OutOrStdout(), cmd.ErrOrStderr(), actors, duration, seed)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&actors, "actors", 5000, "number of actors, one per host")
	fl.DurationVar(&duration, "duration", time.Minute, "virtual time to simulate")
	fl.Uint64Var(&seed, "seed", 1, "seed of every random draw; the same seed gives the same run")
	return cmd
}

// demoActor calls a random peer about once a second and answers calls after a little work.
type demoActor struct {
	env   actor.Env
	peers []actor.Addr
	stats *demoStats
	class []uint8 // region class of each peer as seen from this actor's region
	tick  func()
}

// Distance classes of a call, by where its two ends are.
const (
	classSameRegion = iota
	classSameContinent
	classIntercontinental
	numClasses
)

var demoClassNames = [numClasses]string{"same region", "same continent", "between continents"}

func (a *demoActor) Start(env actor.Env) {
	a.env = env
	a.tick = a.call
	env.After(time.Duration(env.Rand().Int64N(int64(time.Second))), a.tick)
}

func (a *demoActor) call() {
	r := a.env.Rand()
	i := r.IntN(len(a.peers) - 1)
	if a.peers[i] == a.env.Self() {
		i = len(a.peers) - 1 // the last peer stands in for self
	}
	class := a.class[i]
	size := int(math.Exp(math.Log(200) + r.Float64()*math.Log(16384.0/200))) // log-uniform 200 B - 16 KiB
	sent := a.env.Now()
	a.env.Call(a.peers[i], actor.Request{Method: "/demo", Size: size}, 5*time.Second, func(_ actor.Response, err error) {
		a.stats.record(class, a.env.Now().Sub(sent), err)
	})
	a.env.After(500*time.Millisecond+time.Duration(r.Int64N(int64(time.Second))), a.tick)
}

func (a *demoActor) Handle(_ actor.Addr, req actor.Request, rs actor.Responder) {
	r := a.env.Rand()
	a.env.Work(50*time.Microsecond + time.Duration(req.Size)*20*time.Nanosecond)
	rs.Respond(actor.Response{Status: 200, Size: 100 + r.IntN(4000)})
}

type demoStats struct {
	rtt       [numClasses]metrics.Histogram // µs
	answered  int
	timedOut  int
	unreached int
}

func (s *demoStats) record(class uint8, rtt time.Duration, err error) {
	switch {
	case err == nil:
		s.answered++
		s.rtt[class].Add(float64(rtt) / float64(time.Microsecond))
	case errors.Is(err, actor.ErrTimeout):
		s.timedOut++
	default:
		s.unreached++
	}
}

// micros turns a histogram value back into a duration.
func micros(us float64) time.Duration { return time.Duration(us * float64(time.Microsecond)) }

func runDemo(out, errw io.Writer, actors int, duration time.Duration, seed uint64) error {
	links, err := simlink.New(netem.Config{})
	if err != nil {
		return err
	}
	network := links.Model()
	bar := newDemoBar(errw, duration)
	eng, err := sim.New(sim.Config{Seed: seed, Network: links, Progress: bar.update})
	if err != nil {
		return err
	}
	matrix := network.Matrix()
	picker, err := netem.NewRegionPicker(matrix, netem.DefaultNodeWeights())
	if err != nil {
		return err
	}
	place := eng.Stream("placement")
	regions := make([]netem.Region, actors)
	hosts := make([]sim.HostID, actors)
	for i := range actors {
		regions[i] = picker.Draw(place)
		hosts[i], err = eng.AddHost(sim.HostConfig{Name: fmt.Sprintf("host-%d", i), Link: simlink.Host{Region: matrix.Name(regions[i]), Profile: netem.DataCentre}, Cores: 2})
		if err != nil {
			return err
		}
	}
	peers := make([]actor.Addr, actors)
	for i, h := range hosts {
		peers[i] = netip.AddrPortFrom(eng.HostIP(h), demoPort)
	}
	// Region classes from each region to each actor, shared by the actors of a region.
	classes := make(map[netem.Region][]uint8)
	stats := &demoStats{}
	for i, h := range hosts {
		cl, ok := classes[regions[i]]
		if !ok {
			cl = make([]uint8, actors)
			for j := range actors {
				cl[j] = demoRegionClass(matrix.Name(regions[i]), matrix.Name(regions[j]))
			}
			classes[regions[i]] = cl
		}
		a := &demoActor{peers: peers, stats: stats, class: cl}
		if _, err := eng.Spawn(h, demoPort, fmt.Sprintf("actor-%d", i), a); err != nil {
			return err
		}
	}

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	eng.RunFor(duration)
	wall := time.Since(start)
	bar.finish()

	es, ns := eng.Stats(), network.Stats()
	busiest := time.Duration(0)
	for _, h := range hosts {
		busiest = max(busiest, eng.HostBusy(h))
	}
	p := newDemoPrinter(out)
	p.line("sessionsim demo: %s actors on as many data-centre hosts in %d regions, seed %d", demoCount(actors), len(classes), seed)
	p.line("simulated %v of virtual time in %v of wall time (%.1fx real time)", duration, wall.Round(time.Millisecond), duration.Seconds()/max(wall.Seconds(), 1e-9))
	p.line("  %s events (%s per wall-clock second), %s calls, %s on the wire", demoCount(int(es.Events)), demoCount(int(float64(es.Events)/max(wall.Seconds(), 1e-9))), demoCount(int(es.Calls)), reports.ByteSize(ns.Bytes))
	p.line("round-trip time of answered calls, request sent to response received (the callee works 50 µs + 20 ns per request byte):")
	for c := range numClasses {
		h := &stats.rtt[c]
		if h.Count() == 0 {
			p.line("  %-19s no calls", demoClassNames[c])
			continue
		}
		p.line("  %-19s median %-9v p90 %-9v p99 %-9v max %-9v (%s calls)", demoClassNames[c],
			demoRound(micros(h.Quantile(0.5))), demoRound(micros(h.Quantile(0.9))), demoRound(micros(h.Quantile(0.99))), demoRound(micros(h.Max())), demoCount(int(h.Count())))
	}
	inFlight := int(es.Calls) - stats.answered - stats.timedOut - stats.unreached
	p.line("calls: %s answered, %s timed out, %s unreachable, %s still in flight at the end; %s late replies dropped",
		demoCount(stats.answered), demoCount(stats.timedOut), demoCount(stats.unreached), demoCount(inFlight), demoCount(int(es.LateReplies)))
	p.line("busiest host: %.2f%% of its 2 cores busy", 100*busiest.Seconds()/(2*duration.Seconds()))
	p.line("heap in use: %s (%s per actor)", reports.ByteSize(before.HeapAlloc), reports.ByteSize(before.HeapAlloc/uint64(actors)))
	return p.err
}

// regionClass compares two region names such as "eu-west-1" and "eu-central-1": the part
// before the first dash names the continent.
func demoRegionClass(a, b string) uint8 {
	switch {
	case a == b:
		return classSameRegion
	case demoContinent(a) == demoContinent(b):
		return classSameContinent
	}
	return classIntercontinental
}

func demoContinent(region string) string {
	c, _, _ := strings.Cut(region, "-")
	return c
}

func demoRound(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// demoCount writes n with thousands separators.
func demoCount(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// demoPrinter keeps the first write error, so a report is checked once at the end.
type demoPrinter struct {
	w   io.Writer
	err error
}

func newDemoPrinter(w io.Writer) *demoPrinter { return &demoPrinter{w: w} }

func (p *demoPrinter) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// demoBar shows progress in virtual time on a terminal, and nothing elsewhere.
type demoBar struct {
	bar   *progressbar.ProgressBar
	total time.Duration
}

func newDemoBar(w io.Writer, total time.Duration) *demoBar {
	b := &demoBar{total: total}
	if isTerminal(w) {
		b.bar = progressbar.NewOptions64(1000,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}
	return b
}

func (b *demoBar) update(p sim.Progress) {
	if b.bar != nil {
		b.bar.Describe(fmt.Sprintf("virtual %v of %v, %s events", p.Elapsed.Truncate(time.Second), b.total, demoCount(int(p.Events))))
		_ = b.bar.Set64(int64(1000 * min(1, p.Elapsed.Seconds()/b.total.Seconds())))
	}
}

func (b *demoBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}
