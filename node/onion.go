package node

import (
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Onion requests: a guard receives a framed request from a client, relays receive bencoded
// requests from the previous node. Each opens its layer (charging the key agreement and the
// decryption), then forwards to the next node by its Ed25519 key, runs the RPC inside as the
// destination and seals one response, or posts to an allowed server. Relays pass answers back
// unchanged; their own failures go back in plain text.

// handleGuard serves MethodOnion.
func (n *Node) handleGuard(from actor.Addr, req actor.Request, r actor.Responder) {
	if !n.ready() {
		n.notReady(r, true)
		return
	}
	var in onion.Request
	var err error
	switch body := req.Body.(type) {
	case []byte:
		in, err = onion.ParseGuardRequest(body)
	case *onion.Request: // structural form
		in, err = onion.CheckGuardRequest(body)
	default:
		respondText(r, overHTTPS, http.StatusBadRequest, "Error parsing onion request: body is not bytes")
		return
	}
	if err != nil {
		n.onionFailed(from, n.env.Now(), in.HopNo, true, req.Size, r, err)
		return
	}
	n.peel(from, in, true, req.Size, r)
}

// handleRelay serves MethodRelay.
func (n *Node) handleRelay(from actor.Addr, req actor.Request, r actor.Responder) {
	raw, isBytes := req.Body.([]byte)
	value, isValue := req.Body.(*onion.Request) // structural form
	if !isBytes && !isValue {
		respondText(r, overMQ, http.StatusBadRequest, "Invalid internal onion request: body is not bytes")
		return
	}
	if !n.fromNode(from) {
		respondText(r, overMQ, http.StatusForbidden, "sender is not an active service node")
		return
	}
	var in onion.Request
	var err error
	if isValue {
		in, err = onion.CheckRelayRequest(value)
	} else {
		in, err = onion.ParseRelayRequest(raw)
	}
	if err != nil {
		n.onionFailed(from, n.env.Now(), in.HopNo, false, req.Size, r, err)
		return
	}
	if !n.ready() {
		n.notReady(r, false)
		return
	}
	n.peel(from, in, false, req.Size, r)
}

func (n *Node) notReady(r actor.Responder, guard bool) {
	e := onion.SnodeNotReady(n.Ed25519())
	respondText(r, hopLink(guard), e.Status(), e.Text())
}

// onionFailed answers a failure in plain text and records the hop.
func (n *Node) onionFailed(from actor.Addr, arrived time.Time, hop int, guard bool, size int, r actor.Responder, err error) {
	status, text := http.StatusBadRequest, err.Error()
	var oe *onion.Error
	if errors.As(err, &oe) {
		status, text = oe.Status(), oe.Text()
	}
	out := respondText(r, hopLink(guard), status, text)
	observePerRequest(n, OnionHop{From: from.Addr(), Arrived: arrived, HopNo: hop, Guard: guard, Role: HopFailed, Status: status, BytesIn: size, BytesOut: out})
}

// peel opens one layer of a request of size bytes and acts on what it says.
func (n *Node) peel(from actor.Addr, in onion.Request, guard bool, size int, r actor.Responder) {
	arrived := n.env.Now()
	p, err := onion.Peel(n.cfg.Suite, n.x25519, in)
	n.env.Work(p.Cost)
	if err != nil {
		var oe *onion.Error
		if errors.As(err, &oe) && oe.Encrypted() {
			out := n.sealAndRespond(r, guard, replyOf(&p), textOutcome(oe.Status(), oe.Text()))
			observePerRequest(n, OnionHop{From: from.Addr(), Arrived: arrived, HopNo: in.HopNo, Guard: guard, Role: HopFailed, Status: oe.Status(), BytesIn: size, BytesOut: out})
			return
		}
		n.onionFailed(from, arrived, in.HopNo, guard, size, r, err)
		return
	}
	hop := OnionHop{From: from.Addr(), Arrived: arrived, HopNo: in.HopNo, Guard: guard, BytesIn: size}
	switch p.Routing.Action {
	case onion.Forward:
		hop.Role, hop.Next = HopRelay, p.Routing.Destination
		n.relay(hop, p, r)
	case onion.Deliver:
		hop.Role = HopDestination
		n.deliver(hop, p, r)
	case onion.Proxy:
		hop.Role, hop.Host, hop.Target = HopProxy, p.Routing.Host, p.Routing.Target
		n.proxy(hop, p, r)
	}
}

// relay forwards to the next node, which must be a funded node of the list.
func (n *Node) relay(hop OnionHop, p onion.Peeled, r actor.Responder) {
	next, ok := n.view.find(p.Routing.Destination)
	if !ok {
		n.hopError(hop, r, onion.NextNodeNotFound(p.Routing.Destination))
		return
	}
	body, bodyLen := p.Next.Wire()
	req := actor.Request{Method: MethodRelay, Body: body, Size: transport.MQRequestSize(MethodRelay, bodyLen)}
	h := n.awaiting(hop)
	n.env.Call(next.Addr, req, n.cfg.RelayTimeout, func(resp actor.Response, err error) {
		if err != nil {
			n.hopError(h.hop(), r, onion.RequestTimeout())
			return
		}
		n.hopReply(h.hop(), r, resp)
	})
}

// awaitedHop is a hop kept while the node waits on an answer (the next node's, a server's, its
// own RPC's): all of it when the node reports hops, and otherwise only the link it came over,
// which is all the answer needs. A quiet node (Config.Quiet) thus keeps no copy of the whole
// hop (some 280 bytes) for every onion request.
type awaitedHop struct {
	full  *OnionHop
	guard bool
}

func (n *Node) awaiting(hop OnionHop) awaitedHop {
	if n.cfg.Quiet {
		return awaitedHop{guard: hop.Guard}
	}
	kept := new(OnionHop) // allocated here, not as &hop, which would move hop to the heap on every call
	*kept = hop
	return awaitedHop{full: kept}
}

// hop is the hop kept, or one that says only whether the node was the guard.
func (h awaitedHop) hop() OnionHop {
	if h.full != nil {
		return *h.full
	}
	return OnionHop{Guard: h.guard}
}

// deliver runs the RPC inside and seals its answer to the layer's key.
func (n *Node) deliver(hop OnionHop, p onion.Peeled, r actor.Responder) {
	// A structural reply carries a batch's results as values, which the client reads in place
	// of the body, unless it asked for the body embedded as JSON (see seal).
	measured := p.Structural && !p.Routing.Format.EmbedJSON
	h := n.awaiting(hop)
	to := replyOf(&p)
	n.serveJSON(p.Payload, p.Decoded, measured, ViaOnion, netip.Addr{}, func(method string, seen named, o outcome) {
		hop := h.hop()
		hop.Method, hop.Owner, hop.Status = method, seen.owner(), o.status
		hop.Accounts, hop.Namespaces, hop.Sizes = seen.accounts, seen.namespaces, seen.sizes
		hop.BytesOut = n.sealAndRespond(r, hop.Guard, to, o)
		observePerRequest(n, hop)
	})
}

// replyTo is what a layer's answer is sealed with, all that the answer's callback keeps of the
// peeled layer, which is several hundred bytes to copy to the heap with it.
type replyTo struct {
	key        onion.Key
	format     onion.ResponseFormat
	structural bool
}

func replyOf(p *onion.Peeled) replyTo {
	return replyTo{key: p.Reply, format: p.Routing.Format, structural: p.Structural}
}

// sealAndRespond answers with the outcome's {"status","body"} sealed to the layer's key; the
// reply itself is a 200. It returns the answer's wire size, for the hop's event.
func (n *Node) sealAndRespond(r actor.Responder, guard bool, p replyTo, o outcome) int {
	reply, replyLen, cost, err := n.seal(p, o)
	n.env.Work(cost)
	if err != nil {
		eo := errOutcome(err)
		return respondBytes(r, hopLink(guard), eo.status, transport.Text, eo.body)
	}
	return respond(r, hopLink(guard), http.StatusOK, transport.Binary, reply, replyLen)
}

// seal is the destination's reply and its length: the sealed bytes, or in structural form the
// reply as values, carrying a batch's results as values too so that the client need not parse
// them.
func (n *Node) seal(p replyTo, o outcome) (any, int, time.Duration, error) {
	if o.measured {
		rep, cost, err := onion.SealStructuralMeasured(n.cfg.Suite, p.key, n.rnd, p.format, o.status, o.size.Quoted, o.results)
		if err != nil {
			return nil, 0, cost, err
		}
		return rep, rep.WireLen(), cost, nil
	}
	resp := onion.NodeResponse{Status: o.status, Body: o.body}
	if p.structural {
		var decoded any
		if o.results != nil {
			decoded = o.results
		}
		rep, cost, err := onion.SealStructuralResponse(n.cfg.Suite, p.key, n.rnd, p.format, resp, decoded)
		if err != nil {
			return nil, 0, cost, err
		}
		return rep, rep.WireLen(), cost, nil
	}
	sealed, cost, err := onion.SealNodeResponse(n.cfg.Suite, p.key, n.rnd, p.format, resp)
	return sealed, len(sealed), cost, err
}

// proxy posts the decrypted layer to a server, but only to one the world registered: the
// simulated node reaches nothing else.
func (n *Node) proxy(hop OnionHop, p onion.Peeled, r actor.Responder) {
	to, ok := n.cfg.Servers[p.Routing.Host]
	if !ok {
		n.hopError(hop, r, onion.ProxyFailed(false, "Could not resolve host name"))
		return
	}
	req := actor.Request{Method: p.Routing.Target, Body: p.Payload, Size: transport.HTTPSRequestSize(to, p.Routing.Target, transport.Binary, len(p.Payload))}
	h := n.awaiting(hop)
	n.env.Call(to, req, n.cfg.ProxyTimeout, func(resp actor.Response, err error) {
		if err != nil {
			timeout := errors.Is(err, actor.ErrTimeout)
			msg := "Couldn't connect to server"
			if timeout {
				msg = "Operation timed out"
			}
			n.hopError(h.hop(), r, onion.ProxyFailed(timeout, msg))
			return
		}
		n.hopReply(h.hop(), r, resp)
	})
}

// hopError records the hop with the status of its own failure e and answers e in plain text.
func (n *Node) hopError(hop OnionHop, r actor.Responder, e *onion.Error) {
	hop.Status = e.Status()
	hop.BytesOut = respondText(r, hopLink(hop.Guard), e.Status(), e.Text())
	observePerRequest(n, hop)
}

// hopReply records the hop with the status the next node or server answered and passes that
// answer back unchanged.
func (n *Node) hopReply(hop OnionHop, r actor.Responder, resp actor.Response) {
	contentType := transport.Binary // a sealed answer
	if resp.Status != http.StatusOK {
		contentType = transport.Text // a later hop's own failure
	}
	hop.Status = resp.Status
	if rep, ok := resp.Body.(*onion.Reply); ok {
		hop.BytesOut = respond(r, hopLink(hop.Guard), resp.Status, contentType, rep, rep.WireLen())
	} else {
		b, _ := resp.Body.([]byte)
		hop.BytesOut = respondBytes(r, hopLink(hop.Guard), resp.Status, contentType, b)
	}
	observePerRequest(n, hop)
}
