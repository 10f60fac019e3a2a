//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package testkit

import (
	"errors"
	"os"
)

// lockFile: no file locks here (the tests that take them run containers, on Linux).
func lockFile(*os.File, bool) error {
	return errors.New("test locks need flock, which this system lacks")
}
