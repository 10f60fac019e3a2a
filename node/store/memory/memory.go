// Package memory is the in-memory message store the simulator gives each service node: compact
// enough for millions of messages across thousands of nodes in one process.
//
// A message is one 64-byte record in a slab (hash as 32 bytes, times, insertion sequence, owner
// index, length, namespace), a 4-byte slot in an open-addressing hash index, an 8-byte entry in
// an expiry heap and a 4-byte entry in its owner's per-namespace list. With Config.MetadataOnly
// the payload bytes are dropped and only their length (and the opaque Message.Payload, when
// given) are kept, for modeled crypto where the simulator never needs the bytes back; returned
// messages then have Data == nil and DataLen set, so callers still account sizes.
//
// Payloads are kept without copying (Message.Data is immutable once stored), so copies of one
// message on several simulated nodes share their bytes.
package memory

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/sessionsim/sessionsim/node/store"
)

// Config configures a memory store.
type Config struct {
	// MetadataOnly drops payload bytes and keeps their length. Default false: payloads kept.
	MetadataOnly bool
}

// rec is one stored message; its index in Store.recs is its id.
type rec struct {
	hash    [32]byte // canonical hash bytes; zero when flagOddHash
	ts      int64
	exp     int64
	seq     uint32 // insertion order, renumbered before it wraps
	owner   uint32 // index in Store.owners
	dataLen uint32
	ns      int16
	flags   uint8
}

const (
	flagLive    = 1 << iota // the record holds a message
	flagOddHash             // the hash is not canonical; its string is in Store.oddNames
)

type ownerState struct {
	key   store.Owner
	space uint64
	lists []nsList // one per non-empty namespace, few per owner: searched linearly
}

type nsList struct {
	ns    int16
	dirty bool     // has records being removed
	ids   []uint32 // ascending seq
}

// Store is an in-memory store.Store. It is not safe for concurrent use.
type Store struct {
	cfg Config

	recs     []rec
	free     []uint32 // record ids to reuse
	data     [][]byte // by record id; nil when MetadataOnly
	payloads []any    // by record id; allocated when a first Payload arrives

	index    idTable           // of canonical hashes
	oddIDs   map[string]uint32 // non-canonical hashes
	oddNames map[uint32]string

	ownerIndex idTable // of owners
	owners     []ownerState
	freeOwners []uint32

	exp expiryHeap

	nextSeq   uint32
	seqLimit  uint32 // renumber once nextSeq reaches it
	iterating int    // EachInRange calls in progress: renumbering waits for them

	live      int
	dataBytes int64
	nsCounts  map[int16]int
	closed    bool
}

// seqSoftLimit leaves room for messages stored while an iteration postpones renumbering.
const seqSoftLimit = math.MaxUint32 - 1<<24

// New returns an empty store. Its maps are made when first written: an idle node's store holds
// none.
func New(cfg Config) *Store {
	return &Store{cfg: cfg, seqLimit: seqSoftLimit}
}

var _ store.Store = (*Store)(nil)

func (s *Store) lookup(hash string) (uint32, bool) {
	k, canonical := decodeHash(hash)
	return s.lookupKey(hash, &k, canonical)
}

// lookupKey is lookup with the hash already decoded.
func (s *Store) lookupKey(hash string, k *[32]byte, canonical bool) (uint32, bool) {
	if canonical {
		return s.indexFind(k)
	}
	id, ok := s.oddIDs[hash]
	return id, ok
}

func (s *Store) hashOf(id uint32) string {
	r := &s.recs[id]
	if r.flags&flagOddHash != 0 {
		return s.oddNames[id]
	}
	return encodeHash(&r.hash)
}

func (s *Store) message(id uint32) store.Message {
	r := &s.recs[id]
	m := store.Message{
		Hash:      s.hashOf(id),
		Owner:     s.owners[r.owner].key,
		Namespace: r.ns,
		Timestamp: r.ts,
		Expiry:    r.exp,
		DataLen:   int(r.dataLen),
	}
	if s.data != nil {
		m.Data = s.data[id]
	}
	if s.payloads != nil {
		m.Payload = s.payloads[id]
	}
	return m
}

// ownerOf finds an owner's index.
func (s *Store) ownerOf(o store.Owner) (uint32, bool) { return s.ownerFind(&o) }

func (s *Store) list(oi uint32, ns int16) *nsList {
	ls := s.owners[oi].lists
	for i := range ls {
		if ls[i].ns == ns {
			return &ls[i]
		}
	}
	return nil
}

// popFree takes the most recently freed slot from free; ok is false when there is none and the
// caller grows its table instead.
func popFree(free *[]uint32) (slot uint32, ok bool) {
	n := len(*free)
	if n == 0 {
		return 0, false
	}
	slot = (*free)[n-1]
	*free = (*free)[:n-1]
	return slot, true
}

func (s *Store) ownerFor(o store.Owner) uint32 {
	if oi, ok := s.ownerFind(&o); ok {
		return oi
	}
	oi, ok := popFree(&s.freeOwners)
	if !ok {
		oi = uint32(len(s.owners))
		s.owners = append(s.owners, ownerState{})
	}
	s.owners[oi] = ownerState{key: o, space: o.SwarmSpace()}
	s.ownerIndex.add(oi, s.ownerHome)
	return oi
}

func (s *Store) insert(m *store.Message, k *[32]byte, canonical bool) {
	if s.nextSeq >= s.seqLimit && (s.iterating == 0 || s.nextSeq == math.MaxUint32) {
		s.renumber()
	}
	id, ok := popFree(&s.free)
	if !ok {
		id = uint32(len(s.recs))
		s.recs = append(s.recs, rec{})
		if !s.cfg.MetadataOnly {
			s.data = append(s.data, nil)
		}
		if s.payloads != nil {
			s.payloads = append(s.payloads, nil)
		}
	}
	oi := s.ownerFor(m.Owner)
	n := m.Len()
	r := &s.recs[id]
	*r = rec{ts: m.Timestamp, exp: m.Expiry, seq: s.nextSeq, owner: oi, dataLen: uint32(n), ns: m.Namespace, flags: flagLive}
	s.nextSeq++
	if canonical {
		r.hash = *k
		s.index.add(id, s.recHome)
	} else {
		r.flags |= flagOddHash
		if s.oddIDs == nil {
			s.oddIDs, s.oddNames = map[string]uint32{}, map[uint32]string{}
		}
		s.oddIDs[m.Hash] = id
		s.oddNames[id] = m.Hash
	}
	if !s.cfg.MetadataOnly {
		s.data[id] = m.Data
	}
	if m.Payload != nil {
		if s.payloads == nil {
			s.payloads = make([]any, len(s.recs), cap(s.recs))
		}
		s.payloads[id] = m.Payload
	}
	l := s.list(oi, m.Namespace)
	if l == nil {
		o := &s.owners[oi]
		o.lists = append(o.lists, nsList{ns: m.Namespace})
		l = &o.lists[len(o.lists)-1]
	}
	l.ids = append(l.ids, id)
	s.exp.push(expiryEntry(m.Expiry, id))
	s.live++
	s.dataBytes += int64(n)
	if s.nsCounts == nil {
		s.nsCounts = map[int16]int{}
	}
	s.nsCounts[m.Namespace]++
}

// renumber reassigns insertion sequences 0..n-1 in the same order, so that 32 bits never wrap.
func (s *Store) renumber() {
	ids := make([]uint32, 0, s.live)
	for id := range s.recs {
		if s.recs[id].flags&flagLive != 0 {
			ids = append(ids, uint32(id))
		}
	}
	s.sortBySeq(ids)
	for i, id := range ids {
		s.recs[id].seq = uint32(i)
	}
	s.nextSeq = uint32(len(ids))
}

func (s *Store) sortBySeq(ids []uint32) {
	slices.SortFunc(ids, func(a, b uint32) int {
		x, y := s.recs[a].seq, s.recs[b].seq
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
}

// kill marks a record as going; sweep then removes every killed record. Two phases, so that
// bulk removals filter each namespace list once instead of once per message.
func (s *Store) kill(id uint32) {
	r := &s.recs[id]
	r.flags &^= flagLive
	s.list(r.owner, r.ns).dirty = true
}

func (s *Store) sweep(killed []uint32) {
	if len(killed) == 0 {
		return
	}
	for _, id := range killed {
		r := &s.recs[id]
		o := &s.owners[r.owner]
		for i := range o.lists {
			l := &o.lists[i]
			if !l.dirty {
				continue
			}
			l.dirty = false
			l.ids = slices.DeleteFunc(l.ids, func(x uint32) bool { return s.recs[x].flags&flagLive == 0 })
		}
		// Drop emptied lists and owners, as the real database forgets owners without messages.
		o.lists = slices.DeleteFunc(o.lists, func(l nsList) bool { return len(l.ids) == 0 })
		if len(o.lists) == 0 && o.lists != nil {
			s.ownerIndex.remove(r.owner, s.ownerHome)
			*o = ownerState{}
			s.freeOwners = append(s.freeOwners, r.owner)
		}
	}
	for _, id := range killed {
		r := &s.recs[id]
		if r.flags&flagOddHash != 0 {
			delete(s.oddIDs, s.oddNames[id])
			delete(s.oddNames, id)
		} else {
			s.index.remove(id, s.recHome)
		}
		if s.data != nil {
			s.data[id] = nil
		}
		if s.payloads != nil {
			s.payloads[id] = nil
		}
		s.live--
		s.dataBytes -= int64(r.dataLen)
		if s.nsCounts[r.ns]--; s.nsCounts[r.ns] == 0 {
			delete(s.nsCounts, r.ns)
		}
		*r = rec{}
		s.free = append(s.free, id)
	}
	// Removed records leave their heap entries behind until their expiry comes.
	s.maybeRebuildExpiry()
}

func (s *Store) check() error {
	if s.closed {
		return fmt.Errorf("memory store: %w", store.ErrClosed)
	}
	return nil
}

// Store implements store.Store.
func (s *Store) Store(m store.Message) (store.StoreResult, int64, error) {
	if err := s.check(); err != nil {
		return 0, 0, err
	}
	if err := store.Check(&m); err != nil {
		return 0, 0, err
	}
	res, exp := s.store(&m)
	return res, exp, nil
}

func (s *Store) store(m *store.Message) (store.StoreResult, int64) {
	if store.IsPublicOutbox(m.Namespace) {
		s.clearOutbox(m)
	}
	k, canonical := decodeHash(m.Hash)
	if id, ok := s.lookupKey(m.Hash, &k, canonical); ok {
		r := &s.recs[id]
		if r.exp < m.Expiry {
			s.setExpiry(id, m.Expiry)
			return store.Extended, m.Expiry
		}
		return store.Exists, r.exp
	}
	s.insert(m, &k, canonical)
	return store.New, m.Expiry
}

// clearOutbox removes the owner's other messages in m's public outbox namespace.
func (s *Store) clearOutbox(m *store.Message) {
	oi, ok := s.ownerOf(m.Owner)
	if !ok {
		return
	}
	l := s.list(oi, m.Namespace)
	if l == nil {
		return
	}
	var killed []uint32
	for _, id := range l.ids {
		if s.hashOf(id) != m.Hash {
			killed = append(killed, id)
		}
	}
	for _, id := range killed {
		s.kill(id)
	}
	s.sweep(killed)
}

// StoreBatch implements store.Store.
func (s *Store) StoreBatch(msgs []store.Message) ([]store.StoreResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	for i := range msgs {
		if err := store.Check(&msgs[i]); err != nil {
			return nil, fmt.Errorf("batch message %d: %w", i, err)
		}
	}
	out := make([]store.StoreResult, len(msgs))
	for i := range msgs {
		out[i], _ = s.store(&msgs[i])
	}
	return out, nil
}

// Get implements store.Store.
func (s *Store) Get(hash string) (store.Message, bool, error) {
	if err := s.check(); err != nil {
		return store.Message{}, false, err
	}
	id, ok := s.lookup(hash)
	if !ok {
		return store.Message{}, false, nil
	}
	return s.message(id), true, nil
}

// Retrieve implements store.Store.
func (s *Store) Retrieve(owner store.Owner, ns int16, lastHash string, maxSize, maxCount int) ([]store.Message, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	oi, ok := s.ownerOf(owner)
	if !ok {
		return nil, false, nil
	}
	l := s.list(oi, ns)
	if l == nil {
		return nil, false, nil
	}
	ids := l.ids
	if lastHash != "" {
		if id, ok := s.lookup(lastHash); ok {
			if r := &s.recs[id]; r.owner == oi && r.ns == ns {
				seq := r.seq
				ids = ids[sort.Search(len(ids), func(i int) bool { return s.recs[ids[i]].seq > seq }):]
			}
		}
	}
	n := len(ids)
	if maxCount > 0 {
		n = min(n, maxCount)
	}
	out := make([]store.Message, 0, min(n, 256))
	size := 0
	for i, id := range ids {
		if maxCount > 0 && i >= maxCount {
			return out, true, nil
		}
		if maxSize > 0 {
			r := &s.recs[id]
			hl := hashLen
			if r.flags&flagOddHash != 0 {
				hl = len(s.oddNames[id])
			}
			size += store.RetrieveCost(hl, int(r.dataLen))
			if len(out) > 0 && size > maxSize {
				return out, true, nil
			}
		}
		out = append(out, s.message(id))
	}
	return out, false, nil
}

// scopeIDs returns the owner's record ids in scope, in insertion order.
func (s *Store) scopeIDs(oi uint32, sc store.Scope) []uint32 {
	var ids []uint32
	lists := 0
	for _, l := range s.owners[oi].lists {
		if sc.Has(l.ns) {
			ids = append(ids, l.ids...)
			lists++
		}
	}
	if lists > 1 {
		s.sortBySeq(ids)
	}
	return ids
}

// withOwner runs f with owner's index in an open store; an owner the store has never seen has
// nothing to act on, and gets f's zero result.
func withOwner[T any](s *Store, owner store.Owner, f func(oi uint32) T) (T, error) {
	var zero T
	if err := s.check(); err != nil {
		return zero, err
	}
	oi, ok := s.ownerOf(owner)
	if !ok {
		return zero, nil
	}
	return f(oi), nil
}

// ownedBy reports whether the record id belongs to owner. Delete, Expire and GetExpiries find
// each record by its hash first and ask its owner this way, rather than look the owner up in
// ownerIndex: comparing the record's owner key is cheaper than probing a table as large as the
// store's owners, and an owner the store has never seen owns no record.
func (s *Store) ownedBy(id uint32, owner *store.Owner) bool {
	return s.owners[s.recs[id].owner].key == *owner
}

// Delete implements store.Store.
func (s *Store) Delete(owner store.Owner, hashes []string) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []string
	var killed []uint32
	for _, h := range hashes {
		id, ok := s.lookup(h)
		// A hash listed twice finds its record already killed (its owner is still in place
		// until the sweep).
		if !ok || s.recs[id].flags&flagLive == 0 || !s.ownedBy(id, &owner) {
			continue
		}
		s.kill(id)
		killed = append(killed, id)
		out = append(out, h)
	}
	s.sweep(killed)
	return out, nil
}

func (s *Store) deleteWhere(owner store.Owner, sc store.Scope, keep func(*rec) bool) []store.Affected {
	oi, ok := s.ownerOf(owner)
	if !ok {
		return nil
	}
	var out []store.Affected
	var killed []uint32
	for _, id := range s.scopeIDs(oi, sc) {
		r := &s.recs[id]
		if keep != nil && keep(r) {
			continue
		}
		out = append(out, store.Affected{Namespace: r.ns, Hash: s.hashOf(id)})
		killed = append(killed, id)
	}
	for _, id := range killed {
		s.kill(id)
	}
	s.sweep(killed)
	return out
}

// DeleteAll implements store.Store.
func (s *Store) DeleteAll(owner store.Owner, sc store.Scope) ([]store.Affected, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.deleteWhere(owner, sc, nil), nil
}

// DeleteBefore implements store.Store.
func (s *Store) DeleteBefore(owner store.Owner, sc store.Scope, before int64) ([]store.Affected, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.deleteWhere(owner, sc, func(r *rec) bool { return r.ts > before }), nil
}

// Expire implements store.Store.
func (s *Store) Expire(owner store.Owner, hashes []string, expiry int64, mode store.ExpireMode) ([]store.HashExpiry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []store.HashExpiry
	unique := store.UniqueHashes(hashes)
	for _, h := range unique {
		id, ok := s.lookup(h)
		if !ok || !s.ownedBy(id, &owner) || !mode.Applies(s.recs[id].exp, expiry) {
			continue
		}
		s.setExpiry(id, expiry)
		if out == nil {
			out = make([]store.HashExpiry, 0, len(unique)) // sized once: most expires update every hash
		}
		out = append(out, store.HashExpiry{Hash: h, Expiry: expiry})
	}
	return out, nil
}

// ExpireAll implements store.Store.
func (s *Store) ExpireAll(owner store.Owner, sc store.Scope, expiry int64) ([]store.Affected, error) {
	return withOwner(s, owner, func(oi uint32) []store.Affected {
		var out []store.Affected
		for _, id := range s.scopeIDs(oi, sc) {
			if s.recs[id].exp > expiry {
				s.setExpiry(id, expiry)
				out = append(out, store.Affected{Namespace: s.recs[id].ns, Hash: s.hashOf(id)})
			}
		}
		return out
	})
}

// GetExpiries implements store.Store.
func (s *Store) GetExpiries(owner store.Owner, hashes []string) ([]store.HashExpiry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []store.HashExpiry
	for _, h := range store.UniqueHashes(hashes) {
		if id, ok := s.lookup(h); ok && s.ownedBy(id, &owner) {
			out = append(out, store.HashExpiry{Hash: h, Expiry: s.recs[id].exp})
		}
	}
	return out, nil
}

// CleanExpired implements store.Store.
func (s *Store) CleanExpired(now int64) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	limit := expirySecond(now)
	var killed []uint32
	var keep []uint64
	for len(s.exp) > 0 && s.exp[0]>>32 <= limit {
		e := s.exp.pop()
		id := uint32(e)
		r := &s.recs[id]
		switch sec := expirySecond(r.exp); {
		case r.flags&flagLive == 0:
			// stale: the record went (or is going in this sweep)
		case r.exp <= now:
			s.kill(id)
			killed = append(killed, id)
		case sec == e>>32:
			keep = append(keep, e) // expires later in this second
		case sec > e>>32:
			keep = append(keep, expiryEntry(r.exp, id)) // its expiry moved later
		}
		// An entry later than its record's second is stale: the record was moved earlier and
		// has an entry there.
	}
	for _, e := range keep {
		s.exp.push(e)
	}
	s.sweep(killed)
	return len(killed), nil
}

// EachInRange implements store.Store.
func (s *Store) EachInRange(r store.SpaceRange, fn func(store.Message) bool) error {
	if err := s.check(); err != nil {
		return err
	}
	type ref struct{ id, seq uint32 }
	var refs []ref
	for oi := range s.owners {
		o := &s.owners[oi]
		if o.lists == nil || !r.Contains(o.space) {
			continue
		}
		for _, l := range o.lists {
			for _, id := range l.ids {
				refs = append(refs, ref{id, s.recs[id].seq})
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	s.iterating++
	defer func() { s.iterating-- }()
	for _, x := range refs {
		if s.closed {
			return fmt.Errorf("memory store: closed during iteration: %w", store.ErrClosed)
		}
		// Skip what fn removed meanwhile; a reused id carries a newer sequence.
		if rr := &s.recs[x.id]; rr.flags&flagLive == 0 || rr.seq != x.seq {
			continue
		}
		if !fn(s.message(x.id)) {
			return nil
		}
	}
	return nil
}

// Per-entry sizes for the footprint estimate.
const (
	recBytes      = 64
	ownerBytes    = 72 // ownerState
	listBytes     = 32
	oddHashBytes  = 2 * (16 + 4 + 16) // both side maps, excluding the string itself
	sliceHdrBytes = 24
	ifaceBytes    = 16
)

// Stats implements store.Store.
func (s *Store) Stats() (store.Stats, error) {
	if err := s.check(); err != nil {
		return store.Stats{}, err
	}
	st := store.Stats{Messages: s.live, Owners: s.ownerIndex.n, DataBytes: s.dataBytes}
	keys := make([]int16, 0, len(s.nsCounts))
	for ns := range s.nsCounts {
		keys = append(keys, ns)
	}
	slices.Sort(keys)
	for _, ns := range keys {
		st.Namespaces = append(st.Namespaces, store.NamespaceCount{Namespace: ns, Messages: s.nsCounts[ns]})
	}
	st.Footprint = s.footprint()
	return st, nil
}

func (s *Store) footprint() int64 {
	b := int64(cap(s.recs))*recBytes + int64(cap(s.free))*4 +
		int64(cap(s.data))*sliceHdrBytes + int64(cap(s.payloads))*ifaceBytes +
		int64(len(s.index.slots))*4 + int64(cap(s.exp))*8 +
		int64(cap(s.owners))*ownerBytes + int64(len(s.ownerIndex.slots))*4 + int64(cap(s.freeOwners))*4
	for i := range s.owners {
		b += int64(cap(s.owners[i].lists)) * listBytes
		for _, l := range s.owners[i].lists {
			b += int64(cap(l.ids)) * 4
		}
	}
	for _, name := range s.oddNames {
		b += oddHashBytes + int64(len(name))
	}
	if !s.cfg.MetadataOnly {
		b += s.dataBytes
	}
	return b
}

// Close implements store.Store. It drops everything the store holds.
func (s *Store) Close() error {
	*s = Store{cfg: s.cfg, closed: true}
	return nil
}
