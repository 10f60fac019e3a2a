package client

import (
	"net/http"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// Clocks. A client's device clock is off from the world's virtual time by Config.ClockOffset
// (the nodes' clocks are the virtual time itself). Every timestamp a client sends (retrieve
// signatures, store timestamps, message timestamps) is its network time: the device clock
// corrected by the offset it learnt from the nodes' "t", or the device clock itself before it
// learnt anything. A node refuses a signature timestamp more than 60 s away from its clock, and
// a store timestamp more than 10 s ahead, with 406 (storagerpc.Store.Check); how each app learns
// and what it does on a 406 is its profile's NetTime.

// NetTime is how an app learns the network time.
type NetTime struct {
	// Samples > 0: the app learns from every batch sub-answer that carries "t" (every 200 of a
	// storage server), taking as its offset the mean of the last Samples offsets (device clock
	// at the answer minus "t"). 1 keeps only the latest.
	Samples int
	// Resync: the app learns only by asking ResyncNodes random pool nodes for "info" through
	// its paths, at start and after a 406 (then retrying the request when it worked), at most
	// once per ResyncEvery after a success, and takes the median of their times, each
	// corrected by half its round trip.
	Resync      bool
	ResyncNodes int
	ResyncEvery time.Duration
	// ResyncTimeout bounds one resync: without every answer by then it fails.
	ResyncTimeout time.Duration
}

// Desktop (session-desktop, 2026).
const (
	// desktopTimeSamples: ts/util/NetworkTime.ts averages the last rollingAverageWindowSize (10)
	// offsets; ts/session/apis/snode_api/batchRequest.ts feeds it the "t" of every batch
	// sub-answer (getNetworkTime.ts, handleTimestampOffsetFromNetwork: device clock at the
	// answer minus "t"). A 406 or 425 aborts the request (ts/session/apis/snode_api/onions.ts,
	// process406Or425Error) without a retry: the next poll or store attempt tries again.
	desktopTimeSamples = 10
)

// iOS (session-ios).
const (
	// iosTimeSamples: session-ios SessionSnodeKit/Networking/OnionRequestAPI.swift (2023) set
	// SnodeAPI.clockOffsetMs from the "t" of each answer, the latest one winning. The 2026 app
	// reads the offset from libsession's network (session_network_time_offset, in
	// SessionNetworkingKit/LibSession/LibSession+Networking.swift), whose source is not public
	// in a form we could read; we keep the 2023 rule. libsession passes 406 and 425 to the
	// caller without blaming a node or path (src/network.cpp, handle_errors).
	iosTimeSamples = 1
)

// Android before 2025 (session-android 1.x, 2021-2024).
const (
	// android2024TimeSamples: libsession/src/main/java/org/session/libsession/snode/
	// OnionRequestAPI.kt of the 2024 app set SnodeAPI.clockOffset from the "t" of each answer,
	// the latest one winning; SnodeAPI.kt failed a 406 with ClockOutOfSync, no retry.
	android2024TimeSamples = 1
)

// Android (session-android, 2026).
const (
	// androidResyncNodes, androidResyncEvery and androidResyncTimeout:
	// app/src/main/java/org/session/libsession/network/SnodeClock.kt resyncs at app start and
	// when app/src/main/java/org/thoughtcrime/securesms/api/snode/SnodeApiErrorManager.kt sees a
	// 406: "info" from 3 random pool nodes, each time corrected by half its round trip, the
	// median kept; at most once per 10 min after a success; 8 s for the whole.
	androidResyncNodes   = 3
	androidResyncEvery   = 10 * time.Minute
	androidResyncTimeout = 8 * time.Second
)

// clockState is what a client learnt about the network time.
type clockState struct {
	// offsets are the last offsets learnt from answers (NetTime.Samples), oldest first.
	offsets []time.Duration
	// offset is the correction in use: network time = device clock - offset.
	offset time.Duration
	// synced is when the last resync succeeded (NetTime.Resync); resyncing joins callers of a
	// resync under way.
	synced    int64 // unix ns; 0 before the first
	resyncing sharedWork
	// device is the device clock's error, Config.ClockOffset.
	device time.Duration
}

// deviceNow is the client's own clock.
func (c *Client) deviceNow() time.Time { return c.env.Now().Add(c.clock.device) }

// netNow is the client's network time: its device clock corrected by what it learnt.
func (c *Client) netNow() time.Time { return c.deviceNow().Add(-c.clock.offset) }

// netNowMS is netNow in ms, as timestamps go on the wire.
func (c *Client) netNowMS() int64 { return c.netNow().UnixMilli() }

// clockError is how far the client's network time is from the nodes' clocks (ground truth,
// for events): negative when it is behind.
func (c *Client) clockError() time.Duration { return c.netNow().Sub(c.env.Now()) }

// learnTime takes the offsets an answer's "t" values give (NetTime.Samples).
func (c *Client) learnTime(stamps []int64) {
	n := c.cfg.NetTime.Samples
	if n <= 0 || len(stamps) == 0 {
		return
	}
	st := &c.clock
	if st.offsets == nil {
		st.offsets = make([]time.Duration, 0, n)
	}
	dev := c.deviceNow()
	for _, t := range stamps {
		off := dev.Sub(time.UnixMilli(t))
		if len(st.offsets) == n {
			// The oldest goes; the mean below does not depend on the order kept.
			copy(st.offsets, st.offsets[1:])
			st.offsets = st.offsets[:n-1]
		}
		st.offsets = append(st.offsets, off)
	}
	var sum time.Duration
	for _, o := range st.offsets {
		sum += o
	}
	// The mean in whole ms, rounded down as the desktop's Math.floor does.
	st.offset = time.Duration(floorDiv(sum.Milliseconds(), int64(len(st.offsets)))) * time.Millisecond
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// answerClock reads a batch answer for what matters to the clock: the clock-skew refusals (406
// and 425) among the sub-answers and, with stamps, the "t" of each sub-answer that has one (a
// profile that does not learn from answers skips parsing every body for it).
func answerClock(a batchAnswer, stamps bool) (ts []int64, refused ClockRejected) {
	rs, err := a.decode()
	if err != nil {
		return nil, refused
	}
	for _, r := range rs {
		switch r.Code {
		case http.StatusNotAcceptable:
			refused.Status406++
			continue
		case http.StatusTooEarly:
			refused.Status425++
			continue
		}
		if !stamps {
			continue
		}
		if t, ok := resultStamp(r); ok {
			ts = append(ts, t)
		}
	}
	return ts, refused
}

// resultStamp is stampOf(r.Body), read from the answer r.Value holds when the node kept it
// (the answers every poll, send and swarm lookup get, whose bodies always carry their "t"), so
// that a structural answer's bodies are not parsed for it.
func resultStamp(r storagerpc.SubResult) (int64, bool) {
	var t int64
	switch v := r.Value.(type) {
	case *storagerpc.RetrieveResponse:
		t = v.T
	case *storagerpc.SwarmResponse[storagerpc.ExpireResult]:
		t = v.T
	case *storagerpc.StoreResponse:
		t = v.T
	case *storagerpc.SwarmInfoResponse:
		t = v.T
	default:
		return stampOf(r.Body)
	}
	if t <= minStamp {
		return 0, false
	}
	return t, true
}

// stampOf is the "t" of a JSON answer body; text bodies (refusals) have none. The desktop takes
// only values after 2021-01-01 (getNetworkTime.ts), against a node that answers garbage.
func stampOf(body []byte) (int64, bool) {
	v, err := wirejson.Parse(body)
	if err != nil || v.Kind != wirejson.Object {
		return 0, false
	}
	m, ok := v.Member("t")
	if !ok {
		return 0, false
	}
	t, kind := m.Integer()
	if kind == wirejson.NotInteger || t <= minStamp {
		return 0, false
	}
	return t, true
}

// minStamp is 2021-01-01 in ms (ts/session/apis/snode_api/getNetworkTime.ts).
const minStamp = 1609419600 * 1000

// readClock applies a destination's answer to the clock: it learns from the "t" values and
// turns a batch whose sub-answers include a 406 or 425 into FailClockSkew, as the apps abort
// such a batch. skew is the client's clock error when it sent the request.
func (c *Client) readClock(res onionResult, method string, skew time.Duration) onionResult {
	var refused ClockRejected
	switch {
	case res.failure == OK && res.status == http.StatusOK:
		var stamps []int64
		stamps, refused = answerClock(res.answer(), c.cfg.NetTime.Samples > 0)
		c.learnTime(stamps)
		if refused.Status406+refused.Status425 > 0 {
			res.failure = FailClockSkew
			res.status = http.StatusNotAcceptable
			if refused.Status406 == 0 {
				res.status = http.StatusTooEarly
			}
		}
	case res.failure == FailClockSkew && res.status == http.StatusTooEarly:
		refused.Status425 = 1
	case res.failure == FailClockSkew:
		refused.Status406 = 1
	}
	if refused.Status406+refused.Status425 > 0 {
		refused.Method, refused.Skew = method, skew
		c.observe(refused)
	}
	return res
}

// afterClockSkew answers a clock-skew refusal as the app does. Android (NetTime.Resync)
// resyncs, joining a resync under way, and retries the request at once when the resync went
// through (SnodeApiErrorManager.kt), or fails it when it did not or was not made (within
// ResyncEvery of the last success); afterClockSkew then reports true, having taken the answer
// over. The other apps fail the request as any refusal: false, the caller carries on.
func (c *Client) afterClockSkew(res onionResult, retry, fail func()) bool {
	if res.failure != FailClockSkew || !c.cfg.NetTime.Resync {
		return false
	}
	ep := c.epoch
	c.resyncClock(func(ok bool) {
		switch {
		case !c.alive(ep):
		case ok:
			retry()
		default:
			fail()
		}
	})
	return true
}

// resyncClock asks NetTime.ResyncNodes random pool nodes for their time through the client's
// paths and takes the median (NetTime.Resync); done, when not nil, learns whether it worked.
// A call while a resync is under way waits for it; a resync within ResyncEvery of the last
// success is not made (false).
func (c *Client) resyncClock(done func(bool)) {
	nt := c.cfg.NetTime
	finish := func(f Failure) {
		if done != nil {
			done(f == OK)
		}
	}
	st := &c.clock
	if !st.resyncing.running() && st.synced != 0 && c.env.Now().UnixNano()-st.synced < int64(nt.ResyncEvery) {
		finish(FailRejected)
		return
	}
	if !st.resyncing.join(finish) {
		return
	}
	ep, over := c.epoch, false
	// end finishes this resync once: answers after its timeout change nothing.
	end := func(f Failure) {
		if !over && c.alive(ep) {
			over = true
			st.resyncing.finish(f)
		}
	}
	timer := c.env.After(nt.ResyncTimeout, func() { end(FailTimeout) })
	c.withPaths(func(f Failure) {
		if !c.alive(ep) {
			return
		}
		if f != OK {
			timer.Stop()
			end(f)
			return
		}
		var picked []nodeIdx
		for range nt.ResyncNodes {
			i, ok := c.rt.pool.pick(c.env.Rand(), func(i nodeIdx) bool { return slices.Contains(picked, i) })
			if !ok {
				break
			}
			picked = append(picked, i)
		}
		if len(picked) == 0 {
			timer.Stop()
			end(FailNoPool)
			return
		}
		var candidates []time.Time
		pending := len(picked)
		for _, i := range picked {
			start := c.env.Now()
			c.onionRequest(i, "info", nil, identity.ID{}, infoRequest, func(res onionResult) {
				pending--
				if over {
					return
				}
				if t, ok := stampOf(res.body); res.failure == OK && ok {
					rtt := c.env.Now().Sub(start)
					// The node's time at the request's start, carried to now on the device's
					// steady clock (SnodeClock.kt: networkTime - rtt/2, plus the time since).
					candidates = append(candidates, time.UnixMilli(t).Add(-rtt/2).Add(c.env.Now().Sub(start)))
				}
				if pending > 0 {
					return
				}
				timer.Stop()
				if len(candidates) == 0 {
					end(FailRejected)
					return
				}
				slices.SortFunc(candidates, func(a, b time.Time) int { return a.Compare(b) })
				median := candidates[len(candidates)/2]
				st.offset = c.deviceNow().Sub(median).Truncate(time.Millisecond)
				st.synced = c.env.Now().UnixNano()
				end(OK)
			})
		}
	})
}

// infoRequest is the "info" request of a clock resync; request bodies are never changed once
// sent, so every client shares it.
var infoRequest = rpcOf(&storagerpc.Info{})
