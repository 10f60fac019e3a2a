//go:build amd64 || arm64

package sim

import "unsafe"

// prefetch asks the CPU to start loading the cache line at p. It never faults, whatever p is.
//
//go:noescape
func prefetch(p unsafe.Pointer)
