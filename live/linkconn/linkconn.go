// Package linkconn is the wall-clock twin of the simulator's link model: a net.Conn wrapper
// that delays, and fails, what is written on a connection as the same netem.Network decides
// for a message of that size between the two hosts (latency, jitter, bandwidth queues, loss as
// retransmission delay then failure, partitions, degradations). The simulator asks
// netem.Network when a message arrives and schedules an event then; here the writer's side
// holds the bytes back until that wall-clock moment.
//
// Each side wraps the connections it makes and accepts, so that each direction is shaped by
// its sender: a request by the caller's wrapper, the response by the callee's. Every Write is
// one message to the model (the live driver writes a whole request or response at once, as
// TLS records of it), so the bandwidth queues see the real bytes, TLS and HTTP framing
// included.
package linkconn

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/netem"
)

// ErrLinkFailed is what a Write returns once the model has lost a message for good (a
// partition, or a packet lost too many times): the connection is closed, as a TCP connection
// that gives up is.
var ErrLinkFailed = errors.New("linkconn: the link model dropped the connection")

// Model is a netem.Network shared by every connection of a run, with the hosts' addresses.
// netem.Network is not safe for concurrent use: Model serialises it.
type Model struct {
	// Spin is how much of each wait is spent yielding (runtime.Gosched) until the exact
	// moment rather than asleep on a timer, whose wake-up the Go runtime may round up to the
	// next millisecond (it sleeps in epoll_wait, which counts milliseconds). Zero, the default,
	// sleeps only: a message may then arrive up to about a millisecond late. A millisecond of
	// spin makes arrivals exact for a busy CPU while a message waits its last millisecond, so
	// it suits a benchmark of a few connections, not a world of thousands. Set it before the
	// first Wrap.
	Spin time.Duration

	mu    sync.Mutex
	net   *netem.Network
	rng   *rand.Rand
	hosts map[netip.Addr]netem.HostID
	tap   Tap
}

// Tap is told of every message the model shapes, as it is written: its hosts, its size, when
// it was written and, if ok, when the model has it arrive (unix ns), which is when the
// connection hands it to the peer's socket. It runs under the model's lock, so taps come one at
// a time, in the order the model decided them.
type Tap func(from, to netem.HostID, size int, sent, arrive int64, ok bool)

// SetTap makes the model tell t of every message from now on; nil, the default, stops it. Once
// SetTap(nil) has returned, the previous tap is not called again.
func (m *Model) SetTap(t Tap) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tap = t
}

// NewModel shapes connections with n. Jitter and loss draw from a stream seeded from
// crypto/rand: live runs are not reproducible.
func NewModel(n *netem.Network) *Model {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return &Model{net: n, rng: rand.New(rand.NewChaCha8(seed)), hosts: map[netip.Addr]netem.HostID{}}
}

// AddAddr says that ip is host h of the model.
func (m *Model) AddAddr(ip netip.Addr, h netem.HostID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hosts[ip] = h
}

// Do runs f with the model's network, for faults (Partition, Degrade, ...) during a run.
func (m *Model) Do(f func(n *netem.Network)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.net)
}

func (m *Model) transit(from, to netem.HostID, size int, at time.Time) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	arrive, ok := m.net.Transit(from, to, size, at, m.rng)
	if m.tap != nil {
		var ns int64 // none for a message lost for good
		if ok {
			ns = arrive.UnixNano()
		}
		m.tap(from, to, size, at.UnixNano(), ns, ok)
	}
	return arrive, ok
}

// pair finds the model's hosts of local and remote; ok is false unless both are hosts.
func (m *Model) pair(local, remote netip.Addr) (from, to netem.HostID, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, ok1 := m.hosts[local.Unmap()]
	to, ok2 := m.hosts[remote.Unmap()]
	return from, to, ok1 && ok2
}

// Wrap shapes what local writes on c to remote; c is returned unchanged when either address
// is not a host of the model.
func (m *Model) Wrap(c net.Conn, local, remote netip.Addr) net.Conn {
	from, to, ok := m.pair(local, remote)
	if !ok {
		return c
	}
	return newConn(c, m, from, to)
}

// chunk is one message held back until its arrival time.
type chunk struct {
	at   time.Time
	data []byte
}

// Conn is a shaped connection; reads pass through (the peer's wrapper shaped them).
type Conn struct {
	net.Conn
	m        *Model
	from, to netem.HostID

	mu      sync.Mutex
	wake    chan struct{}
	queue   []chunk
	last    time.Time // arrival of the latest queued chunk: TCP delivers in order
	closing bool
	err     error // the first failure: every later Write returns it
	done    chan struct{}
}

func newConn(c net.Conn, m *Model, from, to netem.HostID) *Conn {
	lc := &Conn{Conn: c, m: m, from: from, to: to, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go lc.pump()
	return lc
}

// Write queues b to reach the peer when the model says it arrives.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.closing {
		return 0, net.ErrClosed
	}
	arrive, ok := c.m.transit(c.from, c.to, len(b), time.Now())
	if !ok {
		c.err = ErrLinkFailed
		c.closing = true
		c.queue = nil
		_ = c.Conn.Close()
		c.signal()
		return 0, c.err
	}
	if arrive.Before(c.last) {
		arrive = c.last
	}
	c.last = arrive
	c.queue = append(c.queue, chunk{at: arrive, data: append([]byte(nil), b...)})
	c.signal()
	return len(b), nil
}

func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close lets what is queued arrive, then closes the connection, as a socket's close does.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.signal()
	return nil
}

// pump writes each chunk at its arrival time.
func (c *Conn) pump() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closing := c.closing
			c.mu.Unlock()
			if closing {
				_ = c.Conn.Close()
				return
			}
			<-c.wake
			continue
		}
		next := c.queue[0]
		c.mu.Unlock()
		if sleep := time.Until(next.at) - c.m.Spin; sleep > 0 {
			timer.Reset(sleep)
			<-timer.C
		}
		for c.m.Spin > 0 && time.Now().Before(next.at) {
			runtime.Gosched()
		}
		if _, err := c.Conn.Write(next.data); err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("linkconn: %w", err)
			c.queue = nil
			c.closing = true
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		if len(c.queue) > 0 {
			c.queue = c.queue[1:]
		}
		c.mu.Unlock()
	}
}
