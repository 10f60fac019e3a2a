package storagerpc

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a refusal the storage server sends back: an HTTP status and the plain-text body the
// real server writes for it, so a node can answer with it unchanged and a client can match on it.
type Error struct {
	// Status is the HTTP status code (400 bad request, 401 bad or missing signature, 403 bad TTL,
	// 406 clock skew, 413 body too large, ...).
	Status int
	// Text is the response body exactly as the real server sends it.
	Text string
	// Field names the request parameter at fault, when one is (for parse errors); empty otherwise.
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("storage rpc: %d (field %q): %s", e.Status, e.Field, e.Text)
	}
	return fmt.Sprintf("storage rpc: %d: %s", e.Status, e.Text)
}

// StatusOf returns the HTTP status an error maps to: the Error's own status, or 500 for any other
// error (the real server answers unexpected failures with 500 "request failed").
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// invalid is a 400 for a request whose parameters do not parse; the server prefixes the parser's
// message with "invalid request: ".
func invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Text: "invalid request: " + fmt.Sprintf(format, args...), Field: field}
}

func refuse(status int, text string) *Error { return &Error{Status: status, Text: text} }

// Refusals shared by several methods. The texts are the real server's.
var (
	// ErrBodyTooLarge is the answer to a request body over MaxBodySize.
	ErrBodyTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Text: "Request body too large"}
	// ErrInvalidJSON: the body is not JSON.
	ErrInvalidJSON = &Error{Status: http.StatusBadRequest, Text: "invalid json"}
	// ErrNoMethod: the body has no string "method".
	ErrNoMethod = &Error{Status: http.StatusBadRequest, Text: "invalid json: no `method` field", Field: "method"}
	// ErrNoParams: the body has no object "params".
	ErrNoParams = &Error{Status: http.StatusBadRequest, Text: "invalid json: no `params` field", Field: "params"}
	// ErrRateLimited is the HTTPS answer to a client over its request budget.
	ErrRateLimited = &Error{Status: http.StatusTooManyRequests, Text: "Too Many Requests\n"}
)

// NotReady is the answer of a node that is not ready to serve (503), with the reason it gives,
// such as "not in any swarm" or "oxend not ready".
func NotReady(reason string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Text: "Service node is not ready: " + reason + "\n"}
}
