package node

import (
	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Every answer a node gives goes through respond, which charges the exact size of the answer
// on the transport the request came over: an HTTPS response to clients (the storage RPC, onion
// requests at the guard, pings), an OxenMQ reply to nodes and to the node's oxend (forwards,
// relayed onion requests, pushes, lists).

// link is the transport a request came over.
type link uint8

const (
	overHTTPS link = iota
	overMQ
)

// hopLink is the transport of an onion hop: HTTPS from the client to its guard, OxenMQ between
// nodes.
func hopLink(guard bool) link {
	if guard {
		return overHTTPS
	}
	return overMQ
}

// statusLen is the length of an OxenMQ reply's first part: the status code, three digits.
const statusLen = 3

// respond answers with body, of type contentType on HTTPS. On OxenMQ the reply is two parts,
// the status and the body; body may be a typed value whose encoding is bodyLen bytes long. It
// returns the answer's wire size, for the events that record it.
func respond(r actor.Responder, l link, status int, contentType string, body any, bodyLen int) int {
	size := transport.HTTPSResponseSize(status, contentType, bodyLen)
	if l == overMQ {
		size = transport.MQReplySize(statusLen, bodyLen)
	}
	r.Respond(actor.Response{Status: status, Body: body, Size: size})
	return size
}

// respondBytes answers with an encoded body.
func respondBytes(r actor.Responder, l link, status int, contentType string, body []byte) int {
	return respond(r, l, status, contentType, body, len(body))
}

// respondText answers with a plain-text body: refusals, errors and bare statuses.
func respondText(r actor.Responder, l link, status int, text string) int {
	return respondBytes(r, l, status, transport.Text, []byte(text))
}
