package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Replication of recursive requests (store, delete, delete_all, delete_before, expire,
// expire_all): the member a client reached forwards the request to every other member of its
// swarm in parallel, each re-validates and applies it, and the client's answer lists every
// member's result. In v2.11 a forward that fails for a reason that may pass (timeout, the peer
// not ready or not yet aware it is in the swarm, a server error) is kept and tried again after
// RetryFirst, then every RetryEvery, until it succeeds, is refused, the peer leaves the swarm,
// the message expires or RetryMaxAge passes.

// Forward is the body of MethodForward.
type Forward struct {
	// Request is the client's request; shared, never modified.
	Request storagerpc.Request
	// Received is when the first member received it from the client (ms since the epoch).
	// A retried forward is validated as of that time, so that a signature that was fresh
	// then is still accepted.
	Received int64
	// Retry marks a repeated forward.
	Retry bool
	// verified is the memo that the member the client reached verified Request's signature
	// (see storagerpc.Verified), for the others to charge that verification without redoing
	// it; nil for a forward decoded from wire bytes. Shared by every member and only read.
	verified *storagerpc.Verified
	// hash is the message hash that member computed for a store, for the others to take (and
	// charge) instead of hashing the data again; "" for other requests and for a forward
	// decoded from wire bytes.
	hash string
}

// requestOwner is the account req acts on, zero when it names none.
func requestOwner(req storagerpc.Request) store.Owner {
	if ow, ok := req.(storagerpc.Owned); ok {
		return ownerOf(ow.Owner())
	}
	return store.Owner{}
}

// peerResult is one member's answer to a forward.
type peerResult struct {
	node    string // the member's Ed25519 key in hex, as the client's answer names it
	status  int    // 0 when no answer came
	body    []byte // a refusal's text
	result  any    // the member's typed result on success
	timeout bool
}

// fanout is one forward to the other members of the node's swarm: the state every member's
// answer updates, in one value.
type fanout struct {
	n            *Node
	fw           *Forward
	method, hash string
	expiry       int64
	results      []peerResult // in member order
	pending      int
	done         func([]peerResult)
}

// forward sends req to every other member of the node's swarm and calls done once all have
// answered (or timed out), with their results in member order.
func (n *Node) forward(fw *Forward, hash string, expiry int64, done func([]peerResult)) {
	members, hexes := n.view.membersHexOf(n.Swarm())
	self := n.Ed25519()
	count := 0
	for i := range members {
		if members[i].Ed25519 != self {
			count++
		}
	}
	if count == 0 {
		done(nil)
		return
	}
	f := &fanout{n: n, fw: fw, method: fw.Request.Method(), hash: hash, expiry: expiry, results: make([]peerResult, count), pending: count, done: done}
	owner, req := requestOwner(fw.Request), forwardRequest(fw)
	k := 0
	for i := range members {
		// The view's members never change, so the answer may refer to the member in place.
		p := &members[i]
		if p.Ed25519 == self {
			continue
		}
		f.results[k].node = hexes[i]
		n.env.Observe(ReplicationSent{Method: f.method, Hash: hash, Owner: owner, Peer: p.Ed25519})
		at := k
		n.env.Call(p.Addr, req, n.cfg.ForwardTimeout, func(resp actor.Response, err error) {
			f.answered(at, p, peerAnswer(resp, err))
		})
		k++
	}
}

// answered records the answer of the member p, the k-th forwarded to.
func (f *fanout) answered(k int, p *Peer, res peerResult) {
	n := f.n
	res.node = f.results[k].node
	f.results[k] = res
	retry := n.strategy == StrategyV211 && retryable(res)
	observePerRequest(n, ReplicationDone{
		Method: f.method, Hash: f.hash, Peer: p.Ed25519, OK: ok2xx(res.status),
		Status: res.status, Timeout: res.timeout, Retry: retry,
	})
	if retry {
		n.retries.add(*p, f.fw, f.hash, f.expiry)
	}
	if f.pending--; f.pending == 0 {
		f.done(f.results)
	}
}

// forwardRequest is the MethodForward request that carries fw.
func forwardRequest(fw *Forward) actor.Request {
	return actor.Request{Method: MethodForward, Body: fw, Size: transport.MQRequestSize(MethodForward, storagerpc.ForwardSize(fw.Request))}
}

// peerAnswer is what a member's answer to a forward (or its failure) says.
func peerAnswer(resp actor.Response, err error) peerResult {
	var res peerResult
	if err != nil {
		res.timeout = errors.Is(err, actor.ErrTimeout)
		return res
	}
	res.status = resp.Status
	if b, ok := resp.Body.([]byte); ok {
		res.body = b
	} else {
		res.result = resp.Body
	}
	return res
}

func (n *Node) sendForward(p Peer, fw *Forward, done func(peerResult)) {
	n.env.Call(p.Addr, forwardRequest(fw), n.cfg.ForwardTimeout, func(resp actor.Response, err error) {
		done(peerAnswer(resp, err))
	})
}

func ok2xx(status int) bool { return status >= 200 && status < 300 }

// retryable: no answer, a server-side failure, or a refusal that time can cure (the peer is
// not ready, or its list does not yet put it in the swarm). Other refusals are final.
func retryable(r peerResult) bool {
	switch {
	case r.status == 0:
		return true
	case ok2xx(r.status):
		return false
	case r.status == http.StatusMisdirectedRequest, r.status >= 500:
		return true
	}
	return false
}

// retryItem is a forward kept for another attempt.
type retryItem struct {
	peer    Peer
	fw      *Forward
	hash    string
	expiry  int64 // ms; 0 when the request does not carry one message
	attempt int
	first   time.Time
}

// retryQueue holds the kept forwards, each waiting on its own timer.
type retryQueue struct {
	n       *Node
	pending int
}

func newRetryQueue(n *Node) *retryQueue { return &retryQueue{n: n} }

func (q *retryQueue) len() int { return q.pending }

func (q *retryQueue) add(p Peer, fw *Forward, hash string, expiry int64) {
	it := &retryItem{peer: p, fw: &Forward{Request: fw.Request, Received: fw.Received, Retry: true, verified: fw.verified, hash: fw.hash}, hash: hash, expiry: expiry, first: q.n.env.Now()}
	q.pending++
	q.n.env.After(q.n.cfg.RetryFirst, func() { q.attempt(it) })
}

func (q *retryQueue) drop(it *retryItem, reason string) {
	q.pending--
	q.n.env.Observe(ReplicationDropped{Method: it.fw.Request.Method(), Hash: it.hash, Peer: it.peer.Ed25519, Attempt: it.attempt, Reason: reason})
}

func (q *retryQueue) attempt(it *retryItem) {
	n := q.n
	switch {
	case n.stopped:
		q.drop(it, "node stopped")
		return
	case n.Swarm() == swarm.Unassigned, n.view.swarmOf(it.peer.Ed25519) != n.Swarm():
		q.drop(it, "peer left the swarm")
		return
	case it.expiry > 0 && it.expiry <= n.nowMS():
		q.drop(it, "message expired")
		return
	case n.env.Now().Sub(it.first) >= n.cfg.RetryMaxAge:
		q.drop(it, "too old")
		return
	}
	// The peer may have moved address with a new list.
	if p, ok := n.view.find(it.peer.Ed25519); ok {
		it.peer = p
	}
	it.attempt++
	method := it.fw.Request.Method()
	n.env.Observe(ReplicationSent{Method: method, Hash: it.hash, Owner: requestOwner(it.fw.Request), Peer: it.peer.Ed25519, Attempt: it.attempt})
	n.sendForward(it.peer, it.fw, func(res peerResult) {
		again := retryable(res)
		observePerRequest(n, ReplicationDone{
			Method: method, Hash: it.hash, Peer: it.peer.Ed25519, Attempt: it.attempt,
			OK: ok2xx(res.status), Status: res.status, Timeout: res.timeout, Retry: again,
		})
		switch {
		case ok2xx(res.status):
			q.pending--
		case again:
			n.env.After(n.cfg.RetryEvery, func() { q.attempt(it) })
		default:
			q.drop(it, "refused")
		}
	})
}

// failureOf is how the node reports a member whose part failed.
func failureOf(r peerResult) *storagerpc.Failure {
	switch {
	case r.status == 0:
		// A connection that fails is, to the OxenMQ request, a timeout too.
		return &storagerpc.Failure{Timeout: true}
	case !ok2xx(r.status):
		return &storagerpc.Failure{Code: strconv.Itoa(r.status), Reason: string(r.body)}
	}
	return &storagerpc.Failure{BadPeerResponse: true}
}

// resultSize is the length of a member's encoded result to a forward.
func resultSize(res any) int {
	switch r := res.(type) {
	case *storagerpc.StoreResult:
		return storagerpc.ForwardedStoreResultSize(r)
	case *storagerpc.HashesResult:
		return storagerpc.ForwardedHashesResultSize(r)
	case *storagerpc.ExpireResult:
		return storagerpc.ForwardedExpireResultSize(r)
	}
	panic(fmt.Sprintf("node: no encoding for a forward result of type %T", res))
}

func hexKey(k [32]byte) string { return hex.EncodeToString(k[:]) }

func timeMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
