package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keyN(i int) [32]byte {
	var k [32]byte
	k[0], k[1] = byte(i>>8), byte(i)
	return k
}

func TestReachSchedulerCoversEveryNode(t *testing.T) {
	const n = 20
	all := make([][32]byte, n)
	for i := range all {
		all[i] = keyN(i)
	}
	known := func([32]byte) bool { return true }
	s := newReachScheduler(&DefaultReachability, all[0])
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[[32]byte]int{}
	now := t0
	// Enough slots for several full cycles of the queue.
	for range 5 * n {
		for _, tst := range s.Due(now, r, known, func() [][32]byte { return all }) {
			assert.Zero(t, tst.PreviousFailures)
			counts[tst.Key]++
		}
		next := s.Next()
		require.True(t, next.After(now), "the scheduler must always move forward")
		now = next
	}
	assert.Zero(t, counts[all[0]], "a node never tests itself")
	for _, k := range all[1:] {
		assert.GreaterOrEqual(t, counts[k], 4, "every node is tested once per cycle")
		assert.LessOrEqual(t, counts[k], 5)
	}
	// About 10 s per slot on average.
	mean := now.Sub(t0) / time.Duration(5*n)
	assert.InDelta(t, float64(10*time.Second), float64(mean), float64(2*time.Second))
}

func TestReachSchedulerFailureBackoff(t *testing.T) {
	cfg := DefaultReachability
	cfg.IntervalSD = -1 // exact delays
	tests := []struct {
		name    string
		prev    int
		wantDue time.Duration
	}{
		{"first failure: one interval", 0, 10 * time.Second},
		{"second: backoff plus interval", 1, 20 * time.Second},
		{"fifth", 4, 50 * time.Second},
		{"capped at two minutes", 20, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := keyN(7)
			s := newReachScheduler(&cfg, keyN(0))
			r := rand.New(rand.NewPCG(1, 2))
			s.nextGeneral = t0.Add(time.Hour) // keep random tests out of the way
			s.Result(bad, false, tc.prev, t0, r)
			assert.True(t, s.Failing(bad))
			assert.Equal(t, t0.Add(tc.wantDue), s.Next())
			known := func([32]byte) bool { return true }
			none := func() [][32]byte { return nil }
			assert.Empty(t, s.Due(t0.Add(tc.wantDue-time.Millisecond), r, known, none))
			got := s.Due(t0.Add(tc.wantDue), r, known, none)
			require.Len(t, got, 1)
			assert.Equal(t, reachTest{Key: bad, PreviousFailures: tc.prev + 1}, got[0])
		})
	}
}

func TestReachSchedulerFailingNodeLifecycle(t *testing.T) {
	cfg := DefaultReachability
	cfg.IntervalSD = -1
	bad, gone := keyN(7), keyN(8)
	s := newReachScheduler(&cfg, keyN(0))
	r := rand.New(rand.NewPCG(1, 2))
	s.nextGeneral = t0.Add(time.Hour)
	s.Result(bad, false, 0, t0, r)
	s.Result(gone, false, 0, t0, r)
	known := func(k [32]byte) bool { return k != gone }
	due := s.Due(t0.Add(10*time.Second), r, known, func() [][32]byte { return nil })
	require.Len(t, due, 1, "a node that left the list is not re-tested")
	assert.Equal(t, bad, due[0].Key)
	assert.False(t, s.Failing(gone))
	// Still failing while re-tested; a pass clears it.
	assert.True(t, s.Failing(bad))
	s.Result(bad, true, due[0].PreviousFailures, t0.Add(11*time.Second), r)
	assert.False(t, s.Failing(bad))
	// A passing random test of a node that was never failing changes nothing.
	s.Result(keyN(9), true, 0, t0, r)
	assert.False(t, s.Failing(keyN(9)))
}

func TestReachSchedulerSkipsFailingInRandomQueue(t *testing.T) {
	cfg := DefaultReachability
	all := [][32]byte{keyN(0), keyN(1), keyN(2)}
	s := newReachScheduler(&cfg, keyN(0))
	r := rand.New(rand.NewPCG(3, 4))
	s.failing = map[[32]byte]bool{keyN(1): true}
	known := func([32]byte) bool { return true }
	now := t0
	for range 30 {
		for _, tst := range s.Due(now, r, known, func() [][32]byte { return all }) {
			assert.Equal(t, keyN(2), tst.Key, "self and failing nodes are skipped by random tests")
		}
		now = s.Next()
	}
}
