package onion

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// Action is what a node does with a layer it opened.
type Action uint8

const (
	// Forward: pass the inner blob to the next node (routing JSON without "headers" or "host").
	Forward Action = iota + 1
	// Deliver: this node is the destination; the inner blob is the RPC request ("headers").
	Deliver
	// Proxy: POST the whole decrypted layer to a server ("host").
	Proxy
)

var actionNames = enum.Names[Action]{
	Type:  "Action",
	Names: []string{Forward: "forward", Deliver: "deliver", Proxy: "proxy"},
}

func (a Action) String() string { return actionNames.Name(a) }

// ResponseFormat is how the destination node encodes its response, as the client asked in the
// destination layer. The zero value is what every client uses: the body as a JSON string, the
// sealed response base64-encoded.
type ResponseFormat struct {
	// EmbedJSON ("json": true) puts a JSON body into the response as JSON, not as a string.
	EmbedJSON bool
	// Raw ("base64": false) returns the sealed response as binary.
	Raw bool
}

// Routing is the JSON that follows the inner blob in a decrypted layer.
type Routing struct {
	Action Action
	// Format is the response encoding the client asked for (Deliver).
	Format ResponseFormat
	// Destination is the next node's Ed25519 key (Forward).
	Destination [32]byte
	// EphemeralKey and EncType open the inner blob: at the next node (Forward) or at the server
	// (Proxy, where the node does not check them).
	EphemeralKey [32]byte
	EncType      EncType
	// Host, Port, Protocol and Target say where to POST (Proxy); Port defaults to 443 and
	// Protocol to "https" when absent, as in the storage server. Method is informational: the
	// node always POSTs.
	Host     string
	Port     uint16
	Protocol string
	Target   string
	Method   string
}

// ParseRouting reads a layer's routing JSON the way the storage server classifies it: "headers"
// present means Deliver, else "host" means Proxy, else Forward, which needs "destination" and
// "ephemeral_key". Every failure wraps ErrInvalidJSON.
func ParseRouting(b []byte) (Routing, error) {
	obj, err := parseObject(b)
	if err != nil {
		return Routing{}, invalidJSON("routing: %v", err)
	}
	if _, ok := obj.Member("headers"); ok {
		r := Routing{Action: Deliver}
		if raw, ok := obj.Member("json"); ok {
			if r.Format.EmbedJSON, err = boolField(raw); err != nil {
				return Routing{}, invalidJSON(`routing "json": %v`, err)
			}
		}
		if raw, ok := obj.Member("base64"); ok {
			b64, err := boolField(raw)
			if err != nil {
				return Routing{}, invalidJSON(`routing "base64": %v`, err)
			}
			r.Format.Raw = !b64
		}
		return r, nil
	}
	if raw, ok := obj.Member("host"); ok {
		return parseProxyRouting(obj, raw)
	}
	r := Routing{Action: Forward}
	raw, ok := obj.Member("destination")
	if !ok {
		return Routing{}, invalidJSON(`routing has none of "headers", "host", "destination"`)
	}
	if r.Destination, err = hexKey(raw); err != nil {
		return Routing{}, invalidJSON(`routing "destination": %v`, err)
	}
	if raw, ok = obj.Member("ephemeral_key"); !ok {
		return Routing{}, invalidJSON(`routing to a node without "ephemeral_key"`)
	}
	if r.EphemeralKey, err = hexKey(raw); err != nil {
		return Routing{}, invalidJSON(`routing "ephemeral_key": %v`, err)
	}
	if raw, ok := obj.Member("enc_type"); ok {
		if r.EncType, err = encTypeField(raw); err != nil {
			return Routing{}, invalidJSON(`routing "enc_type": %v`, err)
		}
	}
	return r, nil
}

func parseProxyRouting(obj wirejson.Value, host wirejson.Value) (Routing, error) {
	r := Routing{Action: Proxy, Port: 443, Protocol: "https"}
	var err error
	if r.Host, err = stringField(host); err != nil {
		return Routing{}, invalidJSON(`routing "host": %v`, err)
	}
	raw, ok := obj.Member("target")
	if !ok {
		return Routing{}, invalidJSON(`proxy routing without "target"`)
	}
	if r.Target, err = stringField(raw); err != nil {
		return Routing{}, invalidJSON(`routing "target": %v`, err)
	}
	if raw, ok := obj.Member("port"); ok {
		var p uint16
		if raw.Kind == wirejson.String || json.Unmarshal(raw.Raw, &p) != nil {
			return Routing{}, invalidJSON(`routing "port" %s is not a port number`, raw.Raw)
		}
		r.Port = p
	}
	if raw, ok := obj.Member("protocol"); ok {
		if r.Protocol, err = stringField(raw); err != nil {
			return Routing{}, invalidJSON(`routing "protocol": %v`, err)
		}
	}
	// What the server needs is its business: the relay passes the layer on whatever these hold.
	if raw, ok := obj.Member("method"); ok {
		r.Method, _ = stringField(raw)
	}
	if raw, ok := obj.Member("ephemeral_key"); ok {
		r.EphemeralKey, _ = hexKey(raw)
	}
	if raw, ok := obj.Member("enc_type"); ok {
		r.EncType, _ = encTypeField(raw)
	}
	return r, nil
}

// TargetAllowed reports whether a proxy target may be requested: it starts with /oxen/ or
// /loki/, ends with /lsrpc and has no query string.
func TargetAllowed(target string) bool {
	return (strings.HasPrefix(target, "/oxen/") || strings.HasPrefix(target, "/loki/")) &&
		strings.HasSuffix(target, "/lsrpc") && !strings.Contains(target, "?")
}

// checkProxy applies the storage server's checks before it proxies.
func (r Routing) checkProxy() error {
	if r.Protocol != "http" && r.Protocol != "https" {
		return &Error{Kind: KindInvalidURL, Err: fmt.Errorf("protocol %q is not http or https", r.Protocol)}
	}
	if !TargetAllowed(r.Target) {
		return &Error{Kind: KindInvalidURL, Err: fmt.Errorf("target %q must start /oxen/ or /loki/, end /lsrpc and have no query", r.Target)}
	}
	return nil
}

// The routing JSON the builder writes, fields in the sorted order the real clients' JSON library
// emits them, so sizes match the real ones byte for byte.

type proxyJSON struct {
	EncType      string `json:"enc_type"`
	EphemeralKey string `json:"ephemeral_key"`
	Host         string `json:"host"`
	Method       string `json:"method"`
	Port         uint16 `json:"port"`
	Protocol     string `json:"protocol"`
	Target       string `json:"target"`
}

// deliverJSON is the control JSON of a node destination's layer.
var deliverJSON = []byte(`{"headers":""}`)

// forwardRouting is {"destination","enc_type","ephemeral_key"}. Every value is hex or an enc
// type name, which need no escaping, so it is appended directly: every layer of every onion
// writes one.
func forwardRouting(next [32]byte, eph [32]byte, e EncType) []byte {
	out := make([]byte, 0, 180)
	out = append(out, `{"destination":"`...)
	out = hex.AppendEncode(out, next[:])
	out = append(out, `","enc_type":"`...)
	out = append(out, e.String()...)
	out = append(out, `","ephemeral_key":"`...)
	out = hex.AppendEncode(out, eph[:])
	return append(out, `"}`...)
}
