// Package node is the service node actor: the storage server of the Session network as an
// actor.Actor. It answers the storage RPC (directly and as an onion destination), replicates
// stores across its swarm and moves data when swarms change, relays onion requests, tests the
// reachability of other nodes and reports to the service-node list, and reports what it saw as
// events.
//
// The node never touches the clock, the network or randomness directly: everything comes
// through its actor.Env, so the same code runs in the simulator and in the live drivers.
package node
