package live

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
)

// fnActor is an actor made of functions, for tests.
type fnActor struct {
	start  func(env actor.Env)
	handle func(from actor.Addr, req actor.Request, r actor.Responder)
	stop   func()
	env    actor.Env
}

func (a *fnActor) Start(env actor.Env) {
	a.env = env
	if a.start != nil {
		a.start(env)
	}
}

func (a *fnActor) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	if a.handle != nil {
		a.handle(from, req, r)
	}
}

func (a *fnActor) Stop() {
	if a.stop != nil {
		a.stop()
	}
}

func addr(s string) actor.Addr { return netip.MustParseAddrPort(s) }

// outcome is a call's done, handed out of the actor.
type outcome struct {
	resp actor.Response
	err  error
}

func newDriver(t *testing.T, cfg Config) *Driver {
	d := New(cfg)
	t.Cleanup(d.Close)
	return d
}

// echo answers every request with its own body, and reports who sent it.
func echo(seen chan<- actor.Addr) *fnActor {
	return &fnActor{handle: func(from actor.Addr, req actor.Request, r actor.Responder) {
		if seen != nil {
			seen <- from
		}
		r.Respond(actor.Response{Status: 200, Body: req.Body, Size: req.Size + 1})
	}}
}

// spawnCaller spawns an actor at fromAddr that makes one call; its outcome comes on the channel.
func spawnCaller(d *Driver, fromAddr, to actor.Addr, req actor.Request, timeout time.Duration) (<-chan outcome, error) {
	got := make(chan outcome, 1)
	caller := &fnActor{start: func(env actor.Env) {
		env.Call(to, req, timeout, func(resp actor.Response, err error) { got <- outcome{resp: resp, err: err} })
	}}
	return got, d.Spawn(fromAddr, "caller", caller)
}

// callOnce makes one call from a fresh actor at fromAddr and waits for its done.
func callOnce(t *testing.T, d *Driver, fromAddr, to actor.Addr, req actor.Request, timeout time.Duration) outcome {
	t.Helper()
	got, err := spawnCaller(d, fromAddr, to, req, timeout)
	require.NoError(t, err)
	select {
	case o := <-got:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("the call's done never ran")
		return outcome{}
	}
}

func TestPingOverLoopback(t *testing.T) {
	d := newDriver(t, Config{})
	seen := make(chan actor.Addr, 1)
	b, a := addr("127.77.1.2:22021"), addr("127.77.1.1:22021")
	require.NoError(t, d.Spawn(b, "b", echo(seen)))
	o := callOnce(t, d, a, b, actor.Request{Method: "/ping_test/v1", Body: []byte("ping"), Size: 40}, time.Second)
	require.NoError(t, o.err)
	assert.Equal(t, 200, o.resp.Status)
	assert.Equal(t, []byte("ping"), o.resp.Body)
	assert.Equal(t, 41, o.resp.Size, "the callee's size travels with the response")
	assert.Equal(t, a, <-seen, "the callee sees the caller's own address and listening port")
	s := d.Stats()
	assert.Equal(t, uint64(1), s.Calls)
	assert.Equal(t, uint64(1), s.Responses)
}

func TestNodeMethodsAndEmptyBodies(t *testing.T) {
	d := newDriver(t, Config{})
	methods := make(chan string, 1)
	b := addr("127.77.2.2:22021")
	require.NoError(t, d.Spawn(b, "b", &fnActor{handle: func(_ actor.Addr, req actor.Request, r actor.Responder) {
		methods <- req.Method
		r.Respond(actor.Response{Status: 421, Body: nil})
	}}))
	o := callOnce(t, d, addr("127.77.2.1:22021"), b, actor.Request{Method: "sn.storage_cc"}, time.Second)
	require.NoError(t, o.err)
	assert.Equal(t, "sn.storage_cc", <-methods)
	assert.Equal(t, 421, o.resp.Status)
	assert.Nil(t, o.resp.Body)
}

func TestCallTimeout(t *testing.T) {
	d := newDriver(t, Config{})
	b := addr("127.77.3.2:22021")
	require.NoError(t, d.Spawn(b, "silent", &fnActor{})) // never responds
	start := time.Now()
	o := callOnce(t, d, addr("127.77.3.1:22021"), b, actor.Request{Method: "/x"}, 150*time.Millisecond)
	require.Error(t, o.err, "%+v", o.resp)
	assert.True(t, errors.Is(o.err, actor.ErrTimeout), "got %v", o.err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	assert.Equal(t, uint64(1), d.Stats().TimedOut)
}

func TestDeadPeerIsUnreachable(t *testing.T) {
	d := newDriver(t, Config{})
	b := addr("127.77.4.2:22021")
	o := callOnce(t, d, addr("127.77.4.1:22021"), b, actor.Request{Method: "/x"}, time.Second)
	assert.True(t, errors.Is(o.err, actor.ErrUnreachable), "nothing listens: got %v", o.err)

	require.NoError(t, d.Spawn(b, "b", echo(nil)))
	o = callOnce(t, d, addr("127.77.4.3:22021"), b, actor.Request{Method: "/x"}, time.Second)
	require.NoError(t, o.err)
	require.NoError(t, d.Crash(b))
	assert.False(t, d.Alive(b))
	o = callOnce(t, d, addr("127.77.4.4:22021"), b, actor.Request{Method: "/x"}, time.Second)
	assert.True(t, errors.Is(o.err, actor.ErrUnreachable), "crashed: got %v", o.err)

	// A new incarnation at the same address serves again.
	require.NoError(t, d.Spawn(b, "b", echo(nil)))
	o = callOnce(t, d, addr("127.77.4.5:22021"), b, actor.Request{Method: "/x"}, time.Second)
	require.NoError(t, o.err)
}

func TestCrashMidCallResetsTheCaller(t *testing.T) {
	d := newDriver(t, Config{})
	b := addr("127.77.5.2:22021")
	arrived := make(chan struct{})
	require.NoError(t, d.Spawn(b, "b", &fnActor{handle: func(actor.Addr, actor.Request, actor.Responder) { close(arrived) }}))
	go func() {
		<-arrived
		_ = d.Crash(b)
	}()
	o := callOnce(t, d, addr("127.77.5.1:22021"), b, actor.Request{Method: "/x"}, 5*time.Second)
	assert.True(t, errors.Is(o.err, actor.ErrUnreachable), "got %v", o.err)
}

// TestCallbacksNeverOverlap runs many requests, timers and call completions into one actor at
// once; its state is unguarded, so the race detector (go test -race) sees any overlap, and the
// in-callback counter sees it without it.
func TestCallbacksNeverOverlap(t *testing.T) {
	d := newDriver(t, Config{MaxConnsPerPeer: 2})
	var inside atomic.Int32
	var overlaps atomic.Int32
	const rounds = 40
	finished := make(chan int, 1)
	counter := 0 // unguarded on purpose
	// Start, then per round a timer, a call's done and a request from outside.
	enter := func() func() {
		if inside.Add(1) != 1 {
			overlaps.Add(1)
		}
		counter++
		if counter == 1+3*rounds {
			finished <- counter
		}
		return func() { inside.Add(-1) }
	}
	hub := addr("127.77.6.1:22021")
	echoAddr := addr("127.77.6.9:22021")
	require.NoError(t, d.Spawn(echoAddr, "echo", echo(nil)))
	hubActor := &fnActor{
		start: func(env actor.Env) {
			defer enter()()
			for i := range rounds {
				env.After(time.Duration(i)*time.Millisecond, func() {
					defer enter()()
					env.Call(echoAddr, actor.Request{Method: "/x", Body: []byte{byte(i)}}, 5*time.Second, func(actor.Response, error) {
						defer enter()()
					})
				})
			}
		},
		handle: func(_ actor.Addr, req actor.Request, r actor.Responder) {
			defer enter()()
			time.Sleep(100 * time.Microsecond) // widen the window an overlap would need
			r.Respond(actor.Response{Status: 200})
		},
	}
	require.NoError(t, d.Spawn(hub, "hub", hubActor))
	// Callers from outside hit the hub while its own timers and calls run.
	for i := range rounds {
		_, err := spawnCaller(d, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 77, 7, byte(i + 1)}), 22021), hub, actor.Request{Method: "/y"}, 5*time.Second)
		require.NoError(t, err)
	}
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatalf("not every callback ran")
	}
	assert.Zero(t, overlaps.Load(), "callbacks of one actor overlapped")
}

func TestTimerStop(t *testing.T) {
	d := newDriver(t, Config{})
	fired := make(chan string, 2)
	a := addr("127.77.8.1:22021")
	require.NoError(t, d.Spawn(a, "a", &fnActor{start: func(env actor.Env) {
		tm := env.After(50*time.Millisecond, func() { fired <- "stopped" })
		assert.True(t, tm.Stop(), "a pending timer stops")
		assert.False(t, tm.Stop(), "twice: nothing left to stop")
		env.After(100*time.Millisecond, func() { fired <- "kept" })
	}}))
	assert.Equal(t, "kept", <-fired)
	select {
	case f := <-fired:
		t.Fatalf("%s timer fired", f)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestStopRunsStopperAndInvoke(t *testing.T) {
	d := newDriver(t, Config{})
	a := addr("127.77.9.1:22021")
	got := make(chan string, 2)
	require.NoError(t, d.Spawn(a, "a", &fnActor{stop: func() { got <- "stop" }}))
	require.NoError(t, d.Invoke(a, func() { got <- "invoked" }))
	assert.Equal(t, "invoked", <-got)
	require.NoError(t, d.Stop(a))
	assert.Equal(t, "stop", <-got)
	assert.False(t, d.Alive(a))
	assert.Error(t, d.Invoke(a, func() {}))
}

func TestObserveAndWorldTimers(t *testing.T) {
	d := newDriver(t, Config{})
	type ev struct{ actor.Event }
	events := make(chan actor.Addr, 1)
	d.AddSink(func(_ time.Time, from actor.Addr, _ actor.Event) { events <- from })
	a := addr("127.77.10.1:22021")
	require.NoError(t, d.Spawn(a, "a", &fnActor{start: func(env actor.Env) { env.Observe(ev{}) }}))
	assert.Equal(t, a, <-events)
	ran := make(chan bool, 1)
	d.AfterFunc(10*time.Millisecond, func() { ran <- true })
	stopped := d.AfterFunc(10*time.Millisecond, func() { ran <- false })
	assert.True(t, stopped.Stop())
	assert.True(t, <-ran)
}

func TestSpawnRefusals(t *testing.T) {
	d := newDriver(t, Config{})
	a := addr("127.77.11.1:22021")
	require.NoError(t, d.Spawn(a, "a", &fnActor{}))
	assert.ErrorContains(t, d.Spawn(a, "again", &fnActor{}), "already runs there")
	assert.ErrorContains(t, d.Spawn(addr("127.77.11.2:0"), "p0", &fnActor{}), "needs an IP and a port")
	assert.ErrorContains(t, d.Spawn(addr("127.77.11.3:1"), "nil", nil), "nil actor")
}

func TestWorkSpins(t *testing.T) {
	d := newDriver(t, Config{SpinWork: true})
	took := make(chan time.Duration, 1)
	require.NoError(t, d.Spawn(addr("127.77.12.1:22021"), "a", &fnActor{start: func(env actor.Env) {
		start := time.Now()
		env.Work(20 * time.Millisecond)
		took <- time.Since(start)
	}}))
	assert.GreaterOrEqual(t, <-took, 20*time.Millisecond)
}

func TestTranslatedAddresses(t *testing.T) {
	d := newDriver(t, Config{Translate: true})
	seen := make(chan actor.Addr, 1)
	a, b := addr("203.0.113.7:22021"), addr("198.51.100.9:443")
	require.NoError(t, d.Spawn(b, "b", echo(seen)))
	assert.True(t, d.SocketAddr(b).Addr().IsLoopback(), "the socket is on loopback")
	o := callOnce(t, d, a, b, actor.Request{Method: "/x"}, time.Second)
	require.NoError(t, o.err)
	assert.Equal(t, a, <-seen, "the callee sees the caller's world address")
	o = callOnce(t, d, addr("203.0.113.8:22021"), addr("198.51.100.10:443"), actor.Request{Method: "/x"}, time.Second)
	assert.True(t, errors.Is(o.err, actor.ErrUnreachable), "nothing at that world address: got %v", o.err)
}

// TestPauseFreezesTheActor: a paused actor answers nothing (its caller times out) and its
// timers wait; on resume the late timer fires, the queued request is handled, and it serves.
func TestPauseFreezesTheActor(t *testing.T) {
	d := newDriver(t, Config{})
	b := addr("127.77.12.2:22021")
	started, fired := make(chan struct{}), make(chan time.Time, 1)
	var handled atomic.Int32
	require.NoError(t, d.Spawn(b, "b", &fnActor{
		start: func(env actor.Env) {
			env.After(300*time.Millisecond, func() { fired <- time.Now() })
			close(started)
		},
		handle: func(_ actor.Addr, req actor.Request, r actor.Responder) {
			handled.Add(1)
			r.Respond(actor.Response{Status: 200, Body: req.Body})
		},
	}))
	<-started
	require.NoError(t, d.Pause(b))
	assert.ErrorContains(t, d.Pause(b), "paused already")
	assert.True(t, d.Paused(b))
	assert.True(t, d.Alive(b), "a paused actor still runs")

	o := callOnce(t, d, addr("127.77.12.1:22021"), b, actor.Request{Method: "/x"}, 500*time.Millisecond)
	assert.True(t, errors.Is(o.err, actor.ErrTimeout), "a hung peer times out: got %v", o.err)
	assert.Zero(t, handled.Load(), "nothing is handled while paused")
	select {
	case <-fired:
		t.Fatal("a paused actor's timer fired")
	default:
	}

	resumed := time.Now()
	require.NoError(t, d.Resume(b))
	assert.ErrorContains(t, d.Resume(b), "not paused")
	select {
	case at := <-fired:
		assert.Less(t, at.Sub(resumed), 200*time.Millisecond, "the late timer fires on resume")
	case <-time.After(5 * time.Second):
		t.Fatal("the timer never fired after resume")
	}
	o = callOnce(t, d, addr("127.77.12.3:22021"), b, actor.Request{Method: "/x"}, time.Second)
	require.NoError(t, o.err, "it serves again")
	assert.Equal(t, int32(2), handled.Load(), "the request queued while paused was handled too")

	stopped := make(chan struct{})
	require.NoError(t, d.Spawn(addr("127.77.12.4:22021"), "c", &fnActor{stop: func() { close(stopped) }}))
	require.NoError(t, d.Pause(addr("127.77.12.4:22021")))
	require.NoError(t, d.Stop(addr("127.77.12.4:22021")))
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("a paused actor never ran its Stop")
	}
	assert.ErrorContains(t, d.Pause(addr("127.77.12.9:22021")), "no actor runs")
}

// TestBodyLimit: a request body up to Config.MaxBody reaches the actor whole, a larger one is
// answered 413 without it.
func TestBodyLimit(t *testing.T) {
	d := newDriver(t, Config{MaxBody: 64})
	b := addr("127.77.13.2:22021")
	require.NoError(t, d.Spawn(b, "b", echo(nil)))
	for i, tt := range []struct {
		size   int
		status int
	}{
		{0, 200},
		{64, 200},
		{65, 413},
	} {
		body := bytes.Repeat([]byte{'x'}, tt.size)
		o := callOnce(t, d, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 77, 13, byte(10 + i)}), 22021), b, actor.Request{Method: "/x", Body: body}, time.Second)
		require.NoError(t, o.err, "%d bytes", tt.size)
		assert.Equal(t, tt.status, o.resp.Status, "%d bytes", tt.size)
		if tt.status == 200 {
			assert.Equal(t, body, o.resp.Body, "%d bytes", tt.size)
		}
	}
	assert.Equal(t, uint64(2), d.Stats().Handled)
}

// TestResponseLimit: a response body up to Config.MaxBody reaches the caller whole, a larger
// one fails the call rather than arrive cut to the limit.
func TestResponseLimit(t *testing.T) {
	d := newDriver(t, Config{MaxBody: 64})
	for i, size := range []int{64, 65} {
		b := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 77, 14, byte(100 + i)}), 22021)
		body := bytes.Repeat([]byte{'x'}, size)
		require.NoError(t, d.Spawn(b, "b", &fnActor{handle: func(_ actor.Addr, _ actor.Request, r actor.Responder) {
			r.Respond(actor.Response{Status: 200, Body: body})
		}}))
		o := callOnce(t, d, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 77, 14, byte(1 + i)}), 22021), b, actor.Request{Method: "/x"}, time.Second)
		if size <= 64 {
			require.NoError(t, o.err, "%d bytes", size)
			assert.Equal(t, body, o.resp.Body, "%d bytes", size)
			continue
		}
		assert.ErrorIs(t, o.err, actor.ErrUnreachable, "%d bytes", size)
		assert.ErrorContains(t, o.err, "larger than 64 bytes", "%d bytes", size)
	}
}

func TestReadBody(t *testing.T) {
	long := strings.Repeat("x", 2*readAhead+3) // grows twice past readAhead
	for _, tt := range []struct {
		name    string
		in      string
		n       int64
		want    string
		wantErr error
	}{
		{"known length", "hello", 5, "hello", nil},
		{"unknown length", "hello", -1, "hello", nil},
		{"empty", "", 0, "", nil},
		{"at the limit, known length", "0123456789", 10, "0123456789", nil},
		{"at the limit, unknown length", "0123456789", -1, "0123456789", nil},
		{"over the limit, known length", "0123456789x", 11, "", errBodyTooLarge},
		{"over the limit, unknown length", "0123456789x", -1, "", errBodyTooLarge},
		{"cut short", "hel", 5, "", io.ErrUnexpectedEOF},
		{"nothing sent", "", 5, "", io.ErrUnexpectedEOF},
		{"longer than readAhead", long, int64(len(long)), long, nil},
		{"longer than readAhead, cut short", long, int64(len(long)) + 1, "", io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			limit := int64(10)
			if len(tt.in) > 11 {
				limit = 1 << 30
			}
			got, err := readBody(strings.NewReader(tt.in), tt.n, limit)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

// TestReadBodyTakesNoClaimAtItsWord: a Content-Length far above what comes costs no buffer of
// that length, only readAhead.
func TestReadBodyTakesNoClaimAtItsWord(t *testing.T) {
	got, err := readBody(strings.NewReader("hello"), 16<<20, 16<<20)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.LessOrEqual(t, cap(got), readAhead)
	assert.Equal(t, "hello", string(got))
}

// TestStalledBodyIsAnswered: a request whose body stops coming short of its Content-Length is
// answered once the caller's timeout (its header, or Config.Timeout without one) has passed,
// rather than holding its handler until the peer hangs up.
func TestStalledBodyIsAnswered(t *testing.T) {
	d := newDriver(t, Config{Timeout: 100 * time.Millisecond})
	b := addr("127.77.15.2:22021")
	require.NoError(t, d.Spawn(b, "b", echo(nil)))
	for _, tt := range []struct {
		name     string
		header   string
		at, upTo time.Duration // when the answer comes
	}{
		{"no timeout given", "", 100 * time.Millisecond, time.Second},
		{"the caller's timeout", hdrTimeout + ": 500ms\r\n", 500 * time.Millisecond, 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", d.SocketAddr(b).String(), &tls.Config{InsecureSkipVerify: true})
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
			start := time.Now()
			_, err = io.WriteString(c, "POST /x HTTP/1.1\r\nHost: b\r\nContent-Length: 100\r\n"+tt.header+"\r\n0123456789")
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err, "no answer")
			_ = resp.Body.Close()
			took := time.Since(start)
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.GreaterOrEqual(t, took, tt.at)
			assert.Less(t, took, tt.upTo)
			_, err = c.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the connection closes: its handler is done")
		})
	}
	assert.Zero(t, d.Stats().Handled)
}
