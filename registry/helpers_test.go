package registry

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ShortConfig is the real network's rules (DefaultConfig) with the hour-long thresholds shrunk
// to minutes so tests take few blocks, judged by the pooled reports so that each obligation
// rule acts in the block it first applies; the quorum's own tests use QuorumConfig.
func ShortConfig() Config {
	c := DefaultConfig()
	c.Seed = 1
	c.Obligations = ObligationsPooled
	c.DecommissionAfter = 10 * time.Minute
	c.UptimeProofMaxAge = 20 * time.Minute
	c.InitialCredit = 30 * time.Minute
	c.MinimumCredit = 30 * time.Minute
	c.MaxCredit = 2 * time.Hour
	c.CreditPerPeriod = time.Hour
	c.CreditPeriod = 10 * time.Hour
	return c
}

// QuorumConfig is ShortConfig with the obligations quorum deciding.
func QuorumConfig() Config {
	c := ShortConfig()
	c.Obligations = ObligationsQuorum
	return c
}

// DecidedAt is the block in which, by the model of the obligations quorum, a decision about
// victim is applied: the block after the first vote block H >= from (up to last) whose quorum,
// H - ReorgSafetyBlocks - 1, was drawn after height after (the victim's last state change),
// tests victim, and has MinVotes validators that canVote at H. 0: no such block.
func DecidedAt(quorums map[uint64]Quorum, last uint64, victim [32]byte, from, after uint64, canVote func(h uint64, v [32]byte) bool) uint64 {
	for h := max(from, ReorgSafetyBlocks+2); h <= last; h++ {
		q, ok := quorums[h-ReorgSafetyBlocks-1]
		if !ok || q.Height <= after || !slices.Contains(q.Workers, victim) {
			continue
		}
		voters := 0
		for _, v := range q.Validators {
			if canVote(h, v) {
				voters++
			}
		}
		if voters >= MinVotes {
			return h + 1
		}
	}
	return 0
}

// Registrations are n nodes named node-first ... with their keys from (seed, name), as the world
// derives them, each at an address of its own.
func Registrations(seed uint64, first, n int) []Registration {
	out := make([]Registration, n)
	for k := range out {
		i := first + k
		name := fmt.Sprintf("node-%d", i)
		keys := identity.Derive(seed, name)
		out[k] = Registration{
			Name:    name,
			Ed25519: keys.Ed25519Public,
			X25519:  keys.X25519Public,
			Addr:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{5, 9, byte(i >> 8), byte(i)}), 22021),
			OMQPort: 22020,
		}
	}
	return out
}

// reg is node-i of the ledger tests.
func reg(i int) Registration { return Registrations(99, i, 1)[0] }
