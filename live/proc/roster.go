package proc

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
)

// Member is one service node of the roster: its name (its keys come from the seed and it) and
// the IP and HTTPS port it serves on.
type Member struct {
	Name string
	Addr netip.AddrPort
}

// ParseMember reads "name=ip:port".
func ParseMember(s string) (Member, error) {
	name, ap, err := parseNamedAddr("node", s, "node-1=127.70.0.1:22021")
	return Member{Name: name, Addr: ap}, err
}

// ParseServer reads a server's "host=ip:port" (a host name the node proxies onion requests
// to, and the address it resolves to).
func ParseServer(s string) (host string, addr netip.AddrPort, err error) {
	return parseNamedAddr("server", s, "filev2.getsession.org=127.70.0.3:443")
}

// parseNamedAddr reads "name=ip:port" for what (named in errors, with an example).
func parseNamedAddr(what, s, example string) (string, netip.AddrPort, error) {
	name, addr, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return "", netip.AddrPort{}, fmt.Errorf("%s %q: write name=ip:port, e.g. %s", what, s, example)
	}
	ap, err := ParseAddr(addr)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return name, ap, nil
}

// ParseAddr reads "ip:port" with an IPv4 address and a port other than 0.
func ParseAddr(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not ip:port (e.g. 127.70.0.1:22021)", s)
	}
	if !ap.Addr().Is4() || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: give an IPv4 address and a port other than 0", s)
	}
	return ap, nil
}

// Keys are the node's keys, as the simulator derives them for the same seed and name.
func (m Member) Keys(seed uint64) identity.Keys { return identity.Derive(seed, m.Name) }

// Registration is what the registry records for the member; operator numbers it.
func (m Member) Registration(seed uint64, operator int) registry.Registration {
	k := m.Keys(seed)
	return registry.Registration{Name: m.Name, Ed25519: k.Ed25519Public, X25519: k.X25519Public, Addr: m.Addr,
		OMQPort: m.Addr.Port() - 1, Operator: operator, Region: "local"}
}
