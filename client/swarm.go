package client

import (
	"slices"

	"github.com/sessionsim/sessionsim/protocol/identity"
)

// entry is owner's cache entry, made (evicting the least recently used) if needed.
func (c *Client) entry(owner identity.ID) *swarmEntry {
	if owner == c.id {
		return &c.own
	}
	c.tick++
	for _, e := range c.swarms {
		if e.owner == owner {
			e.used = c.tick
			return e
		}
	}
	if len(c.swarms) >= c.cfg.SwarmCacheSize {
		victim := -1
		for k, e := range c.swarms {
			if !e.fetching.running && (victim < 0 || e.used < c.swarms[victim].used) {
				victim = k
			}
		}
		if victim >= 0 {
			c.swarms = slices.Delete(c.swarms, victim, victim+1)
		}
	}
	e := &swarmEntry{owner: owner, used: c.tick}
	c.swarms = append(c.swarms, e)
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
	if c.liveMembers(e) >= c.cfg.SwarmMinMembers {
		done(OK)
		return
	}
	if e.fetching.join(done) {
		c.fetchSwarm(e, 1)
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
				nodes, err := decodeSwarm(res.body)
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
// one, the node that answered leaves the cached swarm.
func (c *Client) adopt421(e *swarmEntry, from nodeIdx, body []byte) {
	nodes, err := decode421(body)
	if err == nil && len(nodes) > 0 {
		c.setMembers(e, c.internAll(nodes))
		c.observe(SwarmLookup{Owner: e.owner, Members: len(e.nodes), From421: true})
		return
	}
	c.setMembers(e, slices.DeleteFunc(e.nodes, func(x nodeIdx) bool { return x == from }))
}
