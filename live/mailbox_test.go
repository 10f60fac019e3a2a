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
// callback waits its turn behind what came before it.
func TestMailboxRunsInPlaceOnlyWhenIdle(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setup   func(m *mailbox, release <-chan struct{}) // leaves the mailbox in the state tested
		inPlace bool
	}{
		{"idle", func(*mailbox, <-chan struct{}) {}, true},
		{"a callback running", func(m *mailbox, release <-chan struct{}) {
			running := make(chan struct{})
			m.post(func() { close(running); <-release })
			<-running
		}, false},
		{"paused with one queued", func(m *mailbox, release <-chan struct{}) {
			m.setPaused(true)
			m.post(func() {})
			go func() { <-release; m.setPaused(false) }()
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newMailbox()
			defer func() { m.close(); <-m.done }()
			release := make(chan struct{})
			tt.setup(m, release)
			var order []string // written by callbacks only, which never overlap
			ran := make(chan struct{})
			if !tt.inPlace {
				m.post(func() { order = append(order, "posted") })
			}
			require.True(t, m.run(func() { order = append(order, "run"); close(ran) }))
			select {
			case <-ran:
				assert.True(t, tt.inPlace, "ran in place while it had to wait")
			default:
				assert.False(t, tt.inPlace, "did not run in place")
				close(release)
				select {
				case <-ran:
				case <-time.After(5 * time.Second):
					t.Fatal("the queued callback never ran")
				}
			}
			if tt.inPlace {
				assert.Equal(t, []string{"run"}, order)
				return
			}
			assert.Equal(t, []string{"posted", "run"}, order, "first in, first out")
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
