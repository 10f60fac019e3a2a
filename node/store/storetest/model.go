package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store"
)

// refModel is the specification as plain code: a slice of live messages in insertion order,
// every operation a linear scan.
type refModel struct {
	msgs []store.Message
}

func (m *refModel) find(hash string) int {
	return slices.IndexFunc(m.msgs, func(x store.Message) bool { return x.Hash == hash })
}

func (m *refModel) store(msg store.Message) (store.StoreResult, int64) {
	if store.IsPublicOutbox(msg.Namespace) {
		m.msgs = slices.DeleteFunc(m.msgs, func(x store.Message) bool {
			return x.Owner == msg.Owner && x.Namespace == msg.Namespace && x.Hash != msg.Hash
		})
	}
	if i := m.find(msg.Hash); i >= 0 {
		if m.msgs[i].Expiry < msg.Expiry {
			m.msgs[i].Expiry = msg.Expiry
			return store.Extended, msg.Expiry
		}
		return store.Exists, m.msgs[i].Expiry
	}
	msg.DataLen = msg.Len()
	m.msgs = append(m.msgs, msg)
	return store.New, msg.Expiry
}

func (m *refModel) retrieve(o store.Owner, ns int16, last string, maxSize, maxCount int) ([]store.Message, bool) {
	var list []store.Message
	for _, x := range m.msgs {
		if x.Owner == o && x.Namespace == ns {
			list = append(list, x)
		}
	}
	if i := slices.IndexFunc(list, func(x store.Message) bool { return x.Hash == last }); last != "" && i >= 0 {
		list = list[i+1:]
	}
	var out []store.Message
	size := 0
	for _, x := range list {
		if maxCount > 0 && len(out) >= maxCount {
			return out, true
		}
		size += store.RetrieveCost(len(x.Hash), x.Len())
		if maxSize > 0 && len(out) > 0 && size > maxSize {
			return out, true
		}
		out = append(out, x)
	}
	return out, false
}

func (m *refModel) delete(o store.Owner, hashes []string) []string {
	var out []string
	for _, h := range hashes {
		if i := m.find(h); i >= 0 && m.msgs[i].Owner == o {
			m.msgs = slices.Delete(m.msgs, i, i+1)
			out = append(out, h)
		}
	}
	return out
}

func (m *refModel) deleteWhere(o store.Owner, sc store.Scope, gone func(store.Message) bool) []store.Affected {
	var out []store.Affected
	m.msgs = slices.DeleteFunc(m.msgs, func(x store.Message) bool {
		if x.Owner == o && sc.Has(x.Namespace) && gone(x) {
			out = append(out, store.Affected{Namespace: x.Namespace, Hash: x.Hash})
			return true
		}
		return false
	})
	return out
}

func (m *refModel) expire(o store.Owner, hashes []string, exp int64, mode store.ExpireMode) []store.HashExpiry {
	var out []store.HashExpiry
	done := map[string]bool{}
	for _, h := range hashes {
		i := m.find(h)
		if done[h] || i < 0 || m.msgs[i].Owner != o || !mode.Applies(m.msgs[i].Expiry, exp) {
			continue
		}
		done[h] = true
		m.msgs[i].Expiry = exp
		out = append(out, store.HashExpiry{Hash: h, Expiry: exp})
	}
	return out
}

func (m *refModel) expireAll(o store.Owner, sc store.Scope, exp int64) []store.Affected {
	var out []store.Affected
	for i := range m.msgs {
		x := &m.msgs[i]
		if x.Owner == o && sc.Has(x.Namespace) && x.Expiry > exp {
			x.Expiry = exp
			out = append(out, store.Affected{Namespace: x.Namespace, Hash: x.Hash})
		}
	}
	return out
}

func (m *refModel) getExpiries(o store.Owner, hashes []string) []store.HashExpiry {
	var out []store.HashExpiry
	done := map[string]bool{}
	for _, h := range hashes {
		if i := m.find(h); !done[h] && i >= 0 && m.msgs[i].Owner == o {
			done[h] = true
			out = append(out, store.HashExpiry{Hash: h, Expiry: m.msgs[i].Expiry})
		}
	}
	return out
}

func (m *refModel) clean(now int64) int {
	n := len(m.msgs)
	m.msgs = slices.DeleteFunc(m.msgs, func(x store.Message) bool { return x.Expiry <= now })
	return n - len(m.msgs)
}

func (m *refModel) stats() (msgs, owners int, data int64, ns []store.NamespaceCount) {
	seen := map[store.Owner]bool{}
	counts := map[int16]int{}
	for _, x := range m.msgs {
		seen[x.Owner] = true
		counts[x.Namespace]++
		data += int64(x.Len())
	}
	keys := make([]int16, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ns = append(ns, store.NamespaceCount{Namespace: k, Messages: counts[k]})
	}
	return len(m.msgs), len(seen), data, ns
}

// view is what the model comparison checks of a message.
type view struct {
	Hash    string
	Owner   store.Owner
	NS      int16
	TS, Exp int64
	Len     int
	Data    string
}

func (s suite) view(m store.Message, fromStore bool) view {
	v := view{Hash: m.Hash, Owner: m.Owner, NS: m.Namespace, TS: m.Timestamp, Exp: m.Expiry}
	if fromStore {
		v.Len = m.DataLen
	} else {
		v.Len = m.Len()
	}
	if !s.opts.MetadataOnly {
		v.Data = string(m.Data)
	}
	return v
}

func (s suite) views(ms []store.Message, fromStore bool) []view {
	if len(ms) == 0 {
		return nil
	}
	out := make([]view, len(ms))
	for i, m := range ms {
		out[i] = s.view(m, fromStore)
	}
	return out
}

// requireSame requires that a store operation succeeded (err) and answered got, the same as the
// reference model's want, where an empty answer equals a nil one.
func requireSame[T any](t *testing.T, where string, want, got []T, err error) {
	t.Helper()
	require.NoError(t, err, where)
	require.Equal(t, nilIfEmpty(want), nilIfEmpty(got), where)
}

func nilIfEmpty[T any](x []T) []T {
	if len(x) == 0 {
		return nil
	}
	return x
}

// model runs random operations on the store and on refModel and requires the same answers.
// Hashes come from a small pool, times from a clock that moves by up to 3 s a step while
// expiries span -0.5..20 s, so duplicates, same-second expiries and sweeps happen often.
func (s suite) model(t *testing.T) {
	ops := s.opts.ModelOps
	if ops == 0 {
		ops = 3000
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s.modelRun(t, seed, ops)
		})
	}
}

func (s suite) modelRun(t *testing.T, seed uint64, ops int) {
	st := s.open(t)
	ref := &refModel{}
	rng := rand.New(rand.NewPCG(seed, 0x5e55))
	owners := []store.Owner{OwnerAt(0, 1), OwnerAt(1<<62, 2), OwnerAt(1<<63+5, 3), OwnerAt(^uint64(0), 4)}
	namespaces := []int16{0, 2, -1, 11}
	type slot struct {
		owner store.Owner
		ns    int16
		data  string
		hash  string
	}
	var pool []slot
	for oi, o := range owners {
		for _, ns := range namespaces {
			for k := range 10 {
				d := fmt.Sprintf("o%d-ns%d-%d", oi, ns, k)
				h := Hash(o, ns, []byte(d))
				if k == 9 {
					h = fmt.Sprintf("odd/%d/%d", oi, ns) // a hash that is not canonical base64
				}
				pool = append(pool, slot{o, ns, d, h})
			}
		}
	}
	now := t0
	randMsg := func() store.Message {
		p := pool[rng.IntN(len(pool))]
		return store.Message{
			Hash: p.hash, Owner: p.owner, Namespace: p.ns, Data: []byte(p.data),
			Timestamp: now - rng.Int64N(5000),
			Expiry:    now - 500 + rng.Int64N(20_500),
		}
	}
	randHashes := func() []string {
		n := rng.IntN(5)
		var hs []string
		for range n {
			if rng.IntN(3) == 0 && len(ref.msgs) > 0 {
				hs = append(hs, ref.msgs[rng.IntN(len(ref.msgs))].Hash)
			} else {
				hs = append(hs, pool[rng.IntN(len(pool))].hash)
			}
		}
		return hs
	}
	randOwner := func() store.Owner { return owners[rng.IntN(len(owners))] }
	randScope := func() store.Scope {
		if rng.IntN(3) == 0 {
			return store.AllNamespaces
		}
		return store.InNamespace(namespaces[rng.IntN(len(namespaces))])
	}
	for step := range ops {
		now += rng.Int64N(3000)
		op := rng.IntN(100)
		where := fmt.Sprintf("step %d (op %d)", step, op)
		switch {
		case op < 35:
			m := randMsg()
			res, exp, err := st.Store(m)
			require.NoError(t, err, where)
			wres, wexp := ref.store(m)
			require.Equal(t, wres, res, where)
			require.Equal(t, wexp, exp, where)
		case op < 40:
			batch := make([]store.Message, rng.IntN(6))
			var want []store.StoreResult
			for i := range batch {
				batch[i] = randMsg()
				r, _ := ref.store(batch[i])
				want = append(want, r)
			}
			res, err := st.StoreBatch(batch)
			requireSame(t, where, want, res, err)
		case op < 55:
			o := randOwner()
			ns := namespaces[rng.IntN(len(namespaces))]
			last := ""
			if rng.IntN(2) == 0 {
				last = pool[rng.IntN(len(pool))].hash
			}
			maxSize := []int{0, 200, 400, 1000}[rng.IntN(4)]
			maxCount := rng.IntN(4)
			got, more, err := st.Retrieve(o, ns, last, maxSize, maxCount)
			require.NoError(t, err, where)
			want, wmore := ref.retrieve(o, ns, last, maxSize, maxCount)
			require.Equal(t, s.views(want, false), s.views(got, true), where)
			require.Equal(t, wmore, more, where)
		case op < 62:
			o, hs := randOwner(), randHashes()
			got, err := st.Delete(o, hs)
			requireSame(t, where, ref.delete(o, hs), got, err)
		case op < 64:
			o, sc := randOwner(), randScope()
			got, err := st.DeleteAll(o, sc)
			requireSame(t, where, ref.deleteWhere(o, sc, func(store.Message) bool { return true }), got, err)
		case op < 67:
			o, sc, before := randOwner(), randScope(), now-rng.Int64N(4000)
			got, err := st.DeleteBefore(o, sc, before)
			requireSame(t, where, ref.deleteWhere(o, sc, func(x store.Message) bool { return x.Timestamp <= before }), got, err)
		case op < 75:
			o, hs := randOwner(), randHashes()
			exp := now + rng.Int64N(20_000) - 1000
			mode := store.ExpireMode(rng.IntN(3))
			got, err := st.Expire(o, hs, exp, mode)
			requireSame(t, where, ref.expire(o, hs, exp, mode), got, err)
		case op < 78:
			o, sc, exp := randOwner(), randScope(), now+rng.Int64N(20_000)
			got, err := st.ExpireAll(o, sc, exp)
			requireSame(t, where, ref.expireAll(o, sc, exp), got, err)
		case op < 83:
			o, hs := randOwner(), randHashes()
			got, err := st.GetExpiries(o, hs)
			requireSame(t, where, ref.getExpiries(o, hs), got, err)
		case op < 91:
			n, err := st.CleanExpired(now)
			require.NoError(t, err, where)
			require.Equal(t, ref.clean(now), n, where)
		case op < 94:
			r := store.SpaceRange{Lo: rng.Uint64(), Hi: rng.Uint64()}
			if rng.IntN(4) == 0 {
				r = store.FullSpace
			}
			var got []store.Message
			require.NoError(t, st.EachInRange(r, func(m store.Message) bool {
				got = append(got, m)
				return true
			}), where)
			var want []store.Message
			for _, x := range ref.msgs {
				if r.Contains(x.Owner.SwarmSpace()) {
					want = append(want, x)
				}
			}
			require.Equal(t, s.views(want, false), s.views(got, true), where)
		case op < 97:
			h := pool[rng.IntN(len(pool))].hash
			got, ok, err := st.Get(h)
			require.NoError(t, err, where)
			i := ref.find(h)
			require.Equal(t, i >= 0, ok, where)
			if ok {
				require.Equal(t, s.view(ref.msgs[i], false), s.view(got, true), where)
			}
		default:
			got, err := st.Stats()
			require.NoError(t, err, where)
			msgs, owners, data, ns := ref.stats()
			require.Equal(t, msgs, got.Messages, where)
			require.Equal(t, owners, got.Owners, where)
			require.Equal(t, data, got.DataBytes, where)
			require.Equal(t, ns, got.Namespaces, where)
		}
	}
}
