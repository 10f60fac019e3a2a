package netem

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// twoRegions: a->b 100 ms RTT, b->a 60 ms, same-region RTT from the config.
func twoRegions(t testing.TB) *Matrix {
	m, err := ParseMatrix("two.csv", strings.NewReader("from,a,b\na,0,100\nb,60,0\n"))
	require.NoError(t, err)
	return m
}

func newNet(t testing.TB, cfg Config) *Network {
	if cfg.Matrix == nil {
		cfg.Matrix = twoRegions(t)
	}
	n, err := New(cfg)
	require.NoError(t, err)
	return n
}

func addHost(t testing.TB, n *Network, region string, p Profile) HostID {
	r, err := n.Matrix().Lookup(region)
	require.NoError(t, err)
	h, err := n.AddHost(r, p)
	require.NoError(t, err)
	return h
}

func transit(t testing.TB, n *Network, from, to HostID, size int, at time.Time, r *rand.Rand) time.Duration {
	arrive, ok := n.Transit(from, to, size, at, r)
	require.True(t, ok, "message was not delivered")
	return arrive.Sub(t0)
}

func TestSerialize(t *testing.T) {
	tests := []struct {
		size int
		bw   Bandwidth
		want time.Duration
	}{
		{125_000, 1 * Mbps, time.Second},
		{1, 8, time.Second},
		{1, 3, 2666666667 * time.Nanosecond}, // rounded up
		{1460, 1 * Gbps, 11680 * time.Nanosecond},
		{1000, 0, 0},
		{0, Mbps, 0},
		{-5, Mbps, 0},
		{math.MaxInt, 1, time.Duration(maxDelay)},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, time.Duration(serialize(tt.size, tt.bw)), "%d bytes at %d bit/s", tt.size, tt.bw)
	}
}

func TestTransitQueues(t *testing.T) {
	slow := Profile{Name: "slow", Uplink: 1 * Mbps, Downlink: 1 * Mbps}
	fast := Profile{Name: "fast"}
	const size = 125_000     // one second at 1 Mbit/s
	prop := time.Millisecond // half the default same-region RTT

	tests := []struct {
		name    string
		senders []Profile // one message from each, or from the first if len == 1
		count   int
		recv    Profile
		sendAt  []time.Duration
		want    []time.Duration
	}{
		{"uplink back to back", []Profile{slow}, 3, fast, []time.Duration{0, 0, 0},
			[]time.Duration{time.Second + prop, 2*time.Second + prop, 3*time.Second + prop}},
		{"downlink back to back from two senders", []Profile{fast, fast}, 2, slow, []time.Duration{0, 0},
			[]time.Duration{time.Second + prop, 2*time.Second + prop}},
		{"both links slow", []Profile{slow}, 2, slow, []time.Duration{0, 0},
			[]time.Duration{time.Second + prop, 2*time.Second + prop}},
		{"queue drained before the next", []Profile{slow}, 2, fast, []time.Duration{0, 5 * time.Second},
			[]time.Duration{time.Second + prop, 6*time.Second + prop}},
		{"unlimited links", []Profile{fast}, 2, fast, []time.Duration{0, 0},
			[]time.Duration{prop, prop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, Config{})
			var from []HostID
			for _, p := range tt.senders {
				from = append(from, addHost(t, n, "a", p))
			}
			to := addHost(t, n, "a", tt.recv)
			for i := range tt.count {
				src := from[min(i, len(from)-1)]
				got := transit(t, n, src, to, size, t0.Add(tt.sendAt[i]), nil)
				assert.Equal(t, tt.want[i], got, "message %d", i)
			}
		})
	}
}

func TestTransitPropagation(t *testing.T) {
	n := newNet(t, Config{})
	dc := Profile{Name: "dc", Latency: 500 * time.Microsecond}
	a := addHost(t, n, "a", dc)
	a2 := addHost(t, n, "a", dc)
	b := addHost(t, n, "b", dc)

	assert.Equal(t, 51*time.Millisecond, transit(t, n, a, b, 100, t0, nil), "a->b: half of 100 ms plus two access links")
	assert.Equal(t, 31*time.Millisecond, transit(t, n, b, a, 100, t0, nil), "b->a: half of 60 ms")
	assert.Equal(t, 2*time.Millisecond, transit(t, n, a, a2, 100, t0, nil), "same region: half of 2 ms")
	assert.Equal(t, time.Duration(0), transit(t, n, a, a, 100, t0, nil), "to itself")
	assert.Equal(t, 82*time.Millisecond, n.BaseRTT(a, b))
	assert.Equal(t, n.BaseRTT(a, b), n.BaseRTT(b, a))
	assert.Equal(t, time.Duration(0), n.BaseRTT(a, 99))
}

func TestTransitJitterDistribution(t *testing.T) {
	noLoss := Mobile4G
	noLoss.Loss = 0
	for _, p := range []Profile{Broadband, noLoss, DataCentre} {
		t.Run(p.Name, func(t *testing.T) {
			n := newNet(t, Config{})
			p.Uplink, p.Downlink = 0, 0 // measure latency only
			from := addHost(t, n, "a", p)
			to := addHost(t, n, "a", Profile{Name: "ideal"})
			r := rand.New(rand.NewPCG(1, 2))
			const samples = 100_000
			var sum, sumSq float64
			minD := math.Inf(1)
			for i := range samples {
				at := t0.Add(time.Duration(i) * time.Second)
				arrive, ok := n.Transit(from, to, 500, at, r)
				require.True(t, ok)
				d := float64(arrive.Sub(at) - time.Millisecond) // minus the backbone
				sum += d
				sumSq += d * d
				minD = min(minD, d)
			}
			mean := sum / samples
			sd := math.Sqrt(sumSq/samples - mean*mean)
			assert.InEpsilon(t, float64(p.Latency), mean, 0.01, "mean one-way access delay")
			assert.InEpsilon(t, float64(p.Jitter), sd, 0.03, "standard deviation")
			assert.GreaterOrEqual(t, minD, 0.0, "jitter never makes a delay negative")
		})
	}
}

// TestTransitLossDelays checks that a lost packet costs one RTO, doubling per further loss, and
// that FailAfterLosses losses in a row fail the message.
func TestTransitLossDelays(t *testing.T) {
	tests := []struct {
		name    string
		latency time.Duration // access latency of both hosts
		region  string
		rto     time.Duration // expected first RTO
	}{
		{"short path uses the 200 ms floor", 0, "a", 200 * time.Millisecond},
		// RTT = 2*(100+100) ms + 50 + 30 ms = 480 ms, above the floor.
		{"long path uses its RTT", 100 * time.Millisecond, "b", 480 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, Config{})
			lossy := Profile{Name: "lossy", Latency: tt.latency, Loss: 0.5}
			from := addHost(t, n, "a", lossy)
			to := addHost(t, n, tt.region, Profile{Name: "p", Latency: tt.latency})
			base := transit(t, n, from, to, 100, t0, nil) // nil rand: no loss

			r := rand.New(rand.NewPCG(3, 4))
			const samples = 64_000
			counts := map[time.Duration]int{}
			failed := 0
			for i := range samples {
				at := t0.Add(time.Duration(i) * time.Minute)
				arrive, ok := n.Transit(from, to, 100, at, r)
				if !ok {
					failed++
					continue
				}
				counts[arrive.Sub(at)-base]++
			}
			// k losses then success, k < 6: probability 0.5^(k+1), extra delay rto*(2^k-1).
			for k := range 6 {
				extra := tt.rto * time.Duration(1<<k-1)
				want := samples * math.Pow(0.5, float64(k+1))
				assert.InDelta(t, want, float64(counts[extra]), 5*math.Sqrt(want)+1, "%d losses (+%v)", k, extra)
				delete(counts, extra)
			}
			assert.Empty(t, counts, "no other delays occur")
			want := samples / 64.0 // six losses in a row
			assert.InDelta(t, want, float64(failed), 5*math.Sqrt(want))
			assert.Equal(t, uint64(failed), n.Stats().Failed)
		})
	}
}

func TestTransitLossManyPackets(t *testing.T) {
	const p, packets = 0.05, 20
	n := newNet(t, Config{})
	from := addHost(t, n, "a", Profile{Name: "lossy", Loss: p})
	to := addHost(t, n, "a", Profile{Name: "plain"})
	rto := float64(200 * time.Millisecond)
	perPacket := 0.0
	for k := 1; k < DefaultFailAfterLosses; k++ {
		perPacket += math.Pow(p, float64(k)) * (1 - p) * rto * float64(int(1)<<k-1)
	}
	r := rand.New(rand.NewPCG(5, 6))
	const samples = 100_000
	sum := 0.0
	for i := range samples {
		at := t0.Add(time.Duration(i) * time.Minute)
		arrive, ok := n.Transit(from, to, packets*DefaultMSS, at, r)
		require.True(t, ok)
		sum += float64(arrive.Sub(at) - time.Millisecond)
	}
	assert.InEpsilon(t, packets*perPacket, sum/samples, 0.03, "mean retransmission delay of %d packets", packets)
	assert.Positive(t, n.Stats().Retransmits)
}

func TestTransitLossEdges(t *testing.T) {
	tests := []struct {
		name     string
		loss     float64
		failures int
		ok       bool
	}{
		{"certain loss fails", 1, 0, false},
		{"one loss is fatal when FailAfterLosses is 1", 0.9999, 1, false},
		{"no loss", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, Config{FailAfterLosses: tt.failures})
			from := addHost(t, n, "a", Profile{Name: "x", Loss: tt.loss})
			to := addHost(t, n, "a", Profile{Name: "y"})
			r := rand.New(rand.NewPCG(7, 8))
			for i := range 100 {
				_, ok := n.Transit(from, to, 3000, t0.Add(time.Duration(i)*time.Second), r)
				assert.Equal(t, tt.ok, ok)
			}
		})
	}
}

func TestTransitBadInput(t *testing.T) {
	n := newNet(t, Config{})
	a := addHost(t, n, "a", Profile{Name: "x"})
	_, ok := n.Transit(a, 7, 10, t0, nil)
	assert.False(t, ok, "unknown receiver")
	_, ok = n.Transit(7, a, 10, t0, nil)
	assert.False(t, ok, "unknown sender")
	assert.False(t, n.Reachable(a, 7, t0))
	b := addHost(t, n, "a", Profile{Name: "x", Uplink: Mbps})
	assert.Equal(t, time.Millisecond, transit(t, n, b, a, -100, t0, nil), "negative size counts as empty")
	_, err := n.Region(9)
	assert.Error(t, err)
	_, err = n.Profile(9)
	assert.Error(t, err)
}

func TestConfigAndProfileValidation(t *testing.T) {
	cfgs := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative same-region RTT", Config{SameRegionRTT: -time.Millisecond}, "same-region RTT"},
		{"negative RTO", Config{MinRTO: -1}, "RTO"},
		{"negative MSS", Config{MSS: -1}, "MSS"},
		{"negative path jitter", Config{PathJitter: -0.1}, "path jitter"},
		{"NaN path jitter", Config{PathJitter: math.NaN()}, "path jitter"},
		{"too many losses", Config{FailAfterLosses: 99}, "fail-after-losses"},
	}
	for _, tt := range cfgs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	profiles := []struct {
		p    Profile
		want string
	}{
		{Profile{Name: "p", Latency: -1}, "negative latency"},
		{Profile{Name: "p", Jitter: -1, Latency: 1}, "negative jitter"},
		{Profile{Name: "p", Jitter: time.Millisecond}, "needs a positive latency"},
		{Profile{Name: "p", Uplink: -1}, "uplink"},
		{Profile{Name: "p", Downlink: -1}, "downlink"},
		{Profile{Name: "p", Loss: 1.5}, "loss"},
		{Profile{Name: "p", Loss: math.NaN()}, "loss"},
		{Profile{Name: "p", Latency: 2 * time.Hour}, "latency"},
	}
	n := newNet(t, Config{})
	for _, tt := range profiles {
		_, err := n.AddHost(0, tt.p)
		require.Error(t, err, "%+v", tt.p)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err := n.AddHost(5, Profile{})
	assert.ErrorContains(t, err, "region index 5")
	for _, p := range []Profile{DataCentre, Broadband, Mobile4G} {
		assert.NoError(t, p.Validate(), p.Name)
	}
}

func TestSameRegionRTTFromDiagonal(t *testing.T) {
	m, err := ParseMatrix("diag.csv", strings.NewReader("from,a,b\na,10,100\nb,60,0\n"))
	require.NoError(t, err)
	n := newNet(t, Config{Matrix: m, SameRegionRTT: 4 * time.Millisecond})
	a1 := addHost(t, n, "a", Profile{})
	a2 := addHost(t, n, "a", Profile{})
	b1 := addHost(t, n, "b", Profile{})
	b2 := addHost(t, n, "b", Profile{})
	assert.Equal(t, 10*time.Millisecond, n.BaseRTT(a1, a2), "a positive diagonal is the region's own RTT")
	assert.Equal(t, 4*time.Millisecond, n.BaseRTT(b1, b2), "a zero diagonal uses the config")
}

func TestRegionPicker(t *testing.T) {
	m := DefaultMatrix()
	p, err := NewRegionPicker(m, DefaultNodeWeights())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(9, 10))
	const draws = 200_000
	counts := make(map[Region]int)
	for range draws {
		counts[p.Draw(r)]++
	}
	for _, w := range DefaultNodeWeights() {
		reg, err := m.Lookup(w.Region)
		require.NoError(t, err)
		assert.InDelta(t, w.Weight, float64(counts[reg])/draws, 0.005, w.Region)
	}

	zero, err := NewRegionPicker(m, []RegionWeight{{"us-east-1", 0}, {"eu-west-1", 1}, {"sa-east-1", 0}})
	require.NoError(t, err)
	eu, _ := m.Lookup("eu-west-1")
	for range 10_000 {
		require.Equal(t, eu, zero.Draw(r), "zero-weight regions are never drawn")
	}

	for _, ws := range [][]RegionWeight{DefaultNodeWeights(), DefaultClientWeights()} {
		total := 0.0
		for _, w := range ws {
			total += w.Weight
			_, err := m.Lookup(w.Region)
			assert.NoError(t, err)
		}
		assert.InDelta(t, 1.0, total, 1e-9)
	}

	bad := []struct {
		w    []RegionWeight
		want string
	}{
		{nil, "at least one"},
		{[]RegionWeight{{"nowhere", 1}}, `"nowhere"`},
		{[]RegionWeight{{"us-east-1", 1}, {"us-east-1", 2}}, "twice"},
		{[]RegionWeight{{"us-east-1", -1}}, "weight"},
		{[]RegionWeight{{"us-east-1", math.NaN()}}, "weight"},
		{[]RegionWeight{{"us-east-1", math.Inf(1)}}, "weight"},
		{[]RegionWeight{{"us-east-1", 0}}, "all zero"},
	}
	for _, tt := range bad {
		_, err := NewRegionPicker(m, tt.w)
		require.Error(t, err, "%v", tt.w)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err = NewRegionPicker(nil, DefaultNodeWeights())
	assert.Error(t, err)
}

// A message that reaches a downlink before one queued ahead of it in computation order does not
// wait behind a message that had not arrived yet; the backlog grows by its serialization.
func TestTransitDownlinkOvertaking(t *testing.T) {
	n := newNet(t, Config{})
	far := addHost(t, n, "b", Profile{Name: "far"})   // 30 ms to region a
	near := addHost(t, n, "a", Profile{Name: "near"}) // 1 ms
	recv := addHost(t, n, "a", Profile{Name: "slow", Downlink: 1 * Mbps})

	assert.Equal(t, time.Second+30*time.Millisecond, transit(t, n, far, recv, 125_000, t0, nil))
	assert.Equal(t, 11*time.Millisecond, transit(t, n, near, recv, 1250, t0, nil), "arrives first, does not queue behind the far message")
	// The link is now busy until 1.030 s + 10 ms; a message reaching it after the far one queues.
	assert.Equal(t, 1040*time.Millisecond+10*time.Millisecond, transit(t, n, near, recv, 1250, t0.Add(100*time.Millisecond), nil))
}

func TestPathJitter(t *testing.T) {
	n := newNet(t, Config{PathJitter: 0.1})
	a := addHost(t, n, "a", Profile{Name: "ideal"})
	b := addHost(t, n, "b", Profile{Name: "ideal"})
	r := rand.New(rand.NewPCG(11, 12))
	const samples = 100_000
	var sum, sumSq float64
	for i := range samples {
		at := t0.Add(time.Duration(i) * time.Second)
		arrive, ok := n.Transit(a, b, 100, at, r)
		require.True(t, ok)
		d := float64(arrive.Sub(at))
		require.Positive(t, d)
		sum += d
		sumSq += d * d
	}
	mean := sum / samples
	sd := math.Sqrt(sumSq/samples - mean*mean)
	assert.InEpsilon(t, float64(50*time.Millisecond), mean, 0.01, "half of the 100 ms RTT on average")
	assert.InEpsilon(t, float64(5*time.Millisecond), sd, 0.03, "10% deviation")
}

// TestPathJitterFloor: a jittered backbone delay never falls below half its mean, which gives
// a jittered network a minimum latency; at wide jitter the floor is met.
func TestPathJitterFloor(t *testing.T) {
	assert.Equal(t, time.Millisecond, newNet(t, Config{}).MinLatency(), "the shortest one-way delay: 2 ms RTT in one region")
	n := newNet(t, Config{PathJitter: 3})
	assert.Equal(t, 500*time.Microsecond, n.MinLatency(), "half the shortest one-way delay")
	a := addHost(t, n, "a", Profile{Name: "ideal"})
	b := addHost(t, n, "b", Profile{Name: "ideal"})
	r := rand.New(rand.NewPCG(11, 12))
	floored := 0
	for i := range 10_000 {
		at := t0.Add(time.Duration(i) * time.Second)
		arrive, ok := n.Transit(a, b, 100, at, r)
		require.True(t, ok)
		d := arrive.Sub(at)
		require.GreaterOrEqual(t, d, 25*time.Millisecond, "half of the 50 ms one-way delay")
		if d == 25*time.Millisecond {
			floored++
		}
	}
	assert.Positive(t, floored, "a jitter of 300% reaches the floor")
}
