package node

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// testNet is a few swarms of nodes on the fake driver, all with the same list.
type testNet struct {
	drv   *actortest.Driver
	nodes []*Node
	keys  []identity.Keys
	list  *registry.List
}

// newTestNet builds len(swarms) swarms of perSwarm nodes each; node i listens on addrN(i).
func newTestNet(t testing.TB, swarms []swarm.ID, perSwarm int, cfg Config) *testNet {
	t.Helper()
	tn := &testNet{drv: actortest.New(10 * time.Millisecond), list: &registry.List{}}
	for s, id := range swarms {
		for j := range perSwarm {
			i := s*perSwarm + j
			k := identity.Derive(1, fmt.Sprintf("node-%d", i))
			tn.keys = append(tn.keys, k)
			tn.list.Nodes = append(tn.list.Nodes, Peer{Ed25519: k.Ed25519Public, X25519: k.X25519Public, Addr: addrN(i), Swarm: id})
		}
	}
	tn.list.Height = 1
	for i, k := range tn.keys {
		c := cfg
		c.Reachability.Disabled = true
		n, err := New(c, k, memory.New(memory.Config{}))
		require.NoError(t, err)
		tn.nodes = append(tn.nodes, n)
		tn.drv.Add(addrN(i), n)
		n.SetList(tn.list)
	}
	return tn
}

// setList gives every live node a new list.
func (tn *testNet) setList(l *registry.List) {
	tn.list = l
	for i, n := range tn.nodes {
		if e := tn.drv.Actor(addrN(i)); e != nil {
			e.Do(func() { n.SetList(l) })
		}
	}
}

// nodeOf finds the index of the node with key ed.
func (tn *testNet) nodeOf(ed [32]byte) int {
	for i, k := range tn.keys {
		if k.Ed25519Public == ed {
			return i
		}
	}
	return -1
}

// membersOf lists the node indexes of swarm id in tn.list.
func (tn *testNet) membersOf(id swarm.ID) []int {
	var out []int
	for _, p := range tn.list.Nodes {
		if p.Swarm == id {
			out = append(out, tn.nodeOf(p.Ed25519))
		}
	}
	return out
}

var clientAddr = addrN(9000)

// rpc posts body to node i's /storage_rpc/v1 from the test client.
func (tn *testNet) rpc(t testing.TB, i int, body []byte) actor.Response {
	t.Helper()
	resp, err := tn.drv.Call(clientAddr, addrN(i), actorReq(MethodStorageRPC, body), time.Minute)
	require.NoError(t, err)
	return resp
}

func bodyOf(r actor.Response) []byte {
	b, _ := r.Body.([]byte)
	return b
}

// swarmResults decodes the 200 answer to a client's recursive request and returns its members'
// results, requiring one from every member of the swarm.
func swarmResults[T any](t testing.TB, resp actor.Response, decode func([]byte) (*storagerpc.SwarmResponse[T], error)) []T {
	t.Helper()
	require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
	res, err := decode(bodyOf(resp))
	require.NoError(t, err)
	require.Len(t, res.Swarm, perSwarm)
	out := make([]T, len(res.Swarm))
	for i, e := range res.Swarm {
		require.Nil(t, e.Failed, "member %s", e.Node)
		out[i] = e.Result
	}
	return out
}

// account is a user whose account lives in a given swarm.
type account struct {
	keys   identity.Keys
	pubkey storagerpc.Pubkey
	signer *storagerpc.Signer
}

// accountIn derives users named name-0, name-1, ... until one belongs to swarm id under
// list l.
func accountIn(t testing.TB, l *registry.List, id swarm.ID, suite cryptomode.Suite, name string) account {
	t.Helper()
	v := newView(l)
	for i := range 100000 {
		k := identity.Derive(7, fmt.Sprintf("%s-%d", name, i))
		pk := storagerpc.Pubkey{Prefix: storagerpc.PrefixSessionID, Key: k.X25519Public}
		if s, _ := v.ownerSwarm(swarm.Space(pk.Key)); s == id {
			return account{keys: k, pubkey: pk, signer: &storagerpc.Signer{Suite: suite, Account: pk, Key: k.Ed25519Private}}
		}
	}
	t.Fatalf("no account found in swarm %d", id)
	return account{}
}

var realSuite = cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)

// addrN is the address of node i; the tests' other actors take numbers from 7000 up.
func addrN(i int) actor.Addr {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 22021)
}

// homeAccount is the usual set-up of a storage test: swarm testSwarms[k] as the home swarm, its
// members, and an account named name (signing with realSuite) that the swarm owns.
func (tn *testNet) homeAccount(t testing.TB, k int, name string) (home swarm.ID, members []int, acct account) {
	t.Helper()
	home = testSwarms[k]
	return home, tn.membersOf(home), accountIn(t, tn.list, home, realSuite, name)
}
