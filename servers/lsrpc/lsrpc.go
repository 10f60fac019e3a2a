// Package lsrpc is the server side of v4 onion requests (a POST to /oxen/v4/lsrpc that the last
// hop of a client's path makes): what the file server, the push server and community servers
// share. A server actor hands every proxied request to Serve, which opens the layer with the
// server's X25519 key, passes the decoded request to the server's handler, and seals and sends
// the handler's answer, charging the CPU of each step and the exact size of each answer.
//
// Serve runs on the server actor's loop and keeps no state of its own, so it follows the
// actor's concurrency contract (see package actor).
package lsrpc

import (
	"errors"
	"net/http"
	"net/netip"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/transport"
)

// Handler answers one decoded request. It calls answer exactly once, on the actor's loop, now
// or later (a server that must ask others first answers when they have answered).
type Handler func(from actor.Addr, req onion.V4Request, answer func(onion.V4Response))

// Served is observed once per request a server received: what the server saw of it. From is
// the node that proxied it (the last hop of the client's path), the only address a server
// learns. What a request names inside (an account, a file) each server observes with events of
// its own. It is ground truth for measurement.
type Served struct {
	Role     string // the server's role: "file", "push", "community"
	From     netip.Addr
	Method   string // the v4 request's method and endpoint; empty when the request did not open
	Endpoint string
	Code     int // the code the handler answered, or the status of the refusal
	BytesIn  int // the proxied request's wire size
	BytesOut int // the answer's wire size
}

// EventName implements actor.Event.
func (Served) EventName() string { return "lsrpc.served" }

// Learned is observed when a server learns something about an account from what it serves:
// the push server when a device subscribes an account or when a node tells it of a new message
// for one, a community server when a signed request names a (blinded) ID, the file server never
// (a file names nobody). Device is the push token or other handle that ties the account to one
// device, empty when the server learns none; What says what was learnt ("subscribed",
// "message", "request"). It is ground truth for leakage measurement, never read by actors.
type Learned struct {
	Role    string
	Account identity.ID
	Device  string
	What    string
}

// EventName implements actor.Event.
func (Learned) EventName() string { return "lsrpc.learned" }

// Server is a v4 destination: its role, keys and the crypto suite it answers with.
type Server struct {
	Role  string
	Suite cryptomode.Suite
	Keys  cryptomode.X25519KeyPair
}

// Serve answers one proxied request req from the node at from with h. A request that does not
// open or decode is refused with 400 in plain text, as the servers do, and h is not called.
func (s *Server) Serve(env actor.Env, from actor.Addr, req actor.Request, r actor.Responder, h Handler) {
	body, _ := req.Body.([]byte)
	seen := Served{Role: s.Role, From: from.Addr(), BytesIn: req.Size}
	v4, key, cost, err := onion.OpenServerRequest(s.Suite, s.Keys, body)
	env.Work(cost)
	if err != nil {
		text := "Invalid request"
		var oe *onion.Error
		if errors.As(err, &oe) {
			text = oe.Text()
		}
		seen.Code = http.StatusBadRequest
		seen.BytesOut = respond(r, http.StatusBadRequest, transport.Text, []byte(text))
		env.Observe(seen)
		return
	}
	seen.Method, seen.Endpoint = v4.Method, v4.Endpoint
	h(from, v4, func(resp onion.V4Response) {
		sealed, cost, err := onion.SealV4Response(s.Suite, key, actor.RandReader(env.Rand()), resp)
		env.Work(cost)
		seen.Code = resp.Code
		if err != nil {
			// Only a broken key gets here: the layer opened with it a moment ago.
			seen.Code = http.StatusInternalServerError
			seen.BytesOut = respond(r, http.StatusInternalServerError, transport.Text, []byte(err.Error()))
		} else {
			seen.BytesOut = respond(r, http.StatusOK, transport.Binary, sealed)
		}
		env.Observe(seen)
	})
}

// respond answers with body over HTTPS and returns the answer's wire size.
func respond(r actor.Responder, status int, contentType string, body []byte) int {
	size := transport.HTTPSResponseSize(status, contentType, len(body))
	r.Respond(actor.Response{Status: status, Body: body, Size: size})
	return size
}

// JSON is an answer with a JSON body and the content type the servers give it.
func JSON(code int, body []byte) onion.V4Response {
	return onion.V4Response{Code: code, Headers: map[string]string{"content-type": transport.JSON}, Body: body}
}

// Error is an answer with a plain-text body, as the servers give their refusals.
func Error(code int, text string) onion.V4Response {
	return onion.V4Response{Code: code, Headers: map[string]string{"content-type": transport.Text}, Body: []byte(text)}
}
