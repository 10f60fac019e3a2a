package sim

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPause runs a frozen actor through each kind of event it can miss: the times are virtual
// seconds from the epoch, on an ideal network of 100 ms one way. The actor (port 1) is paused
// from pauseAt to resumeAt.
func TestPause(t *testing.T) {
	type outcome struct {
		at  time.Duration // when the callback ran
		err error         // a call's error (nil: answered)
	}
	const ms = time.Millisecond
	tests := []struct {
		name              string
		pauseAt, resumeAt time.Duration // resumeAt 0: never
		// script sets up the world; it returns what it recorded.
		script func(t *testing.T, e *Engine, h HostID) *[]outcome
		want   []outcome
		late   uint64 // Stats.LateReplies
	}{
		{
			name: "a timer due while paused fires on resume", pauseAt: 500 * ms, resumeAt: 3 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				spawn(t, e, h, 1, &probe{start: func(p *probe) {
					p.env.After(time.Second, func() { got = append(got, outcome{at: since(e, p.env.Now())}) })
					p.env.After(4*time.Second, func() { got = append(got, outcome{at: since(e, p.env.Now())}) })
				}})
				return &got
			},
			want: []outcome{{at: 3 * time.Second}, {at: 4 * time.Second}},
		},
		{
			name: "a pause that ends before a timer is due changes nothing", pauseAt: 200 * ms, resumeAt: 700 * ms,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				spawn(t, e, h, 1, &probe{start: func(p *probe) {
					p.env.After(time.Second, func() { got = append(got, outcome{at: since(e, p.env.Now())}) })
				}})
				return &got
			},
			want: []outcome{{at: time.Second}},
		},
		{
			name: "a request waits: its caller times out, the late answer is dropped", pauseAt: 500 * ms, resumeAt: 5 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				hung := spawn(t, e, h, 1, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
					got = append(got, outcome{at: since(e, p.env.Now())})
					respondOK(p, f, req, r)
				}})
				spawn(t, e, h, 2, &probe{start: func(p *probe) {
					p.env.After(time.Second, func() {
						p.env.Call(hung, actor.Request{}, 2*time.Second, func(_ actor.Response, err error) {
							got = append(got, outcome{at: since(e, p.env.Now()), err: err})
						})
					})
				}})
				return &got
			},
			want: []outcome{{at: 3 * time.Second, err: actor.ErrTimeout}, {at: 5 * time.Second}},
			late: 1,
		},
		{
			name: "a request still wanted is served on resume", pauseAt: 500 * ms, resumeAt: 2 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				hung := spawn(t, e, h, 1, &probe{handle: respondOK})
				spawn(t, e, h, 2, &probe{start: func(p *probe) {
					p.env.After(time.Second, func() {
						p.env.Call(hung, actor.Request{}, 5*time.Second, func(_ actor.Response, err error) {
							got = append(got, outcome{at: since(e, p.env.Now()), err: err})
						})
					})
				}})
				return &got
			},
			want: []outcome{{at: 2100 * ms}},
		},
		{
			name: "a paused caller hears the response that came before its deadline", pauseAt: 50 * ms, resumeAt: 5 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				other := spawn(t, e, h, 2, &probe{handle: respondOK})
				spawn(t, e, h, 1, &probe{start: func(p *probe) {
					p.env.Call(other, actor.Request{}, 2*time.Second, func(_ actor.Response, err error) {
						got = append(got, outcome{at: since(e, p.env.Now()), err: err})
					})
				}})
				return &got
			},
			want: []outcome{{at: 5 * time.Second}},
		},
		{
			name: "a paused caller hears its deadline when nothing came", pauseAt: 50 * ms, resumeAt: 5 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				silent := spawn(t, e, h, 2, &probe{})
				spawn(t, e, h, 1, &probe{start: func(p *probe) {
					p.env.Call(silent, actor.Request{}, 2*time.Second, func(_ actor.Response, err error) {
						got = append(got, outcome{at: since(e, p.env.Now()), err: err})
					})
				}})
				return &got
			},
			want: []outcome{{at: 5 * time.Second, err: actor.ErrTimeout}},
		},
		{
			name: "a paused caller hears a refused connection on resume", pauseAt: 0, resumeAt: 5 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				spawn(t, e, h, 1, &probe{start: func(p *probe) {
					p.env.Call(netip.AddrPortFrom(e.HostIP(h), 9), actor.Request{}, 2*time.Second, func(_ actor.Response, err error) {
						got = append(got, outcome{at: since(e, p.env.Now()), err: err})
					})
				}})
				return &got
			},
			want: []outcome{{at: 5 * time.Second, err: actor.ErrUnreachable}},
		},
		{
			name: "what is invoked on a paused actor runs on resume", pauseAt: 500 * ms, resumeAt: 3 * time.Second,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				a := spawn(t, e, h, 1, &probe{})
				e.AfterFunc(time.Second, func() {
					require.NoError(t, e.Invoke(a, func() { got = append(got, outcome{at: since(e, e.Now())}) }))
				})
				return &got
			},
			want: []outcome{{at: 3 * time.Second}},
		},
		{
			name: "an actor that dies paused runs nothing more; its callers time out", pauseAt: 500 * ms,
			script: func(t *testing.T, e *Engine, h HostID) *[]outcome {
				var got []outcome
				hung := spawn(t, e, h, 1, &probe{
					start: func(p *probe) {
						p.env.After(time.Second, func() { got = append(got, outcome{at: since(e, p.env.Now())}) })
					},
					handle: respondOK,
				})
				spawn(t, e, h, 2, &probe{start: func(p *probe) {
					p.env.After(time.Second, func() {
						p.env.Call(hung, actor.Request{}, 2*time.Second, func(_ actor.Response, err error) {
							got = append(got, outcome{at: since(e, p.env.Now()), err: err})
						})
					})
				}})
				e.AfterFunc(2*time.Second, func() { require.NoError(t, e.Crash(hung)) })
				return &got
			},
			want: []outcome{{at: 3 * time.Second, err: actor.ErrTimeout}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{Latency: 100 * ms})
			h := host(t, e, HostConfig{})
			got := tt.script(t, e, h)
			a := netip.AddrPortFrom(e.HostIP(h), 1)
			e.AfterFunc(tt.pauseAt, func() {
				require.NoError(t, e.Pause(a))
				assert.True(t, e.Paused(a))
				assert.True(t, e.Alive(a), "a paused actor still runs")
			})
			if tt.resumeAt > 0 {
				e.AfterFunc(tt.resumeAt, func() { require.NoError(t, e.Resume(a)) })
			}
			e.RunFor(10 * time.Second)
			require.Len(t, *got, len(tt.want))
			for i, w := range tt.want {
				assert.Equal(t, w.at, (*got)[i].at, "callback %d", i)
				if w.err == nil {
					assert.NoError(t, (*got)[i].err, "callback %d", i)
				} else {
					assert.ErrorIs(t, (*got)[i].err, w.err, "callback %d", i)
				}
			}
			st := e.Stats()
			assert.Equal(t, tt.late, st.LateReplies)
			assert.False(t, e.Paused(a))
			e.Run()
			assert.Zero(t, e.Stats().Queued, "nothing is left behind")
		})
	}
}

func TestPauseErrors(t *testing.T) {
	e := newEngine(t, Config{})
	h := host(t, e, HostConfig{})
	a := spawn(t, e, h, 1, &probe{})
	nowhere := netip.MustParseAddrPort("10.9.9.9:1")
	assert.ErrorContains(t, e.Pause(nowhere), "no actor runs")
	assert.ErrorContains(t, e.Resume(nowhere), "no actor runs")
	assert.ErrorContains(t, e.Resume(a), "not paused")
	require.NoError(t, e.Pause(a))
	assert.ErrorContains(t, e.Pause(a), "paused already")
	require.NoError(t, e.Crash(a))
	assert.False(t, e.Paused(a), "a dead actor is not paused")
	assert.ErrorContains(t, e.Resume(a), "no actor runs")
}

// TestNoActorErrors: every world function that acts on a running actor refuses an address where
// none runs (never spawned, or crashed) with an error naming itself and the address.
func TestNoActorErrors(t *testing.T) {
	e := newEngine(t, Config{})
	h := host(t, e, HostConfig{})
	dead := spawn(t, e, h, 1, &probe{})
	require.NoError(t, e.Crash(dead))
	nowhere := netip.MustParseAddrPort("10.9.9.9:1")
	tests := []struct {
		name string
		call func(actor.Addr) error
	}{
		{"crash", e.Crash},
		{"stop", e.Stop},
		{"invoke", func(a actor.Addr) error { return e.Invoke(a, func() {}) }},
		{"pause", e.Pause},
		{"resume", e.Resume},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range []actor.Addr{nowhere, dead} {
				assert.EqualError(t, tt.call(a), "sim: "+tt.name+": no actor runs at "+a.String())
			}
		})
	}
}

// TestReplaceKeepsWhatTheWorldKeeps: a restart with Replace is a new incarnation at the same
// address: what the world hands the new actor (a node's store) is all that survives.
func TestReplaceKeepsWhatTheWorldKeeps(t *testing.T) {
	e := newEngine(t, Config{Latency: time.Millisecond})
	h := host(t, e, HostConfig{})
	disk := map[string]bool{}
	memory := 0
	mk := func() *probe {
		seen := 0 // the process's memory
		return &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
			seen++
			memory = seen
			disk[req.Body.(string)] = true
			respondOK(p, f, req, r)
		}}
	}
	a := spawn(t, e, h, 1, mk())
	var errs []error
	sender := &probe{}
	c := spawn(t, e, h, 2, sender)
	send := func(body string) {
		require.NoError(t, e.Invoke(c, func() {
			sender.env.Call(a, actor.Request{Body: body}, time.Second, func(_ actor.Response, err error) { errs = append(errs, err) })
		}))
		e.RunFor(time.Second)
	}
	send("one")
	require.NoError(t, e.Crash(a))
	send("lost")
	require.NoError(t, e.Replace(a, mk()))
	send("two")
	require.Len(t, errs, 3)
	assert.NoError(t, errs[0])
	assert.True(t, errors.Is(errs[1], actor.ErrUnreachable), "nothing listens while it is down: %v", errs[1])
	assert.NoError(t, errs[2], "the same address answers again")
	assert.Equal(t, map[string]bool{"one": true, "two": true}, disk)
	assert.Equal(t, 1, memory, "the new incarnation starts with empty memory")
}
