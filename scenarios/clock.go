package scenarios

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/results"
)

// The clients.clock distributions.
const (
	ClockNone    = "none"
	ClockNormal  = "normal"
	ClockUniform = "uniform"
)

// ClockDistributions lists the names clients.clock.distribution takes.
var ClockDistributions = []string{ClockNone, ClockNormal, ClockUniform}

// validateClock checks clients.clock.
func (s *Scenario) validateClock() error {
	c := s.Clients.Clock
	if !slices.Contains(ClockDistributions, c.Distribution) {
		return bad("clients.clock.distribution", c.Distribution, "unknown clock distribution: use "+strings.Join(ClockDistributions, ", "))
	}
	if err := nonNegative("clients.clock.spread", c.Spread); err != nil {
		return err
	}
	if err := fraction("clients.clock.far_share", c.FarShare, 0, 1); err != nil {
		return err
	}
	if c.FarShare > 0 && c.FarOffset <= 0 {
		return bad("clients.clock.far_offset", c.FarOffset, "must be positive when clients.clock.far_share is set: how far off the far clocks are (ahead or behind is drawn)")
	}
	return nil
}

// draw is one client's device clock error. Every draw takes the same numbers from r whatever
// the distribution, so that changing it changes no other client's error.
func (c Clock) draw(r *rand.Rand) time.Duration {
	far, sign, u, n := r.Float64(), r.Float64(), r.Float64(), r.NormFloat64()
	var d time.Duration
	switch c.Distribution {
	case ClockNormal:
		d = time.Duration(n * float64(c.Spread))
	case ClockUniform:
		d = time.Duration((2*u - 1) * float64(c.Spread))
	}
	if far < c.FarShare {
		if sign < 0.5 {
			return d - c.FarOffset
		}
		return d + c.FarOffset
	}
	return d
}

// clockTally is the collector's account of clocks (results.Clocks).
type clockTally struct {
	offsets  metrics.Histogram // |device clock error| of each client, ms
	recovery metrics.Histogram // ms from a client's first refusal to its next accepted request
	sum      results.Clocks
	byPl     map[string]results.ClockRejections
	rejected map[int]bool      // clients with a refusal
	refused  map[int]time.Time // clients refused since their last accepted request: the first refusal
}

// client records one client's device clock error.
func (t *clockTally) client(offset time.Duration) {
	t.offsets.Add(float64(offset.Abs()) / float64(time.Millisecond))
}

// timestamped are the methods whose requests carry the client's clock (signed or stamped).
var timestamped = []string{"retrieve", "store"}

// accepted notes an answered request of client i at time at: one that carries the client's
// clock ends its refusals.
func (t *clockTally) accepted(i int, at time.Time, method string) {
	if first, ok := t.refused[i]; ok && slices.Contains(timestamped, method) {
		t.recovery.Add(float64(at.Sub(first)) / float64(time.Millisecond))
		delete(t.refused, i)
	}
}

// refusal counts one ClockRejected of client i (platform pl) at time at.
func (t *clockTally) refusal(i int, pl string, at time.Time, e client.ClockRejected) {
	n := uint64(e.Status406 + e.Status425)
	t.sum.Status406 += uint64(e.Status406)
	t.sum.Status425 += uint64(e.Status425)
	if t.byPl == nil {
		t.byPl, t.rejected, t.refused = map[string]results.ClockRejections{}, map[int]bool{}, map[int]time.Time{}
	}
	if _, ok := t.refused[i]; !ok {
		t.refused[i] = at
	}
	r := t.byPl[pl]
	if e.Skew < 0 {
		t.sum.RejectedTooOld += n
		r.RejectedTooOld += n
	} else {
		t.sum.RejectedTooNew += n
		r.RejectedTooNew += n
	}
	t.byPl[pl] = r
	t.rejected[i] = true
}

func (t *clockTally) fill(s *results.Summary) {
	s.Clocks = t.sum
	s.Clocks.OffsetAbsMs = percentiles(&t.offsets)
	s.Clocks.ClientsRejected = uint64(len(t.rejected))
	s.Clocks.RecoveryMs = percentiles(&t.recovery)
	s.Clocks.ClientsUnrecovered = uint64(len(t.refused))
	s.Clocks.ByPlatform = t.byPl
}
