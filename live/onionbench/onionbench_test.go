package onionbench

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/onion"
)

func TestRunMeasuresEveryPoint(t *testing.T) {
	cfg := Config{Sizes: []int{100, 4096}, Latencies: []time.Duration{0, 5 * time.Millisecond}, Requests: 10, Warmup: 2,
		Base: netip.MustParseAddr("127.92.0.1")}
	var seen int
	pts, err := Run(context.Background(), cfg, func(Point) { seen++ })
	require.NoError(t, err)
	require.Len(t, pts, 4)
	assert.Equal(t, 4, seen)
	for _, p := range pts {
		assert.Zero(t, p.Failures, "%+v", p)
		assert.Len(t, p.Samples, 10)
		assert.Positive(t, p.CryptoMS)
		assert.InDelta(t, p.LinkRTTMS+p.CryptoMS, p.FloorMS, 1e-9)
		assert.GreaterOrEqual(t, p.P99MS, p.P50MS)
		// A real round trip cannot beat the link model: every hop waits for it both ways.
		assert.GreaterOrEqual(t, p.P50MS, p.LinkRTTMS, "%+v", p)
	}
	assert.InDelta(t, 0, pts[0].LinkRTTMS, 1e-6, "no latency added: no link round trip")
	assert.InDelta(t, 30, pts[2].LinkRTTMS, 0.01, "5 ms one way on three hops is 30 ms of round trips")
}

func TestConfigRefusals(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"size too small", Config{Sizes: []int{1}}, "payload size 1"},
		{"size too large", Config{Sizes: []int{MaxSize + 1}}, "payload size"},
		{"negative latency", Config{Latencies: []time.Duration{-time.Millisecond}}, "link latency"},
		{"latency beyond the timeout", Config{Latencies: []time.Duration{time.Second}, Timeout: 10 * time.Second}, "link latency 1s: give latencies from 0 to 666.666666ms"},
		{"no requests", Config{Requests: -1}, "requests -1"},
		{"not loopback", Config{Base: netip.MustParseAddr("10.0.0.1")}, "loopback"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.cfg, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestPathCryptoOpensEveryLayer(t *testing.T) {
	w := &world{cfg: Config{EncType: onion.XChaCha20}}
	w2, err := newWorld(Config{EncType: onion.XChaCha20, Timeout: time.Second}, 0, netip.MustParseAddr("127.92.9.1"))
	require.NoError(t, err)
	defer w2.close()
	w.nodes, w.keys, w.suite = w2.nodes, w2.keys, w2.suite
	got, err := w.cryptoFloor(payload(1000), 3)
	require.NoError(t, err)
	assert.Positive(t, got)
}
