package registry

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newLedger(t *testing.T, cfg Config, n int) *Ledger {
	t.Helper()
	l, err := NewLedger(cfg)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Register(reg(i)))
	}
	return l
}

// run makes blocks every BlockInterval from the ledger's last block (t0 first) until the time
// is at least until, calling each(now) before every block.
func run(l *Ledger, until time.Time, each func(now time.Time)) []BlockResult {
	var out []BlockResult
	now := t0
	if l.Height() > 0 {
		now = l.time.Add(l.cfg.BlockInterval)
	}
	for ; !now.After(until); now = now.Add(l.cfg.BlockInterval) {
		if each != nil {
			each(now)
		}
		out = append(out, l.Block(now))
	}
	return out
}

// eventsOf picks the events of type T from blocks' results, in order.
func eventsOf[T actor.Event](rs ...BlockResult) []T {
	var out []T
	for _, r := range rs {
		for _, ev := range r.Events {
			if e, ok := ev.(T); ok {
				out = append(out, e)
			}
		}
	}
	return out
}

func TestRegistrationAndAssignment(t *testing.T) {
	for _, n := range []int{1, 5, 7, 14, 30, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := newLedger(t, ShortConfig(), n)
			assert.Empty(t, l.List().Nodes, "nothing is listed before a block")
			res := l.Block(t0)
			require.True(t, res.Changed)
			assert.Equal(t, uint64(1), res.Height)
			assert.Equal(t, BlockHash(1, 1), res.Hash)

			list := l.List()
			require.Len(t, list.Nodes, n)
			assert.True(t, slices.IsSortedFunc(list.Nodes, func(a, b Peer) int { return comparePeer(a, b.Ed25519) }))
			assert.Len(t, l.Swarms(), 1+max(0, n-7)/7)
			assert.Equal(t, n, list.ActiveCount())
			for _, p := range list.Nodes {
				assert.True(t, slices.ContainsFunc(l.Members(p.Swarm), func(r Record) bool { return r.Ed25519 == p.Ed25519 }),
					"the list puts %x in a swarm the assignment has it in", p.Ed25519[:4])
				assert.Equal(t, uint64(1), p.RegistrationHeight)
				assert.Equal(t, t0.Unix(), p.LastUptimeProof, "registration counts as a proof")
			}
			assert.Len(t, eventsOf[Registered](res), n)
			assert.Len(t, eventsOf[SwarmChanged](res), n)
			assert.Len(t, eventsOf[SwarmCreated](res), len(l.Swarms()))
			be := eventsOf[BlockEvent](res)
			require.Len(t, be, 1)
			assert.Equal(t, n, be[0].Active)

			// A quiet block changes nothing and makes no new list.
			prev := l.List()
			res = l.Block(t0.Add(2 * time.Minute))
			assert.False(t, res.Changed)
			assert.Same(t, prev, l.List())
			assert.Empty(t, eventsOf[SwarmChanged](res))
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	l := newLedger(t, ShortConfig(), 1)
	assert.ErrorContains(t, l.Register(reg(0)), "already registered")
	bad := reg(1)
	bad.Addr = netip.AddrPort{}
	assert.ErrorContains(t, l.Register(bad), "no valid storage address")
	noX := reg(2)
	noX.X25519 = [32]byte{}
	require.NoError(t, l.Register(noX), "the X25519 key is derived when missing")
	l.Block(t0)
	n, ok := l.Node(noX.Ed25519)
	require.True(t, ok)
	assert.Equal(t, identity.Derive(99, "node-2").X25519Public, n.X25519)
	assert.ErrorIs(t, l.Leave([32]byte{1}), errNotRegistered)
	assert.ErrorIs(t, l.UptimeProof([32]byte{1}, t0), errNotRegistered)
	assert.ErrorIs(t, l.Report([32]byte{1}, noX.Ed25519, true, t0), errNotRegistered)
	assert.ErrorIs(t, l.Report(noX.Ed25519, [32]byte{1}, true, t0), errNotRegistered)
}

func TestObligations(t *testing.T) {
	const n = 12
	victim := reg(3).Ed25519
	tester := reg(0).Ed25519
	silentVictim := func(l *Ledger, now time.Time) { proofsExcept(l, now, victim) }
	// testerReports gives every node's proofs and, after the first block, the tester's reports of
	// the victim whenever report (given the time since the first block) says one is sent.
	testerReports := func(report func(since time.Duration) (sent, passed bool)) func(*Ledger, time.Time) {
		return func(l *Ledger, now time.Time) {
			proofsExcept(l, now)
			if sent, passed := report(now.Sub(t0)); sent && now.After(t0) {
				require.NoError(t, l.Report(tester, victim, passed, now))
			}
		}
	}
	tests := []struct {
		name string
		cfg  func(*Config)
		// feed is called before every block; healthy nodes get proofs and passing reports from it.
		feed      func(l *Ledger, now time.Time)
		until     time.Duration
		wantState NodeState
		wantWhy   Reason
	}{
		{
			name:      "silent node is decommissioned when its proof is too old",
			feed:      silentVictim,
			until:     26 * time.Minute, // proof at t0, max age 20 min
			wantState: StateDecommissioned,
			wantWhy:   ReasonUptimeProof,
		},
		{
			name:      "without enough credit the node is deregistered",
			cfg:       func(c *Config) { c.MinimumCredit = 2 * time.Hour },
			feed:      silentVictim,
			until:     26 * time.Minute,
			wantState: StateDeregistered,
			wantWhy:   ReasonUptimeProof,
		},
		{
			name:      "failing reachability for longer than the threshold",
			feed:      testerReports(func(time.Duration) (bool, bool) { return true, false }),
			until:     14 * time.Minute, // first failure at 2 min, threshold 10 min
			wantState: StateDecommissioned,
			wantWhy:   ReasonUnreachable,
		},
		{
			name:      "a pass resets the run of failures",
			feed:      testerReports(func(since time.Duration) (bool, bool) { return true, since%(8*time.Minute) == 0 }),
			until:     40 * time.Minute,
			wantState: StateActive,
		},
		{
			name:      "failures that stopped long ago are stale",
			feed:      testerReports(func(since time.Duration) (bool, bool) { return since < 3*time.Minute, false }),
			until:     40 * time.Minute,
			wantState: StateActive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ShortConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			l := newLedger(t, cfg, n)
			rs := run(l, t0.Add(tt.until), func(now time.Time) { tt.feed(l, now) })
			rec, ok := l.Node(victim)
			require.True(t, ok)
			assert.Equal(t, tt.wantState, rec.State)
			_, inSwarm := l.SwarmOf(victim)
			assert.Equal(t, tt.wantState == StateActive, inSwarm)
			switch tt.wantState {
			case StateDecommissioned:
				ev := eventsOf[Decommissioned](rs...)
				require.Len(t, ev, 1)
				assert.Equal(t, victim, ev[0].Node)
				assert.Equal(t, tt.wantWhy, ev[0].Reason)
				p, listed := l.List().Find(victim)
				require.True(t, listed, "decommissioned nodes stay listed")
				assert.False(t, p.Active())
				assert.Equal(t, int64(0), p.LastUptimeProof, "a decommission forgets the proofs")
			case StateDeregistered:
				ev := eventsOf[Deregistered](rs...)
				require.Len(t, ev, 1)
				assert.Equal(t, tt.wantWhy, ev[0].Reason)
				_, listed := l.List().Find(victim)
				assert.False(t, listed)
			case StateActive:
				assert.Empty(t, eventsOf[Decommissioned](rs...))
			}
			// Nobody else was touched, and every swarm is whole.
			for _, r := range l.Nodes() {
				if r.Ed25519 != victim {
					assert.Equal(t, StateActive, r.State, r.Name)
				}
			}
			for _, id := range l.Swarms() {
				assert.GreaterOrEqual(t, len(l.Members(id)), swarm.MinSwarmSize)
			}
		})
	}
}

// proofsExcept sends uptime proofs for every registered node but the given ones.
func proofsExcept(l *Ledger, now time.Time, skip ...[32]byte) {
	for _, r := range l.Nodes() {
		if r.State == StateDeregistered || slices.Contains(skip, r.Ed25519) {
			continue
		}
		_ = l.UptimeProof(r.Ed25519, now)
	}
}

func TestDecommissionCreditAndRecommission(t *testing.T) {
	cfg := ShortConfig()
	l := newLedger(t, cfg, 12)
	victim := reg(5).Ed25519

	// Healthy for 100 minutes: credit 30 min + 100 min * (1 h / 10 h) = 40 min.
	run(l, t0.Add(100*time.Minute), func(now time.Time) { proofsExcept(l, now) })
	c, ok := l.Credit(victim, l.time)
	require.True(t, ok)
	assert.Equal(t, 40*time.Minute, c)

	// Silent from then on: decommissioned once its last proof (at 100 min) is over 20 min old.
	rs := run(l, t0.Add(124*time.Minute), func(now time.Time) { proofsExcept(l, now, victim) })
	dec := eventsOf[Decommissioned](rs...)
	require.Len(t, dec, 1)
	at := t0.Add(122 * time.Minute)
	assert.Equal(t, uint64(62), dec[0].Height)
	assert.Equal(t, 40*time.Minute+(22*time.Minute)/10, dec[0].Credit)
	rec, _ := l.Node(victim)
	assert.Equal(t, at, rec.DecommissionedAt)
	assert.Equal(t, 1, rec.DecommissionCount)
	swarmEv := eventsOf[SwarmChanged](rs...)
	require.NotEmpty(t, swarmEv)
	assert.Equal(t, victim, swarmEv[0].Node)
	assert.Equal(t, swarm.Unassigned, swarmEv[0].To)

	// Down for 6 minutes, then a proof: recommissioned with 42m12s - 2 x 6 min of credit, and
	// placed in a swarm in the same block.
	rs = run(l, at.Add(6*time.Minute), func(now time.Time) {
		if now.Equal(at.Add(6 * time.Minute)) {
			proofsExcept(l, now)
		} else {
			proofsExcept(l, now, victim)
		}
	})
	rec, _ = l.Node(victim)
	require.Equal(t, StateActive, rec.State)
	rc := eventsOf[Recommissioned](rs...)
	require.Len(t, rc, 1)
	assert.Equal(t, 42*time.Minute+12*time.Second-12*time.Minute, rc[0].Credit)
	_, inSwarm := l.SwarmOf(victim)
	assert.True(t, inSwarm)
	p, _ := l.List().Find(victim)
	assert.True(t, p.Active())
	assert.Equal(t, uint32(1), p.DecommissionCount)
}

func TestDecommissionedNodeBurnsCredit(t *testing.T) {
	cfg := ShortConfig()
	l := newLedger(t, cfg, 10)
	victim := reg(7).Ed25519
	rs := run(l, t0.Add(3*time.Hour), func(now time.Time) { proofsExcept(l, now, victim) })
	dec := eventsOf[Decommissioned](rs...)
	require.Len(t, dec, 1)
	dereg := eventsOf[Deregistered](rs...)
	require.Len(t, dereg, 1)
	assert.Equal(t, ReasonUptimeProof|ReasonCreditExhausted, dereg[0].Reason)
	// Credit at decommission (22 min after registration): 30 min + 2.2 min; it runs out after
	// that much downtime, and the first block after that deregisters.
	down := dereg[0].Height - dec[0].Height
	credit := dec[0].Credit
	assert.Equal(t, int64(credit/cfg.BlockInterval)+1, int64(down))
	_, listed := l.List().Find(victim)
	assert.False(t, listed)
	assert.ErrorIs(t, l.UptimeProof(victim, l.time), errNotRegistered)
}

func TestCreditGrowsAndCaps(t *testing.T) {
	cfg := DefaultConfig()
	l, err := NewLedger(cfg)
	require.NoError(t, err)
	r := reg(1)
	require.NoError(t, l.Register(r))
	l.Block(t0)
	tests := []struct {
		after time.Duration
		want  time.Duration
	}{
		{0, 2 * time.Hour},
		{30 * 24 * time.Hour, 26 * time.Hour},
		{15 * 24 * time.Hour, 14 * time.Hour},
		{60 * 24 * time.Hour, 48 * time.Hour},
		{3650 * 24 * time.Hour, 48 * time.Hour},
	}
	for _, tt := range tests {
		c, ok := l.Credit(r.Ed25519, t0.Add(tt.after))
		require.True(t, ok)
		assert.Equal(t, tt.want, c, "after %v", tt.after)
	}
}

func TestLeave(t *testing.T) {
	l := newLedger(t, ShortConfig(), 8)
	l.Block(t0)
	require.Len(t, l.Swarms(), 1)
	k := reg(2).Ed25519
	require.NoError(t, l.Leave(k))
	res := l.Block(t0.Add(2 * time.Minute))
	assert.True(t, res.Changed)
	d := eventsOf[Deregistered](res)
	require.Len(t, d, 1)
	assert.Equal(t, ReasonLeft, d[0].Reason)
	rec, _ := l.Node(k)
	assert.Equal(t, StateDeregistered, rec.State)
	assert.Len(t, l.List().Nodes, 7)
	// A deregistered node may register again.
	require.NoError(t, l.Register(reg(2)))
	l.Block(t0.Add(4 * time.Minute))
	rec, _ = l.Node(k)
	assert.Equal(t, StateActive, rec.State)
	assert.Equal(t, uint64(3), rec.RegistrationHeight)
}

func TestSwarmForAndMembers(t *testing.T) {
	l := newLedger(t, ShortConfig(), 40)
	l.Block(t0)
	ids := l.Swarms()
	require.Len(t, ids, 5)
	total := 0
	for _, id := range ids {
		m := l.Members(id)
		total += len(m)
		for _, r := range m {
			got, _ := l.SwarmOf(r.Ed25519)
			assert.Equal(t, id, got)
		}
		assert.Equal(t, len(m), len(l.List().Members(id)))
	}
	assert.Equal(t, 40, total)
	// An account belongs to the swarm nearest to its position on the 2^64 ring.
	ring := l.List().Ring()
	for i := range 100 {
		user := identity.Derive(1, fmt.Sprintf("user-%d", i)).SessionID()
		x := swarm.SpaceOf(user)
		nearest, best := swarm.Unassigned, uint64(math.MaxUint64)
		for _, id := range ids {
			if d := min(uint64(id)-x, x-uint64(id)); d < best {
				nearest, best = id, d
			}
		}
		owner, ok := l.SwarmFor(user)
		require.True(t, ok)
		assert.Equal(t, nearest, owner, "user-%d", i)
		got, ok := ring.OwnerOf(user)
		require.True(t, ok)
		assert.Equal(t, nearest, got, "user-%d, from the list", i)
	}
}

// Over many blocks of random joins, crashes (silence), recoveries and departures, the ledger's
// invariants hold, and two ledgers fed the same inputs agree byte for byte, whichever way
// failing nodes are found.
func TestLedgerChurnDeterministic(t *testing.T) {
	for _, cfg := range []Config{ShortConfig(), QuorumConfig()} {
		t.Run(string(cfg.Obligations), func(t *testing.T) { ledgerChurn(t, cfg) })
	}
}

func ledgerChurn(t *testing.T, cfg Config) {
	type step struct {
		join, crash, recover, leave []int
	}
	r := newRand(5)
	const blocks = 300
	steps := make([]step, blocks)
	next := 0
	for b := range steps {
		for range r.IntN(3) {
			steps[b].join = append(steps[b].join, next)
			next++
		}
		if next > 0 {
			for range r.IntN(2) {
				steps[b].crash = append(steps[b].crash, r.IntN(next))
			}
			for range r.IntN(2) {
				steps[b].recover = append(steps[b].recover, r.IntN(next))
			}
			if r.IntN(10) == 0 {
				steps[b].leave = append(steps[b].leave, r.IntN(next))
			}
		}
	}
	regs := make([]Registration, next)
	for i := range regs {
		regs[i] = reg(i)
	}
	play := func() ([]BlockResult, *Ledger) {
		l, err := NewLedger(cfg)
		require.NoError(t, err)
		down := map[int]bool{}
		var out []BlockResult
		for b, s := range steps {
			now := t0.Add(time.Duration(b) * 2 * time.Minute)
			for _, i := range s.join {
				require.NoError(t, l.Register(regs[i]))
			}
			for _, i := range s.crash {
				down[i] = true
			}
			for _, i := range s.recover {
				delete(down, i)
			}
			for _, i := range s.leave {
				_ = l.Leave(regs[i].Ed25519)
			}
			for i := 0; i < next; i++ {
				if !down[i] {
					_ = l.UptimeProof(regs[i].Ed25519, now)
				}
			}
			res := l.Block(now)
			out = append(out, res)
			active := l.List().ActiveCount()
			if active >= swarm.MinSwarmSize {
				for _, id := range l.Swarms() {
					require.GreaterOrEqual(t, len(l.Members(id)), swarm.MinSwarmSize, "block %d", b)
				}
			}
			n := 0
			for _, p := range l.List().Nodes {
				rec, _ := l.Node(p.Ed25519)
				if p.Active() {
					n++
					require.Equal(t, StateActive, rec.State)
					require.True(t, slices.ContainsFunc(l.Members(p.Swarm), func(r Record) bool { return r.Ed25519 == p.Ed25519 }),
						"block %d: the list puts %x in a swarm the assignment has it in", b, p.Ed25519[:4])
				} else {
					require.Equal(t, StateDecommissioned, rec.State)
				}
			}
			require.Equal(t, active, n)
		}
		return out, l
	}
	a, la := play()
	b, lb := play()
	require.Equal(t, a, b)
	assert.Equal(t, la.List().Nodes, lb.List().Nodes)
	assert.NotEmpty(t, eventsOf[Decommissioned](a...))
	assert.NotEmpty(t, eventsOf[Recommissioned](a...))
	assert.NotEmpty(t, eventsOf[Deregistered](a...))
}

func TestConfigFill(t *testing.T) {
	c, err := Config{}.Fill()
	require.NoError(t, err)
	assert.Equal(t, DefaultConfig(), c)
	_, err = Config{BlockInterval: -time.Second}.Fill()
	assert.ErrorContains(t, err, "BlockInterval")
	_, err = Config{InitialCredit: 50 * time.Hour}.Fill()
	assert.ErrorContains(t, err, "exceeds MaxCredit")
	_, err = Config{ListSize: -1}.Fill()
	assert.ErrorContains(t, err, "ListSize")
	_, err = Config{Obligations: "vibes"}.Fill()
	assert.ErrorContains(t, err, `Obligations "vibes"`)
	_, err = Config{Seeds: []actor.Addr{{}}}.Fill()
	assert.ErrorContains(t, err, "Seeds[0]")
}

func TestBlockHash(t *testing.T) {
	// sha256("sessionsim/block/v1\x00" || seed as 8 bytes little-endian || height likewise),
	// computed outside Go. Every run's swarms follow from these hashes, so they must not drift.
	tests := []struct {
		seed, height uint64
		want         string
	}{
		{1, 2, "5b754749a6795a2a91e8998e15a7fb27f519a82c3b80c0f510d581abcd53e890"},
		{0, 1, "1f0c24bbdad0e7d40dd00b74f76fd49d971cd061fbf22b528215420b8cb8f0db"},
	}
	for _, tt := range tests {
		h := BlockHash(tt.seed, tt.height)
		assert.Equal(t, tt.want, hex.EncodeToString(h[:]), "seed %d height %d", tt.seed, tt.height)
	}
	assert.NotEqual(t, BlockHash(1, 2), BlockHash(1, 3))
	assert.NotEqual(t, BlockHash(1, 2), BlockHash(2, 2))
}
