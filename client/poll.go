package client

import (
	"encoding/base64"
	"errors"
	"slices"

	"github.com/sessionsim/sessionsim/protocol/message"
)

// pollRound polls the own swarm once and schedules the next round.
func (c *Client) pollRound() {
	if !c.online {
		return
	}
	ep := c.epoch
	c.stats.Polls++
	c.swarmFor(c.ID(), func(Failure) { c.pollDone(ep, false) }, func(e *swarmEntry) {
		targets := c.pollTargets(e)
		if len(targets) == 0 {
			c.pollDone(ep, false)
			return
		}
		pending, anyOK := len(targets), false
		for _, t := range targets {
			c.retrieve(e, t, func(ok bool) {
				pending--
				anyOK = anyOK || ok
				if !ok && t == c.poll.current {
					c.poll.current = noNode
				}
				if pending == 0 {
					c.pollDone(ep, anyOK)
				}
			})
		}
	})
}

// pollTargets picks the members to poll this round: Parallel random ones, the next of a cycle
// through the swarm, or a sticky member until it failed or served SwitchAfter polls.
func (c *Client) pollTargets(e *swarmEntry) []nodeIdx {
	pr := c.cfg.Poll
	if pr.Cycle {
		m, ok := c.pickMember(e, c.poll.used...)
		if !ok {
			// Every member had its turn: start a new cycle, which may begin with the last one.
			c.poll.used = c.poll.used[:0]
			if m, ok = c.pickMember(e); !ok {
				return nil
			}
		}
		c.poll.used = append(c.poll.used, m)
		return []nodeIdx{m}
	}
	if pr.Sticky {
		cur := c.poll.current
		valid := cur != noNode && slices.Contains(e.nodes, cur) && c.rt.pool.contains(cur)
		if !valid || (pr.SwitchAfter > 0 && int(c.poll.count) >= pr.SwitchAfter) {
			next, ok := c.pickMember(e, cur)
			if !ok {
				next, ok = c.pickMember(e)
			}
			if !ok {
				return nil
			}
			c.poll.current, c.poll.count = next, 0
		}
		c.poll.count++
		return []nodeIdx{c.poll.current}
	}
	var out []nodeIdx
	for range pr.Parallel {
		m, ok := c.pickMember(e, out...)
		if !ok {
			break
		}
		out = append(out, m)
	}
	return out
}

func (c *Client) pollDone(ep uint32, ok bool) {
	if !c.alive(ep) {
		return
	}
	wait := c.cfg.Poll.Interval
	if ok {
		c.poll.fails = 0
	} else {
		c.stats.PollFailures++
		c.poll.fails++
		if d, has := c.cfg.Poll.Backoff.Delay(int(c.poll.fails)); has {
			wait = d
		}
	}
	if c.bg {
		c.backgroundPollDone()
		return
	}
	c.poll.timer = c.env.After(wait, c.pollRound)
}

// retrieve asks member t for every polled namespace after the last hash seen from it.
func (c *Client) retrieve(e *swarmEntry, t nodeIdx, done func(bool)) {
	nss := c.cfg.Namespaces
	var held [8]string // room for the usual namespaces without a heap allocation
	last := held[:0]
	for _, ns := range nss {
		last = append(last, c.last.get(t, ns))
	}
	exp := c.configExpire()
	rpc, cost := retrieveRequest(c.cfg.Suite, c.keys.signing(), c.ID(), nss, last, c.netNowMS(), c.cfg.maxSizeOf, exp)
	c.env.Work(cost)
	c.onionRequest(t, "retrieve", nss, c.ID(), rpc, func(res onionResult) {
		var eo expireOutcome
		if len(exp.hashes) > 0 {
			defer func() {
				c.observe(ConfigExpiryResult{Hashes: len(exp.hashes), Sent: res.sent, Status: eo.status, Members: eo.members, Updated: eo.updated})
			}()
		}
		if c.afterClockSkew(res, func() { c.retrieve(e, t, done) }, func() { done(false) }) {
			return
		}
		if res.status == 421 {
			c.adopt421(e, t, res.body)
			done(false)
			return
		}
		if res.failure != OK {
			done(false)
			return
		}
		var results []nsResult
		var err error
		if results, eo, err = decodeRetrieve(res.answer(), len(nss), exp); err != nil {
			c.garbage(GarbageMalformedResponse)
			done(false)
			return
		}
		ok, moved := false, false
		for k, rr := range results {
			if rr.status == 421 {
				if !moved {
					// Every namespace names the same swarm: adopt it once.
					c.adopt421(e, t, rr.body421)
					moved = true
				}
				continue
			}
			if rr.status != 200 {
				continue
			}
			ok = true
			for _, m := range rr.messages {
				c.receive(nss[k], m)
			}
			if n := len(rr.messages); n > 0 {
				hash := rr.messages[n-1].Hash
				if i := slices.Index(c.cfgs.hash[:], hash); i >= 0 {
					hash = c.cfgs.hash[i] // a config message of the client's own: its hash is held already
				}
				c.last.set(t, nss[k], hash)
			}
		}
		if ok {
			c.seen.prune(c.env.Now().Unix())
		}
		done(ok)
	})
}

// receive handles one retrieved message: new hashes of the inbox are opened and verified.
func (c *Client) receive(ns int16, m retrieved) {
	if !c.seen.add(m.Hash, m.Expiry/1000) {
		c.stats.Duplicates++
		return
	}
	if ns != 0 {
		// Config namespaces hold libsession config dumps; the simulator has no configs to merge.
		return
	}
	rcv, cost, err := message.ReceiveRaw(c.cfg.Suite, c.x25519(), m.Data, c.cfg.KeyMemo.Convert)
	c.env.Work(cost)
	if err != nil {
		c.garbage(classifyMessageError(err))
		return
	}
	if rcv.SenderID == c.ID() {
		// A sync copy of our own (clients never write to themselves otherwise): opened like
		// any message, filed as one we sent.
		return
	}
	c.stats.Received++
	// The app shows the message, which marks its conversation read (and starts it, for a
	// first message from someone).
	c.noteConversation(rcv.SenderID, true)
	c.observe(MessageReceived{Hash: m.Hash, From: rcv.SenderID, Namespace: ns, Size: base64.StdEncoding.EncodedLen(len(m.Data)), Background: c.bg})
	if dm := rcv.Content.DataMessage; dm != nil && len(dm.Attachments) > 0 {
		c.fetchAttachments(m.Hash, dm.Attachments)
	}
}

func classifyMessageError(err error) GarbageKind {
	var de *message.DecodeError
	switch {
	case errors.Is(err, message.ErrBadSignature), errors.Is(err, message.ErrBadSenderKey):
		return GarbageBadSignature
	case errors.Is(err, message.ErrDecrypt):
		return GarbageUndecryptable
	case errors.As(err, &de), errors.Is(err, message.ErrEnvelopeType), errors.Is(err, message.ErrBadPadding):
		return GarbageMalformedMessage
	}
	return GarbageUndecryptable
}
