// Package onion implements Session onion requests as the storage server and the clients speak
// them: the layer crypto (aes-gcm and xchacha20), the framing of the request a guard receives and
// of the bencoded request relays pass to one another, the client's builder, the hop parser a node
// runs, and the single encrypted response the destination returns.
//
// Every X25519 operation goes through a cryptomode.Suite, so real and modeled mode run the same
// code and produce blobs of the same size at every hop; symmetric ciphers and hashes run for real
// in both modes. Randomness (ephemeral keys, nonces) comes from an io.Reader the caller passes,
// so the simulator can hand in a deterministic stream. Every operation returns the CPU time the
// real operation costs, taken from the suite's Costs, for the driver to charge with Env.Work.
//
// A request travels like this:
//
//	client --POST /onion_req/v2, LE32(N) ct {"ephemeral_key","enc_type"}--> guard
//	guard  --sn.onion_request, bencoded {data, enc_type, ephemeral_key, hop_no}--> relay ...
//	last hop: forwards to the destination node, or POSTs to a server (file server, community)
//	destination: encrypts one response to the destination layer's key; relays pass it back as is.
package onion
