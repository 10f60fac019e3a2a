package sqlite

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/cputime"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/node/store/storetest"
)

func openT(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	require.NoError(t, err)
	return s
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openT(t, Config{}) })
}

func TestConformanceFile(t *testing.T) {
	storetest.RunOptions(t, storetest.Options{ModelOps: 1500}, func(t *testing.T) store.Store {
		return openT(t, Config{Path: filepath.Join(t.TempDir(), "storage.db")})
	})
}

func TestSettings(t *testing.T) {
	s := openT(t, Config{Path: filepath.Join(t.TempDir(), "storage.db")})
	defer s.Close()
	cases := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "15000"},
		{"page_size", "8192"},
		{"wal_autocheckpoint", "2048"},
	}
	for _, c := range cases {
		var got string
		require.NoError(t, s.db.QueryRow("PRAGMA "+c.pragma).Scan(&got))
		assert.Equal(t, c.want, got, c.pragma)
	}
	// The real server's schema: tables, the owner clean-up trigger and both indexes.
	for _, name := range []string{"owners", "messages", "owner_autoclean", "messages_expiry", "messages_owner"} {
		var n int
		require.NoError(t, s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n))
		assert.Equal(t, 1, n, name)
	}
}

func TestReopenKeepsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "storage.db")
	o := storetest.OwnerAt(5, 5)
	msgs := []store.Message{
		storetest.Msg(o, 0, "one", 1000, 10_000),
		storetest.Msg(o, 2, "two", 2000, 20_000),
		storetest.Msg(o, 0, "three", 3000, 30_000),
	}
	s := openT(t, Config{Path: path})
	_, err := s.StoreBatch(msgs)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = openT(t, Config{Path: path})
	defer s.Close()
	got, _, err := s.Retrieve(o, 0, "", 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, msgs[0].Hash, got[0].Hash)
	assert.Equal(t, msgs[2].Hash, got[1].Hash)
	assert.Equal(t, []byte("three"), got[1].Data)
	// Insertion order continues after the reopen.
	later := storetest.Msg(o, 0, "four", 4000, 40_000)
	_, _, err = s.Store(later)
	require.NoError(t, err)
	got, _, err = s.Retrieve(o, 0, msgs[2].Hash, 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, later.Hash, got[0].Hash)
}

func TestRefusesWhatItCannotKeep(t *testing.T) {
	s := openT(t, Config{})
	defer s.Close()
	o := storetest.OwnerAt(1, 1)
	cases := []struct {
		name string
		msg  store.Message
	}{
		{"modeled payload", store.Message{Hash: "a", Owner: o, Data: []byte("x"), Payload: struct{}{}}},
		{"length without bytes", store.Message{Hash: "b", Owner: o, DataLen: 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := s.Store(c.msg)
			require.ErrorIs(t, err, store.ErrUnsupported)
			_, ok, err := s.Get(c.msg.Hash)
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"query in path", Config{Path: "storage.db?mode=ro"}},
		{"uri", Config{Path: "file:storage.db"}},
		{"missing directory", Config{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "storage.db")}},
		{"page size not a power of two", Config{PageSize: 5000}},
		{"page size too large", Config{PageSize: 1 << 17}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(c.cfg)
			assert.Error(t, err)
			assert.Nil(t, s)
		})
	}
}

// plan returns SQLite's query plan for q.
func plan(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		steps = append(steps, detail)
	}
	require.NoError(t, rows.Err())
	return steps
}

func TestRetrieveReadsOnlyReturnedRows(t *testing.T) {
	// Sorting happens on ids from the covering index; rows (and payloads) are then read by id.
	s := openT(t, Config{})
	defer s.Close()
	steps := plan(t, s, statements["retrieve"], make([]any, 8)...)
	assert.Equal(t, "SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)", steps[0], "plan: %q", steps)
	assert.Contains(t, steps, "SEARCH messages USING COVERING INDEX messages_owner (owner=? AND namespace=?)", "plan: %q", steps)
}

func TestIterationUsesRowidRange(t *testing.T) {
	// A page must not cost the whole owner's (or table's) rows: the plan scans the rowid range.
	s := openT(t, Config{})
	defer s.Close()
	_, err := s.db.Exec(`CREATE TEMP TABLE range_owners_x (id INTEGER PRIMARY KEY)`)
	require.NoError(t, err)
	steps := plan(t, s, fmt.Sprintf(iterStatements["pageIn"], "temp.range_owners_x"), 0, 10)
	assert.Contains(t, steps[0], "SEARCH m USING INTEGER PRIMARY KEY (rowid>?)", "plan: %q", steps)
	for _, step := range steps {
		assert.NotContains(t, step, "TEMP B-TREE", "no sort: %q", steps)
	}
}

// batch makes n messages over 1,000 owners with 1 KiB payloads, the size of a typical Session
// message once padded and encrypted.
func batch(n, from int) []store.Message {
	data := bytes.Repeat([]byte{0x5a}, 1024)
	out := make([]store.Message, n)
	for i := range out {
		k := from + i
		o := storetest.OwnerAt(uint64(k%1000)*0x9E3779B97F4A7C15, uint64(k%1000))
		out[i] = store.Message{
			Hash: storetest.Hash(o, 0, []byte(fmt.Sprint(k))), Owner: o,
			Timestamp: int64(k), Expiry: 1_000_000 + int64(k), Data: data,
		}
	}
	return out
}

// BenchmarkStoreBatch inserts batches into a WAL file database and reports messages per
// second.
func BenchmarkStoreBatch(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := openT(b, Config{Path: filepath.Join(b.TempDir(), "storage.db")})
			defer s.Close()
			pool := batch(20_000, 0)
			next := 0
			stored := 0
			cpu0 := cputime.Used()
			for b.Loop() {
				if next+size > len(pool) {
					b.StopTimer()
					pool = batch(20_000, stored)
					next = 0
					b.StartTimer()
				}
				if _, err := s.StoreBatch(pool[next : next+size]); err != nil {
					b.Fatal(err)
				}
				next += size
				stored += size
			}
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "msgs/s")
			// The machine may be shared: CPU time is the figure that does not depend on
			// what else runs (it includes regenerating pools, so it errs low).
			b.ReportMetric(float64(stored)/(cputime.Used()-cpu0).Seconds(), "msgs/cpu-s")
		})
	}
}

func BenchmarkRetrieve(b *testing.B) {
	s := openT(b, Config{Path: filepath.Join(b.TempDir(), "storage.db")})
	defer s.Close()
	if _, err := s.StoreBatch(batch(20_000, 0)); err != nil {
		b.Fatal(err)
	}
	o := batch(1, 7)[0].Owner // 20 messages of 1 KiB
	all, _, err := s.Retrieve(o, 0, "", 0, 0)
	if err != nil || len(all) != 20 {
		b.Fatal(len(all), err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := s.Retrieve(o, 0, all[9].Hash, store.RetrieveMaxSize/5, 0) // the RPC's default size limit
		if err != nil || len(got) != 10 {
			b.Fatal(len(got), err)
		}
	}
}
