package client

import (
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// installList replaces the pool with l.
func (c *Client) installList(l *nodeList, src PoolSource) {
	c.rt.install(c.env.Rand(), l, c.env.Now())
	c.installed = uint32(c.rt.pool.size())
	c.lastRefresh = c.env.Now().UnixNano()
	c.stats.PoolFetches++
	c.observe(PoolRefreshed{Source: src, Size: c.rt.pool.size()})
	c.recomputeSwarms()
	c.scheduleRefresh()
}

// bootstrap fetches a pool from the seed nodes: every seed at once, the first good answer wins,
// SeedTries rounds.
func (c *Client) bootstrap(done func(Failure)) {
	if c.booting.join(done) {
		c.seedRound(1)
	}
}

func (c *Client) finishBoot(f Failure) { c.booting.finish(f) }

func (c *Client) seedRound(try int) {
	ep := c.epoch
	body := c.seedRequest()
	won := false
	pending := len(c.cfg.Seeds)
	for _, s := range c.cfg.Seeds {
		req := post(s, seedEndpoint, transport.JSON, body)
		c.env.Call(s, req, c.cfg.SeedTimeout, func(resp actor.Response, err error) {
			if !c.alive(ep) || won {
				return
			}
			pending--
			if err == nil && resp.Status == 200 {
				l, derr := c.rt.dir.decodedList(bodyBytes(resp.Body), decodeSeedResponse)
				switch {
				case derr != nil:
					c.garbage(GarbageMalformedResponse)
				case l.len() > c.cfg.PoolMin:
					won = true
					c.installList(l, FromSeeds)
					c.finishBoot(OK)
					return
				}
			}
			if pending > 0 {
				return
			}
			c.retryRound(ep, try, FromSeeds, c.seedRound, func() { c.finishBoot(FailNoPool) })
		})
	}
}

// scheduleRefresh sets the next periodic refresh: PoolRefreshEvery after the last install or,
// with PoolRefreshFromStart, at the next multiple of PoolRefreshEvery since the app started,
// PoolRefreshFirst after the start coming first.
func (c *Client) scheduleRefresh() {
	now := c.env.Now().UnixNano()
	if !c.cfg.PoolRefreshFromStart {
		if c.lastRefresh == 0 {
			return
		}
		c.refreshIn(time.Duration(c.lastRefresh + int64(c.cfg.PoolRefreshEvery) - now))
		return
	}
	since := now - c.started
	if first := int64(c.cfg.PoolRefreshFirst); first > 0 && since < first {
		c.refreshIn(time.Duration(first - since))
		return
	}
	every := int64(c.cfg.PoolRefreshEvery)
	c.refreshIn(time.Duration((since/every+1)*every - since))
}

func (c *Client) refreshIn(wait time.Duration) {
	if !c.online {
		return
	}
	c.refreshTimer.Stop()
	ep := c.epoch
	c.refreshTimer = c.env.After(wait, func() {
		if c.alive(ep) {
			c.refreshPool()
		}
	})
}

// maybeRefreshPool refreshes a pool that drops have made small. A pool that was already small
// when installed (a small network) is refreshed only once it has lost nodes since, or the
// client would ask for the same short list after every request.
func (c *Client) maybeRefreshPool() {
	n := c.rt.pool.size()
	if n < c.cfg.PoolRefreshBelow && n < int(c.installed) {
		c.refreshPool()
	}
}

// refreshPool asks three random pool nodes for the node list and installs their agreement; four
// tries, then the seeds. A pool too small to ask from goes straight to the seeds.
func (c *Client) refreshPool() {
	if c.refreshing || c.booting.running() {
		return
	}
	c.refreshing = true
	c.refreshTry(1)
}

func (c *Client) refreshTry(try int) {
	ep := c.epoch
	fallback := func() {
		c.bootstrap(func(f Failure) {
			c.refreshing = false
			if f != OK && c.alive(ep) {
				// Nothing was installed, so nothing rescheduled: try again next period (the
				// next tick of a timer counted from start).
				if c.cfg.PoolRefreshFromStart {
					c.scheduleRefresh()
				} else {
					c.refreshIn(c.cfg.PoolRefreshEvery)
				}
			}
		})
	}
	if c.rt.pool.size() <= c.cfg.PoolMin {
		fallback()
		return
	}
	const asked = 3
	r := c.env.Rand()
	var targets []nodeIdx
	for range asked {
		n, ok := c.rt.pool.pick(r, func(i nodeIdx) bool { return slices.Contains(targets, i) })
		if !ok {
			break
		}
		targets = append(targets, n)
	}
	if len(targets) < asked {
		fallback()
		return
	}
	lists := make([]*nodeList, asked)
	pending, failed := asked, false
	rpc := getServiceNodesRequest(c.cfg.LocalSwarms)
	for k, t := range targets {
		c.onionRequest(t, "oxend_request", nil, identity.ID{}, rpc, func(res onionResult) {
			pending--
			if res.failure == OK {
				l, err := c.serviceNodes(res.answer())
				if err != nil {
					c.garbage(GarbageMalformedResponse)
					failed = true
				} else {
					lists[k] = l
				}
			} else {
				failed = true
			}
			if pending > 0 || !c.alive(ep) {
				return
			}
			if !failed {
				sorted := make([][]nodeIdx, asked)
				for k, l := range lists {
					sorted[k] = l.sorted
				}
				common := agree(sorted, c.cfg.PoolAgreement)
				enough := len(common) > c.cfg.PoolMin &&
					(c.cfg.PoolAgreement != AgreeAll || len(common) >= c.cfg.PoolAgreementMin)
				if enough {
					c.installList(c.rt.dir.merged(common, lists), FromSnodes)
					c.refreshing = false
					return
				}
			}
			c.retryRound(ep, try, FromSnodes, c.refreshTry, fallback)
		})
	}
}

// serviceNodes reads the node list of an oxend_request answer.
func (c *Client) serviceNodes(a batchAnswer) (*nodeList, error) {
	result, err := serviceNodesResult(a)
	if err != nil {
		return nil, err
	}
	return c.rt.dir.decodedList(result, parseNodeStates)
}

// internAll interns a swarm's members, in key order and without duplicates.
func (c *Client) internAll(nodes []NodeInfo) []nodeIdx {
	idx := make([]nodeIdx, len(nodes))
	for k, n := range nodes {
		idx[k] = c.rt.dir.intern(n)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	c.rt.dir.sortByKey(idx)
	return idx
}

// retryRound follows a pool round from src that got no usable list: the next round (try+1)
// after SeedRetryDelay while rounds are left, dropped if the client went offline meanwhile;
// after the last one, the failure is recorded and giveUp runs.
func (c *Client) retryRound(ep uint32, try int, src PoolSource, next func(try int), giveUp func()) {
	if try < c.cfg.SeedTries {
		c.env.After(c.cfg.SeedRetryDelay, func() {
			if c.alive(ep) {
				next(try + 1)
			}
		})
		return
	}
	c.observe(PoolRefreshed{Source: src, Size: c.rt.pool.size(), Failure: FailNoPool})
	giveUp()
}
