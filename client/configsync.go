package client

import (
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// Config messages. Every app keeps the user's profile, contacts, conversation state and groups
// in libsession-util config objects and stores each changed one as a config message in its own
// swarm (namespaces 2-5), where the user's other devices fetch it; every poll carries an expire
// that keeps the current ones alive (ConfigExpiry). The simulator models when the apps push
// and how big the messages are; their content is opaque to the nodes, so it is random bytes of
// the right length.

// TTLs by message kind: session-desktop ts/session/constants.ts, TTL_DEFAULT. The simulator sends
// no typing indicators (TYPING_MESSAGE, 20 s) and no call messages (CALL_MESSAGE, 5 min).
const (
	// contentTTL is CONTENT_MESSAGE: 1:1 visible messages and the sync copies of them.
	contentTTL = 14 * 24 * time.Hour
	// configTTL is CONFIG_MESSAGE: config messages.
	configTTL = 30 * 24 * time.Hour
)

// When the apps push: session-desktop ts/session/utils/job_runners/jobs/UserSyncJob.ts. A change
// queues the sync job configSyncDelay out, unless a job ran within configSyncEvery, in which
// case it waits for the rest of that interval (at least configSyncMinWait); a job that fails is
// tried again configSyncEvery later, and the job's 5 s interval timer keeps queueing it while
// changes are pending, so a failed push is retried until it succeeds.
const (
	configSyncEvery   = 5 * time.Second // defaultMsBetweenRetries
	configSyncDelay   = 3 * time.Second // queueNewJobIfNeeded: nextAttemptTimestamp now + 3 s
	configSyncMinWait = time.Second     // queueNewJobIfNeeded: at least 1 s before the next tick
)

// Config message sizes. libsession-util (src/config/base.cpp, ConfigBase::push) serializes the
// config, compresses it (zstd level 1; the Session IDs and keys that fill it barely compress,
// so the simulator leaves that out), pads it with leading zeros and encrypts it with
// XChaCha20-Poly1305 (include/session/config/encrypt.hpp: ENCRYPT_DATA_OVERHEAD 40 bytes of
// nonce and tag; padded_size pads so that the encrypted message is a multiple of 256 bytes
// below 5120, 1024 below 20480, 2048 below 40960 and 5120 above). The serialized sizes are
// estimates of libsession's bencoded dicts: configBaseBytes the seqno, diff and 64-byte
// signature every config carries (src/config.cpp); profileBytes a display name, avatar URL and
// key (src/config/user_profile.cpp); contactBytes a contact's 33-byte ID with name, approval
// flags and creation time (src/config/contacts.cpp); convoBytes a 1:1 conversation's ID, last
// read time and unread flag (src/config/convo_info_volatile.cpp); groupEntryBytes a 03
// group's entry in the user groups config, its 33-byte ID with the 64-byte admin secret or
// 100-byte member auth data, name, join time, priority and notification settings, and
// communityEntryBytes a room's, the server URL, room token, 32-byte server key and priority
// (src/config/user_groups.cpp). Each group and room also has a conversation entry.
const (
	configEncryptOverhead = 40
	configBaseBytes       = 150
	profileBytes          = 100
	contactBytes          = 90
	convoBytes            = 60
	groupEntryBytes       = 200
	communityEntryBytes   = 110
)

// configNamespaces are the user's config namespaces, as protocol/storagerpc/namespace.go numbers
// them (libsession-util include/session/config/namespaces.hpp): UserProfile 2, Contacts 3,
// ConvoInfoVolatile 4, UserGroups 5. The user groups config lists the client's 03 groups and
// community rooms; a client in none never stores it, as libsession pushes only configs that
// changed.
var configNamespaces = [...]storagerpc.Namespace{
	storagerpc.NamespaceUserProfile, storagerpc.NamespaceContacts,
	storagerpc.NamespaceConvoInfoVolatile, storagerpc.NamespaceUserGroups,
}

// configBits selects config namespaces: bit k is configNamespaces[k].
type configBits uint8

func configBit(ns storagerpc.Namespace) configBits {
	return 1 << (ns - storagerpc.NamespaceUserProfile)
}

// configState is the client's view of its config messages.
type configState struct {
	hash     [len(configNamespaces)]string // the current message of each namespace, "" before the first
	old      []string                      // superseded messages a delete failed to remove
	dirty    configBits                    // changed since their last push
	inflight configBits                    // being pushed
	queued   bool
	timer    actor.Timer
	last     int64 // unix ns when the last push started; 0 before the first
}

// paddedConfigSize is the stored size of a config message whose serialized config is plain
// bytes: libsession's padded_size plus the encryption overhead.
func paddedConfigSize(plain int) int {
	s := plain + configEncryptOverhead
	chunk := 5120
	switch {
	case s < 5120:
		chunk = 256
	case s < 20480:
		chunk = 1024
	case s < 40960:
		chunk = 2048
	}
	return (s + chunk - 1) / chunk * chunk
}

// configSize is the stored size of the client's current config message of namespace ns.
func (c *Client) configSize(ns storagerpc.Namespace) int {
	plain := configBaseBytes
	switch ns {
	case storagerpc.NamespaceUserProfile:
		plain += profileBytes
	case storagerpc.NamespaceContacts:
		plain += contactBytes * len(c.contacts())
	case storagerpc.NamespaceConvoInfoVolatile:
		plain += convoBytes * (len(c.contacts()) + c.groupsJoined() + c.roomsJoined())
	case storagerpc.NamespaceUserGroups:
		plain += groupEntryBytes*c.groupsJoined() + communityEntryBytes*c.roomsJoined()
	}
	return paddedConfigSize(plain)
}

// noteConversation records a 1:1 message to or from id: a first one starts a conversation,
// which adds a contact and a conversation entry; a message read (received while the app is
// open) moves the conversation's last-read time.
func (c *Client) noteConversation(id identity.ID, read bool) {
	var changed configBits
	if !slices.Contains(c.contacts(), id) {
		x := c.more()
		x.contacts = append(x.contacts, id)
		changed |= configBit(storagerpc.NamespaceContacts) | configBit(storagerpc.NamespaceConvoInfoVolatile)
	}
	if read {
		changed |= configBit(storagerpc.NamespaceConvoInfoVolatile)
	}
	c.configChanged(changed)
}

// groupsJoined is the number of 03 groups the user groups config lists: those the client is
// still in.
func (c *Client) groupsJoined() int {
	n := 0
	for _, v := range c.groupViews() {
		if !v.kicked {
			n++
		}
	}
	return n
}

// roomsJoined is the number of community rooms the user groups config lists.
func (c *Client) roomsJoined() int {
	n := 0
	for _, p := range c.communityPollers() {
		n += len(p.cfg.Rooms)
	}
	return n
}

// groupsChanged records a change to the groups and rooms the client is in: the user groups
// config and the conversation config list them. Before the app first opens it only marks them.
func (c *Client) groupsChanged() {
	b := configBit(storagerpc.NamespaceUserGroups) | configBit(storagerpc.NamespaceConvoInfoVolatile)
	if c.env == nil {
		c.cfgs.dirty |= b
		return
	}
	c.configChanged(b)
}

// configChanged marks configs changed and queues a push.
func (c *Client) configChanged(b configBits) {
	c.cfgs.dirty |= b
	c.queueConfigPush()
}

// queueConfigPush queues the sync job when configs changed and none is queued or running.
func (c *Client) queueConfigPush() {
	s := &c.cfgs
	if !c.online || s.dirty == 0 || s.queued || s.inflight != 0 {
		return
	}
	wait := configSyncDelay
	if s.last != 0 {
		if since := time.Duration(c.env.Now().UnixNano() - s.last); since < configSyncEvery {
			wait = max(configSyncEvery-since, configSyncMinWait)
		}
	}
	s.queued = true
	ep := c.epoch
	s.timer = c.env.After(wait, func() {
		if c.alive(ep) {
			s.queued = false
			c.pushConfigs()
		}
	})
}

// stopConfigSync forgets the queued push and the one in flight (its answer will be dropped),
// keeping their changes pending for the next time the client is online.
func (c *Client) stopConfigSync() {
	s := &c.cfgs
	s.timer.Stop()
	s.queued = false
	s.dirty |= s.inflight
	s.inflight = 0
}

// configMsg is one config message being pushed.
type configMsg struct {
	ns   storagerpc.Namespace
	data []byte
	hash string
}

// pushConfigs stores every changed config in the own swarm: one sequence of signed stores, with
// a delete of the messages they replace, to one member.
func (c *Client) pushConfigs() {
	s := &c.cfgs
	if s.dirty == 0 {
		return
	}
	now := c.env.Now()
	s.last, s.inflight, s.dirty = now.UnixNano(), s.dirty, 0
	var msgs []configMsg
	nss := make([]int16, 0, len(configNamespaces))
	for _, ns := range configNamespaces {
		if s.inflight&configBit(ns) == 0 {
			continue
		}
		data := make([]byte, c.configSize(ns))
		fillRandom(c.env.Rand().Uint64, data)
		msgs = append(msgs, configMsg{ns: ns, data: data, hash: storagerpc.MessageHash(pubkeyOf(c.ID()), ns, data)})
		nss = append(nss, int16(ns))
	}
	// A config that changes makes its current message obsolete (libsession-util
	// src/config/base.cpp: its hash joins _old_hashes, which push() hands over for deletion),
	// so the push deletes what it replaces, and any left over from a delete that failed.
	old := slices.Clone(s.old)
	for k, ns := range configNamespaces {
		if s.inflight&configBit(ns) != 0 && s.hash[k] != "" && !slices.Contains(old, s.hash[k]) {
			old = append(old, s.hash[k])
		}
	}
	ep := c.epoch
	finish := func(ev ConfigPushed) {
		if !c.alive(ep) {
			return
		}
		c.configPushDone(msgs, old, ev)
	}
	c.swarmFor(c.ID(), func(Failure) { finish(ConfigPushed{DeleteFailed: len(old) > 0}) }, func(e *swarmEntry) {
		m, ok := c.pickMember(e)
		if !ok {
			finish(ConfigPushed{DeleteFailed: len(old) > 0})
			return
		}
		rpc, cost := configPushRequest(c.cfg.Suite, c.keys.signing(), c.ID(), msgs, old, c.netNowMS())
		c.env.Work(cost)
		c.onionRequest(m, "store", nss, c.ID(), rpc, func(res onionResult) {
			ev := ConfigPushed{Sent: res.sent, Deleted: len(old), DeleteFailed: len(old) > 0}
			switch {
			case res.status == 421:
				c.adopt421(e, m, res.body)
			case res.failure == OK:
				if err := c.readConfigPush(e, m, res.answer(), msgs, len(old) > 0, &ev); err != nil {
					c.garbage(GarbageMalformedResponse)
				}
			}
			finish(ev)
		})
	})
}

// readConfigPush reads the answer to a config push into ev: which stores succeeded, and whether
// the delete did not (ev.DeleteFailed). A 421 result adopts the swarm it names.
func (c *Client) readConfigPush(e *swarmEntry, m nodeIdx, a batchAnswer, msgs []configMsg, withDelete bool, ev *ConfigPushed) error {
	rs, err := a.decode()
	if err != nil {
		return err
	}
	if len(rs) > 0 && rs[0].Code == 421 {
		// The 421's own body: decode421 reads it as it reads the batch whose first result it is.
		c.adopt421(e, m, rs[0].Body)
	}
	for k := range msgs {
		if k >= len(rs) {
			// A sequence stops at its first failure.
			break
		}
		code, err := storeCode(rs[k])
		if err != nil {
			return err
		}
		if code == 200 {
			ev.Stored = append(ev.Stored, int16(msgs[k].ns))
			ev.Sizes = append(ev.Sizes, len(msgs[k].data))
		}
	}
	ev.DeleteFailed = withDelete && (len(rs) <= len(msgs) || rs[len(msgs)].Code != 200)
	return nil
}

// configPushDone records a push's outcome: stored configs become current, the others are
// pending again, the messages a failed delete left are kept for the next push's, and the next
// push is queued if any change is pending.
func (c *Client) configPushDone(msgs []configMsg, old []string, ev ConfigPushed) {
	s := &c.cfgs
	for _, m := range msgs {
		k := m.ns - storagerpc.NamespaceUserProfile
		if slices.Contains(ev.Stored, int16(m.ns)) {
			s.hash[k] = m.hash
			continue
		}
		ev.Failed = append(ev.Failed, int16(m.ns))
		s.dirty |= configBit(m.ns)
	}
	s.old = nil
	if ev.DeleteFailed {
		// A message still current is listed again when its replacement goes out.
		s.old = slices.DeleteFunc(old, func(h string) bool { return slices.Contains(s.hash[:], h) })
	}
	s.inflight = 0
	c.observe(ev)
	c.queueConfigPush()
}

// configExpire is the expire the next poll carries: the current config messages, their expiry
// moved to now + ConfigExpiry.Extend. It has no hashes before the first config is stored.
func (c *Client) configExpire() pollExpire {
	n := 0
	for _, h := range c.cfgs.hash {
		if h != "" {
			n++
		}
	}
	if n == 0 {
		return pollExpire{}
	}
	hs := make([]string, 0, n)
	for _, h := range c.cfgs.hash {
		if h != "" {
			hs = append(hs, h)
		}
	}
	ce := c.cfg.ConfigExpiry
	return pollExpire{hashes: hs, expiry: c.netNowMS() + ce.Extend.Milliseconds(), mode: ce.Mode, first: ce.First}
}
