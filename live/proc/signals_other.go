//go:build !unix

package proc

import "os"

// StopSignals end a process gracefully.
var StopSignals = []os.Signal{os.Interrupt}
