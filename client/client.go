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
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Stats are a client's counters.
type Stats struct {
	Sent          uint32 // Send calls
	Stored        uint32 // messages stored
	StoreFailed   uint32 // messages given up
	StoreRequests uint32 // store requests sent, retries included
	Received      uint32 // messages decrypted for the first time
	Duplicates    uint32 // messages seen again (other member, later poll)
	Polls         uint32 // poll rounds
	CoverPolls    uint32 // dummy polls sent (Config.CoverPollsPerHour)
	PollFailures  uint32 // poll rounds in which no member answered
	OnionRequests uint32
	OnionFailures uint32
	PathRebuilds  uint32
	PoolFetches   uint32 // pools installed (from seeds or snodes)
	// CommunityPolls, CommunityPollFailures and CommunityMessages: community server polls,
	// those that failed, and the room messages they brought (Config.Communities).
	CommunityPolls        uint32
	CommunityPollFailures uint32
	CommunityMessages     uint32
	Garbage               [garbageKinds]uint32
}

// Client is one Session user's app. Create it with New, hand it to a driver (which calls Start),
// then drive it with Send, GoOffline and GoOnline from the actor's loop.
type Client struct {
	cfg  *Config
	keys keyset
	env  actor.Env
	rt   router

	// Small fields are grouped so that none leaves padding: a world holds 100,000 clients.
	online     bool
	refreshing bool
	bg         bool   // a background poll runs: a push notification woke the app (push.go)
	wakeAgain  bool   // another wake-up for the own swarm came during it: poll once more before sleeping
	epoch      uint32 // bumped by GoOffline: callbacks of an older epoch are dropped

	building     sharedWork // path building
	booting      sharedWork // a pool fetch from the seeds
	lastRefresh  int64      // unix ns of the last pool install
	started      int64      // unix ns of the latest Start or GoOnline (Config.PoolRefreshFromStart)
	ownFetched   int64      // unix ns of the latest lookup of the own swarm (Config.OwnSwarmRefresh); 0 at each start
	installed    uint32     // pool size after the last install
	refreshTimer actor.Timer

	own   swarmEntry // the own swarm; its owner is the client's Session ID
	cfgs  configState
	poll  pollState
	seen  seenSet
	last  lastHashes
	stats counters
	clock clockState
	x     *extras // made at first use (more)
}

// counters are the Stats a client keeps in itself; Stats adds those kept with what they count
// (path rebuilds in the router, dummy and community polls in the extras).
type counters struct {
	Sent, Stored, StoreFailed, StoreRequests, Received, Duplicates uint32
	Polls, PollFailures, OnionRequests, OnionFailures, PoolFetches uint32
	Garbage                                                        [garbageKinds]uint32
}

// extras is what a client keeps only once it does something beyond polling its own swarm: 1:1
// messages, contacts, groups, communities, attachments, push notifications, dummy polls. A
// client that does none of these carries one nil pointer in their place (about 300 bytes), in a
// world that may hold 100,000 clients.
type extras struct {
	swarms      []*swarmEntry      // the cached swarms of other accounts (swarm.go)
	tick        uint32             // LRU clock of swarms
	outbox      []*outgoing        // messages being stored (send.go, group.go)
	contacts    []identity.ID      // the accounts the user has a 1:1 conversation with (configsync.go)
	groups      []*groupView       // the groups the client is a member of (group.go)
	communities []*communityPoller // Config.Communities
	push        pushState
	att         attachments
	coverTimer  actor.Timer // the next dummy poll (Config.CoverPollsPerHour)
	decoy       *decoy      // the account of dummy polls, made at the first

	coverPolls, communityPolls, communityPollFailures, communityMessages uint32 // for Stats
}

// more returns the client's extras, making them at the first use.
func (c *Client) more() *extras {
	if c.x == nil {
		c.x = &extras{}
	}
	return c.x
}

// extra reads one of the client's extras: a client without them has none (the zero value).
func extra[T any](c *Client, field func(*extras) T) T {
	if c.x == nil {
		var none T
		return none
	}
	return field(c.x)
}

func (c *Client) swarmCache() []*swarmEntry {
	return extra(c, func(x *extras) []*swarmEntry { return x.swarms })
}

func (c *Client) outbox() []*outgoing {
	return extra(c, func(x *extras) []*outgoing { return x.outbox })
}

func (c *Client) contacts() []identity.ID {
	return extra(c, func(x *extras) []identity.ID { return x.contacts })
}

func (c *Client) groupViews() []*groupView {
	return extra(c, func(x *extras) []*groupView { return x.groups })
}

func (c *Client) communityPollers() []*communityPoller {
	return extra(c, func(x *extras) []*communityPoller { return x.communities })
}

// attachments are the attachments on their way to and from the file server; seq numbers the
// attachment sends (their MessageSent names).
type attachments struct {
	uploads []*upload
	fetches []*fetch
	seq     uint32
}

// attachments returns the client's attachments, making its extras at the first.
func (c *Client) attachments() *attachments { return &c.more().att }

// pollState is the poller's state between rounds.
type pollState struct {
	timer   actor.Timer
	fails   uint16
	count   uint16    // polls of current
	current nodeIdx   // the phones' sticky member
	used    []nodeIdx // members polled in this cycle (Profile.Cycle)
}

// swarmEntry is a cached swarm.
type swarmEntry struct {
	owner    identity.ID
	used     uint32 // next to owner, in the room its 33 bytes leave before the next word
	nodes    []nodeIdx
	fetching sharedWork // a get_swarm lookup
}

// keyset is the key material a client keeps: the Ed25519 key, from whose seed the X25519 secret
// derives (identity.X25519SecretFromSeed), without the copies identity.Keys also carries.
type keyset struct {
	ed [ed25519.PrivateKeySize]byte // seed || public, Go's form
}

// signing is the Ed25519 private key; it aliases the keyset (no copy).
func (k *keyset) signing() ed25519.PrivateKey { return k.ed[:] }

// x25519 is the client's X25519 pair, made from the keys it keeps: the secret is one SHA-512 of
// the seed away, and the public key is the Session ID's, so no scalar multiplication is redone
// for the messages it opens.
func (c *Client) x25519() cryptomode.X25519KeyPair {
	return cryptomode.X25519KeyPair{Secret: identity.X25519SecretFromSeed([32]byte(c.keys.ed[:32])), Public: c.ID().Key()}
}

// outgoing is a message being stored.
type outgoing struct {
	to       identity.ID
	msg      message.Outgoing // what was encrypted, for the sync copy; nil Content for a sync copy
	sync     bool             // the sync copy of a sent message, stored in the sender's own swarm
	hash     string
	data     []byte // the stored bytes (the store's "data", decoded)
	fails    uint8
	stage421 uint8
	attempts uint8
	last     nodeIdx
	// group is set for a store in a group's swarm (a message, or the admin's key message with
	// keys set); nil for 1:1 messages and sync copies, which stay as they were.
	group *groupView
	keys  bool

	added identity.ID // for a key supplement (keys set): the member it was issued for
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
	cl := &Client{cfg: c.Directory.configs.Of(c.shareable())}
	cl.own.owner = keys.SessionID()
	cl.clock.device = c.ClockOffset
	if c.PushToken != "" {
		cl.more().push.token = c.PushToken
	}
	if len(c.Communities) > 0 {
		cl.more().communities = communityPollers(c.Communities)
	}
	copy(cl.keys.ed[:], keys.Ed25519Private)
	// The X25519 pair is not kept but made again from the Ed25519 seed and the Session ID when
	// a message is opened (x25519), so both must be the ones these keys derive.
	x, _, err := c.Suite.X25519FromSecret(keys.X25519Secret)
	if err != nil {
		return nil, fmt.Errorf("client: X25519 key: %w", err)
	}
	if x.Public != keys.X25519Public || x.Secret != identity.X25519SecretFromSeed([32]byte(keys.Ed25519Private[:32])) {
		return nil, errors.New("client: keys' X25519 key is not their Ed25519 key's: derive them with identity.FromSeed or identity.Derive")
	}
	cl.rt = router{cfg: cl.cfg, dir: c.Directory}
	cl.rt.obs = cl.observe
	cl.poll.current = noNode
	return cl, nil
}

// shareable is c without what differs from client to client (its clock, its push token, the
// communities it joined), which the client keeps itself, so that clients with equal settings
// share one Config: a world of 100,000 clients holds a handful.
func (c Config) shareable() Config {
	c.ClockOffset, c.PushToken, c.Communities = 0, "", nil
	return c
}

// ID is the client's Session ID.
func (c *Client) ID() identity.ID { return c.own.owner }

// Online reports whether the client is running (started and not offline).
func (c *Client) Online() bool { return c.online }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	n := &c.stats
	s := Stats{Sent: n.Sent, Stored: n.Stored, StoreFailed: n.StoreFailed, StoreRequests: n.StoreRequests,
		Received: n.Received, Duplicates: n.Duplicates, Polls: n.Polls, PollFailures: n.PollFailures,
		OnionRequests: n.OnionRequests, OnionFailures: n.OnionFailures, PathRebuilds: c.rt.rebuilds,
		PoolFetches: n.PoolFetches, Garbage: n.Garbage}
	if x := c.x; x != nil {
		s.CoverPolls, s.CommunityPolls, s.CommunityPollFailures, s.CommunityMessages =
			x.coverPolls, x.communityPolls, x.communityPollFailures, x.communityMessages
	}
	return s
}

// PoolSize is the number of nodes in the client's snode pool.
func (c *Client) PoolSize() int { return c.rt.pool.size() }

// Paths returns the client's current paths as node addresses, guard first: every path it keeps,
// its file paths (Config.FilePaths) too.
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
	if c.cfgs.hash[0] == "" {
		// The app opens with the user's profile set (at account creation), a config to push.
		c.cfgs.dirty |= configBit(storagerpc.NamespaceUserProfile)
		if c.roomsJoined() > 0 {
			c.groupsChanged() // the rooms joined before the app first opened
		}
	}
	c.resume()
}

// Handle implements actor.Actor. Clients serve nothing but the push service's wake-ups
// (push.go), which reach a phone whether its app is in the foreground or not: every other
// request gets 404.
func (c *Client) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	if req.Method == pushrpc.MethodWake {
		c.handleWake(req, r)
		return
	}
	const text = "not a service node"
	r.Respond(actor.Response{Status: http.StatusNotFound, Body: []byte(text), Size: transport.HTTPSResponseSize(http.StatusNotFound, transport.Text, len(text))})
}

// GoOffline closes the app: polling stops, requests in flight are abandoned and their answers
// ignored. Messages not yet stored stay in the outbox and are sent again when the client comes
// back online (as the apps' pending-message cache does); their attempts so far still count.
// Guards, pool, swarm cache, last hashes and seen hashes are kept, as the apps keep them on disk;
// paths live in memory only and are rebuilt on the saved guards.
//
// For the phones an online period is the app in the foreground and GoOffline is the app going
// to the background (or being closed): session-android polls only in the foreground
// (pollers/BasePoller.kt; see profile.go) and in the background waits for push notifications:
// a backgrounded phone sends nothing, as an offline one, until a push notification wakes it for
// one poll (push.go; only when the scenario runs a push server).
// A scenario's online/offline sessions (clients.sessions) are therefore foreground/background
// periods for iOS and Android clients, and app open/closed periods for desktop ones.
func (c *Client) GoOffline() {
	if !c.online {
		return
	}
	c.online = false
	c.epoch++
	c.poll.timer.Stop()
	c.bg, c.wakeAgain = false, false
	if x := c.x; x != nil {
		x.push.timer.Stop()
		x.push.againFor = nil
		x.coverTimer.Stop()
	}
	c.refreshTimer.Stop()
	c.stopConfigSync()
	c.stopCommunities()
	c.rt.paths = nil
	c.rt.initial = false // the paths built on coming back are a fresh start, not repairs
	c.building, c.booting, c.refreshing = sharedWork{}, sharedWork{}, false
	// The network time lives in memory only (desktop NetworkTime.ts, Android SnodeClock.kt): a
	// reopened app learns it again; the device's own clock stays as it is.
	c.clock = clockState{device: c.clock.device}
	c.own.fetching = sharedWork{}
	for _, e := range c.swarmCache() {
		e.fetching = sharedWork{}
	}
	c.poll.current = noNode
	c.poll.fails = 0
	c.stopGroupPolls()
}

// GoOnline reopens the app: it catches up from its swarm at once and sends its outbox.
func (c *Client) GoOnline() {
	if c.bg {
		// Woken in the background for a poll: the app comes to the foreground afresh.
		c.GoOffline()
	}
	if c.online || c.env == nil {
		return
	}
	c.online = true
	c.resume()
}

func (c *Client) resume() {
	if c.cfg.NetTime.Resync {
		c.resyncClock(nil) // Android's SnodeClock syncs as the app starts (clock.go)
	}
	c.started = c.env.Now().UnixNano()
	c.ownFetched = 0
	c.pollRound()
	c.startGroupPolls()
	for _, o := range c.outbox() {
		c.attemptStore(o)
	}
	c.resumeAttachments()
	c.scheduleRefresh()
	c.scheduleCover()
	c.queueConfigPush()
	c.maybeRegisterPush()
	c.startCommunities()
}

func (c *Client) alive(ep uint32) bool { return c.online && c.epoch == ep }

// sharedWork is work that several callers wait for at once (building paths, fetching a pool
// or a swarm): the first caller starts it, later ones wait for the same outcome.
// It is one pointer, nil while no work runs, because a client holds several and is idle most of
// the time.
type sharedWork struct {
	waiters *[]func(Failure)
}

// running reports whether the work is under way.
func (w *sharedWork) running() bool { return w.waiters != nil }

// join queues done for the outcome and reports whether the caller is to start the work (it was
// not running).
func (w *sharedWork) join(done func(Failure)) bool {
	if w.waiters != nil {
		*w.waiters = append(*w.waiters, done)
		return false
	}
	w.waiters = &[]func(Failure){done}
	return true
}

// finish ends the work with f: it runs the waiters and forgets them. The work is marked done
// and its list cleared before the first call, so a waiter that starts the same work again
// queues for a new run instead of being run, or dropped, by this one.
func (w *sharedWork) finish(f Failure) {
	waiters := w.waiters
	*w = sharedWork{}
	if waiters == nil {
		return
	}
	for _, done := range *waiters {
		done(f)
	}
}

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

func bodyBytes(b any) []byte {
	switch v := b.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}
