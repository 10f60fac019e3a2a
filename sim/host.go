package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// HostID names a host of an Engine: hosts are numbered from 0 in the order they are added.
type HostID uint32

// HostConfig describes a machine. The zero value of a field means its default.
type HostConfig struct {
	// Name identifies the host in its random stream and in reports. Default: its IP address.
	Name string
	// IP is the host's address, which the peers of its actors see. Default: the next free
	// address from 10.0.0.1 up.
	IP netip.Addr
	// Link is where the host attaches to the link model (its region and access link, say), in
	// the model's own terms: the engine hands it to Network.AddHost untouched. Ignored on the
	// ideal network.
	Link any
	// Cores is the number of CPU cores that Work queues on. Default: Config.Cores.
	Cores int
}

// hostRec is per host; a world has up to ~100,000 hosts.
type hostRec struct {
	name    string
	ip      netip.Addr
	rng     *stream // draws of the link model for messages this host sends
	busy    int64   // CPU time charged, ns
	coreOff uint32
	ncores  uint32
}

// AddHost adds a machine to the world.
func (e *Engine) AddHost(c HostConfig) (HostID, error) {
	e.worldOnly("AddHost")
	if c.Cores < 0 || c.Cores > maxCores {
		return 0, fmt.Errorf("sim: host %q: %d cores; use 1 to %d", c.Name, c.Cores, maxCores)
	}
	if c.Cores == 0 {
		c.Cores = e.cfg.Cores
	}
	if int64(len(e.cores))+int64(c.Cores) > math.MaxUint32 {
		return 0, errors.New("sim: too many cores in the world")
	}
	label := c.Name
	if label == "" {
		label = fmt.Sprintf("#%d", len(e.hosts))
	}
	ip, next := c.IP.Unmap(), e.nextIP
	if ip.IsValid() {
		if _, used := e.byIP[ip]; used {
			return 0, fmt.Errorf("sim: host %s: IP %v is already taken by another host", label, ip)
		}
	} else {
		var err error
		if ip, next, err = e.freeIP(); err != nil {
			return 0, err
		}
	}
	if c.Name == "" {
		c.Name = ip.String()
	}
	id := HostID(len(e.hosts))
	if e.net != nil {
		if err := e.net.AddHost(id, c.Link); err != nil {
			return 0, fmt.Errorf("sim: host %s: %w", c.Name, err)
		}
	}
	e.nextIP = next
	e.hosts = append(e.hosts, hostRec{
		name:    c.Name,
		ip:      ip,
		rng:     e.newStream(domainHost, c.Name, 0),
		coreOff: uint32(len(e.cores)),
		ncores:  uint32(c.Cores),
	})
	for range c.Cores {
		e.cores = append(e.cores, e.now)
	}
	e.byIP[ip] = id
	e.share()
	return id, nil
}

// freeIP finds the first free address after the last one handed out, from 10.0.0.1 up, and
// the counter to keep once the host has it: a host the link model refuses takes no address.
func (e *Engine) freeIP() (netip.Addr, uint32, error) {
	for n := e.nextIP + 1; n < 1<<24-1; n++ {
		ip := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
		if _, used := e.byIP[ip]; !used {
			return ip, n, nil
		}
	}
	return netip.Addr{}, 0, errors.New("sim: 10.0.0.0/8 is exhausted; give hosts explicit IPs")
}

// Hosts is the number of hosts.
func (e *Engine) Hosts() int { return len(e.hosts) }

// HostIP is the address of host h (invalid for an unknown host).
func (e *Engine) HostIP(h HostID) netip.Addr {
	if int(h) >= len(e.hosts) {
		return netip.Addr{}
	}
	return e.hosts[h].ip
}

// HostByIP finds the host with an address.
func (e *Engine) HostByIP(ip netip.Addr) (HostID, bool) {
	h, ok := e.byIP[ip.Unmap()]
	return h, ok
}

// HostBusy is the CPU time charged to host h so far, summed over its cores.
func (e *Engine) HostBusy(h HostID) time.Duration {
	if int(h) >= len(e.hosts) {
		return 0
	}
	return time.Duration(e.hosts[h].busy)
}

// work charges cost to the earliest-free core of host h for an actor whose clock reads at, and
// returns when the work ends.
func (e *Engine) work(h HostID, at int64, cost int64) int64 {
	hr := &e.hosts[h]
	cores := e.cores[hr.coreOff : hr.coreOff+hr.ncores]
	best := 0
	for i := 1; i < len(cores); i++ {
		if cores[i] < cores[best] {
			best = i
		}
	}
	end := max(at, cores[best]) + cost
	cores[best] = end
	hr.busy += cost
	return end
}

// Stream is a random stream for the world builder and scenarios, derived from (seed, name) and
// independent of every actor's and host's stream.
func (e *Engine) Stream(name string) *rand.Rand { return &e.newStream(domainWorld, name, 0).r }

// Domains keep an actor, a host and a world stream of the same name apart.
const (
	domainActor byte = iota + 1
	domainHost
	domainWorld
)

// stream is a PCG generator with its rand.Rand next to it, so a draw touches one cache line.
type stream struct {
	r   rand.Rand
	pcg rand.PCG
}

func (e *Engine) newStream(domain byte, name string, incarnation uint32) *stream {
	s := new(stream)
	e.seedStream(s, domain, name, incarnation)
	return s
}

// seedStream derives a PCG stream from SHA-256(seed, domain, incarnation, name), so that adding
// a stream never changes what the others draw.
func (e *Engine) seedStream(s *stream, domain byte, name string, incarnation uint32) {
	seedPCG(&s.pcg, e.cfg.Seed, domain, name, incarnation)
	s.r = *rand.New(&s.pcg)
}

// WorldStream is what Engine.Stream(name) draws on an engine of this seed, for code that must
// draw as the world builder will before any engine exists (checking a scenario against the
// network it will plan).
func WorldStream(seed uint64, name string) *rand.Rand {
	pcg := new(rand.PCG)
	seedPCG(pcg, seed, domainWorld, name, 0)
	return rand.New(pcg)
}

func seedPCG(pcg *rand.PCG, seed uint64, domain byte, name string, incarnation uint32) {
	buf := make([]byte, 13, 13+len(name))
	binary.LittleEndian.PutUint64(buf, seed)
	buf[8] = domain
	binary.LittleEndian.PutUint32(buf[9:], incarnation)
	sum := sha256.Sum256(append(buf, name...))
	pcg.Seed(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16]))
}
