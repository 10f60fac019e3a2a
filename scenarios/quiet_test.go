package scenarios

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node"
)

// TestQuietNodesSameSummary: a run whose only sinks are the world's own has quiet nodes
// (node.Config.Quiet), which leave out the events none of those sinks reads; one with a sink
// of its own has nodes that report every event. Both must give the same summary, byte for
// byte, so that a sink of the world that starts reading one of the left-out events shows here.
func TestQuietNodesSameSummary(t *testing.T) {
	endToEnd(t, "end-to-end runs")
	quiet := sharedDefaultQuick(t)
	sc := loadModeled("default", true)(t)
	var mu sync.Mutex // sinks may run on more than one goroutine
	seen := map[string]int{}
	sink := func(_ time.Time, _ actor.Addr, ev actor.Event) {
		mu.Lock()
		defer mu.Unlock()
		seen[ev.EventName()]++
	}
	loud, err := Run(sc, RunOptions{Version: "test", Workers: 1, Sink: sink})
	require.NoError(t, err)
	for _, ev := range []actor.Event{node.RequestServed{}, node.OnionHop{}, node.ReplicationDone{}} {
		assert.Positive(t, seen[ev.EventName()], "with a sink of its own, the nodes report %s", ev.EventName())
	}
	want, err := json.MarshalIndent(quiet.sum, "", " ")
	require.NoError(t, err)
	got, err := json.MarshalIndent(loud, "", " ")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "quiet nodes give the summary of nodes that report everything")
}

// The nodes are quiet only when nothing but the world's own sinks reads the events and the
// world has no leakage recorder (which reads OnionHop and RequestServed): the summary
// comparison above would pass as well with nodes that are never quiet.
func TestQuietOnlyWhenNothingReadsTheEvents(t *testing.T) {
	small := []string{"nodes.count=12", "clients.count=6", "crypto=modeled"}
	for _, tc := range []struct {
		name, scenario string
		ownSinksOnly   bool
		quiet          bool
	}{
		{"the world's own sinks", "default", true, true},
		{"a sink of the run's own", "default", false, false},
		{"a leakage recorder", "leakage", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load(tc.scenario, LoadOptions{Quick: true, Sets: small})
			require.NoError(t, err)
			w, err := buildWorldOn(sc, 1, nil, nil, tc.ownSinksOnly)
			require.NoError(t, err)
			assert.Equal(t, tc.quiet, w.nodeConf.Quiet)
		})
	}
}
