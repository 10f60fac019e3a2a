package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live/proc"
	"github.com/sessionsim/sessionsim/node"
)

// TestFollowEventsReconnects: a follower reads every stream the endpoint opens, asking for
// the leakage lines it was told to (none: no query), skips lines it cannot read, and reads
// again when a stream ends (a node restarting).
func TestFollowEventsReconnects(t *testing.T) {
	for _, tc := range []struct {
		leakage proc.LeakageQuery
		query   string
	}{
		{proc.LeakageAll, "leakage=1"},
		{proc.LeakageTaps, "leakage=taps"},
		{proc.LeakageNone, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var opened int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// A handler's goroutine must not stop the test (require): it only reports.
				assert.Equal(t, "/events", r.URL.Path)
				assert.Equal(t, tc.query, r.URL.RawQuery, "a follower asks for the leakage lines it was told to, and none without")
				mu.Lock()
				opened++
				n := opened
				mu.Unlock()
				l, _ := proc.NewEventLine(time.Unix(int64(n), 0), node.MessageStored{Hash: fmt.Sprint("h", n), New: true})
				b, _ := json.Marshal(l)
				_, _ = w.Write([]byte("garbage\n"))
				_, _ = w.Write(append(b, '\n'))
			}))
			defer srv.Close()
			from := netip.MustParseAddrPort("10.1.2.3:22021")
			got := make(chan string, 8)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				FollowEvents(ctx, srv.URL, tc.leakage, from, func(_ time.Time, f actor.Addr, ev actor.Event) {
					assert.Equal(t, from, f)
					got <- ev.(node.MessageStored).Hash
				}, slog.New(slog.DiscardHandler))
			}()
			assert.Equal(t, "h1", <-got)
			assert.Equal(t, "h2", <-got, "the follower reads again after a stream ends")
			cancel()
			<-done
		})
	}
}
