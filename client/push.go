package client

import (
	"net/http"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Push notifications on the phones. An app with notifications on registers its account with the
// push server (/subscribe through an onion request to the server) when it opens, and again once
// the registration is PushRenew old (session-android TokenManager: a registration is valid for
// 12 hours, app/src/main/java/org/thoughtcrime/securesms/notifications/TokenManager.kt; iOS is
// taken to do the same). It subscribes namespace 0 with the message data.
//
// In the background (GoOffline) the phone does not poll (session-android polls only in the
// foreground). The push server wakes it through Apple's or Google's service (pushrpc.MethodWake,
// accepted even while the app is in the background, as the service reaches a backgrounded
// phone): the app opens the payload with its key and polls its own swarm once (iOS's
// notification service extension and Android's push handler fetch the new messages), then
// sleeps again. Messages decrypted in such a poll are reported with MessageReceived.Background.

// Groups: the phone registers each group it is in as well (session-android
// PushRegistrationHandler registers every 03 group it belongs to; libsession's group push
// subscription is the same /subscribe for the group's 03 ID, signed by the member under its
// subaccount token: spns/register.py "subaccount" and "subaccount_sig"), for the group's
// messages namespace. A group message then wakes a backgrounded phone, which polls that group's
// swarm once. A member that learns it was removed unsubscribes the group (at once when it can,
// else the next time the app opens), after which the server no longer wakes it for the group.

// PushSubscribed: the phone's registration with the push server was answered (OK) or failed.
// Group is the group's ID for a group's registration (or removal, Unsubscribe), zero for the
// own account.
type PushSubscribed struct {
	Group       identity.ID
	Unsubscribe bool
	OK          bool
	Failure     Failure // why it failed: a path or network failure, or FailRejected
	Code        int     // the server's result code when it answered (pushrpc.Code)
}

// EventName implements actor.Event.
func (PushSubscribed) EventName() string { return "client.push_subscribed" }

// PushWoken: a push notification reached the phone: the message it announces and the time from
// the message's timestamp (the sender's clock, as the payload gives it) to the wake-up.
type PushWoken struct {
	Hash       string
	Group      bool // the message is a group's (namespace 11 of the group's swarm)
	Delay      time.Duration
	Background bool // the app was in the background and polls for the message
}

// EventName implements actor.Event.
func (PushWoken) EventName() string { return "client.push_woken" }

// pushState is a phone's registration and background wake-up.
type pushState struct {
	encKey     [32]byte
	keyed      bool
	registered int64 // unix ns of the last successful registration; 0 before the first
	timer      actor.Timer
	// againFor are the groups whose wake-ups came during a background poll: each is polled
	// once more before the app sleeps (Client.wakeAgain is the own swarm's).
	againFor []*groupView
	// token is the device token, Config.PushToken.
	token string
}

// pushActive reports whether the client registers for push notifications.
func (c *Client) pushActive() bool { return c.cfg.PushEnabled && c.cfg.PushServer.Host != "" }

// maybeRegisterPush registers when the app opens unless a registration younger than PushRenew
// exists, and schedules the next registration.
func (c *Client) maybeRegisterPush() {
	if !c.pushActive() || c.bg {
		return
	}
	ps := &c.more().push
	now := c.env.Now()
	since := time.Duration(now.UnixNano() - ps.registered)
	due := ps.registered == 0 || since >= c.cfg.PushRenew
	if due {
		c.registerPush()
	} else {
		for _, v := range c.groupViews() {
			switch {
			case v.kicked:
				c.unregisterGroupPush(v) // removed while the app was away
			case !v.pushed:
				c.registerGroupPush(v) // added while the app was away
			}
		}
	}
	ps.timer.Stop()
	wait := c.cfg.PushRenew
	if !due {
		wait -= since
	}
	ps.timer = c.env.After(wait, c.maybeRegisterPush)
}

// registerPush sends /subscribe for the own account and for each group the client is in, and
// /unsubscribe for each group it was removed from and had registered.
func (c *Client) registerPush() {
	ps := &c.more().push
	if !ps.keyed {
		_, _ = actor.RandReader(c.env.Rand()).Read(ps.encKey[:])
		ps.keyed = true
	}
	signer := &storagerpc.Signer{Suite: c.cfg.Suite, Account: storagerpc.PubkeyFromID(c.ID()), Key: c.keys.signing()}
	c.pushSubscribe(signer, []storagerpc.Namespace{0}, func(ev PushSubscribed) {
		if ev.OK {
			ps.registered = c.env.Now().UnixNano()
		}
	})
	for _, v := range c.groupViews() {
		if v.kicked {
			c.unregisterGroupPush(v)
		} else {
			c.registerGroupPush(v)
		}
	}
}

// registerGroupPush subscribes group v's messages namespace, signed under the member's token.
func (c *Client) registerGroupPush(v *groupView) {
	c.pushSubscribe(c.groupSigner(v), []storagerpc.Namespace{storagerpc.Namespace(groupMessagesNS)}, func(ev PushSubscribed) {
		v.pushed = v.pushed || ev.OK
	})
}

// unregisterGroupPush removes group v's subscription when the phone had one.
func (c *Client) unregisterGroupPush(v *groupView) {
	if !v.pushed || !c.pushActive() || !c.online {
		return
	}
	var sub pushrpc.Subscribe
	sub.Service, sub.Token = c.cfg.PushService, c.more().push.token
	c.env.Work(sub.SignUnsubscribe(c.groupSigner(v), c.netNow().Unix()))
	req := onion.V4Request{Method: http.MethodPost, Endpoint: pushrpc.EndpointUnsubscribe,
		Headers: map[string]string{"Content-Type": transport.JSON}, Body: pushrpc.AppendUnsubscribe(nil, &sub)}
	c.pushRequest(req, PushSubscribed{Group: v.g.id, Unsubscribe: true}, func(ev PushSubscribed) {
		v.pushed = v.pushed && !ev.OK
	})
}

// groupSigner signs for group v's account with the member's key under its token.
func (c *Client) groupSigner(v *groupView) *storagerpc.Signer {
	return &storagerpc.Signer{Suite: c.cfg.Suite, Account: pubkeyOf(v.g.id), Key: c.keys.signing(), Subaccount: v.token}
}

// pushSubscribe sends one /subscribe for signer's account and namespaces; then reports it.
func (c *Client) pushSubscribe(signer *storagerpc.Signer, nss []storagerpc.Namespace, then func(PushSubscribed)) {
	sub := pushrpc.Subscribe{
		Namespaces: nss, Data: true,
		Service: c.cfg.PushService, Token: c.more().push.token, EncKey: c.more().push.encKey,
	}
	c.env.Work(sub.Sign(signer, c.netNow().Unix()))
	req := onion.V4Request{Method: http.MethodPost, Endpoint: pushrpc.EndpointSubscribe,
		Headers: map[string]string{"Content-Type": transport.JSON}, Body: pushrpc.AppendSubscribe(nil, &sub)}
	ev := PushSubscribed{}
	if signer.Account.Prefix == storagerpc.PrefixGroup {
		ev.Group = signer.Account.ID()
	}
	c.pushRequest(req, ev, then)
}

// pushRequest sends req to the push server and reports the answer as ev (then sees it first).
func (c *Client) pushRequest(req onion.V4Request, ev PushSubscribed, then func(PushSubscribed)) {
	label := "push.subscribe"
	if ev.Unsubscribe {
		label = "push.unsubscribe"
	}
	c.serverRequest(c.cfg.PushServer, label, req, false, func(res serverResult) {
		ev.Failure = res.failure
		if res.failure == OK {
			r, err := pushrpc.ParseResult(res.resp.Body)
			switch {
			case err != nil:
				c.garbage(GarbageMalformedResponse)
				ev.Failure = FailBadResponse
			case r.Code != pushrpc.OK:
				ev.Failure, ev.Code = FailRejected, int(r.Code)
			default:
				ev.OK = true
			}
		}
		then(ev)
		c.observe(ev)
	})
}

// handleWake serves the push service's delivery: the phone is reachable whether the app is in
// the foreground or not.
func (c *Client) handleWake(req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: http.StatusOK, Size: transport.HTTPSResponseSize(http.StatusOK, transport.Text, 0)})
	w, ok := req.Body.(*pushrpc.Wake)
	if !ok || c.env == nil || c.x == nil || !c.x.push.keyed {
		return
	}
	ps := &c.x.push
	c.env.Work(cryptomode.PerKiB(c.cfg.Suite.Costs().XChaChaPerKiB, len(w.Sealed)))
	p, err := pushrpc.Open(w.Sealed, ps.encKey)
	if err != nil {
		c.garbage(GarbageUndecryptable)
		return
	}
	// A group's notification names the group's account: the phone polls that group's swarm.
	var v *groupView
	if p.Account.Prefix == storagerpc.PrefixGroup {
		id := p.Account.ID()
		groups := c.groupViews()
		k := slices.IndexFunc(groups, func(v *groupView) bool { return v.g.id == id })
		if k < 0 || groups[k].kicked {
			return // a group the phone left: nothing to show
		}
		v = groups[k]
	}
	background := !c.online || c.bg
	c.observe(PushWoken{Hash: p.Hash, Group: v != nil, Delay: c.deviceNow().Sub(time.UnixMilli(p.Timestamp)), Background: background})
	switch {
	case !background:
		// In the foreground the app polls anyway.
	case c.bg && v == nil:
		c.wakeAgain = true
	case c.bg:
		if !slices.Contains(ps.againFor, v) {
			ps.againFor = append(ps.againFor, v)
		}
	default:
		c.bg, c.online = true, true
		c.wakePoll(v)
	}
}

// wakePoll is a background poll of the own swarm (v nil) or of group v's.
func (c *Client) wakePoll(v *groupView) {
	switch {
	case v == nil:
		c.pollRound()
	case v.kicked:
		c.backgroundPollDone() // removed since the wake-up came: nothing to poll
	default:
		c.pollGroup(v)
	}
}

// backgroundPollDone ends a background poll: once more for each wake-up that came meanwhile,
// else the app sleeps again as it was (paths and in-memory state go, as when it went to the
// background).
func (c *Client) backgroundPollDone() {
	switch {
	case c.wakeAgain:
		c.wakeAgain = false
		c.pollRound()
	case c.x != nil && len(c.x.push.againFor) > 0:
		v := c.x.push.againFor[0]
		c.x.push.againFor = c.x.push.againFor[1:]
		c.wakePoll(v)
	default:
		c.GoOffline()
	}
}
