package client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
)

// ErrNotStarted is returned by Send before the driver started the client.
var ErrNotStarted = errors.New("client: Send before Start: spawn the client on a driver first")

// Send writes a text message of bodySize bytes to the Session ID to and returns at once. The
// message is encrypted and framed now (charging the CPU), reported with MessageSent, and stored
// in the recipient's swarm in the background; StoreResult reports the outcome. Call it on the
// client's loop (sim.Engine.Invoke). A client that is offline keeps the message in its outbox
// and stores it when it comes back online.
func (c *Client) Send(to identity.ID, bodySize int) error {
	return c.SendText(to, strings.Repeat("x", max(0, bodySize)))
}

// SendText is Send with the message text given.
func (c *Client) SendText(to identity.ID, body string) error {
	if c.env == nil {
		return ErrNotStarted
	}
	if to.Prefix() != identity.PrefixSession {
		return fmt.Errorf("client: send to %v: only Session IDs (05) take 1:1 messages", to)
	}
	content := message.NewText(body, uint64(c.netNowMS()))
	c.stats.Sent++
	c.sendContent(to, content, c.env.Now(), len(body), KindText, true)
	return nil
}

// sendContent encrypts content for to, reports MessageSent when sent is set (at is the send
// call, bodySize what the user typed or attached) and stores it, now if online; it returns the
// message hash (empty when nothing could be built).
func (c *Client) sendContent(to identity.ID, content *message.Content, at time.Time, bodySize int, kind Kind, sent bool) string {
	// The store request and the message hash take the bytes; the store's "data" is their base64.
	out := message.Outgoing{Content: content, SentAt: content.SigTimestamp, Encoding: c.cfg.Encoding}
	raw, cost, err := message.BuildRaw(c.cfg.Suite, actor.RandReader(c.env.Rand()), c.keys.signing(), to, out)
	c.env.Work(cost)
	if err != nil {
		// Only an invalid recipient key gets here: nothing can be stored.
		c.stats.StoreFailed++
		if sent {
			c.observe(MessageSent{To: to, At: at, Body: bodySize, Kind: kind})
		}
		c.observe(StoreResult{To: to, Failure: FailRejected})
		return ""
	}
	o := &outgoing{to: to, msg: out, data: raw, last: noNode, hash: messageHash(to, contentNamespace, raw)}
	c.noteConversation(to, false)
	if sent {
		c.observe(MessageSent{Hash: o.hash, To: to, At: at, Body: bodySize, Size: base64.StdEncoding.EncodedLen(len(raw)), Kind: kind})
	}
	c.queueStore(o)
	return o.hash
}

// Outbox is the number of messages not yet stored or given up.
func (c *Client) Outbox() int { return len(c.outbox()) }

func (c *Client) attemptStore(o *outgoing) {
	c.swarmFor(o.to, func(f Failure) { c.storeFailed(o, f) }, func(e *swarmEntry) {
		var m nodeIdx
		var ok bool
		if o.stage421 > 0 {
			m, ok = c.pickMember(e, o.last)
		}
		if !ok {
			m, ok = c.pickMember(e)
		}
		if !ok {
			c.storeFailed(o, FailNoSwarm)
			return
		}
		o.last = m
		o.attempts++
		c.stats.StoreRequests++
		rpc, nss := c.storeRPC(o)
		c.onionRequest(m, "store", nss, o.to, rpc, func(res onionResult) {
			if c.afterClockSkew(res, func() { c.attemptStore(o) }, func() { c.storeFailed(o, res.failure) }) {
				return
			}
			status, body := res.status, res.body
			if res.failure == OK {
				var err error
				if status, body, err = storeOutcome(res.answer()); err != nil {
					c.garbage(GarbageMalformedResponse)
					res.failure = FailBadResponse
				}
			}
			switch {
			case status == 200:
				c.storeDone(o, OK)
			case status == 421:
				c.store421(o, e, m, body)
			case res.failure == OK:
				c.storeFailed(o, FailRejected)
			default:
				c.storeFailed(o, res.failure)
			}
		})
	})
}

// storeRPC is the store request of o and the namespaces it names: an unsigned store in the
// recipient's namespace 0, or a signed store in a group's swarm.
func (c *Client) storeRPC(o *outgoing) (rpcRequest, []int16) {
	if o.group != nil {
		return c.groupStoreRequest(o), o.group.storeNamespaces(o.keys)
	}
	return storeRequest(o.to, o.data, c.netNowMS(), c.cfg.TTL, c.cfg.StoreRetry.Sequence), storeNamespaces
}

// store421: retry at once on another member with the swarm the node named; then refresh the
// pool and the swarm and retry; then give up.
func (c *Client) store421(o *outgoing, e *swarmEntry, from nodeIdx, body []byte) {
	o.stage421++
	switch o.stage421 {
	case 1:
		c.adopt421(e, from, body)
		c.attemptStore(o)
	case 2:
		c.setMembers(e, nil)
		c.refreshPool()
		ep := c.epoch
		c.env.After(c.cfg.StoreRetry.Delay, func() {
			if c.alive(ep) {
				c.attemptStore(o)
			}
		})
	default:
		c.storeDone(o, FailWrongSwarm)
	}
}

func (c *Client) storeFailed(o *outgoing, f Failure) {
	o.fails++
	sr := c.cfg.StoreRetry
	if int(o.fails) >= sr.Attempts {
		c.storeDone(o, f)
		return
	}
	wait := sr.Delay
	if sr.Doubling {
		wait <<= o.fails - 1
	}
	ep := c.epoch
	c.env.After(wait, func() {
		if c.alive(ep) {
			c.attemptStore(o)
		}
	})
}

// queueStore puts o in the outbox, where it stays until it is stored or given up (storeDone),
// and stores it now if the client is online; an offline client stores it when it comes back.
func (c *Client) queueStore(o *outgoing) {
	x := c.more()
	x.outbox = append(x.outbox, o)
	if c.online {
		c.attemptStore(o)
	}
}

// storeSyncCopy stores a copy of a message stored for another account in the client's own
// swarm, so the account's other devices see what it sent. All three apps do it after a
// successful 1:1 send: session-desktop ts/session/sending/MessageSentHandler.ts
// (handleSwarmMessageSentSuccess), session-android app/src/main/java/org/session/libsession/
// messaging/sending_receiving/MessageSender.kt (isSyncMessage), session-ios
// SessionMessagingKit/Sending & Receiving/MessageSender.swift (scheduleSyncMessageIfNeeded).
// The copy is the same Content encrypted to the client's own key (the apps add the recipient
// as syncTarget, which the simulated Content does not carry).
func (c *Client) storeSyncCopy(sent *outgoing) {
	raw, cost, err := message.BuildRaw(c.cfg.Suite, actor.RandReader(c.env.Rand()), c.keys.signing(), c.ID(), sent.msg)
	c.env.Work(cost)
	if err != nil {
		// Our own key is valid: nothing gets here but a broken build.
		c.observe(SyncCopyStored{Failure: FailRejected})
		return
	}
	o := &outgoing{to: c.ID(), sync: true, data: raw, last: noNode, hash: messageHash(c.ID(), contentNamespace, raw)}
	x := c.more()
	x.outbox = append(x.outbox, o)
	c.attemptStore(o)
}

func (c *Client) storeDone(o *outgoing, f Failure) {
	c.x.outbox = slices.DeleteFunc(c.x.outbox, func(x *outgoing) bool { return x == o })
	var addr actor.Addr
	if o.last != noNode {
		addr = c.rt.dir.addr(o.last)
	}
	if o.sync {
		c.observe(SyncCopyStored{Hash: o.hash, Failure: f, Attempts: int(o.attempts), Node: addr})
		return
	}
	if o.keys {
		c.rekeyDone(o, f)
		return
	}
	if f == OK && o.to != c.ID() && o.group == nil {
		defer c.storeSyncCopy(o)
	}
	if f == OK {
		c.stats.Stored++
		// Our own store will come back if we poll a shared swarm; it is not news.
	} else {
		c.stats.StoreFailed++
	}
	c.observe(StoreResult{Hash: o.hash, To: o.to, Failure: f, Attempts: int(o.attempts), Node: addr})
}
