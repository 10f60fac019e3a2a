package client

import (
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// serverResult is the outcome of one onion request to a server (file, push or community
// server): failure and status as for a node (status is the server's code when it answered),
// and the server's answer.
type serverResult struct {
	failure Failure
	status  int
	resp    onion.V4Response
}

// serverRequest sends req through one of the paths to the server dest (a v4 onion request,
// proxied by the path's last hop) and runs done with the outcome on the client's loop (never
// when the client went offline meanwhile). label names the request in the OnionRoundTrip event
// and the run's request mix (such as "file.upload"); file sends it over a file path
// (Config.FilePaths) when the client keeps any, as iOS does for attachments.
func (c *Client) serverRequest(dest onion.Server, label string, req onion.V4Request, file bool, done func(serverResult)) {
	c.serverRequestWithin(dest, label, req, file, c.cfg.RequestTimeout, done)
}

// serverRequestWithin is serverRequest with its own timeout (attachments take longer than an RPC).
func (c *Client) serverRequestWithin(dest onion.Server, label string, req onion.V4Request, file bool, timeout time.Duration, done func(serverResult)) {
	c.whenPaths(func(f Failure) { done(serverResult{failure: f}) }, func(ep uint32) {
		c.sendToServer(ep, dest, label, req, file && c.cfg.FilePaths > 0, timeout, done)
	})
}

func (c *Client) sendToServer(ep uint32, dest onion.Server, label string, req onion.V4Request, file bool, timeout time.Duration, done func(serverResult)) {
	r, now := c.env.Rand(), c.env.Now()
	c.rt.rotate(r, now)
	k := c.rt.choosePathOf(r, noNode, file)
	if k < 0 {
		c.stats.OnionFailures++
		done(serverResult{failure: FailNoPath})
		return
	}
	var keys pathHops
	p, hops := c.pathOf(k, &keys)
	built, err := onion.BuildToServer(c.cfg.Suite, actor.RandReader(r), p, dest, req)
	c.env.Work(built.Cost)
	if err != nil {
		// Only a malformed request (no method or endpoint) or a bad server key gets here.
		c.stats.OnionFailures++
		done(serverResult{failure: FailRejected})
		return
	}
	guard := c.rt.paths[k].hops[0]
	guardAddr := hops[0]
	start := c.env.Now()
	c.stats.OnionRequests++
	post := post(guardAddr, onion.GuardEndpoint, transport.Binary, built.Body)
	reply, size := built.Reply, post.Size // not the body: see sendOnion
	c.env.Call(guardAddr, post, timeout, func(resp actor.Response, err error) {
		if !c.alive(ep) {
			return
		}
		res := c.serverOutcome(guard, reply, resp, err)
		if res.failure != OK {
			c.stats.OnionFailures++
		}
		c.observe(OnionRoundTrip{Method: label, Server: dest.Host, Guard: guardAddr, RTT: c.env.Now().Sub(start),
			Status: res.status, Failure: res.failure, Path: hops, Size: size})
		c.maybeRefreshPool()
		done(res)
	})
}

// serverOutcome reads a server's answer. Path errors are charged as for a node; a server's
// refusal is FailRejected and charged to nobody (a server is not in the pool to strike).
func (c *Client) serverOutcome(guard nodeIdx, reply onion.Key, resp actor.Response, err error) serverResult {
	res, answer, answered := c.pathOutcome(guard, resp, err)
	if !answered {
		return serverResult{failure: res.failure, status: res.status}
	}
	v4, cost, derr := onion.OpenV4Response(c.cfg.Suite.Costs(), reply, bodyBytes(answer))
	c.env.Work(cost)
	if derr != nil {
		c.garbage(GarbageOnionResponse)
		return serverResult{failure: FailBadResponse}
	}
	out := serverResult{status: v4.Code, resp: v4}
	if v4.Code < 200 || v4.Code > 299 {
		out.failure = FailRejected
	}
	return out
}
