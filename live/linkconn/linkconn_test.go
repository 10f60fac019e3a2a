package linkconn_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/netem"
)

type echo struct{}

func (echo) Start(actor.Env) {}
func (echo) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 200, Body: req.Body})
}

type caller struct {
	self actor.Addr
	to   actor.Addr
	env  actor.Env
	done chan error
}

func (c *caller) Start(env actor.Env)                               { c.env = env }
func (c *caller) Handle(actor.Addr, actor.Request, actor.Responder) {}
func (c *caller) call() {
	c.env.Call(c.to, actor.Request{Method: "/x", Body: []byte("ping")}, 5*time.Second, func(_ actor.Response, err error) { c.done <- err })
}

// setup runs a caller and an echo on two hosts of the model, in two regions.
func setup(t *testing.T) (*live.Driver, *linkconn.Model, *caller, [2]netem.HostID) {
	n, err := netem.New(netem.Config{})
	require.NoError(t, err)
	m := n.Matrix()
	east, err := m.Lookup("us-east-1")
	require.NoError(t, err)
	west, err := m.Lookup("us-west-1")
	require.NoError(t, err)
	ha, err := n.AddHost(east, netem.DataCentre)
	require.NoError(t, err)
	hb, err := n.AddHost(west, netem.DataCentre)
	require.NoError(t, err)
	model := linkconn.NewModel(n)
	a, b := netip.MustParseAddrPort("127.79.0.1:22021"), netip.MustParseAddrPort("127.79.0.2:22021")
	model.AddAddr(a.Addr(), ha)
	model.AddAddr(b.Addr(), hb)
	d := live.New(live.Config{WrapConn: model.Wrap})
	t.Cleanup(d.Close)
	require.NoError(t, d.Spawn(b, "echo", echo{}))
	c := &caller{self: a, to: b, done: make(chan error, 1)}
	require.NoError(t, d.Spawn(a, "caller", c))
	return d, model, c, [2]netem.HostID{ha, hb}
}

func TestCallsTakeTheModelsRoundTrip(t *testing.T) {
	d, model, c, h := setup(t)
	var rtt time.Duration
	model.Do(func(n *netem.Network) { rtt = n.BaseRTT(h[0], h[1]) })
	require.Greater(t, rtt, 20*time.Millisecond, "two US regions are tens of ms apart")
	for range 3 {
		start := time.Now()
		require.NoError(t, d.Invoke(c.self, c.call))
		require.NoError(t, <-c.done)
		// A lower bound only: the request and the answer each take at least half the RTT.
		assert.GreaterOrEqual(t, time.Since(start), rtt)
	}
}

func TestPartitionBreaksTheConnection(t *testing.T) {
	d, model, c, h := setup(t)
	require.NoError(t, d.Invoke(c.self, c.call))
	require.NoError(t, <-c.done)
	model.Do(func(n *netem.Network) {
		_, err := n.Partition(time.Now().Add(-time.Second), []netem.HostID{h[0]}, []netem.HostID{h[1]})
		require.NoError(t, err)
	})
	require.NoError(t, d.Invoke(c.self, c.call))
	err := <-c.done
	require.Error(t, err)
	assert.True(t, errors.Is(err, actor.ErrUnreachable) || errors.Is(err, actor.ErrTimeout), "got %v", err)
}

// fixedPair is a model of two hosts in one region with access links of latency each and no
// jitter, at addresses a and b, and the model's one-way delay between them.
func fixedPair(t *testing.T, latency time.Duration, a, b netip.Addr) (*linkconn.Model, [2]netem.HostID, time.Duration) {
	t.Helper()
	n, err := netem.New(netem.Config{})
	require.NoError(t, err)
	region, err := n.Matrix().Lookup("us-east-1")
	require.NoError(t, err)
	p := netem.Profile{Name: "fixed", Latency: latency}
	ha, err := n.AddHost(region, p)
	require.NoError(t, err)
	hb, err := n.AddHost(region, p)
	require.NoError(t, err)
	model := linkconn.NewModel(n)
	model.AddAddr(a, ha)
	model.AddAddr(b, hb)
	return model, [2]netem.HostID{ha, hb}, n.BaseRTT(ha, hb) / 2
}

// TestSpinNeverDeliversEarly writes through a model of two hosts 11 ms apart one way (5 ms
// access links without jitter, 1 ms of backbone) with Spin on: every message arrives no earlier
// than the model says, spinning or not.
func TestSpinNeverDeliversEarly(t *testing.T) {
	a, b := netip.MustParseAddr("127.79.1.1"), netip.MustParseAddr("127.79.1.2")
	model, _, oneWay := fixedPair(t, 5*time.Millisecond, a, b)
	model.Spin = time.Millisecond
	local, remote := net.Pipe()
	c := model.Wrap(local, a, b)
	defer c.Close()
	defer remote.Close()
	buf := make([]byte, 16)
	for range 5 {
		start := time.Now()
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		_, err = io.ReadFull(remote, buf[:5])
		require.NoError(t, err)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, oneWay, "the model's one-way delay is a floor")
		assert.Less(t, took, oneWay+100*time.Millisecond, "and the wrapper does not hold a message far beyond it")
	}
}

// TestDuplexShapesBothWays: a connection wrapped with WrapDuplex on one side only (the other
// side shapes nothing, as a node in a container) takes the model's one-way delay in each
// direction: a write reaches the peer no earlier than the model says, and so does the peer's
// answer reach the reader, a large one read in many pieces included (the pieces do not each
// wait the delay again).
func TestDuplexShapesBothWays(t *testing.T) {
	a, b := netip.MustParseAddr("127.79.2.1"), netip.MustParseAddr("127.79.2.2")
	model, _, oneWay := fixedPair(t, 10*time.Millisecond, a, b)
	local, remote := net.Pipe()
	c := model.WrapDuplex(local, a, b)
	defer c.Close()
	defer remote.Close()
	tests := []struct {
		name string
		size int
	}{
		{"small", 5},
		{"large", 200 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := make([]byte, tt.size)
			start := time.Now()
			go func() { _, _ = remote.Write(msg) }()
			_, err := io.ReadFull(c, make([]byte, tt.size))
			require.NoError(t, err)
			took := time.Since(start)
			assert.GreaterOrEqual(t, took, oneWay, "the peer's bytes wait the one-way delay")
			assert.Less(t, took, 2*oneWay+200*time.Millisecond, "once, not once per piece")

			start = time.Now()
			_, err = c.Write([]byte("hello"))
			require.NoError(t, err)
			_, err = io.ReadFull(remote, make([]byte, 5))
			require.NoError(t, err)
			assert.GreaterOrEqual(t, time.Since(start), oneWay, "and what this side writes too")
		})
	}
	assert.Equal(t, local, model.WrapDuplex(local, a, netip.MustParseAddr("127.79.2.3")), "an address the model does not know leaves the connection bare")
}

// TestDuplexReadDeadline: a read deadline in the past stops a pending Read (as net/http stops
// its background read between requests), and once cleared the connection reads on: the
// deadline does not reach the socket the pump reads.
func TestDuplexReadDeadline(t *testing.T) {
	a, b := netip.MustParseAddr("127.79.3.1"), netip.MustParseAddr("127.79.3.2")
	model, _, _ := fixedPair(t, time.Millisecond, a, b)
	local, remote := net.Pipe()
	c := model.WrapDuplex(local, a, b)
	defer c.Close()
	defer remote.Close()

	stopped := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); stopped <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, c.SetReadDeadline(time.Unix(1, 0)))
	select {
	case err := <-stopped:
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	case <-time.After(5 * time.Second):
		t.Fatal("a deadline in the past did not stop the pending Read")
	}
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	go func() { _, _ = remote.Write([]byte("next request")) }()
	got := make([]byte, len("next request"))
	_, err := io.ReadFull(c, got)
	require.NoError(t, err, "the connection reads on once the deadline is cleared")
	assert.Equal(t, "next request", string(got))
}

// TestTapSeesEveryWrite: the tap is told of every write as the model shapes it (hosts, size,
// when it was written, when it arrives), the peer reads it no earlier than that arrival, and
// SetTap(nil) stops the reports.
func TestTapSeesEveryWrite(t *testing.T) {
	a, b := netip.MustParseAddr("127.79.4.1"), netip.MustParseAddr("127.79.4.2")
	model, h, oneWay := fixedPair(t, 5*time.Millisecond, a, b)
	ha, hb := h[0], h[1]
	type tapped struct {
		from, to     netem.HostID
		size         int
		sent, arrive int64
		ok           bool
	}
	var got []tapped // the tap runs under the model's lock, on the writer's goroutine here
	model.SetTap(func(from, to netem.HostID, size int, sent, arrive int64, ok bool) {
		got = append(got, tapped{from, to, size, sent, arrive, ok})
	})
	local, remote := net.Pipe()
	c := model.Wrap(local, a, b)
	defer c.Close()
	defer remote.Close()
	for i, size := range []int{5, 100, 1000} {
		before := time.Now().UnixNano()
		_, err := c.Write(make([]byte, size))
		require.NoError(t, err)
		_, err = io.ReadFull(remote, make([]byte, size))
		require.NoError(t, err)
		read := time.Now().UnixNano()
		require.Len(t, got, i+1)
		g := got[i]
		assert.Equal(t, tapped{from: ha, to: hb, size: size, ok: true}, tapped{from: g.from, to: g.to, size: g.size, ok: g.ok})
		assert.GreaterOrEqual(t, g.sent, before, "sent when written")
		assert.GreaterOrEqual(t, g.arrive-g.sent, int64(oneWay), "arrives after the model's one-way delay")
		assert.GreaterOrEqual(t, read, g.arrive, "and the peer reads it no earlier")
	}
	model.SetTap(nil)
	_, err := c.Write([]byte("quiet"))
	require.NoError(t, err)
	_, err = io.ReadFull(remote, make([]byte, 5))
	require.NoError(t, err)
	assert.Len(t, got, 3, "no report once the tap is removed")
}
