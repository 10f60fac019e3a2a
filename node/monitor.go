package node

import (
	"net/http"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Push-notification monitoring, as session-storage-server does it (oxenss/server/mqbase.cpp,
// omq_monitor.cpp, snode/service_node.cpp):
//   - monitor.messages (from the push server, over OxenMQ) subscribes, per connection, to an
//     account's new messages in some namespaces; every subscription's signature is checked.
//     A renewal on the same connection merges the namespaces and restarts the subscription's
//     lifetime (storagerpc.MonitorLifetime, 65 min), after which it lapses unless renewed.
//   - Every message newly written by a store (a client's, or a swarm member's forward of it:
//     process_store, when the database reports it new) is announced with notify.message to
//     each live subscription of its account that covers its namespace. A repeated store of a
//     known hash announces nothing; messages moved by a swarm change (save_bulk) neither. So
//     each member of the swarm announces a message once, and the push server, subscribed to
//     every member, drops the copies by hash.
//
// The node's "connection" to a subscriber is the subscriber's address: notices go back to the
// address the subscription came from.

// Methods of the exchange.
const (
	// MethodMonitor is the push server's subscription request.
	MethodMonitor = storagerpc.CommandMonitor
	// MethodNotify is the notice a node sends to a subscriber.
	MethodNotify = storagerpc.CommandNotify
)

// notifyTimeout bounds a notice. OxenMQ's send expects no reply; the simulator's call still
// ends, with the subscriber's empty acknowledgement or this timeout, which changes nothing.
const notifyTimeout = 15 * time.Second

// monitorSub is one subscriber's subscription to one account.
type monitorSub struct {
	to         actor.Addr
	namespaces []storagerpc.Namespace // ascending
	data       bool
	expiry     time.Time
}

// handleMonitor serves MethodMonitor.
func (n *Node) handleMonitor(from actor.Addr, req actor.Request, r actor.Responder) {
	body, _ := bodyBytes(req)
	entries, list, err := storagerpc.ParseMonitorRequest(body)
	if err != nil {
		reply := storagerpc.AppendMonitorResult(nil, &storagerpc.MonitorError{Code: storagerpc.MonitorBadArgs, Text: "Invalid arguments: " + err.Error()})
		n.respondMonitor(r, reply)
		n.env.Observe(MonitorServed{From: from.Addr(), Refused: 1})
		return
	}
	results := make([]*storagerpc.MonitorError, len(entries))
	ev := MonitorServed{From: from.Addr()}
	check := storagerpc.CheckEnv{Now: n.env.Now(), Suite: n.cfg.Suite, ConvertKey: n.convertKey}
	for i := range entries {
		e := &entries[i]
		if e.Err == nil {
			cost, merr := e.Monitor.Check(check)
			n.env.Work(cost)
			e.Err = merr
		}
		results[i] = e.Err
		if e.Err != nil {
			ev.Refused++
			continue
		}
		ev.Accepted++
		n.addMonitor(from, &e.Monitor)
	}
	n.respondMonitor(r, storagerpc.AppendMonitorReply(nil, list, results))
	n.env.Observe(ev)
}

// respondMonitor answers a monitor request: one OxenMQ reply part, the bencoded results.
func (n *Node) respondMonitor(r actor.Responder, reply []byte) {
	r.Respond(actor.Response{Status: http.StatusOK, Body: reply, Size: transport.MQReplySize(len(reply))})
}

// addMonitor subscribes from to m's account, or renews its subscription (namespaces merged).
func (n *Node) addMonitor(from actor.Addr, m *storagerpc.Monitor) {
	if n.monitors == nil {
		n.monitors = map[store.Owner][]*monitorSub{}
	}
	owner := ownerOf(m.Account)
	expiry := n.env.Now().Add(storagerpc.MonitorLifetime)
	for _, s := range n.monitors[owner] {
		if s.to == from {
			s.namespaces = mergeNamespaces(s.namespaces, m.Namespaces)
			s.data = s.data || m.Data
			s.expiry = expiry
			return
		}
	}
	n.monitors[owner] = append(n.monitors[owner], &monitorSub{to: from, namespaces: slices.Clone(m.Namespaces), data: m.Data, expiry: expiry})
}

// mergeNamespaces is the ascending union of two ascending lists.
func mergeNamespaces(a, b []storagerpc.Namespace) []storagerpc.Namespace {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Monitored is the number of live subscriptions the node holds (for tests and measurements).
func (n *Node) Monitored() int {
	now, c := n.env.Now(), 0
	for _, subs := range n.monitors {
		for _, s := range subs {
			if !s.expiry.Before(now) {
				c++
			}
		}
	}
	return c
}

// pruneMonitors forgets lapsed subscriptions (the real server keeps them until the connection
// closes but never notifies them; forgetting them changes nothing observable).
func (n *Node) pruneMonitors() {
	now := n.env.Now()
	for owner, subs := range n.monitors {
		live := slices.DeleteFunc(subs, func(s *monitorSub) bool { return s.expiry.Before(now) })
		if len(live) == 0 {
			delete(n.monitors, owner)
		} else {
			n.monitors[owner] = live
		}
	}
}

// sendNotifies announces a newly stored message to its account's live subscriptions that cover
// its namespace, in the order they subscribed. The notice without data is built once and
// shared, as is the one with data.
func (n *Node) sendNotifies(msg *store.Message) {
	subs := n.monitors[msg.Owner]
	if len(subs) == 0 {
		return
	}
	now := n.env.Now()
	var plain, withData []byte
	for _, s := range subs {
		if s.expiry.Before(now) {
			continue
		}
		if _, ok := slices.BinarySearch(s.namespaces, storagerpc.Namespace(msg.Namespace)); !ok {
			continue
		}
		var body []byte
		if s.data {
			if withData == nil {
				withData = storagerpc.AppendNotification(nil, notificationOf(msg, true))
			}
			body = withData
		} else {
			if plain == nil {
				plain = storagerpc.AppendNotification(nil, notificationOf(msg, false))
			}
			body = plain
		}
		req := actor.Request{Method: MethodNotify, Body: body, Size: transport.MQCommandSize(MethodNotify, len(body))}
		n.env.Observe(NotifySent{Hash: msg.Hash, Owner: msg.Owner, To: s.to.Addr(), Size: req.Size})
		n.env.Call(s.to, req, notifyTimeout, func(actor.Response, error) {})
	}
}

func notificationOf(msg *store.Message, data bool) *storagerpc.Notification {
	nt := &storagerpc.Notification{
		Account:   storagerpc.Pubkey{Prefix: msg.Owner[0]},
		Hash:      msg.Hash,
		Namespace: storagerpc.Namespace(msg.Namespace),
		Timestamp: msg.Timestamp,
		Expiry:    msg.Expiry,
	}
	copy(nt.Account.Key[:], msg.Owner[1:])
	if data {
		nt.Data, nt.HasData = msg.Data, true
		if nt.Data == nil && msg.DataLen > 0 {
			// A metadata-only store kept the length: send bytes of that length so sizes hold.
			nt.Data = make([]byte, msg.DataLen)
		}
	}
	return nt
}
