package docker

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live/proc"
)

// EventSink receives a node's events with the node's address, as the simulator's sinks do.
type EventSink func(at time.Time, from actor.Addr, ev actor.Event)

// followRetry is how long a follower waits before reading a node's stream again after it
// ended (the node was killed, paused or is restarting).
const followRetry = 500 * time.Millisecond

// streamClient has no timeout: a stream lasts as long as the run.
var streamClient = &http.Client{}

// FollowEvents reads the event stream (GET /events, proc.EventLine) of the admin endpoint at
// url, with the leakage lines leakage asks for, and hands each event to sink with from as its
// source, reading again whenever the stream ends, until ctx ends. Lines it cannot read are
// logged and skipped. Events a node observes while no stream is open (while it restarts) are
// not seen.
func FollowEvents(ctx context.Context, url string, leakage proc.LeakageQuery, from actor.Addr, sink EventSink, log *slog.Logger) {
	url += "/events"
	if leakage != proc.LeakageNone {
		url += "?leakage=" + string(leakage)
	}
	for ctx.Err() == nil {
		if err := followOnce(ctx, url, from, sink, log); err != nil && ctx.Err() == nil {
			log.Debug("event stream ended", "node", from.String(), "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(followRetry):
		}
	}
}

func followOnce(ctx context.Context, url string, from actor.Addr, sink EventSink, log *slog.Logger) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := streamClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /events: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		at, ev, err := proc.ParseEventLine(sc.Bytes())
		if err != nil {
			log.Warn("skipping an event line", "node", from.String(), "err", err)
			continue
		}
		sink(at, from, ev)
	}
	return sc.Err()
}

// FollowNodes follows the event streams (FollowEvents) of every node, those that join later
// (StartNode) included, and of the registry (blocks, decommissions, deregistrations; seed
// requests with the leakage lines), with the leakage lines leakage asks for, until the returned stop
// is called; stop waits for the followers to end. The registry's events before the call (the
// blocks while the nodes came up) are not seen.
func (c *Cluster) FollowNodes(sink EventSink, leakage proc.LeakageQuery) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{ctx: ctx, sink: sink, leakage: leakage}
	c.mu.Lock()
	c.follow = f
	members := append([]proc.Member{{Name: Registry, Addr: c.RegistryAddr()}}, c.nodes...)
	c.mu.Unlock()
	for _, m := range members {
		f.add(m, c.log)
	}
	return func() {
		c.mu.Lock()
		c.follow = nil
		c.mu.Unlock()
		cancel()
		f.wg.Wait()
	}
}

// follower is what FollowNodes follows the streams with.
type follower struct {
	ctx     context.Context
	sink    EventSink
	leakage proc.LeakageQuery
	wg      sync.WaitGroup
}

// add follows m's stream until the follower's context ends.
func (f *follower) add(m proc.Member, log *slog.Logger) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		FollowEvents(f.ctx, AdminURL(m.Addr.Addr()), f.leakage, m.Addr, f.sink, log)
	}()
}

// Gateway is the address of the harness's machine on the run's network: actors running in the
// harness (docker mode's clients) bind and dial from it, so that the nodes can reach them and
// see them as distinct ports of one host.
func (c *Cluster) Gateway() netip.Addr { return addrIn(c.prefix, 1) }
