package leakage

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/results"
)

// KindServer is an adversary that runs servers of the world (Spec.Servers names their roles):
// the file server, the push server, community servers.
const KindServer = "server"

// ServerRoles are the roles a server adversary may name, in the view table's order.
var ServerRoles = []string{"file", "push", "community"}

// serverSees is what each server role sees of the requests it serves and the accounts it
// serves them for. None sees a client's address: requests reach it from the last hop of the
// client's path.
var serverSees = map[string][]string{
	"file":      {"proxying node's address", "time", "request and response sizes", "endpoint (upload or download)"},
	"push":      {"proxying node's address", "time", "sizes", "account and device of each subscription", "which accounts get messages when"},
	"community": {"proxying node's address", "time", "sizes", "blinded ID of each signed request (linkable to a known Session ID)", "rooms polled"},
}

// serverCounter is what one role saw.
type serverCounter struct {
	requests, bytesIn, bytesOut, notifications uint64
	proxies, accounts, devices                 map[int32]bool
}

func newServerCounter() *serverCounter {
	return &serverCounter{proxies: map[int32]bool{}, accounts: map[int32]bool{}, devices: map[int32]bool{}}
}

// serverCounts tallies the records of the roles in which (by role name).
func serverCounts(r *Recorder, in func(role string) bool) *serverCounter {
	c := newServerCounter()
	for _, s := range r.Served {
		if !in(r.Role(s.Role)) {
			continue
		}
		c.requests++
		c.bytesIn += uint64(s.BytesIn)
		c.bytesOut += uint64(s.BytesOut)
		if s.From >= 0 {
			c.proxies[s.From] = true
		}
	}
	message := r.methodCodeIfKnown("message")
	for _, l := range r.Learned {
		if !in(r.Role(l.Role)) {
			continue
		}
		if l.Client >= 0 {
			c.accounts[l.Client] = true
		}
		if l.Device >= 0 && l.Client >= 0 {
			c.devices[l.Client] = true
		}
		if l.What == message {
			c.notifications++
		}
	}
	return c
}

// serverRows are the view table's rows of the world's servers: one per role the world has
// (Tables.ServerRoles), with zero counts when it saw nothing.
func serverRows(r *Recorder) []results.RoleView {
	roles := slices.Clone(r.T.ServerRoles)
	slices.SortFunc(roles, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	var out []results.RoleView
	for _, role := range roles {
		c := serverCounts(r, func(x string) bool { return x == role })
		out = append(out, results.RoleView{Role: role + "_server", Sees: serverSees[role], Counts: map[string]uint64{
			"requests": c.requests, "proxy_addresses": uint64(len(c.proxies)), "bytes_in": c.bytesIn, "bytes_out": c.bytesOut,
			"accounts_learned": uint64(len(c.accounts)), "accounts_with_device": uint64(len(c.devices)), "notifications": c.notifications}})
	}
	return out
}

// rank orders the known roles as ServerRoles does, others after them.
func rank(role string) int {
	if i := slices.Index(ServerRoles, role); i >= 0 {
		return i
	}
	return len(ServerRoles)
}

// CheckServers refuses a server adversary naming a role no server has, or none.
func CheckServers(roles []string) error {
	if len(roles) == 0 {
		return fmt.Errorf("name the roles it runs: servers: [%s]", joinRoles())
	}
	for _, role := range roles {
		if !slices.Contains(ServerRoles, role) {
			return fmt.Errorf("unknown server role %q: use %s", role, joinRoles())
		}
	}
	return nil
}

func joinRoles() string { return strings.Join(ServerRoles, ", ") }

// evaluateServer measures a server adversary: its servers never see a client's address, so the
// (IP, Session ID) exposure levels are null; what it learns is accounts (community members
// through their blinded IDs, push subscribers with their devices) and, at the push server,
// when each account gets messages. Of a pair (sender, recipient) it learns the recipient and
// the time, never the sender (a push notification names only the recipient's account; a
// community server sees only the proxying node): RecipientsTimed is the share of active pairs
// whose recipient's message times it learnt.
func (a *activity) evaluateServer(r *Recorder, ob *observations, g *group) results.Adversary {
	adv := results.Adversary{Name: g.name, Kind: g.kind, Fraction: g.fraction, View: "server", Draws: g.draws}
	nodes := 0
	for _, m := range g.node {
		nodes += bits.OnesCount64(m)
	}
	adv.Nodes = round6(float64(nodes) / float64(g.draws))
	in := func(role string) bool { return slices.Contains(g.servers, role) }
	c := serverCounts(r, in)
	timed := map[int32]bool{}
	message := r.methodCodeIfKnown("message")
	for _, l := range r.Learned {
		if l.What == message && l.Client >= 0 && in(r.Role(l.Role)) {
			timed[l.Client] = true
		}
	}
	activeLearned := func(set map[int32]bool) float64 {
		n := 0
		for cl := range set {
			if a.origin[cl] >= 0 {
				n++
			}
		}
		return round6(ratio(n, a.active))
	}
	pairs := 0
	for _, p := range a.pairOf {
		if timed[p[1]] {
			pairs++
		}
	}
	adv.Server = &results.ServerLearned{
		Roles: slices.Clone(g.servers), Requests: c.requests, ProxyAddresses: len(c.proxies), Notifications: c.notifications,
		Accounts: activeLearned(c.accounts), AccountsWithDevice: activeLearned(c.devices), RecipientsTimed: round6(ratio(pairs, len(a.pairOf))),
	}
	if nodes > 0 && in("push") {
		adv.Server.PairsLinked, adv.Server.PairsLinkedPrecision = a.pushJoin(r, ob, g)
	}
	return adv
}

// notification is a push notification for a recipient.
type notification struct {
	at      time.Duration
	account int32
}

// pushJoin joins the push server's "who receives when" with the senders' side that the
// coalition's guards see, as the correlation attack joins guards and destinations. For each
// draw, each recipient o notified at least 3 times (N_o) and each client c that reached a
// coalition guard,
//
//	S(c, o) = (1/|N_o|) * #{n in N_o : some request of c reached a coalition guard in [n - lag, n]}
//
// with lag the network's 3-hop transit (Delta, as the attack's) plus the 99th percentile of
// the time from a store reaching the recipient's swarm to the notification (which the
// server's owner measures by messaging its own accounts). (c, o) is linked when S is 1 and
// no other client scores 1 for o: a unique perfect match, which needs no threshold. It
// returns the share of active pairs linked truly (mean over draws) and the precision of all
// links (null when none was made).
func (a *activity) pushJoin(r *Recorder, ob *observations, g *group) (linked, precision *float64) {
	message := r.methodCodeIfKnown("message")
	var notes []notification
	for _, l := range r.Learned {
		if l.What == message && l.Client >= 0 && r.Role(l.Role) == "push" {
			notes = append(notes, notification{at: l.At, account: l.Client})
		}
	}
	lag := ob.delta + notifyLag(ob, notes)
	byAccount := map[int32][]time.Duration{}
	var accounts []int32
	for _, n := range notes {
		if _, ok := byAccount[n.account]; !ok {
			accounts = append(accounts, n.account)
		}
		byAccount[n.account] = append(byAccount[n.account], n.at)
	}
	slices.Sort(accounts)
	var truePairs, links int
	for d := range g.draws {
		bit := uint64(1) << d
		for _, o := range accounts {
			times := byAccount[o]
			if len(times) < 3 {
				continue
			}
			hits := map[int32]int{}
			for _, n := range times {
				seen := map[int32]bool{}
				j, _ := slices.BinarySearchFunc(ob.guard, n-lag, func(x guardObs, t time.Duration) int { return cmp.Compare(x.at, t) })
				for ; j < len(ob.guard) && ob.guard[j].at <= n; j++ {
					x := ob.guard[j]
					if g.node[x.node]&bit != 0 && !seen[x.client] {
						seen[x.client] = true
						hits[x.client]++
					}
				}
			}
			var perfect []int32
			for c, h := range hits {
				if h == len(times) {
					perfect = append(perfect, c)
				}
			}
			if len(perfect) != 1 {
				continue
			}
			links++
			if _, ok := a.pairs[[2]int32{perfect[0], o}]; ok {
				truePairs++
			}
		}
	}
	l := round6(ratio(truePairs, len(a.pairOf)*g.draws))
	linked = &l
	if links > 0 {
		p := round6(ratio(truePairs, links))
		precision = &p
	}
	return linked, precision
}

// notifyLag is the 99th percentile of the time from a store for an account reaching a node
// of its swarm to the account's next notification, over the notifications that followed a
// store; 0 when none did.
func notifyLag(ob *observations, notes []notification) time.Duration {
	last := map[int32]time.Duration{} // account -> latest store arrival so far
	var lags []time.Duration
	i := 0
	sorted := slices.Clone(notes)
	slices.SortStableFunc(sorted, func(a, b notification) int { return cmp.Compare(a.at, b.at) })
	for _, n := range sorted {
		for ; i < len(ob.dest) && ob.dest[i].at <= n.at; i++ {
			if d := ob.dest[i]; d.store {
				last[d.account] = d.at
			}
		}
		if t, ok := last[n.account]; ok {
			lags = append(lags, n.at-t)
			delete(last, n.account)
		}
	}
	if len(lags) == 0 {
		return 0
	}
	slices.Sort(lags)
	return lags[min(len(lags)-1, int(math.Ceil(0.99*float64(len(lags))))-1)]
}
