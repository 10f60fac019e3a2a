package client

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Selector is a client's path selection without the network: the pool, the guard selection,
// the paths, their rotation and repair, decided by the same router as a Client's, for a caller
// that plays months of a client's life without sending a byte (the path-selection mode of
// package scenarios, as TorPS does for Tor). Where a Client waits for the network (a seed
// answer, a guard test), the caller hands the outcome in: Install is a pool answer, and
// SelectGuards asks the caller whether each candidate would pass its test.
//
// It reports the events a Client would (PathBuilt, PathDropped, NodeDropped, GuardTested,
// GuardSelection) to the observer given to NewSelector.
type Selector struct {
	rt  router
	r   *rand.Rand
	dir *Directory
}

// NewSelector makes the path selection of a client with settings cfg (zero fields take their
// defaults; Seeds may be empty, since a Selector asks none), drawing from r, reporting to obs
// (which may be nil).
func NewSelector(cfg Config, r *rand.Rand, obs func(actor.Event)) (*Selector, error) {
	if len(cfg.Seeds) == 0 {
		cfg.Seeds = []actor.Addr{netip.AddrPortFrom(netip.IPv4Unspecified(), 0)} // never asked
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Selector{r: r, dir: c.Directory}
	s.rt = router{cfg: c.Directory.configs.Of(c.shareable()), dir: c.Directory, obs: obs}
	return s, nil
}

// PoolList is a node list interned in a Directory, ready to be installed as pools: made once
// per list version, it is installed by thousands of selectors without being rebuilt.
type PoolList struct{ l *nodeList }

// PoolList interns nodes as one list.
func (d *Directory) PoolList(nodes []NodeInfo) PoolList {
	idx := make([]nodeIdx, len(nodes))
	for k, n := range nodes {
		idx[k] = d.intern(n)
	}
	return PoolList{l: d.list(idx)}
}

// Install makes l (from the Directory of the Selector's Config) the pool, as a bootstrap or a
// refresh does (see Client.installList).
func (s *Selector) Install(l PoolList, now time.Time) {
	s.rt.install(s.r, l.l, now)
}

// PoolSize is the number of nodes in the pool.
func (s *Selector) PoolSize() int { return s.rt.pool.size() }

// Ready reports whether the client has its full set of paths.
func (s *Selector) Ready() bool { return len(s.rt.paths) >= s.rt.wantPaths() }

// Prepare does what a Client does before an onion request: retire expired guards, select and
// test guards while some are missing (passes says whether a candidate would pass its direct
// test: a node that is down does not answer), build the missing paths and rotate old ones. It
// reports whether the client has its full set of paths afterwards.
func (s *Selector) Prepare(now time.Time, passes func(NodeInfo) bool) bool {
	s.rt.retireGuards(now)
	s.rt.pruneGuards()
	if s.rt.guardsNeeded() > 0 {
		s.selectGuards(now, passes)
	}
	if !s.Ready() && !s.rt.buildPaths(s.r, now) {
		return false
	}
	s.rt.rotate(s.r, now)
	return true
}

// selectGuards is Client.selectGuards with the tests answered at once.
func (s *Selector) selectGuards(now time.Time, passes func(NodeInfo) bool) {
	search := s.rt.startGuardSearch(s.r)
	for {
		batch, f, over := s.rt.nextGuardBatch(&search)
		if over {
			sel := GuardSelection{Tested: search.tested, Failure: f}
			for _, g := range s.rt.guards {
				sel.Guards = append(sel.Guards, s.dir.addr(g))
			}
			s.rt.observe(sel)
			return
		}
		for _, g := range batch {
			info := s.dir.info(g)
			ok := passes(info)
			s.rt.observe(GuardTested{Guard: info.Addr, OK: ok})
			if ok {
				s.rt.guardPassed(g, now)
			}
		}
	}
}

// NodeDown drops a node that stopped answering from the pool and repairs the path it was on
// (a guard takes its path with it), as the strikes and path failures of a few requests through
// it would.
func (s *Selector) NodeDown(ed [32]byte, now time.Time) {
	if i, ok := s.dir.lookup(ed); ok && s.rt.pool.contains(i) {
		s.rt.dropNode(s.r, i, CauseStrikes, now)
	}
}

// Offline forgets the paths, as closing the app does; guards and pool stay.
func (s *Selector) Offline() {
	s.rt.paths = nil
	s.rt.initial = false
}

// Paths are the current paths requests take, guard first, as node keys: the file paths
// (Config.FilePaths), which carry none, are left out, and ChoosePath numbers paths as this
// list does.
func (s *Selector) Paths() [][][32]byte {
	var out [][][32]byte
	for _, p := range s.rt.paths {
		if p.file {
			continue
		}
		keys := make([][32]byte, len(p.hops))
		for j, h := range p.hops {
			keys[j] = s.dir.ed(h)
		}
		out = append(out, keys)
	}
	return out
}

// InPool reports whether the node with key ed is in the pool.
func (s *Selector) InPool(ed [32]byte) bool {
	i, ok := s.dir.lookup(ed)
	return ok && s.rt.pool.contains(i)
}

// PickPool draws a random pool node (the destination of a get_swarm or a refresh).
func (s *Selector) PickPool() ([32]byte, bool) {
	i, ok := s.rt.pool.pick(s.r, nil)
	if !ok {
		return [32]byte{}, false
	}
	return s.dir.ed(i), true
}

// ChoosePath picks the path a request to dest takes, as a Client does, numbered as in Paths:
// -1 if every path has dest as a hop.
func (s *Selector) ChoosePath(dest [32]byte) int {
	i, ok := s.dir.lookup(dest)
	if !ok {
		i = noNode
	}
	k := s.rt.choosePath(s.r, i)
	if k < 0 {
		return k
	}
	n := 0
	for _, p := range s.rt.paths[:k] {
		if !p.file {
			n++
		}
	}
	return n
}

// PathsAvoiding counts the request paths (as in Paths) that do not have dest as a hop: a
// request to dest takes one of them, each with the same probability.
func (s *Selector) PathsAvoiding(dest [32]byte) int {
	i, ok := s.dir.lookup(dest)
	n := 0
	for k := range s.rt.paths {
		if !s.rt.paths[k].file && (!ok || !s.rt.paths[k].has(i)) {
			n++
		}
	}
	return n
}
