package sim

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimeoutsAtScale makes many calls that share timeouts, answers some, and checks that every
// unanswered one times out exactly at its deadline, once, while the answered ones leave nothing
// behind (their deadlines are swept from the lanes).
func TestTimeoutsAtScale(t *testing.T) {
	tests := []struct {
		name      string
		durations int // distinct timeouts in use; beyond maxLanes the heap takes over
	}{
		{"one lane", 1},
		{"several lanes", 5},
		{"more durations than lanes", maxLanes + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{Latency: time.Millisecond})
			h := host(t, e, HostConfig{})
			n := 0
			server := spawn(t, e, h, 1, &probe{handle: func(p *probe, f actor.Addr, req actor.Request, r actor.Responder) {
				n++
				if n%3 != 0 {
					respondOK(p, f, req, r)
				}
			}})
			const calls = 30_000
			var timedOut, answered int
			var wrong []string
			spawn(t, e, h, 2, &probe{start: func(p *probe) {
				for i := range calls {
					timeout := time.Second + time.Duration(i%tt.durations)*100*time.Millisecond
					p.env.After(time.Duration(i)*100*time.Microsecond, func() {
						sent := p.env.Now()
						p.env.Call(server, actor.Request{}, timeout, func(_ actor.Response, err error) {
							took := p.env.Now().Sub(sent)
							switch {
							case err == nil:
								answered++
							case took != timeout:
								wrong = append(wrong, fmt.Sprintf("call %d timed out after %v, want %v", i, took, timeout))
							default:
								timedOut++
							}
						})
					})
				}
			}})
			e.Run()
			assert.Empty(t, wrong)
			assert.Equal(t, calls/3, timedOut)
			assert.Equal(t, calls-calls/3, answered)
			assert.Equal(t, 0, e.Stats().Queued, "nothing left behind")
			for i := range e.lanes {
				assert.Zero(t, e.lanes[i].n, "lane %d is empty", i)
			}
		})
	}
}

// A caller whose clock ran ahead through Work sets a deadline later than one set afterwards by
// another actor with the same timeout; both fire on time.
func TestTimeoutOrderWithWork(t *testing.T) {
	e := newEngine(t, Config{Latency: time.Millisecond})
	h1 := host(t, e, HostConfig{})
	h2 := host(t, e, HostConfig{})
	server := spawn(t, e, h1, 1, &probe{}) // never answers
	var fired []string
	spawn(t, e, h1, 2, &probe{start: func(p *probe) {
		p.env.Work(5 * time.Second)
		p.env.Call(server, actor.Request{}, time.Second, func(_ actor.Response, err error) {
			require.ErrorIs(t, err, actor.ErrTimeout)
			fired = append(fired, fmt.Sprintf("busy@%v", since(e, p.env.Now())))
		})
	}})
	spawn(t, e, h2, 2, &probe{start: func(p *probe) {
		p.env.After(time.Second, func() {
			p.env.Call(server, actor.Request{}, time.Second, func(_ actor.Response, err error) {
				require.ErrorIs(t, err, actor.ErrTimeout)
				fired = append(fired, fmt.Sprintf("idle@%v", since(e, p.env.Now())))
			})
		})
	}})
	e.Run()
	assert.Equal(t, []string{"idle@2s", "busy@6s"}, fired)
}

// The fields every event reads share one cache line: call records fill whole lines, so that in
// a chunk each record's first line is its own, and the routing fields come first.
func TestRecordLayout(t *testing.T) {
	var c callRec
	assert.Equal(t, uintptr(192), unsafe.Sizeof(c), "three cache lines")
	assert.Less(t, unsafe.Offsetof(c.calleeHost), uintptr(64), "routing fields in the first line")
	var a actorEnv
	assert.Less(t, unsafe.Offsetof(a.alive), uintptr(64), "what every event reads fits one line")
	assert.LessOrEqual(t, unsafe.Sizeof(a), uintptr(128))
}
