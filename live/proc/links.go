package proc

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/netem"
)

// LinkTable is the world's link model as far as one process's links to its peers go, as a
// harness hands it over (POST /fault, "links"): the region RTT matrix and the network's
// settings, and each host's region, access link and current degradation, the process's own
// among them. The process builds a netem.Network of these hosts and shapes what it writes to
// each peer as that model decides (linkconn): the backbone between the two regions, both
// access links' latency and jitter, the uplink and downlink queues, loss as retransmission
// delays and then a failed connection, and both hosts' degradations, as the simulator charges
// a message between the two. Each side shapes what it writes, so both directions of a link
// pay the model when both ends have the table.
type LinkTable struct {
	// Self is the process's own IP, one of Hosts.
	Self string `json:"self"`
	// Hosts are the process's and its peers' hosts, by IP.
	Hosts map[string]LinkHost `json:"hosts"`
	// Regions and RTTMS are the region RTT matrix: RTTMS[a][b] is the RTT from region a to b
	// in ms (netem.Matrix).
	Regions []string    `json:"regions"`
	RTTMS   [][]float64 `json:"rtt_ms"`
	// The network's settings (netem.Config; 0: netem's default).
	SameRegionRTTMS float64 `json:"same_region_rtt_ms,omitempty"`
	PathJitter      float64 `json:"path_jitter,omitempty"`
	MSS             int     `json:"mss,omitempty"`
	MinRTOMS        float64 `json:"min_rto_ms,omitempty"`
	FailAfterLosses int     `json:"fail_after_losses,omitempty"`
}

// LinkHost is one host of a LinkTable: its region, its access link (netem.Profile) and the
// degradation in force on it (netem.Degradation, added to every message leaving or reaching
// it).
type LinkHost struct {
	Region      string  `json:"region"`
	LatencyMS   float64 `json:"latency_ms"`
	JitterMS    float64 `json:"jitter_ms,omitempty"`
	UplinkBPS   int64   `json:"uplink_bps,omitempty"`
	DownlinkBPS int64   `json:"downlink_bps,omitempty"`
	Loss        float64 `json:"loss,omitempty"`
	// DegradeLatencyMS and DegradeLoss are the host's degradation now (0: none).
	DegradeLatencyMS float64 `json:"degrade_latency_ms,omitempty"`
	DegradeLoss      float64 `json:"degrade_loss,omitempty"`
}

// NewLinkTable is the part of n's link table every process shares: its matrix and settings,
// with no hosts yet.
func NewLinkTable(n *netem.Network) LinkTable {
	cfg := n.Config()
	m := cfg.Matrix
	t := LinkTable{Hosts: map[string]LinkHost{}, Regions: m.Regions(), RTTMS: make([][]float64, m.Len()),
		SameRegionRTTMS: ms(cfg.SameRegionRTT), PathJitter: cfg.PathJitter, MSS: cfg.MSS, MinRTOMS: ms(cfg.MinRTO),
		FailAfterLosses: cfg.FailAfterLosses}
	for a := range t.RTTMS {
		t.RTTMS[a] = make([]float64, m.Len())
		for b := range t.RTTMS[a] {
			t.RTTMS[a][b] = ms(m.RTT(netem.Region(a), netem.Region(b)))
		}
	}
	return t
}

// HostLink is host h of n as a LinkTable's host, without degradation.
func HostLink(n *netem.Network, h netem.HostID) (LinkHost, error) {
	r, err := n.Region(h)
	if err != nil {
		return LinkHost{}, err
	}
	p, err := n.Profile(h)
	if err != nil {
		return LinkHost{}, err
	}
	return LinkHost{Region: n.Matrix().Name(r), LatencyMS: ms(p.Latency), JitterMS: ms(p.Jitter),
		UplinkBPS: int64(p.Uplink), DownlinkBPS: int64(p.Downlink), Loss: p.Loss}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fromMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// profile is the host's access link.
func (h LinkHost) profile() netem.Profile {
	return netem.Profile{Latency: fromMS(h.LatencyMS), Jitter: fromMS(h.JitterMS), Uplink: netem.Bandwidth(h.UplinkBPS),
		Downlink: netem.Bandwidth(h.DownlinkBPS), Loss: h.Loss}
}

// linkNet is a LinkTable built: the network and the hosts' addresses.
type linkNet struct {
	net   *netem.Network
	order []netip.Addr // host i of net is order[i]
}

// build makes the table's network with the hosts of before first, at the same HostIDs (the
// connections open on the old network keep theirs; a host the table no longer has keeps its
// place with an ideal link in the first region), then the table's new hosts in address order.
func (t *LinkTable) build(before []netip.Addr) (linkNet, error) {
	hosts := make(map[netip.Addr]LinkHost, len(t.Hosts))
	for s, h := range t.Hosts {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return linkNet{}, fmt.Errorf("links.hosts: %s is not an IP address", s)
		}
		hosts[ip.Unmap()] = h
	}
	self, err := netip.ParseAddr(t.Self)
	if err != nil {
		return linkNet{}, fmt.Errorf("links.self: %q is not an IP address", t.Self)
	}
	if _, ok := hosts[self.Unmap()]; !ok {
		return linkNet{}, fmt.Errorf("links.self: %s is not one of links.hosts", t.Self)
	}
	rtt := make([][]time.Duration, len(t.RTTMS))
	for a, row := range t.RTTMS {
		for _, v := range row {
			rtt[a] = append(rtt[a], fromMS(v))
		}
	}
	m, err := netem.NewMatrix("links", t.Regions, rtt)
	if err != nil {
		return linkNet{}, fmt.Errorf("links: %w", err)
	}
	n, err := netem.New(netem.Config{Matrix: m, SameRegionRTT: fromMS(t.SameRegionRTTMS), PathJitter: t.PathJitter, MSS: t.MSS,
		MinRTO: fromMS(t.MinRTOMS), FailAfterLosses: t.FailAfterLosses})
	if err != nil {
		return linkNet{}, fmt.Errorf("links: %w", err)
	}
	order := slices.Clone(before)
	for _, ip := range slices.SortedFunc(maps.Keys(hosts), netip.Addr.Compare) {
		if !slices.Contains(before, ip) {
			order = append(order, ip)
		}
	}
	for _, ip := range order {
		h, ok := hosts[ip]
		if !ok {
			if _, err := n.AddHost(0, netem.Profile{}); err != nil {
				return linkNet{}, err
			}
			continue
		}
		r, err := m.Lookup(h.Region)
		if err != nil {
			return linkNet{}, fmt.Errorf("links.hosts: %s: %w", ip, err)
		}
		id, err := n.AddHost(r, h.profile())
		if err != nil {
			return linkNet{}, fmt.Errorf("links.hosts: %s: %w", ip, err)
		}
		if h.DegradeLatencyMS != 0 || h.DegradeLoss != 0 {
			if err := n.Degrade(id, netem.Degradation{Latency: fromMS(h.DegradeLatencyMS), Loss: h.DegradeLoss}); err != nil {
				return linkNet{}, fmt.Errorf("links.hosts: %s: %w", ip, err)
			}
		}
	}
	return linkNet{net: n, order: order}, nil
}
