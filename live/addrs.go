package live

import (
	"net/netip"
	"sync"
)

// addrTable maps the world's addresses to the loopback addresses the sockets use
// (Config.Translate). Actors only ever see world addresses: the ones in service-node lists,
// the ones they call, and the callers' (translated back from the connection's source).
type addrTable struct {
	mu        sync.Mutex
	toReal    map[netip.Addr]netip.Addr
	toVirtual map[netip.Addr]netip.Addr
	next      uint32
}

// firstReal is the first loopback address handed out: 127.64.0.1, leaving the lower part of
// 127.0.0.0/8 to whatever else runs on the machine. About four million addresses follow.
const firstReal = 127<<24 | 64<<16 | 1

func newAddrTable() *addrTable {
	return &addrTable{toReal: map[netip.Addr]netip.Addr{}, toVirtual: map[netip.Addr]netip.Addr{}, next: firstReal}
}

// real is the loopback address of world address v, allocated on first use (a call to an
// address where nothing was ever spawned gets one too, where nothing listens).
func (t *addrTable) real(v netip.Addr) netip.Addr {
	if t == nil {
		return v
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.toReal[v]; ok {
		return r
	}
	n := t.next
	t.next++
	if n&0xff == 0 || n&0xff == 0xff {
		n++ // skip .0 and .255, which some tools treat specially
		t.next++
	}
	r := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	t.toReal[v], t.toVirtual[r] = r, v
	return r
}

// virtual is the world address of loopback address r (r itself when it is not in the table).
func (t *addrTable) virtual(r netip.Addr) netip.Addr {
	if t == nil {
		return r
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.toVirtual[r]; ok {
		return v
	}
	return r
}
