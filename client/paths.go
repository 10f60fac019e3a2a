package client

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// path is one onion path; hops[0] is the guard.
type path struct {
	hops  []nodeIdx
	fails uint8
	file  bool  // a file path (Config.FilePaths): kept, never chosen for a request
	built int64 // unix nanoseconds, for rotation
}

func (p *path) has(i nodeIdx) bool { return slices.Contains(p.hops, i) }

// strike counts failures charged to one node.
type strike struct {
	node nodeIdx
	n    uint8
	last int64 // unix seconds of the latest strike, for expiry
}

// router is the part of a client that owns the pool, the guards, the paths and the strikes. It
// never waits: whatever needs the network (bootstrap, guard tests) is driven by the client,
// which calls in here with the results.
type router struct {
	cfg     *Config
	dir     *Directory
	pool    pool
	guards  []nodeIdx     // tested guards, kept while the client is offline
	since   *[]guardSince // when each guard was selected; made only when guards expire (GuardLifetime)
	paths   []path
	strikes []strike
	obs     func(actor.Event)

	rebuilds uint32 // paths built after the first set: replacements and repairs
	initial  bool   // the first full set of paths has been built
}

func (rt *router) observe(ev actor.Event) {
	if rt.obs != nil {
		rt.obs(ev)
	}
}

// inPaths reports whether i is any hop of any path.
func (rt *router) inPaths(i nodeIdx) bool {
	for k := range rt.paths {
		if rt.paths[k].has(i) {
			return true
		}
	}
	return false
}

// usedSubnets lists the subnets a new hop must avoid: those of every non-guard hop of every
// path (the desktop app draws at most one node per /24 over all paths it builds) plus that of
// the guard the hop will follow.
func (rt *router) usedSubnets(guard nodeIdx, skipPath int) []uint64 {
	var used []uint64
	if guard != noNode {
		used = append(used, rt.dir.subnet(guard))
	}
	for k := range rt.paths {
		if k == skipPath {
			continue
		}
		for _, h := range rt.paths[k].hops[1:] {
			used = append(used, rt.dir.subnet(h))
		}
	}
	return used
}

// pickHop draws a non-guard hop: in the pool, not a guard, not on any path, not in excl and not
// in a used subnet. Hops are never tested (a test would show the client's IP to them).
func (rt *router) pickHop(r *rand.Rand, used []uint64, excl []nodeIdx) (nodeIdx, bool) {
	return rt.pool.pick(r, func(i nodeIdx) bool {
		return slices.Contains(rt.guards, i) || rt.inPaths(i) || slices.Contains(excl, i) ||
			slices.Contains(used, rt.dir.subnet(i))
	})
}

// fillPath completes p (which holds at least its guard) up to cfg.Hops hops.
func (rt *router) fillPath(r *rand.Rand, p *path, skipPath int) bool {
	used := rt.usedSubnets(p.hops[0], skipPath)
	for _, h := range p.hops[1:] {
		used = append(used, rt.dir.subnet(h))
	}
	for len(p.hops) < rt.cfg.Hops {
		h, ok := rt.pickHop(r, used, p.hops)
		if !ok {
			return false
		}
		p.hops = append(p.hops, h)
		used = append(used, rt.dir.subnet(h))
	}
	return true
}

// wantPaths is the full set of paths: those for requests and the file paths.
func (rt *router) wantPaths() int { return rt.cfg.Paths + rt.cfg.FilePaths }

// guardsNeeded is how many more tested guards the client needs for a full set of paths.
func (rt *router) guardsNeeded() int {
	return max(0, rt.wantPaths()-len(rt.guards))
}

// guardSearch is one guard selection in progress: the untested candidates (the pool in random
// order, guards left out), the rounds run and the candidates tested so far.
type guardSearch struct {
	cands         []nodeIdx
	round, tested int
}

// startGuardSearch begins a guard selection. Candidates are neither guards nor hops of a
// path: a path never shares a node with another (the apps exclude every node of their paths).
func (rt *router) startGuardSearch(r *rand.Rand) guardSearch {
	return guardSearch{cands: slices.DeleteFunc(rt.pool.shuffled(r), func(i nodeIdx) bool {
		return slices.Contains(rt.guards, i) || rt.inPaths(i)
	})}
}

// nextGuardBatch is the next round of candidates to test, as many as guards are missing; over
// is true when the selection has ended, with OK when the guards are complete and FailNoPath
// when the rounds or the candidates ran out.
func (rt *router) nextGuardBatch(s *guardSearch) (batch []nodeIdx, f Failure, over bool) {
	need := rt.guardsNeeded()
	if need == 0 {
		return nil, OK, true
	}
	if s.round >= rt.cfg.GuardTestRounds || len(s.cands) == 0 {
		return nil, FailNoPath, true
	}
	s.round++
	batch = s.cands[:min(need, len(s.cands))]
	s.cands = s.cands[len(batch):]
	s.tested += len(batch)
	return batch, OK, false
}

// guardPassed takes candidate g, which passed its test, as a guard if one is still missing, g
// is still in the pool and no path took it as a hop meanwhile (a refresh, a drop or a repair may
// have come while the test was out).
func (rt *router) guardPassed(g nodeIdx, now time.Time) {
	if rt.guardsNeeded() > 0 && rt.pool.contains(g) && !slices.Contains(rt.guards, g) && !rt.inPaths(g) {
		rt.guards = append(rt.guards, g)
		rt.guardSelected(g, now)
	}
}

// install replaces the pool with l; a fresh list starts every node and path with a clean
// record, as the apps do, and guards and hops the list no longer has go.
func (rt *router) install(r *rand.Rand, l *nodeList, now time.Time) {
	rt.pool.set(l)
	rt.strikes = nil
	for k := range rt.paths {
		rt.paths[k].fails = 0
	}
	rt.pruneGuards()
	rt.repairPaths(r, now)
}

// repairPaths replaces hops that are no longer in the pool.
func (rt *router) repairPaths(r *rand.Rand, now time.Time) {
	for k := 0; k < len(rt.paths); k++ {
		for _, h := range rt.paths[k].hops[1:] {
			if !rt.pool.contains(h) {
				rt.dropNode(r, h, CauseLeftPool, now)
				k = -1 // paths may have shifted; start over
				break
			}
		}
	}
}

// pruneGuards forgets guards that left the pool (a refresh no longer lists them).
func (rt *router) pruneGuards() {
	rt.guards = slices.DeleteFunc(rt.guards, func(g nodeIdx) bool { return !rt.pool.contains(g) })
	for k := len(rt.paths) - 1; k >= 0; k-- {
		// A drop may take every path with it (FreshGuardsOnDrop).
		if k < len(rt.paths) && !rt.pool.contains(rt.paths[k].hops[0]) {
			rt.dropPath(k, CauseLeftPool)
		}
	}
}

// buildPaths gives every guard without a path one; it reports whether all paths exist now.
func (rt *router) buildPaths(r *rand.Rand, now time.Time) bool {
	for _, g := range rt.guards {
		if len(rt.paths) >= rt.wantPaths() {
			break
		}
		if rt.pathIndexByGuard(g) >= 0 {
			continue
		}
		// Request paths come first: a file path is built only when they are complete.
		std := len(rt.paths) - rt.filePaths()
		p := path{hops: make([]nodeIdx, 1, rt.cfg.Hops), built: now.UnixNano(), file: std >= rt.cfg.Paths}
		p.hops[0] = g
		if !rt.fillPath(r, &p, -1) {
			return false
		}
		if rt.paths == nil {
			rt.paths = make([]path, 0, rt.wantPaths()) // the full set at once, not doubling up to it
		}
		rt.paths = append(rt.paths, p)
		if rt.initial {
			rt.rebuilds++
		}
		rt.observe(rt.builtEvent(&p, rt.initial))
	}
	if len(rt.paths) >= rt.wantPaths() {
		rt.initial = true
		return true
	}
	return false
}

// filePaths counts the file paths.
func (rt *router) filePaths() int {
	n := 0
	for k := range rt.paths {
		if rt.paths[k].file {
			n++
		}
	}
	return n
}

func (rt *router) builtEvent(p *path, rebuild bool) PathBuilt {
	g := rt.dir.info(p.hops[0])
	hops := make([]actor.Addr, len(p.hops))
	for j, h := range p.hops {
		hops[j] = rt.dir.addr(h)
	}
	return PathBuilt{Guard: g.Addr, GuardEd25519: g.Ed25519, Hops: len(p.hops), Rebuild: rebuild, Rebuilds: rt.rebuilds, Path: hops, File: p.file}
}

// rotate replaces the non-guard hops of paths older than cfg.PathRotate.
func (rt *router) rotate(r *rand.Rand, now time.Time) {
	if rt.cfg.PathRotate <= 0 {
		return
	}
	for k := range rt.paths {
		p := &rt.paths[k]
		if now.UnixNano()-p.built < int64(rt.cfg.PathRotate) {
			continue
		}
		old := p.hops
		p.hops = append(make([]nodeIdx, 0, rt.cfg.Hops), old[0])
		if !rt.fillPath(r, p, k) {
			p.hops = old // keep the old path rather than none
			continue
		}
		p.built = now.UnixNano()
		p.fails = 0
		rt.rebuilds++
		rt.observe(rt.builtEvent(p, true))
	}
}

// choosePath picks a random request path (not a file path) that does not contain avoid (a
// request's destination must not also be one of its hops). -1 if none qualifies.
func (rt *router) choosePath(r *rand.Rand, avoid nodeIdx) int {
	return rt.choosePathOf(r, avoid, false)
}

// choosePathOf is choosePath among the file paths (Config.FilePaths) when file is set, and
// among the request paths otherwise.
func (rt *router) choosePathOf(r *rand.Rand, avoid nodeIdx, file bool) int {
	var ok [8]int
	n := 0
	for k := range rt.paths {
		if rt.paths[k].file == file && !rt.paths[k].has(avoid) && n < len(ok) {
			ok[n] = k
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return ok[r.IntN(n)]
}

// dropPath removes path k and its guard (from the guards and the pool, as the apps do: a guard
// that failed its path three times is not trusted again). With FreshGuardsOnDrop every other
// guard is given up with its path too (the nodes stay in the pool), so the next request tests
// a fresh set of guards and builds every path on them.
func (rt *router) dropPath(k int, cause Cause) {
	g := rt.paths[k].hops[0]
	info := rt.dir.info(g)
	rt.paths = slices.Delete(rt.paths, k, k+1)
	rt.guards = slices.DeleteFunc(rt.guards, func(x nodeIdx) bool { return x == g })
	rt.pool.remove(g)
	rt.clearStrikes(g)
	rt.observe(PathDropped{Guard: info.Addr, GuardEd25519: info.Ed25519, Cause: cause})
	if !rt.cfg.FreshGuardsOnDrop {
		return
	}
	for _, p := range rt.paths {
		gi := rt.dir.info(p.hops[0])
		rt.observe(PathDropped{Guard: gi.Addr, GuardEd25519: gi.Ed25519, Cause: CauseFreshGuards})
	}
	rt.paths = rt.paths[:0]
	rt.guards = rt.guards[:0]
}

// pathFailed charges a failure to path k: every non-guard hop gets a strike and the path one
// failure; at cfg.PathFailures the path goes. It reports whether the path was dropped.
func (rt *router) pathFailed(r *rand.Rand, k int, now time.Time) bool {
	if k < 0 || k >= len(rt.paths) {
		return false
	}
	g := rt.paths[k].hops[0]
	for _, h := range slices.Clone(rt.paths[k].hops[1:]) {
		rt.strike(r, h, now)
	}
	// Strikes may have repaired the path, but it is still the path of guard g.
	k = rt.pathIndexByGuard(g)
	if k < 0 {
		return true
	}
	rt.paths[k].fails++
	if int(rt.paths[k].fails) >= rt.cfg.PathFailures {
		rt.dropPath(k, CausePathFailures)
		return true
	}
	return false
}

// strike charges one failure to node i; at cfg.NodeStrikes it is dropped. Reports the drop.
func (rt *router) strike(r *rand.Rand, i nodeIdx, now time.Time) bool {
	sec := now.Unix()
	k := slices.IndexFunc(rt.strikes, func(s strike) bool { return s.node == i })
	if k < 0 {
		rt.strikes = append(rt.strikes, strike{node: i})
		k = len(rt.strikes) - 1
	}
	s := &rt.strikes[k]
	if rt.cfg.StrikeExpiry > 0 && s.n > 0 && sec-s.last > int64(rt.cfg.StrikeExpiry/time.Second) {
		s.n = 0
	}
	s.n++
	s.last = sec
	if int(s.n) < rt.cfg.NodeStrikes {
		return false
	}
	rt.dropNode(r, i, CauseStrikes, now)
	return true
}

func (rt *router) clearStrikes(i nodeIdx) {
	rt.strikes = slices.DeleteFunc(rt.strikes, func(s strike) bool { return s.node == i })
}

// dropNode removes i from the pool and repairs the path it is on: a non-guard hop is replaced
// by a fresh random node at once; a guard takes its path with it.
func (rt *router) dropNode(r *rand.Rand, i nodeIdx, cause Cause, now time.Time) {
	removed := rt.pool.remove(i)
	rt.clearStrikes(i)
	if removed {
		info := rt.dir.info(i)
		rt.observe(NodeDropped{Node: info.Addr, NodeEd25519: info.Ed25519, Cause: cause})
	}
	for k := 0; k < len(rt.paths); k++ {
		p := &rt.paths[k]
		at := slices.Index(p.hops, i)
		if at < 0 {
			continue
		}
		if at == 0 {
			rt.dropPath(k, cause)
			return
		}
		p.hops = slices.Delete(p.hops, at, at+1)
		if !rt.fillPath(r, p, k) {
			rt.dropPath(k, CauseNoReplacement)
			return
		}
		p.built = now.UnixNano()
		rt.rebuilds++
		rt.observe(rt.builtEvent(p, true))
		return
	}
}

// pathIndexByGuard finds the path that starts at guard g.
func (rt *router) pathIndexByGuard(g nodeIdx) int {
	return slices.IndexFunc(rt.paths, func(p path) bool { return p.hops[0] == g })
}
