package node

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRateLimiterBurstAndRefill(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name     string
		burst    int           // requests sent at t0
		wait     time.Duration // pause after the burst
		then     int           // requests sent after the pause
		wantDeny int           // how many of all requests are refused
	}{
		{"within bucket", 600, 0, 0, 0},
		{"one over", 601, 0, 0, 1},
		{"refill one token per period", 600, 10 * time.Millisecond, 4, 1},       // 10ms = 3 tokens
		{"refill capped at bucket size", 600, time.Hour, 700, 100},              // full again, not more
		{"two seconds refill everything", 600, 2 * time.Second, 600, 0},         // 300/s * 2 s
		{"one second refills half", 600, time.Second, 400, 100},                 // 300 tokens
		{"sub-period pause earns nothing", 600, 3 * time.Millisecond, 1, 1},     // period is 3.33ms
		{"exactly one period earns one", 600, time.Second / 300, 2, 1},          // 1 token
		{"long silence then burst", 0, time.Hour, 601, 1},                       // new client
		{"drain, wait, drain again", 600, 1500 * time.Millisecond, 451, 1},      // 450 tokens
		{"tiny burst then long pause", 1, 24 * time.Hour, 600, 0},               // refilled to 600
		{"no pause after drain", 600, 0, 10, 10},                                // nothing earned
		{"pause shorter than period", 600, time.Millisecond, 1, 1},              // nothing earned
		{"three periods", 600, 3 * (time.Second / 300), 4, 1},                   // 3 tokens
		{"burst of 1000 at once", 1000, 0, 0, 400},                              // 600 allowed
		{"half second refills 150", 600, 500 * time.Millisecond, 151, 1},        // 150 tokens
		{"after refill, fractional part lost", 600, 5 * time.Millisecond, 2, 1}, // 1 token (5/3.33)
		{"full refill then exactly bucket", 600, 2 * time.Second, 600, 0},       // 600 tokens
		{"refill over two seconds still capped", 600, 3 * time.Second, 601, 1},  // capped at 600
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rl := newRateLimiter(DefaultRateLimit)
			denied := 0
			for range tc.burst {
				if !rl.Allow(ip, t0) {
					denied++
				}
			}
			at := t0.Add(tc.wait)
			for range tc.then {
				if !rl.Allow(ip, at) {
					denied++
				}
			}
			assert.Equal(t, tc.wantDeny, denied)
		})
	}
}

func TestRateLimiterPerIP(t *testing.T) {
	rl := newRateLimiter(DefaultRateLimit)
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for range 600 {
		require.True(t, rl.Allow(a, t0))
	}
	assert.False(t, rl.Allow(a, t0), "a drained its bucket")
	assert.True(t, rl.Allow(b, t0), "b has its own bucket")
}

func TestRateLimiterMaxClients(t *testing.T) {
	rl := newRateLimiter(RateLimit{BucketSize: 600, Rate: 300, MaxClients: 3})
	ips := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4"),
	}
	for _, ip := range ips[:3] {
		require.True(t, rl.Allow(ip, t0))
	}
	assert.False(t, rl.Allow(ips[3], t0), "table full of recently active clients: newcomer refused")
	// After a full refill period, the old buckets are full and can be forgotten.
	assert.True(t, rl.Allow(ips[3], t0.Add(2*time.Second)))
	assert.Equal(t, 1, rl.Len())
}

func TestRateLimiterDisabled(t *testing.T) {
	rl := newRateLimiter(RateLimit{Disabled: true})
	ip := netip.MustParseAddr("10.0.0.1")
	for range 10000 {
		require.True(t, rl.Allow(ip, t0))
	}
}

func BenchmarkRateLimiterAllow(b *testing.B) {
	rl := newRateLimiter(DefaultRateLimit)
	ips := make([]netip.Addr, 1024)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	}
	now := t0
	i := 0
	for b.Loop() {
		rl.Allow(ips[i&1023], now)
		i++
		now = now.Add(time.Microsecond)
	}
}
