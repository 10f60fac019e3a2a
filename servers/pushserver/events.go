package pushserver

import "github.com/sessionsim/sessionsim/protocol/identity"

// Events the push server observes. What it learns about accounts is lsrpc.Learned; these count
// its work for the summary.

// Subscribed: a device's subscription was accepted, new (Added) or renewed.
type Subscribed struct {
	Account identity.ID
	Added   bool
}

// EventName implements actor.Event.
func (Subscribed) EventName() string { return "push.subscribed" }

// MonitorSent: a monitor.messages request went to Node with the subscriptions of Accounts
// accounts (Subscriptions in all); Size is its wire size.
type MonitorSent struct {
	Node          [32]byte
	Accounts      int
	Subscriptions int
	Size          int
}

// EventName implements actor.Event.
func (MonitorSent) EventName() string { return "push.monitor_sent" }

// Notified: the first notice of a new message (by hash) for a subscribed account; later
// notices of it from other swarm members were dropped as duplicates.
type Notified struct {
	Account identity.ID
	Hash    string
}

// EventName implements actor.Event.
func (Notified) EventName() string { return "push.notified" }

// Woke: the push service delivered a notification of message Hash to a device of Account.
type Woke struct {
	Account identity.ID
	Hash    string
}

// EventName implements actor.Event.
func (Woke) EventName() string { return "push.woke" }

// Failure causes.
const (
	CauseBadRequest     = "bad-request"     // a /subscribe or /unsubscribe that does not parse or check out
	CauseBadSignature   = "bad-signature"   // a subscription whose signature does not verify
	CauseMonitorTimeout = "monitor-timeout" // a node did not answer monitor.messages
	CauseMonitorRefused = "monitor-refused" // a node refused a subscription
	CauseBadNotice      = "bad-notice"      // a notify.message that does not parse
	CauseUnknownDevice  = "unknown-device"  // the push service knows no device for the token
	CauseWakeFailed     = "wake-failed"     // the push service could not deliver to the phone
)

// Failed: something the server tried did not work, by cause.
type Failed struct {
	Cause string
}

// EventName implements actor.Event.
func (Failed) EventName() string { return "push.failed" }
