package registry_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
)

// Building the service-node list of a world: register the nodes (the world builder plans their
// keys, addresses and operators), and make the first block before the run so every node can be
// given its list. Then spawn the registry on the engine (it continues with a block every
// BlockInterval) and each node at its registered address.
func Example() {
	reg, err := registry.New(registry.Config{Seed: 42})
	if err != nil {
		panic(err)
	}
	for i := range 100 {
		name := fmt.Sprintf("node-%d", i)
		keys := identity.Derive(42, name)
		r := registry.Registration{
			Name:    name,
			Ed25519: keys.Ed25519Public,
			X25519:  keys.X25519Public,
			Addr:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{5, 9, 0, byte(i + 1)}), 22021),
			OMQPort: 22020,
		}
		if err := reg.Register(r); err != nil {
			panic(err)
		}
	}
	list, err := reg.Bootstrap(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println("height:", list.Height, "active:", list.ActiveCount(), "swarms:", len(reg.Swarms()))

	alice := identity.Derive(42, "alice").SessionID()
	id, _ := reg.SwarmFor(alice)
	fmt.Println("alice's swarm has", len(reg.Members(id)), "members")
	// Output:
	// height: 1 active: 100 swarms: 14
	// alice's swarm has 8 members
}
