package node

import (
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Swarm changes move data: a member pushes its swarm's messages to a newcomer, every node
// pushes what a new swarm now owns to that swarm's members, and the members of a dissolved
// swarm push everything to the new owners. Version 2.8 pushes at once and forgets; 2.11 first
// sends a ready handshake, repeated until the receiver's own list puts it in the swarm the
// push is for, then pushes, and starts over after a failed push.

// DataBatch is the body of MethodData: messages pushed on a swarm change. The messages are
// shared with the sender's store and must not be modified.
type DataBatch struct {
	Messages []store.Message
}

// DataReady is the body of MethodDataReady: the swarm the sender believes the receiver is in.
type DataReady struct {
	Swarm swarm.ID
}

// transferKey names a push in progress: the receiver and the part of the space it is for.
type transferKey struct {
	to  [32]byte
	rng store.SpaceRange
}

// transfer is a push to one node.
type transfer struct {
	key     transferKey
	to      Peer
	swarm   swarm.ID // the swarm the receiver is pushed for
	reason  MoveReason
	started time.Time
	tries   int
}

// pushedSize is a message's length in the push encoding.
func pushedSize(m *store.Message) int {
	return storagerpc.PushedMessageSize(len(m.Hash), storagerpc.Namespace(m.Namespace), m.Timestamp, m.Expiry, m.Len())
}

// dataReadyLen is the length of a DataReady body on the wire: the swarm ID, 8 bytes.
const dataReadyLen = 8

// onSwarmEvents starts the pushes a list change calls for.
func (n *Node) onSwarmEvents(ev swarmEvents) {
	v := n.view
	switch {
	case ev.dissolved:
		// Everything goes to its new owners, the node's new swarm included; one pass finds
		// which swarms own anything here.
		owners := map[swarm.ID]bool{}
		_ = n.st.EachInRange(store.FullSpace, func(m store.Message) bool {
			if id, ok := v.ownerSwarm(m.Owner.SwarmSpace()); ok {
				owners[id] = true
			}
			return true
		})
		for _, id := range v.ring.IDs() {
			if owners[id] {
				rng, _ := v.spaceRange(id)
				for _, p := range v.membersOf(id) {
					n.startTransfer(p, id, rng, MoveDissolved)
				}
			}
		}
	case ev.moved, ev.joined:
		// A node that moved keeps its data until it expires; one that joined receives.
	default:
		if len(ev.newMembers) > 0 {
			rng := store.FullSpace
			if n.strategy == StrategyV211 {
				rng, _ = v.spaceRange(ev.ours)
			}
			if n.hasMessagesIn(rng) {
				for _, p := range ev.newMembers {
					n.startTransfer(p, ev.ours, rng, MoveNewMember)
				}
			}
		}
		for _, id := range ev.newSwarms {
			rng, _ := v.spaceRange(id)
			n.pushToSwarm(id, rng, MoveNewSwarm)
		}
	}
}

// pushToSwarm pushes the messages in rng to every member of swarm id.
func (n *Node) pushToSwarm(id swarm.ID, rng store.SpaceRange, reason MoveReason) {
	if !n.hasMessagesIn(rng) {
		return
	}
	for _, p := range n.view.membersOf(id) {
		n.startTransfer(p, id, rng, reason)
	}
}

func (n *Node) hasMessagesIn(rng store.SpaceRange) bool {
	found := false
	_ = n.st.EachInRange(rng, func(store.Message) bool { found = true; return false })
	return found
}

func (n *Node) startTransfer(to Peer, id swarm.ID, rng store.SpaceRange, reason MoveReason) {
	if to.Ed25519 == n.Ed25519() {
		return
	}
	k := transferKey{to: to.Ed25519, rng: rng}
	if _, busy := n.transfers[k]; busy {
		return
	}
	t := &transfer{key: k, to: to, swarm: id, reason: reason, started: n.env.Now()}
	if n.strategy == StrategyV28 {
		n.push(t)
		return
	}
	if n.transfers == nil {
		n.transfers = map[transferKey]*transfer{} // made at the first push: most nodes never push
	}
	n.transfers[k] = t
	n.handshake(t)
}

// stillWanted reports whether a transfer still makes sense: the receiver is still in the swarm
// it is pushed for, and it has not been tried for too long.
func (n *Node) stillWanted(t *transfer) bool {
	if n.stopped || n.view.swarmOf(t.to.Ed25519) != t.swarm {
		return false
	}
	return n.env.Now().Sub(t.started) < n.cfg.RetryMaxAge
}

func (n *Node) handshake(t *transfer) {
	if !n.stillWanted(t) {
		delete(n.transfers, t.key)
		return
	}
	t.tries++
	req := actor.Request{Method: MethodDataReady, Body: &DataReady{Swarm: t.swarm}, Size: transport.MQRequestSize(MethodDataReady, dataReadyLen)}
	n.env.Call(t.to.Addr, req, n.cfg.HandshakeTimeout, func(resp actor.Response, err error) {
		if err == nil && resp.Status == http.StatusOK {
			n.push(t)
			return
		}
		n.env.After(n.cfg.HandshakeInterval, func() { n.handshake(t) })
	})
}

// push sends the messages of the transfer's range in batches. In v2.11 a failed batch starts
// the transfer over with a handshake after HandshakeInterval; the receiver keeps what it got.
func (n *Node) push(t *transfer) {
	type batch struct {
		msgs []store.Message
		size int // the sum of the messages' pushed sizes
	}
	var (
		batches []batch
		cur     batch
	)
	_ = n.st.EachInRange(t.key.rng, func(m store.Message) bool {
		s := pushedSize(&m)
		if len(cur.msgs) > 0 && cur.size+s > n.cfg.PushBatchBytes {
			batches = append(batches, cur)
			cur = batch{}
		}
		cur.msgs = append(cur.msgs, m)
		cur.size += s
		return true
	})
	if len(cur.msgs) > 0 {
		batches = append(batches, cur)
	}
	if len(batches) == 0 {
		delete(n.transfers, t.key)
		return
	}
	pending, failed := len(batches), false
	for _, b := range batches {
		req := actor.Request{Method: MethodData, Body: &DataBatch{Messages: b.msgs}, Size: transport.MQRequestSize(MethodData, storagerpc.PushSize(b.size))}
		count := len(b.msgs)
		n.env.Call(t.to.Addr, req, n.cfg.PushTimeout, func(resp actor.Response, err error) {
			ok := err == nil && resp.Status == http.StatusOK
			n.env.Observe(SwarmDataMoved{To: t.to.Ed25519, Reason: t.reason, Messages: count, Bytes: req.Size, OK: ok})
			failed = failed || !ok
			if pending--; pending > 0 {
				return
			}
			if n.strategy == StrategyV28 {
				return
			}
			if failed {
				n.env.After(n.cfg.HandshakeInterval, func() { n.handshake(t) })
				return
			}
			delete(n.transfers, t.key)
		})
	}
}

// handleDataReady answers a ready handshake: OK when this node's list puts it in the swarm the
// sender pushes for (so it will recognise the data as its own), 503 otherwise.
func (n *Node) handleDataReady(from actor.Addr, req actor.Request, r actor.Responder) {
	dr, ok := peerBody[DataReady](n, from, req, r, "invalid data_ready request")
	if !ok {
		return
	}
	if !n.ready() || n.Swarm() != dr.Swarm {
		respondText(r, overMQ, http.StatusServiceUnavailable, "not ready")
		return
	}
	respondText(r, overMQ, http.StatusOK, "OK")
}

// handleData stores a pushed batch. Like the storage server, it takes whatever a service node
// pushes: the sender decided the data is ours.
func (n *Node) handleData(from actor.Addr, req actor.Request, r actor.Responder) {
	b, ok := peerBody[DataBatch](n, from, req, r, "invalid data batch")
	if !ok {
		return
	}
	res, err := n.st.StoreBatch(b.Messages)
	if err != nil {
		respondText(r, overMQ, http.StatusInternalServerError, "failed to save batch")
		return
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		n.env.Observe(MessageStored{
			Hash: m.Hash, Owner: m.Owner, Namespace: m.Namespace, Size: m.Len(), Expiry: m.Expiry,
			New: res[i] == store.New, Source: FromSwarmPush,
		})
	}
	respondText(r, overMQ, http.StatusOK, "")
}

// fromNode reports whether from is the storage address of a funded node in the node's list:
// the "sn." commands are refused to anyone else, as OxenMQ refuses them.
func (n *Node) fromNode(from actor.Addr) bool {
	_, ok := n.view.fromAddr(from)
	return ok
}

// peerBody is the body of a request only service nodes send, a non-nil *T. It answers 400 with
// invalid when the body is not one, 403 when the sender is not in the node's list, and reports
// whether the request is to be served.
func peerBody[T any](n *Node, from actor.Addr, req actor.Request, r actor.Responder, invalid string) (*T, bool) {
	b, ok := req.Body.(*T)
	if !ok || b == nil {
		respondText(r, overMQ, http.StatusBadRequest, invalid)
		return nil, false
	}
	if !n.fromNode(from) {
		respondText(r, overMQ, http.StatusForbidden, "sender is not an active service node")
		return nil, false
	}
	return b, true
}
