// Package onionbench measures real onion requests over real sockets: a client and three
// service nodes (guard, relay, destination) as actors on the live driver, each on its own
// loopback address, speaking HTTPS, with the real cryptography of package onion. Each request
// is timed from the start of its build to its opened answer, and compared with its floor: the
// link model's round trip over the path plus the cryptography of that path measured in-process
// in the same run. What the measurement has above the floor is what the real stack adds (TLS
// records, HTTP framing, socket and goroutine handoffs).
package onionbench

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// Defaults of Config.
var (
	DefaultSizes     = []int{100, 1 << 10, 10 << 10, 100 << 10}
	DefaultLatencies = []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond}
)

// DefaultRequests is how many requests each point times.
const DefaultRequests = 200

// MaxSize bounds a payload: the storage server refuses larger onion requests long before.
const MaxSize = 10 << 20

// Config is one benchmark run. Zero fields take the defaults above.
type Config struct {
	// Sizes are the RPC payload sizes in bytes (an info request padded with JSON whitespace to
	// this size, as clients pad requests).
	Sizes []int
	// Latencies are the one-way delays added to every link (client-guard, guard-relay,
	// relay-destination) by the link model (linkconn); 0 leaves the sockets unshaped.
	Latencies []time.Duration
	// Requests is how many requests each (latency, size) point times, one at a time.
	Requests int
	// Warmup requests before each point open the connections (TLS handshakes) and are not
	// timed. Default 5.
	Warmup int
	// EncType is the layers' cipher (default aes-gcm, the apps' default).
	EncType onion.EncType
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// Base is the first loopback address used; each latency takes the next /24, so that
	// worlds never share a socket. Default: a random 127.x.y.1 with x from 100 to 199, so
	// that runs at the same time on one machine hardly ever meet.
	Base netip.Addr
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Sizes) == 0 {
		c.Sizes = DefaultSizes
	}
	if len(c.Latencies) == 0 {
		c.Latencies = DefaultLatencies
	}
	if c.Requests == 0 {
		c.Requests = DefaultRequests
	}
	if c.Warmup == 0 {
		c.Warmup = 5
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if !c.Base.IsValid() {
		var r [2]byte
		_, _ = crand.Read(r[:])
		c.Base = netip.AddrFrom4([4]byte{127, 100 + r[0]%100, r[1] % byte(256-len(c.Latencies)), 1})
	}
	if c.EncType == 0 {
		c.EncType = onion.AESGCM
	}
	for _, s := range c.Sizes {
		if s < minSize || s > MaxSize {
			return c, fmt.Errorf("payload size %d: give sizes from %d to %d bytes", s, minSize, MaxSize)
		}
	}
	// A first request crosses a link more than ten times (a TLS handshake on each of its three
	// hops, and the onion request there and back), and must do so within the call timeout: at
	// 30 s, 2 s one way answered and 3 s timed out.
	for _, l := range c.Latencies {
		if most := c.Timeout / 15; l < 0 || l > most {
			return c, fmt.Errorf("link latency %v: give latencies from 0 to %v (a first request crosses a link more than ten times within the %v call timeout)", l, most, c.Timeout)
		}
	}
	if c.Requests < 1 || c.Warmup < 0 {
		return c, fmt.Errorf("requests %d, warmup %d: give at least one request and no negative warm-up", c.Requests, c.Warmup)
	}
	if !c.Base.Is4() || !c.Base.IsLoopback() {
		return c, fmt.Errorf("base address %v: give a loopback address, 127.x.y.z", c.Base)
	}
	if len(c.Latencies) > 32 || int(c.Base.As4()[2])+len(c.Latencies) > 256 || c.Base.As4()[3] > 250 {
		return c, fmt.Errorf("base address %v and %d latencies: each latency takes a /24 from the base on, and at most 32", c.Base, len(c.Latencies))
	}
	return c, nil
}

// Point is the measurement of one payload size at one link latency. Times are milliseconds.
type Point struct {
	PayloadBytes  int     `json:"payload_bytes"`
	LinkLatencyMS float64 `json:"link_latency_ms"` // one way, per link
	Requests      int     `json:"requests"`
	Failures      int     `json:"failures"`
	P50MS         float64 `json:"p50_ms"`
	P99MS         float64 `json:"p99_ms"`
	// LinkRTTMS is the link model's round trip over the path: the sum of the three hops' RTTs.
	LinkRTTMS float64 `json:"link_rtt_ms"`
	// CryptoMS is the median in-process time of the path's cryptography: the build, the three
	// peels, the destination's seal and the client's open (parsing included).
	CryptoMS float64 `json:"crypto_ms"`
	FloorMS  float64 `json:"floor_ms"` // LinkRTTMS + CryptoMS
	// RatioP50 is P50MS / FloorMS: 1 would be a stack that adds nothing to the floor.
	RatioP50 float64 `json:"ratio_p50"`
	RatioP99 float64 `json:"ratio_p99"`
	// Samples are the round trips of the successful requests in milliseconds, in order; not
	// in the JSON output.
	Samples []float64 `json:"-"`
}

// Validate reports what is wrong with cfg, naming the setting.
func Validate(cfg Config) error {
	_, err := cfg.withDefaults()
	return err
}

// Run measures every (latency, size) point, latencies outer. progress, if set, is told of
// each point when it is done. Cancelling ctx stops between requests.
func Run(ctx context.Context, cfg Config, progress func(Point)) ([]Point, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var out []Point
	for i, lat := range cfg.Latencies {
		w, err := newWorld(cfg, lat, subnet(cfg.Base, i))
		if err != nil {
			return out, err
		}
		for _, size := range cfg.Sizes {
			p, err := w.measure(ctx, size)
			if err != nil {
				w.close()
				return out, err
			}
			out = append(out, p)
			if progress != nil {
				progress(p)
			}
		}
		w.close()
	}
	return out, nil
}

// subnet is base moved i /24s on.
func subnet(base netip.Addr, i int) netip.Addr {
	b := base.As4()
	b[2] += byte(i)
	return netip.AddrFrom4(b)
}

// world is a client and three nodes on one live driver.
type world struct {
	cfg    Config
	lat    time.Duration
	drv    *live.Driver
	suite  cryptomode.Suite
	client *benchClient
	caddr  actor.Addr
	nodes  []registry.Peer
	keys   []identity.Keys
	linkMS float64
}

const benchPort = 22021

func newWorld(cfg Config, lat time.Duration, base netip.Addr) (*world, error) {
	w := &world{cfg: cfg, lat: lat, suite: cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)}
	addrs := make([]netip.Addr, 4) // client, guard, relay, destination
	addrs[0] = base
	for i := 1; i < 4; i++ {
		addrs[i] = addrs[i-1].Next()
	}
	// Requests go one at a time, so one connection per peer carries them all: the transport
	// then waits for it rather than dialling (and handshaking) another while it is handed back.
	lcfg := live.Config{Codec: bodies.Codec(), Timeout: cfg.Timeout, MaxConnsPerPeer: 1}
	if lat > 0 {
		links, ids, err := fixedLatency(lat, len(addrs))
		if err != nil {
			return nil, err
		}
		for h := range 3 {
			w.linkMS += ms(links.BaseRTT(ids[h], ids[h+1]))
		}
		model := linkconn.NewModel(links)
		// Exact arrivals: a timer alone may wake up to a millisecond late on every one of the
		// six crossings, which would be counted against the stack.
		model.Spin = time.Millisecond
		for i, a := range addrs {
			model.AddAddr(a, ids[i])
		}
		lcfg.WrapConn = model.Wrap
	}
	w.drv = live.New(lcfg)
	for i := 1; i < 4; i++ {
		k := identity.Derive(1, fmt.Sprintf("bench-node-%d", i))
		w.keys = append(w.keys, k)
		w.nodes = append(w.nodes, registry.Peer{Ed25519: k.Ed25519Public, X25519: k.X25519Public,
			Addr: netip.AddrPortFrom(addrs[i], benchPort), Swarm: swarm.ID(1) << 62})
	}
	list := &registry.List{Height: 1, Nodes: slices.Clone(w.nodes)}
	slices.SortFunc(list.Nodes, func(a, b registry.Peer) int { return strings.Compare(string(a.Ed25519[:]), string(b.Ed25519[:])) })
	ncfg := node.Config{Suite: w.suite, Reachability: node.Reachability{Disabled: true}, ListPoll: -1, UptimeProofInterval: -1,
		RateLimit: node.RateLimit{Disabled: true}}
	for i, k := range w.keys {
		n, err := node.New(ncfg, k, memory.New(memory.Config{}))
		if err != nil {
			return nil, err
		}
		n.SetList(list)
		if err := w.drv.Spawn(w.nodes[i].Addr, fmt.Sprintf("node-%d", i+1), n); err != nil {
			w.drv.Close()
			return nil, err
		}
	}
	w.client = &benchClient{}
	w.caddr = netip.AddrPortFrom(addrs[0], benchPort)
	if err := w.drv.Spawn(w.caddr, "client", w.client); err != nil {
		w.drv.Close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() { w.drv.Close() }

// fixedLatency is a link model of n hosts in which every message takes lat one way, whatever
// its size: one region with a negligible backbone, access links of lat/2 at each end, no
// jitter, no bandwidth limit, no loss.
func fixedLatency(lat time.Duration, n int) (*netem.Network, []netem.HostID, error) {
	m, err := netem.ParseMatrix("bench", strings.NewReader("from,loopback\nloopback,0\n"))
	if err != nil {
		return nil, nil, err
	}
	links, err := netem.New(netem.Config{Matrix: m, SameRegionRTT: time.Nanosecond})
	if err != nil {
		return nil, nil, err
	}
	ids := make([]netem.HostID, n)
	for i := range ids {
		if ids[i], err = links.AddHost(0, netem.Profile{Name: "bench", Latency: lat / 2}); err != nil {
			return nil, nil, err
		}
	}
	return links, ids, nil
}

// path is the onion path: guard and relay, then the destination.
func (w *world) path() (onion.Path, onion.Node) {
	hop := func(p registry.Peer) onion.Node { return onion.Node{Ed25519: p.Ed25519, X25519: p.X25519} }
	return onion.Path{Hops: []onion.Node{hop(w.nodes[0]), hop(w.nodes[1])}, EncType: w.cfg.EncType}, hop(w.nodes[2])
}

// minSize is the smallest payload: the info request itself.
var minSize = len(storagerpc.EncodeRequest(&storagerpc.Info{}))

// payload is an info request padded with trailing JSON whitespace to size bytes.
func payload(size int) []byte {
	rpc := storagerpc.EncodeRequest(&storagerpc.Info{})
	out := make([]byte, size)
	copy(out, rpc)
	for i := len(rpc); i < size; i++ {
		out[i] = ' '
	}
	return out
}

// measure times cfg.Requests requests of size bytes, after the warm-up, and the floor.
func (w *world) measure(ctx context.Context, size int) (Point, error) {
	rpc := payload(size)
	p := Point{PayloadBytes: size, LinkLatencyMS: ms(w.lat), Requests: w.cfg.Requests, LinkRTTMS: w.linkMS}
	crypto, err := w.cryptoFloor(rpc, w.cfg.Requests)
	if err != nil {
		return p, err
	}
	p.CryptoMS = crypto
	p.FloorMS = p.LinkRTTMS + p.CryptoMS
	for i := range w.cfg.Warmup + w.cfg.Requests {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		rtt, err := w.request(rpc)
		if i < w.cfg.Warmup {
			if err != nil {
				return p, fmt.Errorf("warm-up request at %v one way, %d bytes: %w", w.lat, size, err)
			}
			continue
		}
		if err != nil {
			p.Failures++
			continue
		}
		p.Samples = append(p.Samples, ms(rtt))
	}
	if len(p.Samples) == 0 {
		return p, fmt.Errorf("no request of %d bytes at %v one way succeeded", size, w.lat)
	}
	p.P50MS, p.P99MS = quantile(p.Samples, 0.5), quantile(p.Samples, 0.99)
	p.RatioP50, p.RatioP99 = p.P50MS/p.FloorMS, p.P99MS/p.FloorMS
	return p, nil
}

// quantile is the empirical q-quantile of xs.
func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return stat.Quantile(q, stat.Empirical, s, nil)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cryptoFloor is the median time, in ms, of the path's cryptography done in-process n times:
// what the client and the three nodes compute for one request, without any socket.
func (w *world) cryptoFloor(rpc []byte, n int) (float64, error) {
	kps := make([]cryptomode.X25519KeyPair, len(w.keys))
	for i, k := range w.keys {
		kp, _, err := w.suite.X25519FromSecret(k.X25519Secret)
		if err != nil {
			return 0, err
		}
		kps[i] = kp
	}
	path, dest := w.path()
	times := make([]float64, 0, n)
	for range n {
		start := time.Now()
		if err := pathCrypto(w.suite, path, dest, kps, rpc); err != nil {
			return 0, err
		}
		times = append(times, ms(time.Since(start)))
	}
	return quantile(times, 0.5), nil
}

// pathCrypto is one request's cryptography, node by node as the nodes do it: build, peel at
// the guard (framed request), at the relay and at the destination (relay requests), the
// destination's sealed answer, and the client's open.
func pathCrypto(s cryptomode.Suite, path onion.Path, dest onion.Node, kps []cryptomode.X25519KeyPair, rpc []byte) error {
	built, err := onion.BuildToNode(s, crand.Reader, path, dest, rpc)
	if err != nil {
		return err
	}
	in, err := onion.ParseGuardRequest(built.Body)
	if err != nil {
		return err
	}
	var p onion.Peeled
	for i, kp := range kps {
		if i > 0 {
			if in, err = onion.ParseRelayRequest(p.Next.RelayBody()); err != nil {
				return err
			}
		}
		if p, err = onion.Peel(s, kp, in); err != nil {
			return err
		}
	}
	if p.Routing.Action != onion.Deliver {
		return errors.New("onionbench: the last layer is not for its destination")
	}
	answer := []byte(`{"version":[2,11,0],"timestamp":0}`)
	sealed, _, err := onion.SealNodeResponse(s, p.Reply, crand.Reader, p.Routing.Format, onion.NodeResponse{Status: 200, Body: answer})
	if err != nil {
		return err
	}
	_, _, err = onion.OpenNodeResponse(s.Costs(), built.Reply, onion.ResponseFormat{}, sealed)
	return err
}

// request sends one onion request from the client actor and waits for its opened answer.
func (w *world) request(rpc []byte) (time.Duration, error) {
	type result struct {
		rtt time.Duration
		err error
	}
	got := make(chan result, 1)
	path, dest := w.path()
	guard := w.nodes[0].Addr
	err := w.drv.Invoke(w.caddr, func() {
		w.client.send(w.suite, path, dest, guard, rpc, w.cfg.Timeout, func(rtt time.Duration, err error) { got <- result{rtt, err} })
	})
	if err != nil {
		return 0, err
	}
	select {
	case r := <-got:
		return r.rtt, r.err
	case <-time.After(2 * w.cfg.Timeout):
		return 0, fmt.Errorf("no answer within %v", 2*w.cfg.Timeout)
	}
}

// benchClient is the client actor: it only sends what request asks for.
type benchClient struct{ env actor.Env }

func (c *benchClient) Start(env actor.Env) { c.env = env }

func (c *benchClient) Handle(_ actor.Addr, _ actor.Request, r actor.Responder) {
	r.Respond(actor.Response{Status: 404})
}

// send builds an onion request, posts it to the guard, opens the answer and reports the round
// trip from the start of the build, on the client's goroutine.
func (c *benchClient) send(s cryptomode.Suite, path onion.Path, dest onion.Node, guard actor.Addr, rpc []byte, timeout time.Duration, done func(time.Duration, error)) {
	start := time.Now()
	built, err := onion.BuildToNode(s, actor.RandReader(c.env.Rand()), path, dest, rpc)
	if err != nil {
		done(0, err)
		return
	}
	req := actor.Request{Method: node.MethodOnion, Body: built.Body, Size: len(built.Body)}
	c.env.Call(guard, req, timeout, func(resp actor.Response, err error) {
		if err != nil {
			done(0, err)
			return
		}
		body, _ := resp.Body.([]byte)
		if resp.Status != 200 {
			done(0, fmt.Errorf("the guard answered %d: %s", resp.Status, body))
			return
		}
		r, _, err := onion.OpenNodeResponse(s.Costs(), built.Reply, onion.ResponseFormat{}, body)
		if err != nil {
			done(0, fmt.Errorf("the answer does not open: %w", err))
			return
		}
		if r.Status != 200 {
			done(0, fmt.Errorf("the destination answered %d: %s", r.Status, r.Body))
			return
		}
		done(time.Since(start), nil)
	})
}
