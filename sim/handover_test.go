package sim

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSleepersLoseNoWakeUp: two sides hand a turn back and forth many times, each made to sleep
// almost at once (no spin), so that a side often goes to sleep just as the other rouses it. A
// wake-up lost there would leave both waiting.
func TestSleepersLoseNoWakeUp(t *testing.T) {
	const rounds = 20_000
	a, b := newSleeper(), newSleeper()
	var turn atomic.Int64
	done := make(chan struct{})
	go func() {
		for i := int64(1); i <= rounds; i++ {
			*b.spin = 0
			b.await(func() bool { return turn.Load() >= 2*i-1 })
			turn.Store(2 * i)
			a.rouse()
		}
	}()
	go func() {
		defer close(done)
		for i := int64(1); i <= rounds; i++ {
			turn.Store(2*i - 1)
			b.rouse()
			*a.spin = 0
			a.await(func() bool { return turn.Load() >= 2*i })
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		require.FailNow(t, "a side still waits", "turn %d of %d", turn.Load(), 2*rounds)
	}
	require.False(t, a.asleep.Load())
	require.Empty(t, a.wake, "no wake-up left over for the next wait")
}
