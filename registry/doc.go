// Package registry is the service-node list as the ledger sees it: registrations, a block every
// two minutes, oxen-core's swarm assignment in every block that changes the active set,
// oxen-core's obligations quorum, whose votes decommission, recommission and deregister nodes
// from the uptime proofs and each voter's own reachability reports, and the seed-node API
// clients bootstrap from.
//
// The Registry is an actor (package actor) so that it runs on the simulator's virtual clock like
// every node; its state machine (List) is plain Go and is driven directly by tests and by the
// world builder.
package registry
