package netem

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Bandwidth is a link rate in bits per second. Zero means unlimited (no serialization delay).
type Bandwidth int64

// Common rates.
const (
	Kbps Bandwidth = 1_000
	Mbps Bandwidth = 1_000_000
	Gbps Bandwidth = 1_000_000_000
)

// Profile is a host's access link, in testground's LinkShape vocabulary: the one-way latency
// between the host and the backbone of its region, its jitter, the rates of both directions and
// the per-packet loss on the link. Profiles are values; hosts sharing a profile share its
// precomputed state.
type Profile struct {
	// Name labels the profile in reports.
	Name string
	// Latency is the mean one-way delay of the access link.
	Latency time.Duration
	// Jitter is the standard deviation of that delay. Delays are drawn from a log-normal
	// distribution with this mean and deviation: never negative, with the long right tail that
	// queueing gives real links. Jitter needs a positive Latency.
	Jitter time.Duration
	// Uplink is the rate from the host (0: unlimited).
	Uplink Bandwidth
	// Downlink is the rate to the host (0: unlimited).
	Downlink Bandwidth
	// Loss is the probability that a packet on this link is lost, in [0, 1].
	Loss float64
}

// Default access-link profiles. These are assumptions (typical figures), not measurements.
var (
	// DataCentre is a service node in a data centre: gigabit both ways, half a millisecond to the
	// backbone.
	DataCentre = Profile{Name: "datacentre", Latency: 500 * time.Microsecond, Jitter: 100 * time.Microsecond, Uplink: 1 * Gbps, Downlink: 1 * Gbps}
	// Broadband is a desktop client on a home connection: 10 ms +-5 ms, 50 Mbit/s down, 10 up.
	Broadband = Profile{Name: "broadband", Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Uplink: 10 * Mbps, Downlink: 50 * Mbps}
	// Mobile4G is a phone on 4G: 35 ms +-20 ms, 20 Mbit/s down, 5 up, 0.5% packet loss.
	Mobile4G = Profile{Name: "mobile-4g", Latency: 35 * time.Millisecond, Jitter: 20 * time.Millisecond, Uplink: 5 * Mbps, Downlink: 20 * Mbps, Loss: 0.005}
)

// Validate reports what is wrong with a profile.
func (p Profile) Validate() error {
	switch {
	case p.Latency < 0:
		return fmt.Errorf("netem: profile %q: negative latency %v", p.Name, p.Latency)
	case p.Jitter < 0:
		return fmt.Errorf("netem: profile %q: negative jitter %v", p.Name, p.Jitter)
	case p.Jitter > 0 && p.Latency == 0:
		return fmt.Errorf("netem: profile %q: jitter %v needs a positive latency (delays are drawn around it)", p.Name, p.Jitter)
	case p.Latency > maxRTT:
		return fmt.Errorf("netem: profile %q: latency %v is above %v", p.Name, p.Latency, maxRTT)
	case p.Jitter > maxRTT:
		return fmt.Errorf("netem: profile %q: jitter %v is above %v", p.Name, p.Jitter, maxRTT)
	case p.Uplink < 0:
		return fmt.Errorf("netem: profile %q: negative uplink rate %d bit/s", p.Name, p.Uplink)
	case p.Downlink < 0:
		return fmt.Errorf("netem: profile %q: negative downlink rate %d bit/s", p.Name, p.Downlink)
	case !(p.Loss >= 0 && p.Loss <= 1):
		return fmt.Errorf("netem: profile %q: loss %v is not a probability in [0, 1]", p.Name, p.Loss)
	}
	return nil
}

// RegionWeight is the share of hosts placed in one region.
type RegionWeight struct {
	Region string
	Weight float64
}

// DefaultNodeWeights places service nodes. An assumption, not a measurement: the public figures
// are only "about 2,000 nodes in 39 countries", many of them on large European hosts.
func DefaultNodeWeights() []RegionWeight {
	return []RegionWeight{
		{"eu-central-1", 0.40}, {"eu-west-1", 0.15}, {"us-east-1", 0.15}, {"us-west-2", 0.07},
		{"us-west-1", 0.03}, {"ap-southeast-1", 0.06}, {"ap-northeast-1", 0.04},
		{"ap-northeast-2", 0.02}, {"ap-southeast-2", 0.05}, {"sa-east-1", 0.03},
	}
}

// DefaultClientWeights places clients. An assumption, as for nodes.
func DefaultClientWeights() []RegionWeight {
	return []RegionWeight{
		{"eu-central-1", 0.20}, {"eu-west-1", 0.15}, {"us-east-1", 0.20}, {"us-west-1", 0.05},
		{"us-west-2", 0.05}, {"ap-southeast-1", 0.10}, {"ap-northeast-1", 0.06},
		{"ap-northeast-2", 0.04}, {"ap-southeast-2", 0.05}, {"sa-east-1", 0.10},
	}
}

// RegionPicker draws regions in proportion to their weights.
type RegionPicker struct {
	regions []Region
	cum     []float64 // cumulative weights, last = total
}

// NewRegionPicker checks the weights against the matrix. Weights need not sum to 1; they are
// normalised.
func NewRegionPicker(m *Matrix, weights []RegionWeight) (*RegionPicker, error) {
	if m == nil {
		return nil, errors.New("netem: region picker needs a latency matrix")
	}
	if len(weights) == 0 {
		return nil, errors.New("netem: region picker needs at least one region weight")
	}
	p := &RegionPicker{}
	seen := make(map[Region]bool, len(weights))
	total := 0.0
	for _, w := range weights {
		r, err := m.Lookup(w.Region)
		if err != nil {
			return nil, err
		}
		if seen[r] {
			return nil, fmt.Errorf("netem: region %q is weighted twice", w.Region)
		}
		seen[r] = true
		if !(w.Weight >= 0) || math.IsInf(w.Weight, 0) {
			return nil, fmt.Errorf("netem: region %q: weight %v must be a finite number >= 0", w.Region, w.Weight)
		}
		total += w.Weight
		p.regions = append(p.regions, r)
		p.cum = append(p.cum, total)
	}
	if total <= 0 {
		return nil, errors.New("netem: region weights are all zero")
	}
	return p, nil
}

// Draw picks a region.
func (p *RegionPicker) Draw(r *rand.Rand) Region {
	x := r.Float64() * p.cum[len(p.cum)-1]
	// The first cumulative weight above x: x == cum[i] belongs to the next bucket, and a
	// zero-weight region (cum equal to its predecessor's) is never chosen. Searching all but
	// the last entry makes the last region the answer when no earlier one is.
	i := sort.Search(len(p.cum)-1, func(i int) bool { return p.cum[i] > x })
	return p.regions[i]
}
