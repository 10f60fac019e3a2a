package onion

import (
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Peeled is what a node learns from opening one layer.
type Peeled struct {
	// Routing says what to do (Routing.Action) and where.
	Routing Routing
	// RoutingJSON is the routing JSON as it was in the layer (what this node saw).
	RoutingJSON []byte
	// Reply is this layer's key. The destination seals its response with it; any node seals its
	// encrypted errors (Error.Encrypted) with it.
	Reply Key
	// Next is the request to send the node Routing.Destination on RelayEndpoint (Forward), its
	// hop number one more than this node's.
	Next Request
	// Payload is the RPC request (Deliver), or the whole decrypted layer, which the node POSTs to
	// the server unchanged (Proxy): the server reads its own key and enc_type from the routing
	// JSON at its end.
	Payload []byte
	// Cost is the node's CPU time: key agreement, key derivation, decryption.
	Cost time.Duration
	// Structural: the layer came in structural form, and the answer goes back in it
	// (SealStructuralResponse).
	Structural bool
	// Decoded is the RPC request as values, when a structural layer carried it (Layer.Decoded);
	// Payload is then nil, its JSON never written.
	Decoded any
}

// Peel opens the layer in in with the node's key pair self and classifies it. A layer that does
// not open fails with KindInvalidCiphertext (answered in plain text). A layer that opens but does
// not parse fails with KindInvalidJSON, and a proxy request to a refused URL with KindInvalidURL;
// for those two the returned Peeled carries Reply (and Cost), because the storage server answers
// them encrypted to the layer's key.
//
// Hop limits are checked where the storage server checks them, when a relay request is parsed
// (ParseRelayRequest); readiness and next-node lookup are the caller's (SnodeNotReady,
// NextNodeNotFound).
func Peel(s cryptomode.Suite, self cryptomode.X25519KeyPair, in Request) (Peeled, error) {
	if in.Structural() {
		return peelStructural(s.Costs(), self, in)
	}
	plain, key, cost, err := OpenLayer(s, in.EncType, self, in.EphemeralKey, in.Ciphertext)
	if err != nil {
		return Peeled{Cost: cost}, err
	}
	p := Peeled{Reply: key, Cost: cost}
	blob, routing, err := SplitCombined(plain)
	if err != nil {
		return p, invalidJSON("layer: %v", err)
	}
	p.RoutingJSON = routing
	if p.Routing, err = ParseRouting(routing); err != nil {
		return p, err
	}
	switch p.Routing.Action {
	case Deliver:
		p.Payload = blob
	case Proxy:
		if err := p.Routing.checkProxy(); err != nil {
			return p, err
		}
		p.Payload = plain
	case Forward:
		p.Next = Request{
			Ciphertext:   blob,
			EphemeralKey: p.Routing.EphemeralKey,
			EncType:      p.Routing.EncType,
			HopNo:        in.HopNo + 1,
		}
	}
	return p, nil
}
