package registry

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerCount(t *testing.T) {
	tests := []struct{ remaining, want int }{
		{0, 0},
		{2, 2},
		{50, 50},
		{90, 50},
		{5099, 50},
		{5100, 51},
		{19990, 199},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, WorkerCount(tt.remaining), "%d nodes besides the validators", tt.remaining)
	}
}

// sampleKeys are n distinct sorted keys, the first byte apart from the others' so that active and
// decommissioned lists never share one.
func sampleKeys(first byte, n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i][0] = first
		out[i][1], out[i][2] = byte(i>>8), byte(i)
	}
	return out
}

func TestDrawQuorumShape(t *testing.T) {
	tests := []struct{ active, decommissioned int }{
		{0, 0}, {5, 0}, {10, 0}, {10, 3}, {12, 0}, {12, 3}, {8, 4}, {60, 0}, {500, 0}, {500, 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d active %d decommissioned", tt.active, tt.decommissioned), func(t *testing.T) {
			active, decomm := sampleKeys(1, tt.active), sampleKeys(2, tt.decommissioned)
			for h := uint64(1); h <= 20; h++ {
				q := drawQuorum(h, BlockHash(3, h), active, decomm)
				again := drawQuorum(h, BlockHash(3, h), active, decomm)
				require.Equal(t, q, again, "the draw is a function of the block")
				assert.Equal(t, h, q.Height)
				nv := min(tt.active, QuorumSize)
				require.Len(t, q.Validators, nv)
				require.Len(t, q.Workers, WorkerCount(tt.active+tt.decommissioned-nv))
				seen := map[[32]byte]bool{}
				for _, v := range q.Validators {
					assert.True(t, slices.Contains(active, v), "validators are active")
					assert.False(t, seen[v], "no node twice")
					seen[v] = true
				}
				for _, w := range q.Workers {
					assert.True(t, slices.Contains(active, w) || slices.Contains(decomm, w))
					assert.False(t, seen[w], "no node twice, and no validator tests itself")
					seen[w] = true
				}
			}
		})
	}
}

// Over many blocks every node is a validator about QuorumSize/N of the time and a worker about
// W/N: each block tests a fresh uniform sample, so a node waits N/W blocks on average for its
// next test.
func TestDrawQuorumIsUniform(t *testing.T) {
	const n, blocks = 500, 4000
	active := sampleKeys(1, n)
	validator, worker := map[[32]byte]int{}, map[[32]byte]int{}
	for h := uint64(1); h <= blocks; h++ {
		q := drawQuorum(h, BlockHash(9, h), active, nil)
		for _, v := range q.Validators {
			validator[v]++
		}
		for _, w := range q.Workers {
			worker[w]++
		}
	}
	pw := float64(WorkerCount(n-QuorumSize)) / n
	pv := float64(QuorumSize) / n
	for _, k := range active {
		// Binomial counts: 5 standard deviations either side.
		assert.InDelta(t, blocks*pw, worker[k], 5*math.Sqrt(blocks*pw*(1-pw)), "worker count of %x", k[:3])
		assert.InDelta(t, blocks*pv, validator[k], 5*math.Sqrt(blocks*pv*(1-pv)), "validator count of %x", k[:3])
	}
}

// Decommissioned nodes are tested (so that they can come back or be deregistered) but never
// vote.
func TestDrawQuorumDecommissionedAreWorkersOnly(t *testing.T) {
	active, decomm := sampleKeys(1, 20), sampleKeys(2, 40)
	tested := 0
	for h := uint64(1); h <= 200; h++ {
		q := drawQuorum(h, BlockHash(4, h), active, decomm)
		for _, v := range q.Validators {
			require.True(t, slices.Contains(active, v))
		}
		for _, w := range q.Workers {
			if slices.Contains(decomm, w) {
				tested++
			}
		}
	}
	// 50 workers of the 50 non-validators every block: every decommissioned node each time.
	assert.Equal(t, 200*40, tested)
}

// quorumLedger is a ledger of n nodes under QuorumConfig after its first block, every node
// proving.
func quorumLedger(t *testing.T, cfg Config, n int) *Ledger {
	t.Helper()
	l := newLedger(t, cfg, n)
	proofsExcept(l, t0)
	l.Block(t0)
	return l
}

// The tally, one quorum by hand: MinVotes matching votes decide, one fewer does not; validators
// that are down or not active do not vote; the credit decides between decommission and
// deregistration.
func TestQuorumVotes(t *testing.T) {
	victim := reg(19).Ed25519
	validators := make([][32]byte, QuorumSize)
	for i := range validators {
		validators[i] = reg(i).Ed25519
	}
	tests := []struct {
		name    string
		cfg     func(*Config)
		failing int  // validators whose storage servers report the victim failing
		halted  int  // of those, how many are down
		back    bool // the halted come back up (Unhalt) before the vote
		silent  bool
		want    NodeState // 0: no decision
		wantWhy Reason
	}{
		{name: "10 of 10", failing: 10, want: StateDecommissioned, wantWhy: ReasonUnreachable},
		{name: "7 of 10", failing: 7, want: StateDecommissioned, wantWhy: ReasonUnreachable},
		{name: "6 of 10 do not decide", failing: 6},
		{name: "7, one of them down", failing: 7, halted: 1},
		{name: "7, one of them down and back up", failing: 7, halted: 1, back: true, want: StateDecommissioned, wantWhy: ReasonUnreachable},
		{name: "none, and the node proves", failing: 0},
		{name: "a stale proof is every voter's", silent: true, want: StateDecommissioned, wantWhy: ReasonUptimeProof},
		{
			name:    "too little credit: deregistered",
			cfg:     func(c *Config) { c.MinimumCredit = c.MaxCredit },
			failing: 7, want: StateDeregistered, wantWhy: ReasonUnreachable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := QuorumConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			l := quorumLedger(t, cfg, 20)
			start := t0.Add(time.Minute)
			now := start.Add(cfg.DecommissionAfter + time.Minute)
			for i, v := range validators[:tt.failing] {
				for at := start; !at.After(now); at = at.Add(time.Minute) {
					require.NoError(t, l.Report(v, victim, false, at))
				}
				if i < tt.halted {
					require.NoError(t, l.Halt(v))
					if tt.back {
						require.NoError(t, l.Unhalt(v))
					}
				}
			}
			if tt.silent {
				now = t0.Add(cfg.UptimeProofMaxAge + time.Minute)
			}
			proofsExcept(l, now, victim)
			if !tt.silent {
				require.NoError(t, l.UptimeProof(victim, now))
			}
			got := l.decide(Quorum{Height: 2, Validators: validators, Workers: [][32]byte{victim}}, now)
			if tt.want == 0 {
				assert.Empty(t, got)
				return
			}
			require.Contains(t, got, victim)
			assert.Equal(t, stateChange{to: tt.want, why: tt.wantWhy, quorum: 2}, got[victim])
		})
	}
}

// A quorum drawn before a node's last state change cannot change it again (can_be_voted_on),
// and a change that no longer fits the node's state is dropped.
func TestQuorumDecisionMustFitTheState(t *testing.T) {
	r := &Record{State: StateActive, StateHeight: 5}
	assert.False(t, canApply(r, stateChange{to: StateDecommissioned, quorum: 5}))
	assert.True(t, canApply(r, stateChange{to: StateDecommissioned, quorum: 6}))
	assert.False(t, canApply(r, stateChange{to: StateActive, quorum: 6}), "no recommission of an active node")
	r.State = StateDecommissioned
	assert.False(t, canApply(r, stateChange{to: StateDecommissioned, quorum: 6}))
	assert.True(t, canApply(r, stateChange{to: StateActive, quorum: 6}))
	assert.True(t, canApply(r, stateChange{to: StateDeregistered, quorum: 6}))
	r.State = StateDeregistered
	assert.False(t, canApply(r, stateChange{to: StateDeregistered, quorum: 6}))
}

// quorumRun plays a ledger block by block under QuorumConfig and keeps every block's quorum and
// who could vote after it.
type quorumRun struct {
	l       *Ledger
	quorums map[uint64]Quorum
	// voters[h] are the nodes active, with their machines up, after block h.
	voters map[uint64]map[[32]byte]bool
}

func newQuorumRun(t *testing.T, cfg Config, n int) *quorumRun {
	l := newLedger(t, cfg, n)
	return &quorumRun{l: l, quorums: map[uint64]Quorum{}, voters: map[uint64]map[[32]byte]bool{}}
}

// block calls feed, makes the next block and keeps its quorum and voters.
func (qr *quorumRun) block(t *testing.T, feed func(now time.Time)) BlockResult {
	t.Helper()
	now := t0
	if qr.l.Height() > 0 {
		now = qr.l.time.Add(qr.l.cfg.BlockInterval)
	}
	feed(now)
	res := qr.l.Block(now)
	q, ok := qr.l.Quorum(res.Height)
	require.True(t, ok, "block %d has a quorum", res.Height)
	qr.quorums[res.Height] = q
	up := map[[32]byte]bool{}
	for _, r := range qr.l.Nodes() {
		if r.State == StateActive && !r.Halted {
			up[r.Ed25519] = true
		}
	}
	qr.voters[res.Height] = up
	return res
}

// timeOf is block h's time.
func (qr *quorumRun) timeOf(h uint64) time.Time {
	return t0.Add(time.Duration(h-1) * qr.l.cfg.BlockInterval)
}

// decidedAt is DecidedAt over the blocks played, validators voting when active and up.
func (qr *quorumRun) decidedAt(victim [32]byte, from, after uint64) uint64 {
	return DecidedAt(qr.quorums, qr.l.Height(), victim, from, after, func(h uint64, v [32]byte) bool { return qr.voters[h][v] })
}

// A dead node stays in its swarm until the quorum votes it out: the block after the first
// quorum, drawn at least ReorgSafetyBlocks + 1 blocks before, that tests it once it fails. On N
// nodes each block tests W = WorkerCount(N - QuorumSize) of them, so from the block a node
// starts failing the wait is geometric with mean N/W blocks. Two ways of dying: the machine
// stops (no proofs, no votes: failing once its last proof is UptimeProofMaxAge old), and the
// storage server alone stops (every tester reports it failing; failing DecommissionAfter after
// the first failures).
func TestDeadNodeStaysInItsSwarmUntilTheQuorumVotesItOut(t *testing.T) {
	const n, victims, dieAt = 500, 10, 20
	cfg := QuorumConfig()
	mean := float64(n) / float64(WorkerCount(n-QuorumSize))
	tests := []struct {
		name string
		// stopsMachine: no proofs and no votes from dieAt; else the storage server alone
		// stops and every live node reports it failing in every block.
		stopsMachine bool
		// failingFrom is the first block the victims fail their obligations.
		failingFrom uint64
		why         Reason
	}{
		// Last proof at block dieAt-1; failing once it is more than UptimeProofMaxAge old.
		{"machine stops", true, dieAt - 1 + uint64(cfg.UptimeProofMaxAge/cfg.BlockInterval) + 1, ReasonUptimeProof},
		// First failure reported before block dieAt; failing once that is DecommissionAfter
		// old.
		{"storage server stops", false, dieAt + uint64(cfg.DecommissionAfter/cfg.BlockInterval), ReasonUnreachable},
	}
	var waits []float64
	for _, tt := range tests {
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("%s/seed %d", tt.name, seed), func(t *testing.T) {
				c := cfg
				c.Seed = seed
				qr := newQuorumRun(t, c, n)
				dead := map[[32]byte]bool{}
				for i := range victims {
					dead[reg(int(seed)*victims+i).Ed25519] = true
				}
				out := map[[32]byte]uint64{} // victim -> block that decommissioned it
				for qr.l.Height() < 300 && len(out) < victims {
					h := qr.l.Height() + 1
					res := qr.block(t, func(now time.Time) {
						for _, r := range qr.l.Nodes() {
							if r.State != StateDeregistered && (!dead[r.Ed25519] || h < dieAt || !tt.stopsMachine) {
								require.NoError(t, qr.l.UptimeProof(r.Ed25519, now))
							}
						}
						if h == dieAt && tt.stopsMachine {
							for k := range dead {
								require.NoError(t, qr.l.Halt(k))
							}
						}
						if h >= dieAt && !tt.stopsMachine {
							for _, r := range qr.l.Nodes() {
								for k := range dead {
									v, _ := qr.l.Node(k)
									if !dead[r.Ed25519] && r.State == StateActive && v.State != StateDeregistered {
										require.NoError(t, qr.l.Report(r.Ed25519, k, false, now.Add(-time.Second)))
									}
								}
							}
						}
					})
					for _, d := range eventsOf[Decommissioned](res) {
						require.True(t, dead[d.Node], "only the dead are voted out")
						assert.Equal(t, tt.why, d.Reason)
						out[d.Node] = res.Height
					}
					for _, d := range eventsOf[Deregistered](res) {
						_, wasOut := out[d.Node]
						require.True(t, wasOut, "they have the credit to be decommissioned first")
						assert.Equal(t, tt.why|ReasonCreditExhausted, d.Reason, "then deregistered when it runs out")
					}
					for k := range dead {
						_, inSwarm := qr.l.SwarmOf(k)
						p, listed := qr.l.List().Find(k)
						_, isOut := out[k]
						assert.Equal(t, !isOut, inSwarm, "block %d: a dead node keeps its swarm until it is voted out", res.Height)
						assert.Equal(t, !isOut, listed && p.Active(), "block %d: and the list says so", res.Height)
					}
				}
				require.Len(t, out, victims, "every dead node is voted out within 300 blocks")
				for k, at := range out {
					want := qr.decidedAt(k, tt.failingFrom, 1)
					assert.Equal(t, want, at, "%x: decommissioned in the block after the first quorum that tests it once it fails", k[:4])
					waits = append(waits, float64(at-tt.failingFrom))
				}
			})
		}
	}
	// 100 waits of a geometric distribution with mean N/W (10 blocks, standard deviation 9.5):
	// their mean lies within 4 standard errors of it.
	require.Len(t, waits, 2*5*victims)
	var sum float64
	for _, w := range waits {
		sum += w
	}
	p := 1 / mean
	se := math.Sqrt(1-p) / p / math.Sqrt(float64(len(waits)))
	assert.InDelta(t, mean, sum/float64(len(waits)), 4*se, "mean blocks from failing to decommission")
	t.Logf("mean wait %.2f blocks over %d dead nodes (model: %.1f)", sum/float64(len(waits)), len(waits), mean)
}

// A node that keeps proving and answers its tests is never voted out, though some tests fail
// now and then (each retested, and passing, in the next block).
func TestHealthyNodesAreNeverVotedOut(t *testing.T) {
	const n = 60
	for _, mode := range []Obligations{ObligationsQuorum, ObligationsPooled} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := QuorumConfig()
			cfg.Obligations = mode
			l := newLedger(t, cfg, n)
			r := newRand(11)
			keys := make([][32]byte, n)
			for i := range keys {
				keys[i] = reg(i).Ed25519
			}
			var retest [][2]int
			rs := run(l, t0.Add(300*cfg.BlockInterval), func(now time.Time) {
				proofsExcept(l, now)
				for _, pair := range retest {
					require.NoError(t, l.Report(keys[pair[0]], keys[pair[1]], true, now))
				}
				retest = retest[:0]
				for i := range keys {
					j := r.IntN(n)
					if j == i {
						continue
					}
					passed := r.IntN(10) > 0
					require.NoError(t, l.Report(keys[i], keys[j], passed, now))
					if !passed {
						retest = append(retest, [2]int{i, j})
					}
				}
			})
			assert.Empty(t, eventsOf[Decommissioned](rs...))
			assert.Empty(t, eventsOf[Deregistered](rs...))
			assert.Equal(t, n, l.List().ActiveCount())
		})
	}
}

// In the quorum mode one tester's reports decide nothing: the pooled mode decommissions a node
// one storage server keeps failing, the quorum needs MinVotes validators that each see it fail.
func TestOneTesterDoesNotDecide(t *testing.T) {
	tests := []struct {
		mode Obligations
		out  bool
	}{
		{ObligationsPooled, true},
		{ObligationsQuorum, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			cfg := QuorumConfig()
			cfg.Obligations = tt.mode
			l := newLedger(t, cfg, 20)
			victim, tester := reg(3).Ed25519, reg(0).Ed25519
			rs := run(l, t0.Add(100*cfg.BlockInterval), func(now time.Time) {
				proofsExcept(l, now)
				if rec, _ := l.Node(victim); now.After(t0) && rec.State != StateDeregistered {
					require.NoError(t, l.Report(tester, victim, false, now))
				}
			})
			dec := eventsOf[Decommissioned](rs...)
			if !tt.out {
				assert.Empty(t, dec)
				rec, _ := l.Node(victim)
				assert.Equal(t, StateActive, rec.State)
				return
			}
			require.Len(t, dec, 1)
			assert.Equal(t, victim, dec[0].Node)
		})
	}
}

// After a decommission the quorum goes on testing the node: back when it proves again, with
// RECOMMISSION_CREDIT's credit, or deregistered in the first test after its credit runs out
// (reckoned one block ahead, at the chain's height).
func TestQuorumRecommissionAndCreditRunOut(t *testing.T) {
	const n = 100
	cfg := QuorumConfig()
	back, gone := reg(4).Ed25519, reg(7).Ed25519
	qr := newQuorumRun(t, cfg, n)
	decomm := map[[32]byte]Decommissioned{}
	recomm := map[[32]byte]Recommissioned{}
	dereg := map[[32]byte]Deregistered{}
	const silentFrom, backAfter = 5, 6 // back proves again 6 blocks after its decommission
	for qr.l.Height() < 400 && len(dereg) == 0 {
		h := qr.l.Height() + 1
		res := qr.block(t, func(now time.Time) {
			for _, r := range qr.l.Nodes() {
				k := r.Ed25519
				silent := (k == back || k == gone) && h >= silentFrom
				if d, ok := decomm[back]; k == back && ok && h >= d.Height+backAfter {
					silent = false
				}
				if !silent && r.State != StateDeregistered {
					require.NoError(t, qr.l.UptimeProof(k, now))
				}
			}
		})
		for _, e := range eventsOf[Decommissioned](res) {
			decomm[e.Node] = e
		}
		for _, e := range eventsOf[Recommissioned](res) {
			recomm[e.Node] = e
		}
		for _, e := range eventsOf[Deregistered](res) {
			dereg[e.Node] = e
		}
	}
	require.Contains(t, decomm, back)
	require.Contains(t, decomm, gone)
	require.Contains(t, recomm, back, "the node that proves again comes back")
	require.Contains(t, dereg, gone, "the silent node's credit runs out")
	assert.NotContains(t, dereg, back)

	// Back: recommissioned by the first quorum drawn after its decommission that tests it once
	// its new proof arrived; credit at decommission minus twice the time down.
	d := decomm[back]
	want := qr.decidedAt(back, d.Height+backAfter, d.Height)
	assert.Equal(t, want, recomm[back].Height)
	down := qr.timeOf(recomm[back].Height).Sub(qr.timeOf(d.Height))
	assert.Equal(t, max(0, d.Credit-RecommissionPenalty*down), recomm[back].Credit)
	rec, _ := qr.l.Node(back)
	assert.Equal(t, StateActive, rec.State)
	_, inSwarm := qr.l.SwarmOf(back)
	assert.True(t, inSwarm)

	// Gone: voted out by the first quorum (drawn after its decommission) that tests it once the
	// credit it had at decommission, less the time since, is negative a block ahead.
	g := decomm[gone]
	runOut := g.Height + uint64(g.Credit/cfg.BlockInterval) // credit at height H+1 < 0 from here
	assert.Equal(t, qr.decidedAt(gone, runOut, g.Height), dereg[gone].Height)
	assert.Equal(t, ReasonUptimeProof|ReasonCreditExhausted, dereg[gone].Reason)
	_, listed := qr.l.List().Find(gone)
	assert.False(t, listed)
}
