package scenarios

import (
	"errors"
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
