//go:build unix

package proc

import (
	"os"
	"syscall"
)

// StopSignals end a process gracefully: SIGTERM and SIGINT, and SIGWINCH, which dockertest
// sends to stop a container.
var StopSignals = []os.Signal{syscall.SIGTERM, os.Interrupt, syscall.SIGWINCH}
