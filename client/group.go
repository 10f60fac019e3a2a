package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"golang.org/x/crypto/blake2b"
)

// Group chats (03 groups). A group is an account of its own: its ID is 03 followed by the
// group's Ed25519 public key, its swarm follows from that key like any account's, and its
// messages (namespace 11) are encrypted with a symmetric group key that every member holds.
// The admin holds the group's Ed25519 key: it signs the key messages (namespace 12) that hand a
// new key to the remaining members when one is removed, and the subaccount tokens with which
// members sign their retrieves and stores in the group's swarm.
//
// The group's shared state (its keys, member list and key generations) is one Group the world
// owns and every member references, as node records are shared through a Directory: a client
// in many groups holds only its own view of each (groupView: the generation it has, its token,
// its poll timer and last hashes).
//
// A Group is the one shared object that actors change while they run (the admin adds and
// removes members), and that other actors (the members) and the world read meanwhile. Under a
// real-time driver these run on goroutines of their own, so that driver's world hands the
// group a lock (Guard), which its methods take only for the moment they read or write the
// changing state: they call nothing while holding it. In the simulator, where one callback
// runs at a time, a group has no lock.

// Namespaces of a group's swarm (libsession-util include/session/config/namespaces.hpp).
const (
	groupMessagesNS = int16(storagerpc.NamespaceGroupMessages) // 11
	groupKeysNS     = int16(storagerpc.NamespaceGroupKeys)     // 12
)

// groupNamespaces are what a member polls: messages, keys, info and members, as the apps do.
var groupNamespaces = []int16{groupMessagesNS, groupKeysNS, int16(storagerpc.NamespaceGroupInfo), int16(storagerpc.NamespaceGroupMembers)}

var (
	groupMessageNamespaces = []int16{groupMessagesNS}
	groupKeyNamespaces     = []int16{groupKeysNS}
)

// MaxGroupSize is the most members a group may have: session-desktop ts/session/constants.ts,
// VALIDATION.CLOSED_GROUP_SIZE_LIMIT (100); the phones keep the same limit.
const MaxGroupSize = 100

// groupKeyHash keys the derivation of each generation's encryption key from the group seed.
var groupKeyHash = []byte("sessionsim group encryption key")

// Group is a group chat's shared state, owned by the world (see the comment above). It is safe
// for concurrent use once guarded (Guard).
type Group struct {
	// Fixed when the group is made: read without the lock.
	id    identity.ID
	sk    ed25519.PrivateKey
	edPub [32]byte
	x     cryptomode.X25519KeyPair // the X25519 form of the group's key (key messages)
	admin identity.ID

	guard Locker // nil, or what guards what follows (Guard)
	gen   int64  // the current key generation
	// issued is each generation's issue time (ms, the admin's network clock), as the key
	// supplements list it; 0 until the admin first hands the key out.
	issued []int64
	// members in the order they joined; removed ones stay with the generation that left them out.
	members []groupMember
}

type groupMember struct {
	id      identity.ID
	removed int64 // the generation whose key message left the member out; 0 while a member
}

// NewGroup makes the group whose Ed25519 key is keys', created by admin (its first member).
// s converts the group's key to X25519 as the key messages need.
func NewGroup(s cryptomode.Suite, keys identity.Keys, admin identity.ID) (*Group, error) {
	if len(keys.Ed25519Private) != ed25519.PrivateKeySize {
		return nil, errors.New("client: group keys have no Ed25519 private key")
	}
	x, _, err := s.X25519FromSecret(identity.X25519SecretFromSeed([32]byte(keys.Ed25519Private.Seed())))
	if err != nil {
		return nil, fmt.Errorf("client: group X25519 key: %w", err)
	}
	g := &Group{id: keys.GroupID(), sk: keys.Ed25519Private, edPub: keys.Ed25519Public, x: x, admin: admin}
	g.members = append(g.members, groupMember{id: admin})
	return g, nil
}

// Guard has l guard the group's changing state, for a driver that runs its members and admin
// on goroutines of their own; call it before the group is shared.
func (g *Group) Guard(l Locker) { g.guard = l }

// Locker is what a driver that runs actors concurrently hands a Group to guard it with (a
// *sync.Mutex, made by the world: the client package keeps none).
type Locker interface {
	Lock()
	Unlock()
}

// lock takes the guard, if any, and returns what releases it.
func (g *Group) lock() (unlock func()) {
	if g.guard == nil {
		return noUnlock
	}
	g.guard.Lock()
	return g.guard.Unlock
}

func noUnlock() {}

// ID is the group's ID (03 + its Ed25519 public key).
func (g *Group) ID() identity.ID { return g.id }

// Admin is the member that created the group and adds and removes members.
func (g *Group) Admin() identity.ID { return g.admin }

// Generation is the current key generation (0 until the first removal).
func (g *Group) Generation() int64 {
	defer g.lock()()
	return g.gen
}

// Add makes id a member. Adding gives the new member the current key (libsession hands it over
// in a supplemental key message); it does not rotate the key.
func (g *Group) Add(id identity.ID) error {
	defer g.lock()()
	if g.isMember(id) {
		return fmt.Errorf("client: %s is already a member of group %s", id, g.id)
	}
	if g.size() >= MaxGroupSize {
		return fmt.Errorf("client: group %s is full (%d members, the most a group may have)", g.id, MaxGroupSize)
	}
	g.members = append(g.members, groupMember{id: id})
	return nil
}

// WasMember reports whether id is or was a member (a removed member is not added again: its
// view stays removed).
func (g *Group) WasMember(id identity.ID) bool {
	defer g.lock()()
	return g.index(id) >= 0
}

// IsMember reports whether id is a member now.
func (g *Group) IsMember(id identity.ID) bool {
	defer g.lock()()
	return g.isMember(id)
}

func (g *Group) isMember(id identity.ID) bool {
	k := g.index(id)
	return k >= 0 && g.members[k].removed == 0
}

// index is id's place in members, -1 if it never was one; the caller holds the lock.
func (g *Group) index(id identity.ID) int {
	return slices.IndexFunc(g.members, func(m groupMember) bool { return m.id == id })
}

// Members lists the current members, in the order they joined.
func (g *Group) Members() []identity.ID {
	defer g.lock()()
	out := make([]identity.ID, 0, len(g.members))
	for _, m := range g.members {
		if m.removed == 0 {
			out = append(out, m.id)
		}
	}
	return out
}

// Size is the number of current members.
func (g *Group) Size() int {
	defer g.lock()()
	return g.size()
}

func (g *Group) size() int {
	n := 0
	for _, m := range g.members {
		if m.removed == 0 {
			n++
		}
	}
	return n
}

// key is the encryption key of generation gen. libsession derives each generation's key
// deterministically from the group seed, the generation and the member list; here from the
// seed and the generation (the same size, and only a holder of the seed or of a key message
// entry has it).
func (g *Group) key(gen int64) []byte {
	h, _ := blake2b.New256(groupKeyHash)
	h.Write(g.sk.Seed())
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(gen)))
	return h.Sum(nil)
}

// remove leaves member out of a new key generation and returns it.
func (g *Group) remove(member identity.ID) (int64, error) {
	defer g.lock()()
	k := g.index(member)
	if k < 0 || g.members[k].removed != 0 {
		return 0, fmt.Errorf("client: %s is not a member of group %s", member, g.id)
	}
	if member == g.admin {
		return 0, fmt.Errorf("client: the admin of group %s cannot remove itself", g.id)
	}
	g.gen++
	g.members[k].removed = g.gen
	return g.gen, nil
}

// genKeys are every key generation the group has had, oldest first, as an admin's
// supplement hands them to a new member; a generation's unknown issue time becomes nowMs.
func (g *Group) genKeys(nowMs int64) []message.GroupGenKey {
	defer g.lock()()
	for len(g.issued) <= int(g.gen) {
		g.issued = append(g.issued, 0)
	}
	out := make([]message.GroupGenKey, 0, g.gen+1)
	for gen := range g.gen + 1 {
		if g.issued[gen] == 0 {
			g.issued[gen] = nowMs
		}
		out = append(out, message.GroupGenKey{Generation: gen, Key: g.key(gen), IssuedMs: g.issued[gen]})
	}
	return out
}

// memberKeys are the X25519 keys (the Session IDs' keys) of the current members.
func (g *Group) memberKeys() [][32]byte {
	defer g.lock()()
	var out [][32]byte
	for _, m := range g.members {
		if m.removed == 0 {
			out = append(out, m.id.Key())
		}
	}
	return out
}

// removedBy is the member that key generation gen left out, if any.
func (g *Group) removedBy(gen int64) (identity.ID, bool) {
	defer g.lock()()
	for _, m := range g.members {
		if m.removed == gen && gen > 0 {
			return m.id, true
		}
	}
	return identity.ID{}, false
}

// groupView is one member's view of a group.
type groupView struct {
	g *Group
	// token is the member's subaccount token (read and write), signed by the group's key: the
	// admin hands it over with the invitation.
	token *storagerpc.Subaccount
	// from and gen are the oldest and newest key generations the member holds: those it was
	// given on joining and those it opened in key messages since. A member added by an admin
	// holds none (gen -1) until it opens the admin's key supplement.
	from, gen int64
	kicked    bool  // a key message left the member out: it stops polling
	pushed    bool  // the phone registered the group with the push server
	active    int64 // unix ns of the group's last message sent or received (poll cadence)
	timer     actor.Timer
	last      lastHashes
}

// storeNamespaces is what a store of the view's group names, for the OnionRoundTrip event.
func (v *groupView) storeNamespaces(keys bool) []int16 {
	if keys {
		return groupKeyNamespaces
	}
	return groupMessageNamespaces
}

// GroupMemberAdded: the group's admin added a member and stored the key supplement that gives
// it the group's keys in the group's swarm (Failure OK), or gave it up.
type GroupMemberAdded struct {
	Group   identity.ID
	Member  identity.ID
	Members int // the group's size with the new member
	Size    int // the supplement's bytes (before base64)
	Failure Failure
}

// EventName implements actor.Event.
func (GroupMemberAdded) EventName() string { return "client.group_member_added" }

// GroupRekeyed: the group's admin removed a member and stored the key message of the new
// generation for the remaining members in the group's swarm (Failure OK), or gave it up.
type GroupRekeyed struct {
	Group      identity.ID
	Removed    identity.ID
	Generation int64
	Size       int // the key message's bytes (before base64)
	Failure    Failure
}

// JoinGroup makes the client a member of g, which must list it. Call it before the driver
// starts the client or on its loop; the client polls the group's swarm while online.
func (c *Client) JoinGroup(g *Group) error {
	if !g.IsMember(c.ID()) {
		return fmt.Errorf("client: %s is not a member of group %s: add it first", c.ID(), g.id)
	}
	if c.view(g) != nil {
		return nil
	}
	var ed [32]byte
	copy(ed[:], c.keys.ed[32:])
	tok, _ := storagerpc.SignSubaccount(c.cfg.Suite, g.sk, storagerpc.AccessRead|storagerpc.AccessWrite, ed)
	gen := g.Generation()
	v := &groupView{g: g, token: tok, from: gen, gen: gen}
	x := c.more()
	x.groups = append(x.groups, v)
	c.groupsChanged()
	if c.online && !c.bg {
		v.active = c.env.Now().UnixNano()
		c.pollGroup(v)
		if c.pushActive() {
			c.registerGroupPush(v) // joined while the app is open: register it now
		}
	}
	return nil
}

// JoinGroupInvited makes the client a member of g that an admin has just added: it polls the
// group's swarm but holds no key until it opens the admin's key supplement there (the admin
// hands the subaccount token over in its invitation). g must list the client.
func (c *Client) JoinGroupInvited(g *Group) error {
	if c.view(g) != nil {
		return nil
	}
	if err := c.JoinGroup(g); err != nil {
		return err
	}
	v := c.view(g)
	v.gen = -1
	return nil
}

func (c *Client) view(g *Group) *groupView {
	for _, v := range c.groupViews() {
		if v.g == g {
			return v
		}
	}
	return nil
}

// SendGroup writes a text message of bodySize bytes to group g and returns at once, as Send
// does for 1:1 messages: it is encrypted with the newest key the client holds (GroupEncrypt),
// reported with MessageSent (KindGroup, To the group's ID) and stored in namespace 11 of the
// group's swarm with a store signed under the member's subaccount token, retried as 1:1 stores
// are; StoreResult reports the outcome.
func (c *Client) SendGroup(g *Group, bodySize int) error {
	if c.env == nil {
		return ErrNotStarted
	}
	v := c.view(g)
	if v == nil || v.kicked || !g.IsMember(c.ID()) {
		return fmt.Errorf("client: send to group %s: %s is not a member", g.id, c.ID())
	}
	if v.gen < 0 {
		return fmt.Errorf("client: send to group %s: %s has no key yet (its key supplement has not come)", g.id, c.ID())
	}
	now := c.env.Now()
	ms := c.netNowMS()
	out := message.Outgoing{Content: message.NewText(strings.Repeat("x", max(0, bodySize)), uint64(ms)), SentAt: uint64(ms)}
	raw, cost, err := message.BuildGroupRaw(c.cfg.Suite, actor.RandReader(c.env.Rand()), g.key(v.gen), g.id, c.keys.signing(), out)
	c.env.Work(cost)
	c.stats.Sent++
	if err != nil {
		c.stats.StoreFailed++
		c.observe(MessageSent{To: g.id, At: now, Body: bodySize, Kind: KindGroup})
		c.observe(StoreResult{To: g.id, Failure: FailRejected})
		return nil
	}
	v.active = now.UnixNano()
	o := &outgoing{to: g.id, group: v, data: raw, last: noNode, hash: messageHash(g.id, groupMessagesNS, raw)}
	c.observe(MessageSent{Hash: o.hash, To: g.id, At: now, Body: bodySize, Size: base64.StdEncoding.EncodedLen(len(raw)), Kind: KindGroup})
	c.queueStore(o)
	return nil
}

// RemoveGroupMember is the admin removing member from g: the member is left out of a new key
// generation, whose key message (encrypted for each remaining member) the admin stores in the
// group's keys namespace; members learn the key by polling it. GroupRekeyed reports the store.
func (c *Client) RemoveGroupMember(g *Group, member identity.ID) error {
	v, err := c.adminView(g)
	if err != nil {
		return err
	}
	gen, err := g.remove(member)
	if err != nil {
		return err
	}
	g.genKeys(c.netNowMS()) // the new generation's issue time
	data, cost, err := message.BuildGroupKeys(c.cfg.Suite, actor.RandReader(c.env.Rand()), g.sk, g.x, gen, g.key(gen), g.memberKeys())
	c.env.Work(cost)
	if err != nil {
		c.observe(GroupRekeyed{Group: g.id, Removed: member, Generation: gen, Failure: FailRejected})
		return nil
	}
	// The admin encrypts with the new key at once (libsession's pending key).
	v.gen = gen
	c.storeGroupKeys(v, identity.ID{}, data)
	return nil
}

// adminView is the admin's view of g, for changing its members.
func (c *Client) adminView(g *Group) (*groupView, error) {
	if c.env == nil {
		return nil, ErrNotStarted
	}
	if g.admin != c.ID() {
		return nil, fmt.Errorf("client: %s is not the admin of group %s", c.ID(), g.id)
	}
	v := c.view(g)
	if v == nil {
		return nil, fmt.Errorf("client: the admin of group %s has not joined it", g.id)
	}
	return v, nil
}

// storeGroupKeys stores a key message (a rekey, or the supplement for added when it is set) in
// the group's keys namespace, as 1:1 messages are stored.
func (c *Client) storeGroupKeys(v *groupView, added identity.ID, data []byte) {
	v.active = c.env.Now().UnixNano()
	o := &outgoing{to: v.g.id, group: v, keys: true, added: added, data: data, last: noNode, hash: messageHash(v.g.id, groupKeysNS, data)}
	c.queueStore(o)
}

// AddGroupMember is the admin adding member to g (libsession's order: the member goes in the
// member list, then the admin issues a key supplement for it): the supplement carrying every
// key generation the group has had, encrypted for the new member, is stored in the group's
// keys namespace; the new member learns the keys by polling it (JoinGroupInvited). No new key is
// issued: a rekey is only for a removal. GroupMemberAdded reports the store.
func (c *Client) AddGroupMember(g *Group, member identity.ID) error {
	v, err := c.adminView(g)
	if err != nil {
		return err
	}
	if g.WasMember(member) {
		return fmt.Errorf("client: %s is or was a member of group %s", member, g.id)
	}
	if err := g.Add(member); err != nil {
		return err
	}
	data, cost, err := message.BuildGroupKeySupplement(c.cfg.Suite, actor.RandReader(c.env.Rand()), g.sk, g.x, g.genKeys(c.netNowMS()), [][32]byte{member.Key()})
	c.env.Work(cost)
	if err != nil {
		c.observe(GroupMemberAdded{Group: g.id, Member: member, Members: g.Size(), Failure: FailRejected})
		return nil
	}
	c.storeGroupKeys(v, member, data)
	return nil
}

// rekeyDone reports a key message's store.
func (c *Client) rekeyDone(o *outgoing, f Failure) {
	// The admin's own poll will bring the key message back; it is not news.
	c.seen.add(o.hash, c.env.Now().Add(configTTL).Unix())
	if o.added != (identity.ID{}) {
		c.observe(GroupMemberAdded{Group: o.to, Member: o.added, Members: o.group.g.Size(), Size: len(o.data), Failure: f})
		return
	}
	ev := GroupRekeyed{Group: o.to, Size: len(o.data), Failure: f}
	if m, err := message.ParseGroupKeys(o.data); err == nil {
		ev.Generation = m.Generation
	}
	if id, ok := o.group.g.removedBy(ev.Generation); ok {
		ev.Removed = id
	}
	c.observe(ev)
}

// groupStoreRequest is a store of o in its group's swarm: a message in namespace 11 signed
// under the member's token, or a key message in namespace 12 signed with the group's key.
func (c *Client) groupStoreRequest(o *outgoing) rpcRequest {
	v := o.group
	signer := &storagerpc.Signer{Suite: c.cfg.Suite, Account: pubkeyOf(v.g.id), Key: c.keys.signing(), Subaccount: v.token}
	ns, ttl := groupMessagesNS, c.cfg.TTL
	if o.keys {
		signer = &storagerpc.Signer{Suite: c.cfg.Suite, Account: pubkeyOf(v.g.id), Key: v.g.sk}
		ns, ttl = groupKeysNS, configTTL
	}
	st := storagerpc.NewStore(pubkeyOf(v.g.id), storagerpc.Namespace(ns), c.netNowMS(), ttl, o.data)
	c.env.Work(st.Sign(signer))
	return rpcOf(&storagerpc.Batch{Sequence: c.cfg.StoreRetry.Sequence, Requests: []storagerpc.Request{st}})
}

// startGroupPolls starts polling every group the client is still in (on start and on coming
// back online).
func (c *Client) startGroupPolls() {
	now := c.env.Now().UnixNano()
	for _, v := range c.groupViews() {
		if v.active == 0 {
			// Joined before the app first opened: the group was created just now.
			v.active = now
		}
		c.pollGroup(v)
	}
}

func (c *Client) stopGroupPolls() {
	for _, v := range c.groupViews() {
		v.timer.Stop()
	}
}

// pollGroup polls one member of the group's swarm for every group namespace and schedules the
// next poll at the platform's cadence (Config.GroupPoll).
func (c *Client) pollGroup(v *groupView) {
	if !c.online || v.kicked {
		return
	}
	v.timer.Stop()
	ep := c.epoch
	done := func() {
		if !c.alive(ep) {
			return
		}
		if c.bg {
			// Woken for this group: one poll, then back to sleep (also when the poll told
			// the member it was removed).
			c.backgroundPollDone()
			return
		}
		if v.kicked {
			return
		}
		wait := c.cfg.GroupPoll.Interval(c.env.Now().Sub(time.Unix(0, v.active)))
		v.timer = c.env.After(wait, func() {
			if c.alive(ep) {
				c.pollGroup(v)
			}
		})
	}
	c.swarmFor(v.g.id, func(Failure) { done() }, func(e *swarmEntry) {
		t, ok := c.pickMember(e)
		if !ok {
			done()
			return
		}
		c.retrieveGroup(e, v, t, done)
	})
}

// retrieveGroup asks member t of the group's swarm for each group namespace after the last
// hash seen from it, signed under the member's token.
func (c *Client) retrieveGroup(e *swarmEntry, v *groupView, t nodeIdx, done func()) {
	var held [8]string // room for the group namespaces without a heap allocation
	last := held[:0]
	for _, ns := range groupNamespaces {
		last = append(last, v.last.get(t, ns))
	}
	signer := &storagerpc.Signer{Suite: c.cfg.Suite, Account: pubkeyOf(v.g.id), Key: c.keys.signing(), Subaccount: v.token}
	reqs, cost := appendRetrieves(make([]storagerpc.Request, 0, len(groupNamespaces)), signer, groupNamespaces, last, c.netNowMS(), c.groupMaxSize)
	c.env.Work(cost)
	c.onionRequest(t, "retrieve", groupNamespaces, v.g.id, batch(reqs...), func(res onionResult) {
		if c.afterClockSkew(res, func() { c.retrieveGroup(e, v, t, done) }, done) {
			return
		}
		if res.status == 421 {
			c.adopt421(e, t, res.body)
			done()
			return
		}
		if res.failure != OK {
			done()
			return
		}
		results, _, err := decodeRetrieve(res.answer(), len(groupNamespaces), pollExpire{})
		if err != nil {
			c.garbage(GarbageMalformedResponse)
			done()
			return
		}
		// Keys first, as libsession loads them before decrypting the messages of the same poll.
		for _, k := range []int{1, 0, 2, 3} {
			rr := results[k]
			if rr.status != 200 || k == 0 && v.gen < 0 {
				// A new member without keys yet leaves the messages for a poll after its
				// key supplement has come.
				continue
			}
			for _, m := range rr.messages {
				c.receiveGroup(v, groupNamespaces[k], m)
			}
			if n := len(rr.messages); n > 0 {
				v.last.set(t, groupNamespaces[k], rr.messages[n-1].Hash)
			}
		}
		done()
	})
}

// groupMaxSize is a group retrieve's max_size: the messages namespace as the own inbox, the
// config namespaces as the own configs.
func (c *Client) groupMaxSize(ns int16) int {
	if ns == groupMessagesNS {
		return c.cfg.MaxSize
	}
	return c.cfg.ConfigMaxSize
}

// receiveGroup handles one message retrieved from a group's swarm.
func (c *Client) receiveGroup(v *groupView, ns int16, m retrieved) {
	if v.kicked || !c.seen.add(m.Hash, m.Expiry/1000) {
		if !v.kicked {
			c.stats.Duplicates++
		}
		return
	}
	switch ns {
	case groupKeysNS:
		c.receiveGroupKeys(v, m)
	case groupMessagesNS:
		c.receiveGroupMessage(v, m)
	}
	// Info and members configs: the simulator has no group configs to merge.
}

// receiveGroupKeys opens a key message: a newer generation that holds an entry for the member
// gives it the new key; one that leaves it out tells it it was removed.
func (c *Client) receiveGroupKeys(v *groupView, m retrieved) {
	if message.IsGroupKeySupplement(m.Data) {
		c.receiveGroupSupplement(v, m)
		return
	}
	km, err := message.ParseGroupKeys(m.Data)
	if err != nil {
		c.garbage(GarbageMalformedMessage)
		return
	}
	if km.Generation <= max(v.gen, v.from) {
		// A generation the member already holds, or one issued before it joined (an added
		// member, which gets those keys from its supplement, is in none of them).
		return
	}
	gen, key, cost, err := message.OpenGroupKeys(c.cfg.Suite, m.Data, v.g.edPub, v.g.x.Public, c.x25519())
	c.env.Work(cost)
	switch {
	case errors.Is(err, message.ErrNotInKeys):
		v.kicked = true
		v.timer.Stop()
		c.groupsChanged()
		c.unregisterGroupPush(v)
	case err != nil:
		c.garbage(classifyMessageError(err))
	case string(key) != string(v.g.key(gen)):
		c.garbage(GarbageUndecryptable)
	default:
		v.gen = gen
	}
}

// receiveGroupSupplement opens a key supplement: every member tries its entries (libsession
// loads each keys message it polls); the new member it is for takes the keys it lists.
func (c *Client) receiveGroupSupplement(v *groupView, m retrieved) {
	keys, cost, err := message.OpenGroupKeySupplement(c.cfg.Suite, m.Data, v.g.edPub, v.g.x.Public, c.x25519())
	c.env.Work(cost)
	switch {
	case errors.Is(err, message.ErrNotInKeys):
		return // for another member
	case err != nil:
		c.garbage(classifyMessageError(err))
		return
	}
	for _, k := range keys {
		if string(k.Key) != string(v.g.key(k.Generation)) {
			c.garbage(GarbageUndecryptable)
			return
		}
	}
	if v.gen < 0 {
		v.from = keys[0].Generation
	}
	v.from = min(v.from, keys[0].Generation)
	v.gen = max(v.gen, keys[len(keys)-1].Generation)
}

// receiveGroupMessage decrypts a group message with the newest key the member holds, then the
// older ones (libsession tries every key it has).
func (c *Client) receiveGroupMessage(v *groupView, m retrieved) {
	var rcv *message.Received
	var err error
	for gen := v.gen; gen >= v.from; gen-- {
		var cost time.Duration
		rcv, cost, err = message.ReceiveGroupRaw(c.cfg.Suite, v.g.key(gen), m.Data, c.cfg.KeyMemo.Convert)
		c.env.Work(cost)
		if !errors.Is(err, message.ErrDecrypt) {
			break
		}
	}
	if err != nil {
		c.garbage(classifyMessageError(err))
		return
	}
	v.active = c.env.Now().UnixNano()
	if rcv.SenderID == c.ID() {
		return // our own message, back from the group's swarm
	}
	c.stats.Received++
	if !c.bg {
		c.configChanged(configBit(storagerpc.NamespaceConvoInfoVolatile)) // read at once: the app is open
	}
	c.observe(MessageReceived{Hash: m.Hash, From: rcv.SenderID, Namespace: groupMessagesNS, Size: base64.StdEncoding.EncodedLen(len(m.Data)), Background: c.bg})
}

// InGroup reports whether the client still takes part in g (it joined and no key message left
// it out).
func (c *Client) InGroup(g *Group) bool {
	v := c.view(g)
	return v != nil && !v.kicked
}

// EventName implements actor.Event.
func (GroupRekeyed) EventName() string { return "client.group_rekeyed" }
