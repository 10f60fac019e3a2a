package actortest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
)

var (
	caller = netip.MustParseAddrPort("10.0.0.1:1")
	callee = netip.MustParseAddrPort("10.0.0.2:1")
)

// echo answers every request with its size as status, after charging work.
type echo struct {
	env  actor.Env
	work time.Duration
}

func (a *echo) Start(env actor.Env) { a.env = env }
func (a *echo) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	a.env.Work(a.work)
	r.Respond(actor.Response{Status: req.Size})
	r.Respond(actor.Response{Status: 1}) // ignored: one response per request
}

func TestCall(t *testing.T) {
	const latency = 10 * time.Millisecond
	tests := []struct {
		name    string
		setup   func(d *Driver)
		timeout time.Duration
		status  int
		err     error
		after   time.Duration // from the call to its answer
	}{
		{"to an actor", func(d *Driver) { d.Add(callee, &echo{}) }, time.Second, 7, nil, 2 * latency},
		{"the callee's work delays the answer", func(d *Driver) { d.Add(callee, &echo{work: 5 * time.Millisecond}) },
			time.Second, 7, nil, 2*latency + 5*time.Millisecond},
		{"the timeout comes first", func(d *Driver) { d.Add(callee, &echo{}) }, latency, 0, actor.ErrTimeout, latency},
		{"nobody there", func(*Driver) {}, time.Second, 0, actor.ErrUnreachable, latency},
		{"crashed", func(d *Driver) { d.Add(callee, &echo{}); d.Crash(callee) }, time.Second, 0, actor.ErrUnreachable, latency},
		{"served", func(d *Driver) {
			d.Serve = func(from, to actor.Addr, req actor.Request) (actor.Response, bool) {
				return actor.Response{Status: req.Size + 1}, from == caller && to == callee
			}
		}, time.Second, 8, nil, 2 * latency},
		{"dropped by Serve", func(d *Driver) {
			d.Serve = func(actor.Addr, actor.Addr, actor.Request) (actor.Response, bool) { return actor.Response{}, false }
		}, time.Second, 0, actor.ErrTimeout, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := New(latency)
			tc.setup(d)
			resp, err := d.Call(caller, callee, actor.Request{Size: 7}, tc.timeout)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, Epoch.Add(tc.after), d.Now())
			require.Len(t, d.Calls, 1)
			assert.Equal(t, tc.err == nil, d.Calls[0].Answered)
		})
	}
}

func TestTimers(t *testing.T) {
	d := New(time.Millisecond)
	e := d.Env(caller)
	var ran []string
	e.Do(func() {
		e.After(2*time.Second, func() { ran = append(ran, "later") })
		e.After(time.Second, func() { ran = append(ran, "first") })
		e.After(time.Second, func() { ran = append(ran, "second") })
		stopped := e.After(time.Second, func() { ran = append(ran, "stopped") })
		assert.True(t, stopped.Stop())
		assert.False(t, stopped.Stop(), "a stopped timer stops once")
		e.Work(time.Second)
		e.After(0, func() { ran = append(ran, "after work") })
	})
	d.RunFor(1500 * time.Millisecond)
	assert.Equal(t, []string{"first", "second", "after work"}, ran)
	d.RunFor(time.Second)
	assert.Equal(t, []string{"first", "second", "after work", "later"}, ran)
	assert.Equal(t, Epoch.Add(2500*time.Millisecond), d.Now())
}

func TestEventsAndRand(t *testing.T) {
	d := New(time.Millisecond)
	a, b := d.Env(caller), d.Env(callee)
	a.Do(func() { a.Observe(pinged{}) })
	b.Do(func() { b.Observe(other{}) })
	require.Len(t, d.Events, 2)
	assert.Equal(t, Observed{At: Epoch, From: caller, Event: pinged{}}, d.Events[0])
	assert.Equal(t, []pinged{{}}, EventsOf[pinged](d.Events))

	d.Quiet = true
	a.Do(func() { a.Observe(pinged{}) })
	assert.Len(t, d.Events, 2, "a quiet driver records nothing")

	assert.Equal(t, New(0).Env(caller).Rand().Uint64(), a.Rand().Uint64(), "the stream depends only on the address")
	assert.NotEqual(t, New(0).Env(caller).Rand().Uint64(), New(0).Env(callee).Rand().Uint64())
}

type pinged struct{}

func (pinged) EventName() string { return "pinged" }

type other struct{}

func (other) EventName() string { return "other" }
