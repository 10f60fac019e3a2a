package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// holder is a testing.TB whose cleanups run when the test ends it, so that one test can play
// several holders of a lock.
type holder struct {
	testing.TB
	cleanups []func()
}

func (h *holder) Cleanup(f func()) { h.cleanups = append(h.cleanups, f) }

func (h *holder) end() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
}

// TestLocksWait: a second holder waits while the first holds the lock (in one process as in
// two: the lock is on the open file), gets it once the first lets go, and two shared holders
// hold it at once.
func TestLocksWait(t *testing.T) {
	name := fmt.Sprintf("testkit-%d", os.Getpid())
	t.Cleanup(func() {
		for _, f := range []string{name, name + "-lane-0", name + "-lane-1"} {
			_ = os.Remove(filepath.Join(os.TempDir(), f+".lock"))
		}
	})
	lane := func(i int) func(*holder) func() {
		return func(h *holder) func() { Lane(h, name, i); return h.end }
	}
	exclusive := func(h *holder) func() { Exclusive(h, name); return h.end }
	shared := func(h *holder) func() { Shared(h, name); return h.end }
	// Ended by its release rather than by the end of its test.
	released := func(h *holder) func() { return Exclusive(h, name) }
	for _, tc := range []struct {
		name          string
		first, second func(*holder) func()
		waits         bool
	}{
		{"one lane", lane(0), lane(0), true},
		{"two lanes", lane(0), lane(1), false},
		{"exclusive, then exclusive", exclusive, exclusive, true},
		{"exclusive, then shared", exclusive, shared, true},
		{"shared, then exclusive", shared, exclusive, true},
		{"shared, then shared", shared, shared, false},
		{"released, then exclusive", released, exclusive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endFirst := tc.first(&holder{TB: t})
			got := make(chan func(), 1)
			go func() { got <- tc.second(&holder{TB: t}) }()
			var endSecond func()
			select {
			case endSecond = <-got:
				assert.False(t, tc.waits, "the second holder got the lock while the first held it")
			case <-time.After(300 * time.Millisecond):
				assert.True(t, tc.waits, "the second holder waits although the lock is free to it")
			}
			endFirst()
			if endSecond == nil {
				select {
				case endSecond = <-got:
				case <-time.After(10 * time.Second):
					assert.Fail(t, "the second holder did not get the lock once the first let go")
					return
				}
			}
			endSecond()
		})
	}
}
