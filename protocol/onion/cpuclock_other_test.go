//go:build !linux

package onion

import "time"

var clockStart = time.Now()

// cpuClock falls back to the wall clock where no per-thread CPU clock is at hand.
func cpuClock() time.Duration { return time.Since(clockStart) }
