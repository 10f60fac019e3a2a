package client

import (
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/sogs"
)

// Community is a community server the user joined and the rooms of it they are in.
type Community struct {
	Server onion.Server
	Rooms  []string
}

// CommunityPolled is observed once per poll of a community server: how many rooms it asked
// for, how many messages came (New) and why it failed (OK when the server answered 200).
type CommunityPolled struct {
	Server  string
	Rooms   int
	New     int
	Failure Failure
}

// EventName implements actor.Event.
func (CommunityPolled) EventName() string { return "client.community_polled" }

// communityPoller is one server's poller: the blinded identity (derived at the first poll and
// kept, as the apps keep it), each room's cursor and the timer of the next poll.
type communityPoller struct {
	cfg     Community
	blinded *sogs.Blinded
	rooms   []sogs.RoomCursor
	timer   actor.Timer
	busy    bool
}

// communityPollers makes a poller per server joined (Config.Communities), each room read from
// its start.
func communityPollers(joined []Community) []*communityPoller {
	var out []*communityPoller
	for _, cm := range joined {
		p := &communityPoller{cfg: cm}
		for _, t := range cm.Rooms {
			p.rooms = append(p.rooms, sogs.RoomCursor{Token: t})
		}
		out = append(out, p)
	}
	return out
}

// startCommunities starts a poller per server, each at a random phase of the interval (the apps
// start them as the app opens; the phase keeps clients that open together from polling in step).
func (c *Client) startCommunities() {
	if c.cfg.CommunityPoll <= 0 || len(c.communityPollers()) == 0 {
		return
	}
	ep := c.epoch
	for _, p := range c.communityPollers() {
		p.busy = false
		c.scheduleCommunityPoll(ep, p, time.Duration(c.env.Rand().Int64N(int64(c.cfg.CommunityPoll))))
	}
}

// stopCommunities stops every poller (the app closed or went to the background).
func (c *Client) stopCommunities() {
	for _, p := range c.communityPollers() {
		p.timer.Stop()
	}
}

func (c *Client) scheduleCommunityPoll(ep uint32, p *communityPoller, after time.Duration) {
	p.timer = c.env.After(after, func() {
		if !c.alive(ep) {
			return
		}
		c.pollCommunity(ep, p)
	})
}

// pollCommunity sends one batched poll of p's rooms and schedules the next one the interval
// after its answer (the apps wait for a poll to finish before timing the next).
func (c *Client) pollCommunity(ep uint32, p *communityPoller) {
	if p.busy {
		return
	}
	p.busy = true
	server := p.cfg.Server.X25519
	if p.blinded == nil {
		b, cost := sogs.Blind15(c.cfg.Suite.Costs(), c.keys.ed[:32], server)
		c.env.Work(cost)
		p.blinded = &b
	}
	body := sogs.PollRequest(p.rooms)
	var nonce [sogs.NonceSize]byte
	_, _ = actor.RandReader(c.env.Rand()).Read(nonce[:])
	headers, cost := sogs.Sign(c.cfg.Suite, *p.blinded, server, nonce, c.netNow().Unix(), sogs.BatchMethod, sogs.BatchEndpoint, body)
	c.env.Work(cost)
	headers["Content-Type"] = "application/json"
	req := onion.V4Request{Method: sogs.BatchMethod, Endpoint: sogs.BatchEndpoint, Headers: headers, Body: body}
	sent := p.rooms
	c.serverRequest(p.cfg.Server, "community.poll", req, false, func(res serverResult) {
		p.busy = false
		ev := CommunityPolled{Server: p.cfg.Server.Host, Rooms: len(sent), Failure: res.failure}
		if res.failure == OK && res.status == http.StatusOK {
			got, err := sogs.ParsePollResponse(sent, res.resp.Body)
			if err != nil {
				c.garbage(GarbageOnionResponse)
				ev.Failure = FailBadResponse
			} else {
				for i, r := range got.Rooms {
					p.rooms[i].Seqno, p.rooms[i].InfoUpdates = r.Seqno, r.InfoUpdates
					ev.New += r.New
				}
			}
		}
		x := c.more()
		x.communityPolls++
		x.communityMessages += uint32(ev.New)
		if ev.Failure != OK {
			x.communityPollFailures++
		}
		c.observe(ev)
		c.scheduleCommunityPoll(ep, p, c.cfg.CommunityPoll)
	})
}
