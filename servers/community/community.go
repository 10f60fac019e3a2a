// Package community is a community server (session-pysogs, "SOGS v3") as an actor behind
// lsrpc: rooms, messages that the rooms' other members post (simulated on the server, at a rate
// per room), and the batched poll clients send it through onion requests. It checks every
// request's blinded signature and observes, for measurement, whom each request named
// (lsrpc.Learned, What "request").
//
// The members who post are not simulated clients: each room has Members blinded IDs the
// server draws at start, one of which posts each message, at exponential intervals (a Poisson
// process of MessagesPerHour), with a body of log-normal size padded as the apps pad content.
// Simulated clients only read: they are the background traffic of people in communities.
//
// Not modelled: nonce reuse (session-pysogs refuses a nonce it has seen from the same key),
// room permissions, uploads, reactions beyond their empty lists, and the blinded inbox.
package community

import (
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/sogs"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// Role is the lsrpc role of community servers.
const Role = "community"

// Config is one community server.
type Config struct {
	Suite cryptomode.Suite
	Keys  identity.Keys
	// Rooms are the rooms' tokens.
	Rooms []string
	// MessagesPerHour is each room's posting rate (all its simulated members together).
	MessagesPerHour float64
	// Members is how many blinded IDs post in each room (default 50).
	Members int
	// SizeMedian and SizeSigma: a post's body size, log-normal, clipped to [1, 4000] bytes
	// (defaults 120 and 1, as 1:1 messages).
	SizeMedian int
	SizeSigma  float64
	// Keep is how many of each room's newest messages the server keeps to serve (default
	// 2 x sogs.MessagesLimit); older ones are dropped, as a client behind by more than a
	// poll's limit catches up in several polls anyway.
	Keep int
}

// Stats are the server's counters.
type Stats struct {
	Requests uint64 // requests that opened
	Polls    uint64 // batches answered 200
	Refused  uint64 // requests refused (bad auth, bad batch, unknown endpoint)
	Posted   uint64 // messages the simulated members posted
	Served   uint64 // messages returned in answers
}

type room struct {
	token   string
	seqno   int64
	members []string // blinded IDs, hex
	seqnos  []int64  // kept messages' seqnos, ascending
	msgs    [][]byte // their JSON
}

// Server is the community server actor.
type Server struct {
	cfg    Config
	srv    lsrpc.Server
	env    actor.Env
	rooms  []*room
	byName map[string]*room
	nextID int64
	stats  Stats
}

// New makes a community server.
func New(cfg Config) *Server {
	if cfg.Members <= 0 {
		cfg.Members = 50
	}
	if cfg.SizeMedian <= 0 {
		cfg.SizeMedian = 120
	}
	if cfg.SizeSigma <= 0 {
		cfg.SizeSigma = 1
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 2 * sogs.MessagesLimit
	}
	s := &Server{cfg: cfg, byName: map[string]*room{},
		srv: lsrpc.Server{Role: Role, Suite: cfg.Suite, Keys: cryptomode.X25519KeyPair{Secret: cfg.Keys.X25519Secret, Public: cfg.Keys.X25519Public}}}
	for _, t := range cfg.Rooms {
		r := &room{token: t}
		s.rooms = append(s.rooms, r)
		s.byName[t] = r
	}
	return s
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats { return s.stats }

// Start implements actor.Actor: the rooms' members start posting.
func (s *Server) Start(env actor.Env) {
	s.env = env
	r := env.Rand()
	for _, rm := range s.rooms {
		for range s.cfg.Members {
			var id identity.ID
			id[0] = byte(identity.PrefixBlinded15)
			for i := 1; i < len(id); i++ {
				id[i] = byte(r.Uint32())
			}
			rm.members = append(rm.members, id.String())
		}
		s.schedulePost(rm)
	}
}

func (s *Server) schedulePost(rm *room) {
	if s.cfg.MessagesPerHour <= 0 {
		return
	}
	gap := time.Duration(s.env.Rand().ExpFloat64() / s.cfg.MessagesPerHour * float64(time.Hour))
	s.env.After(gap, func() {
		s.post(rm)
		s.schedulePost(rm)
	})
}

// post adds one message from a random member: its data is a padded Content of a drawn size.
func (s *Server) post(rm *room) {
	r := s.env.Rand()
	n := int(clippedLogNormal(float64(s.cfg.SizeMedian), s.cfg.SizeSigma, 1, 4000, r))
	data := make([]byte, message.Libsession.PaddedLen(n))
	sig := make([]byte, 64)
	_, _ = actor.RandReader(r).Read(data)
	_, _ = actor.RandReader(r).Read(sig)
	s.nextID++
	rm.seqno++
	posted := float64(s.env.Now().UnixMilli()) / 1000
	from := rm.members[r.IntN(len(rm.members))]
	rm.seqnos = append(rm.seqnos, rm.seqno)
	rm.msgs = append(rm.msgs, sogs.Message(s.nextID, rm.seqno, from, posted, data, sig))
	if drop := len(rm.msgs) - s.cfg.Keep; drop > 0 {
		rm.seqnos = append(rm.seqnos[:0], rm.seqnos[drop:]...)
		rm.msgs = append(rm.msgs[:0], rm.msgs[drop:]...)
	}
	s.stats.Posted++
}

func clippedLogNormal(median, sigma, lo, hi float64, r *rand.Rand) float64 {
	return min(hi, max(lo, median*math.Exp(sigma*r.NormFloat64())))
}

// Handle implements actor.Actor: every request is a proxied v4 onion request.
func (s *Server) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	s.srv.Serve(s.env, from, req, r, s.handle)
}

func (s *Server) handle(_ actor.Addr, req onion.V4Request, answer func(onion.V4Response)) {
	s.stats.Requests++
	resp := s.answer(req)
	if resp.Code != http.StatusOK {
		s.stats.Refused++
	}
	answer(resp)
}

func (s *Server) answer(req onion.V4Request) onion.V4Response {
	if req.Method != sogs.BatchMethod || req.Endpoint != sogs.BatchEndpoint {
		return lsrpc.Error(http.StatusNotFound, "Not found")
	}
	auth, cost, err := sogs.Verify(s.cfg.Suite, s.cfg.Keys.X25519Public, req.Method, req.Endpoint, req.Headers, req.Body)
	s.env.Work(cost)
	if err != nil {
		return lsrpc.Error(http.StatusUnauthorized, err.Error())
	}
	if skew := s.env.Now().Sub(time.Unix(auth.Timestamp, 0)); skew > sogs.MaxSkew || skew < -sogs.MaxSkew {
		return lsrpc.Error(http.StatusTooEarly, "Invalid authentication: X-SOGS-Timestamp is too far from current time")
	}
	s.env.Observe(lsrpc.Learned{Role: Role, Account: auth.ID, What: "request"})
	subs, err := sogs.ParseBatch(req.Body)
	if err != nil {
		return lsrpc.Error(http.StatusBadRequest, err.Error())
	}
	out := make([]sogs.SubResponse, len(subs))
	json := map[string]string{"content-type": "application/json"}
	for i, sub := range subs {
		out[i] = sogs.SubResponse{Code: http.StatusOK, Headers: json}
		if sub.Kind == "capabilities" {
			out[i].Body = sogs.Capabilities()
			continue
		}
		rm := s.byName[sub.Room]
		if rm == nil {
			out[i] = sogs.SubResponse{Code: http.StatusNotFound, Headers: map[string]string{}, Body: []byte("null")}
			continue
		}
		if sub.Kind == "pollInfo" {
			out[i].Body = sogs.PollInfo(rm.token, len(rm.members), 1)
			continue
		}
		at := sort.Search(len(rm.seqnos), func(j int) bool { return rm.seqnos[j] > sub.Value })
		end := min(len(rm.msgs), at+sogs.MessagesLimit)
		out[i].Body = sogs.Messages(rm.msgs[at:end])
		s.stats.Served += uint64(end - at)
	}
	s.stats.Polls++
	body := sogs.BatchResponse(out)
	// Writing the JSON is charged as hashing its bytes: a pass over them, as the messages'
	// JSON is kept ready (pysogs reads rows from SQLite and serialises them, a cost not
	// measured here).
	s.env.Work(cryptomode.PerKiB(s.cfg.Suite.Costs().HashPerKiB, len(body)))
	return lsrpc.JSON(http.StatusOK, body)
}
