// Package client is the Session client actor: the network logic of the real apps (desktop, iOS,
// Android) as the simulator runs it.
//
// A client keeps a snode pool bootstrapped from seed nodes and refreshed from pool nodes, two
// onion paths of three hops behind tested guard nodes, and a cache of swarms. It sends 1:1
// messages with real Session encryption to the recipient's swarm through onion requests, polls
// its own swarm the way its platform does, and reports everything the run measures as events:
// sends and their store results, receipts, onion round trips, path and pool changes, garbage.
//
// Like every actor it sees the world only through its actor.Env: time, timers, calls, CPU and
// randomness come from there, so the same client runs in the simulator and the live drivers.
// State is kept small (node records and pool lists are shared through a Directory) because a run
// may hold 100,000 clients.
package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
)

// httpOverhead approximates the bytes an HTTPS request or response adds to its body (request
// line or status line and headers), so that Request.Size is close to the real wire size.
const httpOverhead = 200

// Stats are a client's counters.
type Stats struct {
	Sent          uint32 // Send calls
	Stored        uint32 // messages stored
	StoreFailed   uint32 // messages given up
	StoreRequests uint32 // store requests sent, retries included
	Received      uint32 // messages decrypted for the first time
	Duplicates    uint32 // messages seen again (other member, later poll)
	Polls         uint32 // poll rounds
	PollFailures  uint32 // poll rounds in which no member answered
	OnionRequests uint32
	OnionFailures uint32
	PathRebuilds  uint32
	PoolFetches   uint32 // pools installed (from seeds or snodes)
	Garbage       [garbageKinds]uint32
}

// Client is one Session user's app. Create it with New, hand it to a driver (which calls Start),
// then drive it with Send, GoOffline and GoOnline from the actor's loop.
type Client struct {
	cfg  *Config
	keys keyset
	id   identity.ID
	env  actor.Env
	rt   router

	online bool
	epoch  uint32 // bumped by GoOffline: callbacks of an older epoch are dropped

	building     bool
	pathWaiters  []func(Failure)
	booting      bool
	bootWaiters  []func(Failure)
	refreshing   bool
	lastRefresh  int64  // unix ns of the last pool install
	installed    uint32 // pool size after the last install
	refreshTimer actor.Timer

	own    swarmEntry
	swarms []*swarmEntry
	tick   uint32 // LRU clock of swarms

	outbox []*outgoing
	poll   pollState
	seen   seenSet
	last   lastHashes
	stats  Stats
}

// pollState is the poller's state between rounds.
type pollState struct {
	timer   actor.Timer
	fails   uint16
	count   uint16  // polls of current
	current nodeIdx // the phones' sticky member
}

// swarmEntry is a cached swarm.
type swarmEntry struct {
	owner    identity.ID
	nodes    []nodeIdx
	used     uint32
	fetching bool
	waiters  []func(Failure)
}

// keyset is the key material a client uses, without the copies identity.Keys also carries.
type keyset struct {
	ed   [ed25519.PrivateKeySize]byte // seed || public, Go's form
	xsec [32]byte
	xpub [32]byte
}

// signing is the Ed25519 private key; it aliases the keyset (no copy).
func (k *keyset) signing() ed25519.PrivateKey { return k.ed[:] }

// outgoing is a message being stored.
type outgoing struct {
	to       identity.ID
	hash     string
	data     []byte // the stored bytes (the store's "data", decoded)
	ts       int64  // ms: message and store timestamp
	fails    uint8
	stage421 uint8
	attempts uint8
	last     nodeIdx
}

// New makes a client with keys on the settings of cfg (zero fields take their defaults). It
// does nothing until a driver calls Start.
func New(cfg Config, keys identity.Keys) (*Client, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := onion.ParseEncType(c.EncType); err != nil {
		return nil, fmt.Errorf("client config: EncType: %w", err)
	}
	if len(keys.Ed25519Private) != ed25519.PrivateKeySize {
		return nil, errors.New("client: keys have no Ed25519 private key: derive them with identity.FromSeed or identity.Derive")
	}
	cl := &Client{cfg: c.Directory.config(c), id: keys.SessionID()}
	copy(cl.keys.ed[:], keys.Ed25519Private)
	cl.keys.xsec, cl.keys.xpub = keys.X25519Secret, keys.X25519Public
	cl.rt = router{cfg: cl.cfg, dir: c.Directory}
	cl.rt.obs = cl.observe
	cl.own.owner = cl.id
	cl.poll.current = noNode
	return cl, nil
}

// ID is the client's Session ID.
func (c *Client) ID() identity.ID { return c.id }

// Online reports whether the client is running (started and not offline).
func (c *Client) Online() bool { return c.online }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	s := c.stats
	s.PathRebuilds = c.rt.rebuilds
	return s
}

// PoolSize is the number of nodes in the client's snode pool.
func (c *Client) PoolSize() int { return c.rt.pool.size() }

// Paths returns the client's current paths as node addresses, guard first.
func (c *Client) Paths() [][]actor.Addr {
	out := make([][]actor.Addr, len(c.rt.paths))
	for k, p := range c.rt.paths {
		for _, h := range p.hops {
			out[k] = append(out[k], c.rt.dir.addr(h))
		}
	}
	return out
}

// Start implements actor.Actor: the app opens.
func (c *Client) Start(env actor.Env) {
	c.env = env
	c.online = true
	c.resume()
}

// Handle implements actor.Actor. Clients serve nothing: every request gets 404.
func (c *Client) Handle(_ actor.Addr, _ actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 404, Body: []byte("not a service node"), Size: httpOverhead + 18})
}

// GoOffline closes the app: polling stops, requests in flight are abandoned and their answers
// ignored. Messages not yet stored stay in the outbox and are sent again when the client comes
// back online (as the apps' pending-message cache does); their attempts so far still count.
// Guards, pool, swarm cache, last hashes and seen hashes are kept, as the apps keep them on disk;
// paths live in memory only and are rebuilt on the saved guards.
func (c *Client) GoOffline() {
	if !c.online {
		return
	}
	c.online = false
	c.epoch++
	c.poll.timer.Stop()
	c.refreshTimer.Stop()
	c.rt.paths = nil
	c.rt.initial = false // the paths built on coming back are a fresh start, not repairs
	c.building, c.booting, c.refreshing = false, false, false
	c.pathWaiters, c.bootWaiters = nil, nil
	c.own.fetching, c.own.waiters = false, nil
	for _, e := range c.swarms {
		e.fetching, e.waiters = false, nil
	}
	c.poll.current = noNode
	c.poll.fails = 0
}

// GoOnline reopens the app: it catches up from its swarm at once and sends its outbox.
func (c *Client) GoOnline() {
	if c.online || c.env == nil {
		return
	}
	c.online = true
	c.resume()
}

func (c *Client) resume() {
	c.pollRound()
	for _, o := range c.outbox {
		c.attemptStore(o)
	}
	c.scheduleRefresh()
}

func (c *Client) alive(ep uint32) bool { return c.online && c.epoch == ep }

func (c *Client) observe(ev actor.Event) {
	if c.env != nil {
		c.env.Observe(ev)
	}
}

// garbage counts data the client could not use, reporting the first of each kind.
func (c *Client) garbage(k GarbageKind) {
	c.stats.Garbage[k]++
	if c.stats.Garbage[k] == 1 {
		c.observe(GarbageReceived{Kind: k})
	}
}

// --- pool -------------------------------------------------------------------------------------

// installList replaces the pool with l.
func (c *Client) installList(l *nodeList, src PoolSource) {
	c.rt.pool.set(l)
	// A fresh list starts every node and path with a clean record, as the apps do.
	c.rt.strikes = nil
	for k := range c.rt.paths {
		c.rt.paths[k].fails = 0
	}
	c.rt.pruneGuards()
	c.repairPaths()
	c.installed = uint32(c.rt.pool.size())
	c.lastRefresh = c.env.Now().UnixNano()
	c.stats.PoolFetches++
	c.observe(PoolRefreshed{Source: src, Size: c.rt.pool.size()})
	c.scheduleRefresh()
}

// repairPaths replaces hops that are no longer in the pool.
func (c *Client) repairPaths() {
	r, now := c.env.Rand(), c.env.Now()
	for k := 0; k < len(c.rt.paths); k++ {
		for _, h := range c.rt.paths[k].hops[1:] {
			if !c.rt.pool.contains(h) {
				c.rt.dropNode(r, h, CauseGuardLeft, now)
				k = -1 // paths may have shifted; start over
				break
			}
		}
	}
}

// bootstrap fetches a pool from the seed nodes: every seed at once, the first good answer wins,
// SeedTries rounds.
func (c *Client) bootstrap(done func(Failure)) {
	c.bootWaiters = append(c.bootWaiters, done)
	if c.booting {
		return
	}
	c.booting = true
	c.seedRound(1)
}

func (c *Client) finishBoot(f Failure) {
	c.booting = false
	ws := c.bootWaiters
	c.bootWaiters = nil
	for _, w := range ws {
		w(f)
	}
}

func (c *Client) seedRound(try int) {
	ep := c.epoch
	body := seedRequest()
	won := false
	pending := len(c.cfg.Seeds)
	for _, s := range c.cfg.Seeds {
		req := actor.Request{Method: seedEndpoint, Body: body, Size: len(body) + httpOverhead}
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
			if try < c.cfg.SeedTries {
				c.env.After(c.cfg.SeedRetryDelay, func() {
					if c.alive(ep) {
						c.seedRound(try + 1)
					}
				})
				return
			}
			c.observe(PoolRefreshed{Source: FromSeeds, Size: c.rt.pool.size(), Failure: FailNoPool})
			c.finishBoot(FailNoPool)
		})
	}
}

func (c *Client) scheduleRefresh() {
	if !c.online || c.lastRefresh == 0 {
		return
	}
	c.refreshTimer.Stop()
	wait := time.Duration(c.lastRefresh + int64(c.cfg.PoolRefreshEvery) - c.env.Now().UnixNano())
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
	if c.refreshing || c.booting {
		return
	}
	c.refreshing = true
	c.refreshTry(1)
}

func (c *Client) refreshTry(try int) {
	ep := c.epoch
	fallback := func() {
		c.bootstrap(func(Failure) { c.refreshing = false })
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
	lists := make([][]nodeIdx, asked)
	pending, failed := asked, false
	rpc := getServiceNodesRequest()
	for k, t := range targets {
		c.onionRequest(t, "oxend_request", rpc, func(res onionResult) {
			pending--
			if res.failure == OK {
				l, err := c.serviceNodes(res.body)
				if err != nil {
					c.garbage(GarbageMalformedResponse)
					failed = true
				} else {
					lists[k] = l.sorted
				}
			} else {
				failed = true
			}
			if pending > 0 || !c.alive(ep) {
				return
			}
			if !failed {
				common := agree(lists, c.cfg.PoolAgreement)
				enough := len(common) > c.cfg.PoolMin &&
					(c.cfg.PoolAgreement != AgreeAll || len(common) >= c.cfg.PoolAgreementMin)
				if enough {
					c.installList(c.rt.dir.list(common), FromSnodes)
					c.refreshing = false
					return
				}
			}
			if try < c.cfg.SeedTries {
				c.env.After(c.cfg.SeedRetryDelay, func() {
					if c.alive(ep) {
						c.refreshTry(try + 1)
					}
				})
				return
			}
			c.observe(PoolRefreshed{Source: FromSnodes, Size: c.rt.pool.size(), Failure: FailNoPool})
			fallback()
		})
	}
}

// serviceNodes reads the node list of an oxend_request answer.
func (c *Client) serviceNodes(body []byte) (*nodeList, error) {
	result, err := serviceNodesResult(body)
	if err != nil {
		return nil, err
	}
	return c.rt.dir.decodedList(result, parseNodeStates)
}

func (c *Client) internAll(nodes []NodeInfo) []nodeIdx {
	idx := make([]nodeIdx, len(nodes))
	for k, n := range nodes {
		idx[k] = c.rt.dir.intern(n)
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// --- paths ------------------------------------------------------------------------------------

// withPaths runs done once the client has its full set of paths (OK), or could not build them.
func (c *Client) withPaths(done func(Failure)) {
	if len(c.rt.paths) >= c.cfg.Paths {
		done(OK)
		return
	}
	c.pathWaiters = append(c.pathWaiters, done)
	if c.building {
		return
	}
	c.building = true
	c.buildStep(false)
}

func (c *Client) finishBuild(f Failure) {
	c.building = false
	ws := c.pathWaiters
	c.pathWaiters = nil
	for _, w := range ws {
		w(f)
	}
}

// buildStep advances path building: a usable pool, then enough tested guards, then the paths.
// When the pool has too few distinct subnets it refetches from the seeds once.
func (c *Client) buildStep(refetched bool) {
	ep := c.epoch
	if c.rt.pool.size() <= c.cfg.PoolMin {
		if refetched {
			c.finishBuild(FailNoPool)
			return
		}
		c.bootstrap(func(f Failure) {
			if !c.alive(ep) {
				return
			}
			if f != OK {
				c.finishBuild(f)
				return
			}
			c.buildStep(true)
		})
		return
	}
	c.rt.pruneGuards()
	if c.rt.guardsNeeded() > 0 {
		c.selectGuards(func(f Failure) {
			if !c.alive(ep) {
				return
			}
			if f != OK {
				c.finishBuild(f)
				return
			}
			c.buildStep(refetched)
		})
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
	c.bootstrap(func(f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			c.finishBuild(f)
			return
		}
		c.buildStep(true)
	})
}

// selectGuards tests shuffled pool nodes with a direct get_swarm, as many at once as guards are
// missing, for at most GuardTestRounds rounds.
func (c *Client) selectGuards(done func(Failure)) {
	ep := c.epoch
	cands := slices.DeleteFunc(c.rt.pool.shuffled(c.env.Rand()), func(i nodeIdx) bool {
		return slices.Contains(c.rt.guards, i)
	})
	round := 0
	var next func()
	next = func() {
		need := c.rt.guardsNeeded()
		if need == 0 {
			done(OK)
			return
		}
		if round >= c.cfg.GuardTestRounds || len(cands) == 0 {
			done(FailNoPath)
			return
		}
		round++
		batch := cands[:min(need, len(cands))]
		cands = cands[len(batch):]
		pending := len(batch)
		for _, g := range batch {
			c.testGuard(g, func(ok bool) {
				if !c.alive(ep) {
					return
				}
				if ok && c.rt.guardsNeeded() > 0 && c.rt.pool.contains(g) && !slices.Contains(c.rt.guards, g) {
					c.rt.guards = append(c.rt.guards, g)
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
	body := getSwarmRequest(c.id)
	req := actor.Request{Method: storageEndpoint, Body: body, Size: len(body) + httpOverhead}
	c.env.Call(addr, req, c.cfg.GuardTestTimeout, func(resp actor.Response, err error) {
		ok := err == nil && resp.Status == 200
		c.observe(GuardTested{Guard: addr, OK: ok})
		done(ok)
	})
}

// --- onion requests ---------------------------------------------------------------------------

// onionResult is the outcome of one onion request.
type onionResult struct {
	failure Failure
	status  int    // destination status, or the relay's on a path error
	body    []byte // destination body (plaintext)
}

// onionRequest sends rpc to dest through one of the paths and runs done with the outcome on the
// client's loop (never when the client went offline meanwhile).
func (c *Client) onionRequest(dest nodeIdx, method string, rpc []byte, done func(onionResult)) {
	ep := c.epoch
	c.withPaths(func(f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			c.stats.OnionFailures++
			done(onionResult{failure: f})
			return
		}
		c.sendOnion(ep, dest, method, rpc, done)
	})
}

func (c *Client) sendOnion(ep uint32, dest nodeIdx, method string, rpc []byte, done func(onionResult)) {
	r, now := c.env.Rand(), c.env.Now()
	c.rt.rotate(r, now)
	k := c.rt.choosePath(r, dest)
	if k < 0 {
		c.stats.OnionFailures++
		done(onionResult{failure: FailNoPath})
		return
	}
	enc, _ := onion.ParseEncType(c.cfg.EncType)
	p := onion.Path{Hops: make([]onion.Node, len(c.rt.paths[k].hops)), EncType: enc}
	for j, h := range c.rt.paths[k].hops {
		info := c.rt.dir.info(h)
		p.Hops[j] = onion.Node{Ed25519: info.Ed25519, X25519: info.X25519}
	}
	di := c.rt.dir.info(dest)
	built, err := onion.BuildToNode(c.cfg.Suite, randReader{r}, p, onion.Node{Ed25519: di.Ed25519, X25519: di.X25519}, rpc)
	c.env.Work(built.Cost)
	if err != nil {
		// Only a bad key in a node list gets here; that node cannot be used.
		c.stats.OnionFailures++
		c.dropEverywhere(dest, CauseNotFound)
		done(onionResult{failure: FailPath})
		return
	}
	guard := c.rt.paths[k].hops[0]
	guardAddr := c.rt.dir.addr(guard)
	start := c.env.Now()
	c.stats.OnionRequests++
	req := actor.Request{Method: onion.GuardEndpoint, Body: built.Body, Size: len(built.Body) + httpOverhead}
	reply := built.Reply
	c.env.Call(guardAddr, req, c.cfg.RequestTimeout, func(resp actor.Response, err error) {
		if !c.alive(ep) {
			return
		}
		res := c.onionOutcome(guard, dest, reply, resp, err)
		if res.failure != OK {
			c.stats.OnionFailures++
		}
		c.observe(OnionRoundTrip{Method: method, Guard: guardAddr, Dest: di.Addr, RTT: c.env.Now().Sub(start),
			Status: res.status, Failure: res.failure})
		c.maybeRefreshPool()
		done(res)
	})
}

const nextNodeNotFound = "Next node not found: "

// onionOutcome reads an onion answer and charges failures where the apps do: timeouts and
// unexplained relay errors to the path, "Next node not found" to the named node, destination
// errors (other than 400/401/403/406/421) to the destination; clock skew and 421 to nobody.
func (c *Client) onionOutcome(guard, dest nodeIdx, reply onion.Key, resp actor.Response, err error) onionResult {
	r, now := c.env.Rand(), c.env.Now()
	if err != nil {
		c.rt.pathFailed(r, c.rt.pathIndexByGuard(guard), now)
		if errors.Is(err, actor.ErrUnreachable) {
			return onionResult{failure: FailUnreachable}
		}
		return onionResult{failure: FailTimeout}
	}
	body := bodyBytes(resp.Body)
	if resp.Status != 200 {
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
		return res
	}
	status, inner, cost, derr := openNodeResponse(c.cfg.Suite, reply, body)
	c.env.Work(cost)
	if derr != nil {
		c.garbage(GarbageOnionResponse)
		return onionResult{failure: FailBadResponse}
	}
	res := onionResult{status: status, body: inner}
	switch {
	case status == 200:
	case status == 406 || status == 425:
		res.failure = FailClockSkew
	case status == 421:
		res.failure = FailWrongSwarm
	case status == 400 || status == 401 || status == 403 || status == 413:
		res.failure = FailRejected
	case c.notFound(inner):
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
	for _, e := range c.swarms {
		e.nodes = slices.DeleteFunc(e.nodes, func(x nodeIdx) bool { return x == i })
	}
}

// --- swarms -----------------------------------------------------------------------------------

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
			if !e.fetching && (victim < 0 || e.used < c.swarms[victim].used) {
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

// swarmFor runs done with owner's swarm: cached, or fetched with an onion get_swarm when fewer
// than SwarmMinMembers cached members remain in the pool.
func (c *Client) swarmFor(owner identity.ID, done func(*swarmEntry, Failure)) {
	e := c.entry(owner)
	if c.liveMembers(e) >= c.cfg.SwarmMinMembers {
		done(e, OK)
		return
	}
	e.waiters = append(e.waiters, func(f Failure) { done(e, f) })
	if e.fetching {
		return
	}
	e.fetching = true
	c.fetchSwarm(e, 1)
}

// fetchSwarm asks a random pool node for e's swarm, up to 3 nodes.
func (c *Client) fetchSwarm(e *swarmEntry, try int) {
	const tries = 3
	ep := c.epoch
	finish := func(f Failure) {
		e.fetching = false
		ws := e.waiters
		e.waiters = nil
		for _, w := range ws {
			w(f)
		}
	}
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
		c.onionRequest(dest, "get_swarm", getSwarmBatch(e.owner), func(res onionResult) {
			if !c.alive(ep) {
				return
			}
			if res.failure == OK {
				nodes, err := decodeSwarm(res.body)
				if err == nil && len(nodes) > 0 {
					e.nodes = c.internAll(nodes)
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
		e.nodes = c.internAll(nodes)
		c.observe(SwarmLookup{Owner: e.owner, Members: len(e.nodes), From421: true})
		return
	}
	e.nodes = slices.DeleteFunc(e.nodes, func(x nodeIdx) bool { return x == from })
}

// --- sending ----------------------------------------------------------------------------------

// ErrNotStarted is returned by Send before the driver started the client.
var ErrNotStarted = errors.New("client: Send before Start: spawn the client on a driver first")

// Send writes a text message of bodySize bytes to the Session ID to and returns at once. The
// message is encrypted and framed now (charging the CPU), reported with MessageSent, and stored
// in the recipient's swarm in the background; StoreResult reports the outcome. Call it on the
// client's loop (sim.Engine.Invoke). A client that is offline keeps the message in its outbox
// and stores it when it comes back online.
func (c *Client) Send(to identity.ID, bodySize int) error {
	return c.SendText(to, strings.Repeat("x", max(0, bodySize)))
}

// SendText is Send with the message text given.
func (c *Client) SendText(to identity.ID, body string) error {
	if c.env == nil {
		return ErrNotStarted
	}
	if to.Prefix() != identity.PrefixSession {
		return fmt.Errorf("client: send to %v: only Session IDs (05) take 1:1 messages", to)
	}
	bodySize := len(body)
	now := c.env.Now()
	ms := now.UnixMilli()
	content := message.NewText(body, uint64(ms))
	data, cost, err := message.Build(c.cfg.Suite, randReader{c.env.Rand()}, c.keys.signing(), to,
		message.Outgoing{Content: content, SentAt: uint64(ms)})
	c.env.Work(cost)
	c.stats.Sent++
	var raw []byte
	if err == nil {
		raw, err = rawData(data)
	}
	if err != nil {
		// Only an invalid recipient key gets here: nothing can be stored.
		c.stats.StoreFailed++
		c.observe(MessageSent{To: to, Body: bodySize})
		c.observe(StoreResult{To: to, Failure: FailRejected})
		return nil
	}
	o := &outgoing{to: to, data: raw, ts: ms, last: noNode, hash: messageHash(to, 0, raw)}
	c.observe(MessageSent{Hash: o.hash, To: to, Body: bodySize, Size: len(data)})
	c.outbox = append(c.outbox, o)
	if c.online {
		c.attemptStore(o)
	}
	return nil
}

// Outbox is the number of messages not yet stored or given up.
func (c *Client) Outbox() int { return len(c.outbox) }

func (c *Client) attemptStore(o *outgoing) {
	ep := c.epoch
	c.swarmFor(o.to, func(e *swarmEntry, f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			c.storeFailed(o, f)
			return
		}
		var m nodeIdx
		var ok bool
		if o.stage421 > 0 {
			m, ok = c.pickMember(e, o.last)
		}
		if !ok {
			m, ok = c.pickMember(e)
		}
		if !ok {
			c.storeFailed(o, FailNoSwarm)
			return
		}
		o.last = m
		o.attempts++
		c.stats.StoreRequests++
		rpc := storeRequest(o.to, o.data, o.ts, c.cfg.TTL)
		c.onionRequest(m, "store", rpc, func(res onionResult) {
			status, body := res.status, res.body
			if res.failure == OK {
				var err error
				if status, body, err = storeOutcome(res.body); err != nil {
					c.garbage(GarbageMalformedResponse)
					res.failure = FailBadResponse
				}
			}
			switch {
			case status == 200:
				c.storeDone(o, OK)
			case status == 421:
				c.store421(o, e, m, body)
			case res.failure == OK:
				c.storeFailed(o, FailRejected)
			default:
				c.storeFailed(o, res.failure)
			}
		})
	})
}

// store421: retry at once on another member with the swarm the node named; then refresh the
// pool and the swarm and retry; then give up.
func (c *Client) store421(o *outgoing, e *swarmEntry, from nodeIdx, body []byte) {
	o.stage421++
	switch o.stage421 {
	case 1:
		c.adopt421(e, from, body)
		c.attemptStore(o)
	case 2:
		e.nodes = nil
		c.refreshPool()
		ep := c.epoch
		c.env.After(c.cfg.StoreRetryDelay, func() {
			if c.alive(ep) {
				c.attemptStore(o)
			}
		})
	default:
		c.storeDone(o, FailWrongSwarm)
	}
}

func (c *Client) storeFailed(o *outgoing, f Failure) {
	o.fails++
	if int(o.fails) >= c.cfg.StoreAttempts {
		c.storeDone(o, f)
		return
	}
	ep := c.epoch
	c.env.After(c.cfg.StoreRetryDelay<<(o.fails-1), func() {
		if c.alive(ep) {
			c.attemptStore(o)
		}
	})
}

func (c *Client) storeDone(o *outgoing, f Failure) {
	c.outbox = slices.DeleteFunc(c.outbox, func(x *outgoing) bool { return x == o })
	if f == OK {
		c.stats.Stored++
		// Our own store will come back if we poll a shared swarm; it is not news.
	} else {
		c.stats.StoreFailed++
	}
	var addr actor.Addr
	if o.last != noNode {
		addr = c.rt.dir.addr(o.last)
	}
	c.observe(StoreResult{Hash: o.hash, To: o.to, Failure: f, Attempts: int(o.attempts), Node: addr})
}

// --- polling ----------------------------------------------------------------------------------

// pollRound polls the own swarm once and schedules the next round.
func (c *Client) pollRound() {
	if !c.online {
		return
	}
	ep := c.epoch
	c.stats.Polls++
	c.swarmFor(c.id, func(e *swarmEntry, f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			c.pollDone(ep, false)
			return
		}
		targets := c.pollTargets(e)
		if len(targets) == 0 {
			c.pollDone(ep, false)
			return
		}
		pending, anyOK := len(targets), false
		for _, t := range targets {
			c.retrieve(e, t, func(ok bool) {
				pending--
				anyOK = anyOK || ok
				if !ok && t == c.poll.current {
					c.poll.current = noNode
				}
				if pending == 0 {
					c.pollDone(ep, anyOK)
				}
			})
		}
	})
}

// pollTargets picks the members to poll this round: Parallel random ones, or the phones' sticky
// member until it failed or served SwitchAfter polls.
func (c *Client) pollTargets(e *swarmEntry) []nodeIdx {
	pr := c.cfg.Poll
	if pr.Sticky {
		cur := c.poll.current
		valid := cur != noNode && slices.Contains(e.nodes, cur) && c.rt.pool.contains(cur)
		if !valid || (pr.SwitchAfter > 0 && int(c.poll.count) >= pr.SwitchAfter) {
			next, ok := c.pickMember(e, cur)
			if !ok {
				next, ok = c.pickMember(e)
			}
			if !ok {
				return nil
			}
			c.poll.current, c.poll.count = next, 0
		}
		c.poll.count++
		return []nodeIdx{c.poll.current}
	}
	var out []nodeIdx
	for range pr.Parallel {
		m, ok := c.pickMember(e, out...)
		if !ok {
			break
		}
		out = append(out, m)
	}
	return out
}

func (c *Client) pollDone(ep uint32, ok bool) {
	if !c.alive(ep) {
		return
	}
	wait := c.cfg.Poll.Interval
	if ok {
		c.poll.fails = 0
	} else {
		c.stats.PollFailures++
		c.poll.fails++
		if d, has := c.cfg.Poll.Backoff.Delay(int(c.poll.fails)); has {
			wait = d
		}
	}
	c.poll.timer = c.env.After(wait, c.pollRound)
}

// retrieve asks member t for every polled namespace after the last hash seen from it.
func (c *Client) retrieve(e *swarmEntry, t nodeIdx, done func(bool)) {
	nss := c.cfg.Namespaces
	last := make([]string, len(nss))
	for k, ns := range nss {
		last[k] = c.last.get(t, ns)
	}
	rpc, cost := retrieveRequest(c.cfg.Suite, c.keys.signing(), c.id, nss, last, c.env.Now().UnixMilli(), c.cfg.MaxSize)
	c.env.Work(cost)
	c.onionRequest(t, "retrieve", rpc, func(res onionResult) {
		if res.status == 421 {
			c.adopt421(e, t, res.body)
			done(false)
			return
		}
		if res.failure != OK {
			done(false)
			return
		}
		results, err := decodeRetrieve(res.body, len(nss))
		if err != nil {
			c.garbage(GarbageMalformedResponse)
			done(false)
			return
		}
		ok, moved := false, false
		for k, rr := range results {
			if rr.status == 421 {
				if !moved {
					// Every namespace names the same swarm: adopt it once.
					c.adopt421(e, t, rr.body421)
					moved = true
				}
				continue
			}
			if rr.status != 200 {
				continue
			}
			ok = true
			for _, m := range rr.messages {
				c.receive(nss[k], m)
			}
			if n := len(rr.messages); n > 0 {
				c.last.set(t, nss[k], rr.messages[n-1].Hash)
			}
		}
		if ok {
			c.seen.prune(c.env.Now().Unix())
		}
		done(ok)
	})
}

// receive handles one retrieved message: new hashes of the inbox are opened and verified.
func (c *Client) receive(ns int16, m retrieved) {
	if !c.seen.add(m.Hash, m.Expiry/1000) {
		c.stats.Duplicates++
		return
	}
	if ns != 0 {
		// Config namespaces hold libsession config dumps; the simulator has no configs to merge.
		return
	}
	kp := cryptomode.X25519KeyPair{Secret: c.keys.xsec, Public: c.keys.xpub}
	rcv, cost, err := message.Receive(c.cfg.Suite, kp, base64.StdEncoding.EncodeToString(m.Data))
	c.env.Work(cost)
	if err != nil {
		c.garbage(classifyMessageError(err))
		return
	}
	c.stats.Received++
	c.observe(MessageReceived{Hash: m.Hash, From: rcv.SenderID, Namespace: ns, Size: base64.StdEncoding.EncodedLen(len(m.Data))})
}

func classifyMessageError(err error) GarbageKind {
	var de *message.DecodeError
	switch {
	case errors.Is(err, message.ErrBadSignature), errors.Is(err, message.ErrBadSenderKey):
		return GarbageBadSignature
	case errors.Is(err, message.ErrDecrypt):
		return GarbageUndecryptable
	case errors.As(err, &de), errors.Is(err, message.ErrEnvelopeType), errors.Is(err, message.ErrBadPadding):
		return GarbageMalformedMessage
	}
	return GarbageUndecryptable
}

// --- helpers ----------------------------------------------------------------------------------

func bodyBytes(b any) []byte {
	switch v := b.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}
