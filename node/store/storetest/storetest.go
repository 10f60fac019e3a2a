// Package storetest is the conformance suite every store.Store implementation must pass: the
// semantics of session-storage-server's database (ordering, last_hash paging, size limits,
// duplicates, delete and expire, cleaning, swarm-space iteration) as table-driven cases, and a
// randomized comparison against a plain reference model.
package storetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// Options describes what the store under test keeps.
type Options struct {
	// MetadataOnly: the store drops payload bytes (Data comes back nil, DataLen set).
	MetadataOnly bool
	// ModelOps is the number of random operations of the model comparison; 0 means 3000.
	ModelOps int
}

// NewFunc returns a fresh, empty store; the suite closes it.
type NewFunc func(t *testing.T) store.Store

// Run runs the suite on a store that keeps payloads.
func Run(t *testing.T, newStore NewFunc) { RunOptions(t, Options{}, newStore) }

// RunOptions runs the suite with options.
func RunOptions(t *testing.T, opts Options, newStore NewFunc) {
	s := suite{opts: opts, newStore: newStore}
	for _, c := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"StoreAndGet", s.storeAndGet},
		{"Duplicates", s.duplicates},
		{"InsertionOrder", s.insertionOrder},
		{"LastHashPaging", s.lastHashPaging},
		{"SizeLimits", s.sizeLimits},
		{"Namespaces", s.namespaces},
		{"OwnersIsolated", s.ownersIsolated},
		{"Delete", s.delete},
		{"DeleteAll", s.deleteAll},
		{"DeleteBefore", s.deleteBefore},
		{"Expire", s.expire},
		{"ExpireAll", s.expireAll},
		{"GetExpiries", s.getExpiries},
		{"CleanExpired", s.cleanExpired},
		{"EachInRange", s.eachInRange},
		{"EachInRangeMutation", s.eachInRangeMutation},
		{"PublicOutbox", s.publicOutbox},
		{"StoreBatch", s.storeBatch},
		{"Stats", s.stats},
		{"Hashes", s.hashes},
		{"Closed", s.closed},
		{"Model", s.model},
	} {
		t.Run(c.name, c.run)
	}
}

type suite struct {
	opts     Options
	newStore NewFunc
}

func (s suite) open(t *testing.T) store.Store {
	t.Helper()
	st := s.newStore(t)
	require.NotNil(t, st)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// holding opens a store that holds msgs, stored in order, each new to it.
func (s suite) holding(t *testing.T, msgs ...store.Message) store.Store {
	t.Helper()
	st := s.open(t)
	mustStore(t, st, msgs...)
	return st
}

// OwnerAt returns an owner (prefix 05) whose swarm space position is space; salt tells apart
// owners at the same position.
func OwnerAt(space uint64, salt uint64) store.Owner {
	var o store.Owner
	o[0] = 0x05
	w1 := salt*0x9E3779B97F4A7C15 + 1
	binary.BigEndian.PutUint64(o[1:], space^w1)
	binary.BigEndian.PutUint64(o[9:], w1)
	return o
}

// Hash is the real message hash (storagerpc.MessageHash) of data stored for o in namespace ns.
func Hash(o store.Owner, ns int16, data []byte) string {
	return storagerpc.MessageHash(storagerpc.Pubkey{Prefix: o.Prefix(), Key: [32]byte(o.Key())}, storagerpc.Namespace(ns), data)
}

// Msg builds a message with its real hash.
func Msg(o store.Owner, ns int16, data string, ts, exp int64) store.Message {
	d := []byte(data)
	return store.Message{Hash: Hash(o, ns, d), Owner: o, Namespace: ns, Timestamp: ts, Expiry: exp, Data: d}
}

const (
	t0   = int64(1_700_000_000_000) // a plausible "now" in ms
	hour = int64(3_600_000)
)

var (
	alice = OwnerAt(100, 1)
	bob   = OwnerAt(200, 2)
)

func mustStore(t *testing.T, st store.Store, msgs ...store.Message) {
	t.Helper()
	for _, m := range msgs {
		res, _, err := st.Store(m)
		require.NoError(t, err)
		require.Equal(t, store.New, res, "storing %s", m.Hash)
	}
}

// retrieveAfter is what st holds for o in ns after lastHash ("" for all), without limits.
func retrieveAfter(t *testing.T, st store.Store, o store.Owner, ns int16, lastHash string) []store.Message {
	t.Helper()
	got, _, err := st.Retrieve(o, ns, lastHash, 0, 0)
	require.NoError(t, err)
	return got
}

// series makes n messages for o in ns, timestamps t0+i s, expiring in an hour.
func series(o store.Owner, ns int16, n int, tag string) []store.Message {
	out := make([]store.Message, n)
	for i := range out {
		out[i] = Msg(o, ns, fmt.Sprintf("%s-%d", tag, i), t0+int64(i)*1000, t0+hour)
	}
	return out
}

func hashesOf(msgs []store.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Hash
	}
	return out
}

// sameList checks got against want, taking nil and empty as the same.
func sameList[T any](t *testing.T, want, got []T) {
	t.Helper()
	if len(want) == 0 {
		assert.Empty(t, got)
		return
	}
	assert.Equal(t, want, got)
}

func affectedOf(msgs []store.Message) []store.Affected {
	out := make([]store.Affected, len(msgs))
	for i, m := range msgs {
		out[i] = store.Affected{Namespace: m.Namespace, Hash: m.Hash}
	}
	return out
}

// sameMessage checks a returned message against what was stored, payload per the options.
func (s suite) sameMessage(t *testing.T, want, got store.Message) {
	t.Helper()
	assert.Equal(t, want.Hash, got.Hash)
	assert.Equal(t, want.Owner, got.Owner, "owner of %s", want.Hash)
	assert.Equal(t, want.Namespace, got.Namespace, "namespace of %s", want.Hash)
	assert.Equal(t, want.Timestamp, got.Timestamp, "timestamp of %s", want.Hash)
	assert.Equal(t, want.Expiry, got.Expiry, "expiry of %s", want.Hash)
	assert.Equal(t, want.Len(), got.DataLen, "data length of %s", want.Hash)
	if s.opts.MetadataOnly {
		assert.Nil(t, got.Data, "metadata-only store returned data for %s", want.Hash)
	} else {
		assert.True(t, bytes.Equal(want.Data, got.Data), "data of %s: got %q want %q", want.Hash, got.Data, want.Data)
	}
}

func (s suite) sameMessages(t *testing.T, want, got []store.Message) {
	t.Helper()
	require.Equal(t, hashesOf(want), hashesOf(got))
	for i := range want {
		s.sameMessage(t, want[i], got[i])
	}
}

func (s suite) storeAndGet(t *testing.T) {
	cases := []struct {
		name string
		msg  store.Message
	}{
		{"inbox", Msg(alice, 0, "hello", t0, t0+hour)},
		{"config namespace", Msg(alice, 2, "profile", t0, t0+30*24*hour)},
		{"negative namespace", Msg(bob, -10, "legacy group", t0, t0+hour)},
		{"group prefix", Msg(store.Owner{0x03, 1, 2, 3}, 11, "group message", t0, t0+hour)},
		{"empty data", Msg(alice, 0, "", t0, t0+hour)},
		{"max payload", Msg(bob, 0, string(bytes.Repeat([]byte{0xab}, 76_800)), t0, t0+hour)},
		{"extreme times", Msg(bob, 5, "x", -1, 1<<62)},
	}
	st := s.open(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, exp, err := st.Store(c.msg)
			require.NoError(t, err)
			assert.Equal(t, store.New, res)
			assert.False(t, res.Already())
			assert.Equal(t, c.msg.Expiry, exp)
			got, ok, err := st.Get(c.msg.Hash)
			require.NoError(t, err)
			require.True(t, ok)
			s.sameMessage(t, c.msg, got)
		})
	}
	_, ok, err := st.Get(Hash(alice, 0, []byte("never stored")))
	require.NoError(t, err)
	assert.False(t, ok)
}

func (s suite) duplicates(t *testing.T) {
	cases := []struct {
		name      string
		second    int64 // expiry of the second store, relative to the first's
		want      store.StoreResult
		wantExpAt int64 // resulting expiry, relative
	}{
		{"later extends", 1000, store.Extended, 1000},
		{"one ms later extends", 1, store.Extended, 1},
		{"same is kept", 0, store.Exists, 0},
		{"earlier never shortens", -5000, store.Exists, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.open(t)
			first := Msg(alice, 0, "dup", t0, t0+hour)
			mustStore(t, st, first)
			again := first
			again.Timestamp = t0 + 500 // a resend carries its own timestamp
			again.Expiry = first.Expiry + c.second
			res, exp, err := st.Store(again)
			require.NoError(t, err)
			assert.Equal(t, c.want, res)
			assert.True(t, res.Already())
			assert.Equal(t, first.Expiry+c.wantExpAt, exp)
			got, ok, err := st.Get(first.Hash)
			require.NoError(t, err)
			require.True(t, ok)
			want := first
			want.Expiry = first.Expiry + c.wantExpAt
			s.sameMessage(t, want, got) // timestamp and data of the first copy stay
			msgs := retrieveAfter(t, st, alice, 0, "")
			assert.Len(t, msgs, 1, "a duplicate is stored once")
		})
	}
	t.Run("hash is unique across owners", func(t *testing.T) {
		st := s.open(t)
		m := Msg(alice, 0, "shared", t0, t0+hour)
		mustStore(t, st, m)
		other := m
		other.Owner = bob
		other.Expiry = m.Expiry + hour
		res, exp, err := st.Store(other)
		require.NoError(t, err)
		assert.Equal(t, store.Extended, res)
		assert.Equal(t, other.Expiry, exp)
		got, _, err := st.Get(m.Hash)
		require.NoError(t, err)
		assert.Equal(t, alice, got.Owner, "the message stays with its first owner")
		msgs := retrieveAfter(t, st, bob, 0, "")
		assert.Empty(t, msgs)
	})
}

func (s suite) insertionOrder(t *testing.T) {
	st := s.open(t)
	// Timestamps out of order: retrieve follows arrival, not timestamp.
	msgs := []store.Message{
		Msg(alice, 0, "c", t0+3000, t0+hour),
		Msg(alice, 0, "a", t0+1000, t0+hour),
		Msg(alice, 0, "d", t0+4000, t0+2*hour),
		Msg(alice, 0, "b", t0+2000, t0+hour/2),
	}
	mustStore(t, st, msgs...)
	got, more, err := st.Retrieve(alice, 0, "", 0, 0)
	require.NoError(t, err)
	assert.False(t, more)
	s.sameMessages(t, msgs, got)
}

func (s suite) lastHashPaging(t *testing.T) {
	msgs := series(alice, 0, 10, "page")
	other := series(alice, 2, 3, "other-ns")
	st := s.holding(t, slices.Concat(msgs, other)...)
	cases := []struct {
		name     string
		lastHash string
		want     []store.Message
	}{
		{"empty starts at the first", "", msgs},
		{"after the third", msgs[2].Hash, msgs[3:]},
		{"after the last is nothing", msgs[9].Hash, nil},
		{"unknown hash starts at the first", Hash(alice, 0, []byte("unknown")), msgs},
		{"hash of another namespace starts at the first", other[1].Hash, msgs},
		{"garbage starts at the first", "not a hash at all", msgs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, more, err := st.Retrieve(alice, 0, c.lastHash, 0, 0)
			require.NoError(t, err)
			assert.False(t, more)
			s.sameMessages(t, c.want, got)
		})
	}
	t.Run("paging by count visits everything once", func(t *testing.T) {
		for _, per := range []int{1, 3, 5, 10, 11} {
			var all []store.Message
			last := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20, "paging does not end")
				got, more, err := st.Retrieve(alice, 0, last, 0, per)
				require.NoError(t, err)
				require.LessOrEqual(t, len(got), per)
				all = append(all, got...)
				if !more {
					break
				}
				require.Len(t, got, per, "a page with more after it is full")
				last = got[len(got)-1].Hash
			}
			assert.Equal(t, hashesOf(msgs), hashesOf(all), "page size %d", per)
		}
	})
	t.Run("last hash deleted meanwhile restarts", func(t *testing.T) {
		ms := series(bob, 0, 4, "gone")
		st := s.holding(t, ms...)
		_, err := st.Delete(bob, []string{ms[1].Hash})
		require.NoError(t, err)
		got := retrieveAfter(t, st, bob, 0, ms[1].Hash)
		assert.Equal(t, hashesOf([]store.Message{ms[0], ms[2], ms[3]}), hashesOf(got))
	})
}

func (s suite) sizeLimits(t *testing.T) {
	st := s.open(t)
	var msgs []store.Message
	for i, n := range []int{300, 300, 300, 900, 0} {
		msgs = append(msgs, Msg(alice, 0, string(bytes.Repeat([]byte{byte('a' + i)}, n)), t0+int64(i), t0+hour))
	}
	mustStore(t, st, msgs...)
	cost := func(i int) int { return store.RetrieveCost(len(msgs[i].Hash), msgs[i].Len()) }
	c300 := cost(0) // 100 + 43 + 400
	require.Equal(t, 543, c300)
	cases := []struct {
		name      string
		maxSize   int
		maxCount  int
		wantN     int
		wantMore  bool
		startFrom int
	}{
		{"no limits", 0, 0, 5, false, 0},
		{"exactly two fit", 2 * c300, 0, 2, true, 0},
		{"one byte short of two", 2*c300 - 1, 0, 1, true, 0},
		{"first always returned even if too big", 1, 0, 1, true, 0},
		{"big one alone over the limit", c300, 0, 1, true, 3},
		{"all fit exactly", cost(0) + cost(1) + cost(2) + cost(3) + cost(4), 0, 5, false, 0},
		{"count binds first", 10 * c300, 2, 2, true, 0},
		{"size binds first", 2 * c300, 4, 2, true, 0},
		{"count equals remaining", 0, 5, 5, false, 0},
		{"count above remaining", 0, 50, 5, false, 0},
		{"count from the middle", 0, 1, 1, true, 2},
		{"negative limits are none", -1, -1, 5, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			last := ""
			if c.startFrom > 0 {
				last = msgs[c.startFrom-1].Hash
			}
			got, more, err := st.Retrieve(alice, 0, last, c.maxSize, c.maxCount)
			require.NoError(t, err)
			assert.Equal(t, hashesOf(msgs[c.startFrom:c.startFrom+c.wantN]), hashesOf(got))
			assert.Equal(t, c.wantMore, more)
		})
	}
}

func (s suite) namespaces(t *testing.T) {
	st := s.open(t)
	byNS := map[int16][]store.Message{}
	for _, ns := range []int16{0, 2, 3, -10, 11, 32767, -32768} {
		byNS[ns] = series(alice, ns, 3, fmt.Sprint("ns", ns))
	}
	// Interleave the namespaces so that each one's order is tested against the others.
	for i := range 3 {
		for _, ns := range []int16{0, 2, 3, -10, 11, 32767, -32768} {
			mustStore(t, st, byNS[ns][i])
		}
	}
	for ns, want := range byNS {
		got, more, err := st.Retrieve(alice, ns, "", 0, 0)
		require.NoError(t, err)
		assert.False(t, more)
		s.sameMessages(t, want, got)
	}
	got := retrieveAfter(t, st, alice, 4, "")
	assert.Empty(t, got, "an unused namespace is empty")

	del, err := st.DeleteAll(alice, store.InNamespace(2))
	require.NoError(t, err)
	assert.Equal(t, affectedOf(byNS[2]), del)
	got = retrieveAfter(t, st, alice, 2, "")
	assert.Empty(t, got)
	got = retrieveAfter(t, st, alice, 3, "")
	assert.Len(t, got, 3, "other namespaces untouched")
}

func (s suite) ownersIsolated(t *testing.T) {
	a := series(alice, 0, 3, "alice")
	b := series(bob, 0, 2, "bob")
	st := s.holding(t, slices.Concat(a, b)...)
	stranger := OwnerAt(100, 99) // same swarm position as alice, different key
	for _, c := range []struct {
		name  string
		owner store.Owner
		want  []store.Message
	}{
		{"alice", alice, a},
		{"bob", bob, b},
		{"stranger", stranger, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := retrieveAfter(t, st, c.owner, 0, "")
			s.sameMessages(t, c.want, got)
		})
	}
	t.Run("others cannot touch alice's messages", func(t *testing.T) {
		hs := hashesOf(a)
		// bob has messages of his own, the stranger none: neither reaches alice's by hash.
		for _, o := range []store.Owner{bob, stranger} {
			del, err := st.Delete(o, hs)
			require.NoError(t, err)
			assert.Empty(t, del)
			exp, err := st.Expire(o, hs, t0, store.ExpireEither)
			require.NoError(t, err)
			assert.Empty(t, exp)
			ge, err := st.GetExpiries(o, hs)
			require.NoError(t, err)
			assert.Empty(t, ge)
		}
		aff, err := st.DeleteAll(stranger, store.AllNamespaces)
		require.NoError(t, err)
		assert.Empty(t, aff)
		aff, err = st.ExpireAll(stranger, store.AllNamespaces, t0)
		require.NoError(t, err)
		assert.Empty(t, aff)
		got := retrieveAfter(t, st, alice, 0, "")
		s.sameMessages(t, a, got)
	})
	t.Run("last hash of another owner starts at the first", func(t *testing.T) {
		got := retrieveAfter(t, st, alice, 0, b[0].Hash)
		assert.Equal(t, hashesOf(a), hashesOf(got))
	})
}

func (s suite) delete(t *testing.T) {
	msgs := series(alice, 0, 5, "del")
	unknown := Hash(alice, 0, []byte("unknown"))
	cases := []struct {
		name    string
		hashes  []string
		want    []string
		remains []int
	}{
		{"one", []string{msgs[2].Hash}, []string{msgs[2].Hash}, []int{0, 1, 3, 4}},
		{"in request order", []string{msgs[4].Hash, msgs[0].Hash}, []string{msgs[4].Hash, msgs[0].Hash}, []int{1, 2, 3}},
		{"unknown skipped", []string{unknown, msgs[1].Hash}, []string{msgs[1].Hash}, []int{0, 2, 3, 4}},
		{"repeated once", []string{msgs[3].Hash, msgs[3].Hash}, []string{msgs[3].Hash}, []int{0, 1, 2, 4}},
		{"none", nil, nil, []int{0, 1, 2, 3, 4}},
		{"all", hashesOf(msgs), hashesOf(msgs), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.holding(t, msgs...)
			got, err := st.Delete(alice, c.hashes)
			require.NoError(t, err)
			sameList(t, c.want, got)
			var want []store.Message
			for _, i := range c.remains {
				want = append(want, msgs[i])
			}
			left := retrieveAfter(t, st, alice, 0, "")
			s.sameMessages(t, want, left)
			for _, h := range c.want {
				_, ok, err := st.Get(h)
				require.NoError(t, err)
				assert.False(t, ok, "%s still there", h)
			}
		})
	}
	t.Run("stored again after delete is new and last", func(t *testing.T) {
		st := s.holding(t, msgs...)
		_, err := st.Delete(alice, []string{msgs[0].Hash})
		require.NoError(t, err)
		mustStore(t, st, msgs[0])
		left := retrieveAfter(t, st, alice, 0, "")
		assert.Equal(t, hashesOf(append(append([]store.Message{}, msgs[1:]...), msgs[0])), hashesOf(left))
	})
}

func (s suite) deleteAll(t *testing.T) {
	a0 := series(alice, 0, 2, "a0")
	a2 := series(alice, 2, 2, "a2")
	b0 := series(bob, 0, 2, "b0")
	// Stored interleaved, so "all namespaces" must come back in insertion order across them.
	order := []store.Message{a0[0], a2[0], b0[0], a0[1], a2[1], b0[1]}
	cases := []struct {
		name  string
		owner store.Owner
		scope store.Scope
		want  []store.Message
	}{
		{"all namespaces", alice, store.AllNamespaces, []store.Message{a0[0], a2[0], a0[1], a2[1]}},
		{"one namespace", alice, store.InNamespace(2), a2},
		{"empty namespace", alice, store.InNamespace(7), nil},
		{"other owner", bob, store.AllNamespaces, b0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.holding(t, order...)
			got, err := st.DeleteAll(c.owner, c.scope)
			require.NoError(t, err)
			sameList(t, affectedOf(c.want), got)
			stats, err := st.Stats()
			require.NoError(t, err)
			assert.Equal(t, len(order)-len(c.want), stats.Messages)
			for _, m := range c.want {
				_, ok, err := st.Get(m.Hash)
				require.NoError(t, err)
				assert.False(t, ok)
			}
		})
	}
}

func (s suite) deleteBefore(t *testing.T) {
	a0 := series(alice, 0, 4, "a0") // timestamps t0, t0+1s, t0+2s, t0+3s
	a2 := series(alice, 2, 4, "a2")
	cases := []struct {
		name   string
		scope  store.Scope
		before int64
		want   []store.Message
	}{
		{"inclusive boundary", store.InNamespace(0), t0 + 1000, a0[:2]},
		{"one ms before the boundary", store.InNamespace(0), t0 + 999, a0[:1]},
		{"before everything", store.InNamespace(0), t0 - 1, nil},
		{"after everything", store.InNamespace(2), t0 + hour, a2},
		{"all namespaces", store.AllNamespaces, t0 + 1000, []store.Message{a0[0], a0[1], a2[0], a2[1]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.holding(t, slices.Concat(a0, a2)...)
			got, err := st.DeleteBefore(alice, c.scope, c.before)
			require.NoError(t, err)
			sameList(t, affectedOf(c.want), got)
			stats, err := st.Stats()
			require.NoError(t, err)
			assert.Equal(t, 8-len(c.want), stats.Messages)
		})
	}
}

func (s suite) expire(t *testing.T) {
	cur := t0 + hour
	cases := []struct {
		name    string
		mode    store.ExpireMode
		to      int64
		updated bool
	}{
		{"either later", store.ExpireEither, cur + 1000, true},
		{"either earlier", store.ExpireEither, cur - 1000, true},
		{"either same", store.ExpireEither, cur, true},
		{"extend later", store.ExpireExtend, cur + 1000, true},
		{"extend earlier refused", store.ExpireExtend, cur - 1000, false},
		{"extend same refused", store.ExpireExtend, cur, false},
		{"shorten earlier", store.ExpireShorten, cur - 1000, true},
		{"shorten later refused", store.ExpireShorten, cur + 1000, false},
		{"shorten same refused", store.ExpireShorten, cur, false},
		{"unknown mode does nothing", store.ExpireMode(9), cur - 1000, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.open(t)
			m := Msg(alice, 0, "exp", t0, cur)
			mustStore(t, st, m)
			got, err := st.Expire(alice, []string{m.Hash}, c.to, c.mode)
			require.NoError(t, err)
			want := cur
			if c.updated {
				want = c.to
				assert.Equal(t, []store.HashExpiry{{Hash: m.Hash, Expiry: c.to}}, got)
			} else {
				assert.Empty(t, got)
			}
			ge, err := st.GetExpiries(alice, []string{m.Hash})
			require.NoError(t, err)
			assert.Equal(t, []store.HashExpiry{{Hash: m.Hash, Expiry: want}}, ge)
			back, ok, err := st.Get(m.Hash)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, want, back.Expiry)
		})
	}
	t.Run("several in request order", func(t *testing.T) {
		st := s.open(t)
		ms := []store.Message{
			Msg(alice, 0, "early", t0, t0+hour),
			Msg(alice, 0, "late", t0, t0+3*hour),
			Msg(alice, 2, "other ns", t0, t0+hour),
		}
		mustStore(t, st, ms...)
		unknown := Hash(alice, 0, []byte("x"))
		got, err := st.Expire(alice, []string{ms[2].Hash, unknown, ms[1].Hash, ms[0].Hash, ms[2].Hash}, t0+2*hour, store.ExpireExtend)
		require.NoError(t, err)
		assert.Equal(t, []store.HashExpiry{{Hash: ms[2].Hash, Expiry: t0 + 2*hour}, {Hash: ms[0].Hash, Expiry: t0 + 2*hour}}, got)
	})
}

func (s suite) expireAll(t *testing.T) {
	a := []store.Message{
		Msg(alice, 0, "short", t0, t0+hour),
		Msg(alice, 0, "long", t0, t0+3*hour),
		Msg(alice, 2, "cfg long", t0, t0+4*hour),
		Msg(alice, 2, "cfg boundary", t0, t0+2*hour),
	}
	cases := []struct {
		name  string
		scope store.Scope
		to    int64
		want  []store.Message
	}{
		{"only shortens", store.InNamespace(0), t0 + 2*hour, a[1:2]},
		{"equal is not shortened", store.InNamespace(2), t0 + 2*hour, a[2:3]},
		{"all namespaces", store.AllNamespaces, t0 + 2*hour, a[1:3]},
		{"never extends", store.AllNamespaces, t0 + 10*hour, nil},
		{"everything", store.AllNamespaces, t0, a},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.holding(t, a...)
			got, err := st.ExpireAll(alice, c.scope, c.to)
			require.NoError(t, err)
			sameList(t, affectedOf(c.want), got)
			changed := map[string]bool{}
			for _, m := range c.want {
				changed[m.Hash] = true
			}
			for _, m := range a {
				back, ok, err := st.Get(m.Hash)
				require.NoError(t, err)
				require.True(t, ok)
				if changed[m.Hash] {
					assert.Equal(t, c.to, back.Expiry, m.Hash)
				} else {
					assert.Equal(t, m.Expiry, back.Expiry, m.Hash)
				}
			}
		})
	}
}

func (s suite) getExpiries(t *testing.T) {
	st := s.open(t)
	ms := []store.Message{
		Msg(alice, 0, "a", t0, t0+hour),
		Msg(alice, 3, "b", t0, t0+2*hour),
		Msg(bob, 0, "c", t0, t0+3*hour),
	}
	mustStore(t, st, ms...)
	unknown := Hash(alice, 0, []byte("?"))
	cases := []struct {
		name   string
		hashes []string
		want   []store.HashExpiry
	}{
		{"request order", []string{ms[1].Hash, ms[0].Hash}, []store.HashExpiry{{Hash: ms[1].Hash, Expiry: t0 + 2*hour}, {Hash: ms[0].Hash, Expiry: t0 + hour}}},
		{"other owner and unknown skipped", []string{ms[2].Hash, unknown, ms[0].Hash}, []store.HashExpiry{{Hash: ms[0].Hash, Expiry: t0 + hour}}},
		{"repeats once", []string{ms[0].Hash, ms[0].Hash}, []store.HashExpiry{{Hash: ms[0].Hash, Expiry: t0 + hour}}},
		{"nothing", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.GetExpiries(alice, c.hashes)
			require.NoError(t, err)
			sameList(t, c.want, got)
		})
	}
}

func (s suite) cleanExpired(t *testing.T) {
	base := t0 + 123 // not on a second boundary
	ms := []store.Message{
		Msg(alice, 0, "at base", t0, base),
		Msg(alice, 0, "1ms later", t0, base+1),
		Msg(alice, 2, "same second, later", t0, base+500),
		Msg(bob, 0, "next second", t0, base+1000),
		Msg(bob, 0, "an hour", t0, base+hour),
		Msg(bob, 0, "before epoch", -5000, -1500),
	}
	cases := []struct {
		name string
		now  int64
		gone []int
	}{
		{"before anything", -2000, nil},
		{"negative boundary", -1500, []int{5}},
		{"inclusive boundary", base, []int{0, 5}},
		{"one ms later", base + 1, []int{0, 1, 5}},
		{"rest of the second", base + 876, []int{0, 1, 2, 5}},
		{"next second", base + 1000, []int{0, 1, 2, 3, 5}},
		{"all", base + 2*hour, []int{0, 1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.holding(t, ms...)
			n, err := st.CleanExpired(c.now)
			require.NoError(t, err)
			assert.Equal(t, len(c.gone), n)
			gone := map[int]bool{}
			for _, i := range c.gone {
				gone[i] = true
			}
			for i, m := range ms {
				_, ok, err := st.Get(m.Hash)
				require.NoError(t, err)
				assert.Equal(t, !gone[i], ok, "%q present", m.Data)
			}
			again, err := st.CleanExpired(c.now)
			require.NoError(t, err)
			assert.Zero(t, again, "a second sweep at the same time finds nothing")
		})
	}
	t.Run("follows expiry changes", func(t *testing.T) {
		st := s.open(t)
		extended := Msg(alice, 0, "extended", t0, base)
		shortened := Msg(alice, 0, "shortened", t0, base+hour)
		resent := Msg(alice, 0, "resent", t0, base)
		expAll := Msg(bob, 0, "expire all", t0, base+hour)
		mustStore(t, st, extended, shortened, resent, expAll)
		_, err := st.Expire(alice, []string{extended.Hash}, base+10_000, store.ExpireExtend)
		require.NoError(t, err)
		_, err = st.Expire(alice, []string{shortened.Hash}, base+200, store.ExpireShorten)
		require.NoError(t, err)
		later := resent
		later.Expiry = base + 2500
		res, _, err := st.Store(later)
		require.NoError(t, err)
		require.Equal(t, store.Extended, res)
		_, err = st.ExpireAll(bob, store.AllNamespaces, base+3000)
		require.NoError(t, err)

		steps := []struct {
			now  int64
			gone int
		}{
			{base, 0},          // extended and resent no longer expire here
			{base + 200, 1},    // shortened
			{base + 2499, 0},   //
			{base + 2500, 1},   // resent
			{base + 3000, 1},   // expire all
			{base + 9_999, 0},  //
			{base + 10_000, 1}, // extended
		}
		for _, step := range steps {
			n, err := st.CleanExpired(step.now)
			require.NoError(t, err)
			assert.Equal(t, step.gone, n, "at base+%d", step.now-base)
		}
		stats, err := st.Stats()
		require.NoError(t, err)
		assert.Zero(t, stats.Messages)
		assert.Zero(t, stats.Owners)
	})
	t.Run("many in one sweep", func(t *testing.T) {
		st := s.open(t)
		var msgs []store.Message
		for i := range 500 {
			msgs = append(msgs, Msg(OwnerAt(uint64(i%7), 0), int16(i%3), fmt.Sprint("bulk", i), t0, base+int64(i)*37))
		}
		res, err := st.StoreBatch(msgs)
		require.NoError(t, err)
		require.Len(t, res, len(msgs))
		cut := base + 250*37
		n, err := st.CleanExpired(cut)
		require.NoError(t, err)
		assert.Equal(t, 251, n)
		stats, err := st.Stats()
		require.NoError(t, err)
		assert.Equal(t, 249, stats.Messages)
		for o := range 7 {
			for ns := range int16(3) {
				got, _, err := st.Retrieve(OwnerAt(uint64(o), 0), ns, "", 0, 0)
				require.NoError(t, err)
				for i, m := range got {
					assert.Greater(t, m.Expiry, cut)
					if i > 0 {
						assert.Greater(t, m.Expiry, got[i-1].Expiry, "order kept")
					}
				}
			}
		}
	})
}

func (s suite) eachInRange(t *testing.T) {
	const top = ^uint64(0)
	positions := []uint64{0, 1, 100, 1 << 40, 1 << 63, top - 1, top}
	st := s.open(t)
	var stored []store.Message
	// Two rounds so that insertion order interleaves owners.
	for round := range 2 {
		for i, p := range positions {
			m := Msg(OwnerAt(p, uint64(i)), int16(round*2), fmt.Sprintf("r%d-%d", round, i), t0, t0+hour)
			stored = append(stored, m)
			mustStore(t, st, m)
		}
	}
	cases := []struct {
		name string
		r    store.SpaceRange
		in   func(uint64) bool
	}{
		{"full", store.FullSpace, func(uint64) bool { return true }},
		{"lo==hi is full", store.SpaceRange{Lo: 100, Hi: 100}, func(uint64) bool { return true }},
		{"lower exclusive upper inclusive", store.SpaceRange{Lo: 1, Hi: 1 << 40}, func(x uint64) bool { return x == 100 || x == 1<<40 }},
		{"from zero", store.SpaceRange{Lo: 0, Hi: 100}, func(x uint64) bool { return x == 1 || x == 100 }},
		{"up to the top", store.SpaceRange{Lo: 1 << 63, Hi: top}, func(x uint64) bool { return x == top-1 || x == top }},
		{"wraps", store.SpaceRange{Lo: top - 1, Hi: 1}, func(x uint64) bool { return x == top || x == 0 || x == 1 }},
		{"wraps to zero", store.SpaceRange{Lo: top, Hi: 0}, func(x uint64) bool { return x == 0 }},
		{"everything but the lower bound", store.SpaceRange{Lo: 100, Hi: 99}, func(x uint64) bool { return x != 100 }},
		{"empty arc", store.SpaceRange{Lo: 2, Hi: 99}, func(uint64) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []store.Message
			for _, m := range stored {
				if c.in(m.Owner.SwarmSpace()) {
					want = append(want, m)
				}
			}
			var got []store.Message
			err := st.EachInRange(c.r, func(m store.Message) bool {
				got = append(got, m)
				return true
			})
			require.NoError(t, err)
			s.sameMessages(t, want, got)
		})
	}
	t.Run("stops when told", func(t *testing.T) {
		n := 0
		err := st.EachInRange(store.FullSpace, func(store.Message) bool {
			n++
			return n < 3
		})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
}

func (s suite) eachInRangeMutation(t *testing.T) {
	st := s.open(t)
	msgs := series(alice, 0, 600, "mut") // more than one page of any paging implementation
	_, err := st.StoreBatch(msgs)
	require.NoError(t, err)
	// Hand off and delete as a swarm change does, deleting some messages ahead too.
	index := map[string]int{}
	for i, m := range msgs {
		index[m.Hash] = i
	}
	var seen []string
	err = st.EachInRange(store.FullSpace, func(m store.Message) bool {
		seen = append(seen, m.Hash)
		del := []string{m.Hash}
		if i := index[m.Hash]; i%10 == 0 && i+5 < len(msgs) {
			del = append(del, msgs[i+5].Hash)
		}
		_, err := st.Delete(m.Owner, del)
		require.NoError(t, err)
		return true
	})
	require.NoError(t, err)
	var want []string
	for i, m := range msgs {
		if i%10 != 5 {
			want = append(want, m.Hash)
		}
	}
	assert.Equal(t, want, seen, "messages deleted ahead are skipped")
	stats, err := st.Stats()
	require.NoError(t, err)
	assert.Zero(t, stats.Messages)
}

func (s suite) publicOutbox(t *testing.T) {
	require.True(t, store.IsPublicOutbox(-1))
	st := s.open(t)
	first := Msg(alice, -1, "profile v1", t0, t0+hour)
	second := Msg(alice, -1, "profile v2", t0+1, t0+hour)
	inbox := Msg(alice, 0, "inbox", t0, t0+hour)
	bobs := Msg(bob, -1, "bob's", t0, t0+hour)
	mustStore(t, st, first, inbox, bobs, second)
	got := retrieveAfter(t, st, alice, -1, "")
	assert.Equal(t, []string{second.Hash}, hashesOf(got), "a new outbox message replaces the old")
	again := second
	again.Expiry += hour
	res, _, err := st.Store(again)
	require.NoError(t, err)
	assert.Equal(t, store.Extended, res, "the same message is kept and extended")
	for _, m := range []store.Message{inbox, bobs, second} {
		_, ok, err := st.Get(m.Hash)
		require.NoError(t, err)
		assert.True(t, ok, "%q kept", m.Data)
	}
	// -21 is an outbox too; -20 (divisible by 10) is a public inbox that keeps everything.
	for _, c := range []struct {
		ns   int16
		keep int
	}{{-21, 1}, {-20, 2}, {-11, 2}} {
		mustStore(t, st, Msg(bob, c.ns, "one", t0, t0+hour), Msg(bob, c.ns, "two", t0, t0+hour))
		got := retrieveAfter(t, st, bob, c.ns, "")
		assert.Len(t, got, c.keep, "namespace %d", c.ns)
	}
}

func (s suite) storeBatch(t *testing.T) {
	st := s.open(t)
	a := Msg(alice, 0, "a", t0, t0+hour)
	b := Msg(alice, 0, "b", t0, t0+hour)
	mustStore(t, st, a)
	aLater := a
	aLater.Expiry += hour
	bEarlier := b
	bEarlier.Expiry -= 1000
	c := Msg(bob, 3, "c", t0, t0+hour)
	res, err := st.StoreBatch([]store.Message{b, aLater, bEarlier, c, a})
	require.NoError(t, err)
	assert.Equal(t, []store.StoreResult{store.New, store.Extended, store.Exists, store.New, store.Exists}, res)
	got := retrieveAfter(t, st, alice, 0, "")
	assert.Equal(t, []string{a.Hash, b.Hash}, hashesOf(got))
	assert.Equal(t, aLater.Expiry, got[0].Expiry)
	assert.Equal(t, b.Expiry, got[1].Expiry)

	res, err = st.StoreBatch(nil)
	require.NoError(t, err)
	assert.Empty(t, res)

	bad := Msg(bob, 0, "d", t0, t0+hour)
	_, err = st.StoreBatch([]store.Message{bad, {Owner: bob}})
	require.ErrorIs(t, err, store.ErrEmptyHash)
	_, ok, err := st.Get(bad.Hash)
	require.NoError(t, err)
	assert.False(t, ok, "a failed batch stores nothing")
}

func (s suite) stats(t *testing.T) {
	st := s.open(t)
	empty, err := st.Stats()
	require.NoError(t, err)
	assert.Zero(t, empty.Messages)
	assert.Zero(t, empty.Owners)
	assert.Zero(t, empty.DataBytes)
	assert.Empty(t, empty.Namespaces)

	mustStore(t, st,
		Msg(alice, 0, "12345", t0, t0+hour),
		Msg(alice, 2, "123", t0, t0+hour),
		Msg(bob, 0, "1", t0, t0+hour),
		Msg(bob, -10, "", t0, t0+hour),
	)
	got, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, 4, got.Messages)
	assert.Equal(t, 2, got.Owners)
	assert.Equal(t, int64(9), got.DataBytes)
	assert.Equal(t, []store.NamespaceCount{{Namespace: -10, Messages: 1}, {Namespace: 0, Messages: 2}, {Namespace: 2, Messages: 1}}, got.Namespaces)
	assert.Positive(t, got.Footprint)

	_, err = st.DeleteAll(bob, store.AllNamespaces)
	require.NoError(t, err)
	got, err = st.Stats()
	require.NoError(t, err)
	assert.Equal(t, 2, got.Messages)
	assert.Equal(t, 1, got.Owners, "an owner without messages is forgotten")
	assert.Equal(t, int64(8), got.DataBytes)
	assert.Equal(t, []store.NamespaceCount{{Namespace: 0, Messages: 1}, {Namespace: 2, Messages: 1}}, got.Namespaces)
}

func (s suite) hashes(t *testing.T) {
	// Real hashes are canonical base64; a store must still take any non-empty string, and
	// near-canonical ones must not collide with the canonical form.
	canonical := Hash(alice, 0, []byte("canon"))
	// The last character of a canonical hash carries 2 bits and 4 zero bits; setting a zero
	// bit gives a string a lenient decoder maps to the same 32 bytes.
	tweaked := canonical[42] + 1
	cases := []struct{ name, hash string }{
		{"short", "h1"},
		{"long", string(bytes.Repeat([]byte("z"), 200))},
		{"padded", canonical + "="},
		{"url alphabet", "-_" + canonical[2:]},
		{"non-zero trailing bits", canonical[:42] + string(tweaked)},
		{"with newline", canonical[:20] + "\n" + canonical[21:]},
		{"binary", "\x00\xff\x01"},
	}
	st := s.holding(t, Msg(alice, 0, "canon", t0, t0+hour))
	var want []store.Message
	want = append(want, Msg(alice, 0, "canon", t0, t0+hour))
	for i, c := range cases {
		m := store.Message{Hash: c.hash, Owner: alice, Timestamp: t0, Expiry: t0 + hour + int64(i), Data: []byte(c.name)}
		res, _, err := st.Store(m)
		require.NoError(t, err, c.name)
		assert.Equal(t, store.New, res, c.name)
		want = append(want, m)
	}
	got := retrieveAfter(t, st, alice, 0, "")
	s.sameMessages(t, want, got)
	got = retrieveAfter(t, st, alice, 0, cases[2].hash)
	assert.Equal(t, hashesOf(want[4:]), hashesOf(got), "paging after an odd hash")
	del, err := st.Delete(alice, []string{cases[0].hash, canonical})
	require.NoError(t, err)
	assert.Equal(t, []string{cases[0].hash, canonical}, del)
	n, err := st.CleanExpired(t0 + 2*hour)
	require.NoError(t, err)
	assert.Equal(t, len(cases)-1, n)

	_, _, err = st.Store(store.Message{Owner: alice, Expiry: t0})
	require.ErrorIs(t, err, store.ErrEmptyHash)
}

func (s suite) closed(t *testing.T) {
	st := s.newStore(t)
	mustStore(t, st, Msg(alice, 0, "x", t0, t0+hour))
	require.NoError(t, st.Close())
	_, _, err := st.Store(Msg(alice, 0, "y", t0, t0+hour))
	assert.ErrorIs(t, err, store.ErrClosed)
	_, _, err = st.Retrieve(alice, 0, "", 0, 0)
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = st.CleanExpired(t0)
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.ErrorIs(t, st.EachInRange(store.FullSpace, func(store.Message) bool { return true }), store.ErrClosed)
}
