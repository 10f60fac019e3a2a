package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/results"
)

// Group chats (workload.groups): the world makes the groups, the clients join them, and the
// workload sends to them and removes members; the collector measures delivery per member.

// worldGroup is one group chat of the world.
type worldGroup struct {
	g     *client.Group
	admin int // the creator's client index
}

// buildGroups makes the scenario's groups from the world's "groups" stream (so that the other
// draws stay as they were whether groups are on or not): group after group until the
// memberships reach per_client x clients, each of a size drawn from workload.groups.size
// (at most the number of clients), created by a random client, its members drawn first from
// the creator's contacts (an overlap share of them) and then at random. Every member joins
// before its app starts.
func (w *world) buildGroups() error {
	gs := w.sc.Workload.Groups
	n := len(w.clients)
	if gs.PerClient <= 0 || n < 2 {
		return nil
	}
	r := w.eng.Stream("groups")
	target := int(gs.PerClient*float64(n) + 0.5)
	for total := 0; total < target; {
		size := min(MessageSize(gs.Size, r), n, client.MaxGroupSize)
		creator := r.IntN(n)
		members := pickGroupMembers(creator, size, gs.Overlap, w.clients[creator].contacts, n, r)
		keys := identity.Derive(w.sc.Seed, fmt.Sprintf("group-%d", len(w.groups)))
		g, err := client.NewGroup(w.suite, keys, w.clients[creator].id)
		if err != nil {
			return err
		}
		if w.live != nil {
			// The members and the admin run on goroutines of their own.
			g.Guard(new(sync.Mutex))
		}
		for _, m := range members[1:] {
			if err := g.Add(w.clients[m].id); err != nil {
				return err
			}
		}
		for _, m := range members {
			if err := w.clients[m].c.JoinGroup(g); err != nil {
				return err
			}
		}
		w.groups = append(w.groups, &worldGroup{g: g, admin: creator})
		w.col.groups.addGroup(g)
		total += size
	}
	return nil
}

// pickGroupMembers draws a group of size clients (of n) created by creator, who comes first:
// round(overlap x (size-1)) of the others from the creator's contacts as far as it has them,
// the rest uniformly among all clients.
func pickGroupMembers(creator, size int, overlap float64, contacts []int, n int, r *rand.Rand) []int {
	members := []int{creator}
	in := map[int]bool{creator: true}
	fromContacts := min(int(overlap*float64(size-1)+0.5), len(contacts))
	for _, k := range r.Perm(len(contacts))[:fromContacts] {
		if c := contacts[k]; !in[c] {
			in[c] = true
			members = append(members, c)
		}
	}
	for len(members) < size {
		if c := r.IntN(n); !in[c] {
			in[c] = true
			members = append(members, c)
		}
	}
	return members
}

// scheduleGroups sends to every group at workload.groups.messages_per_hour, each message from
// a random member online at that moment (none when no member is online), and has each group's
// admin remove a random member at removals_per_hour while it is online, keeping two members.
// Each group draws from streams of its own.
func (w *world) scheduleGroups() {
	gs := w.sc.Workload.Groups
	stopAt := w.epoch.Add(w.sc.Warmup + w.sc.Duration)
	for k, wg := range w.groups {
		r := w.eng.Stream(fmt.Sprintf("group-sends/%d", k))
		w.poisson(fmt.Sprintf("group-times/%d", k), gs.MessagesPerHour, stopAt, func() bool {
			online := w.groupMembers(wg, func(i int) bool { return w.clients[i].online })
			if len(online) == 0 {
				return true
			}
			wc := w.clients[online[r.IntN(len(online))]]
			size := MessageSize(w.sc.Workload.Size, r)
			_ = w.drv.Invoke(wc.addr, func() { _ = wc.c.SendGroup(wg.g, size) })
			return true
		})
		if gs.AdditionsPerHour > 0 {
			ra := w.eng.Stream(fmt.Sprintf("group-additions/%d", k))
			w.poisson(fmt.Sprintf("group-addition-times/%d", k), gs.AdditionsPerHour, stopAt, func() bool {
				w.addGroupMember(wg, ra)
				return true
			})
		}
		if gs.RemovalsPerHour <= 0 {
			continue
		}
		rr := w.eng.Stream(fmt.Sprintf("group-removals/%d", k))
		w.poisson(fmt.Sprintf("group-removal-times/%d", k), gs.RemovalsPerHour, stopAt, func() bool {
			admin := w.clients[wg.admin]
			others := w.groupMembers(wg, func(i int) bool { return i != wg.admin })
			if !admin.online || len(others) < 2 {
				return true
			}
			victim := w.clients[others[rr.IntN(len(others))]].id
			_ = w.drv.Invoke(admin.addr, func() { _ = admin.c.RemoveGroupMember(wg.g, victim) })
			return true
		})
	}
}

// addGroupMember has the group's admin, when online and the group not full, add a client that
// never was a member: one of the admin's contacts with probability workload.groups.overlap
// (as far as any is left), else one drawn at random. The new member joins at once, without a
// key until it opens the admin's key supplement (the invitation and the supplement go out
// together); it returns the new member's index, or -1 when nobody was picked.
func (w *world) addGroupMember(wg *worldGroup, r *rand.Rand) int {
	admin := w.clients[wg.admin]
	if !admin.online || wg.g.Size() >= client.MaxGroupSize {
		return -1
	}
	fresh := func(i int) bool { return !wg.g.WasMember(w.clients[i].id) }
	pick := -1
	if r.Float64() < w.sc.Workload.Groups.Overlap {
		var cands []int
		for _, c := range admin.contacts {
			if fresh(c) {
				cands = append(cands, c)
			}
		}
		if len(cands) > 0 {
			pick = cands[r.IntN(len(cands))]
		}
	}
	if pick < 0 {
		var cands []int
		for i := range w.clients {
			if fresh(i) {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			return -1
		}
		pick = cands[r.IntN(len(cands))]
	}
	m := w.clients[pick]
	// The member joins once the admin has added it: in live mode the admin's callback runs
	// later, on its own goroutine, so the join is queued from there (the simulator runs both
	// at once, in this order).
	_ = w.drv.Invoke(admin.addr, func() {
		if admin.c.AddGroupMember(wg.g, m.id) == nil {
			_ = w.drv.Invoke(m.addr, func() { _ = m.c.JoinGroupInvited(wg.g) })
		}
	})
	return pick
}

// groupMembers are the client indices of the group's current members for which keep holds, in
// the order they joined.
func (w *world) groupMembers(wg *worldGroup, keep func(int) bool) []int {
	var out []int
	for _, id := range wg.g.Members() {
		if i, ok := w.col.clientByID[id]; ok && keep(i) {
			out = append(out, i)
		}
	}
	return out
}

// groupRecord is a group message's recipients: the members when it was sent but its sender,
// and when each decrypted it (unix ns, 0 not yet).
type groupRecord struct {
	g      *client.Group
	size   int // members when it was sent
	recips []int32
	got    []int64
	left   int // recipients yet to decrypt it
}

// received records client i decrypting the message at t; false when it had already. A client
// that is no recipient (a member removed since, which still held the key the sender used) is
// not counted.
func (gr *groupRecord) received(i int, t time.Time) bool {
	k := slices.Index(gr.recips, int32(i))
	switch {
	case k < 0:
		return true
	case gr.got[k] != 0:
		return false
	}
	gr.got[k] = t.UnixNano()
	gr.left--
	return true
}

// groupTally is the collector's part for group chats.
type groupTally struct {
	byID                       map[identity.ID]*client.Group
	count, members             int
	removals, rotations, polls uint64
	additions                  uint64
	bySize                     [len(results.GroupSizeBuckets)]results.Messages
	e2e                        [len(results.GroupSizeBuckets)]metrics.Histogram
	sent                       bool
}

func (t *groupTally) addGroup(g *client.Group) {
	if t.byID == nil {
		t.byID = map[identity.ID]*client.Group{}
	}
	t.byID[g.ID()] = g
	t.count++
	t.members += g.Size()
}

// record starts the record of a message sender sent to group id: its recipients are the
// group's members now but the sender. nil for a group the world does not have.
func (t *groupTally) record(c *collector, sender int, id identity.ID) *groupRecord {
	g := t.byID[id]
	if g == nil {
		return nil
	}
	gr := &groupRecord{g: g, size: g.Size()}
	for _, m := range g.Members() {
		if i, ok := c.clientByID[m]; ok && i != sender {
			gr.recips = append(gr.recips, int32(i))
		}
	}
	gr.got = make([]int64, len(gr.recips))
	gr.left = len(gr.recips)
	return gr
}

// poll counts a client's group poll: a retrieve naming a group's messages namespace.
func (t *groupTally) poll(e client.OnionRoundTrip) {
	if e.Method == "retrieve" && len(e.Namespaces) > 0 && e.Namespaces[0] == int16(11) {
		t.polls++
	}
}

func (t *groupTally) added(e client.GroupMemberAdded) {
	if e.Failure == client.OK {
		t.additions++
	}
}

func (t *groupTally) rekeyed(e client.GroupRekeyed) {
	t.removals++
	if e.Failure == client.OK {
		t.rotations++
	}
}

// groupOutcome classifies a group message by its recipients that are still members at the end
// (a member removed since is no longer owed it), applying the 1:1 rules to each. A member
// offline since before the message was sent is waiting, as a 1:1 recipient would be pending,
// and is left out: the message is lost (or in flight) when a member that was online after it
// was sent did not decrypt it, delivered when every other member did (its latency is the last
// one's), pending when every member is waiting, undeliverable when no recipient is left. In a
// group of 50 whose members come and go, some member is nearly always away: counting the
// message pending until the last of them returned would leave almost every group message out
// of the delivery ratio.
func (c *collector) groupOutcome(rec *messageRecord, settled bool) (outcome, string) {
	gr := rec.group
	var last int64
	owed, waiting, missed := 0, 0, false
	for k, i := range gr.recips {
		if !gr.g.IsMember(c.ids[i]) {
			continue
		}
		owed++
		switch {
		case gr.got[k] != 0:
			last = max(last, gr.got[k])
		case !c.online[i] && c.lastOnline[i].Before(rec.sentAt):
			waiting++
		default:
			missed = true
		}
	}
	switch {
	case owed == 0:
		return undeliverable, ""
	case missed:
		return missing(rec, settled)
	case waiting == owed:
		return pending, ""
	}
	if !rec.delivered {
		rec.delivered, rec.deliveredAt = true, time.Unix(0, last)
		c.e2e.Add(rec.latencyMs())
	}
	return delivered, ""
}

// add counts a message in its group-size bucket (group messages only).
func (t *groupTally) add(rec *messageRecord, o outcome, cause string) {
	if rec.group == nil {
		return
	}
	t.sent = true
	b := results.GroupSizeBucket(rec.group.size)
	countOutcome(&t.bySize[b], &t.e2e[b], rec, o, cause)
}

// fill writes messages_by_group_size and groups.
func (t *groupTally) fill(s *results.Summary) {
	if t.count == 0 {
		return
	}
	s.Groups = &results.Groups{Count: t.count, MembersMean: round3(float64(t.members) / float64(t.count)),
		Removals: t.removals, KeyRotations: t.rotations, Polls: t.polls, Additions: t.additions}
	if !t.sent {
		return
	}
	s.MessagesByGroupSize = map[string]results.KindMessages{}
	for b, bucket := range results.GroupSizeBuckets {
		if t.bySize[b].Sent > 0 {
			s.MessagesByGroupSize[bucket.Name] = kindMessages(t.bySize[b], &t.e2e[b])
		}
	}
}
