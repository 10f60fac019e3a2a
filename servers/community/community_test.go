package community

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/sogs"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

var (
	serverAddr = netip.MustParseAddrPort("192.0.2.10:443")
	hopAddr    = netip.MustParseAddrPort("100.0.0.1:22021")
)

// rig is a community server on a test driver and a client's keys, with what a request to the
// server needs: the server's key, a one-hop path whose hop the test plays.
type rig struct {
	t     *testing.T
	drv   *actortest.Driver
	suite cryptomode.Suite
	srv   *Server
	keys  identity.Keys
	hop   identity.Keys
	dest  onion.Server
}

func newRig(t *testing.T, mode cryptomode.Mode, perHour float64) *rig {
	suite := cryptomode.New(mode, cryptomode.DefaultCosts)
	skeys := identity.Derive(1, "community-0")
	r := &rig{t: t, drv: actortest.New(10 * time.Millisecond), suite: suite, keys: identity.Derive(1, "alice"), hop: identity.Derive(1, "node-0"),
		dest: onion.Server{Host: "community-0.example", X25519: skeys.X25519Public}}
	r.srv = New(Config{Suite: suite, Keys: skeys, Rooms: []string{"lobby", "dev"}, MessagesPerHour: perHour})
	r.drv.Add(serverAddr, r.srv)
	return r
}

// send proxies req to the server as the path's last hop would and opens the answer.
func (r *rig) send(req onion.V4Request) (actor.Response, onion.V4Response, error) {
	p := onion.Path{Hops: []onion.Node{{Ed25519: r.hop.Ed25519Public, X25519: r.hop.X25519Public}}}
	built, err := onion.BuildToServer(r.suite, actor.RandReader(r.drv.Env(hopAddr).Rand()), p, r.dest, req)
	require.NoError(r.t, err)
	in, err := onion.ParseGuardRequest(built.Body)
	require.NoError(r.t, err)
	peeled, err := onion.Peel(r.suite, cryptomode.X25519KeyPair{Secret: r.hop.X25519Secret, Public: r.hop.X25519Public}, in)
	require.NoError(r.t, err)
	require.Equal(r.t, onion.Proxy, peeled.Routing.Action)
	resp, err := r.drv.Call(hopAddr, serverAddr, actor.Request{Method: "POST", Body: peeled.Payload, Size: len(peeled.Payload)}, 25*time.Second)
	require.NoError(r.t, err)
	if resp.Status != http.StatusOK {
		return resp, onion.V4Response{}, nil
	}
	v4, _, err := onion.OpenV4Response(r.suite.Costs(), built.Reply, resp.Body.([]byte))
	return resp, v4, err
}

// poll is a signed poll of rooms at the driver's time.
func (r *rig) poll(rooms []sogs.RoomCursor) onion.V4Request {
	b, _ := sogs.Blind15(r.suite.Costs(), r.keys.Seed[:], r.dest.X25519)
	body := sogs.PollRequest(rooms)
	h, _ := sogs.Sign(r.suite, b, r.dest.X25519, [16]byte{1, 2, 3}, r.drv.Now().Unix(), sogs.BatchMethod, sogs.BatchEndpoint, body)
	return onion.V4Request{Method: sogs.BatchMethod, Endpoint: sogs.BatchEndpoint, Headers: h, Body: body}
}

func TestPollReturnsPostedMessages(t *testing.T) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRig(t, mode, 600)
			r.drv.RunFor(10 * time.Minute)
			posted := r.srv.Stats().Posted
			require.Greater(t, posted, uint64(100), "two rooms at 600 an hour for 10 minutes")

			rooms := []sogs.RoomCursor{{Token: "lobby"}, {Token: "dev"}}
			_, v4, err := r.send(r.poll(rooms))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, v4.Code, string(v4.Body))
			got, err := sogs.ParsePollResponse(rooms, v4.Body)
			require.NoError(t, err)
			total := 0
			for i, room := range got.Rooms {
				assert.Equal(t, http.StatusOK, room.Code)
				assert.LessOrEqual(t, room.New, sogs.MessagesLimit)
				assert.Positive(t, room.Seqno)
				rooms[i].Seqno = room.Seqno
				total += room.New
			}
			assert.Equal(t, int(r.srv.Stats().Served), total)

			// A room with more than a poll's limit is read in further polls; then, caught up,
			// a poll brings nothing new.
			polls := 1
			for {
				_, v4, err = r.send(r.poll(rooms))
				require.NoError(t, err)
				polls++
				again, err := sogs.ParsePollResponse(rooms, v4.Body)
				require.NoError(t, err)
				n := 0
				for i, room := range again.Rooms {
					rooms[i].Seqno = room.Seqno
					n += room.New
				}
				total += n
				if n == 0 {
					break
				}
				require.Less(t, polls, 5)
			}
			assert.Equal(t, int(posted), total, "every posted message read once")

			learned := actortest.EventsOf[lsrpc.Learned](r.drv.Events)
			require.Len(t, learned, polls)
			b, _ := sogs.Blind15(r.suite.Costs(), r.keys.Seed[:], r.dest.X25519)
			assert.Equal(t, lsrpc.Learned{Role: Role, Account: b.ID, What: "request"}, learned[0])
			served := actortest.EventsOf[lsrpc.Served](r.drv.Events)
			require.Len(t, served, polls)
			assert.Equal(t, hopAddr.Addr(), served[0].From)
			assert.Equal(t, "/batch", served[0].Endpoint)
		})
	}
}

// TestBadInputRefusedAndServing: each bad request gets its code, and the server keeps serving.
func TestBadInputRefusedAndServing(t *testing.T) {
	r := newRig(t, cryptomode.Real, 60)
	rooms := []sogs.RoomCursor{{Token: "lobby"}}
	good := r.poll(rooms)
	tamper := func(f func(*onion.V4Request)) onion.V4Request {
		req := good
		req.Headers = map[string]string{}
		for k, v := range good.Headers {
			req.Headers[k] = v
		}
		f(&req)
		return req
	}
	cases := []struct {
		name string
		req  onion.V4Request
		code int
	}{
		{"unknown endpoint", tamper(func(q *onion.V4Request) { q.Endpoint = "/files" }), http.StatusNotFound},
		{"no signature", tamper(func(q *onion.V4Request) { delete(q.Headers, sogs.HeaderSignature) }), http.StatusUnauthorized},
		{"unblinded key", tamper(func(q *onion.V4Request) { q.Headers[sogs.HeaderPubkey] = "05" + q.Headers[sogs.HeaderPubkey][2:] }), http.StatusUnauthorized},
		{"body changed after signing", tamper(func(q *onion.V4Request) { q.Body = sogs.PollRequest([]sogs.RoomCursor{{Token: "dev"}}) }), http.StatusUnauthorized},
		{"not a batch", func() onion.V4Request {
			body := []byte(`{"method":"GET"}`)
			b, _ := sogs.Blind15(r.suite.Costs(), r.keys.Seed[:], r.dest.X25519)
			h, _ := sogs.Sign(r.suite, b, r.dest.X25519, [16]byte{9}, r.drv.Now().Unix(), sogs.BatchMethod, sogs.BatchEndpoint, body)
			return onion.V4Request{Method: sogs.BatchMethod, Endpoint: sogs.BatchEndpoint, Headers: h, Body: body}
		}(), http.StatusBadRequest},
		{"clock a day off", func() onion.V4Request {
			body := sogs.PollRequest(rooms)
			b, _ := sogs.Blind15(r.suite.Costs(), r.keys.Seed[:], r.dest.X25519)
			h, _ := sogs.Sign(r.suite, b, r.dest.X25519, [16]byte{9}, r.drv.Now().Add(-25*time.Hour).Unix(), sogs.BatchMethod, sogs.BatchEndpoint, body)
			return onion.V4Request{Method: sogs.BatchMethod, Endpoint: sogs.BatchEndpoint, Headers: h, Body: body}
		}(), http.StatusTooEarly},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, v4, err := r.send(tc.req)
			require.NoError(t, err)
			assert.Equal(t, tc.code, v4.Code, string(v4.Body))
		})
	}
	// A layer that does not open: 400 in plain text, not sealed.
	resp, err := r.drv.Call(hopAddr, serverAddr, actor.Request{Method: "POST", Body: []byte("garbage"), Size: 7}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.Status)

	_, v4, err := r.send(good)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, v4.Code, "still serving after the refusals")
	assert.Equal(t, uint64(len(cases)), r.srv.Stats().Refused)
}
