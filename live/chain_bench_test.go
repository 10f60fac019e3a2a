package live

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/sessionsim/sessionsim/actor"
)

// BenchmarkLoopbackChain times what loopback sockets cost on their own: the six crossings of
// an onion request through three nodes (client to guard to relay to destination and back), as
// a chain of request/response exchanges through three forwarding servers that do nothing else,
// each on its own loopback address. One b.Loop iteration is one chain; the destination answers
// with the bytes it got, so both directions carry the payload. The stacks, from the bare socket
// up:
//   - tcp: plain TCP, each message a 4-byte length and the bytes;
//   - tls: the same framing over TLS 1.3 (a certificate from selfSigned, one record per message);
//   - https: HTTP/1.1 POSTs over TLS, with the driver's server and transport (newServer,
//     newTransport), one connection per peer, each handler making the next request itself;
//   - driver: the live driver itself, three actors that forward with Env.Call and a client
//     actor, without cryptography: what the driver adds to https.
//
// The metric p50-us is the chain's median round trip in microseconds: with the path's
// cryptography added, the lowest p50 a stack can give `bench onion` on bare loopback.
func BenchmarkLoopbackChain(b *testing.B) {
	stacks := []struct {
		name string
		make func(b *testing.B, hosts []netip.Addr) (roundTrip func([]byte) ([]byte, error), closeAll func())
	}{
		{"tcp", framedChain(false)},
		{"tls", framedChain(true)},
		{"https", httpsChain},
		{"driver", driverChain},
	}
	for si, st := range stacks {
		for _, size := range []int{100, 1 << 10} {
			b.Run(fmt.Sprintf("stack=%s/payload=%dB", st.name, size), func(b *testing.B) {
				hosts := make([]netip.Addr, 4) // client, guard, relay, destination
				for i := range hosts {
					hosts[i] = netip.AddrFrom4([4]byte{127, 93, byte(si), byte(i + 1)})
				}
				roundTrip, closeAll := st.make(b, hosts)
				defer closeAll()
				msg := bytes.Repeat([]byte{'x'}, size)
				chain := func() time.Duration {
					start := time.Now()
					got, err := roundTrip(msg)
					if err != nil {
						b.Fatal(err)
					}
					if !bytes.Equal(got, msg) {
						b.Fatalf("the chain answered %d bytes, not the %d sent", len(got), len(msg))
					}
					return time.Since(start)
				}
				for range 20 { // open the connections and let TLS records grow
					chain()
				}
				var us []float64
				for b.Loop() {
					us = append(us, float64(chain())/float64(time.Microsecond))
				}
				slices.Sort(us)
				b.ReportMetric(stat.Quantile(0.5, stat.Empirical, us, nil), "p50-us")
			})
		}
	}
}

// framedChain is the chain over length-prefixed messages on TCP, or on TLS 1.3 when secure.
func framedChain(secure bool) func(b *testing.B, hosts []netip.Addr) (func([]byte) ([]byte, error), func()) {
	return func(b *testing.B, hosts []netip.Addr) (func([]byte) ([]byte, error), func()) {
		var closers []io.Closer
		closeAll := func() {
			for _, c := range slices.Backward(closers) {
				_ = c.Close()
			}
		}
		// dial runs on the forwarders' goroutines too: it neither fails the benchmark nor
		// touches closers, and each forwarder closes what it dials.
		dial := func(from, to net.Addr) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IP(from.(*net.TCPAddr).IP)}}
			c, err := d.Dial("tcp", to.String())
			if err != nil || !secure {
				return c, err
			}
			return tls.Client(c, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}), nil
		}
		// Listen from the destination back, so that each hop knows the next one's address.
		var next net.Addr
		for i := len(hosts) - 1; i >= 1; i-- {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(hosts[i], 0).String())
			if err != nil {
				b.Fatal(err)
			}
			closers = append(closers, ln)
			if secure {
				cert, err := selfSigned(hosts[i], "chain")
				if err != nil {
					b.Fatal(err)
				}
				ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
			}
			go forwardFrames(ln, next, dial)
			next = ln.Addr()
		}
		c, err := dial(&net.TCPAddr{IP: hosts[0].AsSlice()}, next)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, c) // closing it ends the forwarders one after the other
		var buf []byte
		return func(msg []byte) ([]byte, error) {
			if err := writeFrame(c, msg); err != nil {
				return nil, err
			}
			var err error
			buf, err = readFrame(c, buf)
			return buf, err
		}, closeAll
	}
}

// forwardFrames serves the one connection it accepts: each message goes on to next, over a
// connection of its own, and the answer back; with no next, the message is the answer. It
// returns, closing both connections, when the one it accepted closes.
func forwardFrames(ln net.Listener, next net.Addr, dial func(from, to net.Addr) (net.Conn, error)) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	var out net.Conn
	if next != nil {
		if out, err = dial(c.LocalAddr(), next); err != nil {
			return // the chain's round trip fails: the benchmark reports it
		}
		defer out.Close()
	}
	var buf []byte
	for {
		if buf, err = readFrame(c, buf); err != nil {
			return
		}
		if out != nil {
			if err := writeFrame(out, buf); err != nil {
				return
			}
			if buf, err = readFrame(out, buf); err != nil {
				return
			}
		}
		if err := writeFrame(c, buf); err != nil {
			return
		}
	}
}

// writeFrame writes msg after its length, in one write (one segment, one TLS record).
func writeFrame(w io.Writer, msg []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg))), msg...))
	return err
}

// readFrame reads one message into buf's array, growing it if needed.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return buf, err
	}
	buf = slices.Grow(buf[:0], int(binary.BigEndian.Uint32(n[:])))[:binary.BigEndian.Uint32(n[:])]
	_, err := io.ReadFull(r, buf)
	return buf, err
}

// httpsChain is the chain over HTTPS with the driver's server and transport.
func httpsChain(b *testing.B, hosts []netip.Addr) (func([]byte) ([]byte, error), func()) {
	var servers []*http.Server
	var clients []*http.Client
	closeAll := func() {
		for _, s := range servers {
			_ = s.Close()
		}
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}
	client := func(from netip.Addr) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
		c := &http.Client{Transport: newTransport(d.DialContext, 1)}
		clients = append(clients, c)
		return c
	}
	post := func(c *http.Client, url string, body []byte) ([]byte, error) {
		resp, err := c.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return readBody(resp.Body, resp.ContentLength, math.MaxInt64)
	}
	var next string
	for i := len(hosts) - 1; i >= 1; i-- {
		cert, err := selfSigned(hosts[i], "chain")
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(hosts[i], 0).String())
		if err != nil {
			b.Fatal(err)
		}
		c, to := client(hosts[i]), next
		srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := readBody(r.Body, r.ContentLength, math.MaxInt64)
			if err == nil && to != "" {
				body, err = post(c, to, body)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = w.Write(body)
		}), cert)
		servers = append(servers, srv)
		go func() { _ = srv.ServeTLS(ln, "", "") }()
		next = "https://" + ln.Addr().String() + "/"
	}
	c := client(hosts[0])
	return func(msg []byte) ([]byte, error) { return post(c, next, msg) }, closeAll
}

// forwarder is an actor that forwards every request to next and answers with what came back;
// with no next, it answers with the request's body.
type forwarder struct {
	env  actor.Env
	next actor.Addr
}

func (f *forwarder) Start(env actor.Env) { f.env = env }

func (f *forwarder) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	if !f.next.IsValid() {
		r.Respond(actor.Response{Status: 200, Body: req.Body, Size: req.Size})
		return
	}
	f.env.Call(f.next, req, 0, func(resp actor.Response, err error) {
		if err != nil {
			resp = actor.Response{Status: 502}
		}
		r.Respond(resp)
	})
}

// driverChain is the chain through the live driver: three forwarders and a client actor.
func driverChain(b *testing.B, hosts []netip.Addr) (func([]byte) ([]byte, error), func()) {
	d := New(Config{MaxConnsPerPeer: 1})
	const port = 22021
	var next actor.Addr
	for i := len(hosts) - 1; i >= 1; i-- {
		a := netip.AddrPortFrom(hosts[i], port)
		if err := d.Spawn(a, "forwarder", &forwarder{next: next}); err != nil {
			b.Fatal(err)
		}
		next = a
	}
	client := &forwarder{}
	caddr := netip.AddrPortFrom(hosts[0], port)
	if err := d.Spawn(caddr, "client", client); err != nil {
		b.Fatal(err)
	}
	type result struct {
		body []byte
		err  error
	}
	got := make(chan result, 1)
	return func(msg []byte) ([]byte, error) {
		err := d.Invoke(caddr, func() {
			client.env.Call(next, actor.Request{Method: "chain", Body: msg, Size: len(msg)}, 0, func(resp actor.Response, err error) {
				body, _ := resp.Body.([]byte)
				if err == nil && resp.Status != 200 {
					err = fmt.Errorf("the chain answered %d", resp.Status)
				}
				got <- result{body, err}
			})
		})
		if err != nil {
			return nil, err
		}
		select {
		case r := <-got:
			return r.body, r.err
		case <-time.After(10 * time.Second):
			return nil, context.DeadlineExceeded
		}
	}, d.Close
}
