package actor

import (
	"errors"
	"fmt"
	"time"
)

// Errors a Call's done may receive. Drivers wrap them with context; test with errors.Is.
var (
	// ErrTimeout: no response within the call's timeout (includes connections that failed after
	// repeated losses, which a real TCP client also only sees as a timeout).
	ErrTimeout = errors.New("request timed out")
	// ErrUnreachable: nothing listens at the address, or a partition cuts it off at connect time.
	ErrUnreachable = errors.New("address unreachable")
)

// CallError is what a failed call's done receives from a driver. Test it with errors.Is against
// ErrTimeout or ErrUnreachable.
type CallError struct {
	Driver  string // the driver that made the call: "sim", "live"
	Method  string
	To      Addr
	Timeout time.Duration
	Reason  string // why, in words
	Err     error  // ErrTimeout or ErrUnreachable
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s: call %s to %v: %s: %v", e.Driver, e.Method, e.To, e.Reason, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }
