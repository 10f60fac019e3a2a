package proc

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
		// The leakage lines (GET /events?leakage=1).
		node.OnionHop{From: netip.MustParseAddr("10.200.1.11"), Arrived: at.Add(-time.Millisecond), HopNo: 1, Guard: true, Role: node.HopRelay,
			Next: peer, BytesIn: 900, BytesOut: 300, Status: 200},
		node.OnionHop{From: netip.MustParseAddr("10.200.3.10"), Arrived: at, HopNo: 4, Role: node.HopDestination, BytesIn: 500, BytesOut: 120,
			Method: "batch", Owner: owner, Accounts: [][33]byte{owner, {0x03}}, Namespaces: []int16{0, -10}, Sizes: []int{310, 0}, Status: 200},
		node.OnionHop{From: netip.MustParseAddr("10.200.3.10"), HopNo: 4, Role: node.HopProxy, Host: "filev2.getsession.org", Target: "/file", Status: 502},
		node.RequestServed{Method: "retrieve", Via: node.ViaDirect, Status: 200, From: netip.MustParseAddr("10.200.1.12"), Accounts: [][33]byte{owner}},
		registry.SeedRequest{From: netip.MustParseAddr("10.200.1.13"), Size: 180},
		LinkTapped{From: netip.MustParseAddr("10.200.2.10"), To: netip.MustParseAddr("10.200.3.10"), Size: 1400, SentNS: 1e18, ArriveNS: 1e18 + 4e7, OK: true},
		LinkTapped{From: netip.MustParseAddr("10.200.2.10"), To: netip.MustParseAddr("10.200.3.10"), Size: 1400, SentNS: 1e18},
		EventsDropped{Lines: 17},
	}
	for _, ev := range tests {
		t.Run(ev.EventName(), func(t *testing.T) {
			gotAt, got := roundTrip(t, at, ev)
			assert.True(t, at.Equal(gotAt))
			assert.Equal(t, ev, got)
		})
	}
	for _, ev := range []actor.Event{
		node.SwarmChanged{},
		node.RequestServed{Method: "store", Via: node.ViaOnion, Status: 200},
		node.RequestServed{Method: "store", Via: node.ViaDirect, Status: 200}, // from no address
	} {
		_, ok := NewEventLine(at, ev)
		assert.False(t, ok, "events neither the collector nor the leakage recorder reads stay in the node: %#v", ev)
	}
}

// roundTrip writes ev at at as an event line and parses the line back.
func roundTrip(t testing.TB, at time.Time, ev actor.Event) (time.Time, actor.Event) {
	t.Helper()
	gotAt, got, err := ParseEventLine([]byte(lineOf(t, at, ev)))
	require.NoError(t, err)
	return gotAt, got
}

// lineOf is ev at at as an event line.
func lineOf(t testing.TB, at time.Time, ev actor.Event) string {
	t.Helper()
	l, ok := NewEventLine(at, ev)
	require.True(t, ok)
	b, err := json.Marshal(l)
	require.NoError(t, err)
	return string(b)
}

// TestOnionHopLineLeavesZeroKeysOut: a hop with no next hop and no owner (most hops) carries
// neither key; one with them carries both.
func TestOnionHopLineLeavesZeroKeysOut(t *testing.T) {
	at := time.Unix(1000, 0).UTC()
	bare := lineOf(t, at, node.OnionHop{From: netip.MustParseAddr("10.0.0.1"), HopNo: 2, Role: node.HopRelay})
	assert.NotContains(t, bare, `"next"`)
	assert.NotContains(t, bare, `"owner"`)
	full := lineOf(t, at, node.OnionHop{Next: [32]byte{1}, Owner: [33]byte{0x05}})
	assert.Contains(t, full, `"next":"01`)
	assert.Contains(t, full, `"owner":"05`)
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
		`{"event":"node.onion_hop","from":"10.0.0.300"}`,
		`{"event":"node.onion_hop","next":"0102"}`,
		`{"event":"node.onion_hop","accounts":["05"]}`,
		`{"event":"node.request","via":2,"from":"10.0.0.1"}`,
		`{"event":"node.request","via":1}`,
		`{"event":"registry.seed_request","from":"nope"}`,
		`{"event":"link.tap","from":"10.0.0.1","to":"x"}`,
	} {
		_, _, err := ParseEventLine([]byte(line))
		assert.Error(t, err, "%q", line)
	}
}

func FuzzParseEventLine(f *testing.F) {
	f.Add([]byte(`{"at":"2026-01-02T03:04:05Z","event":"node.message_stored","hash":"h","new":true}`))
	f.Add([]byte(`{"event":"node.swarm_data_moved","peer":"0000000000000000000000000000000000000000000000000000000000000000"}`))
	f.Add([]byte(`{"event":"node.replication_sent","owner":"05"}`))
	f.Add([]byte(`{"event":"node.onion_hop","from":"10.200.1.11","arrived":"2026-01-02T03:04:05+01:00","guard":true,"role":1,"accounts":[""],"sizes":[]}`))
	f.Add([]byte(`{"event":"node.request","via":1,"from":"::ffff:10.0.0.1","accounts":[]}`))
	f.Add([]byte(`{"event":"registry.seed_request","from":"fe80::1%eth0","size":3}`))
	f.Add([]byte(`{"event":"link.tap","from":"10.0.0.1","to":"10.0.0.2","size":1,"sent_ns":5,"ok":true}`))
	f.Add([]byte(`{"event":"events.dropped","dropped":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		at, ev, err := ParseEventLine(b)
		if err != nil {
			return
		}
		// What parses encodes back to a line that parses to the same event, compared as
		// lines: a time's zone may come back as another of the same offset.
		_, ev2 := roundTrip(t, at, ev)
		assert.Equal(t, lineOf(t, at, ev), lineOf(t, at, ev2))
	})
}

func TestEventsEndpointStreams(t *testing.T) {
	hub, srv, ctx := eventsServer(t)
	resp := openEvents(t, ctx, srv, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The reader is subscribed once the headers are flushed.
	at := time.Unix(1000, 0).UTC()
	hub.sink(at, actor.Addr{}, node.SwarmChanged{}) // not carried
	hub.sink(at, actor.Addr{}, node.MessageStored{Hash: "abc", New: true})
	assert.Equal(t, []actor.Event{node.MessageStored{Hash: "abc", New: true}}, readEvents(t, resp, 1))
}

// eventsServer serves GET /events of a new hub until the test ends; ctx bounds the test's
// requests to it.
func eventsServer(t *testing.T) (hub *eventHub, srv *httptest.Server, ctx context.Context) {
	t.Helper()
	hub = newEventHub(slog.New(slog.DiscardHandler))
	srv = httptest.NewServer((&admin{events: hub}).handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return hub, srv, ctx
}

// openEvents opens GET /events with query on srv, closed when the test ends.
func openEvents(t *testing.T, ctx context.Context, srv *httptest.Server, query string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events"+query, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// readEvents reads n events of resp's stream.
func readEvents(t *testing.T, resp *http.Response, n int) []actor.Event {
	t.Helper()
	sc := bufio.NewScanner(resp.Body)
	var evs []actor.Event
	for len(evs) < n {
		require.True(t, sc.Scan(), sc.Err())
		_, ev, err := ParseEventLine(sc.Bytes())
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	return evs
}

// TestEventsEndpointLeakageLines: a reader gets the leakage recorder's lines only if it asks
// (?leakage=1), the link taps alone with ?leakage=taps; every reader gets the collector's; a
// bad value is refused.
func TestEventsEndpointLeakageLines(t *testing.T) {
	hub, srv, ctx := eventsServer(t)
	assert.Equal(t, http.StatusBadRequest, openEvents(t, ctx, srv, "?leakage=yes").StatusCode)
	plain, leaky, taps := openEvents(t, ctx, srv, ""), openEvents(t, ctx, srv, "?leakage=1"), openEvents(t, ctx, srv, "?leakage=taps")
	for _, resp := range []*http.Response{plain, leaky, taps} {
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	at := time.Unix(1000, 0).UTC()
	hop := node.OnionHop{From: netip.MustParseAddr("10.0.0.1"), Guard: true, Role: node.HopRelay}
	tap := LinkTapped{From: netip.MustParseAddr("10.0.0.1"), To: netip.MustParseAddr("10.0.0.2"), Size: 10, SentNS: 5}
	stored := node.MessageStored{Hash: "abc", New: true}
	hub.sink(at, actor.Addr{}, hop)
	hub.sink(at, actor.Addr{}, tap)
	hub.sink(at, actor.Addr{}, stored)
	// The two kinds of line come from buffers of their own: only their order within a kind holds.
	assert.Equal(t, []actor.Event{stored}, readEvents(t, plain, 1), "the collector's reader skips the hop and the tap")
	assert.ElementsMatch(t, []actor.Event{hop, tap, stored}, readEvents(t, leaky, 3))
	assert.ElementsMatch(t, []actor.Event{tap, stored}, readEvents(t, taps, 2), "a taps reader skips the hop")
	hub.mu.Lock()
	assert.True(t, hub.anyWants(tap))
	hub.mu.Unlock()
}

// TestEventHubKeepsCollectorLines: leakage lines beyond their buffer are dropped without
// taking the collector's lines' place, and the reader is told how many with an
// events.dropped line.
func TestEventHubKeepsCollectorLines(t *testing.T) {
	hub, srv, ctx := eventsServer(t)
	// Fill the buffers before the stream is read: subscribe directly, as serve would.
	r, done := hub.subscribe(LeakageAll)
	at := time.Unix(1000, 0).UTC()
	tap := LinkTapped{From: netip.MustParseAddr("10.0.0.1"), To: netip.MustParseAddr("10.0.0.2"), Size: 10}
	const over = 5
	for range eventBuffer + over {
		hub.sink(at, actor.Addr{}, tap)
	}
	hub.sink(at, actor.Addr{}, node.MessageStored{Hash: "kept", New: true})
	assert.Len(t, r.lines, 1, "the collector's line has its own buffer")
	assert.Len(t, r.leakage, eventBuffer)
	assert.Equal(t, uint64(over), hub.untold(r))
	assert.Zero(t, hub.untold(r), "told once")
	assert.Equal(t, uint64(over), done())

	// Over the stream: a reader that does not read while many more lines than its buffer are
	// published is told of every line it missed.
	resp := openEvents(t, ctx, srv, "?leakage=1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	const published = 200_000 // ~25 MB of lines: more than the sockets' buffers hold
	for range published {
		hub.sink(at, actor.Addr{}, tap)
	}
	hub.sink(at, actor.Addr{}, node.MessageStored{Hash: "end", New: true})
	sc := bufio.NewScanner(resp.Body)
	var taps, dropped uint64
	end := false
	for !end || taps+dropped < published {
		require.True(t, sc.Scan(), "read %d taps, %d dropped: %v", taps, dropped, sc.Err())
		_, ev, err := ParseEventLine(sc.Bytes())
		require.NoError(t, err)
		switch e := ev.(type) {
		case LinkTapped:
			taps++
		case EventsDropped:
			dropped += e.Lines
		case node.MessageStored:
			end = true
		}
	}
	assert.Positive(t, dropped, "the reader fell behind")
	assert.Equal(t, uint64(published), taps+dropped, "every line is read or counted dropped")
}
