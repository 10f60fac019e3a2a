package sim_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trace hashes everything actors see, in the order they see it.
type trace struct {
	h   hash.Hash
	buf []byte
}

func (tr *trace) record(at time.Time, self actor.Addr, tag string, vals ...int64) {
	b := tr.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(at.UnixNano()))
	b = append(b, self.String()...)
	b = append(b, tag...)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	tr.buf = b
	tr.h.Write(b)
}

type workEvent struct{ cost time.Duration }

func (workEvent) EventName() string { return "work" }

// chaos is a randomized actor: it calls random peers with random sizes and timeouts, does random
// work, sets and cancels timers, answers late or not at all.
type chaos struct {
	env   actor.Env
	peers *[]actor.Addr
	tr    *trace
}

func (c *chaos) Start(env actor.Env) {
	c.env = env
	env.After(time.Duration(env.Rand().IntN(500))*time.Millisecond, c.tick)
}

func (c *chaos) tick() {
	env, r := c.env, c.env.Rand()
	c.tr.record(env.Now(), env.Self(), "tick")
	switch op := r.IntN(10); {
	case op < 7:
		to := (*c.peers)[r.IntN(len(*c.peers))]
		size := 100 + r.IntN(50_000)
		timeout := time.Duration(200+r.IntN(4800)) * time.Millisecond
		sent := env.Now()
		env.Call(to, actor.Request{Method: "chaos", Size: size}, timeout, func(resp actor.Response, err error) {
			code := int64(resp.Status)
			switch {
			case errors.Is(err, actor.ErrTimeout):
				code = -1
			case errors.Is(err, actor.ErrUnreachable):
				code = -2
			}
			c.tr.record(env.Now(), env.Self(), "done", code, int64(env.Now().Sub(sent)), int64(resp.Size))
		})
	case op < 8:
		cost := time.Duration(r.IntN(20_000)) * time.Microsecond
		env.Work(cost)
		env.Observe(workEvent{cost})
	default:
		tm := env.After(time.Duration(r.IntN(1000))*time.Millisecond, func() {
			c.tr.record(env.Now(), env.Self(), "timer")
		})
		env.After(time.Duration(r.IntN(1000))*time.Millisecond, func() {
			c.tr.record(env.Now(), env.Self(), "stop", boolInt(tm.Stop()))
		})
	}
	env.After(time.Duration(1+r.IntN(400))*time.Millisecond, c.tick)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *chaos) Handle(from actor.Addr, req actor.Request, rs actor.Responder) {
	env, r := c.env, c.env.Rand()
	c.tr.record(env.Now(), env.Self(), "handle", int64(req.Size), int64(from.Port()))
	env.Work(time.Duration(r.IntN(5000)) * time.Microsecond)
	resp := actor.Response{Status: 200 + r.IntN(3), Size: 50 + r.IntN(20_000)}
	switch op := r.IntN(10); {
	case op < 8:
		rs.Respond(resp)
	case op < 9:
		env.After(time.Duration(r.IntN(6000))*time.Millisecond, func() { rs.Respond(resp) })
	}
}

// runChaos builds a world of 1,200 actors on 1,000 hosts and runs it for 30 virtual seconds.
func runChaos(t *testing.T, seed uint64) (string, sim.Stats, netem.Stats) {
	links, err := simlink.New(netem.Config{PathJitter: 0.05})
	require.NoError(t, err)
	network := links.Model()
	e, err := sim.New(sim.Config{Seed: seed, Network: links})
	require.NoError(t, err)
	tr := &trace{h: sha256.New()}
	e.AddSink(func(at time.Time, from actor.Addr, ev actor.Event) {
		tr.record(at, from, ev.EventName(), int64(ev.(workEvent).cost))
	})

	place := e.Stream("placement")
	picker, err := netem.NewRegionPicker(network.Matrix(), netem.DefaultNodeWeights())
	require.NoError(t, err)
	lossy := netem.Profile{Name: "lossy", Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Uplink: 2 * netem.Mbps, Downlink: 8 * netem.Mbps, Loss: 0.05}
	profiles := []netem.Profile{netem.DataCentre, netem.Broadband, netem.Mobile4G, lossy}
	var peers []actor.Addr
	var hosts []sim.HostID
	for i := range 1000 {
		h, err := e.AddHost(sim.HostConfig{
			Name:  fmt.Sprintf("host-%d", i),
			Link:  simlink.Host{Region: network.Matrix().Name(picker.Draw(place)), Profile: profiles[place.IntN(len(profiles))]},
			Cores: 1 + place.IntN(4),
		})
		require.NoError(t, err)
		hosts = append(hosts, h)
	}
	for i := range 1200 {
		addr, err := e.Spawn(hosts[i%len(hosts)], uint16(1000+i/len(hosts)), fmt.Sprintf("actor-%d", i), &chaos{peers: &peers, tr: tr})
		require.NoError(t, err)
		peers = append(peers, addr)
	}
	// Addresses where nothing listens.
	peers = append(peers, netip.MustParseAddrPort("192.0.2.7:1"), actorAt(e, hosts[1], 9))

	// Faults: a partition, degradations, crashes and replacements.
	_, err = network.Partition(e.Epoch().Add(10*time.Second), netemIDs(hosts[:300]), netemIDs(hosts[300:600]))
	require.NoError(t, err)
	for _, h := range hosts[600:650] {
		require.NoError(t, network.Degrade(simlink.ID(h), netem.Degradation{Start: e.Epoch().Add(5 * time.Second), End: e.Epoch().Add(15 * time.Second), Latency: 80 * time.Millisecond, Loss: 0.1}))
	}
	e.AfterFunc(12*time.Second, func() {
		for _, a := range peers[700:750] {
			require.NoError(t, e.Crash(a))
		}
	})
	e.AfterFunc(18*time.Second, func() {
		for _, a := range peers[700:750] {
			require.NoError(t, e.Replace(a, &chaos{peers: &peers, tr: tr}))
		}
	})
	e.AfterFunc(20*time.Second, func() { require.NoError(t, e.Stop(peers[800])) })

	e.RunFor(30 * time.Second)
	return hex.EncodeToString(tr.h.Sum(nil)), e.Stats(), network.Stats()
}

func actorAt(e *sim.Engine, h sim.HostID, port uint16) actor.Addr {
	return netip.AddrPortFrom(e.HostIP(h), port)
}

func netemIDs(hosts []sim.HostID) []netem.HostID {
	ids := make([]netem.HostID, len(hosts))
	for i, h := range hosts {
		ids[i] = simlink.ID(h)
	}
	return ids
}

func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four worlds of 1,200 actors")
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	h1, s1, n1 := runChaos(t, 1)
	runtime.GOMAXPROCS(2)
	h2, s2, _ := runChaos(t, 1)
	h3, _, _ := runChaos(t, 1)
	h4, _, _ := runChaos(t, 2)

	assert.Equal(t, h1, h2, "same seed, GOMAXPROCS 1 and 2")
	assert.Equal(t, h2, h3, "same seed, run again")
	assert.Equal(t, s1, s2)
	assert.NotEqual(t, h1, h4, "another seed")

	// The workload reaches every path, so the hash covers them.
	t.Logf("engine %+v", s1)
	t.Logf("network %+v", n1)
	assert.Greater(t, s1.Events, uint64(100_000))
	assert.Positive(t, s1.Responses)
	assert.Positive(t, s1.TimedOut)
	assert.Positive(t, s1.Unreachable)
	assert.Positive(t, s1.LateReplies)
	assert.Positive(t, s1.Lost)
	assert.Positive(t, n1.Retransmits)
	assert.Positive(t, n1.Blocked)
}
