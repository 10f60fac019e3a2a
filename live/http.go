package live

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/actor"
)

// Headers the driver adds to every request and response. They carry what the actors pass
// beside the body in the seam (see the package comment); the body itself is the real bytes.
const (
	hdrKind    = "X-Sessionsim-Body"    // the body's kind (Codec)
	hdrSize    = "X-Sessionsim-Size"    // the size the sender's actor gave (actor.Request.Size)
	hdrPort    = "X-Sessionsim-Port"    // the caller's listening port
	hdrStatus  = "X-Sessionsim-Status"  // a status HTTP cannot carry (outside 100-999)
	hdrTimeout = "X-Sessionsim-Timeout" // the call's timeout (time.Duration's text)
)

// pathOf is the URL path of a method: endpoints that are HTTP paths ("/storage_rpc/v1") keep
// theirs, node-to-node methods ("sn.storage_cc", OxenMQ commands in the real network) go under
// /_/.
func pathOf(method string) string {
	if strings.HasPrefix(method, "/") && !strings.HasPrefix(method, "/_/") {
		return method
	}
	return "/_/" + method
}

func methodOf(path string) string {
	if m, ok := strings.CutPrefix(path, "/_/"); ok {
		return m
	}
	return path
}

// selfSigned makes a certificate for ip, valid for a year, as a storage server makes its own.
func selfSigned(ip netip.Addr, name string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{ip.AsSlice()},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// http11 turns HTTP/2 off: the storage server speaks HTTP/1.1.
var http11 = map[string]func(*http.Server, *tls.Conn, http.Handler){}

func (e *env) listen() error {
	cert, err := selfSigned(e.addr.Addr(), e.name)
	if err != nil {
		return fmt.Errorf("live: certificate for %s: %w", e.name, err)
	}
	ln, err := net.Listen("tcp", e.d.SocketAddr(e.addr).String())
	if err != nil {
		return fmt.Errorf("live: %s cannot listen at %v: %w (is it a loopback address, 127.x.y.z?)", e.name, e.addr, err)
	}
	e.srv = newServer(e, cert)
	if wrap := e.d.cfg.WrapConn; wrap != nil {
		ln = wrappedListener{ln, wrap, e.d.addrs}
	}
	go func() { _ = e.srv.ServeTLS(ln, "", "") }()
	return nil
}

func (e *env) newClient() *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: e.d.addrs.real(e.addr.Addr()).AsSlice()}, KeepAlive: 30 * time.Second}
	n := e.d.cfg.MaxConnsPerPeer
	dial := dialer.DialContext
	if wrap := e.d.cfg.WrapConn; wrap != nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			remote, perr := netip.ParseAddrPort(c.RemoteAddr().String())
			if perr != nil {
				return c, nil
			}
			return wrap(c, e.addr.Addr(), e.d.addrs.virtual(remote.Addr().Unmap())), nil
		}
	}
	return &http.Client{Transport: newTransport(dial, n)}
}

// newServer is an actor's HTTPS server: HTTP/1.1 over TLS with cert, as a storage server serves.
func newServer(h http.Handler, cert tls.Certificate) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		TLSNextProto:      http11,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // a peer's broken handshake is not news
	}
}

// newTransport is an actor's HTTPS client side: HTTP/1.1 over TLS, at most maxConns keep-alive
// connections per peer, each dialled by dial.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), maxConns int) *http.Transport {
	return &http.Transport{
		DialContext: dial,
		// The apps do not check a service node's certificate (it is self-signed); the onion
		// layers inside authenticate the node.
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxConnsPerHost:     maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// wrappedListener applies Config.WrapConn to the connections it accepts.
type wrappedListener struct {
	net.Listener
	wrap  func(c net.Conn, local, remote netip.Addr) net.Conn
	addrs *addrTable
}

func (l wrappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	local, err1 := netip.ParseAddrPort(c.LocalAddr().String())
	remote, err2 := netip.ParseAddrPort(c.RemoteAddr().String())
	if err1 != nil || err2 != nil {
		return c, nil
	}
	return l.wrap(c, l.addrs.virtual(local.Addr().Unmap()), l.addrs.virtual(remote.Addr().Unmap())), nil
}

// responder hands an actor's single response to the HTTP handler waiting for it.
type responder struct {
	used atomic.Bool
	ch   chan actor.Response
}

func (r *responder) Respond(resp actor.Response) {
	if r.used.CompareAndSwap(false, true) {
		r.ch <- resp
	}
}

// ServeHTTP delivers one request to the actor and writes its response.
func (e *env) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A body that stops coming must not hold the handler until the peer hangs up: the caller
	// gives up at its call's timeout, which a driver's actor sends along (a client that is no
	// actor gets Config.Timeout).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(e.bodyTimeout(r)))
	body, err := readBody(http.MaxBytesReader(w, r.Body, e.d.cfg.MaxBody), r.ContentLength, e.d.cfg.MaxBody)
	if err != nil {
		// The deadline stays: net/http reads on to reuse the connection, and must give up
		// rather than wait for a stalled body (it closes the connection then).
		http.Error(w, "request body too large or cut short", http.StatusRequestEntityTooLarge)
		return
	}
	_ = rc.SetReadDeadline(time.Time{}) // the wait for the actor is not bounded here
	kind := r.Header.Get(hdrKind)
	if kind == "" && len(body) > 0 {
		// Not from a driver's actor: a real client (curl, an app) posting JSON or an onion
		// request. Its body is the bytes, as a storage server takes them.
		kind = KindBytes
	}
	val, err := e.d.cfg.Codec.Decode(kind, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	from, err := callerAddr(r, e.d.addrs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	size := len(body)
	if s, err := strconv.Atoi(r.Header.Get(hdrSize)); err == nil && s >= 0 {
		size = s
	}
	req := actor.Request{Method: methodOf(r.URL.Path), Body: val, Size: size}
	rs := &responder{ch: make(chan actor.Response, 1)}
	if !e.mb.run(func() {
		if e.alive.Load() {
			e.d.handled.Add(1)
			e.a.Handle(from, req, rs)
		}
	}) {
		panic(http.ErrAbortHandler) // the actor died: the connection closes, as a killed process's would
	}
	var resp actor.Response
	select {
	case resp = <-rs.ch:
	case <-r.Context().Done():
		// The caller gave up. Close the connection rather than let net/http answer an empty
		// 200 that no actor gave.
		panic(http.ErrAbortHandler)
	case <-e.dead:
		panic(http.ErrAbortHandler)
	}
	k, out, err := e.d.cfg.Codec.Encode(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set(hdrKind, k)
	h.Set(hdrSize, strconv.Itoa(resp.Size))
	h.Set("Content-Length", strconv.Itoa(len(out)))
	status := resp.Status
	if status < 100 || status > 999 {
		h.Set(hdrStatus, strconv.Itoa(status))
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// bodyTimeout is how long a request's body may take to arrive: the caller's timeout, or
// Config.Timeout when it gives none.
func (e *env) bodyTimeout(r *http.Request) time.Duration {
	if t, err := time.ParseDuration(r.Header.Get(hdrTimeout)); err == nil && t > 0 {
		return t
	}
	return e.d.cfg.Timeout
}

// readBody reads a body whole, and refuses one longer than limit (errBodyTooLarge): one of
// known length n (its Content-Length) into one buffer of that length, one of unknown length
// (n < 0) as io.ReadAll does. io.ReadAll grows its buffer step by step, which makes about twice
// the body in garbage: at 100 KiB, most of what a hop allocates. The buffer takes a
// Content-Length at its word only up to readAhead and grows beyond as the bytes arrive, so that
// a peer claiming a large body and sending little holds little memory.
func readBody(r io.Reader, n, limit int64) ([]byte, error) {
	if n > limit {
		return nil, errBodyTooLarge
	}
	if n < 0 {
		buf, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err == nil && int64(len(buf)) > limit {
			err = errBodyTooLarge
		}
		return buf, err
	}
	buf := make([]byte, min(n, readAhead))
	got := 0
	for {
		k, err := io.ReadFull(r, buf[got:])
		got += k
		if errors.Is(err, io.EOF) { // n > 0 bytes were due
			err = io.ErrUnexpectedEOF
		}
		if err != nil || int64(got) == n {
			return buf[:got], err
		}
		more := int(min(n-int64(got), int64(got))) // double, up to n
		buf = slices.Grow(buf, more)[:got+more]
	}
}

// readAhead is how much of a body readBody allocates before any of it has arrived: more than an
// onion request of 100 KiB.
const readAhead = 256 << 10

var errBodyTooLarge = errors.New("body too large")

// callerAddr is the caller's world IP (from the connection's source address) and listening
// port.
func callerAddr(r *http.Request, addrs *addrTable) (actor.Addr, error) {
	src, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return actor.Addr{}, fmt.Errorf("live: source address %q: %w", r.RemoteAddr, err)
	}
	if p := r.Header.Get(hdrPort); p != "" {
		port, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return actor.Addr{}, fmt.Errorf("live: header %s: %q is not a port", hdrPort, p)
		}
		return netip.AddrPortFrom(addrs.virtual(src.Addr().Unmap()), uint16(port)), nil
	}
	return netip.AddrPortFrom(addrs.virtual(src.Addr().Unmap()), src.Port()), nil
}

func (e *env) Call(to actor.Addr, req actor.Request, timeout time.Duration, done func(actor.Response, error)) {
	if !e.alive.Load() {
		return
	}
	if timeout <= 0 {
		timeout = e.d.cfg.Timeout
	}
	e.d.calls.Add(1)
	finish := func(resp actor.Response, err error) {
		e.mb.run(func() {
			if e.alive.Load() && done != nil {
				done(resp, err)
			}
		})
	}
	k, body, err := e.d.cfg.Codec.Encode(req.Body)
	if err != nil {
		e.d.unreachable.Add(1)
		finish(actor.Response{}, &actor.CallError{Driver: "live", Method: req.Method, To: to, Timeout: timeout, Reason: err.Error(), Err: actor.ErrUnreachable})
		return
	}
	go func() {
		resp, err := e.roundTrip(to, req, k, body, timeout)
		finish(resp, err)
	}()
}

// roundTrip runs one call on a network goroutine.
func (e *env) roundTrip(to actor.Addr, req actor.Request, k string, body []byte, timeout time.Duration) (actor.Response, error) {
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	fail := func(reason string, err error) (actor.Response, error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e.d.timedOut.Add(1)
			return actor.Response{}, &actor.CallError{Driver: "live", Method: req.Method, To: to, Timeout: timeout, Reason: fmt.Sprintf("no response within %v", timeout), Err: actor.ErrTimeout}
		}
		e.d.unreachable.Add(1)
		return actor.Response{}, &actor.CallError{Driver: "live", Method: req.Method, To: to, Timeout: timeout, Reason: reason + ": " + err.Error(), Err: actor.ErrUnreachable}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+e.d.SocketAddr(to).String()+pathOf(req.Method), bytes.NewReader(body))
	if err != nil {
		return fail("bad request", err)
	}
	hr.Header.Set(hdrKind, k)
	hr.Header.Set(hdrSize, strconv.Itoa(req.Size))
	hr.Header.Set(hdrPort, strconv.Itoa(int(e.addr.Port())))
	hr.Header.Set(hdrTimeout, timeout.String())
	hr.Header.Set("Content-Type", "application/octet-stream")
	hresp, err := e.client.Do(hr)
	if err != nil {
		return fail("connection failed", err)
	}
	defer hresp.Body.Close()
	out, err := readBody(hresp.Body, hresp.ContentLength, e.d.cfg.MaxBody)
	if errors.Is(err, errBodyTooLarge) {
		return fail(fmt.Sprintf("response larger than %d bytes", e.d.cfg.MaxBody), err)
	}
	if err != nil {
		return fail("response cut short", err)
	}
	status := hresp.StatusCode
	if s := hresp.Header.Get(hdrStatus); s != "" {
		if v, err := strconv.Atoi(s); err == nil {
			status = v
		}
	}
	kind := hresp.Header.Get(hdrKind)
	if kind == "" {
		// Not from a driver's actor (a proxy, or the server refusing before the actor saw it):
		// the text is the body.
		kind = KindBytes
	}
	val, err := e.d.cfg.Codec.Decode(kind, out)
	if err != nil {
		return fail("undecodable response", err)
	}
	size := len(out)
	if s, err := strconv.Atoi(hresp.Header.Get(hdrSize)); err == nil && s >= 0 {
		size = s
	}
	e.d.responses.Add(1)
	return actor.Response{Status: status, Body: val, Size: size}, nil
}
