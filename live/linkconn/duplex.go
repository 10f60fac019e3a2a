package linkconn

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/netem"
)

// WrapDuplex is Wrap for a connection whose peer shapes nothing (a process out of the model's
// reach: docker mode's nodes in their containers, seen from the harness's clients): what
// local writes is shaped as by Wrap, and what it reads is held back too, until the model says
// that many bytes from remote arrive, so that both directions are shaped on this side. c is
// returned unchanged when either address is not a host of the model.
func (m *Model) WrapDuplex(c net.Conn, local, remote netip.Addr) net.Conn {
	from, to, ok := m.pair(local, remote)
	if !ok {
		return c
	}
	r := &reader{src: c, m: m, from: to, to: from, wake: make(chan struct{}, 1)}
	go r.pump()
	return &duplexConn{Conn: newConn(c, m, from, to), r: r}
}

type duplexConn struct {
	*Conn
	r *reader
}

func (c *duplexConn) Read(b []byte) (int, error) { return c.r.read(b) }

// SetReadDeadline bounds Read, not the pump's reads of the socket: net/http sets a deadline in
// the past to stop its background read between requests and then clears it, and the socket's
// timeout would end the pump, and with it the connection, for good.
func (c *duplexConn) SetReadDeadline(t time.Time) error {
	c.r.setDeadline(t)
	return nil
}

func (c *duplexConn) SetDeadline(t time.Time) error {
	c.r.setDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

// reader reads from the socket as soon as bytes come and hands them to Read at the arrival
// time the model gives them, counted from when they came off the socket: the bytes of one
// message, read in several pieces, all wait the same propagation delay, not one per piece.
type reader struct {
	src      net.Conn
	m        *Model
	from, to netem.HostID

	mu    sync.Mutex
	wake  chan struct{}
	queue []chunk
	last  time.Time
	err   error // the socket's error or ErrLinkFailed, returned once the queue is read
	// deadline bounds Read (SetReadDeadline); zero: none.
	deadline time.Time
}

func (r *reader) setDeadline(t time.Time) {
	r.mu.Lock()
	r.deadline = t
	r.mu.Unlock()
	r.signal()
}

// readChunk is how much the pump reads at a time.
const readChunk = 32 << 10

func (r *reader) pump() {
	for {
		buf := make([]byte, readChunk)
		n, err := r.src.Read(buf)
		r.mu.Lock()
		if n > 0 {
			arrive, ok := r.m.transit(r.from, r.to, n, time.Now())
			if !ok {
				r.err, r.queue = ErrLinkFailed, nil
				_ = r.src.Close()
				r.mu.Unlock()
				r.signal()
				return
			}
			arrive = later(arrive, r.last)
			r.last = arrive
			r.queue = append(r.queue, chunk{at: arrive, data: buf[:n]})
		}
		if err != nil {
			r.err = err
		}
		r.mu.Unlock()
		r.signal()
		if err != nil {
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func (r *reader) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// read returns what has arrived, waiting for the first chunk's arrival time, or fails with
// os.ErrDeadlineExceeded once the deadline has passed (what is queued stays for the next read).
func (r *reader) read(b []byte) (int, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		deadline := r.deadline
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			r.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		if len(r.queue) > 0 {
			next := r.queue[0]
			if wait := time.Until(next.at); wait > 0 {
				r.mu.Unlock()
				r.wait(timer, wait, deadline)
				continue
			}
			n := copy(b, next.data)
			if n < len(next.data) {
				r.queue[0].data = next.data[n:]
			} else {
				r.queue = r.queue[1:]
			}
			r.mu.Unlock()
			return n, nil
		}
		if err := r.err; err != nil {
			r.mu.Unlock()
			return 0, err
		}
		r.mu.Unlock()
		r.wait(timer, time.Hour, deadline)
	}
}

// wait waits for d, the deadline (if set) or the pump's signal, whichever comes first.
func (r *reader) wait(timer *time.Timer, d time.Duration, deadline time.Time) {
	if !deadline.IsZero() {
		d = min(d, time.Until(deadline))
	}
	timer.Reset(max(d, 0))
	select {
	case <-timer.C:
	case <-r.wake:
	}
}
