package node

import (
	"net/netip"
	"time"
)

// RateLimit configures the per-client token buckets of /storage_rpc/v1. The storage server
// limits direct client requests by source IP (onion requests are not limited: the IP a
// destination sees is the previous hop's).
type RateLimit struct {
	// BucketSize is how many requests a client may burst. Default 600.
	BucketSize int
	// Rate is the refill rate in tokens per second. Default 300.
	Rate int
	// MaxClients bounds the number of tracked IPs; when it is reached, full buckets are
	// dropped, and if none can be, new clients are refused until some refill. Default 10,000.
	MaxClients int
	// Disabled turns limiting off (scenarios that model one client IP for many users).
	Disabled bool
}

// DefaultRateLimit is the storage server's limiter.
var DefaultRateLimit = RateLimit{BucketSize: 600, Rate: 300, MaxClients: 10000}

// bucket is one client's tokens. last is when a token was last taken: like the real limiter,
// refill counts whole token periods since then, so a client asking faster than the refill rate
// earns nothing until it pauses for a full period.
type bucket struct {
	tokens int32
	last   time.Time
}

// rateLimiter is a token-bucket limiter keyed by client IP.
type rateLimiter struct {
	cfg     RateLimit
	period  time.Duration // time to earn one token
	fill    time.Duration // time to fill an empty bucket
	buckets map[netip.Addr]bucket
}

func newRateLimiter(cfg RateLimit) *rateLimiter {
	rl := &rateLimiter{cfg: cfg} // buckets: made with the first client
	if cfg.Rate > 0 {
		rl.period = time.Second / time.Duration(cfg.Rate)
		rl.fill = rl.period * time.Duration(cfg.BucketSize)
	}
	return rl
}

// refill adds the tokens earned since b.last (at most a full bucket) and reports whether the
// bucket is full.
func (rl *rateLimiter) refill(b *bucket, now time.Time) bool {
	if rl.period > 0 {
		elapsed := min(now.Sub(b.last), rl.fill)
		if elapsed > 0 {
			b.tokens += int32(elapsed / rl.period)
		}
	}
	if int(b.tokens) >= rl.cfg.BucketSize {
		b.tokens = int32(rl.cfg.BucketSize)
		return true
	}
	return false
}

// Allow takes a token for ip at now; false means the request must be refused with 429.
func (rl *rateLimiter) Allow(ip netip.Addr, now time.Time) bool {
	if rl.cfg.Disabled || rl.cfg.BucketSize <= 0 {
		return true
	}
	if b, ok := rl.buckets[ip]; ok {
		rl.refill(&b, now)
		if b.tokens == 0 {
			rl.buckets[ip] = b
			return false
		}
		b.tokens--
		b.last = now
		rl.buckets[ip] = b
		return true
	}
	if rl.cfg.MaxClients > 0 && len(rl.buckets) >= rl.cfg.MaxClients {
		rl.clean(now)
		if len(rl.buckets) >= rl.cfg.MaxClients {
			return false
		}
	}
	if rl.buckets == nil {
		rl.buckets = make(map[netip.Addr]bucket)
	}
	rl.buckets[ip] = bucket{tokens: int32(rl.cfg.BucketSize - 1), last: now}
	return true
}

// clean forgets clients whose buckets have refilled completely: a full bucket behaves exactly
// like a client never seen, so the order of deletion does not matter.
func (rl *rateLimiter) clean(now time.Time) {
	for ip, b := range rl.buckets {
		if rl.refill(&b, now) {
			delete(rl.buckets, ip)
		}
	}
}

// Len is the number of tracked clients.
func (rl *rateLimiter) Len() int { return len(rl.buckets) }
