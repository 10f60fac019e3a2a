package scenarios

import (
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
	"github.com/sessionsim/sessionsim/servers/pushserver"
)

// PushServer is the push-notification server and the phones that use it.
type PushServer struct {
	// Enabled runs the server; the phones of Platforms register with it when their app opens
	// and are woken through it in the background. Default false.
	Enabled bool `yaml:"enabled"`
	// Region is where the server runs (an assumption: the operator does not publish it).
	Region string `yaml:"region"`
	// Cores is the server host's CPU cores.
	Cores int `yaml:"cores"`
	// NotifyDelay is the push service's delivery delay (APNs, Firebase), from the server's
	// hand-off to the phone. Neither service publishes it: the default (median 500 ms, sigma
	// 0.8, 100 ms to 30 s) is an assumption to vary.
	NotifyDelay DelayDist `yaml:"notify_delay"`
	// Platforms are the apps that register for push notifications: ios and android (the
	// desktop app registers none).
	Platforms []string `yaml:"platforms"`
}

// DefaultPushServer is the push server of the defaults: off.
func DefaultPushServer() PushServer {
	return PushServer{
		Region:      "eu-central-1",
		Cores:       4,
		NotifyDelay: DelayDist{Median: 500 * time.Millisecond, Sigma: 0.8, Min: 100 * time.Millisecond, Max: 30 * time.Second},
		Platforms:   []string{"ios", "android"},
	}
}

// validatePush checks servers.push.
func (s *Scenario) validatePush(region func(string) error) error {
	p := s.Servers.Push
	if err := region(p.Region); err != nil {
		return bad("servers.push.region", p.Region, err.Error())
	}
	if p.Cores < 1 || p.Cores > 256 {
		return bad("servers.push.cores", p.Cores, "must be between 1 and 256")
	}
	if err := s.validateDelay("servers.push.notify_delay", p.NotifyDelay); err != nil {
		return err
	}
	if p.Enabled && len(p.Platforms) == 0 {
		return bad("servers.push.platforms", p.Platforms, "must name ios, android or both when servers.push.enabled is true")
	}
	for i, name := range p.Platforms {
		pl, err := client.ParsePlatform(name)
		switch {
		case err != nil:
			return bad(fmt.Sprintf("servers.push.platforms[%d]", i), name, "must be ios or android")
		case pl == client.Desktop:
			return bad(fmt.Sprintf("servers.push.platforms[%d]", i), name, "the desktop app registers no push notifications: use ios, android or both")
		case slices.Contains(p.Platforms[:i], name):
			return bad(fmt.Sprintf("servers.push.platforms[%d]", i), name, "is listed twice")
		}
	}
	return nil
}

// validateDelay checks a clipped log-normal delay under key.
func (s *Scenario) validateDelay(key string, d DelayDist) error {
	switch {
	case d.Min < 0:
		return bad(key+".min", d.Min, "must not be negative")
	case d.Max < d.Min:
		return bad(key+".max", d.Max, "must be at least "+key+".min")
	case d.Median < d.Min || d.Median > d.Max:
		return bad(key+".median", d.Median, "must lie between "+key+".min and "+key+".max")
	case d.Sigma < 0 || d.Sigma > 5:
		return bad(key+".sigma", d.Sigma, "must be between 0 and 5")
	}
	return nil
}

// pushWorld is the world's push server: its address for the clients and the push services'
// knowledge of each phone's token.
type pushWorld struct {
	srv     *worldServer
	devices map[string]actor.Addr // token -> phone
}

// pushServerHost is the real push server's host name, which the nodes resolve to its host.
const pushServerHost = "push.getsession.org"

// buildPush adds the push server when servers.push.enabled.
func (w *world) buildPush() error {
	p := w.sc.Servers.Push
	if !p.Enabled {
		return nil
	}
	pw := &pushWorld{devices: map[string]actor.Addr{}}
	// The push service reaches a phone where it listens: in docker mode, its address on the
	// run's network rather than its world address.
	socket := func(a actor.Addr) actor.Addr { return a }
	if w.docker != nil {
		socket = w.docker.drv.socket
	}
	cfg := pushserver.Config{
		Suite: w.suite,
		// The world's registry: in docker mode, the registry's container.
		Registry: w.nodeConf.Registry,
		NotifyDelay: pushserver.Delay{
			Median: p.NotifyDelay.Median, Sigma: p.NotifyDelay.Sigma, Min: p.NotifyDelay.Min, Max: p.NotifyDelay.Max,
		},
		Devices:  func(_, token string) (actor.Addr, bool) { a, ok := pw.devices[token]; return socket(a), ok },
		ListPoll: w.nodeConf.ListPoll,
	}
	srv, err := w.addServer(pushserver.Role, "push", pushServerHost, p.Region, p.Cores, func(k identity.Keys) (actor.Actor, error) {
		kp, _, err := w.suite.X25519FromSecret(k.X25519Secret)
		if err != nil {
			return nil, err
		}
		return pushserver.New(cfg, kp), nil
	})
	if err != nil {
		return fmt.Errorf("servers.push: %w", err)
	}
	pw.srv = srv
	w.push = pw
	w.col.push = newPushTally()
	return nil
}

// configurePush registers a client of platform with the push server, when there is one for
// its platform: the device token is derived from its name, as a push service hands each app
// install its own.
func (w *world) configurePush(cfg *client.Config, name, platform string, addr actor.Addr) {
	if w.push == nil || !slices.Contains(w.sc.Servers.Push.Platforms, platform) || !cfg.PushEnabled {
		return
	}
	sum := blake2b.Sum256([]byte(fmt.Sprintf("push token %d %s", w.sc.Seed, name)))
	token := hex.EncodeToString(sum[:]) // 64 hex digits, as APNs tokens (spns apns.py validate)
	cfg.PushServer, cfg.PushToken = w.push.srv.dest, token
	w.push.devices[token] = addr
}

// pushTally measures push notifications from the events.
type pushTally struct {
	firstStored map[string]time.Time // message hash -> first store at a node
	sum         results.Push
	wake        metrics.Histogram // ms
	delivery    metrics.Histogram // ms
}

func newPushTally() *pushTally {
	return &pushTally{firstStored: map[string]time.Time{}, sum: results.Push{Failures: map[string]uint64{}}}
}

// observe takes one event.
func (t *pushTally) observe(at time.Time, ev actor.Event) {
	switch e := ev.(type) {
	case node.MessageStored:
		if e.New && (e.Namespace == 0 || e.Namespace == int16(storagerpc.NamespaceGroupMessages)) {
			if _, ok := t.firstStored[e.Hash]; !ok {
				t.firstStored[e.Hash] = at
			}
		}
	case pushserver.Subscribed:
		t.sum.Subscriptions++
	case pushserver.MonitorSent:
		t.sum.MonitorRequests++
	case lsrpc.Learned:
		if e.Role == pushserver.Role && e.What == "message" {
			t.sum.Notifications++
			if e.Account.Prefix() == identity.PrefixGroup {
				t.sum.GroupNotifications++
			}
		}
	case pushserver.Failed:
		t.sum.Failures[e.Cause]++
	case client.PushSubscribed:
		switch {
		case e.OK:
		case e.Unsubscribe:
			t.sum.Failures["unsubscribe-"+e.Failure.String()]++
		default:
			t.sum.Failures["subscribe-"+e.Failure.String()]++
		}
	case client.PushWoken:
		t.sum.Wakeups++
		if s, ok := t.firstStored[e.Hash]; ok {
			t.wake.Add(float64(at.Sub(s)) / float64(time.Millisecond))
		}
	case client.MessageReceived:
		if s, ok := t.firstStored[e.Hash]; ok && e.Background {
			t.delivery.Add(float64(at.Sub(s)) / float64(time.Millisecond))
		}
	}
}

// fill writes the push section.
func (t *pushTally) fill(s *results.Summary) {
	p := t.sum
	p.Failures = t.sum.Failures
	p.WakeLatencyMs = percentiles(&t.wake)
	p.DeliveryAfterWakeMs = percentiles(&t.delivery)
	s.Push = &p
}
