package client

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/protocol/wiremode"
)

// withPaths runs done once the client has its full set of paths (OK), or could not build them.
func (c *Client) withPaths(done func(Failure)) {
	if c.hasPaths() {
		done(OK)
		return
	}
	if c.building.join(done) {
		c.buildStep(false)
	}
}

// hasPaths reports whether the client has its full set of paths.
func (c *Client) hasPaths() bool { return len(c.rt.paths) >= c.rt.wantPaths() }

func (c *Client) finishBuild(f Failure) { c.building.finish(f) }

// buildStep advances path building: a usable pool, then enough tested guards, then the paths.
// When the pool has too few distinct subnets it refetches from the seeds once.
func (c *Client) buildStep(refetched bool) {
	ep := c.epoch
	// then continues the build after a network step, unless the client went offline meanwhile
	// or the step failed.
	then := func(refetch bool) func(Failure) {
		return func(f Failure) {
			if !c.alive(ep) {
				return
			}
			if f != OK {
				c.finishBuild(f)
				return
			}
			c.buildStep(refetch)
		}
	}
	if c.rt.pool.size() <= c.cfg.PoolMin {
		if refetched {
			c.finishBuild(FailNoPool)
			return
		}
		c.bootstrap(then(true))
		return
	}
	c.rt.pruneGuards()
	if c.rt.guardsNeeded() > 0 {
		c.selectGuards(then(refetched))
		return
	}
	if c.rt.buildPaths(c.env.Rand(), c.env.Now()) {
		c.finishBuild(OK)
		return
	}
	if refetched {
		c.finishBuild(FailNoPath)
		return
	}
	c.bootstrap(then(true))
}

// selectGuards tests shuffled pool nodes with a direct request (Config.GuardTest), as many at
// once as guards are missing, for at most GuardTestRounds rounds (the router decides; see
// guardSearch).
func (c *Client) selectGuards(done func(Failure)) {
	ep := c.epoch
	s := c.rt.startGuardSearch(c.env.Rand())
	finish := func(f Failure) {
		sel := GuardSelection{Tested: s.tested, Failure: f}
		for _, g := range c.rt.guards {
			sel.Guards = append(sel.Guards, c.rt.dir.addr(g))
		}
		c.observe(sel)
		done(f)
	}
	var next func()
	next = func() {
		batch, f, over := c.rt.nextGuardBatch(&s)
		if over {
			finish(f)
			return
		}
		pending := len(batch)
		for _, g := range batch {
			c.testGuard(g, func(ok bool) {
				if !c.alive(ep) {
					return
				}
				if ok {
					c.rt.guardPassed(g, c.env.Now())
				}
				pending--
				if pending == 0 {
					next()
				}
			})
		}
	}
	next()
}

func (c *Client) testGuard(g nodeIdx, done func(bool)) {
	addr := c.rt.dir.addr(g)
	method, body, named := c.guardTestRequest()
	req := post(addr, storageEndpoint, transport.JSON, body)
	c.env.Call(addr, req, c.cfg.GuardTestTimeout, func(resp actor.Response, err error) {
		ok := err == nil && resp.Status == 200
		c.observe(GuardTested{Guard: addr, OK: ok, Account: named, Method: method})
		done(ok)
	})
}

// onionResult is the outcome of one onion request.
type onionResult struct {
	failure Failure
	status  int    // destination status, or the relay's on a path error
	body    []byte // destination body (plaintext)
	// batch is body's batch results as values when the answer came in structural form with
	// them (see batchAnswer), body then nil; nil otherwise.
	batch []storagerpc.SubResult
	sent  bool // the request left for its guard (OnionRoundTrip was observed)
}

// answer is the body of the destination's answer, with its batch results as values when they
// came with it.
func (res onionResult) answer() batchAnswer { return batchAnswer{body: res.body, results: res.batch} }

// onionRequest sends rpc to dest through one of the paths and runs done with the outcome on the
// client's loop (never when the client went offline meanwhile). account is the Session ID the
// request is for (zero when it names none) and nss the namespaces its subrequests name, for the
// OnionRoundTrip event only.
func (c *Client) onionRequest(dest nodeIdx, method string, nss []int16, account identity.ID, rpc rpcRequest, done func(onionResult)) {
	c.onionVia(dest, method, nss, account, rpc, false, done)
}

// whenPaths runs send once the client has its paths, with the epoch it started in, or failed
// with why they could not be built (counted as a failed onion request); neither runs when the
// client went offline meanwhile.
func (c *Client) whenPaths(failed func(Failure), send func(ep uint32)) {
	ep := c.epoch
	if c.pathsReady() {
		if c.alive(ep) {
			send(ep)
		}
		return
	}
	c.withPaths(func(f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			c.stats.OnionFailures++
			failed(f)
			return
		}
		send(ep)
	})
}

// pathsReady retires the guards due (GuardLifetime) and reports whether the client still has
// its full set of paths, so that a request can leave at once.
func (c *Client) pathsReady() bool {
	c.rt.retireGuards(c.env.Now())
	return c.hasPaths()
}

// onionVia is onionRequest; cover marks a dummy poll in the round-trip event. With its paths
// in hand (the common case) the client sends at once, as whenPaths would, without making the
// closures that waiting needs.
func (c *Client) onionVia(dest nodeIdx, method string, nss []int16, account identity.ID, rpc rpcRequest, cover bool, done func(onionResult)) {
	if c.pathsReady() {
		if c.online {
			c.sendOnion(c.epoch, dest, method, nss, account, rpc, cover, done)
		}
		return
	}
	c.whenPaths(func(f Failure) { done(onionResult{failure: f}) }, func(ep uint32) {
		c.sendOnion(ep, dest, method, nss, account, rpc, cover, done)
	})
}

// pathHops is room for the hops' keys of a usual path (pathOf), on the caller's stack.
type pathHops [4]onion.Node

// pathOf is path k as a request goes out on it: its hops' keys, to build the onion, in keys
// (grown when too short), and their addresses as sent (a rotation while the request is out must
// not change what it recorded).
func (c *Client) pathOf(k int, keys *pathHops) (onion.Path, []actor.Addr) {
	enc, _ := onion.ParseEncType(c.cfg.EncType)
	hops := c.rt.paths[k].hops
	p := onion.Path{Hops: keys[:0], EncType: enc}
	addrs := make([]actor.Addr, len(hops))
	for j, h := range hops {
		info := c.rt.dir.info(h)
		p.Hops = append(p.Hops, onion.Node{Ed25519: info.Ed25519, X25519: info.X25519})
		addrs[j] = info.Addr
	}
	return p, addrs
}

func (c *Client) sendOnion(ep uint32, dest nodeIdx, method string, nss []int16, account identity.ID, rpc rpcRequest, cover bool, done func(onionResult)) {
	r, now := c.env.Rand(), c.env.Now()
	c.rt.rotate(r, now)
	k := c.rt.choosePath(r, dest)
	if k < 0 {
		c.stats.OnionFailures++
		done(onionResult{failure: FailNoPath})
		return
	}
	var keys pathHops
	p, hops := c.pathOf(k, &keys)
	di := c.rt.dir.info(dest)
	built, err := c.buildToNode(r, p, onion.Node{Ed25519: di.Ed25519, X25519: di.X25519}, rpc)
	c.env.Work(built.Cost)
	if err != nil {
		// Only a bad key in a node list gets here; that node cannot be used.
		c.stats.OnionFailures++
		c.dropEverywhere(dest, CauseNotFound)
		done(onionResult{failure: FailPath})
		return
	}
	guard := c.rt.paths[k].hops[0]
	guardAddr := hops[0]
	start, skew := c.env.Now(), c.clockError()
	c.stats.OnionRequests++
	body, bodyLen := built.Wire()
	req := actor.Request{Method: onion.GuardEndpoint, Body: body, Size: transport.HTTPSRequestSize(guardAddr, onion.GuardEndpoint, transport.Binary, bodyLen)}
	// The callback keeps the size only: a driver may hold it until the timeout, and the body
	// is the largest thing an idle client would otherwise keep.
	reply, size := built.Reply, req.Size
	c.env.Call(guardAddr, req, c.cfg.RequestTimeout, func(resp actor.Response, err error) {
		if !c.alive(ep) {
			return
		}
		res := c.readClock(c.onionOutcome(guard, dest, reply, resp, err), method, skew)
		res.sent = true
		if res.failure != OK {
			c.stats.OnionFailures++
		}
		c.observe(OnionRoundTrip{Method: method, Namespaces: nss, Guard: guardAddr, Dest: di.Addr, RTT: c.env.Now().Sub(start),
			Status: res.status, Failure: res.failure, Cover: cover, Path: hops, Account: account, Size: size})
		c.maybeRefreshPool()
		done(res)
	})
}

// buildToNode builds an onion request to a node in the client's wire form, its RPC padded as
// Config.OnionPadding asks.
func (c *Client) buildToNode(r *rand.Rand, p onion.Path, dest onion.Node, rpc rpcRequest) (onion.Built, error) {
	if c.cfg.Wire == wiremode.Structural {
		n := paddedRPCLen(storagerpc.RequestLen(rpc.req), c.cfg.OnionPadding)
		return onion.BuildToNodeStructural(c.cfg.Suite.Costs(), actor.RandReader(r), p, dest, rpc.req, n)
	}
	return onion.BuildToNode(c.cfg.Suite, actor.RandReader(r), p, dest, padRPC(storagerpc.EncodeRequest(rpc.req), c.cfg.OnionPadding))
}

const nextNodeNotFound = "Next node not found: "

// pathOutcome reads what came back from the guard before the destination's sealed answer is
// opened: a timeout, an unreachable guard or a relay's plain-text error is the result (answered
// false), charged where the apps charge it; a 200 hands back its answer to open (answered true):
// bytes, or an *onion.Reply in structural form.
func (c *Client) pathOutcome(guard nodeIdx, resp actor.Response, err error) (res onionResult, answer any, answered bool) {
	r, now := c.env.Rand(), c.env.Now()
	if err != nil {
		c.rt.pathFailed(r, c.rt.pathIndexByGuard(guard), now)
		if errors.Is(err, actor.ErrUnreachable) {
			return onionResult{failure: FailUnreachable}, nil, false
		}
		return onionResult{failure: FailTimeout}, nil, false
	}
	if resp.Status != 200 {
		body := bodyBytes(resp.Body)
		res := onionResult{failure: FailPath, status: resp.Status}
		switch {
		case resp.Status == 406 || resp.Status == 425:
			res.failure = FailClockSkew
		case resp.Status == 400 || resp.Status == 404:
			// The apps take these for a broken destination rather than a bad path.
		case c.notFound(body):
		default:
			c.rt.pathFailed(r, c.rt.pathIndexByGuard(guard), now)
		}
		return res, nil, false
	}
	return onionResult{}, resp.Body, true
}

// onionOutcome reads an onion answer and charges failures where the apps do: timeouts and
// unexplained relay errors to the path, "Next node not found" to the named node, destination
// errors (other than 400/401/403/406/421) to the destination; clock skew and 421 to nobody.
func (c *Client) onionOutcome(guard, dest nodeIdx, reply onion.Key, resp actor.Response, err error) onionResult {
	res, answer, answered := c.pathOutcome(guard, resp, err)
	if !answered {
		return res
	}
	r, now := c.env.Rand(), c.env.Now()
	opened, cost, derr := openNodeResponse(c.cfg.Suite, reply, answer)
	c.env.Work(cost)
	if derr != nil {
		c.garbage(GarbageOnionResponse)
		return onionResult{failure: FailBadResponse}
	}
	status := opened.Status
	res = onionResult{status: status, body: opened.Body, batch: opened.batch}
	switch {
	case status == 200:
	case status == 406 || status == 425:
		res.failure = FailClockSkew
	case status == 421:
		res.failure = FailWrongSwarm
	case status == 400 || status == 401 || status == 403 || status == 413:
		res.failure = FailRejected
	case c.notFound(opened.Body):
		res.failure = FailPath
	default:
		res.failure = FailRejected
		c.rt.strike(r, dest, now)
	}
	return res
}

// notFound handles a "Next node not found: <ed25519 hex>" answer: that node leaves the pool, its
// swarms and its path at once.
func (c *Client) notFound(body []byte) bool {
	if !strings.HasPrefix(string(body), nextNodeNotFound) {
		return false
	}
	key, err := identity.ParseKey(strings.TrimSpace(string(body[len(nextNodeNotFound):])))
	if err != nil {
		c.garbage(GarbageMalformedResponse)
		return true
	}
	if i, ok := c.rt.dir.lookup(key); ok {
		c.dropEverywhere(i, CauseNotFound)
	}
	return true
}

func (c *Client) dropEverywhere(i nodeIdx, cause Cause) {
	c.rt.dropNode(c.env.Rand(), i, cause, c.env.Now())
	c.own.nodes = slices.DeleteFunc(c.own.nodes, func(x nodeIdx) bool { return x == i })
	for _, e := range c.swarmCache() {
		e.nodes = slices.DeleteFunc(e.nodes, func(x nodeIdx) bool { return x == i })
	}
}
