package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// The client options below are defences the apps do not have (or have on some platforms only),
// kept in one place so that a run can switch each on and measure what it buys and costs. Every
// one is off in the zero Config, and none draws randomness while off, so a run without them is
// the run the apps make.

// MaxPaddingBucket bounds an onion padding size: a storage RPC body is at most 10 MiB.
const MaxPaddingBucket = 10 << 20

// MaxCoverPollsPerHour bounds the cover traffic rate (one dummy poll a second).
const MaxCoverPollsPerHour = 3600

// CheckPadding checks onion padding sizes: each positive, at most MaxPaddingBucket, and in
// strictly ascending order. Nil or empty (no padding) is valid.
func CheckPadding(buckets []int) error {
	for i, b := range buckets {
		if b < 1 || b > MaxPaddingBucket {
			return fmt.Errorf("size %d: each size must be between 1 and %d bytes", b, MaxPaddingBucket)
		}
		if i > 0 && b <= buckets[i-1] {
			return fmt.Errorf("size %d after %d: sizes must be in strictly ascending order", b, buckets[i-1])
		}
	}
	return nil
}

// paddedRPCLen is the length of an RPC request of n bytes once padRPC padded it.
func paddedRPCLen(n int, buckets []int) int {
	layer := onion.NodeLayerSize(n)
	return n + max(0, paddedSize(layer, buckets)-layer)
}

// paddedSize is the size a destination layer of n bytes is padded to: the first bucket that
// holds it, or past the largest bucket the next multiple of the largest, so that even a large
// store falls on a coarse grid. Without buckets it is n.
func paddedSize(n int, buckets []int) int {
	if len(buckets) == 0 {
		return n
	}
	if i, _ := slices.BinarySearch(buckets, n); i < len(buckets) {
		return buckets[i]
	}
	top := buckets[len(buckets)-1]
	return (n + top - 1) / top * top
}

// padRPC pads an RPC request so that the destination layer of its onion (onion.NodeLayerSize)
// is a padding size. The padding is JSON whitespace after the request object: JSON allows it,
// the storage server's parser (and ours, wirejson) skips it, and the relays cannot see it, so
// the request means what it meant unpadded and every hop carries a size fixed by the bucket.
// rpc itself is not changed.
func padRPC(rpc []byte, buckets []int) []byte {
	size := paddedRPCLen(len(rpc), buckets)
	if size == len(rpc) {
		return rpc
	}
	out := make([]byte, size)
	copy(out, rpc)
	for i := len(rpc); i < len(out); i++ {
		out[i] = ' '
	}
	return out
}

// guardTestRequest is the method and body of the direct request that tests a guard candidate,
// and the Session ID it names (zero for a ping), for the GuardTested event.
func (c *Client) guardTestRequest() (method string, body []byte, named identity.ID) {
	switch c.cfg.GuardTest {
	case GuardTestRandomID:
		id := c.randomID()
		return storagerpc.MethodGetSwarm, getSwarmRequest(id), id
	case GuardTestPing:
		info := &storagerpc.Info{}
		return info.Method(), storagerpc.EncodeRequest(info), identity.ID{}
	}
	return storagerpc.MethodGetSwarm, getSwarmRequest(c.ID()), c.ID()
}

// randomID draws a Session ID no one owns (a random 32-byte key is a curve point's encoding
// about half the time, and an observer cannot tell which without trying).
func (c *Client) randomID() identity.ID {
	var k [32]byte
	fillRandom(c.env.Rand().Uint64, k[:])
	return identity.NewID(identity.PrefixSession, k)
}

func fillRandom(next func() uint64, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := next()
		for j := i; j < min(i+8, len(b)); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
}

// guardSince records when a guard was selected, for GuardLifetime.
type guardSince struct {
	node nodeIdx
	at   int64 // unix nanoseconds
}

// guardSelected notes that g became a guard at now (only when guards expire).
func (rt *router) guardSelected(g nodeIdx, now time.Time) {
	if rt.cfg.GuardLifetime <= 0 {
		return
	}
	if rt.since == nil {
		rt.since = new([]guardSince)
	}
	since := slices.DeleteFunc(*rt.since, func(s guardSince) bool { return s.node == g || !slices.Contains(rt.guards, s.node) })
	*rt.since = append(since, guardSince{node: g, at: now.UnixNano()})
}

// retireGuards gives up the guards selected GuardLifetime or longer ago, with their paths; the
// nodes stay in the pool (they did not fail). The next onion request selects and tests new
// guards. It reports whether any guard was retired.
func (rt *router) retireGuards(now time.Time) bool {
	if rt.cfg.GuardLifetime <= 0 || rt.since == nil {
		return false
	}
	due := func(s guardSince) bool {
		return slices.Contains(rt.guards, s.node) && now.UnixNano()-s.at >= int64(rt.cfg.GuardLifetime)
	}
	retired := false
	if !slices.ContainsFunc(*rt.since, due) {
		// The common case, before every onion request: nothing to retire, nothing to copy.
		*rt.since = slices.DeleteFunc(*rt.since, func(s guardSince) bool { return !slices.Contains(rt.guards, s.node) })
		return false
	}
	for _, s := range slices.Clone(*rt.since) {
		if !due(s) {
			continue
		}
		rt.guards = slices.DeleteFunc(rt.guards, func(x nodeIdx) bool { return x == s.node })
		if k := rt.pathIndexByGuard(s.node); k >= 0 {
			rt.paths = slices.Delete(rt.paths, k, k+1)
		}
		info := rt.dir.info(s.node)
		rt.observe(PathDropped{Guard: info.Addr, GuardEd25519: info.Ed25519, Cause: CauseGuardLifetime})
		retired = true
	}
	*rt.since = slices.DeleteFunc(*rt.since, func(s guardSince) bool { return !slices.Contains(rt.guards, s.node) })
	return retired
}

// scheduleCover draws the wait before the next dummy poll (exponential: a Poisson process at
// CoverPollsPerHour) while the client is online.
func (c *Client) scheduleCover() {
	if c.cfg.CoverPollsPerHour <= 0 || !c.online {
		return
	}
	ep := c.epoch
	mean := float64(time.Hour) / c.cfg.CoverPollsPerHour
	wait := time.Duration(c.env.Rand().ExpFloat64() * mean)
	c.more().coverTimer = c.env.After(wait, func() {
		if !c.alive(ep) {
			return
		}
		c.coverPoll()
		c.scheduleCover()
	})
}

// decoy is the account a client's dummy polls read: a real key pair no one else knows, so the
// polls are signed and answered exactly as real ones are, and tie to no user.
type decoy struct {
	id  identity.ID
	key [ed25519.PrivateKeySize]byte
}

// coverPoll sends one dummy poll: a retrieve of the namespaces the client polls, shaped like its
// real ones (a last hash where the client has one for that namespace), for the client's decoy
// account, to a random member of the decoy's swarm, through the client's paths. The decoy is
// made at the first dummy poll and its swarm looked up and cached like a contact's, so the
// answers are a real poll's (200 with no messages) and nothing in the request names the client.
// The answer is ignored.
func (c *Client) coverPoll() {
	r := c.env.Rand()
	x := c.more()
	if x.decoy == nil {
		var seed [identity.RecoverySeedSize]byte
		fillRandom(r.Uint64, seed[:])
		keys, err := identity.FromSeed(seed[:])
		if err != nil {
			return // cannot happen: every recovery seed derives keys
		}
		c.env.Work(c.cfg.Suite.Costs().X25519KeyGen)
		x.decoy = &decoy{id: keys.SessionID()}
		copy(x.decoy.key[:], keys.Ed25519Private)
	}
	c.swarmFor(x.decoy.id, func(Failure) {}, func(e *swarmEntry) {
		t, ok := c.pickMember(e)
		if !ok {
			return
		}
		r := c.env.Rand()
		nss := c.cfg.Namespaces
		last := make([]string, len(nss))
		for k, ns := range nss {
			if slices.ContainsFunc(c.last, func(e lastHash) bool { return e.ns == ns }) {
				var h [32]byte
				fillRandom(r.Uint64, h[:])
				last[k] = base64.RawStdEncoding.EncodeToString(h[:])
			}
		}
		// The real polls carry an expire of the client's config messages: so does the dummy,
		// for as many made-up hashes, so that both are the same size.
		exp := c.configExpire()
		exp.hashes = slices.Clone(exp.hashes)
		for k := range exp.hashes {
			var h [32]byte
			fillRandom(r.Uint64, h[:])
			exp.hashes[k] = base64.RawStdEncoding.EncodeToString(h[:])
		}
		rpc, cost := retrieveRequest(c.cfg.Suite, x.decoy.key[:], x.decoy.id, nss, last, c.netNowMS(), c.cfg.maxSizeOf, exp)
		c.env.Work(cost)
		x.coverPolls++
		c.onionVia(t, "retrieve", nss, x.decoy.id, rpc, true, func(onionResult) {})
	})
}
