package proc

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
)

func TestEventLineRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	var owner [33]byte
	owner[0], owner[32] = 0x05, 0xaa
	var peer [32]byte
	peer[3] = 7
	tests := []actor.Event{
		node.MessageStored{Hash: "h1", Owner: owner, Namespace: -10, Size: 1234, Expiry: 99, New: true, Source: node.FromClient},
		node.MessageStored{Hash: "h2", Source: node.FromReplica},
		node.ReplicationSent{Method: "store", Hash: "h3", Owner: owner, Peer: peer, Attempt: 2},
		node.SwarmDataMoved{To: peer, Reason: node.MoveNewSwarm, Messages: 3, Bytes: 4000, OK: true},
		registry.BlockEvent{Height: 12, Hash: peer, Active: 11, Decommissioned: 1, Swarms: 2, Changed: true},
		registry.Decommissioned{Node: peer, Reason: 3, Credit: 2 * time.Hour, Height: 14},
		registry.Deregistered{Node: peer, Reason: 1, Height: 15},
	}
	for _, ev := range tests {
		t.Run(ev.EventName(), func(t *testing.T) {
			gotAt, got := roundTrip(t, at, ev)
			assert.True(t, at.Equal(gotAt))
			assert.Equal(t, ev, got)
		})
	}
	_, ok := NewEventLine(at, node.SwarmChanged{})
	assert.False(t, ok, "events the collector does not read stay in the node")
}

// roundTrip writes ev at at as an event line and parses the line back.
func roundTrip(t testing.TB, at time.Time, ev actor.Event) (time.Time, actor.Event) {
	t.Helper()
	l, ok := NewEventLine(at, ev)
	require.True(t, ok)
	b, err := json.Marshal(l)
	require.NoError(t, err)
	gotAt, got, err := ParseEventLine(b)
	require.NoError(t, err)
	return gotAt, got
}

func TestParseEventLineRefuses(t *testing.T) {
	for _, line := range []string{
		``, `{`, `[]`, `{"event":"node.nope"}`,
		`{"event":"node.message_stored","owner":"zz"}`,
		`{"event":"node.replication_sent","peer":"0102"}`,
		`{"event":"node.swarm_data_moved","peer":"00"}`,
		`{"event":"registry.block","hash":"xyz"}`,
		`{"event":"registry.decommissioned","node":"0102"}`,
		`{"event":"registry.deregistered","node":"zz"}`,
	} {
		_, _, err := ParseEventLine([]byte(line))
		assert.Error(t, err, "%q", line)
	}
}

func FuzzParseEventLine(f *testing.F) {
	f.Add([]byte(`{"at":"2026-01-02T03:04:05Z","event":"node.message_stored","hash":"h","new":true}`))
	f.Add([]byte(`{"event":"node.swarm_data_moved","peer":"0000000000000000000000000000000000000000000000000000000000000000"}`))
	f.Add([]byte(`{"event":"node.replication_sent","owner":"05"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		at, ev, err := ParseEventLine(b)
		if err != nil {
			return
		}
		// What parses encodes back to a line that parses to the same event.
		_, ev2 := roundTrip(t, at, ev)
		assert.Equal(t, ev, ev2)
	})
}

func TestEventsEndpointStreams(t *testing.T) {
	hub := newEventHub(slog.New(slog.DiscardHandler))
	a := &admin{events: hub}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The reader is subscribed once the headers are flushed.
	at := time.Unix(1000, 0).UTC()
	hub.sink(at, actor.Addr{}, node.SwarmChanged{}) // not carried
	hub.sink(at, actor.Addr{}, node.MessageStored{Hash: "abc", New: true})
	sc := bufio.NewScanner(resp.Body)
	require.True(t, sc.Scan(), sc.Err())
	_, ev, err := ParseEventLine(sc.Bytes())
	require.NoError(t, err)
	assert.Equal(t, node.MessageStored{Hash: "abc", New: true}, ev)
}
