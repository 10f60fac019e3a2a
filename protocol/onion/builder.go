package onion

import (
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Node is a service node as an onion names it: by Ed25519 key in the routing JSON, by X25519
// key for its layer.
type Node struct {
	Ed25519 [32]byte
	X25519  [32]byte
}

// Path is the chain of nodes a request crosses before its destination.
type Path struct {
	// Hops are the path's nodes, guard first (3 on the real clients). At least one.
	Hops []Node
	// EncType is used for every layer, as the real clients do. Zero: aes-gcm.
	EncType EncType
	// HopNo is the hop number the guard is told to start from ("hop_no"), which the storage
	// server allows so that relays cannot tell their position. Zero (what clients send) omits it.
	HopNo int
}

// V4Target is the endpoint of v4 onion requests on file and community servers.
const V4Target = "/oxen/v4/lsrpc"

// Server is a non-node destination (file server, community server) reached through the last
// hop's HTTP proxy.
type Server struct {
	Host string
	// Port defaults to 443 for https and 80 for http.
	Port uint16
	// Protocol is "https" (default) or "http".
	Protocol string
	// Target defaults to V4Target.
	Target string
	// X25519 is the server's public key, which the innermost layer is encrypted to.
	X25519 [32]byte
}

// Built is an onion ready to post to the guard.
type Built struct {
	// Body is the guard's request body, for a POST to GuardEndpoint on Path.Hops[0].
	Body []byte
	// Value is the guard's request in structural form, in place of Body
	// (BuildToNodeStructural).
	Value *Request
	// Reply is the destination layer's key, which opens the one response.
	Reply Key
	// Cost is the client's CPU time for building: every layer's key generation, key agreement,
	// key derivation and encryption.
	Cost time.Duration
}

// Wire is what the guard's request carries as its body and that body's length: Body, or Value
// with the length Body would have.
func (b Built) Wire() (body any, n int) {
	if b.Value != nil {
		return b.Value, b.Value.GuardBodyLen()
	}
	return b.Body, len(b.Body)
}

// BuildToNode builds an onion request for the RPC request rpc (the JSON {"method","params"}) to
// the service node dest over path p, drawing ephemeral keys and nonces from rnd.
func BuildToNode(s cryptomode.Suite, rnd io.Reader, p Path, dest Node, rpc []byte) (Built, error) {
	if err := p.check(len(p.Hops)); err != nil {
		return Built{}, err
	}
	plain := AppendCombined(make([]byte, 0, 4+len(rpc)+len(deliverJSON)), rpc, deliverJSON)
	blob, reply, eph, cost, err := encryptTo(s, p.EncType, rnd, dest.X25519, plain)
	if err != nil {
		return Built{}, fmt.Errorf("onion: destination layer: %w", err)
	}
	return p.wrap(s, rnd, blob, forwardRouting(dest.Ed25519, eph, p.EncType), reply, cost)
}

// NodeLayerSize is the plaintext size of a node destination's layer that BuildToNode writes
// for an RPC request of rpcLen bytes: what the destination decrypts, before the cipher's
// overhead. Clients that pad requests to fixed sizes pad this size.
func NodeLayerSize(rpcLen int) int { return 4 + rpcLen + len(deliverJSON) }

// BuildToServer builds a v4 onion request req to server dest over path p: the innermost layer is
// the bencoded request encrypted to the server, and the last hop is told to POST it there.
func BuildToServer(s cryptomode.Suite, rnd io.Reader, p Path, dest Server, req V4Request) (Built, error) {
	if err := p.check(len(p.Hops) - 1); err != nil {
		return Built{}, err
	}
	if dest.Host == "" {
		return Built{}, fmt.Errorf("%w: server destination without a host", ErrBadInput)
	}
	payload, err := EncodeV4Request(req)
	if err != nil {
		return Built{}, err
	}
	blob, reply, eph, cost, err := encryptTo(s, p.EncType, rnd, dest.X25519, payload)
	if err != nil {
		return Built{}, fmt.Errorf("onion: server layer: %w", err)
	}
	proto := dest.Protocol
	if proto == "" {
		proto = "https"
	}
	port := dest.Port
	if port == 0 {
		port = 443
		if proto == "http" {
			port = 80
		}
	}
	target := dest.Target
	if target == "" {
		target = V4Target
	}
	routing := encodeJSON(proxyJSON{
		EncType:      p.EncType.String(),
		EphemeralKey: hex.EncodeToString(eph[:]),
		Host:         dest.Host,
		Method:       "POST",
		Port:         port,
		Protocol:     proto,
		Target:       target,
	})
	return p.wrap(s, rnd, blob, routing, reply, cost)
}

// check refuses paths no node would carry: lastHop is the hop number, counted from the guard's
// 0, of the last node that decrypts a layer.
func (p Path) check(lastHop int) error {
	switch {
	case len(p.Hops) == 0:
		return fmt.Errorf("%w: a path needs at least one hop", ErrBadInput)
	case !p.EncType.valid():
		return fmt.Errorf("%w: unknown enc type %v", ErrBadInput, p.EncType)
	case p.HopNo < 0:
		return fmt.Errorf("%w: starting hop number %d is negative", ErrBadInput, p.HopNo)
	case p.HopNo+lastHop > MaxHops:
		return fmt.Errorf("%w: %d hops from hop number %d go past the limit of %d", ErrBadInput, lastHop+1, p.HopNo, MaxHops)
	}
	return nil
}

// wrap adds the path's layers around the destination's blob, from the last hop outwards, each
// under a fresh ephemeral key: LE32(len inner) || inner || routing JSON for the next hop.
func (p Path) wrap(s cryptomode.Suite, rnd io.Reader, blob, routing []byte, reply Key, cost time.Duration) (Built, error) {
	var eph [32]byte
	for i := len(p.Hops) - 1; i >= 0; i-- {
		plain := AppendCombined(make([]byte, 0, 4+len(blob)+len(routing)), blob, routing)
		var c time.Duration
		var err error
		blob, _, eph, c, err = encryptTo(s, p.EncType, rnd, p.Hops[i].X25519, plain)
		cost += c
		if err != nil {
			return Built{}, fmt.Errorf("onion: layer of hop %d: %w", i, err)
		}
		routing = forwardRouting(p.Hops[i].Ed25519, eph, p.EncType)
	}
	guard := Request{Ciphertext: blob, EphemeralKey: eph, EncType: p.EncType, HopNo: p.HopNo}
	return Built{Body: guard.GuardBody(), Reply: reply, Cost: cost}, nil
}
