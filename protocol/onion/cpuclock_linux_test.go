package onion

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuClock is the CPU time the calling thread has used (it must be locked to its thread), in
// nanoseconds of precision (getrusage's thread times move in scheduler ticks).
func cpuClock() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
