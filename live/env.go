package live

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// env is one incarnation of an actor at an address, and its actor.Env.
type env struct {
	d    *Driver
	a    actor.Actor
	addr actor.Addr
	name string
	rng  *rand.Rand
	mb   *mailbox

	alive    atomic.Bool
	stopping atomic.Bool
	paused   atomic.Bool     // Driver.Pause
	ctx      context.Context // cancelled when the actor dies: its calls in flight end
	cancel   context.CancelFunc
	srv      *http.Server
	client   *http.Client
	dead     chan struct{} // closed when the actor dies

	timers timerSet
	killed sync.Once
}

var _ actor.Env = (*env)(nil)

func (d *Driver) newEnv(addr actor.Addr, name string, a actor.Actor) (*env, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(d.ctx)
	e := &env{d: d, a: a, addr: addr, name: name, rng: rand.New(rand.NewChaCha8(seed)), ctx: ctx, cancel: cancel,
		dead: make(chan struct{})}
	e.client = e.newClient()
	e.alive.Store(true)
	// Start is queued before the listener opens, so that it runs before any request.
	e.mb = newMailbox()
	e.mb.post(func() { a.Start(e) })
	if err := e.listen(); err != nil {
		e.kill()
		return nil, err
	}
	return e, nil
}

// kill ends the incarnation: nothing it queued runs, its sockets close, its calls are cancelled.
func (e *env) kill() {
	e.killed.Do(func() {
		e.alive.Store(false)
		close(e.dead)
		e.cancel()
		e.mb.close()
		if e.srv != nil {
			_ = e.srv.Close()
		}
		e.client.CloseIdleConnections()
		e.timers.stopAll()
	})
}

func (e *env) Self() actor.Addr { return e.addr }
func (e *env) Now() time.Time   { return time.Now() }
func (e *env) Rand() *rand.Rand { return e.rng }

func (e *env) Observe(ev actor.Event) {
	if e.alive.Load() {
		e.d.observe(time.Now(), e.addr, ev)
	}
}

func (e *env) Work(cost time.Duration) {
	if !e.d.cfg.SpinWork || cost <= 0 {
		return
	}
	end := time.Now().Add(cost)
	for time.Now().Before(end) {
	}
}

func (e *env) After(d time.Duration, f func()) actor.Timer {
	if !e.alive.Load() {
		return actor.Timer{}
	}
	id := e.timers.after(d, func(id uint64) {
		e.mb.post(func() {
			// Taken on the actor's goroutine, so a Stop that returned true is never undone.
			if e.timers.take(id) && e.alive.Load() {
				f()
			}
		})
	})
	return actor.NewTimer(id, e)
}

// StopTimer cancels one of the actor's timers (actor.TimerStopper).
func (e *env) StopTimer(id uint64) bool { return e.timers.stop(id) }
