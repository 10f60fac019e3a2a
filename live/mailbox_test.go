package live

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMailboxRunsInPlaceOnlyWhenIdle: run runs its callback on the calling goroutine, before it
// returns, only when nothing runs, nothing waits and the mailbox is not paused; otherwise the
// callback waits its turn behind what came before it. Each case but the last holds one of the
// conditions alone, so that each is checked on its own.
func TestMailboxRunsInPlaceOnlyWhenIdle(t *testing.T) {
	// Each setup starts the mailbox's goroutine (loop) itself. running blocks the mailbox with a
	// callback until release closes.
	running := func(m *mailbox, release <-chan struct{}) {
		go m.loop()
		entered := make(chan struct{})
		m.post(func() { close(entered); <-release })
		<-entered
	}
	for _, tt := range []struct {
		name    string
		setup   func(m *mailbox, release <-chan struct{}) // leaves the mailbox in the state tested
		queued  bool                                      // one callback waits behind the state
		inPlace bool
	}{
		{"idle", func(m *mailbox, _ <-chan struct{}) { go m.loop() }, false, true},
		{"a callback running on the mailbox's goroutine", running, false, false},
		{"a callback running in place on another goroutine", func(m *mailbox, release <-chan struct{}) {
			go m.loop()
			entered := make(chan struct{})
			go m.run(func() { close(entered); <-release })
			<-entered
		}, false, false},
		{"paused", func(m *mailbox, release <-chan struct{}) {
			go m.loop()
			m.setPaused(true)
			go func() { <-release; m.setPaused(false) }()
		}, false, false},
		{"one queued, its goroutine slow to take it", func(m *mailbox, release <-chan struct{}) {
			go func() { <-release; m.loop() }()
		}, true, false},
		{"one queued behind a callback running", running, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &mailbox{wake: make(chan struct{}, 1), done: make(chan struct{})} // newMailbox without its goroutine
			release := make(chan struct{})
			tt.setup(m, release)
			defer func() { m.close(); <-m.done }()
			var order []string // written by callbacks only, which never overlap
			if tt.queued {
				m.post(func() { order = append(order, "queued") })
			}
			ran := make(chan struct{})
			require.True(t, m.run(func() { order = append(order, "run"); close(ran) }))
			select {
			case <-ran:
				assert.True(t, tt.inPlace, "ran in place while it had to wait")
			default:
				assert.False(t, tt.inPlace, "did not run in place")
				// Let the mailbox's goroutine take the wake-up the queuing gave and wait again,
				// so that only the one due when what blocks it ends can run the callback.
				time.Sleep(20 * time.Millisecond)
			}
			close(release)
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("the queued callback never ran")
			}
			want := []string{"run"}
			if tt.queued {
				want = []string{"queued", "run"}
			}
			assert.Equal(t, want, order, "first in, first out")
		})
	}
}

func TestMailboxRunAfterClose(t *testing.T) {
	m := newMailbox()
	m.close()
	<-m.done
	assert.False(t, m.run(func() { t.Error("ran after close") }))
	assert.False(t, m.post(func() { t.Error("ran after close") }))
}

// TestMailboxCloseWaitsForARunInPlace: done closes only once a callback running in place has
// returned, so that nothing of an actor runs after Driver.Close.
func TestMailboxCloseWaitsForARunInPlace(t *testing.T) {
	m := newMailbox()
	entered, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { m.run(func() { close(entered); <-release }) })
	<-entered
	m.close()
	select {
	case <-m.done:
		t.Fatal("done closed while a callback ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		t.Fatal("done never closed")
	}
}
