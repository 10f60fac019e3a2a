package live

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
)

// mailbox is an actor's queue of callbacks, run one at a time: by its own goroutine, or by the
// goroutine that brings a callback while the actor is idle (run). It is unbounded, so that
// posting never blocks: a callback may post to its own actor's mailbox, and a network goroutine
// must never wait on a busy actor.
type mailbox struct {
	mu     sync.Mutex
	q      []func()
	wake   chan struct{} // capacity 1: a pending wake-up
	closed bool
	paused bool          // the queue fills but nothing runs: a frozen process (Driver.Pause)
	busy   bool          // a callback runs, on the mailbox's goroutine or in run
	done   chan struct{} // closed when the goroutine has exited and no callback runs
}

func newMailbox() *mailbox {
	m := &mailbox{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go m.loop()
	return m
}

// post queues f; false if the mailbox is closed (the actor is gone) and f will never run.
func (m *mailbox) post(f func()) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.q = append(m.q, f)
	m.mu.Unlock()
	m.signal()
	return true
}

// run runs f on the calling goroutine if the actor is idle (nothing running, nothing queued, not
// paused), which is where f would run next anyway, and otherwise queues it as post does. It
// saves the handoff to the mailbox's goroutine and back for a network goroutine that brings a
// request or a call's outcome. It never waits for the actor, so a callback may call it for its
// own actor (f is then queued). false if the mailbox is closed and f will never run.
func (m *mailbox) run(f func()) bool {
	m.mu.Lock()
	idle := !m.closed && !m.busy && !m.paused && len(m.q) == 0
	m.busy = m.busy || idle
	m.mu.Unlock()
	if !idle {
		return m.post(f)
	}
	defer func() {
		m.mu.Lock()
		m.busy = false
		wake := len(m.q) > 0 || m.closed
		m.mu.Unlock()
		if wake {
			m.signal()
		}
	}()
	defer crashOnPanic()
	f()
	return true
}

// crashOnPanic ends the program on a callback's panic, as it ends on the mailbox's goroutine,
// where run's caller would carry on: net/http recovers a handler's panic and closes the
// connection.
func crashOnPanic() {
	if p := recover(); p != nil {
		fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", p, debug.Stack())
		os.Exit(2)
	}
}

func (m *mailbox) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// close drops what is queued and stops the goroutine after the callback running, if any.
func (m *mailbox) close() {
	m.mu.Lock()
	m.closed = true
	m.q = nil
	m.mu.Unlock()
	m.signal()
}

// setPaused stops running callbacks after the one running, if any, or starts again with what
// queued up meanwhile, in order.
func (m *mailbox) setPaused(paused bool) {
	m.mu.Lock()
	m.paused = paused
	m.mu.Unlock()
	m.signal()
}

func (m *mailbox) loop() {
	defer close(m.done)
	for {
		m.mu.Lock()
		if m.closed && !m.busy {
			m.mu.Unlock()
			return
		}
		if m.closed || m.busy || m.paused || len(m.q) == 0 {
			m.mu.Unlock()
			<-m.wake
			continue
		}
		f := m.q[0]
		m.q[0] = nil
		m.q = m.q[1:]
		m.busy = true
		m.mu.Unlock()
		f()
		m.mu.Lock()
		m.busy = false
		m.mu.Unlock()
	}
}
