package node

import (
	"net/http"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Reachability pings: the timer that asks the schedule (reachschedule.go) what is due, the
// pings, and the reports to the registry.

// scheduleReach arms the reachability timer for the scheduler's next due time. Only an active
// node tests others (a decommissioned one does not, as in the storage server).
func (n *Node) scheduleReach() {
	if n.cfg.Reachability.Disabled || n.stopped || !n.ready() {
		return
	}
	at := n.reach.Next()
	now := n.env.Now()
	if at.Before(now) {
		at = now
	}
	if n.reachAt != 0 && n.reachAt <= at.UnixNano() {
		return // an earlier (or equal) wake-up is already armed
	}
	n.reachTimer.Stop()
	n.reachAt = at.UnixNano()
	n.reachTimer = n.env.After(at.Sub(now), func() {
		n.reachAt = 0
		n.runReach()
	})
}

func (n *Node) runReach() {
	if n.stopped || !n.ready() {
		return
	}
	v := n.view
	due := n.reach.Due(n.env.Now(), n.env.Rand(), v.known, v.keys)
	for _, t := range due {
		p, ok := v.find(t.Key)
		if !ok {
			continue
		}
		n.testReach(p, t.PreviousFailures)
	}
	n.scheduleReach()
}

// testReach pings p; a 200 within the timeout passes.
func (n *Node) testReach(p Peer, previousFailures int) {
	req := actor.Request{Method: MethodPing, Size: transport.HTTPSRequestSize(p.Addr, MethodPing, "", 0)}
	n.env.Call(p.Addr, req, n.cfg.Reachability.Timeout, func(resp actor.Response, err error) {
		passed := err == nil && resp.Status == http.StatusOK
		n.env.Observe(ReachTested{Target: p.Ed25519, Passed: passed, PreviousFailures: previousFailures})
		n.reportReach(p.Ed25519, passed)
		if !passed || previousFailures > 0 {
			n.reach.Result(p.Ed25519, passed, previousFailures, n.env.Now(), n.env.Rand())
			n.scheduleReach()
		}
	})
}
