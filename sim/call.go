package sim

import (
	"fmt"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// callRec is one call, from Env.Call until its done has run and nothing in flight refers to it
// any more. Records are pooled in chunks that never move; a *callRec is also the Responder handed
// to the callee. Fields read on every event of a call come first, to share a cache line.
type callRec struct {
	// First cache line: what every event of the call reads.
	flags      callFlags
	lane       uint8 // 1 + lane of the deadline; 0: the deadline is in the event queue
	gen        uint32
	slot       uint32
	lanePos    uint32 // position of the deadline in its lane, modulo 2^32
	caller     *actorEnv
	callee     *actorEnv // nil when the call failed before reaching anyone
	done       func(actor.Response, error)
	tmo        time.Duration
	reqSize    int
	callerHost HostID
	calleeHost HostID
	// Second: the rest of the request.
	from      actor.Addr // the caller's address, as the callee sees it
	reqMethod string
	reqBody   any
	// Third: the response.
	resp actor.Response
	err  error
	// A proxy's caller record: its worker, slot and generation.
	peer, peerSlot, peerGen uint32
	_                       [4]byte // 192 bytes: records in a chunk stay aligned to cache lines
}

// callChunk records are allocated together, for locality and to keep pointers stable.
const callChunk = 256

type callFlags uint8

const (
	fReqInFlight   callFlags = 1 << iota // a kindRequest event is queued
	fRespInFlight                        // a kindResponse event is queued
	fFailPending                         // a kindFail event is queued
	fTimeoutQueued                       // a kindTimeout event is queued
	fDelivered                           // the callee's Handle has run: its Responder is live
	fResponded                           // Respond has been called
	fDone                                // done has run, or never will (the caller is gone)
	fProxy                               // the callee's side of a call between two hosts, on several workers
)

var _ actor.Responder = (*callRec)(nil)

func (e *Engine) newCall() *callRec {
	if n := len(e.callFree); n > 0 {
		slot := e.callFree[n-1]
		e.callFree = e.callFree[:n-1]
		return e.call(slot)
	}
	if e.ncalls >= maxSlots {
		return nil
	}
	if e.ncalls%callChunk == 0 {
		e.callChunks = append(e.callChunks, new([callChunk]callRec))
	}
	c := e.call(e.ncalls)
	*c = callRec{slot: e.ncalls, gen: 1}
	e.ncalls++
	return c
}

func (e *Engine) call(slot uint32) *callRec { return &e.callChunks[slot/callChunk][slot%callChunk] }

// release returns c to the pool once its done has run and no queued event or live Responder
// needs it. A delivered request whose callee never answers keeps its record: the callee may
// still answer, and the answer is then counted as late.
func (e *Engine) release(c *callRec) {
	const inFlight = fReqInFlight | fRespInFlight | fFailPending
	if c.flags&fDone == 0 || c.flags&inFlight != 0 {
		return
	}
	if c.flags&fDelivered != 0 && c.flags&fResponded == 0 && c.callee.alive {
		return
	}
	if c.flags&fTimeoutQueued != 0 {
		if c.lane > 0 {
			e.cancelTimeout(c)
		} else {
			e.cancelled()
		}
	}
	*c = callRec{slot: c.slot, gen: c.gen + 1}
	if c.gen == 0 {
		c.gen = 1
	}
	e.callFree = append(e.callFree, c.slot)
}

func discardDone(actor.Response, error) {}

func (a *actorEnv) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	e := a.e
	if !a.alive {
		return
	}
	if done == nil {
		done = discardDone
	}
	if timeout <= 0 {
		timeout = e.timeout
	}
	c := e.newCall()
	if c == nil {
		return // over half a billion calls in flight; the caller's own timeout logic must cope
	}
	e.stats.Calls++
	t := a.time()
	c.caller, c.callerHost, c.done, c.tmo = a, a.host, done, timeout
	c.from = a.addr // the host's IP and the actor's port, without a read of the host's record
	c.reqMethod, c.reqBody, c.reqSize = req.Method, req.Body, req.Size
	deadline := t + int64(timeout)

	callee := e.actorAt(to)
	if callee == nil || !callee.alive {
		// Connection refused comes back after a round trip to the host, if there is one.
		at := t
		if h, ok := e.byIP[to.Addr()]; ok {
			at += e.rtt(a.host, h)
		}
		e.fail(c, to, min(at, deadline), "nothing listens there")
		return
	}
	c.callee, c.calleeHost = callee, callee.host
	if e.net != nil && !e.net.Reachable(a.host, callee.host, t) {
		e.fail(c, to, min(t+e.rtt(a.host, callee.host), deadline), "a network partition separates the hosts")
		return
	}
	e.scheduleTimeout(c, deadline, int64(timeout))
	// The request's key is taken whether or not it arrives: workers learn that only when it
	// lands, and the sender's count must not depend on when that is.
	seq := e.key(a)
	if e.par != nil {
		e.sendRequest(c, t, seq)
		return
	}
	if arrive, ok := e.transit(a.host, callee.host, req.Size, t); ok {
		c.flags |= fReqInFlight
		e.push(arrive, seq, kindRequest, c.slot, c.gen)
	} else {
		e.stats.Lost++
	}
}

func (e *Engine) fail(c *callRec, to actor.Addr, at int64, reason string) {
	c.err = &actor.CallError{Driver: "sim", Method: c.reqMethod, To: to, Timeout: c.tmo, Reason: reason, Err: actor.ErrUnreachable}
	c.flags |= fFailPending
	e.schedule(at, kindFail, c.slot, c.gen, c.caller)
}

func (e *Engine) rtt(from, to HostID) int64 {
	if e.net == nil {
		return 2 * e.latency
	}
	return int64(e.net.RTT(from, to))
}

func (e *Engine) transit(from, to HostID, size int, t int64) (int64, bool) {
	if e.net == nil {
		return t + e.latency, true
	}
	return e.net.Transit(from, to, size, t, &e.hosts[from].rng.r)
}

func (e *Engine) deliverRequest(c *callRec) {
	callee := c.callee
	if callee.paused {
		callee.hold(kindRequest, c.slot, c.gen)
		return
	}
	c.flags &^= fReqInFlight
	if !callee.alive {
		e.release(c) // the caller times out
		return
	}
	c.flags |= fDelivered
	e.stats.Events++
	fr := e.enter(callee)
	callee.a.Handle(c.from, actor.Request{Method: c.reqMethod, Body: c.reqBody, Size: c.reqSize}, c)
	e.leave(fr)
}

// Respond sends the response back through the network. Only the first call counts, and only from
// the callee's own callbacks; a Responder must not be kept after it has been used, because its
// record then serves another call.
func (c *callRec) Respond(resp actor.Response) {
	if c.flags&(fDelivered|fResponded) != fDelivered {
		return
	}
	e := c.callee.e
	if e.current != c.callee {
		return
	}
	c.flags |= fResponded
	callee := c.callee
	seq := e.key(callee) // taken whether or not it arrives, as a request's
	if e.par != nil {
		e.sendResponse(c, resp, callee.time(), seq)
	} else if arrive, ok := e.transit(c.calleeHost, c.callerHost, resp.Size, callee.time()); ok {
		c.resp = resp
		c.flags |= fRespInFlight
		e.push(arrive, seq, kindResponse, c.slot, c.gen)
	} else {
		e.stats.Lost++
	}
	e.release(c)
}

func (e *Engine) deliverResponse(c *callRec) {
	if c.flags&fDone == 0 && c.caller.paused {
		c.caller.hold(kindResponse, c.slot, c.gen)
		return
	}
	c.flags &^= fRespInFlight
	if c.flags&fDone != 0 {
		e.stats.LateReplies++
		e.release(c)
		return
	}
	e.complete(c, c.resp, nil, &e.stats.Responses)
}

// complete ends call c with resp and err, counted under outcome, and runs its done in the
// caller; a caller that died meanwhile hears nothing. The record is released first: the
// callback may start new calls.
func (e *Engine) complete(c *callRec, resp actor.Response, err error, outcome *uint64) {
	c.flags |= fDone
	caller, done := c.caller, c.done
	e.release(c)
	if !caller.alive {
		return
	}
	e.stats.Events++
	*outcome++
	fr := e.enter(caller)
	done(resp, err)
	e.leave(fr)
}

// expire is a deadline from the event queue.
func (e *Engine) expire(c *callRec, gen uint32) {
	if c.gen != gen {
		e.stale--
		return
	}
	e.timeOut(c)
}

func (e *Engine) timeOut(c *callRec) {
	if c.flags&fDone == 0 && c.caller.paused {
		c.caller.hold(kindTimeout, c.slot, c.gen) // from a lane too: lane is 0 by now
		return
	}
	c.flags &^= fTimeoutQueued
	if c.flags&fDone != 0 {
		e.release(c)
		return
	}
	var err error
	if c.caller.alive {
		err = &actor.CallError{Driver: "sim", Method: c.reqMethod, To: c.callee.addr, Timeout: c.tmo, Reason: fmt.Sprintf("no response within %v", c.tmo), Err: actor.ErrTimeout}
	}
	e.complete(c, actor.Response{}, err, &e.stats.TimedOut)
}

func (e *Engine) failCall(c *callRec) {
	if c.caller.paused {
		c.caller.hold(kindFail, c.slot, c.gen)
		return
	}
	c.flags &^= fFailPending
	e.complete(c, actor.Response{}, c.err, &e.stats.Unreachable)
}
