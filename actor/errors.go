package actor

import "errors"

// Errors a Call's done may receive. Drivers wrap them with context; test with errors.Is.
var (
	// ErrTimeout: no response within the call's timeout (includes connections that failed after
	// repeated losses, which a real TCP client also only sees as a timeout).
	ErrTimeout = errors.New("request timed out")
	// ErrUnreachable: nothing listens at the address, or a partition cuts it off at connect time.
	ErrUnreachable = errors.New("address unreachable")
)
