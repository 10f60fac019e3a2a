package proc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/cputime"
	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/live/bodies"
)

// actorTimeout bounds how long an admin request waits for the actor's goroutine.
const actorTimeout = 5 * time.Second

// admin is the plain-HTTP endpoint a harness drives a process with:
//
//	GET  /health  200 once the actor serves (a node: once its list puts it in a swarm), else 503
//	GET  /stats   the driver's counters, the link table's (bytes written included), the
//	              actor's own figures and the process's CPU time
//	GET  /links   the link table (FaultState) and its counters
//	POST /fault   replaces the link table with the FaultState in the body
//	GET  /hashes  every message hash in a node's store
//	GET  /events  the events a harness's collector reads (EventLine), as JSON lines streamed
//	              until the reader leaves; with ?leakage=1 also what its leakage recorder
//	              reads (onion hops, direct requests, seed requests, link taps), with
//	              ?leakage=taps the link taps only; an events.dropped line (EventsDropped)
//	              counts the lines dropped for a reader that fell behind
//	POST /halt    the registry: {"node":"name"}, the node's machine is down (its oxend votes
//	              no more), as the simulator tells its registry when a node crashes or hangs
//	POST /unhalt  the registry: {"node":"name"}, the node's machine runs again (a restart, a
//	              hang that ended): its oxend votes again
//	POST /register  the registry: {"node":"name=ip:port"}, a node joining the running
//	              network, registered as the roster's are (--node)
//
// Whatever reads the actor's state runs on the actor's goroutine (live.Driver.Invoke).
type admin struct {
	log    *slog.Logger
	drv    *live.Driver
	addr   actor.Addr
	name   string
	faults *Faults
	// ready, stats and hashes run on the actor's goroutine; hashes is nil for the registry.
	ready  func() bool
	stats  func() any
	hashes func() ([]string, error)
	events *eventHub
	// halt marks a node's machine down (or up again, !down) on the actor's goroutine; nil for
	// a node.
	halt func(node string, down bool) error
	// register registers a node joining the running network on the actor's goroutine; nil
	// for a node.
	register func(m Member) error
}

// newAdmin makes the driver a process's one actor, name at addr, runs on, with the link table
// POST /fault sets and the events GET /events streams, and the admin that serves them. The
// caller sets what the actor answers (ready, stats, and hashes or halt) and closes a.drv.
func newAdmin(log *slog.Logger, addr actor.Addr, name string) *admin {
	faults := NewFaults()
	drv := live.New(live.Config{Codec: bodies.Codec(), WrapConn: faults.Wrap})
	drv.AddSink(eventLogger(log))
	events := newEventHub(log)
	drv.AddSink(events.sink)
	faults.OnTap(func(t LinkTapped) { events.sink(time.Now(), addr, t) })
	return &admin{log: log, drv: drv, addr: addr, name: name, faults: faults, events: events}
}

// onActor runs f on the actor's goroutine and waits for it.
func (a *admin) onActor(f func()) error {
	done := make(chan struct{})
	if err := a.drv.Invoke(a.addr, func() { f(); close(done) }); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(actorTimeout):
		return fmt.Errorf("%s did not answer within %v", a.name, actorTimeout)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *admin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		var ready bool
		if err := a.onActor(func() { ready = a.ready() }); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"name": a.name, "ready": false, "error": err.Error()})
			return
		}
		status := http.StatusOK
		if !ready {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"name": a.name, "ready": ready})
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		var own any
		if err := a.onActor(func() { own = a.stats() }); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error()})
			return
		}
		st := a.drv.Stats()
		writeJSON(w, http.StatusOK, map[string]any{
			"name": a.name, "addr": a.addr.String(),
			"driver": map[string]uint64{"calls": st.Calls, "responses": st.Responses, "timed_out": st.TimedOut,
				"unreachable": st.Unreachable, "handled": st.Handled},
			"links": a.faults.Stats(), "actor": own,
			// The process's CPU time, user and system: what docker mode reports per node.
			"cpu_seconds": cputime.Used().Seconds(),
		})
	})
	mux.HandleFunc("GET /links", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": a.faults.State(), "counts": a.faults.Stats()})
	})
	mux.HandleFunc("POST /fault", func(w http.ResponseWriter, r *http.Request) {
		var s FaultState
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body: " + err.Error() + `; send {"partition":["ip",...] or ["*"],"latency_ms":n,"peer_latency_ms":{"ip":n,...},"links":{...},"taps":true}`})
			return
		}
		if err := a.faults.Set(s); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		a.log.Info("fault switch", "partition", s.Partition, "latency_ms", s.LatencyMS, "peers", len(s.PeerLatencyMS))
		writeJSON(w, http.StatusOK, a.faults.State())
	})
	if a.hashes != nil {
		mux.HandleFunc("GET /hashes", func(w http.ResponseWriter, _ *http.Request) {
			var hs []string
			var err error
			if e := a.onActor(func() { hs, err = a.hashes() }); e != nil {
				err = e
			}
			if err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"hashes": hs})
		})
	}
	if a.events != nil {
		mux.HandleFunc("GET /events", a.events.serve)
	}
	if a.halt != nil {
		mux.HandleFunc("POST /halt", a.nodeSwitch("halted", "name", func(node string) error { return a.halt(node, true) }))
		mux.HandleFunc("POST /unhalt", a.nodeSwitch("unhalted", "name", func(node string) error { return a.halt(node, false) }))
	}
	if a.register != nil {
		mux.HandleFunc("POST /register", a.nodeSwitch("registered", "name=ip:port", func(node string) error {
			m, err := ParseMember(node)
			if err != nil {
				return err
			}
			return a.register(m)
		}))
	}
	return mux
}

// nodeSwitch serves a POST of {"node":"<example>"} that runs f on the actor's goroutine and
// answers {what: node}.
func (a *admin) nodeSwitch(what, example string, f func(node string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Node string `json:"node"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Node == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": `body: send {"node":"` + example + `"}`})
			return
		}
		var err error
		if e := a.onActor(func() { err = f(body.Node) }); e != nil {
			err = e
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		a.log.Info("node "+what, "node", body.Node)
		writeJSON(w, http.StatusOK, map[string]any{what: body.Node})
	}
}

// serveAdmin listens on addr (empty: no admin endpoint) and serves until ctx ends.
func (a *admin) serve(ctx context.Context, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin endpoint %s: %w", addr, err)
	}
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("admin endpoint stopped", "err", err)
		}
	}()
	a.log.Info("admin endpoint", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
