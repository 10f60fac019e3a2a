package live

import "sync"

// mailbox is an actor's queue of callbacks, run one at a time by its own goroutine. It is
// unbounded, so that posting never blocks: a callback may post to its own actor's mailbox, and
// a network goroutine must never wait on a busy actor.
type mailbox struct {
	mu     sync.Mutex
	q      []func()
	wake   chan struct{} // capacity 1: a pending wake-up
	closed bool
	paused bool          // the queue fills but nothing runs: a frozen process (Driver.Pause)
	done   chan struct{} // closed when the goroutine has exited
}

func newMailbox() *mailbox {
	m := &mailbox{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go m.run()
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
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// close drops what is queued and stops the goroutine after the callback it is running, if any.
func (m *mailbox) close() {
	m.mu.Lock()
	m.closed = true
	m.q = nil
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// setPaused stops running callbacks after the one running, if any, or starts again with what
// queued up meanwhile, in order.
func (m *mailbox) setPaused(paused bool) {
	m.mu.Lock()
	m.paused = paused
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) run() {
	defer close(m.done)
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return
		}
		if len(m.q) == 0 || m.paused {
			m.mu.Unlock()
			<-m.wake
			continue
		}
		f := m.q[0]
		m.q[0] = nil
		m.q = m.q[1:]
		m.mu.Unlock()
		f()
	}
}
