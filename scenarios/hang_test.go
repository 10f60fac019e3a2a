package scenarios

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/sim"
)

// pinger is an actor that pings nodes for a test.
type pinger struct{ env actor.Env }

func (p *pinger) Start(env actor.Env)                               { p.env = env }
func (p *pinger) Handle(actor.Addr, actor.Request, actor.Responder) {}

// pingTimeout is how long a ping waits for its answer.
const pingTimeout = 5 * time.Second

// newPinger spawns a pinger on a host of its own in w and returns pingAll: the outcomes of
// reachability tests of every node made at once (nil: answered), run to their end (the engine
// runs pingTimeout and a second on).
func newPinger(t *testing.T, w *world) func() []error {
	h, err := w.eng.AddHost(sim.HostConfig{Name: "pinger", Link: simlink.Host{Region: "us-east-1", Profile: netem.DataCentre}, Cores: 1})
	require.NoError(t, err)
	p := &pinger{}
	_, err = w.eng.Spawn(h, 1, "pinger", p)
	require.NoError(t, err)
	return func() []error {
		got := make([]error, len(w.nodes))
		require.NoError(t, w.eng.Invoke(p.env.Self(), func() {
			for i, wn := range w.nodes {
				got[i] = errors.New("no answer")
				p.env.Call(wn.addr, actor.Request{Method: node.MethodPing}, pingTimeout, func(_ actor.Response, err error) { got[i] = err })
			}
		}))
		w.eng.RunFor(pingTimeout + time.Second)
		return got
	}
}

// halted reports whether the registry counts node i's machine as down.
func halted(t *testing.T, w *world, i int) bool {
	r, ok := w.reg.Node(w.nodes[i].n.Ed25519())
	require.True(t, ok)
	return r.Halted
}

// TestHangFault: a hang freezes its nodes for its duration: requests to them time out at their
// callers and the registry counts them down; afterwards they answer again.
func TestHangFault(t *testing.T) {
	hang := Fault{At: time.Minute, For: 2 * time.Minute, Kind: "hang", Count: 3}
	w := faultWorld(t, func(s *Scenario) { s.Faults = []Fault{hang} })
	ping := newPinger(t, w)
	runTo(w, hang.At-2*pingTimeout)
	for i, err := range ping() {
		require.NoError(t, err, "node %d answers before the hang", i)
		require.False(t, w.nodes[i].hung)
	}

	runTo(w, hang.At)
	var hung []int
	for i, wn := range w.nodes {
		assert.Equal(t, wn.hung, w.eng.Paused(wn.addr), "%s: the world and the engine agree", wn.name)
		if wn.hung {
			hung = append(hung, i)
		}
	}
	require.Len(t, hung, hang.Count, "the fault hangs its nodes at its time")
	for i, err := range ping() {
		if w.nodes[i].hung {
			assert.ErrorIs(t, err, actor.ErrTimeout, "a hung node answers nothing: its caller times out")
			assert.True(t, w.eng.Alive(w.nodes[i].addr), "a hung node is not dead")
			assert.True(t, halted(t, w, i), "its oxend votes no more")
		} else {
			assert.NoError(t, err, "the others answer")
			assert.False(t, halted(t, w, i))
		}
	}

	runTo(w, hang.At+hang.For+time.Second)
	errs := ping()
	for _, i := range hung {
		assert.False(t, w.nodes[i].hung)
		assert.False(t, w.eng.Paused(w.nodes[i].addr), "the hang ends after its for")
		assert.NoError(t, errs[i], "a resumed node answers again")
		assert.False(t, halted(t, w, i), "and its oxend votes again")
	}
}

// TestCrashRestart: a crash with for restarts its nodes after it, with the same address and
// identity and the messages they had stored; one without for leaves them down.
func TestCrashRestart(t *testing.T) {
	crash := Fault{At: time.Minute, For: time.Minute, Kind: "crash", Count: 2}
	w := faultWorld(t, func(s *Scenario) { s.Faults = []Fault{crash} })
	ping := newPinger(t, w)
	at := runTo(w, crash.At-time.Second)
	msg := store.Message{Hash: "kept-on-disk", Timestamp: at.UnixMilli(), Expiry: at.Add(time.Hour).UnixMilli(), Data: []byte("m")}
	before := make([]*node.Node, len(w.nodes))
	for i, wn := range w.nodes {
		_, _, err := wn.n.Store().Store(msg)
		require.NoError(t, err)
		before[i] = wn.n
	}

	runTo(w, crash.At)
	require.Equal(t, crash.Count, crashed(t, w))
	var down []int
	errs := ping()
	for i, wn := range w.nodes {
		if !wn.alive {
			down = append(down, i)
			assert.True(t, halted(t, w, i))
			assert.ErrorIs(t, errs[i], actor.ErrUnreachable, "nothing listens at a crashed node's address")
		}
	}

	restartAt := runTo(w, crash.At+crash.For)
	assert.Zero(t, crashed(t, w), "the crashed nodes are back after the fault's for")
	runTo(w, crash.At+crash.For+time.Minute) // time for the registry to see its proof
	errs = ping()
	for _, i := range down {
		wn := w.nodes[i]
		assert.NotSame(t, before[i], wn.n, "a new process: the memory is lost")
		assert.Equal(t, before[i].Ed25519(), wn.n.Ed25519(), "the same identity")
		_, ok, err := wn.n.Store().Get(msg.Hash)
		require.NoError(t, err)
		assert.True(t, ok, "the stored messages survive the crash")
		assert.NoError(t, errs[i], "the same address answers again")
		r, _ := w.reg.Node(wn.n.Ed25519())
		assert.False(t, r.Halted, "its oxend votes again")
		assert.False(t, r.LastProof.Before(restartAt), "its uptime proofs resume")
	}
}

// TestLiveModeHangsAndRestarts runs a small world in live mode (make test-live) with two nodes
// hung for 8 s and one crashed and restarted after 8 s: a hung node observes nothing while it
// is frozen, and at the end every node runs again and the registry counts all of them up.
func TestLiveModeHangsAndRestarts(t *testing.T) {
	sc := smallLiveWorld(t, 4)
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Warmup, sc.Duration, sc.Drain = 10*time.Second, 20*time.Second, 3*time.Second
	sc.Workload.MessagesPerHour = 600
	crash := Fault{Kind: "crash", At: 3 * time.Second, For: 8 * time.Second, Count: 1}
	hang := Fault{Kind: "hang", At: 4 * time.Second, For: 8 * time.Second, Count: 2}
	sc.Faults = []Fault{crash, hang}
	var mu sync.Mutex
	seen := map[actor.Addr][]time.Time{}
	sink := func(at time.Time, from actor.Addr, _ actor.Event) {
		mu.Lock()
		seen[from] = append(seen[from], at)
		mu.Unlock()
	}
	w, s, err := run(sc, RunOptions{ReplicationSample: 10 * time.Second, Sink: sink})
	require.NoError(t, err)
	assert.Positive(t, s.Messages.Delivered, "messages arrived")
	from, to := w.epoch.Add(sc.Warmup+hang.At+time.Second), w.epoch.Add(sc.Warmup+hang.At+hang.For-time.Second)
	hung := 0
	mu.Lock()
	defer mu.Unlock()
	for _, wn := range w.nodes {
		assert.True(t, wn.alive, "%s runs at the end", wn.name)
		assert.False(t, wn.hung, "%s is not hung at the end", wn.name)
		r, ok := w.reg.Node(wn.n.Ed25519())
		require.True(t, ok)
		assert.False(t, r.Halted, "the registry counts %s up", wn.name)
		if wn.hangs == 0 {
			continue
		}
		hung++
		assert.NotEmpty(t, seen[wn.addr], "%s observes events when it runs", wn.name)
		for _, at := range seen[wn.addr] {
			assert.False(t, at.After(from) && at.Before(to), "%s observed something at %v while hung", wn.name, at)
		}
	}
	assert.Equal(t, hang.Count, hung)
}
