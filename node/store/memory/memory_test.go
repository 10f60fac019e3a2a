package memory

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return New(Config{}) })
}

func TestConformanceMetadataOnly(t *testing.T) {
	storetest.RunOptions(t, storetest.Options{MetadataOnly: true}, func(*testing.T) store.Store {
		return New(Config{MetadataOnly: true})
	})
}

// TestConformanceRenumbering runs the suite with the insertion sequence renumbered every few
// inserts, so that the rare renumbering path is exercised everywhere.
func TestConformanceRenumbering(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store {
		s := New(Config{})
		s.seqLimit = 7
		return s
	})
}

func TestRecordSize(t *testing.T) {
	// The package documentation and the footprint estimate count on 64-byte records.
	assert.Equal(t, uintptr(recBytes), unsafe.Sizeof(rec{}))
}

// TestKeptData checks that a record gives Data back as it came, without a copy: nil as nil,
// empty as empty and non-nil, a slice of a larger array as its own bytes, and a length without
// bytes as nil with that length.
func TestKeptData(t *testing.T) {
	backing := []byte("0123456789")
	cases := []struct {
		name    string
		msg     store.Message
		want    []byte
		wantLen int
	}{
		{"nil", store.Message{}, nil, 0},
		{"length without bytes", store.Message{DataLen: 77}, nil, 77},
		{"empty", store.Message{Data: []byte{}}, []byte{}, 0},
		{"empty slice of an array", store.Message{Data: backing[4:4]}, []byte{}, 0},
		{"part of an array", store.Message{Data: backing[2:5]}, []byte("234"), 3},
		{"whole", store.Message{Data: backing}, backing, 10},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Config{})
			o := storetest.OwnerAt(uint64(i), uint64(i))
			c.msg.Hash, c.msg.Owner, c.msg.Expiry = storetest.Hash(o, 0, []byte(c.name)), o, 1000
			_, _, err := s.Store(c.msg)
			require.NoError(t, err)
			got, ok, err := s.Get(c.msg.Hash)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, c.want, got.Data)
			assert.Equal(t, c.want == nil, got.Data == nil)
			assert.Equal(t, c.wantLen, got.DataLen)
			if len(c.msg.Data) > 0 {
				assert.Same(t, &c.msg.Data[0], &got.Data[0], "kept without copying")
			}
		})
	}
}

func TestMetadataOnly(t *testing.T) {
	o := storetest.OwnerAt(1, 1)
	type payload struct{ sender string }
	shared := &payload{"alice"}
	cases := []struct {
		name    string
		msg     store.Message
		wantLen int
	}{
		{"bytes dropped, length kept", store.Message{Hash: "a", Owner: o, Expiry: 10, Data: make([]byte, 1234)}, 1234},
		{"length without bytes", store.Message{Hash: "b", Owner: o, Expiry: 10, DataLen: 76_800, Payload: shared}, 76_800},
		{"data wins over a stale length", store.Message{Hash: "c", Owner: o, Expiry: 10, Data: []byte("xyz"), DataLen: 99}, 3},
	}
	s := New(Config{MetadataOnly: true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := s.Store(c.msg)
			require.NoError(t, err)
			got, ok, err := s.Get(c.msg.Hash)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Nil(t, got.Data)
			assert.Equal(t, c.wantLen, got.DataLen)
			assert.Equal(t, c.wantLen, got.Len())
			if c.msg.Payload != nil {
				assert.Same(t, c.msg.Payload, got.Payload)
			} else {
				assert.Nil(t, got.Payload)
			}
		})
	}
	t.Run("sizes still limit retrieve", func(t *testing.T) {
		// 100 + 1 + 1234*4/3 = 1746; the second message alone costs 102,501.
		got, more, err := s.Retrieve(o, 0, "", 1746+1000, 0)
		require.NoError(t, err)
		assert.True(t, more)
		require.Len(t, got, 1)
		assert.Equal(t, "a", got[0].Hash)
	})
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, int64(1234+76_800+3), st.DataBytes)
	assert.Less(t, st.Footprint, int64(10_000), "payload bytes are not held")
}

func TestDataIsShared(t *testing.T) {
	// Copies of a message on several simulated nodes share their bytes: the store keeps the
	// caller's (immutable) slice.
	s := New(Config{})
	data := []byte("payload")
	_, _, err := s.Store(store.Message{Hash: "h", Owner: storetest.OwnerAt(5, 5), Data: data})
	require.NoError(t, err)
	got, _, err := s.Retrieve(storetest.OwnerAt(5, 5), 0, "", 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Same(t, &data[0], &got[0].Data[0])
}

func TestRenumberKeepsOrder(t *testing.T) {
	s := New(Config{})
	s.seqLimit = 5
	o := storetest.OwnerAt(9, 9)
	var want []string
	for i := range 23 {
		m := storetest.Msg(o, int16(i%2), fmt.Sprint(i), 0, int64(100+i))
		_, _, err := s.Store(m)
		require.NoError(t, err)
		if i%2 == 0 {
			want = append(want, m.Hash)
		}
		if i%4 == 3 { // keep fewer live than the limit so renumbering makes room
			_, err := s.CleanExpired(int64(100 + i - 2))
			require.NoError(t, err)
			want = want[:0]
			got, _, err := s.Retrieve(o, 0, "", 0, 0)
			require.NoError(t, err)
			for _, g := range got {
				want = append(want, g.Hash)
			}
		}
	}
	assert.LessOrEqual(t, s.nextSeq, uint32(5))
	got, _, err := s.Retrieve(o, 0, "", 0, 0)
	require.NoError(t, err)
	var hs []string
	for _, g := range got {
		hs = append(hs, g.Hash)
	}
	assert.Equal(t, want, hs)
}

func TestRenumberWaitsForIteration(t *testing.T) {
	s := New(Config{})
	s.seqLimit = 3
	o := storetest.OwnerAt(7, 7)
	for i := range 3 {
		_, _, err := s.Store(storetest.Msg(o, 0, fmt.Sprint(i), 0, 100))
		require.NoError(t, err)
	}
	var seen []string
	err := s.EachInRange(store.FullSpace, func(m store.Message) bool {
		seen = append(seen, m.Hash)
		// Stores during the iteration pass the limit; renumbering now would make the
		// remaining messages look replaced and skip them.
		_, _, err := s.Store(storetest.Msg(o, 0, "during "+m.Hash, 0, 100))
		require.NoError(t, err)
		return true
	})
	require.NoError(t, err)
	assert.Len(t, seen, 3)
	_, _, err = s.Store(storetest.Msg(o, 0, "after", 0, 100))
	require.NoError(t, err)
	assert.Equal(t, uint32(7), s.nextSeq, "renumbered once the iteration ended")
}

func TestHashIndexChurn(t *testing.T) {
	// Grow, shrink and probe the open-addressing index through many inserts and deletes,
	// checking every live hash is found and every removed one is not.
	s := New(Config{MetadataOnly: true})
	rng := rand.New(rand.NewPCG(3, 4))
	o := storetest.OwnerAt(1, 2)
	live := map[string]bool{}
	var order []string
	for round := range 6 {
		n := 3000
		if round%2 == 1 {
			n = 200
		}
		for range n {
			var k [32]byte
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			h := base64.RawStdEncoding.EncodeToString(k[:])
			_, _, err := s.Store(store.Message{Hash: h, Owner: o, Expiry: int64(round)})
			require.NoError(t, err)
			live[h] = true
			order = append(order, h)
		}
		// Delete a random half of the live ones.
		var del []string
		for _, h := range order {
			if live[h] && rng.IntN(2) == 0 {
				del = append(del, h)
			}
		}
		got, err := s.Delete(o, del)
		require.NoError(t, err)
		require.Equal(t, del, got)
		for _, h := range del {
			delete(live, h)
		}
		for _, h := range order {
			_, ok := s.lookup(h)
			require.Equal(t, live[h], ok, "round %d", round)
		}
		assert.Equal(t, len(live), s.index.n)
		assert.LessOrEqual(t, s.index.n*4, len(s.index.slots)*3, "load factor")
	}
	// After removing nearly everything the table shrinks.
	var all []string
	for h := range live {
		all = append(all, h)
	}
	_, err := s.Delete(o, all)
	require.NoError(t, err)
	assert.Equal(t, minSlots, len(s.index.slots))
}

// TestOwnerIndex adds and removes owners at random, among them owners whose keys differ only in
// their prefix (one home slot), and checks that every owner is found exactly while it has
// messages, that ids are reused, and that the table shrinks back when they go.
func TestOwnerIndex(t *testing.T) {
	s := New(Config{MetadataOnly: true})
	rng := rand.New(rand.NewPCG(2, 2))
	owners := make([]store.Owner, 600)
	for i := range owners {
		owners[i] = storetest.OwnerAt(rng.Uint64(), uint64(i/2))
		if i%2 == 1 {
			owners[i] = owners[i-1]
			owners[i][0] ^= 0x80 // same key, another prefix
		}
	}
	has := map[int]bool{}
	for round := range 30 {
		for i, o := range owners {
			switch {
			case !has[i] && rng.IntN(3) == 0:
				_, _, err := s.Store(storetest.Msg(o, 0, fmt.Sprint(round, i), 0, 1000))
				require.NoError(t, err)
				has[i] = true
			case has[i] && rng.IntN(3) == 0:
				_, err := s.DeleteAll(o, store.AllNamespaces)
				require.NoError(t, err)
				delete(has, i)
			}
		}
		for i, o := range owners {
			oi, ok := s.ownerOf(o)
			require.Equal(t, has[i], ok, "round %d owner %d", round, i)
			if ok {
				require.Equal(t, o, s.owners[oi].key)
			}
		}
		st, err := s.Stats()
		require.NoError(t, err)
		assert.Equal(t, len(has), st.Owners)
		assert.LessOrEqual(t, len(s.owners), len(owners), "owner ids reused")
		assert.LessOrEqual(t, s.ownerIndex.n*4, len(s.ownerIndex.slots)*3, "load factor")
	}
	for i := range has {
		_, err := s.DeleteAll(owners[i], store.AllNamespaces)
		require.NoError(t, err)
	}
	assert.Zero(t, s.ownerIndex.n)
	assert.Equal(t, minSlots, len(s.ownerIndex.slots))
}

func TestExpiryHeapStaysBounded(t *testing.T) {
	// Moving expiries leaves stale heap entries; they must not grow without bound.
	s := New(Config{MetadataOnly: true})
	o := storetest.OwnerAt(3, 3)
	m := storetest.Msg(o, 0, "x", 0, 1000)
	_, _, err := s.Store(m)
	require.NoError(t, err)
	for i := range 10_000 {
		_, err := s.Expire(o, []string{m.Hash}, int64(2000+i*1000), store.ExpireEither)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(s.exp), 2*s.live+1024+1)
	n, err := s.CleanExpired(int64(2000 + 9_999*1000))
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Deleting leaves entries for expiries far ahead; they must not pile up either.
	for round := range 5 {
		var hs []string
		for i := range 3000 {
			m := storetest.Msg(o, 0, fmt.Sprint(round, "-", i), 0, 1<<50)
			_, _, err := s.Store(m)
			require.NoError(t, err)
			hs = append(hs, m.Hash)
		}
		_, err := s.Delete(o, hs)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(s.exp), 2*s.live+1024, "round %d", round)
	}
}

func TestExpiryMovesAndSweeps(t *testing.T) {
	// A record's heap entry may lie earlier than its expiry: moving an expiry later adds no
	// entry, and a sweep that meets the early entry puts it back at the record's second. Each
	// case moves the expiry of one message stored to expire at 10 s, then sweeps at each
	// instant in order, and says where the message goes and how many entries the heap holds.
	cases := []struct {
		name       string
		moves      []int64 // expiries set in turn, ms
		sweeps     []int64 // CleanExpired calls, ms
		gone       int     // the sweep (index in sweeps) that removes it; -1: none does
		maxEntries int     // the heap's length after the moves
	}{
		{"kept", nil, []int64{9_999, 10_000}, 1, 1},
		{"later, once", []int64{20_000}, []int64{10_000, 19_999, 20_000}, 2, 1},
		{"later, many times", []int64{11_000, 12_000, 13_000, 14_000, 50_000}, []int64{10_000, 49_000, 50_001}, 2, 1},
		{"later within its second", []int64{10_500}, []int64{10_000, 10_499, 10_500}, 2, 1},
		{"earlier", []int64{5_000}, []int64{4_999, 5_000}, 1, 2},
		{"earlier, then later", []int64{5_000, 30_000}, []int64{5_000, 10_000, 29_999, 30_000}, 3, 2},
		{"later, then earlier", []int64{30_000, 8_000}, []int64{7_999, 8_000}, 1, 2},
		{"later, swept twice before it is due", []int64{20_000}, []int64{10_000, 15_000, 19_000, 20_000}, 3, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Config{MetadataOnly: true})
			o := storetest.OwnerAt(3, 3)
			m := storetest.Msg(o, 0, "x", 0, 10_000)
			_, _, err := s.Store(m)
			require.NoError(t, err)
			for _, ms := range c.moves {
				_, err := s.Expire(o, []string{m.Hash}, ms, store.ExpireEither)
				require.NoError(t, err)
			}
			assert.Len(t, s.exp, c.maxEntries)
			want := c.moves
			if len(want) == 0 {
				want = []int64{10_000}
			}
			for i, now := range c.sweeps {
				n, err := s.CleanExpired(now)
				require.NoError(t, err)
				if i == c.gone {
					assert.Equal(t, 1, n, "sweep at %d ms", now)
					assert.Zero(t, s.live)
					return
				}
				assert.Zero(t, n, "sweep at %d ms", now)
				got, err := s.GetExpiries(o, []string{m.Hash})
				require.NoError(t, err)
				require.Len(t, got, 1, "sweep at %d ms", now)
				assert.Equal(t, want[len(want)-1], got[0].Expiry)
			}
			assert.Equal(t, -1, c.gone, "no sweep removed the message")
		})
	}
}

func TestExpirySecond(t *testing.T) {
	cases := []struct {
		ms   int64
		want uint64
	}{
		{0, 1 << 31},
		{999, 1 << 31},
		{1000, 1<<31 + 1},
		{-1, 1<<31 - 1},
		{-1000, 1<<31 - 1},
		{-1001, 1<<31 - 2},
		{-1 << 62, 0},
		{1 << 62, 1<<32 - 1},
		{1_700_000_000_123, 1<<31 + 1_700_000_000},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, expirySecond(c.ms), "ms %d", c.ms)
	}
	// Monotonic, which the sweep relies on.
	prev := expirySecond(-1 << 63)
	for _, ms := range []int64{-1 << 62, -2_147_483_649_000, -2_147_483_648_000, -1 << 40, -1, 0, 1, 4_294_967_295_000, 1 << 50, 1<<63 - 1} {
		cur := expirySecond(ms)
		assert.GreaterOrEqual(t, cur, prev, "ms %d", ms)
		prev = cur
	}
}

func TestDecodeHash(t *testing.T) {
	var k [32]byte
	for i := range k {
		k[i] = byte(i * 7)
	}
	canonical := base64.RawStdEncoding.EncodeToString(k[:])
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"canonical", canonical, true},
		{"padded", base64.StdEncoding.EncodeToString(k[:]), false},
		{"url alphabet", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), false},
		{"trailing bits set", canonical[:42] + string(canonical[42]+1), false},
		{"newline inside", canonical[:10] + "\n" + canonical[11:], false},
		{"short", canonical[:42], false},
		{"empty", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := decodeHash(c.in)
			assert.Equal(t, c.ok, ok)
			if ok {
				assert.Equal(t, k, got)
				assert.Equal(t, c.in, encodeHash(&got))
			}
		})
	}
}

func FuzzDecodeHash(f *testing.F) {
	f.Add("ZXhhbXBsZSBoYXNoIG9mIHRoaXJ0eS10d28gYnl0ZXM")
	f.Add("ZXhhbXBsZSBoYXNoIG9mIHRoaXJ0eS10d28gYnl0ZXN")
	f.Add("ZXhhbXBsZSBoYXNoIG9mIHRoaXJ0eS10d28gYnl0ZX=")
	f.Add("ZXhhbXBsZSBoYXNoIG9mIHRoaXJ\n0eS10d28gYnl0ZX")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := decodeHash(s)
		if !ok {
			return
		}
		// Accepted hashes are exactly the canonical encodings: they round-trip, so two
		// different strings never share a record key.
		if back := encodeHash(&k); back != s {
			t.Fatalf("decodeHash(%q) accepted a non-canonical form of %q", s, back)
		}
	})
}

// FuzzStore drives a store with operations decoded from the fuzzer's bytes and checks it never
// panics and stays consistent with its own counts.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add(bytes.Repeat([]byte{0, 7, 3}, 20))
	f.Add([]byte("\x00\x01\x00\x02\x05\x06\x07\xff\xfe\x03"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := New(Config{})
		owners := []store.Owner{storetest.OwnerAt(0, 0), storetest.OwnerAt(1<<63, 1)}
		hash := func(b byte) string {
			if b&1 == 0 {
				return storetest.Hash(owners[0], 0, []byte{b >> 1})
			}
			return string([]byte{'x', b})
		}
		for i := 0; i+2 < len(ops); i += 3 {
			op, a, b := ops[i], ops[i+1], ops[i+2]
			o := owners[a&1]
			ns := int16(int8(a)) >> 1
			var err error
			switch op % 8 {
			case 0, 1:
				_, _, err = s.Store(store.Message{Hash: hash(b), Owner: o, Namespace: ns, Timestamp: int64(a), Expiry: int64(b) * 300, Data: []byte{a, b}})
			case 2:
				_, _, err = s.Retrieve(o, ns, hash(b), int(a), int(b%5))
			case 3:
				_, err = s.Delete(o, []string{hash(a), hash(b)})
			case 4:
				_, err = s.Expire(o, []string{hash(b)}, int64(a)*300, store.ExpireMode(a%4))
			case 5:
				_, err = s.CleanExpired(int64(a) * 300)
			case 6:
				_, err = s.DeleteBefore(o, store.Scope{All: b&1 == 0, Namespace: ns}, int64(b))
			case 7:
				err = s.EachInRange(store.SpaceRange{Lo: uint64(a) << 56, Hi: uint64(b) << 56}, func(store.Message) bool { return b&2 == 0 })
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := s.EachInRange(store.FullSpace, func(store.Message) bool { n++; return true }); err != nil {
			t.Fatal(err)
		}
		if n != st.Messages || s.index.n+len(s.oddIDs) != st.Messages {
			t.Fatalf("counts disagree: %d iterated, %d indexed, %d counted", n, s.index.n+len(s.oddIDs), st.Messages)
		}
	})
}

// benchMessages makes n messages for owners spread over the swarm space, eight per owner, with
// data of the given size.
func benchMessages(n, dataLen int) []store.Message { return benchMessagesPer(n, 8, dataLen) }

func benchMessagesPer(n, perOwner, dataLen int) []store.Message {
	out := make([]store.Message, n)
	data := bytes.Repeat([]byte{0x42}, dataLen)
	for i := range out {
		k := uint64(i / perOwner)
		o := storetest.OwnerAt(k*0x9E3779B97F4A7C15, k)
		out[i] = store.Message{
			Hash: storetest.Hash(o, 0, []byte(fmt.Sprint(i))), Owner: o,
			Timestamp: int64(i), Expiry: 1_000_000 + int64(i)*10, Data: data,
		}
	}
	return out
}

func BenchmarkStore(b *testing.B) {
	for _, meta := range []bool{false, true} {
		b.Run(fmt.Sprintf("metadataOnly=%v", meta), func(b *testing.B) {
			msgs := benchMessages(1<<16, 1000)
			s := New(Config{MetadataOnly: meta})
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if i == len(msgs) {
					// Keep the store at a steady size: empty it and start over.
					b.StopTimer()
					s = New(Config{MetadataOnly: meta})
					i = 0
					b.StartTimer()
				}
				if _, _, err := s.Store(msgs[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkRetrieve(b *testing.B) {
	// A poll: an owner with 100 messages, asking for what came after the 90th.
	s := New(Config{})
	o := storetest.OwnerAt(42, 42)
	var hashes []string
	for i := range 100 {
		m := storetest.Msg(o, 0, fmt.Sprint(i), int64(i), 1_000_000)
		hashes = append(hashes, m.Hash)
		if _, _, err := s.Store(m); err != nil {
			b.Fatal(err)
		}
	}
	// Other owners' messages around it, as on a real node.
	for _, m := range benchMessages(10_000, 100) {
		if _, _, err := s.Store(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := s.Retrieve(o, 0, hashes[89], store.RetrieveMaxSize/5, 0) // the RPC's default size limit
		if err != nil || len(got) != 10 {
			b.Fatal(len(got), err)
		}
	}
}

func BenchmarkCleanExpired(b *testing.B) {
	// A 10 s sweep on a node holding 100,000 messages whose expiries spread over a day:
	// about 12 messages go per sweep.
	msgs := benchMessages(100_000, 100)
	for i := range msgs {
		msgs[i].Expiry = int64(i) * 864
	}
	s := New(Config{MetadataOnly: true})
	if _, err := s.StoreBatch(msgs); err != nil {
		b.Fatal(err)
	}
	now := int64(0)
	removed := 0
	b.ReportAllocs()
	for b.Loop() {
		now += 10_000
		if now > 86_400_000 {
			b.StopTimer()
			s = New(Config{MetadataOnly: true})
			if _, err := s.StoreBatch(msgs); err != nil {
				b.Fatal(err)
			}
			now = 10_000
			b.StartTimer()
		}
		n, err := s.CleanExpired(now)
		if err != nil {
			b.Fatal(err)
		}
		removed += n
	}
	b.ReportMetric(float64(removed)/float64(b.N), "msgs/sweep")
}

// BenchmarkFootprint measures the heap bytes a message costs, payload excluded, at simulator
// scale: one store of 1,000,000 messages, with 1, 8 or 64 messages per owner, metadata only or
// keeping payloads as the simulator does (shared by every message here, as by a message's
// copies on its swarm's nodes).
func BenchmarkFootprint(b *testing.B) {
	const n = 1_000_000
	for _, meta := range []bool{true, false} {
		for _, per := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("metadataOnly=%v/perOwner=%d", meta, per), func(b *testing.B) {
				benchFootprint(b, n, per, meta)
			})
		}
	}
}

func benchFootprint(b *testing.B, n, per int, meta bool) {
	msgs := benchMessagesPer(n, per, 100)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := New(Config{MetadataOnly: meta})
		if _, err := s.StoreBatch(msgs); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st, err := s.Stats()
		if err != nil {
			b.Fatal(err)
		}
		fp := st.Footprint
		if !meta {
			fp -= st.DataBytes // counted in full by the estimate, shared here
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/msg")
		b.ReportMetric(float64(fp)/float64(n), "estimated-B/msg")
		runtime.KeepAlive(s)
	}
}
