//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package testkit

import (
	"errors"
	"os"
	"syscall"
)

// lockFile waits for a lock on f, exclusive or shared. flock locks belong to the open file,
// not to the process: two opens of the same file in one process wait for each other as two
// processes do.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
