package client

import (
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
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

// PushSubscribed: the phone's registration with the push server was answered (OK) or failed.
type PushSubscribed struct {
	OK      bool
	Failure Failure // why it failed: a path or network failure, or FailRejected
	Code    int     // the server's result code when it answered (pushrpc.Code)
}

// EventName implements actor.Event.
func (PushSubscribed) EventName() string { return "client.push_subscribed" }

// PushWoken: a push notification reached the phone: the message it announces and the time from
// the message's timestamp (the sender's clock, as the payload gives it) to the wake-up.
type PushWoken struct {
	Hash       string
	Delay      time.Duration
	Background bool // the app was in the background and polls for the message
}

// EventName implements actor.Event.
func (PushWoken) EventName() string { return "client.push_woken" }

// pushState is a phone's registration and background wake-up.
type pushState struct {
	encKey     [32]byte
	keyed      bool
	registered time.Time // last successful registration
	timer      actor.Timer
	bg         bool // a background poll runs (the app was woken in the background)
	again      bool // another wake-up came during it: poll once more before sleeping
}

// pushActive reports whether the client registers for push notifications.
func (c *Client) pushActive() bool { return c.cfg.PushEnabled && c.cfg.PushServer.Host != "" }

// maybeRegisterPush registers when the app opens unless a registration younger than PushRenew
// exists, and schedules the next registration.
func (c *Client) maybeRegisterPush() {
	if !c.pushActive() || c.push.bg {
		return
	}
	now := c.env.Now()
	due := c.push.registered.IsZero() || now.Sub(c.push.registered) >= c.cfg.PushRenew
	if due {
		c.registerPush()
	}
	c.push.timer.Stop()
	wait := c.cfg.PushRenew
	if !due {
		wait -= now.Sub(c.push.registered)
	}
	c.push.timer = c.env.After(wait, c.maybeRegisterPush)
}

// registerPush sends /subscribe for the own account.
func (c *Client) registerPush() {
	if !c.push.keyed {
		_, _ = actor.RandReader(c.env.Rand()).Read(c.push.encKey[:])
		c.push.keyed = true
	}
	sub := pushrpc.Subscribe{
		Namespaces: []storagerpc.Namespace{0}, Data: true,
		Service: c.cfg.PushService, Token: c.cfg.PushToken, EncKey: c.push.encKey,
	}
	signer := &storagerpc.Signer{Suite: c.cfg.Suite, Account: storagerpc.PubkeyFromID(c.id), Key: c.keys.signing()}
	c.env.Work(sub.Sign(signer, c.netNow().Unix()))
	req := onion.V4Request{Method: http.MethodPost, Endpoint: pushrpc.EndpointSubscribe,
		Headers: map[string]string{"Content-Type": transport.JSON}, Body: pushrpc.AppendSubscribe(nil, &sub)}
	c.serverRequest(c.cfg.PushServer, "push.subscribe", req, false, func(res serverResult) {
		ev := PushSubscribed{Failure: res.failure}
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
				c.push.registered = c.env.Now()
			}
		}
		c.observe(ev)
	})
}

// handleWake serves the push service's delivery: the phone is reachable whether the app is in
// the foreground or not.
func (c *Client) handleWake(req actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: http.StatusOK, Size: transport.HTTPSResponseSize(http.StatusOK, transport.Text, 0)})
	w, ok := req.Body.(*pushrpc.Wake)
	if !ok || c.env == nil || !c.push.keyed {
		return
	}
	c.env.Work(cryptomode.PerKiB(c.cfg.Suite.Costs().XChaChaPerKiB, len(w.Sealed)))
	p, err := pushrpc.Open(w.Sealed, c.push.encKey)
	if err != nil {
		c.garbage(GarbageUndecryptable)
		return
	}
	background := !c.online || c.push.bg
	c.observe(PushWoken{Hash: p.Hash, Delay: c.deviceNow().Sub(time.UnixMilli(p.Timestamp)), Background: background})
	switch {
	case !background:
		// In the foreground the app polls anyway.
	case c.push.bg:
		c.push.again = true
	default:
		c.push.bg, c.online = true, true
		c.pollRound()
	}
}

// backgroundPollDone ends a background poll: once more if another wake-up came meanwhile, else
// the app sleeps again as it was (paths and in-memory state go, as when it went to the
// background).
func (c *Client) backgroundPollDone() {
	if c.push.again {
		c.push.again = false
		c.pollRound()
		return
	}
	c.GoOffline()
}
