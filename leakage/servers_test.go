package leakage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// serverRun is a synthetic run with 1:1 traffic (pairs 0 -> 1 and 2 -> 3) and the lsrpc events
// a file server, a push server and a community server report: client 1 subscribed on the push
// server and notified twice, client 4 a community member through its blinded ID.
func serverRun(roles ...string) *synthetic {
	s := newSynthetic(8, 6)
	s.play()
	s.request(0, 1, 10*time.Second, 700, true)
	s.request(2, 3, 11*time.Second, 700, true)
	for _, role := range roles {
		s.r.T.AddServerRole(role)
	}
	tb := s.r.T
	blinded := identity.ID{0x15, 4, 4, 4}
	tb.AddAlias(blinded, 4)
	at := func(d time.Duration) time.Time { return s.epoch.Add(d) }
	server := tb.Nodes[0].Addr // the reporting server's own address is not what it sees
	for _, ev := range []struct {
		at time.Duration
		ev any
	}{
		{20 * time.Second, lsrpc.Served{Role: "file", From: tb.Nodes[2].Addr.Addr(), Method: "POST", Endpoint: "/file", Code: 200, BytesIn: 5000, BytesOut: 300}},
		{21 * time.Second, lsrpc.Served{Role: "push", From: tb.Nodes[3].Addr.Addr(), Method: "POST", Endpoint: "/subscribe", Code: 200, BytesIn: 900, BytesOut: 200}},
		{21 * time.Second, lsrpc.Learned{Role: "push", Account: tb.Clients[1].ID, Device: "token-1", What: "subscribed"}},
		{30 * time.Second, lsrpc.Learned{Role: "push", Account: tb.Clients[1].ID, What: "message"}},
		{40 * time.Second, lsrpc.Learned{Role: "push", Account: tb.Clients[1].ID, What: "message"}},
		{50 * time.Second, lsrpc.Served{Role: "community", From: tb.Nodes[4].Addr.Addr(), Method: "POST", Endpoint: "/batch", Code: 200, BytesIn: 1200, BytesOut: 800}},
		{50 * time.Second, lsrpc.Learned{Role: "community", Account: blinded, What: "request"}},
	} {
		switch e := ev.ev.(type) {
		case lsrpc.Served:
			s.r.Observe(at(ev.at), server, e)
		case lsrpc.Learned:
			s.r.Observe(at(ev.at), server, e)
		}
	}
	return s
}

func rowOf(rows []results.RoleView, role string) *results.RoleView {
	for i := range rows {
		if rows[i].Role == role {
			return &rows[i]
		}
	}
	return nil
}

func TestServerRolesInViewTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		roles  []string
		rows   []string
		absent []string
	}{
		{"every server", []string{"community", "push", "file"}, []string{"file_server", "push_server", "community_server"}, nil},
		{"no push server", []string{"file", "community"}, []string{"file_server", "community_server"}, []string{"push_server"}},
		{"no servers", nil, nil, []string{"file_server", "push_server", "community_server"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serverRun(tc.roles...)
			rows := viewTable(s.r)
			var got []string
			for _, r := range rows[7:] {
				got = append(got, r.Role)
			}
			assert.Equal(t, tc.rows, got, "the servers' rows follow the nodes', in role order")
			for _, role := range tc.absent {
				assert.Nil(t, rowOf(rows, role))
			}
		})
	}
	rows := viewTable(serverRun("file", "push", "community").r)
	assert.Equal(t, map[string]uint64{"requests": 1, "proxy_addresses": 1, "bytes_in": 5000, "bytes_out": 300, "accounts_learned": 0, "accounts_with_device": 0, "notifications": 0},
		rowOf(rows, "file_server").Counts)
	assert.Equal(t, map[string]uint64{"requests": 1, "proxy_addresses": 1, "bytes_in": 900, "bytes_out": 200, "accounts_learned": 1, "accounts_with_device": 1, "notifications": 2},
		rowOf(rows, "push_server").Counts)
	assert.Equal(t, map[string]uint64{"requests": 1, "proxy_addresses": 1, "bytes_in": 1200, "bytes_out": 800, "accounts_learned": 1, "accounts_with_device": 0, "notifications": 0},
		rowOf(rows, "community_server").Counts, "the blinded ID is client 4's")

	// A server of the world that saw nothing has its row, all zero.
	quiet := newSynthetic(8, 6)
	quiet.play()
	quiet.r.T.AddServerRole("push")
	row := rowOf(viewTable(quiet.r), "push_server")
	require.NotNil(t, row)
	for k, v := range row.Counts {
		assert.Zero(t, v, k)
	}
}

func TestServerAdversary(t *testing.T) {
	s := serverRun("file", "push", "community")
	specs := []Spec{
		{Name: "push", Kind: KindServer, Servers: []string{"push"}},
		{Name: "community", Kind: KindServer, Servers: []string{"community"}},
		{Name: "all", Kind: KindServer, Servers: []string{"file", "push", "community"}},
		{Name: "coalition", Kind: KindRandom, Fractions: []float64{0.5}, Draws: 2},
	}
	l, err := Analyze(s.r, specs, time.Minute, seededStream(1))
	require.NoError(t, err)
	require.Len(t, l.Adversaries, 4)
	active := float64(l.ActiveClients)
	require.Equal(t, 6.0, active)
	require.Equal(t, 2, l.ActivePairs)
	for _, tc := range []struct {
		i    int
		want results.ServerLearned
	}{
		{0, results.ServerLearned{Roles: []string{"push"}, Requests: 1, ProxyAddresses: 1, Accounts: round6(1 / active), AccountsWithDevice: round6(1 / active), Notifications: 2, RecipientsTimed: 0.5}},
		{1, results.ServerLearned{Roles: []string{"community"}, Requests: 1, ProxyAddresses: 1, Accounts: round6(1 / active)}},
		{2, results.ServerLearned{Roles: []string{"file", "push", "community"}, Requests: 3, ProxyAddresses: 3, Accounts: round6(2 / active), AccountsWithDevice: round6(1 / active), Notifications: 2, RecipientsTimed: 0.5}},
	} {
		adv := l.Adversaries[tc.i]
		assert.Equal(t, KindServer, adv.Kind)
		assert.Equal(t, "server", adv.View)
		require.NotNil(t, adv.Server, adv.Name)
		assert.Equal(t, tc.want, *adv.Server, adv.Name)
		assert.Nil(t, adv.Exposure.Direct, "a server never sees a client's address")
		assert.Nil(t, adv.PairExposure.GuardAndDestination)
	}
	assert.Nil(t, l.Adversaries[3].Server, "node coalitions have no server section")

	_, err = Analyze(s.r, []Spec{{Name: "x", Kind: KindServer, Servers: []string{"mail"}}}, time.Minute, seededStream(1))
	assert.ErrorContains(t, err, `unknown server role "mail"`)
	_, err = Analyze(s.r, []Spec{{Name: "x", Kind: KindServer}}, time.Minute, seededStream(1))
	assert.ErrorContains(t, err, "name the roles")
}

// TestPushJoinLinksPairs: a push server joined with a coalition holding every guard links a
// sender to its recipient when each of the recipient's notifications follows one of the
// sender's requests, and only that sender's; a client that matched once is not linked, nor a
// recipient two clients match every time.
func TestPushJoinLinksPairs(t *testing.T) {
	s := newSynthetic(8, 6)
	s.play()
	s.r.T.AddServerRole("push")
	notify := func(at time.Duration, c int) {
		s.r.Observe(s.epoch.Add(at), s.r.T.Nodes[0].Addr, lsrpc.Learned{Role: "push", Account: s.r.T.Clients[c].ID, What: "message"})
	}
	for _, at := range []time.Duration{100 * time.Second, 200 * time.Second, 300 * time.Second} {
		s.request(0, 1, at, 700, true)
		notify(at+synthTransit+time.Second, 1)
	}
	s.request(2, 2, 100*time.Second+50*time.Millisecond, 500, false) // near the first notification only
	for _, at := range []time.Duration{150 * time.Second, 250 * time.Second, 350 * time.Second} {
		s.request(4, 3, at, 700, true)
		s.request(5, 5, at+20*time.Millisecond, 500, false) // another client matches every time: no unique match
		notify(at+synthTransit+time.Second, 3)
	}
	specs := []Spec{
		{Name: "push", Kind: KindServer, Servers: []string{"push"}, Fractions: []float64{0, 1}, Draws: 1},
		{Name: "alone", Kind: KindServer, Servers: []string{"push"}},
	}
	l, err := Analyze(s.r, specs, 10*time.Minute, seededStream(1))
	require.NoError(t, err)
	require.Len(t, l.Adversaries, 3)
	require.Equal(t, 2, l.ActivePairs)
	none, all, alone := l.Adversaries[0].Server, l.Adversaries[1].Server, l.Adversaries[2].Server
	assert.Nil(t, none.PairsLinked, "a coalition of no node joins nothing")
	assert.Nil(t, alone.PairsLinked, "the server alone learns no sender")
	require.NotNil(t, all.PairsLinked)
	assert.Equal(t, 1.0, *l.Adversaries[1].Fraction)
	assert.Equal(t, 8.0, l.Adversaries[1].Nodes)
	assert.InDelta(t, 0.5, *all.PairsLinked, 1e-6, "(0, 1) linked, (4, 3) not")
	require.NotNil(t, all.PairsLinkedPrecision)
	assert.Equal(t, 1.0, *all.PairsLinkedPrecision)
}
