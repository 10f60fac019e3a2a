// Package pushserver is the push-notification server (session-push-notification-server,
// "SPNS": its HiveMind and its APNs and Firebase notifiers) as an actor.
//
// Phones subscribe their account through an onion request to the server (/subscribe, served by
// lsrpc.Server), handing it the monitor signature, their push service and device token, and a
// key for the payloads. The server fetches the service-node list from its oxend (the registry)
// like a node does, computes each subscribed account's swarm, and subscribes to every member of
// it with monitor.messages (spns/hive/snode.cpp: one connection per node, each account sent to
// each member of its swarm), renewing each 45 to 55 minutes later (RESUBSCRIBE_MIN/MAX), before
// the storage server's 65-minute lifetime runs out. As HiveMind does, the subscriptions due at a
// node go in one request: a check every SubsInterval sends the renewals due, and new
// subscriptions (a new device, a member that joined the swarm) go out at the next fast check,
// 100 ms later (subs_slow and subs_fast in hivemind.cpp).
// Each member announces each new message (notify.message); the server drops the copies by hash
// per device (hivemind.cpp on_message_notification: a filter of blake2b(service, token, hash)
// kept for two rotations of FilterLifetime) and hands one notification per device to the push
// service, which delivers it to the phone after NotifyDelay. That last leg is outside the
// Session network: it is a call straight to the phone's address with method pushrpc.MethodWake and the
// notification (pushrpc.Wake, sized as the JSON pushrpc.Notification) as body, the device found through Config.Devices,
// standing in for Apple's and Google's own knowledge of the device token.
//
// What the server learns is observed as lsrpc.Learned ("subscribed" at each subscription,
// "message" at each notification it forwards): which accounts, on which device, get messages
// when.
package pushserver

import (
	"bytes"
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// Role is the server's role in events.
const Role = "push"

// Delay is the push service's delivery delay: log-normal with this median and sigma, clipped
// to [Min, Max]. Neither Apple nor Google publish it; the scenario chooses.
type Delay struct {
	Median time.Duration
	Sigma  float64
	Min    time.Duration
	Max    time.Duration
}

// draw takes one delay from r.
func (d Delay) draw(r interface{ NormFloat64() float64 }) time.Duration {
	v := float64(d.Median) * math.Exp(d.Sigma*r.NormFloat64())
	return time.Duration(math.Min(math.Max(v, float64(d.Min)), float64(d.Max)))
}

// Config is the server's configuration; zero fields take the defaults of DefaultConfig.
type Config struct {
	// Suite verifies signatures and opens onion layers, real or modeled.
	Suite cryptomode.Suite
	// Registry is the server's oxend, asked for the service-node list every ListPoll.
	Registry actor.Addr
	// ListPoll is how often the list is fetched (HiveMind asks oxend at every block). Default 30 s.
	ListPoll time.Duration
	// NotifyDelay is the push service's delivery delay (see Delay). Default median 500 ms,
	// sigma 0.8, 100 ms to 30 s: an assumption, no source publishes it.
	NotifyDelay Delay
	// Devices finds the phone a push service token belongs to: Apple's and Google's part,
	// which the simulated world plays. Nil finds none (every wake fails).
	Devices func(service, token string) (actor.Addr, bool)
	// RenewMin and RenewMax bound the uniform delay before a node subscription is renewed
	// (spns/hive/snode.hpp RESUBSCRIBE_MIN, RESUBSCRIBE_MAX). Defaults 45 and 55 min.
	RenewMin, RenewMax time.Duration
	// SubsInterval is how often due renewals are sent (hivemind.cpp subs_slow; the configured
	// interval is not in the public source: the default of 10 s is an assumption).
	SubsInterval time.Duration
	// MonitorTimeout bounds a monitor.messages request (OxenMQ's default request timeout, 15 s).
	MonitorTimeout time.Duration
	// WakeTimeout bounds the push service's delivery attempt to the phone. Default 30 s.
	WakeTimeout time.Duration
	// FilterLifetime is how long each generation of the duplicate filter lives (hivemind.cpp
	// filter_lifetime; the default of 10 min is an assumption: the configured value is not
	// in the public source).
	FilterLifetime time.Duration
	// KeyMemo remembers account key conversions; nil gives the server a memo of its own.
	KeyMemo *identity.X25519Memo
}

// DefaultConfig is the real server's timings with the documented assumptions.
func DefaultConfig() Config {
	return Config{
		Suite:          cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts),
		ListPoll:       30 * time.Second,
		NotifyDelay:    Delay{Median: 500 * time.Millisecond, Sigma: 0.8, Min: 100 * time.Millisecond, Max: 30 * time.Second},
		RenewMin:       45 * time.Minute,
		RenewMax:       55 * time.Minute,
		SubsInterval:   10 * time.Second,
		MonitorTimeout: 15 * time.Second,
		WakeTimeout:    30 * time.Second,
		FilterLifetime: 10 * time.Minute,
	}
}

func (c Config) fill() Config {
	d := DefaultConfig()
	if c.Suite == nil {
		c.Suite = d.Suite
	}
	c.ListPoll = cmp.Or(c.ListPoll, d.ListPoll)
	if c.NotifyDelay == (Delay{}) {
		c.NotifyDelay = d.NotifyDelay
	}
	c.RenewMin = cmp.Or(c.RenewMin, d.RenewMin)
	c.RenewMax = max(cmp.Or(c.RenewMax, d.RenewMax), c.RenewMin)
	c.MonitorTimeout = cmp.Or(c.MonitorTimeout, d.MonitorTimeout)
	c.SubsInterval = cmp.Or(c.SubsInterval, d.SubsInterval)
	c.WakeTimeout = cmp.Or(c.WakeTimeout, d.WakeTimeout)
	c.FilterLifetime = cmp.Or(c.FilterLifetime, d.FilterLifetime)
	if c.KeyMemo == nil {
		c.KeyMemo = identity.NewX25519Memo()
	}
	return c
}

// device is one subscribed device of an account.
type device struct {
	service, token string
	encKey         [32]byte
	sub            pushrpc.Subscribe
}

// member is one swarm member the server subscribes an account to.
type member struct {
	peer registry.Peer
	next time.Time // when the subscription is sent again; zero: at the next fast check
}

// fastCheck is how soon new subscriptions go out (hivemind.cpp subs_fast).
const fastCheck = 100 * time.Millisecond

// account is a monitored account.
type account struct {
	key     [33]byte
	pk      storagerpc.Pubkey
	devices []*device
	swarm   swarm.ID
	members []*member // in key order
}

// Server is the push server actor.
type Server struct {
	cfg  Config
	srv  lsrpc.Server
	env  actor.Env
	list *registry.List
	ring swarm.Ring // list's, made once per list: every account placed reads it

	accounts map[[33]byte]*account
	// order holds the accounts' keys, sorted: the order checks walk them in. A new account's
	// key waits in added until a walk needs it (inserting each into the sorted list at once
	// cost time quadratic in the accounts).
	order, added [][33]byte
	// fresh are the accounts with members whose subscriptions go at the next fast check, which
	// walks only them: walking every account at each fast check cost, over the many new
	// subscriptions of a large world's start, time quadratic in the accounts.
	fresh   [][33]byte
	fastDue bool // a fast check is scheduled
	// filter and older are the duplicate filter's current and previous generations.
	filter, older map[filterKey]struct{}
	rotateAt      time.Time
	stats         Stats
}

// filterKey is one (device, message) pair the filter has seen.
type filterKey struct {
	service, token, hash string
}

// Stats are the server's counters.
type Stats struct {
	Subscriptions   int // accepted /subscribe requests (new and renewed)
	MonitorRequests int // monitor.messages requests sent to nodes
	Notices         int // notify.message received from nodes
	Notifications   int // notifications handed to a push service (after deduplication)
	Wakeups         int // notifications delivered to a phone
}

// New makes a push server with X25519 keys keys (its onion key).
func New(cfg Config, keys cryptomode.X25519KeyPair) *Server {
	cfg = cfg.fill()
	return &Server{
		cfg:      cfg,
		srv:      lsrpc.Server{Role: Role, Suite: cfg.Suite, Keys: keys},
		accounts: map[[33]byte]*account{},
		filter:   map[filterKey]struct{}{},
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats { return s.stats }

// Start implements actor.Actor: the list is fetched now and every ListPoll.
func (s *Server) Start(env actor.Env) {
	s.env = env
	s.rotateAt = env.Now().Add(s.cfg.FilterLifetime)
	var slow func()
	slow = func() {
		s.check(false)
		env.After(s.cfg.SubsInterval, slow)
	}
	env.After(s.cfg.SubsInterval, slow)
	if !s.cfg.Registry.IsValid() {
		return
	}
	var poll func()
	poll = func() {
		s.fetchList()
		env.After(s.cfg.ListPoll, poll)
	}
	poll()
}

// SetList applies a service-node list directly (tests; a running server fetches its own).
func (s *Server) SetList(l *registry.List) { s.applyList(l) }

// Handle implements actor.Actor: v4 onion requests proxied by a path's last hop, and nodes'
// notices.
func (s *Server) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	switch {
	case req.Method == storagerpc.CommandNotify:
		// An OxenMQ command expects no reply: nothing goes back on the wire.
		r.Respond(actor.Response{Status: http.StatusOK})
		body, _ := req.Body.([]byte)
		s.onNotice(body)
	case strings.HasSuffix(req.Method, "/lsrpc"):
		s.srv.Serve(s.env, from, req, r, s.serveV4)
	default:
		text := "Not Found"
		r.Respond(actor.Response{Status: http.StatusNotFound, Body: []byte(text), Size: transport.HTTPSResponseSize(http.StatusNotFound, transport.Text, len(text))})
	}
}

func (s *Server) serveV4(_ actor.Addr, req onion.V4Request, answer func(onion.V4Response)) {
	switch {
	case req.Method == http.MethodPost && req.Endpoint == pushrpc.EndpointSubscribe:
		answer(lsrpc.JSON(http.StatusOK, pushrpc.AppendResult(nil, s.subscribe(req.Body), false)))
	case req.Method == http.MethodPost && req.Endpoint == pushrpc.EndpointUnsubscribe:
		answer(lsrpc.JSON(http.StatusOK, pushrpc.AppendResult(nil, s.unsubscribe(req.Body), true)))
	default:
		answer(lsrpc.Error(http.StatusNotFound, "Not Found"))
	}
}

// checkSubscriber verifies what /subscribe and /unsubscribe share: a 05 account's
// session_ed25519 must convert to the account's key (spns/swarmpubkey.cpp), and the signature
// time must be within bounds.
func (s *Server) checkSubscriber(sub *pushrpc.Subscribe, maxAge, maxAhead time.Duration) *pushrpc.Result {
	ts, now := time.Unix(sub.SigTS, 0), s.env.Now()
	if ts.Before(now.Add(-maxAge)) || ts.After(now.Add(maxAhead)) {
		return &pushrpc.Result{Code: pushrpc.Error, Message: "Invalid signature: sig_ts is too far from current time"}
	}
	if sub.Account.Prefix == storagerpc.PrefixSessionID && sub.Subaccount == nil {
		s.env.Work(s.cfg.Suite.Costs().X25519)
		x, err := s.cfg.KeyMemo.Convert(sub.Ed25519)
		if err != nil || x != sub.Account.Key {
			return &pushrpc.Result{Code: pushrpc.BadInput, Message: "session_ed25519 does not match the pubkey"}
		}
	}
	return nil
}

// readSubscriber is how subscribe and unsubscribe begin: the body read with parse, then its
// signature time and key checked (checkSubscriber). A refusal is counted as a bad request and
// is the answer to send.
func (s *Server) readSubscriber(body []byte, parse func([]byte) (pushrpc.Subscribe, error), maxAge, maxAhead time.Duration) (pushrpc.Subscribe, *pushrpc.Result) {
	sub, err := parse(body)
	var bad *pushrpc.Result
	if err != nil {
		bad = &pushrpc.Result{Code: pushrpc.BadInput, Message: err.Error()}
	} else {
		bad = s.checkSubscriber(&sub, maxAge, maxAhead)
	}
	if bad != nil {
		s.fail(CauseBadRequest)
	}
	return sub, bad
}

// subscribe adds or renews a device's subscription.
func (s *Server) subscribe(body []byte) pushrpc.Result {
	sub, bad := s.readSubscriber(body, pushrpc.ParseSubscribe, pushrpc.SubscribeMaxAge, pushrpc.SubscribeMaxAhead)
	if bad != nil {
		return *bad
	}
	if sub.Service != pushrpc.ServiceAPNs && sub.Service != pushrpc.ServiceFirebase {
		s.fail(CauseBadRequest)
		return pushrpc.Result{Code: pushrpc.ServiceNotAvailable, Message: sub.Service + " notification service not currently available"}
	}
	// A group member's subscription carries its subaccount token: the token must be the
	// group's and the signature the member's (spns/hive/subscription.cpp verifies as the
	// storage server does).
	m := sub.Monitor()
	cost, refused := m.Verify(s.cfg.Suite)
	s.env.Work(cost)
	if refused != nil {
		s.fail(CauseBadSignature)
		return pushrpc.Result{Code: pushrpc.Error, Message: "Subscription: signature validation failed"}
	}
	key := rawKey(sub.Account)
	a := s.accounts[key]
	if a == nil {
		a = &account{key: key, pk: sub.Account, swarm: swarm.Unassigned}
		s.accounts[key] = a
		s.added = append(s.added, key)
	}
	s.stats.Subscriptions++
	s.env.Observe(lsrpc.Learned{Role: Role, Account: sub.Account.ID(), Device: sub.Token, What: "subscribed"})
	for _, d := range a.devices {
		if d.service == sub.Service && d.token == sub.Token {
			changed := !slices.Equal(d.sub.Namespaces, sub.Namespaces) || d.sub.Data != sub.Data
			d.sub, d.encKey = sub, sub.EncKey
			s.env.Observe(Subscribed{Account: sub.Account.ID(), Added: false})
			if changed {
				s.monitorAll(a)
			}
			return pushrpc.Result{Updated: true, Message: "Resubscription successful"}
		}
	}
	a.devices = append(a.devices, &device{service: sub.Service, token: sub.Token, encKey: sub.EncKey, sub: sub})
	s.env.Observe(Subscribed{Account: sub.Account.ID(), Added: true})
	// A new subscription goes to every member at once (add_account with force_now).
	if s.list != nil && a.swarm == swarm.Unassigned {
		s.place(a)
	} else {
		s.monitorAll(a)
	}
	return pushrpc.Result{Added: true, Message: "Subscription successful"}
}

// unsubscribe removes a device's subscription. As the real server, the node subscriptions stay
// until they lapse; only the device stops being notified.
func (s *Server) unsubscribe(body []byte) pushrpc.Result {
	sub, bad := s.readSubscriber(body, pushrpc.ParseUnsubscribe, pushrpc.UnsubscribeGrace, pushrpc.UnsubscribeGrace)
	if bad != nil {
		return *bad
	}
	ok, cost := s.verifyUnsubscribe(&sub)
	s.env.Work(cost)
	if !ok {
		s.fail(CauseBadSignature)
		return pushrpc.Result{Code: pushrpc.Error, Message: "Invalid signature"}
	}
	removed := false
	if a := s.accounts[rawKey(sub.Account)]; a != nil {
		a.devices = slices.DeleteFunc(a.devices, func(d *device) bool {
			gone := d.service == sub.Service && d.token == sub.Token
			removed = removed || gone
			return gone
		})
	}
	msg := "Device was not subscribed to push notifications"
	if removed {
		msg = "Device unsubscribed from push notifications"
	}
	return pushrpc.Result{Removed: removed, Message: msg}
}

// verifyUnsubscribe checks an /unsubscribe's signature: by session_ed25519 for a 05 account,
// by the subaccount's key under a token the group signed for a group member, else by the
// account's own key.
func (s *Server) verifyUnsubscribe(sub *pushrpc.Subscribe) (bool, time.Duration) {
	msg := pushrpc.UnsubscribeSigMessage(sub.Account, sub.SigTS)
	sa := sub.Subaccount
	switch {
	case sa != nil:
		ok, cost := s.cfg.Suite.Verify(sub.Account.Key[:], sa.Token[:], sa.Signature[:])
		if !ok {
			return false, cost
		}
		ok2, c2 := s.cfg.Suite.Verify(sa.Token[4:], msg, sub.Signature[:])
		return ok2, cost + c2
	case sub.Account.Prefix == storagerpc.PrefixSessionID:
		return s.cfg.Suite.Verify(sub.Ed25519[:], msg, sub.Signature[:])
	}
	return s.cfg.Suite.Verify(sub.Account.Key[:], msg, sub.Signature[:])
}

func rawKey(p storagerpc.Pubkey) [33]byte {
	var k [33]byte
	k[0] = p.Prefix
	copy(k[1:], p.Key[:])
	return k
}

// fetchList asks the registry for the list.
func (s *Server) fetchList() {
	var known [32]byte
	if s.list != nil {
		known = s.list.BlockHash
	}
	s.env.Call(s.cfg.Registry, registry.NewListRequest(known), 10*time.Second, func(resp actor.Response, err error) {
		if err != nil || resp.Status != http.StatusOK {
			return
		}
		if l, ok := resp.Body.(*registry.List); ok {
			s.applyList(l)
		}
	})
}

// applyList follows a new list: every account's swarm is computed again, members that left
// are forgotten and new ones subscribed at once.
func (s *Server) applyList(l *registry.List) {
	if l == nil || (s.list != nil && (l.Height < s.list.Height || l.BlockHash == s.list.BlockHash)) {
		return
	}
	s.list, s.ring = l, l.Ring()
	for _, k := range s.sortedOrder() {
		s.place(s.accounts[k])
	}
}

// place computes a's swarm in the current list and subscribes it to members it is not yet
// subscribed to; members no longer in the swarm are dropped.
func (s *Server) place(a *account) {
	if s.list == nil {
		return
	}
	id, ok := s.ring.OwnerOf(a.pk.ID())
	if !ok {
		return
	}
	a.swarm = id
	peers := s.list.Members(id)
	var kept []*member
	for _, m := range a.members {
		if slices.ContainsFunc(peers, func(p registry.Peer) bool { return p.Ed25519 == m.peer.Ed25519 }) {
			kept = append(kept, m)
		}
	}
	a.members = kept
	for _, p := range peers {
		i := slices.IndexFunc(a.members, func(m *member) bool { return m.peer.Ed25519 == p.Ed25519 })
		if i >= 0 {
			a.members[i].peer = p // the node may have moved
			continue
		}
		a.members = append(a.members, &member{peer: p})
		s.soon(a)
	}
	slices.SortFunc(a.members, func(x, y *member) int { return bytes.Compare(x.peer.Ed25519[:], y.peer.Ed25519[:]) })
}

// monitorAll sends a's subscriptions to every member at the next fast check (a new or
// changed subscription).
func (s *Server) monitorAll(a *account) {
	for _, m := range a.members {
		m.next = time.Time{}
	}
	s.soon(a)
}

// soon schedules a fast check unless one is due, which sends a's new subscriptions.
func (s *Server) soon(a *account) {
	s.fresh = append(s.fresh, a.key)
	if s.fastDue {
		return
	}
	s.fastDue = true
	s.env.After(fastCheck, func() {
		s.fastDue = false
		s.check(true)
	})
}

// compareKeys orders account keys.
func compareKeys(x, y [33]byte) int { return bytes.Compare(x[:], y[:]) }

// sortedOrder merges the keys of the accounts added since into order and returns it.
func (s *Server) sortedOrder() [][33]byte {
	if len(s.added) == 0 {
		return s.order
	}
	slices.SortFunc(s.added, compareKeys)
	merged := make([][33]byte, 0, len(s.order)+len(s.added))
	i, j := 0, 0
	for i < len(s.order) && j < len(s.added) {
		if compareKeys(s.order[i], s.added[j]) < 0 {
			merged = append(merged, s.order[i])
			i++
		} else {
			merged = append(merged, s.added[j])
			j++
		}
	}
	s.order = append(append(merged, s.order[i:]...), s.added[j:]...)
	s.added = nil
	return s.order
}

// nodeBatch is what one check sends to one node.
type nodeBatch struct {
	peer     registry.Peer
	monitors []storagerpc.Monitor
	accounts int
}

// check sends every subscription due, one request per node: all those due at this check (fast:
// only the new ones). Each one sent is due again 45 to 55 minutes later.
func (s *Server) check(fast bool) {
	now := s.env.Now()
	batches := map[[32]byte]*nodeBatch{}
	var nodes [][32]byte
	r := s.env.Rand()
	span := int64(s.cfg.RenewMax - s.cfg.RenewMin)
	// A fast check sends only subscriptions never sent (next zero), which only the fresh
	// accounts have; walking them in key order, as every account is walked otherwise, draws
	// the same renewal times for the same members.
	walk := s.sortedOrder()
	if fast {
		slices.SortFunc(s.fresh, compareKeys)
		walk = slices.Compact(s.fresh)
	}
	s.fresh = nil
	for _, k := range walk {
		a := s.accounts[k]
		if len(a.devices) == 0 {
			continue // every device unsubscribed: the node subscriptions lapse
		}
		var subs []storagerpc.Monitor
		for _, m := range a.members {
			if fast && !m.next.IsZero() || m.next.After(now) {
				continue
			}
			if subs == nil {
				subs = distinctMonitors(a.devices)
			}
			b := batches[m.peer.Ed25519]
			if b == nil {
				b = &nodeBatch{peer: m.peer}
				batches[m.peer.Ed25519] = b
				nodes = append(nodes, m.peer.Ed25519)
			}
			b.monitors = append(b.monitors, subs...)
			b.accounts++
			wait := s.cfg.RenewMin
			if span > 0 {
				wait += time.Duration(r.Int64N(span + 1))
			}
			m.next = now.Add(wait)
		}
	}
	slices.SortFunc(nodes, func(x, y [32]byte) int { return bytes.Compare(x[:], y[:]) })
	for _, n := range nodes {
		s.sendMonitor(batches[n])
	}
}

// sendMonitor sends one node its batch of subscriptions.
func (s *Server) sendMonitor(b *nodeBatch) {
	body := storagerpc.AppendMonitorList(nil, b.monitors)
	req := actor.Request{Method: storagerpc.CommandMonitor, Body: body, Size: transport.MQRequestSize(storagerpc.CommandMonitor, len(body))}
	s.stats.MonitorRequests++
	s.env.Observe(MonitorSent{Node: b.peer.Ed25519, Accounts: b.accounts, Subscriptions: len(b.monitors), Size: req.Size})
	s.env.Call(b.peer.Addr, req, s.cfg.MonitorTimeout, func(resp actor.Response, err error) {
		switch {
		case err != nil:
			s.fail(CauseMonitorTimeout)
		case resp.Status != http.StatusOK:
			s.fail(CauseMonitorRefused)
		default:
			if body, _ := resp.Body.([]byte); bytes.Contains(body, []byte("errcode")) {
				s.fail(CauseMonitorRefused)
			}
		}
	})
}

// distinctMonitors is one subscription per distinct (namespaces, data) of the devices, the
// newest signature of each (HiveMind keeps one per distinct subscription).
func distinctMonitors(devs []*device) []storagerpc.Monitor {
	var out []storagerpc.Monitor
	for _, d := range devs {
		m := d.sub.Monitor()
		i := slices.IndexFunc(out, func(o storagerpc.Monitor) bool {
			return o.Data == m.Data && slices.Equal(o.Namespaces, m.Namespaces)
		})
		switch {
		case i < 0:
			out = append(out, m)
		case m.Timestamp > out[i].Timestamp:
			out[i] = m
		}
	}
	return out
}

// onNotice handles a node's notify.message.
func (s *Server) onNotice(body []byte) {
	n, err := storagerpc.ParseNotification(body)
	if err != nil {
		s.fail(CauseBadNotice)
		return
	}
	s.stats.Notices++
	a := s.accounts[rawKey(n.Account)]
	if a == nil {
		return
	}
	now := s.env.Now()
	if !now.Before(s.rotateAt) {
		s.older, s.filter = s.filter, map[filterKey]struct{}{}
		s.rotateAt = now.Add(s.cfg.FilterLifetime)
	}
	first := true
	for _, d := range a.devices {
		if !slices.Contains(d.sub.Namespaces, n.Namespace) {
			continue
		}
		k := filterKey{d.service, d.token, n.Hash}
		if _, seen := s.older[k]; seen {
			continue
		}
		if _, seen := s.filter[k]; seen {
			continue
		}
		s.filter[k] = struct{}{}
		if first {
			s.env.Observe(Notified{Account: n.Account.ID(), Hash: n.Hash})
			first = false
		}
		s.env.Observe(lsrpc.Learned{Role: Role, Account: n.Account.ID(), Device: d.token, What: "message"})
		s.stats.Notifications++
		s.push(d, &n)
	}
}

// push hands a notification to the device's push service, which delivers it after the
// service's delay.
func (s *Server) push(d *device, n *storagerpc.Notification) {
	p := pushrpc.PayloadOf(n)
	if !d.sub.Data {
		p.Data, p.HasData, p.DataLen, p.TooBig = nil, false, 0, false
	}
	sealed, err := pushrpc.Seal(&p, d.encKey, actor.RandReader(s.env.Rand()))
	s.env.Work(cryptomode.PerKiB(s.cfg.Suite.Costs().XChaChaPerKiB, len(sealed)))
	if err != nil {
		s.fail(CauseWakeFailed)
		return
	}
	to, ok := s.deviceAddr(d)
	if !ok {
		s.fail(CauseUnknownDevice)
		return
	}
	note := pushrpc.Notification(d.service, sealed)
	req := actor.Request{Method: pushrpc.MethodWake, Body: &pushrpc.Wake{Service: d.service, Sealed: sealed}, Size: transport.HTTPSRequestSize(to, "/"+d.service, transport.JSON, len(note))}
	account := n.Account.ID()
	delay := s.cfg.NotifyDelay.draw(s.env.Rand())
	s.env.After(delay, func() {
		s.env.Call(to, req, s.cfg.WakeTimeout, func(resp actor.Response, err error) {
			if err != nil || resp.Status != http.StatusOK {
				s.fail(CauseWakeFailed)
				return
			}
			s.stats.Wakeups++
			s.env.Observe(Woke{Account: account, Hash: n.Hash})
		})
	})
}

func (s *Server) deviceAddr(d *device) (actor.Addr, bool) {
	if s.cfg.Devices == nil {
		return actor.Addr{}, false
	}
	return s.cfg.Devices(d.service, d.token)
}

func (s *Server) fail(cause string) { s.env.Observe(Failed{Cause: cause}) }
