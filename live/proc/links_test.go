package proc

import (
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/netem"
)

var (
	selfIP = netip.MustParseAddr("10.1.1.10")
	peerIP = netip.MustParseAddr("10.1.2.10")
	// otherIP is in no table: a client, the registry.
	otherIP = netip.MustParseAddr("10.1.3.11")
)

// twoHosts is a table of this process in region a and a peer in region b, 40 ms apart (20 ms
// one way), each on an access link of 5 ms: what the peer gets is 30 ms away, plus what edit
// changes.
func twoHosts(edit func(self, peer *LinkHost)) *LinkTable {
	self := LinkHost{Region: "a", LatencyMS: 5}
	peer := LinkHost{Region: "b", LatencyMS: 5}
	if edit != nil {
		edit(&self, &peer)
	}
	return &LinkTable{Self: selfIP.String(), Hosts: map[string]LinkHost{selfIP.String(): self, peerIP.String(): peer},
		Regions: []string{"a", "b"}, RTTMS: [][]float64{{0, 40}, {40, 0}}, MinRTOMS: 30}
}

// delays writes n small messages, one at a time, on a connection from this process to remote
// wrapped by f, and returns how long each took to reach the other end; err is the first write
// error.
func delays(t *testing.T, f *Faults, remote netip.Addr, n int) ([]time.Duration, error) {
	t.Helper()
	a, b := net.Pipe()
	c := f.Wrap(a, selfIP, remote)
	defer c.Close()
	defer b.Close()
	arrived := make(chan time.Time)
	go func() {
		buf := make([]byte, 16)
		for {
			if _, err := b.Read(buf); err != nil {
				close(arrived)
				return
			}
			arrived <- time.Now()
		}
	}()
	var out []time.Duration
	for range n {
		sent := time.Now()
		if _, err := c.Write([]byte("message")); err != nil {
			return out, err
		}
		select {
		case at, ok := <-arrived:
			if !ok {
				return out, io.ErrClosedPipe
			}
			out = append(out, at.Sub(sent))
		case <-time.After(5 * time.Second):
			return out, os.ErrDeadlineExceeded
		}
	}
	return out, nil
}

// TestLinkTableShapesWrites: what a process writes to a peer of its link table waits what the
// world's link model charges between the two hosts (backbone and both access links), with the
// jitter, loss and degradation of the table; writes to an address outside the table pass at
// once.
func TestLinkTableShapesWrites(t *testing.T) {
	const base = 30 * time.Millisecond
	tests := []struct {
		name  string
		edit  func(self, peer *LinkHost)
		check func(t *testing.T, ds []time.Duration, err error)
	}{
		{"base", nil, func(t *testing.T, ds []time.Duration, err error) {
			require.NoError(t, err)
			for _, d := range ds {
				assert.GreaterOrEqual(t, d, base)
			}
			// A loaded machine may wake a write late now and then; the typical one is on time.
			assert.Less(t, median(ds), base+25*time.Millisecond, "%v", ds)
		}},
		{"jitter", func(_, peer *LinkHost) { peer.JitterMS = 4 }, func(t *testing.T, ds []time.Duration, err error) {
			require.NoError(t, err)
			assert.Greater(t, spread(ds), 2*time.Millisecond, "the delays vary: %v", ds)
		}},
		{"loss", func(self, _ *LinkHost) { self.Loss = 0.3 }, func(t *testing.T, ds []time.Duration, err error) {
			// A message lost (3 in 10) is retransmitted after the RTO (at least 30 ms more), or
			// fails for good after 6 losses in a row, closing the connection.
			if err != nil {
				assert.ErrorIs(t, err, linkconn.ErrLinkFailed)
			}
			late := 0
			for _, d := range ds {
				if d >= base+30*time.Millisecond {
					late++
				}
			}
			assert.Positive(t, late, "some messages wait out retransmissions: %v (%v)", ds, err)
		}},
		{"all lost", func(_, peer *LinkHost) { peer.Loss = 1 }, func(t *testing.T, ds []time.Duration, err error) {
			assert.ErrorIs(t, err, linkconn.ErrLinkFailed)
			assert.Empty(t, ds)
		}},
		{"degraded", func(_, peer *LinkHost) { peer.DegradeLatencyMS = 50 }, func(t *testing.T, ds []time.Duration, err error) {
			require.NoError(t, err)
			for _, d := range ds {
				assert.GreaterOrEqual(t, d, base+50*time.Millisecond)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFaults()
			require.NoError(t, f.Set(FaultState{Links: twoHosts(tt.edit)}))
			ds, err := delays(t, f, peerIP, 24)
			tt.check(t, ds, err)
			ds, err = delays(t, f, otherIP, 3)
			require.NoError(t, err)
			// Shaped, every write would wait the base; a loaded machine may delay one.
			assert.Less(t, median(ds), 10*time.Millisecond, "outside the table: not shaped: %v", ds)
		})
	}
}

// spread is the difference between the longest and the shortest delay.
// median is the middle of ds (the upper one of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func spread(ds []time.Duration) time.Duration {
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	return hi - lo
}

// TestLinkTableReplacedWhileOpen: a connection open when a new table is set (a degradation
// added, a peer joining) is shaped by the new one from its next write, and a table lifted lets
// it through at once.
func TestLinkTableReplacedWhileOpen(t *testing.T) {
	f := NewFaults()
	require.NoError(t, f.Set(FaultState{Links: twoHosts(nil)}))
	a, b := net.Pipe()
	c := f.Wrap(a, selfIP, peerIP)
	defer c.Close()
	defer b.Close()
	var mu sync.Mutex
	var got []time.Time
	go func() {
		buf := make([]byte, 16)
		for {
			if _, err := b.Read(buf); err != nil {
				return
			}
			mu.Lock()
			got = append(got, time.Now())
			mu.Unlock()
		}
	}()
	oneWay := func() time.Duration {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		sent := time.Now()
		_, err := c.Write([]byte("m"))
		require.NoError(t, err)
		require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > n }, 5*time.Second, time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return got[n].Sub(sent)
	}
	assert.GreaterOrEqual(t, oneWay(), 30*time.Millisecond)
	joined := twoHosts(func(_, peer *LinkHost) { peer.DegradeLatencyMS = 40 })
	joined.Hosts["10.1.0.10"] = LinkHost{Region: "a", LatencyMS: 1} // sorts before both: IDs must hold
	require.NoError(t, f.Set(FaultState{Links: joined}))
	assert.GreaterOrEqual(t, oneWay(), 70*time.Millisecond, "the degradation applies to the open connection")
	require.NoError(t, f.Set(FaultState{}))
	assert.Less(t, oneWay(), 10*time.Millisecond, "no table: nothing shaped")
	assert.Nil(t, f.State().Links)
}

// TestNewLinkTable: a table made from a world's network carries its matrix, settings and hosts
// (jitter, bandwidth, loss included), and survives the admin endpoint's JSON.
func TestNewLinkTable(t *testing.T) {
	n, err := netem.New(netem.Config{PathJitter: 0.1})
	require.NoError(t, err)
	eu, err := n.Matrix().Lookup("eu-central-1")
	require.NoError(t, err)
	h, err := n.AddHost(eu, netem.Mobile4G)
	require.NoError(t, err)
	table := NewLinkTable(n)
	assert.Equal(t, n.Matrix().Regions(), table.Regions)
	assert.InDelta(t, 325.9, table.RTTMS[eu][must(n.Matrix().Lookup("ap-southeast-1"))], 1e-9)
	assert.Equal(t, 0.1, table.PathJitter)
	assert.Equal(t, 200.0, table.MinRTOMS)
	host, err := HostLink(n, h)
	require.NoError(t, err)
	assert.Equal(t, LinkHost{Region: "eu-central-1", LatencyMS: 35, JitterMS: 20, UplinkBPS: 5e6, DownlinkBPS: 20e6, Loss: 0.005}, host)
	assert.Equal(t, netem.Mobile4G.Latency, host.profile().Latency)
	table.Self, table.Hosts[selfIP.String()] = selfIP.String(), host
	body, err := json.Marshal(FaultState{Links: &table})
	require.NoError(t, err)
	var back FaultState
	require.NoError(t, json.Unmarshal(body, &back))
	f := NewFaults()
	require.NoError(t, f.Set(back))
	assert.Equal(t, &table, f.State().Links)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLinkTableRefusals: a bad table is refused, naming what is wrong, and keeps the one before.
func TestLinkTableRefusals(t *testing.T) {
	tests := []struct {
		name string
		edit func(*LinkTable)
		want string
	}{
		{"bad host", func(lt *LinkTable) { lt.Hosts["nope"] = LinkHost{Region: "a"} }, "links.hosts: nope"},
		{"no self", func(lt *LinkTable) { lt.Self = "10.9.9.9" }, "not one of links.hosts"},
		{"region", func(lt *LinkTable) { lt.Hosts[peerIP.String()] = LinkHost{Region: "mars"} }, "mars"},
		{"matrix", func(lt *LinkTable) { lt.RTTMS = [][]float64{{0}} }, "1 rows for 2 regions"},
		{"loss", func(lt *LinkTable) { lt.Hosts[peerIP.String()] = LinkHost{Region: "b", Loss: 2} }, "loss"},
		{"degrade", func(lt *LinkTable) { lt.Hosts[peerIP.String()] = LinkHost{Region: "b", DegradeLoss: -1} }, "loss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFaults()
			good := twoHosts(nil)
			require.NoError(t, f.Set(FaultState{Links: good}))
			bad := twoHosts(nil)
			tt.edit(bad)
			assert.ErrorContains(t, f.Set(FaultState{Links: bad}), tt.want)
			assert.Equal(t, good, f.State().Links, "a refused table keeps the one before")
		})
	}
}

// TestLinkTableTaps: with a table that asks for them, every write to a peer of the table is
// told as a LinkTapped between the two addresses, with the model's times; without, none is.
func TestLinkTableTaps(t *testing.T) {
	tests := []struct {
		name string
		taps bool
		want int
	}{
		{"asked", true, 3},
		{"not asked", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFaults()
			var mu sync.Mutex
			var got []LinkTapped
			f.OnTap(func(l LinkTapped) {
				mu.Lock()
				got = append(got, l)
				mu.Unlock()
			})
			require.NoError(t, f.Set(FaultState{Links: twoHosts(nil), Taps: tt.taps}))
			assert.Equal(t, tt.taps, f.State().Taps)
			_, err := delays(t, f, peerIP, 3)
			require.NoError(t, err)
			_, err = delays(t, f, otherIP, 1) // not in the table: not shaped, not tapped
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, tt.want)
			for _, l := range got {
				assert.Equal(t, selfIP, l.From)
				assert.Equal(t, peerIP, l.To)
				assert.Equal(t, len("message"), l.Size)
				assert.True(t, l.OK)
				assert.GreaterOrEqual(t, time.Duration(l.ArriveNS-l.SentNS), 30*time.Millisecond, "the model's 30 ms one way")
			}
		})
	}
}
