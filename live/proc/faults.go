package proc

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/live/linkconn"
	"github.com/sessionsim/sessionsim/netem"
)

// Faults is the in-binary link table of a process: the peers it is cut off from, the latency
// it adds to what it writes, and the world's link model on its links to its peers. Every
// connection the actor dials or accepts is wrapped (live.Config.WrapConn), so a partition
// holds whatever the network between the processes is (loopback or a Docker bridge), without
// packet-filter rules.
type Faults struct {
	mu      sync.Mutex
	cutAll  bool
	cut     map[netip.Addr]bool
	latency time.Duration
	// peers is the one-way latency of the link to each peer (the world's link table),
	// added to what latency adds.
	peers map[netip.Addr]time.Duration
	// links is the link model on the links to the peers of the table (LinkTable), hosts is
	// its hosts' addresses in HostID order (kept across tables: open connections keep their
	// hosts) and table the table it was built from (nil: none, nothing shaped).
	links *linkconn.Model
	hosts []netip.Addr
	table *LinkTable
	// taps says the table asked for the link taps (FaultState.Taps), and onTap is told of
	// each (OnTap).
	taps  bool
	onTap func(LinkTapped)
	// counters of LinkStats
	wrapped, refused, delayed, dropped, written uint64
}

// FaultState is the link table as the admin endpoint shows and takes it (JSON).
type FaultState struct {
	// Partition lists the peers' IPs the process is cut off from; "*" cuts it off from all.
	Partition []string `json:"partition"`
	// LatencyMS is added, one way, to every write the process makes.
	LatencyMS float64 `json:"latency_ms"`
	// PeerLatencyMS is the link table: the one-way latency added to every write to a peer,
	// by the peer's IP (a harness gives a node its links to the other nodes this way).
	PeerLatencyMS map[string]float64 `json:"peer_latency_ms,omitempty"`
	// Links is the world's link model on the links to the peers (LinkTable): what the process
	// writes to a peer of the table waits as the model says, before what latency_ms and
	// peer_latency_ms add.
	Links *LinkTable `json:"links,omitempty"`
	// Taps, with Links, reports every write the link model shapes as a LinkTapped event
	// (GET /events?leakage=1): the links between the processes for the link taps file.
	Taps bool `json:"taps,omitempty"`
}

// LinkStats counts what the fault switch did.
type LinkStats struct {
	Connections uint64 `json:"connections"`
	Refused     uint64 `json:"refused"`
	Delayed     uint64 `json:"delayed_writes"`
	Dropped     uint64 `json:"dropped_connections"`
	// Bytes is every byte written on the wrapped connections (TLS and HTTP included), as the
	// link model of live mode counts them.
	Bytes uint64 `json:"bytes_written"`
}

// NewFaults is a link table with no faults.
func NewFaults() *Faults { return &Faults{cut: map[netip.Addr]bool{}, links: linkconn.NewModel(nil)} }

// OnTap makes f tell tap of every write its link model shapes while the table asks for it
// (FaultState.Taps). Call it before the first Set. tap runs under the model's lock.
func (f *Faults) OnTap(tap func(LinkTapped)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onTap = tap
}

// Set replaces the link table; a bad IP or a negative latency changes nothing.
func (f *Faults) Set(s FaultState) error {
	if s.LatencyMS < 0 {
		return errors.New("latency_ms: must be 0 or more")
	}
	cut := map[netip.Addr]bool{}
	all := false
	for _, p := range s.Partition {
		if p == "*" {
			all = true
			continue
		}
		ip, err := netip.ParseAddr(p)
		if err != nil {
			return errors.New("partition: " + p + " is not an IP address (or \"*\" for every peer)")
		}
		cut[ip.Unmap()] = true
	}
	var peers map[netip.Addr]time.Duration
	for p, ms := range s.PeerLatencyMS {
		ip, err := netip.ParseAddr(p)
		if err != nil {
			return errors.New("peer_latency_ms: " + p + " is not an IP address")
		}
		if ms < 0 {
			return errors.New("peer_latency_ms: " + p + ": must be 0 or more")
		}
		if peers == nil {
			peers = map[netip.Addr]time.Duration{}
		}
		peers[ip.Unmap()] = time.Duration(ms * float64(time.Millisecond))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var built linkNet
	if s.Links != nil {
		var err error
		if built, err = s.Links.build(f.hosts); err != nil {
			return err
		}
		for id, ip := range built.order[len(f.hosts):] {
			f.links.AddAddr(ip, netem.HostID(len(f.hosts)+id))
		}
		f.hosts = built.order
	}
	// Set is the only writer of the model's network, under f.mu: two tables set at once cannot
	// leave the hosts of one with the network of the other. The tap goes first: the new
	// table's hosts keep the old one's HostIDs (new ones after), so the new tap names every
	// host of the old network too, while the old tap would skip the new network's new hosts
	// (a write lost to the taps between the two calls).
	f.links.SetTap(tapOf(built.order, s.Taps, f.onTap))
	f.links.SetNetwork(built.net)
	f.taps = s.Taps
	f.cutAll, f.cut, f.latency, f.peers, f.table = all, cut, time.Duration(s.LatencyMS*float64(time.Millisecond)), peers, s.Links
	return nil
}

// State is the current link table, peers sorted.
func (f *Faults) State() FaultState {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := FaultState{Partition: []string{}, LatencyMS: float64(f.latency) / float64(time.Millisecond)}
	if f.cutAll {
		s.Partition = append(s.Partition, "*")
	}
	for ip := range f.cut {
		s.Partition = append(s.Partition, ip.String())
	}
	slices.Sort(s.Partition)
	for ip, d := range f.peers {
		if s.PeerLatencyMS == nil {
			s.PeerLatencyMS = map[string]float64{}
		}
		s.PeerLatencyMS[ip.String()] = float64(d) / float64(time.Millisecond)
	}
	s.Links, s.Taps = f.table, f.taps
	return s
}

// tapOf is the model's tap for a table whose hosts are order (by HostID): each write as a
// LinkTapped between the hosts' addresses; nil unless on and someone is told. It reads only
// order, which the next table replaces rather than changes, so it takes no lock of f's: the
// model calls it under its own, which Set takes under f's.
func tapOf(order []netip.Addr, on bool, tell func(LinkTapped)) linkconn.Tap {
	if !on || tell == nil {
		return nil
	}
	return func(from, to netem.HostID, size int, sent, arrive int64, ok bool) {
		if int(from) >= len(order) || int(to) >= len(order) {
			return // a host of the next table, whose tap comes with it
		}
		tell(LinkTapped{From: order[from], To: order[to], Size: size, SentNS: sent, ArriveNS: arrive, OK: ok})
	}
}

// Stats counts connections wrapped, refused, writes delayed and bytes written.
func (f *Faults) Stats() LinkStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return LinkStats{Connections: f.wrapped, Refused: f.refused, Delayed: f.delayed, Dropped: f.dropped, Bytes: f.written}
}

func (f *Faults) rule(remote netip.Addr) (cut bool, latency time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cutAll || f.cut[remote.Unmap()], f.latency + f.peers[remote.Unmap()]
}

func (f *Faults) count(c *uint64) {
	f.mu.Lock()
	*c++
	f.mu.Unlock()
}

// errCut is what a connection to a peer across a partition returns.
var errCut = errors.New("proc: the link to this peer is cut (admin fault switch)")

// Wrap is the live driver's WrapConn hook: a connection across a partition fails at once (the
// peer sees a reset, as behind a packet filter that rejects), every write waits out the added
// latency, and what is written to a peer of the link table then waits as the link model says
// (linkconn). A rule set while a connection is open applies to its next read or write, and a
// new link table to its next write.
func (f *Faults) Wrap(c net.Conn, local, remote netip.Addr) net.Conn {
	f.count(&f.wrapped)
	c = f.links.Wrap(c, local, remote)
	if cut, _ := f.rule(remote); cut {
		f.count(&f.refused)
		_ = c.Close()
	}
	return &faultConn{Conn: c, f: f, remote: remote}
}

type faultConn struct {
	net.Conn
	f      *Faults
	remote netip.Addr
	once   sync.Once

	// The pacing of writes (Write): when the last write returned, and when it would have been
	// made without the added latency.
	mu         sync.Mutex
	lastReturn time.Time
	lastSent   time.Time
}

// backToBack is how soon after the last write returned a write counts as the next piece of
// the same burst (a TLS record after the one before, a body after its headers).
const backToBack = time.Millisecond

func (c *faultConn) check() (time.Duration, error) {
	cut, latency := c.f.rule(c.remote)
	if cut {
		c.once.Do(func() {
			c.f.count(&c.f.dropped)
			_ = c.Conn.Close()
		})
		return 0, errCut
	}
	return latency, nil
}

func (c *faultConn) Read(b []byte) (int, error) {
	if _, err := c.check(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *faultConn) Write(b []byte) (int, error) {
	latency, err := c.check()
	if err != nil {
		return 0, err
	}
	if latency > 0 {
		c.f.count(&c.f.delayed)
		c.pace(latency)
	}
	n, err := c.Conn.Write(b)
	c.f.mu.Lock()
	c.f.written += uint64(n)
	c.f.mu.Unlock()
	return n, err
}

// pace waits until latency has passed since the write would have been made: a burst of writes
// (a message in several TLS records) pays the latency once, as on a link with that latency,
// rather than once per write, since each write after the first would have followed the one
// before at once had the first not waited.
func (c *faultConn) pace(latency time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	sent := now
	if since := now.Sub(c.lastReturn); since < backToBack {
		sent = c.lastSent.Add(since)
	}
	time.Sleep(time.Until(sent.Add(latency)))
	c.lastSent, c.lastReturn = sent, time.Now()
}
