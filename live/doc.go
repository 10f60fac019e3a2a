// Package live is the real-time driver of the actor seam: the same node, client and registry
// actors the simulator runs, on the wall clock and real sockets.
//
// Each actor gets a mailbox goroutine of its own, and every callback of the actor (Start,
// Handle, timers, the done of its calls, the functions a world hands to Invoke) runs one at a
// time, in the order it arrived, which is the concurrency contract of package actor. A request
// or a call's outcome that finds the actor idle (nothing running, nothing queued, not paused)
// runs at once on the network goroutine that brought it, holding the actor's turn, rather than
// waking the mailbox goroutine and waiting for it: that saves a goroutine handoff at each hop of
// a path. Everything else goes through the mailbox. Timers run on the real clock
// (time.AfterFunc posting to the mailbox).
//
// Every actor listens on its own loopback address (127.x.y.z: Linux routes all of 127.0.0.0/8
// to the loopback interface, so no set-up is needed) with HTTPS over a self-signed certificate
// made for it at spawn, as real storage servers present; callers accept any certificate, as the
// Session apps do for service nodes. Calls are HTTP/1.1 POSTs over keep-alive connections from
// a bounded pool per actor (Config.MaxConnsPerPeer), dialled from the caller's own address, so
// that the callee sees the caller's real source IP.
//
// What differs from the simulator, on purpose:
//   - Work is a no-op by default: in live mode the real cryptography does the real work, and
//     charging its modelled cost again would count it twice. Config.SpinWork makes it a busy
//     spin of the given duration instead (for crypto=modeled, where nothing else burns the CPU).
//   - Rand is seeded per actor from crypto/rand: live runs are not reproducible, and do not try
//     to be (real scheduling and real sockets decide the order of events anyway).
//   - Bodies are real bytes on the wire. A body that the actors pass as a Go value is encoded
//     by the driver's Codec before it is sent and decoded on arrival; the actors do not change.
//   - A callee identifies a caller by its listening address, as node code does in the simulator
//     (where a real storage server knows its peer by its authenticated OxenMQ key). The IP is
//     the connection's real source address; the port is the caller's listening port, carried in
//     a request header because the TCP source port is an ephemeral one.
//
// Events go to the sinks under one lock, the world lock, which also serialises the world's own
// timers (Driver.AfterFunc) and Driver.Do, so that a collector sees events and world decisions
// one at a time, as it does in the simulator.
package live
