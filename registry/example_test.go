package registry_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
)

// Building the service-node list of a world: plan the nodes (keys, addresses, operators),
// register them, and make the first block before the run so every node can be given its list.
// Then spawn the registry on the engine (it continues with a block every BlockInterval) and each
// node at its Spec's address.
func Example() {
	reg, err := registry.New(registry.Config{Seed: 42})
	if err != nil {
		panic(err)
	}
	specs, err := registry.Plan(registry.PlanConfig{Seed: 42, Nodes: 100}, rand.New(rand.NewPCG(42, 0)))
	if err != nil {
		panic(err)
	}
	for _, s := range specs {
		if err := reg.Register(s.Registration); err != nil {
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
