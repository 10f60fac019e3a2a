package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/registry"
)

// fakeRegistry records what nodes send their oxend and serves a fixed list.
type fakeRegistry struct {
	list    *registry.List
	reports []registry.Report
	proofs  []time.Time
	pulls   int
	env     actor.Env
}

func (f *fakeRegistry) Start(env actor.Env) { f.env = env }
func (f *fakeRegistry) Handle(_ actor.Addr, req actor.Request, r actor.Responder) {
	switch req.Method {
	case registry.MethodReport:
		f.reports = append(f.reports, req.Body.(registry.Report))
	case registry.MethodProof:
		f.proofs = append(f.proofs, f.env.Now())
	case registry.MethodGetList:
		f.pulls++
		if lr, ok := req.Body.(registry.ListRequest); ok && lr.Known != ([32]byte{}) && lr.Known == f.list.BlockHash {
			r.Respond(actor.Response{Status: 304})
			return
		}
		r.Respond(actor.Response{Status: 200, Body: f.list})
		return
	}
	r.Respond(actor.Response{Status: 200})
}

func TestReachabilityTestsAndReports(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	regAddr := addrN(7000)
	reg := &fakeRegistry{list: tn.list}
	tn.drv.Add(regAddr, reg)
	// One node with testing on and a registry, among nodes that do not test.
	tester := 0
	cfg := Config{Registry: regAddr, UptimeProofInterval: time.Minute}
	n, err := New(cfg, tn.keys[tester], memory.New(memory.Config{}))
	require.NoError(t, err)
	tn.drv.Crash(addrN(tester))
	tn.nodes[tester] = n
	tn.drv.Add(addrN(tester), n)
	dead := 5
	tn.drv.Crash(addrN(dead))

	tn.drv.RunFor(10 * time.Minute)

	var deadTests []ReachTested
	tested := map[[32]byte]bool{}
	for _, ev := range tn.drv.Events {
		if rt, ok := ev.Event.(ReachTested); ok && ev.From == addrN(tester) {
			tested[rt.Target] = true
			if rt.Target == tn.keys[dead].Ed25519Public {
				deadTests = append(deadTests, rt)
				assert.False(t, rt.Passed)
			} else {
				assert.True(t, rt.Passed, "live nodes pass")
			}
		}
	}
	assert.False(t, tested[tn.keys[tester].Ed25519Public], "never tests itself")
	assert.GreaterOrEqual(t, len(tested), len(tn.keys)-2, "every other node tested within 10 minutes")
	require.GreaterOrEqual(t, len(deadTests), 3, "the dead node is re-tested")
	for i, rt := range deadTests {
		assert.Equal(t, i, rt.PreviousFailures, "failures count up")
	}
	fails := 0
	for _, rep := range reg.reports {
		assert.Equal(t, tn.keys[tester].Ed25519Public, rep.Tester)
		if rep.Tested == tn.keys[dead].Ed25519Public {
			assert.False(t, rep.Passed)
			fails++
		}
	}
	assert.Equal(t, len(deadTests), fails, "every test is reported")
	assert.Len(t, reg.proofs, 10, "an uptime proof at start and every minute (the one at 10 min is still on its way)")
	assert.Equal(t, 20, reg.pulls, "list polled at start and every 30 s")
}

func TestListPushOnlyFromRegistry(t *testing.T) {
	tn := newTestNet(t, testSwarms, 1, Config{})
	n, err := New(Config{Registry: addrN(7000), ListPoll: -1, UptimeProofInterval: -1}, tn.keys[0], memory.New(memory.Config{}))
	require.NoError(t, err)
	tn.drv.Crash(addrN(0))
	tn.drv.Add(addrN(0), n)
	l := listOf(9, nil)
	resp, err := tn.drv.Call(addrN(1), addrN(0), actor.Request{Method: MethodList, Body: l}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 403, resp.Status)
	resp, err = tn.drv.Call(addrN(7000), addrN(0), actor.Request{Method: MethodList, Body: tn.list}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, testSwarms[0], n.Swarm())
}
