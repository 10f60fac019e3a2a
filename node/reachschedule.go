package node

import (
	"math/rand/v2"
	"time"

	"github.com/sessionsim/sessionsim/internal/minheap"
)

// The reachability schedule: which nodes to test, and when. It is pure bookkeeping; the tests
// themselves (timers, pings, reports) are in reachping.go.

// Reachability configures how a node tests other nodes (the storage server's peer pings) and
// reports the results to the service-node list.
type Reachability struct {
	// Interval is the mean time between tests of random nodes. Default 10 s.
	Interval time.Duration
	// IntervalSD is the standard deviation of that time (normal distribution). Default 3 s;
	// negative for none (tests at exact intervals).
	IntervalSD time.Duration
	// MinInterval bounds the drawn interval from below (the real server checks every 200 ms,
	// so a negative draw means "at the next check"). Default 200 ms.
	MinInterval time.Duration
	// Backoff is added per previous failure before a failing node is re-tested. Default 10 s.
	Backoff time.Duration
	// BackoffMax caps the re-test delay. Default 2 min.
	BackoffMax time.Duration
	// Timeout of one test. Default 5 s.
	Timeout time.Duration
	// Disabled turns testing off (the node still answers pings).
	Disabled bool
}

// DefaultReachability is the storage server's peer testing.
var DefaultReachability = Reachability{
	Interval:    10 * time.Second,
	IntervalSD:  3 * time.Second,
	MinInterval: 200 * time.Millisecond,
	Backoff:     10 * time.Second,
	BackoffMax:  2 * time.Minute,
	Timeout:     5 * time.Second,
}

// failingEntry is a node due for a re-test.
type failingEntry struct {
	key      [32]byte
	due      time.Time
	failures int    // failures so far, this one included
	seq      uint64 // insertion order, so equal due times pop the same way every run
}

// Before orders the re-tests by due time, then insertion.
func (e failingEntry) Before(o failingEntry) bool {
	if !e.due.Equal(o.due) {
		return e.due.Before(o.due)
	}
	return e.seq < o.seq
}

// reachTest is one test to run: the node and how many times it failed in a row before.
type reachTest struct {
	Key              [32]byte
	PreviousFailures int
}

// reachScheduler decides which nodes to test when: one random node about every Interval, taken
// from a shuffled list of every funded node that is refilled when it runs out, plus the failing
// nodes when their re-test is due. It holds no timers; the node asks it what is due and when
// to ask next.
type reachScheduler struct {
	cfg  Reachability
	self [32]byte
	// queue is the shuffled random-test order, popped from the back: indexes into queueKeys,
	// the (shared) key list it was drawn from, so a node holds 4 bytes per peer, not 32.
	queue       []int32
	queueKeys   [][32]byte
	nextGeneral time.Time // zero: a general test is due now
	failing     map[[32]byte]bool
	failQ       minheap.Heap[failingEntry]
	seq         uint64
}

func newReachScheduler(cfg Reachability, self [32]byte) *reachScheduler {
	return &reachScheduler{cfg: cfg, self: self, failing: make(map[[32]byte]bool)}
}

func (s *reachScheduler) interval(r *rand.Rand) time.Duration {
	d := s.cfg.Interval
	if s.cfg.IntervalSD > 0 {
		d += time.Duration(r.NormFloat64() * float64(s.cfg.IntervalSD))
	}
	return max(d, s.cfg.MinInterval)
}

// Due returns the tests to run at now. known reports whether a key is still a funded node
// (active or decommissioned); all lists every funded node in a fixed order (sorted), used to
// refill the random queue; the scheduler keeps that slice without copying, so it must not
// change afterwards.
func (s *reachScheduler) Due(now time.Time, r *rand.Rand, known func([32]byte) bool, all func() [][32]byte) []reachTest {
	var out []reachTest
	for s.failQ.Len() > 0 && !s.failQ.Min().due.After(now) {
		e := s.failQ.Pop()
		if known(e.key) {
			out = append(out, reachTest{Key: e.key, PreviousFailures: e.failures})
		} else {
			delete(s.failing, e.key)
		}
	}
	if k, ok := s.nextRandom(now, r, known, all); ok {
		out = append(out, reachTest{Key: k})
	}
	return out
}

func (s *reachScheduler) nextRandom(now time.Time, r *rand.Rand, known func([32]byte) bool, all func() [][32]byte) ([32]byte, bool) {
	if s.nextGeneral.After(now) {
		return [32]byte{}, false
	}
	s.nextGeneral = now.Add(s.interval(r))
	for len(s.queue) > 0 {
		k := s.queueKeys[s.queue[len(s.queue)-1]]
		s.queue = s.queue[:len(s.queue)-1]
		if k != s.self && !s.failing[k] && known(k) {
			return k, true
		}
	}
	// The queue ran out: refill it with a fresh shuffle. As in the storage server, the slot
	// that found the queue empty tests nobody; the next one starts on the new queue.
	s.queueKeys = all()
	s.queue = s.queue[:0]
	for i := range s.queueKeys {
		s.queue = append(s.queue, int32(i))
	}
	r.Shuffle(len(s.queue), func(i, j int) { s.queue[i], s.queue[j] = s.queue[j], s.queue[i] })
	return [32]byte{}, false
}

// Next is when Due should be asked again.
func (s *reachScheduler) Next() time.Time {
	next := s.nextGeneral
	if s.failQ.Len() > 0 && (next.IsZero() || s.failQ.Min().due.Before(next)) {
		next = s.failQ.Min().due
	}
	return next
}

// Result records a finished test: a failure schedules a re-test after failures x Backoff plus
// a random interval (capped); a pass of a failing node clears it.
func (s *reachScheduler) Result(key [32]byte, passed bool, previousFailures int, now time.Time, r *rand.Rand) {
	if passed {
		if previousFailures > 0 {
			delete(s.failing, key)
		}
		return
	}
	in := time.Duration(previousFailures)*s.cfg.Backoff + s.interval(r)
	in = min(in, s.cfg.BackoffMax)
	s.failing[key] = true
	s.seq++
	s.failQ.Push(failingEntry{key: key, due: now.Add(in), failures: previousFailures + 1, seq: s.seq})
}

// Failing reports whether key is currently in the failing set.
func (s *reachScheduler) Failing(key [32]byte) bool { return s.failing[key] }
