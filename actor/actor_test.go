package actor

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An IPv4 address and port pack into 48 bits, one key per address and port; other addresses,
// IPv4-mapped IPv6 ones included (an Addr tells them apart), have none.
func TestAddrKey(t *testing.T) {
	for _, tt := range []struct {
		addr string
		key  uint64
		ok   bool
	}{
		{"10.1.2.3:22021", 0x0a0102035605, true},
		{"10.1.2.3:22022", 0x0a0102035606, true},
		{"255.255.255.255:65535", 0xffffffffffff, true},
		{"0.0.0.0:1", 1, true},
		{"[::ffff:10.1.2.3]:22021", 0, false},
		{"[2001:db8::1]:22021", 0, false},
	} {
		k, ok := AddrKey(netip.MustParseAddrPort(tt.addr))
		assert.Equal(t, tt.ok, ok, tt.addr)
		assert.Equal(t, tt.key, k, tt.addr)
	}
}
