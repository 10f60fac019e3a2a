package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The locks below are locks on files of the temporary directory, which every test process of
// the machine sees: go test runs several packages at once, each in a process of its own, and
// tests that must not crowd the machine or must not overlap (docker mode's, in live/docker and
// in scenarios) share them across processes. The kernel releases a lock when its holder's
// file is closed or its process ends, so a killed test process leaves none held.

// Lane holds lane i of the lanes called name until t ends, waiting while another test holds
// it, in this process or in another one.
func Lane(t testing.TB, name string, i int) {
	t.Helper()
	Exclusive(t, fmt.Sprintf("%s-lane-%d", name, i)) // released when t ends
}

// Exclusive holds the lock called name alone until release is called (or t ends), waiting
// for every holder, shared or not, to let go of it.
func Exclusive(t testing.TB, name string) (release func()) {
	t.Helper()
	return hold(t, name, true)
}

// Shared holds the lock called name beside other shared holders until release is called (or
// t ends), waiting while an exclusive holder has it.
func Shared(t testing.TB, name string) (release func()) {
	t.Helper()
	return hold(t, name, false)
}

func hold(t testing.TB, name string, exclusive bool) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	release := sync.OnceFunc(func() { _ = f.Close() }) // closing releases the lock
	t.Cleanup(release)
	require.NoError(t, lockFile(f, exclusive), "lock %s", name)
	return release
}

// DockerLanes are the lanes of docker mode's tests (make test-docker): two, each running one
// world of about 12 containers at a time, in live/docker and in scenarios.
const DockerLanes = "sessionsim-docker"

// DockerSweeps is held shared by a docker-mode test while its run sweeps what dead harnesses
// left (docker.Sweep, at a run's start), and exclusively by live/docker's test of the sweep,
// which plants a dead harness's objects and counts what its own Sweep removes: another run's
// sweep in between would remove them first.
const DockerSweeps = "sessionsim-docker-sweeps"
