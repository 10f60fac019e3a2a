// Package netem models the network between simulated hosts: a region-to-region RTT matrix, per-host
// access links with bandwidth queues and jittered latency, packet loss as TCP feels it
// (retransmission delays, then a failed connection), partitions and time-windowed degradations.
//
// The model is driven by the caller's virtual clock: Transit is asked when a message of a given
// size leaves one host for another and answers when it arrives, updating the link queues. It never
// reads the wall clock and draws randomness only from the stream it is handed, so the same calls in
// the same order give the same answers.
package netem

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// HostID names a host of a Network: hosts are numbered from 0 in the order they are added.
type HostID uint32

// Config shapes the whole network. The zero value of a field means its default.
type Config struct {
	// Matrix is the region RTT matrix. Default: DefaultMatrix().
	Matrix *Matrix
	// SameRegionRTT is the backbone RTT between two hosts of one region, for regions whose
	// diagonal in the matrix is zero. Default: 2 ms.
	SameRegionRTT time.Duration
	// PathJitter is the standard deviation of the backbone one-way delay, as a fraction of it
	// (0.05 = 5%). Default: 0, because the matrix already holds averages and most jitter is on
	// access links.
	PathJitter float64
	// MSS is the TCP segment payload, used to count packets for loss. Default: 1460 bytes.
	MSS int
	// MinRTO is the floor of the first retransmission timeout. Default: 200 ms (Linux).
	MinRTO time.Duration
	// FailAfterLosses is how many consecutive losses of one packet break the connection (the
	// message is then lost and the caller sees its own timeout). Default: 6.
	FailAfterLosses int
}

// Defaults for Config.
const (
	DefaultSameRegionRTT   = 2 * time.Millisecond
	DefaultMSS             = 1460
	DefaultMinRTO          = 200 * time.Millisecond
	DefaultFailAfterLosses = 6
)

// maxFailAfterLosses bounds the retransmission loop; real stacks give up well before.
const maxFailAfterLosses = 20

// maxRTO is the ceiling of a doubled RTO (TCP_RTO_MAX in Linux).
const maxRTO = 120 * time.Second

// maxDelay bounds the total retransmission delay of one message so sums never overflow; a
// message delayed this long is as good as lost to every caller's timeout.
const maxDelay = int64(1000 * time.Hour)

func (c Config) withDefaults() (Config, error) {
	if c.Matrix == nil {
		c.Matrix = DefaultMatrix()
	}
	if c.SameRegionRTT == 0 {
		c.SameRegionRTT = DefaultSameRegionRTT
	}
	if c.MSS == 0 {
		c.MSS = DefaultMSS
	}
	if c.MinRTO == 0 {
		c.MinRTO = DefaultMinRTO
	}
	if c.FailAfterLosses == 0 {
		c.FailAfterLosses = DefaultFailAfterLosses
	}
	switch {
	case c.SameRegionRTT < 0 || c.SameRegionRTT > maxRTT:
		return c, fmt.Errorf("netem: same-region RTT %v must be in (0, %v]", c.SameRegionRTT, maxRTT)
	case !(c.PathJitter >= 0 && c.PathJitter <= 10):
		return c, fmt.Errorf("netem: path jitter %v must be a fraction in [0, 10]", c.PathJitter)
	case c.MSS < 0:
		return c, fmt.Errorf("netem: negative MSS %d", c.MSS)
	case c.MinRTO < 0 || c.MinRTO > maxRTT:
		return c, fmt.Errorf("netem: minimum RTO %v must be in (0, %v]", c.MinRTO, maxRTT)
	case c.FailAfterLosses < 0 || c.FailAfterLosses > maxFailAfterLosses:
		return c, fmt.Errorf("netem: fail-after-losses %d must be in [1, %d]", c.FailAfterLosses, maxFailAfterLosses)
	}
	return c, nil
}

// Network is the link model of one simulated world. It is not safe for concurrent use, except
// that Depart may run at once for different senders, and LandOn for receivers whose legs land
// in different shards of the counters (Shards).
type Network struct {
	cfg     Config
	m       *Matrix
	oneWay  []int64 // [from*regions+to]: mean one-way backbone delay, ns
	regions int
	// The path jitter's log-normal shape, fixed by Config.PathJitter: half its variance and its
	// standard deviation, in log-ns, so each message only takes the log of its own mean.
	pathHalfS2, pathSigma float64
	hosts                 []host
	profiles              []profile
	profIdx               map[Profile]uint32
	parts                 []partition
	degr                  []degradation
	shards                []shard // Land's counters; Stats sums them
}

// shard is one set of Land's counters, alone on its cache line: receivers' sides that land
// legs at once, each into its own shard, do not contend for it.
type shard struct {
	Stats
	_ [64 - 5*8]byte
}

// host is what every message reads of its two ends: one cache line, so a world of ~100,000
// hosts costs 6 MiB and a message touches two lines.
type host struct {
	up, down linkQueue
	prof     uint32
	degr     int32 // first degradation of this host in Network.degr, -1 if none
	region   Region
	_        [14]byte
}

// linkQueue is the FIFO of one direction of an access link.
type linkQueue struct {
	last int64 // unix ns at which the latest in-order message reached the queue
	free int64 // unix ns at which the link has sent everything queued on it
}

// admit queues a message that reaches the link at `at` and occupies it for ser, and returns
// when its first bit goes out. Messages are offered in the order the simulation computes them,
// which is not always the order they reach the link (jitter and different path lengths reorder
// them). One that reaches the link before the latest queued message went out ahead of it: it
// starts at once and pushes the backlog back by its own serialization, instead of waiting behind
// messages that had not arrived yet.
func (q *linkQueue) admit(at, ser int64) int64 {
	if at >= q.last {
		start := max(at, q.free)
		q.last = at
		q.free = start + ser
		return start
	}
	q.free += ser
	return at
}

type profile struct {
	Profile
	latency, jitter int64   // ns
	mu, sigma       float64 // of the log-normal latency, in log-ns
	keep            float64 // 1 - Loss
}

// Stats counts what the network did.
type Stats struct {
	Messages    uint64 // Transit calls that delivered
	Bytes       uint64 // bytes of those messages
	Retransmits uint64 // packet losses recovered by retransmission
	Failed      uint64 // messages lost to a connection that gave up
	Blocked     uint64 // messages dropped by a partition
}

// New builds an empty network.
func New(cfg Config) (*Network, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Network{cfg: cfg, m: cfg.Matrix, regions: cfg.Matrix.Len(), profIdx: make(map[Profile]uint32), shards: make([]shard, 1)}
	n.oneWay = make([]int64, n.regions*n.regions)
	for a := range n.regions {
		for b := range n.regions {
			d := cfg.Matrix.RTT(Region(a), Region(b))
			if a == b && d == 0 {
				d = cfg.SameRegionRTT
			}
			n.oneWay[a*n.regions+b] = int64(d) / 2
		}
	}
	if cfg.PathJitter > 0 {
		s2 := math.Log1p(cfg.PathJitter * cfg.PathJitter)
		n.pathHalfS2, n.pathSigma = s2/2, math.Sqrt(s2)
	}
	return n, nil
}

// Config is the network's configuration with defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// Matrix is the region matrix in use.
func (n *Network) Matrix() *Matrix { return n.m }

// Stats reports the counters so far.
func (n *Network) Stats() Stats {
	var s Stats
	for i := range n.shards {
		c := &n.shards[i].Stats
		s.Messages += c.Messages
		s.Bytes += c.Bytes
		s.Retransmits += c.Retransmits
		s.Failed += c.Failed
		s.Blocked += c.Blocked
	}
	return s
}

// Shards makes room for k sets of Land's counters (LandOn's shards 0 to k-1), so that the
// legs of receivers split into k groups can land at once, one goroutine per group. It keeps
// what was counted so far.
func (n *Network) Shards(k int) {
	if k > len(n.shards) {
		n.shards = append(n.shards, make([]shard, k-len(n.shards))...)
	}
}

// Len is the number of hosts.
func (n *Network) Len() int { return len(n.hosts) }

// AddHost adds a host in a region with an access-link profile.
func (n *Network) AddHost(region Region, p Profile) (HostID, error) {
	if int(region) >= n.m.Len() {
		return 0, fmt.Errorf("netem: region index %d out of range: the matrix has %d regions", region, n.m.Len())
	}
	if len(n.hosts) >= math.MaxInt32 {
		return 0, errors.New("netem: too many hosts")
	}
	pi, ok := n.profIdx[p]
	if !ok {
		if err := p.Validate(); err != nil {
			return 0, err
		}
		pr := profile{Profile: p, latency: int64(p.Latency), jitter: int64(p.Jitter), keep: 1 - p.Loss}
		if p.Jitter > 0 {
			pr.mu, pr.sigma = logNormal(float64(p.Latency), float64(p.Jitter)/float64(p.Latency))
		}
		pi = uint32(len(n.profiles))
		n.profiles = append(n.profiles, pr)
		n.profIdx[p] = pi
	}
	n.hosts = append(n.hosts, host{prof: pi, degr: -1, region: region})
	return HostID(len(n.hosts) - 1), nil
}

// Region is the region of host h.
func (n *Network) Region(h HostID) (Region, error) {
	if int(h) >= len(n.hosts) {
		return 0, n.unknownHost(h)
	}
	return n.hosts[h].region, nil
}

// Profile is the access-link profile of host h.
func (n *Network) Profile(h HostID) (Profile, error) {
	if int(h) >= len(n.hosts) {
		return Profile{}, n.unknownHost(h)
	}
	return n.profiles[n.hosts[h].prof].Profile, nil
}

func (n *Network) unknownHost(h HostID) error {
	return fmt.Errorf("netem: unknown host %d: the network has %d hosts", h, len(n.hosts))
}

// backbone is the mean one-way delay between the regions of two hosts, ns: half the matrix
// RTT, or half the same-region RTT where the matrix diagonal is empty. Regions are checked when
// hosts are added, so the lookup needs no bounds test of its own.
func (n *Network) backbone(a, b Region) int64 {
	return n.oneWay[int(a)*n.regions+int(b)]
}

// baseRTT is the mean round trip between two hosts: both access links both ways and the backbone
// both ways, ns.
func (n *Network) baseRTT(hf, ht *host, pf, pt *profile) int64 {
	return 2*(pf.latency+pt.latency) + n.backbone(hf.region, ht.region) + n.backbone(ht.region, hf.region)
}

// BaseRTT is the mean round-trip time between two hosts with empty queues, no loss and no
// degradation: both access links both ways plus the backbone RTT. It is 0 for a host to itself
// and for unknown hosts.
func (n *Network) BaseRTT(from, to HostID) time.Duration {
	if from == to || int(from) >= len(n.hosts) || int(to) >= len(n.hosts) {
		return 0
	}
	hf, ht := &n.hosts[from], &n.hosts[to]
	return time.Duration(n.baseRTT(hf, ht, &n.profiles[hf.prof], &n.profiles[ht.prof]))
}

// Reachable reports whether no partition separates two hosts at time at. Unknown hosts are not
// reachable.
func (n *Network) Reachable(from, to HostID, at time.Time) bool {
	return n.ReachableNs(from, to, at.UnixNano())
}

// ReachableNs is Reachable at a time in unix nanoseconds, the simulator's own clock, which
// spares its event loop two time.Time conversions per call.
func (n *Network) ReachableNs(from, to HostID, at int64) bool {
	if int(from) >= len(n.hosts) || int(to) >= len(n.hosts) {
		return false
	}
	return !n.partitioned(from, to, at)
}

// Transit sends a message of size bytes from one host to another, leaving at time at, and says
// when it has fully arrived. ok is false when the message never arrives: a partition separates the
// hosts, a packet was lost FailAfterLosses times in a row, or a host is unknown. The queues of the
// sender's uplink and the receiver's downlink advance, so later messages wait behind this one.
//
// The path is: the sender's uplink queue, the sender's access latency, the backbone (half the
// matrix RTT), any degradation of either host, the receiver's downlink queue, the receiver's
// access latency; then retransmission delays if packets were lost. Access latencies are jittered.
// Randomness comes from r only; a nil r draws nothing (no jitter, no loss). A message from a host
// to itself arrives at once.
func (n *Network) Transit(from, to HostID, size int, at time.Time, r *rand.Rand) (arrive time.Time, ok bool) {
	t, ok := n.TransitNs(from, to, size, at.UnixNano(), r)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, t).UTC(), true
}

// TransitNs is Transit with times in unix nanoseconds, the simulator's own clock, which spares
// its event loop two time.Time conversions per message.
func (n *Network) TransitNs(from, to HostID, size int, t int64, r *rand.Rand) (int64, bool) {
	leg := n.Depart(from, to, size, t, r)
	return n.Land(&leg)
}

// Leg is a message between its two halves: Depart has taken it through the sender's side, Land
// will take it through the receiver's downlink.
type Leg struct {
	From, To HostID
	Size     int
	Sent     int64  // unix ns at which it left
	Reach    int64  // when it reaches the receiver's downlink queue
	Ser      int64  // how long it occupies that downlink
	Floor    int64  // the earliest it can have fully arrived: off the uplink and propagated
	Post     int64  // what comes after the downlink: the receiver's access delay, retransmissions
	Retrans  uint64 // packet losses recovered, or counted before the connection gave up
	Fate     Fate
}

// Fate is where Depart left a message.
type Fate uint8

// Fates of a Leg.
const (
	OnWay   Fate = iota // on its way: Land admits it to the downlink
	ToSelf              // to its own host: arrives at once
	Blocked             // a partition separates the hosts
	Failed              // a packet was lost too often; it still took its place on the downlink
	Unknown             // a host is unknown
)

// Depart is Transit's first half, the sender's side: its uplink queue, the propagation and access
// delays, degradations and the loss draws, all from r in the order Transit draws them. It
// touches no state but the sender's uplink, so the departures of different senders may run
// concurrently; the receiver's downlink and the counters wait for Land, which must see the legs
// of each receiver in the order the messages were sent.
func (n *Network) Depart(from, to HostID, size int, t int64, r *rand.Rand) Leg {
	leg := Leg{From: from, To: to, Size: max(size, 0), Sent: t}
	switch {
	case int(from) >= len(n.hosts) || int(to) >= len(n.hosts):
		leg.Fate = Unknown
		return leg
	case from == to:
		leg.Fate = ToSelf
		return leg
	case len(n.parts) > 0 && n.partitioned(from, to, t):
		leg.Fate = Blocked
		return leg
	}
	hf, ht := &n.hosts[from], &n.hosts[to]
	pf, pt := &n.profiles[hf.prof], &n.profiles[ht.prof]

	prop := n.backbone(hf.region, ht.region)
	if n.cfg.PathJitter > 0 && r != nil && prop > 0 {
		mu := math.Log(float64(prop)) - n.pathHalfS2
		prop = max(int64(distuv.LogNormal{Mu: mu, Sigma: n.pathSigma, Src: r}.Rand()), prop/pathFloorDivisor)
	}
	prop += accessDelay(pf, r)
	keep := pf.keep * pt.keep
	if hf.degr >= 0 || ht.degr >= 0 {
		dl, dk := n.degradation(hf.degr, t)
		prop += dl
		keep *= dk
		dl, dk = n.degradation(ht.degr, t)
		prop += dl
		keep *= dk
	}

	// The message streams through both queues at the slower link's rate (cut-through): the
	// downlink is busy only for its own serialization, and the last bit cannot arrive before it
	// has left the uplink and propagated. The receiver's access delay comes after its downlink
	// queue, so its jitter does not hold up other messages in that queue.
	serUp := serialize(leg.Size, pf.Uplink)
	upStart := hf.up.admit(t, serUp)
	leg.Reach, leg.Ser = upStart+prop, serialize(leg.Size, pt.Downlink)
	leg.Floor = upStart + serUp + prop
	leg.Post = accessDelay(pt, r)

	if keep < 1 && r != nil {
		delay, retrans, ok := n.retransmissions(leg.Size, 1-keep, n.baseRTT(hf, ht, pf, pt), pf.jitter+pt.jitter, r)
		leg.Retrans = retrans
		if !ok {
			leg.Fate = Failed
			return leg
		}
		leg.Post += delay
	}
	return leg
}

// Land is Transit's second half, the receiver's side: the leg takes its place in the receiver's
// downlink queue and is counted. It says when the message has fully arrived, or false if it
// never does.
func (n *Network) Land(leg *Leg) (int64, bool) { return n.LandOn(leg, 0) }

// LandOn is Land counting into shard s (Shards). It touches no state but the receiver's
// downlink and that shard, so legs whose receivers are apart and whose shards differ may land
// at once; each receiver's legs must still land in the order they were sent.
func (n *Network) LandOn(leg *Leg, s int) (int64, bool) {
	c := &n.shards[s].Stats
	c.Retransmits += leg.Retrans
	switch leg.Fate {
	case Unknown:
		return 0, false
	case ToSelf:
		c.Messages++
		c.Bytes += uint64(leg.Size)
		return leg.Sent, true
	case Blocked:
		c.Blocked++
		return 0, false
	}
	downStart := n.hosts[leg.To].down.admit(leg.Reach, leg.Ser)
	if leg.Fate == Failed {
		c.Failed++
		return 0, false
	}
	c.Messages++
	c.Bytes += uint64(leg.Size)
	return max(downStart+leg.Ser, leg.Floor) + leg.Post, true
}

// pathFloorDivisor bounds path jitter below: a jittered backbone delay is never shorter than
// its mean over pathFloorDivisor, as light in fibre gives a path a floor. At the default 5%
// jitter the floor is 14 standard deviations below the mean, so no draw ever meets it; it is
// what gives a jittered network a minimum latency (MinLatency), which running one world on
// several workers needs.
const pathFloorDivisor = 2

// MinLatency is a lower bound of the time any message between two different hosts takes: the
// shortest one-way backbone delay of the matrix (with path jitter, its floor). Access links,
// queues, degradations and losses only add to it.
func (n *Network) MinLatency() time.Duration {
	if len(n.oneWay) == 0 {
		return 0
	}
	d := slices.Min(n.oneWay)
	if n.cfg.PathJitter > 0 {
		d /= pathFloorDivisor
	}
	return time.Duration(d)
}

// accessDelay draws one one-way access-link delay.
func accessDelay(p *profile, r *rand.Rand) int64 {
	if p.jitter == 0 || r == nil {
		return p.latency
	}
	return int64(distuv.LogNormal{Mu: p.mu, Sigma: p.sigma, Src: r}.Rand())
}

// logNormal gives the parameters of the log-normal distribution with the given mean and
// coefficient of variation (standard deviation / mean).
func logNormal(mean, cv float64) (mu, sigma float64) {
	s2 := math.Log1p(cv * cv)
	return math.Log(mean) - s2/2, math.Sqrt(s2)
}

// serialize is the time to put size bytes on a link of rate bw, rounded up to the nanosecond.
func serialize(size int, bw Bandwidth) int64 {
	if bw <= 0 || size <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(size)*8, uint64(time.Second))
	if hi >= uint64(bw) {
		return maxDelay // beyond any run; keeps sums from overflowing
	}
	q, rem := bits.Div64(hi, lo, uint64(bw))
	if rem != 0 {
		q++
	}
	if q > uint64(maxDelay) {
		return maxDelay
	}
	return int64(q)
}

// retransmissions draws the losses of a message's packets and returns the total time the
// retransmission timeouts add and the losses recovered, or ok=false if one packet was lost
// FailAfterLosses times in a row (with the losses recovered before it).
// Each lost packet waits one RTO, doubling with every further loss of the same packet. Lost
// packets are found by geometric skips, so the cost is per loss, not per packet.
func (n *Network) retransmissions(size int, loss float64, rtt, jitter int64, r *rand.Rand) (delay int64, retrans uint64, ok bool) {
	packets := 1
	if n.cfg.MSS > 0 && size > n.cfg.MSS {
		packets = (size + n.cfg.MSS - 1) / n.cfg.MSS
	}
	if loss >= 1 {
		return 0, 0, false
	}
	// RTO as Linux starts it: RTT + 4*RTTVAR, floored; the jitter of both access links stands in
	// for RTTVAR.
	rto := min(max(int64(n.cfg.MinRTO), rtt+4*jitter), int64(maxRTO))
	logKeep := math.Log1p(-loss)
	for i := 0; delay < maxDelay; i++ {
		// Packets before the next first-transmission loss: geometric with success 1-loss.
		skip := math.Floor(math.Log(1-r.Float64()) / logKeep)
		if skip >= float64(packets-i) {
			break
		}
		i += int(skip)
		k := 1
		for k < n.cfg.FailAfterLosses && r.Float64() < loss {
			k++
		}
		if k >= n.cfg.FailAfterLosses {
			return 0, retrans, false
		}
		retrans += uint64(k)
		for j := range k {
			delay += min(rto<<j, int64(maxRTO))
		}
	}
	return min(delay, maxDelay), retrans, true
}
