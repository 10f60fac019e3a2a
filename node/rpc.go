package node

import (
	"crypto/ed25519"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// The storage RPC: parse, check the account's swarm (421 with the right swarm otherwise), run
// the server's checks (charging signature verification), apply to the store, and for recursive
// methods gather every swarm member's result. The same code serves /storage_rpc/v1, onion
// destinations, batch subrequests and forwards from swarm members.

// rpcCtx says how a request reached the node.
// directSeen is the caller's address and the accounts a direct request named.
type directSeen struct {
	from     netip.Addr
	accounts [][33]byte
}

type rpcCtx struct {
	via Via
	// direct is what the top level of a direct request reveals, for its RequestServed event;
	// nil for subrequests and for requests that did not come directly.
	direct *directSeen
	// fw is the forward a swarm member sent (ViaPeer); nil for client requests, which the
	// node forwards itself when they are recursive.
	fw *Forward
	// sig, for a client's recursive request, receives the memo of its signature's
	// verification, which the node's forward hands on to its members (Forward.verified).
	sig *storagerpc.Verified
	// measured: no one reads the answer's bytes, only its values (a batch and its
	// subrequests, answered in a structural onion reply), so the answers kept as values (and
	// the batch) are measured rather than written; see outcome.
	measured bool
}

// outcome is the node's answer to one request: status and body for clients (JSON, or plain
// text when text is set); for a forward, the node's own typed result (result) on success; for a
// batch, its results as values too (results), which an answer in structural form carries;
// value is body as values (what decoding body gives) for the answers clients read most, which
// a batch's results carry so that a structural answer's reader need not parse them.
//
// When the request's rpcCtx is measured, such an answer's body is not written (nil): a batch
// then has its size instead (size, measured set), a subrequest's answer only its value, which
// the batch's size counts as its body.
type outcome struct {
	status   int
	body     []byte
	text     bool
	result   any
	results  []storagerpc.SubResult
	value    any
	measured bool
	size     storagerpc.BodySize
}

// valueOutcome is a 200 answer kept as values (v), its body written by write unless ctx is
// measured.
func valueOutcome[V any](ctx rpcCtx, status int, v *V, write func(*V) []byte) outcome {
	o := outcome{status: status, value: v}
	if !ctx.measured {
		o.body = write(v)
	}
	return o
}

func textOutcome(status int, text string) outcome {
	return outcome{status: status, body: []byte(text), text: true}
}

func errOutcome(err error) outcome {
	status, text := storagerpc.ErrorBody(err)
	return outcome{status: status, body: text, text: true}
}

// respondOutcome answers a client's direct RPC.
func respondOutcome(r actor.Responder, o outcome) {
	contentType := transport.JSON
	if o.text {
		contentType = transport.Text
	}
	respondBytes(r, overHTTPS, o.status, contentType, o.body)
}

// rpcDone receives the answer to a client RPC with what the request named, for events (empty
// when the node is quiet: Config.Quiet).
type rpcDone func(method string, seen named, o outcome)

// handleStorageRPC serves MethodStorageRPC: readiness, the per-IP rate limit, then the RPC.
func (n *Node) handleStorageRPC(from actor.Addr, req actor.Request, r actor.Responder) {
	if !n.ready() {
		respondText(r, overHTTPS, http.StatusServiceUnavailable, "Service node is not ready: not in any swarm\n")
		return
	}
	if !n.limiter.Allow(from.Addr(), n.env.Now()) {
		n.env.Observe(RateLimited{From: from.Addr()})
		respondText(r, overHTTPS, http.StatusTooManyRequests, "Too Many Requests\n")
		return
	}
	body, ok := bodyBytes(req)
	if !ok {
		respondText(r, overHTTPS, http.StatusBadRequest, "invalid json")
		return
	}
	if len(body) > storagerpc.MaxBodySize {
		respondOutcome(r, errOutcome(storagerpc.ErrBodyTooLarge))
		return
	}
	n.serveJSON(body, nil, false, ViaDirect, from.Addr(), func(_ string, _ named, o outcome) { respondOutcome(r, o) })
}

// serveJSON parses and serves one RPC body; from is the direct caller's address (zero for an
// onion destination, whose caller is the last hop). decoded, when not nil, is the body as
// values (a structural onion's, see onion.Layer.Decoded), served without parsing the body.
// measured says that the caller passes a batch's answer on as values, unread, so that it is
// measured rather than written (rpcCtx.measured).
func (n *Node) serveJSON(body []byte, decoded any, measured bool, via Via, from netip.Addr, done rpcDone) {
	req, ok := decoded.(storagerpc.Request)
	if !ok {
		var err error
		if req, err = storagerpc.ParseRequest(body); err != nil {
			o := errOutcome(err)
			observePerRequest(n, RequestServed{Method: "", Via: via, Status: o.status, From: from})
			done("", named{}, o)
			return
		}
	}
	var seen named
	_, isBatch := req.(*storagerpc.Batch)
	ctx := rpcCtx{via: via, measured: measured && isBatch}
	if !n.cfg.Quiet { // only events read what a request names
		seen = namedIn(req)
		if via == ViaDirect {
			ctx.direct = &directSeen{from: from, accounts: seen.accounts}
		}
	}
	n.serve(req, ctx, func(o outcome) {
		done(req.Method(), seen, o)
	})
}

// named is what a request tells the node that serves it about whom it is for: every account
// it names (a batch's subrequests included, in order) and, per subrequest with a namespace,
// that namespace and the data size (0 for a read). It feeds the events only.
type named struct {
	accounts   [][33]byte
	namespaces []int16
	sizes      []int
}

// owner is the first account named, the one events have always carried.
func (s named) owner() [33]byte {
	if len(s.accounts) == 0 {
		return [33]byte{}
	}
	return s.accounts[0]
}

func namedIn(req storagerpc.Request) named {
	var s named
	if b, ok := req.(*storagerpc.Batch); ok {
		// One account per subrequest, and mostly a namespace too: sized once.
		s.accounts = make([][33]byte, 0, len(b.Requests))
		s.namespaces = make([]int16, 0, len(b.Requests))
		s.sizes = make([]int, 0, len(b.Requests))
	}
	s.add(req)
	// A batch that named nothing of a kind says so with nil, as one unsized would.
	if len(s.accounts) == 0 {
		s.accounts = nil
	}
	if len(s.namespaces) == 0 {
		s.namespaces, s.sizes = nil, nil
	}
	return s
}

// add appends what req names (every subrequest's, for a batch).
func (s *named) add(req storagerpc.Request) {
	switch r := req.(type) {
	case *storagerpc.Batch:
		for _, sub := range r.Requests {
			s.add(sub)
		}
		return
	case *storagerpc.GetSwarm:
		s.accounts = append(s.accounts, ownerOf(r.Pubkey))
		return
	case storagerpc.Owned:
		s.accounts = append(s.accounts, ownerOf(r.Owner()))
	}
	switch r := req.(type) {
	case *storagerpc.Store:
		s.namespaces = append(s.namespaces, int16(r.Namespace))
		s.sizes = append(s.sizes, len(r.Data))
	case *storagerpc.Retrieve:
		s.namespaces = append(s.namespaces, int16(r.Namespace))
		s.sizes = append(s.sizes, 0)
	}
}

func ownerOf(pk storagerpc.Pubkey) store.Owner {
	var o store.Owner
	o[0] = pk.Prefix
	copy(o[1:], pk.Key[:])
	return o
}

func scopeOf(s storagerpc.NamespaceSel) store.Scope {
	return store.Scope{All: s.All, Namespace: int16(s.Namespace)}
}

// serve runs one request; done receives its outcome exactly once.
func (n *Node) serve(req storagerpc.Request, ctx rpcCtx, done func(outcome)) {
	if o, now := n.serveNow(req, &ctx); now {
		done(o)
		return
	}
	n.serveLater(req, ctx, done)
}

// serveNow answers req at once when it can: anything except a batch or a recursive request that
// passes its checks, both of which wait on others. It then observes the answer and returns it (now
// true); otherwise serveLater, with what serveNow left done and ctx as serveNow left it (the
// memo of the signature's verification, rpcCtx.sig), finishes the request. The split spares a
// request answered at once (most are: retrieves and refusals) the closure that an answer given
// later needs.
func (n *Node) serveNow(req storagerpc.Request, ctx *rpcCtx) (o outcome, now bool) {
	if _, ok := req.(*storagerpc.Batch); ok {
		return outcome{}, false
	}
	if o, now = n.answerNow(req, ctx); now {
		n.served(req, *ctx, o)
	}
	return o, now
}

// answerNow is serveNow's answer, before it is observed: the refusals, then every method that
// is not recursive.
func (n *Node) answerNow(req storagerpc.Request, ctx *rpcCtx) (outcome, bool) {
	if ow, ok := req.(storagerpc.Owned); ok && !n.ownsAccount(ow.Owner()) {
		return n.wrongSwarm(ow.Owner()), true
	}
	waits := forwardable(req) // a recursive request waits on its swarm
	if waits && ctx.fw == nil {
		ctx.sig = &storagerpc.Verified{}
	}
	cost, err := req.Check(n.checkEnv(*ctx))
	n.env.Work(cost)
	if err != nil {
		return errOutcome(err), true
	}
	if waits {
		return outcome{}, false // serveLater
	}
	switch r := req.(type) {
	case *storagerpc.Retrieve:
		return n.rpcRetrieve(r, *ctx), true
	case *storagerpc.GetExpiries:
		return n.rpcGetExpiries(r), true
	case *storagerpc.GetSwarm:
		return n.rpcGetSwarm(r), true
	case *storagerpc.Info:
		return n.rpcInfo(), true
	case *storagerpc.OxendRequest:
		return n.rpcOxend(r), true
	}
	return textOutcome(http.StatusBadRequest, "no method "+req.Method()), true
}

// serveLater runs what serveNow did not answer, a batch or a checked recursive request, and
// observes its outcome before done gets it.
func (n *Node) serveLater(req storagerpc.Request, ctx rpcCtx, done func(outcome)) {
	finish := done
	if !n.cfg.Quiet { // a quiet node observes nothing (see served), so done will do
		finish = func(o outcome) {
			n.served(req, ctx, o)
			done(o)
		}
	}
	switch r := req.(type) {
	case *storagerpc.Batch:
		sub := ctx
		sub.direct = nil
		n.serveBatch(r, sub, finish)
	case *storagerpc.Store:
		n.rpcStore(r, ctx, finish)
	case *storagerpc.Delete:
		n.rpcDelete(r, ctx, finish)
	case *storagerpc.DeleteAll:
		n.rpcDeleteAll(r, ctx, finish)
	case *storagerpc.DeleteBefore:
		n.rpcDeleteBefore(r, ctx, finish)
	case *storagerpc.ExpireAll:
		n.rpcExpireAll(r, ctx, finish)
	case *storagerpc.Expire:
		n.rpcExpire(r, ctx, finish)
	default:
		panic("node: serveLater of " + req.Method() + ", which serveNow answers")
	}
}

// served observes the outcome o of req.
func (n *Node) served(req storagerpc.Request, ctx rpcCtx, o outcome) {
	ev := RequestServed{Method: req.Method(), Via: ctx.via, Status: o.status}
	if ctx.direct != nil {
		ev.From, ev.Accounts = ctx.direct.from, ctx.direct.accounts
	}
	observePerRequest(n, ev)
}

func (n *Node) checkEnv(ctx rpcCtx) storagerpc.CheckEnv {
	c := storagerpc.CheckEnv{Now: n.env.Now(), Suite: n.cfg.Suite, Forwarded: ctx.fw != nil, ConvertKey: n.convertKey, Record: ctx.sig}
	if ctx.fw != nil {
		c.Verified = ctx.fw.verified
		if ctx.fw.Retry {
			// A retried forward is judged as of when the swarm first received it.
			c.Now = timeMS(ctx.fw.Received)
		}
	}
	return c
}

// ownsAccount is the storage server's is_pubkey_for_us.
func (n *Node) ownsAccount(pk storagerpc.Pubkey) bool {
	id, ok := n.view.ownerSwarm(swarm.Space(pk.Key))
	return ok && id == n.Swarm()
}

// swarmInfo describes the swarm that owns pk (SwarmID InvalidSwarmID when there is none).
func (n *Node) swarmInfo(pk storagerpc.Pubkey) storagerpc.SwarmInfoResponse {
	res := storagerpc.SwarmInfoResponse{SwarmID: storagerpc.InvalidSwarmID, T: n.nowMS(), HF: storagerpc.HF(n.cfg.Hardfork)}
	id, ok := n.view.ownerSwarm(swarm.Space(pk.Key))
	if !ok {
		return res
	}
	res.SwarmID = uint64(id)
	for _, p := range n.view.membersOf(id) {
		res.Snodes = append(res.Snodes, snodeInfo(p))
	}
	return res
}

func snodeInfo(p Peer) storagerpc.SnodeInfo {
	omq := p.OMQPort
	if omq == 0 {
		omq = p.Addr.Port() - 1
	}
	return storagerpc.SnodeInfo{
		PubkeyLegacy: p.Ed25519, PubkeyEd25519: p.Ed25519, PubkeyX25519: p.X25519,
		IP: p.Addr.Addr().String(), PortHTTPS: p.Addr.Port(), PortOMQ: omq,
	}
}

// wrongSwarm is the 421 answer: the members of the swarm that owns the account.
func (n *Node) wrongSwarm(pk storagerpc.Pubkey) outcome {
	res := n.swarmInfo(pk)
	return outcome{status: http.StatusMisdirectedRequest, body: res.Append(nil)}
}

// rpcStore stores locally and, for a client's store, forwards to the swarm first.
func (n *Node) rpcStore(r *storagerpc.Store, ctx rpcCtx, done func(outcome)) {
	now := n.nowMS()
	if ctx.fw != nil && r.Expiry <= now {
		done(textOutcome(http.StatusNotAcceptable, "Timestamp error: check your clock"))
		return
	}
	hash := ""
	if ctx.fw != nil {
		hash = ctx.fw.hash
	}
	if hash == "" {
		hash = storagerpc.MessageHash(r.Pubkey, r.Namespace, r.Data)
	}
	n.env.Work(cryptomode.PerKiB(n.cfg.Suite.Costs().HashPerKiB, len(r.Data)))
	if ctx.fw != nil {
		own, err := n.storeLocally(r, hash, FromReplica)
		if err != nil {
			done(errOutcome(err))
			return
		}
		done(outcome{status: http.StatusOK, result: &own})
		return
	}
	g := newGather(func(self storagerpc.SwarmEntry[storagerpc.StoreResult], entries []storagerpc.SwarmEntry[storagerpc.StoreResult]) outcome {
		resp := storagerpc.StoreResponse{Self: self.Node, Swarm: entries, T: now, HF: storagerpc.HF(n.cfg.Hardfork)}
		if self.Failed == nil {
			resp.Hash = hash
		}
		return valueOutcome(ctx, resp.Status(), &resp, appendStore)
	}, done)
	n.forward(&Forward{Request: r, Received: now, verified: ctx.sig, hash: hash}, hash, r.Expiry, g.peersAnswered)
	own, err := n.storeLocally(r, hash, FromClient)
	g.self.Node = n.edHex
	if err != nil {
		g.self.Failed = &storagerpc.Failure{QueryFailure: true, Reason: err.Error()}
	} else {
		g.self.Result = own
	}
	g.reply()
}

// storeLocally applies a store to the node's own store and signs the result, charging the
// signature.
func (n *Node) storeLocally(r *storagerpc.Store, hash string, src Source) (storagerpc.StoreResult, error) {
	msg := store.Message{Hash: hash, Owner: ownerOf(r.Pubkey), Namespace: int16(r.Namespace), Timestamp: r.Timestamp, Expiry: r.Expiry, Data: r.Data}
	res, expiry, err := n.st.Store(msg)
	if err != nil {
		return storagerpc.StoreResult{}, err
	}
	n.env.Observe(MessageStored{Hash: hash, Owner: msg.Owner, Namespace: msg.Namespace, Size: len(r.Data), Expiry: expiry, New: res == store.New, Source: src})
	if res == store.New {
		msg.Expiry = expiry
		n.sendNotifies(&msg)
	}
	own, cost := storagerpc.NewStoreResult(n.cfg.Suite, n.signing(), hash, expiry, res.Already())
	n.env.Work(cost)
	return own, nil
}

func appendStore(r *storagerpc.StoreResponse) []byte { return r.Append(nil) }

func appendRetrieve(r *storagerpc.RetrieveResponse) []byte { return r.Append(nil) }

func appendExpire(r *storagerpc.SwarmResponse[storagerpc.ExpireResult]) []byte {
	return storagerpc.AppendExpireResponse(nil, r)
}

func (n *Node) rpcRetrieve(r *storagerpc.Retrieve, ctx rpcCtx) outcome {
	budget := r.Budget()
	msgs, more, err := n.st.Retrieve(ownerOf(r.Pubkey), int16(r.Namespace), r.LastHash, int(budget.MaxSize()), r.MaxCount)
	if err != nil {
		return textOutcome(http.StatusInternalServerError, "Internal Server Error. Could not retrieve messages")
	}
	res := storagerpc.RetrieveResponse{T: n.nowMS(), HF: storagerpc.HF(n.cfg.Hardfork)}
	for i := range msgs {
		m := &msgs[i]
		// The budget, not the store, decides "more": for max_count -1 the server reads no rows
		// at all and says there is nothing more, though the account has messages.
		if take, cut := budget.Next(len(m.Hash), m.Len()); !take {
			more = cut
			break
		}
		data := m.Data
		if data == nil && m.DataLen > 0 {
			// A metadata-only store kept the length, not the bytes: answer with bytes of
			// that length so sizes stay true.
			data = make([]byte, m.DataLen)
		}
		res.Messages = append(res.Messages, storagerpc.RetrievedMessage{Hash: m.Hash, Timestamp: m.Timestamp, Expiry: m.Expiry, Data: data})
	}
	res.More = more
	return valueOutcome(ctx, http.StatusOK, &res, appendRetrieve)
}

// recursive runs the swarm part of a recursive request: forward (for a client's request),
// apply locally with own, and gather. own returns the node's result, or an error outcome.
//
// encode is handed ctx rather than closing over it, so that a method's encode needs no
// allocation on a member's forward, which never encodes (every poll's expire, on every member).
func recursive[T any](n *Node, req storagerpc.Request, ctx rpcCtx, own func() (T, *outcome), encode func(rpcCtx, *storagerpc.SwarmResponse[T]) outcome, done func(outcome)) {
	if ctx.fw != nil {
		// A member's forward: the node's own result is the whole answer.
		res, fail := own()
		if fail != nil {
			done(*fail)
			return
		}
		done(outcome{status: http.StatusOK, result: &res})
		return
	}
	now := n.nowMS()
	g := newGather(func(self storagerpc.SwarmEntry[T], entries []storagerpc.SwarmEntry[T]) outcome {
		return encode(ctx, &storagerpc.SwarmResponse[T]{Self: self.Node, Swarm: entries, T: now, HF: storagerpc.HF(n.cfg.Hardfork)})
	}, done)
	n.forward(&Forward{Request: req, Received: now, verified: ctx.sig}, "", 0, g.peersAnswered)
	g.self.Node = n.edHex
	if res, fail := own(); fail != nil {
		g.self.Failed = &storagerpc.Failure{QueryFailure: true, Reason: string(fail.body)}
	} else {
		g.self.Result = res
	}
	g.reply()
}

// gather collects a client's recursive request's answers, the node's own and its members',
// and answers once it has both.
type gather[T any] struct {
	pending int
	self    storagerpc.SwarmEntry[T]
	peers   []peerResult
	answer  func(self storagerpc.SwarmEntry[T], entries []storagerpc.SwarmEntry[T]) outcome
	done    func(outcome)
}

func newGather[T any](answer func(storagerpc.SwarmEntry[T], []storagerpc.SwarmEntry[T]) outcome, done func(outcome)) *gather[T] {
	return &gather[T]{pending: 2, answer: answer, done: done}
}

// peersAnswered receives the members' answers to the forward.
func (g *gather[T]) peersAnswered(res []peerResult) {
	g.peers = res
	g.reply()
}

// reply answers once both the node's own part and the members' answers are in.
func (g *gather[T]) reply() {
	if g.pending--; g.pending > 0 {
		return
	}
	g.done(g.answer(g.self, swarmEntries(g.self, g.peers)))
}

// swarmEntries is the swarm part of a recursive answer: the node's own entry, then one per
// member in forward order, failed unless the member answered 2xx with its typed result.
func swarmEntries[T any](self storagerpc.SwarmEntry[T], peers []peerResult) []storagerpc.SwarmEntry[T] {
	entries := append(make([]storagerpc.SwarmEntry[T], 0, 1+len(peers)), self)
	for _, pr := range peers {
		e := storagerpc.SwarmEntry[T]{Node: pr.node}
		if res, ok := pr.result.(*T); ok && ok2xx(pr.status) {
			e.Result = *res
		} else {
			e.Failed = failureOf(pr)
		}
		entries = append(entries, e)
	}
	return entries
}

// dbFailure is the answer to a failed store operation: the server hides the cause behind a 500
// "request failed".
func dbFailure(err error) *outcome {
	o := errOutcome(err)
	return &o
}

func nsHashes(a []store.Affected) []storagerpc.NSHash {
	out := make([]storagerpc.NSHash, len(a))
	for i, x := range a {
		out[i] = storagerpc.NSHash{Namespace: storagerpc.Namespace(x.Namespace), Hash: x.Hash}
	}
	return out
}

func (n *Node) rpcDelete(r *storagerpc.Delete, ctx rpcCtx, done func(outcome)) {
	// A required delete that removed nothing anywhere is a 404 (storagerpc.DeleteStatus).
	encode := func(_ rpcCtx, resp *storagerpc.SwarmResponse[storagerpc.HashesResult]) outcome {
		return outcome{status: storagerpc.DeleteStatus(r, resp), body: storagerpc.AppendDeleteResponse(nil, resp)}
	}
	recursive(n, r, ctx, func() (storagerpc.HashesResult, *outcome) {
		deleted, err := n.st.Delete(ownerOf(r.Pubkey), r.Messages)
		if err != nil {
			return storagerpc.HashesResult{}, dbFailure(err)
		}
		res, cost := storagerpc.NewDeleteResult(n.cfg.Suite, n.signing(), r, deleted)
		n.env.Work(cost)
		return res, nil
	}, encode, done)
}

func (n *Node) rpcDeleteAll(r *storagerpc.DeleteAll, ctx rpcCtx, done func(outcome)) {
	recursive(n, r, ctx, func() (storagerpc.HashesResult, *outcome) {
		deleted, err := n.st.DeleteAll(ownerOf(r.Pubkey), scopeOf(r.Namespace))
		return signedHashes(n, r, deleted, err, storagerpc.NewDeleteAllResult)
	}, deleteEncoder, done)
}

func (n *Node) rpcDeleteBefore(r *storagerpc.DeleteBefore, ctx rpcCtx, done func(outcome)) {
	recursive(n, r, ctx, func() (storagerpc.HashesResult, *outcome) {
		deleted, err := n.st.DeleteBefore(ownerOf(r.Pubkey), scopeOf(r.Namespace), r.Before)
		return signedHashes(n, r, deleted, err, storagerpc.NewDeleteBeforeResult)
	}, deleteEncoder, done)
}

// signedHashes is the signed answer to r listing the messages a store operation touched, or a
// database failure when the operation failed. The signing cost is charged.
func signedHashes[R any](n *Node, r R, touched []store.Affected, err error,
	sign func(cryptomode.Suite, ed25519.PrivateKey, R, []storagerpc.NSHash) (storagerpc.HashesResult, time.Duration),
) (storagerpc.HashesResult, *outcome) {
	if err != nil {
		return storagerpc.HashesResult{}, dbFailure(err)
	}
	res, cost := sign(n.cfg.Suite, n.signing(), r, nsHashes(touched))
	n.env.Work(cost)
	return res, nil
}

func deleteEncoder(_ rpcCtx, resp *storagerpc.SwarmResponse[storagerpc.HashesResult]) outcome {
	return outcome{status: resp.Status(), body: storagerpc.AppendDeleteResponse(nil, resp)}
}

func (n *Node) rpcExpireAll(r *storagerpc.ExpireAll, ctx rpcCtx, done func(outcome)) {
	recursive(n, r, ctx, func() (storagerpc.HashesResult, *outcome) {
		updated, err := n.st.ExpireAll(ownerOf(r.Pubkey), scopeOf(r.Namespace), r.Expiry)
		return signedHashes(n, r, updated, err, storagerpc.NewExpireAllResult)
	}, func(_ rpcCtx, resp *storagerpc.SwarmResponse[storagerpc.HashesResult]) outcome {
		return outcome{status: resp.Status(), body: storagerpc.AppendExpireAllResponse(nil, resp)}
	}, done)
}

func (n *Node) rpcExpire(r *storagerpc.Expire, ctx rpcCtx, done func(outcome)) {
	recursive(n, r, ctx, func() (storagerpc.ExpireResult, *outcome) {
		owner := ownerOf(r.Pubkey)
		applied, extendOnly := r.Apply(n.env.Now())
		mode := store.ExpireEither
		switch {
		case r.Mode == storagerpc.ExpireShorten:
			mode = store.ExpireShorten
		case extendOnly:
			mode = store.ExpireExtend
		}
		var updated []store.HashExpiry
		if len(applied) == 1 {
			u, err := n.st.Expire(owner, r.Messages, applied[0], mode)
			if err != nil {
				return storagerpc.ExpireResult{}, dbFailure(err)
			}
			updated = u
		} else {
			for i, h := range r.Messages {
				if i >= len(applied) {
					break
				}
				u, err := n.st.Expire(owner, []string{h}, applied[i], mode)
				if err != nil {
					return storagerpc.ExpireResult{}, dbFailure(err)
				}
				updated = append(updated, u...)
			}
		}
		var cur []store.HashExpiry
		if r.Mode != storagerpc.ExpireSet {
			// Every poll's expire of its config messages mostly finds nothing to extend: then
			// the rest is all of the request's messages, and needs no copy.
			rest := r.Messages
			if len(updated) > 0 {
				changed := updatedSet(updated)
				rest = make([]string, 0, len(r.Messages)-len(updated))
				for _, h := range r.Messages {
					if !changed(h) {
						rest = append(rest, h)
					}
				}
			}
			if len(rest) > 0 {
				var err error
				if cur, err = n.st.GetExpiries(owner, rest); err != nil {
					return storagerpc.ExpireResult{}, dbFailure(err)
				}
			}
		}
		// The updated and the unchanged share one allocation (each member's answer to every
		// poll's expire).
		var upd, unchanged []storagerpc.HashExpiry
		if all := len(updated) + len(cur); all > 0 {
			both := make([]storagerpc.HashExpiry, all)
			for i, u := range updated {
				both[i] = storagerpc.HashExpiry(u)
			}
			for i, c := range cur {
				both[len(updated)+i] = storagerpc.HashExpiry(c)
			}
			upd, unchanged = both[:len(updated):len(updated)], both[len(updated):]
			if len(unchanged) == 0 {
				unchanged = nil
			}
		}
		res, cost := storagerpc.NewExpireResult(n.cfg.Suite, n.signing(), r, applied, upd, unchanged)
		n.env.Work(cost)
		return res, nil
	}, func(ctx rpcCtx, resp *storagerpc.SwarmResponse[storagerpc.ExpireResult]) outcome {
		return valueOutcome(ctx, resp.Status(), resp, appendExpire)
	}, done)
}

// updatedSet tells whether a hash is among those an expire updated. Most expires name a few
// messages, which a scan finds sooner than a map made for each request.
func updatedSet(updated []store.HashExpiry) func(hash string) bool {
	const scanned = 16
	if len(updated) <= scanned {
		return func(h string) bool {
			return slices.ContainsFunc(updated, func(u store.HashExpiry) bool { return u.Hash == h })
		}
	}
	set := make(map[string]bool, len(updated))
	for _, u := range updated {
		set[u.Hash] = true
	}
	return func(h string) bool { return set[h] }
}

func (n *Node) rpcGetExpiries(r *storagerpc.GetExpiries) outcome {
	cur, err := n.st.GetExpiries(ownerOf(r.Pubkey), r.Messages)
	if err != nil {
		return errOutcome(err)
	}
	res := storagerpc.GetExpiriesResponse{Expiries: make([]storagerpc.HashExpiry, len(cur))}
	for i, c := range cur {
		res.Expiries[i] = storagerpc.HashExpiry{Hash: c.Hash, Expiry: c.Expiry}
	}
	return outcome{status: http.StatusOK, body: res.Append(nil)}
}

func (n *Node) rpcGetSwarm(r *storagerpc.GetSwarm) outcome {
	res := n.swarmInfo(r.Pubkey)
	// The value goes with the bytes so that a client reads the answer's "t" without parsing
	// them (a swarm lookup's answer is a few KB of JSON).
	return outcome{status: http.StatusOK, body: res.Append(nil), value: &res}
}

func (n *Node) rpcInfo() outcome {
	now := n.nowMS()
	res := storagerpc.InfoResponse{Version: versionOf(n.cfg.Version), Timestamp: now, T: now, HF: storagerpc.HF(n.cfg.Hardfork)}
	return outcome{status: http.StatusOK, body: res.Append(nil)}
}

// versionOf turns "2.11" into [2, 11, 0].
func versionOf(v string) storagerpc.Version {
	var out storagerpc.Version
	for i, part := range strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3) {
		out[i], _ = strconv.Atoi(part)
	}
	return out
}

// serveBatch runs a batch (all subrequests at once) or a sequence (one after the other,
// stopping after the first that fails). The answer is 200 either way.
func (n *Node) serveBatch(b *storagerpc.Batch, ctx rpcCtx, done func(outcome)) {
	s := &batchServe{n: n, b: b, ctx: ctx, done: done, results: make([]storagerpc.SubResult, len(b.Requests)), pending: len(b.Requests)}
	if b.Sequence {
		s.step(0)
		return
	}
	for i, r := range b.Requests {
		// A subrequest answered at once (a poll's retrieves) needs no callback of its own. Each
		// is served in its own copy of ctx, as serve would.
		c := ctx
		if o, now := n.serveNow(r, &c); now {
			s.answered(i, o)
			continue
		}
		n.serveLater(r, c, func(o outcome) { s.answered(i, o) })
	}
}

// batchServe is a batch being served. Its state is one object rather than closures over
// variables of serveBatch, which would each be allocated for every batch a node serves.
type batchServe struct {
	n       *Node
	b       *storagerpc.Batch
	ctx     rpcCtx
	done    func(outcome)
	results []storagerpc.SubResult
	// pending counts the subrequests of a batch served all at once still to be answered.
	pending int
}

// step serves subrequest i of a sequence, then the next once it succeeds.
func (s *batchServe) step(i int) {
	if i == len(s.results) {
		s.finish(i)
		return
	}
	s.n.serve(s.b.Requests[i], s.ctx, func(o outcome) {
		s.results[i] = batchSubResult(o)
		if !ok2xx(o.status) {
			s.finish(i + 1)
			return
		}
		s.step(i + 1)
	})
}

// answered takes subrequest i's answer in a batch served all at once, and answers the batch
// with the last.
func (s *batchServe) answered(i int, o outcome) {
	s.results[i] = batchSubResult(o)
	if s.pending--; s.pending == 0 {
		s.finish(len(s.results))
	}
}

// finish answers the batch with its first k results.
func (s *batchServe) finish(k int) {
	o := outcome{status: http.StatusOK, results: s.results[:k:k]}
	if s.ctx.measured && validBodies(o.results) {
		o.measured, o.size = true, storagerpc.BatchResponseSize(o.results)
	} else {
		o.body = storagerpc.AppendBatchResponse(nil, o.results)
	}
	s.done(o)
}

// batchSubResult is a subrequest's answer as its batch carries it. A JSON body (a result, or a
// 421's swarm) goes into the batch as a JSON value, a text one as a JSON string, as the storage
// server embeds them: a client reads the swarm a 421 names from the object.
func batchSubResult(o outcome) storagerpc.SubResult {
	if !o.text {
		return storagerpc.SubResult{Code: o.status, Body: o.body, Value: o.value}
	}
	return storagerpc.TextResult(o.status, string(o.body))
}

// validBodies reports whether the bodies written among results are valid UTF-8, as those of a
// measured batch must be: the reply's reader takes the results as they are, where a reader of
// the bytes would find each invalid byte replaced (onion.SealStructuralMeasured).
func validBodies(results []storagerpc.SubResult) bool {
	for _, r := range results {
		if !utf8.Valid(r.Body) {
			return false
		}
	}
	return true
}

// handleForward serves MethodForward: a swarm member's forward, validated and applied again.
// The answer is the node's own typed result (the swarm link carries the member's part only).
func (n *Node) handleForward(from actor.Addr, req actor.Request, r actor.Responder) {
	fw, ok := req.Body.(*Forward)
	if !ok || fw == nil || fw.Request == nil {
		respondText(r, overMQ, http.StatusBadRequest, "invalid request: received invalid forwarded non-forwardable request")
		return
	}
	if !n.fromNode(from) {
		respondText(r, overMQ, http.StatusForbidden, "sender is not an active service node")
		return
	}
	if !n.ready() {
		respondText(r, overMQ, http.StatusServiceUnavailable, "Service node is not ready: not in any swarm")
		return
	}
	if !forwardable(fw.Request) {
		respondText(r, overMQ, http.StatusBadRequest, "invalid request: received invalid forwarded non-forwardable request")
		return
	}
	n.serve(fw.Request, rpcCtx{via: ViaPeer, fw: fw}, func(o outcome) {
		if o.result != nil {
			respond(r, overMQ, o.status, "", o.result, resultSize(o.result))
			return
		}
		respondBytes(r, overMQ, o.status, transport.Text, o.body)
	})
}

// forwardable reports whether req is a (non-nil) request of a recursive method.
func forwardable(req storagerpc.Request) bool {
	return isNonNil[storagerpc.Store](req) || isNonNil[storagerpc.Delete](req) || isNonNil[storagerpc.DeleteAll](req) ||
		isNonNil[storagerpc.DeleteBefore](req) || isNonNil[storagerpc.Expire](req) || isNonNil[storagerpc.ExpireAll](req)
}

// isNonNil reports whether v is a non-nil *T.
func isNonNil[T any](v any) bool {
	p, ok := v.(*T)
	return ok && p != nil
}
