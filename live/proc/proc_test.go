package proc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/live"
)

func TestParseMember(t *testing.T) {
	tests := []struct {
		in, err string
		want    Member
	}{
		{in: "n1=127.70.0.1:22021", want: Member{Name: "n1", Addr: netip.MustParseAddrPort("127.70.0.1:22021")}},
		{in: "n1", err: "name=ip:port"},
		{in: "=127.0.0.1:1", err: "name=ip:port"},
		{in: "n1=127.0.0.1", err: "not ip:port"},
		{in: "n1=127.0.0.1:0", err: "port other than 0"},
		{in: "n1=[::1]:22021", err: "IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMember(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMemberKeysMatchRegistration(t *testing.T) {
	m := Member{Name: "n7", Addr: netip.MustParseAddrPort("127.70.0.7:22021")}
	r := m.Registration(3, 2)
	assert.Equal(t, m.Keys(3).Ed25519Public, r.Ed25519)
	assert.NotEqual(t, m.Keys(4).Ed25519Public, r.Ed25519, "the seed must change the keys")
	assert.Equal(t, m.Addr, r.Addr)
}

func TestFaultsSetAndState(t *testing.T) {
	f := NewFaults()
	require.NoError(t, f.Set(FaultState{Partition: []string{"127.0.0.9", "*", "127.0.0.2"}, LatencyMS: 5}))
	assert.Equal(t, FaultState{Partition: []string{"*", "127.0.0.2", "127.0.0.9"}, LatencyMS: 5}, f.State())
	assert.Error(t, f.Set(FaultState{LatencyMS: -1}))
	assert.ErrorContains(t, f.Set(FaultState{Partition: []string{"nope"}}), "not an IP")
	assert.Equal(t, 5.0, f.State().LatencyMS, "a refused change keeps the table")
}

// TestFaultsPeerLatency: the link table's latency to a peer adds to the switch's, for that
// peer only; a bad entry changes nothing.
func TestFaultsPeerLatency(t *testing.T) {
	f := NewFaults()
	table := FaultState{Partition: []string{}, LatencyMS: 1, PeerLatencyMS: map[string]float64{"10.1.1.10": 20, "10.1.2.10": 0.5}}
	require.NoError(t, f.Set(table))
	assert.Equal(t, table, f.State())
	tests := []struct {
		peer string
		want time.Duration
	}{
		{"10.1.1.10", 21 * time.Millisecond},
		{"10.1.2.10", 1500 * time.Microsecond},
		{"10.1.3.10", time.Millisecond},
	}
	for _, tt := range tests {
		_, got := f.rule(netip.MustParseAddr(tt.peer))
		assert.Equal(t, tt.want, got, tt.peer)
	}
	assert.ErrorContains(t, f.Set(FaultState{PeerLatencyMS: map[string]float64{"nope": 1}}), "not an IP")
	assert.ErrorContains(t, f.Set(FaultState{PeerLatencyMS: map[string]float64{"10.1.1.10": -1}}), "0 or more")
	assert.Equal(t, table, f.State(), "a refused change keeps the table")
	require.NoError(t, f.Set(FaultState{}))
	_, got := f.rule(netip.MustParseAddr("10.1.1.10"))
	assert.Zero(t, got, "a new table replaces the links")
}

// TestFaultsCutConnections: a partitioned peer's connection fails on its next read or write,
// in both directions, and lifting the partition lets new connections through.
func TestFaultsCutConnections(t *testing.T) {
	f := NewFaults()
	a, b := net.Pipe()
	defer b.Close()
	peer := netip.MustParseAddr("127.0.0.2")
	c := f.Wrap(a, netip.MustParseAddr("127.0.0.1"), peer)
	go func() { buf := make([]byte, 3); _, _ = b.Read(buf) }()
	_, err := c.Write([]byte("abc"))
	require.NoError(t, err)
	require.NoError(t, f.Set(FaultState{Partition: []string{"127.0.0.2"}}))
	_, err = c.Write([]byte("abc"))
	assert.ErrorIs(t, err, errCut)
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, errCut)
	assert.Equal(t, uint64(1), f.Stats().Dropped)
	require.NoError(t, f.Set(FaultState{}))
	a2, b2 := net.Pipe()
	defer b2.Close()
	c2 := f.Wrap(a2, netip.MustParseAddr("127.0.0.1"), peer)
	go func() { buf := make([]byte, 1); _, _ = b2.Read(buf) }()
	_, err = c2.Write([]byte("x"))
	assert.NoError(t, err)
}

func TestAdminFaultEndpoint(t *testing.T) {
	a := &admin{faults: NewFaults(), log: discardLog()}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	tests := []struct {
		body   string
		status int
	}{
		{`{"partition":["127.0.0.3"],"latency_ms":2}`, http.StatusOK},
		{`{"partition":["x"]}`, http.StatusBadRequest},
		{`{"bogus":1}`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		resp, err := http.Post(srv.URL+"/fault", "application/json", bytes.NewBufferString(tt.body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, tt.body)
	}
	resp, err := http.Get(srv.URL + "/links")
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct{ Faults FaultState }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, FaultState{Partition: []string{"127.0.0.3"}, LatencyMS: 2}, got.Faults)
}

// idle is an actor that does nothing: the admin endpoint needs one to run on.
type idle struct{}

func (idle) Start(actor.Env)                                   {}
func (idle) Handle(actor.Addr, actor.Request, actor.Responder) {}

func TestAdminHaltEndpoint(t *testing.T) {
	drv := live.New(live.Config{})
	t.Cleanup(drv.Close)
	addr := netip.MustParseAddrPort("127.79.9.1:22021")
	require.NoError(t, drv.Spawn(addr, "registry", idle{}))
	var switched []string
	a := &admin{log: discardLog(), drv: drv, addr: addr, name: "registry", faults: NewFaults(),
		halt: func(name string, down bool) error {
			if name != "n1" {
				return errors.New("no node " + name)
			}
			switched = append(switched, fmt.Sprintf("%s down=%v", name, down))
			return nil
		}}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	tests := []struct {
		path   string
		body   string
		status int
	}{
		{"/halt", `{"node":"n1"}`, http.StatusOK},
		{"/halt", `{"node":"n9"}`, http.StatusBadRequest},
		{"/halt", `{}`, http.StatusBadRequest},
		{"/halt", `{"node":"n1","x":1}`, http.StatusBadRequest},
		{"/halt", `junk`, http.StatusBadRequest},
		{"/unhalt", `{"node":"n1"}`, http.StatusOK},
		{"/unhalt", `{"node":"n9"}`, http.StatusBadRequest},
		{"/unhalt", `junk`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		resp, err := http.Post(srv.URL+tt.path, "application/json", bytes.NewBufferString(tt.body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, "%s %s", tt.path, tt.body)
	}
	assert.Equal(t, []string{"n1 down=true", "n1 down=false"}, switched, "switched once each way, on the actor's goroutine")
}

func TestFaultsCountBytesWritten(t *testing.T) {
	f := NewFaults()
	local, remote := net.Pipe()
	defer remote.Close()
	c := f.Wrap(local, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"))
	defer c.Close()
	go func() { _, _ = io.Copy(io.Discard, remote) }()
	for _, msg := range []string{"hello", "", "world!"} {
		_, err := c.Write([]byte(msg))
		require.NoError(t, err)
	}
	assert.Equal(t, uint64(11), f.Stats().Bytes)
}

// TestFaultsPaceBursts: the added latency delays a burst of writes (a message in several
// records) once, not once per write, and a write after a pause pays it again.
func TestFaultsPaceBursts(t *testing.T) {
	const latency = 50 * time.Millisecond
	f := NewFaults()
	require.NoError(t, f.Set(FaultState{LatencyMS: float64(latency / time.Millisecond)}))
	local, remote := net.Pipe()
	defer remote.Close()
	c := f.Wrap(local, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"))
	defer c.Close()
	go func() { _, _ = io.Copy(io.Discard, remote) }()
	burst := func() time.Duration {
		begin := time.Now()
		for range 10 {
			_, err := c.Write([]byte("record"))
			require.NoError(t, err)
		}
		return time.Since(begin)
	}
	first := burst()
	assert.GreaterOrEqual(t, first, latency, "the burst waits out the latency")
	assert.Less(t, first, 5*latency, "once, not once per write (10 writes would take %v)", 10*latency)
	time.Sleep(10 * time.Millisecond)
	assert.GreaterOrEqual(t, burst(), latency, "a write after a pause waits again")
}

// FuzzParseMember: any input parses or is refused with an error, never a panic, and a member
// parsed prints back to what parses to the same member.
func FuzzParseMember(f *testing.F) {
	for _, s := range []string{"n1=127.0.0.1:22021", "=", "a=b=c", "n=1.2.3.4:0", "n=[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMember(s)
		if err != nil {
			return
		}
		again, err := ParseMember(m.Name + "=" + m.Addr.String())
		require.NoError(t, err)
		assert.Equal(t, m, again)
	})
}

// FuzzFaultBody: the /fault decoder answers 200 or 400 to any body, never a panic.
func FuzzFaultBody(f *testing.F) {
	for _, s := range []string{`{"partition":["*"]}`, `{"latency_ms":-1}`, `{}`, `[`, `{"partition":[1]}`} {
		f.Add([]byte(s))
	}
	h := (&admin{faults: NewFaults(), log: discardLog()}).handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/fault", bytes.NewReader(body)))
		assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, rec.Code)
	})
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
