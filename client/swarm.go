package client

import (
	"slices"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/swarm"
)

// entry is owner's cache entry, made (evicting the least recently used) if needed.
func (c *Client) entry(owner identity.ID) *swarmEntry {
	if owner == c.ID() {
		return &c.own
	}
	x := c.more()
	x.tick++
	for _, e := range x.swarms {
		if e.owner == owner {
			e.used = x.tick
			return e
		}
	}
	if len(x.swarms) >= c.cfg.SwarmCacheSize {
		victim := -1
		for k, e := range x.swarms {
			if !e.fetching.running() && (victim < 0 || e.used < x.swarms[victim].used) {
				victim = k
			}
		}
		if victim >= 0 {
			x.swarms = slices.Delete(x.swarms, victim, victim+1)
		}
	}
	e := &swarmEntry{owner: owner, used: x.tick}
	x.swarms = append(x.swarms, e)
	return e
}

// liveMembers counts the cached members still in the pool.
func (c *Client) liveMembers(e *swarmEntry) int {
	n := 0
	for _, m := range e.nodes {
		if c.rt.pool.contains(m) {
			n++
		}
	}
	return n
}

// swarmFor runs found with owner's swarm: cached, or fetched with an onion get_swarm when fewer
// than SwarmMinMembers cached members remain in the pool; or failed with why there is none.
// Neither runs if the client went offline or restarted in the meantime.
func (c *Client) swarmFor(owner identity.ID, failed func(Failure), found func(*swarmEntry)) {
	e := c.entry(owner)
	if c.liveMembers(e) >= c.cfg.SwarmMinMembers && (c.cfg.LocalSwarms || !c.ownSwarmDue(e)) {
		// Known well enough: the common case, answered without the closure a lookup needs.
		if c.online {
			found(e)
		}
		return
	}
	ep := c.epoch
	done := func(f Failure) {
		switch {
		case !c.alive(ep):
		case f != OK:
			failed(f)
		default:
			found(e)
		}
	}
	if c.cfg.LocalSwarms {
		// The pool comes with the paths: a first computation waits for both.
		c.withPaths(func(f Failure) {
			if !c.alive(ep) {
				return
			}
			if f == OK {
				c.localSwarm(e)
			}
			if c.liveMembers(e) == 0 {
				done(FailNoSwarm)
				return
			}
			done(OK)
		})
		return
	}
	if e.fetching.join(done) {
		if e == &c.own {
			c.ownFetched = c.env.Now().UnixNano()
		}
		c.fetchSwarm(e, 1)
	}
}

// ownSwarmDue reports whether e is the own swarm and Config.OwnSwarmRefresh wants it fetched
// afresh: at the app's start, then once a multiple of the period since the start has passed
// since the last lookup (the desktop's hourly timer; the lookup goes with the next poll).
func (c *Client) ownSwarmDue(e *swarmEntry) bool {
	if e != &c.own || c.cfg.OwnSwarmRefresh <= 0 {
		return false
	}
	if c.ownFetched == 0 {
		return true
	}
	every := int64(c.cfg.OwnSwarmRefresh)
	return (c.env.Now().UnixNano()-c.started)/every > (c.ownFetched-c.started)/every
}

// localSwarm computes e's swarm from the pool (Config.LocalSwarms): the pool's nodes whose
// swarm_id is the swarm that owns the account's swarm space among the pool's swarm ids.
// Without the pool's swarm ids (a list that did not carry them) it leaves e as it is.
func (c *Client) localSwarm(e *swarmEntry) {
	nodes, ok := c.rt.pool.swarmOf(swarm.SpaceOf(e.owner))
	if !ok {
		return
	}
	c.rt.dir.sortByKey(nodes)
	c.setMembers(e, nodes)
	c.observe(SwarmLookup{Owner: e.owner, Members: len(e.nodes), Local: true})
}

// recomputeSwarms computes every cached swarm again from a newly installed pool
// (Config.LocalSwarms), as libsession does from its refreshed node cache.
func (c *Client) recomputeSwarms() {
	if !c.cfg.LocalSwarms {
		return
	}
	if c.own.nodes != nil {
		c.localSwarm(&c.own)
	}
	for _, e := range c.swarmCache() {
		c.localSwarm(e)
	}
}

// fetchSwarm asks a random pool node for e's swarm, up to 3 nodes.
func (c *Client) fetchSwarm(e *swarmEntry, try int) {
	const tries = 3
	ep := c.epoch
	finish := e.fetching.finish
	// The pool comes with the paths: a first lookup waits for both.
	c.withPaths(func(f Failure) {
		if !c.alive(ep) {
			return
		}
		dest, ok := c.rt.pool.pick(c.env.Rand(), nil)
		if f != OK || !ok {
			if f == OK {
				f = FailNoPool
			}
			c.observe(SwarmLookup{Owner: e.owner, Failure: f})
			finish(FailNoSwarm)
			return
		}
		c.onionRequest(dest, "get_swarm", nil, e.owner, getSwarmBatch(e.owner), func(res onionResult) {
			if !c.alive(ep) {
				return
			}
			if res.failure == OK {
				nodes, err := decodeSwarm(res.answer())
				if err == nil && len(nodes) > 0 {
					c.setMembers(e, c.internAll(nodes))
					c.observe(SwarmLookup{Owner: e.owner, Members: len(e.nodes)})
					finish(OK)
					return
				}
				c.garbage(GarbageMalformedResponse)
				res.failure = FailBadResponse
			}
			if try < tries && res.failure != FailNoPath && res.failure != FailNoPool {
				c.fetchSwarm(e, try+1)
				return
			}
			c.observe(SwarmLookup{Owner: e.owner, Failure: res.failure})
			if c.liveMembers(e) > 0 {
				// A stale swarm beats none: its members may still hold the data.
				finish(OK)
				return
			}
			finish(FailNoSwarm)
		})
	})
}

// setMembers replaces e's cached members. When the own swarm changes, the last hashes of nodes
// that left it are forgotten: they will not be polled again.
func (c *Client) setMembers(e *swarmEntry, nodes []nodeIdx) {
	e.nodes = nodes
	if e == &c.own {
		c.last.keepOnly(func(n nodeIdx) bool { return slices.Contains(nodes, n) })
	}
}

// pickMember draws a cached member of e that is in the pool and not in excl.
func (c *Client) pickMember(e *swarmEntry, excl ...nodeIdx) (nodeIdx, bool) {
	var cands [16]nodeIdx
	n := 0
	for _, m := range e.nodes {
		if n < len(cands) && c.rt.pool.contains(m) && !slices.Contains(excl, m) {
			cands[n] = m
			n++
		}
	}
	if n == 0 {
		return noNode, false
	}
	return cands[c.env.Rand().IntN(n)], true
}

// adopt421 reads a 421 answer: the node's view of the right swarm replaces the cache; without
// one, the node that answered leaves the cached swarm. With Config.Strike421 the node that
// answered gets a strike either way.
func (c *Client) adopt421(e *swarmEntry, from nodeIdx, body []byte) {
	nodes, err := decode421(body)
	if err == nil && len(nodes) > 0 {
		c.setMembers(e, c.internAll(nodes))
		c.observe(SwarmLookup{Owner: e.owner, Members: len(e.nodes), From421: true})
	} else {
		c.setMembers(e, slices.DeleteFunc(e.nodes, func(x nodeIdx) bool { return x == from }))
	}
	if c.cfg.Strike421 {
		c.rt.strike(c.env.Rand(), from, c.env.Now())
	}
}
