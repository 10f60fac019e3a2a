package onion

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/sessionsim/sessionsim/internal/enum"
)

// Kind is a class of hop failure, each answered by the storage server with its own status and
// text. Callers test with errors.Is against the Err* sentinels and answer with Status and Text.
type Kind uint8

const (
	// KindBadRequest: the guard could not parse the request it was posted (frame, JSON,
	// ephemeral key, enc_type). 400 "Error parsing onion request: <why>".
	KindBadRequest Kind = iota + 1
	// KindBadRelay: a relay could not parse the bencoded request of the previous hop.
	// 400 "Invalid internal onion request: <why>".
	KindBadRelay
	// KindTooLarge: the body is over MaxBodySize. 413 "Request body too large".
	KindTooLarge
	// KindTooManyHops: the hop number is over MaxHops. 400 "onion request max path length exceeded".
	KindTooManyHops
	// KindInvalidCiphertext: the layer does not decrypt (wrong key, tampered, too short).
	// 400 "Invalid ciphertext".
	KindInvalidCiphertext
	// KindInvalidJSON: the layer decrypted but its content is not LE32 + blob + routing JSON of a
	// known shape. 400 "Invalid json", encrypted to the layer's key.
	KindInvalidJSON
	// KindInvalidURL: a proxy request whose protocol is not http(s) or whose target is not
	// allowed. 400 "Invalid url", encrypted to the layer's key.
	KindInvalidURL
	// KindNextNodeNotFound: the next hop is not in this node's list. 502 "Next node not found: <hex>".
	KindNextNodeNotFound
	// KindSnodeNotReady: the node is not ready to serve (syncing, no swarm).
	// 503 "Snode not ready: <own ed25519 hex>".
	KindSnodeNotReady
	// KindTimeout: the next hop did not answer in time. 504 "Request time out".
	KindTimeout
	// KindProxyFailed: the proxied HTTP request to a server failed: 504 when it timed out, else
	// 502, with the HTTP client's message as text.
	KindProxyFailed
)

var kindNames = enum.Names[Kind]{Type: "Kind", Names: []string{
	KindBadRequest:        "bad request",
	KindBadRelay:          "bad relay request",
	KindTooLarge:          "too large",
	KindTooManyHops:       "too many hops",
	KindInvalidCiphertext: "invalid ciphertext",
	KindInvalidJSON:       "invalid json",
	KindInvalidURL:        "invalid url",
	KindNextNodeNotFound:  "next node not found",
	KindSnodeNotReady:     "snode not ready",
	KindTimeout:           "timeout",
	KindProxyFailed:       "proxy failed",
}}

func (k Kind) String() string { return kindNames.Name(k) }

// Error is a hop failure. Status and Text are what the storage server answers; Encrypted says
// whether it answers encrypted to the layer's key (as the destination's responses are) rather
// than in plain text.
type Error struct {
	Kind Kind
	// Detail completes the text for kinds whose text carries one (why a parse failed, the missing
	// node's key, the HTTP client's message).
	Detail string
	// Timeout marks a KindProxyFailed that timed out (504 rather than 502).
	Timeout bool
	// Err is the underlying cause, for logs; it is not part of the answer.
	Err error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Kind.
var (
	ErrBadRequest        = &Error{Kind: KindBadRequest}
	ErrBadRelay          = &Error{Kind: KindBadRelay}
	ErrTooLarge          = &Error{Kind: KindTooLarge}
	ErrTooManyHops       = &Error{Kind: KindTooManyHops}
	ErrInvalidCiphertext = &Error{Kind: KindInvalidCiphertext}
	ErrInvalidJSON       = &Error{Kind: KindInvalidJSON}
	ErrInvalidURL        = &Error{Kind: KindInvalidURL}
	ErrNextNodeNotFound  = &Error{Kind: KindNextNodeNotFound}
	ErrSnodeNotReady     = &Error{Kind: KindSnodeNotReady}
	ErrTimeout           = &Error{Kind: KindTimeout}
	ErrProxyFailed       = &Error{Kind: KindProxyFailed}
)

// Status is the HTTP status of this failure. For the Encrypted kinds it is the status inside the
// sealed reply, which itself travels with 200 (see ErrorResponse).
func (e *Error) Status() int {
	switch e.Kind {
	case KindTooLarge:
		return 413
	case KindNextNodeNotFound:
		return 502
	case KindSnodeNotReady:
		return 503
	case KindTimeout:
		return 504
	case KindProxyFailed:
		if e.Timeout {
			return 504
		}
		return 502
	}
	return 400
}

// Text is the body the storage server answers this failure with (before encryption, for the
// encrypted kinds).
func (e *Error) Text() string {
	switch e.Kind {
	case KindBadRequest:
		return "Error parsing onion request: " + e.Detail
	case KindBadRelay:
		return "Invalid internal onion request: " + e.Detail
	case KindTooLarge:
		return "Request body too large"
	case KindTooManyHops:
		return "onion request max path length exceeded"
	case KindInvalidCiphertext:
		return "Invalid ciphertext"
	case KindInvalidJSON:
		return "Invalid json"
	case KindInvalidURL:
		return "Invalid url"
	case KindNextNodeNotFound:
		return "Next node not found: " + e.Detail
	case KindSnodeNotReady:
		if e.Detail == "" {
			return "Snode not ready"
		}
		return "Snode not ready: " + e.Detail
	case KindTimeout:
		return "Request time out"
	case KindProxyFailed:
		return e.Detail
	}
	return e.Kind.String()
}

// Encrypted reports whether the storage server encrypts this answer to the layer's key: it does
// for failures found after the layer decrypted, and answers the others in plain text.
func (e *Error) Encrypted() bool {
	return e.Kind == KindInvalidJSON || e.Kind == KindInvalidURL
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("onion: %d %s", e.Status(), e.Text())
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of the same Kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Err == nil && !t.Timeout && t.Kind == e.Kind
}

// NextNodeNotFound is the relay's answer when it does not know the next hop.
func NextNodeNotFound(next [32]byte) *Error {
	return &Error{Kind: KindNextNodeNotFound, Detail: hex.EncodeToString(next[:])}
}

// SnodeNotReady is a node's answer, before it opens a layer, while it cannot serve; self is its
// own Ed25519 key, which the storage server names in the text. (A destination that opened its
// layer and then finds itself not ready answers a sealed 503 "Snode not ready" instead, with
// SealNodeResponse.)
func SnodeNotReady(self [32]byte) *Error {
	return &Error{Kind: KindSnodeNotReady, Detail: hex.EncodeToString(self[:])}
}

// RequestTimeout is a relay's answer when the next hop did not answer in time.
func RequestTimeout() *Error { return &Error{Kind: KindTimeout} }

// ProxyFailed is the last hop's answer when the HTTP request to a server failed; msg is the HTTP
// client's message (the storage server passes curl's on).
func ProxyFailed(timeout bool, msg string) *Error {
	return &Error{Kind: KindProxyFailed, Timeout: timeout, Detail: msg}
}

func badRequest(format string, args ...any) *Error {
	return &Error{Kind: KindBadRequest, Detail: fmt.Sprintf(format, args...)}
}

func badRelay(format string, args ...any) *Error {
	return &Error{Kind: KindBadRelay, Detail: fmt.Sprintf(format, args...)}
}

func invalidJSON(format string, args ...any) *Error {
	return &Error{Kind: KindInvalidJSON, Err: fmt.Errorf(format, args...)}
}

// ErrBadResponse is wrapped by every failure to open or decode a response at the client: the
// reply did not decrypt or is not of the expected shape.
var ErrBadResponse = errors.New("onion: bad response")

// ErrBadInput is wrapped by the builder's and encoders' refusals of their arguments (an empty or
// too long path, a bad destination).
var ErrBadInput = errors.New("onion: bad input")
