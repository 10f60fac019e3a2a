// Package sqlite is the message store on SQLite (modernc.org/sqlite, pure Go), with the schema
// and settings of session-storage-server: WAL journal, synchronous=NORMAL, foreign keys, an
// owners table of (type, pubkey) and a messages table with a unique hash, indexed on expiry and
// on (owner, namespace, timestamp). The live drivers use it so that a node survives a crash and
// restart with its data, as a real one does.
//
// The store holds one connection: a node uses its store from its own loop, and an in-memory
// database exists only within its connection. Statements are prepared once; batches run in one
// transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sessionsim/sessionsim/node/store"
)

// Config configures a SQLite store.
type Config struct {
	// Path is the database file, created when missing. Empty (the default) or ":memory:" is a
	// private in-memory database that disappears with the store.
	Path string
	// BusyTimeout is how long a statement waits for a lock held by another process before
	// failing. Default 15 s, as the real server.
	BusyTimeout time.Duration
	// PageSize is the database page size in bytes, applied when the database is created (an
	// existing file keeps its own). Default 8192, twice SQLite's: a message of about 1 KiB
	// then costs half the WAL frames, and write calls, which measured about a quarter more
	// batched inserts per second; a lone insert costs a little more.
	PageSize int
	// CheckpointPages is the WAL length, in pages, that triggers a checkpoint. Default 2048
	// (16 MiB at the default page size): with SQLite's 1000, nearly every large batch ends in
	// a checkpoint and its fsyncs.
	CheckpointPages int
}

// Defaults of Config.
const (
	DefaultBusyTimeout     = 15 * time.Second
	DefaultPageSize        = 8192
	DefaultCheckpointPages = 2048
)

// maxCachedOwners bounds the owner id cache.
const maxCachedOwners = 1 << 16

// iterPage is the page size of EachInRange: large enough to amortise the query; the callback
// may use the store within a page.
const iterPage = 256

const schema = `
CREATE TABLE IF NOT EXISTS owners (
    id INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    pubkey BLOB NOT NULL,
    UNIQUE(pubkey, type)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    owner INTEGER NOT NULL REFERENCES owners(id),
    namespace INTEGER NOT NULL DEFAULT 0,
    timestamp INTEGER NOT NULL,
    expiry INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE(hash)
);
CREATE TRIGGER IF NOT EXISTS owner_autoclean
    AFTER DELETE ON messages FOR EACH ROW WHEN NOT EXISTS (SELECT * FROM messages WHERE owner = old.owner)
    BEGIN
        DELETE FROM owners WHERE id = old.owner;
    END;
CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expiry);
CREATE INDEX IF NOT EXISTS messages_owner ON messages(owner, namespace, timestamp);
`

// ownerID is the subquery that resolves an owner given as (pubkey, type) parameters.
const ownerID = `(SELECT id FROM owners WHERE pubkey = ? AND type = ?)`

// messageRow selects a whole message with its owner, in the columns scanMessage reads.
const messageRow = `m.hash, o.type, o.pubkey, m.namespace, m.timestamp, m.expiry, m.data FROM messages m JOIN owners o ON o.id = m.owner`

// Statements, prepared once. Names say what they do; scope variants differ only in filters.
var statements = map[string]string{
	"selOwner":   `SELECT id FROM owners WHERE pubkey = ? AND type = ?`,
	"insOwner":   `INSERT INTO owners (pubkey, type) VALUES (?, ?) RETURNING id`,
	"insMsg":     `INSERT INTO messages (owner, hash, namespace, timestamp, expiry, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING`,
	"selExpiry":  `SELECT id, expiry, owner FROM messages WHERE hash = ?`,
	"updExpiry":  `UPDATE messages SET expiry = ? WHERE id = ?`,
	"clearOut":   `DELETE FROM messages WHERE owner = ` + ownerID + ` AND namespace = ? AND hash != ?`,
	"get":        `SELECT ` + messageRow + ` WHERE m.hash = ?`,
	"delHash":    `DELETE FROM messages WHERE owner = ` + ownerID + ` AND hash = ?`,
	"getExpiry":  `SELECT expiry FROM messages WHERE owner = ` + ownerID + ` AND hash = ?`,
	"clean":      `DELETE FROM messages WHERE expiry <= ?`,
	"expEither":  `UPDATE messages SET expiry = ? WHERE owner = ` + ownerID + ` AND hash = ?`,
	"expExtend":  `UPDATE messages SET expiry = ? WHERE owner = ` + ownerID + ` AND hash = ? AND expiry < ?`,
	"expShorten": `UPDATE messages SET expiry = ? WHERE owner = ` + ownerID + ` AND hash = ? AND expiry > ?`,
	// Messages after last_hash (looked up once, not per row) in insertion order. The inner
	// query sorts ids from the covering (owner, namespace, timestamp) index, so the payloads
	// read are those returned, not the whole mailbox's.
	"retrieve": `SELECT hash, timestamp, expiry, data FROM messages WHERE id IN (
		SELECT id FROM messages WHERE owner = ` + ownerID + ` AND namespace = ?
		AND id > COALESCE((SELECT id FROM messages WHERE hash = ? AND namespace = ? AND owner = ` + ownerID + `), 0)
		ORDER BY id LIMIT ?) ORDER BY id`,
	// Bulk operations select what they touch in insertion order, then act on the same rows
	// (RETURNING gives no order).
	"selAll":       `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` ORDER BY id`,
	"selAllNS":     `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` AND namespace = ? ORDER BY id`,
	"delAll":       `DELETE FROM messages WHERE owner = ` + ownerID,
	"delAllNS":     `DELETE FROM messages WHERE owner = ` + ownerID + ` AND namespace = ?`,
	"selBefore":    `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` AND timestamp <= ? ORDER BY id`,
	"selBeforeNS":  `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` AND timestamp <= ? AND namespace = ? ORDER BY id`,
	"delBefore":    `DELETE FROM messages WHERE owner = ` + ownerID + ` AND timestamp <= ?`,
	"delBeforeNS":  `DELETE FROM messages WHERE owner = ` + ownerID + ` AND timestamp <= ? AND namespace = ?`,
	"selLater":     `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` AND expiry > ? ORDER BY id`,
	"selLaterNS":   `SELECT namespace, hash FROM messages WHERE owner = ` + ownerID + ` AND expiry > ? AND namespace = ? ORDER BY id`,
	"shortenAll":   `UPDATE messages SET expiry = ? WHERE owner = ` + ownerID + ` AND expiry > ?`,
	"shortenAllNS": `UPDATE messages SET expiry = ? WHERE owner = ` + ownerID + ` AND expiry > ? AND namespace = ?`,
	"owners":       `SELECT id, type, pubkey FROM owners`,
	"expiryByID":   `SELECT expiry FROM messages WHERE id = ?`,
	"count":        `SELECT COUNT(*), COALESCE(SUM(length(data)), 0) FROM messages`,
	"countOwner":   `SELECT COUNT(*) FROM owners`,
	"countNS":      `SELECT namespace, COUNT(*) FROM messages GROUP BY namespace ORDER BY namespace`,
}

// Iteration pages, prepared per iteration: pageIn names the iteration's table of owner ids.
// The unary + keeps the planner on the rowid range, so a page reads its own rows only.
var iterStatements = map[string]string{
	"pageAll": `SELECT m.id, ` + messageRow + ` WHERE m.id > ? ORDER BY m.id LIMIT ?`,
	"pageIn":  `SELECT m.id, ` + messageRow + ` WHERE m.id > ? AND +m.owner IN (SELECT id FROM %s) ORDER BY m.id LIMIT ?`,
}

// Store is a store.Store on SQLite. It is not safe for concurrent use.
type Store struct {
	db   *sql.DB
	st   map[string]*sql.Stmt
	path string
	// ownerIDs caches owner row ids across transactions. Rows vanish with their owner's last
	// message (owner_autoclean), so every removal forgets the owners it may have emptied.
	ownerIDs map[store.Owner]int64
	iters    int    // names temporary tables of nested iterations
	writes   uint64 // counts calls that may change messages, so iterations notice changes
	closed   bool
}

var _ store.Store = (*Store)(nil)

// Open opens (or creates) the database and prepares the schema and statements.
func Open(cfg Config) (*Store, error) {
	path := cfg.Path
	if path == "" {
		path = ":memory:"
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite store: path %q: give a plain file path without '?', '#' or a file: prefix", path)
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	pageSize := cfg.PageSize
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("sqlite store: page size %d: use a power of two from 512 to 65536", pageSize)
	}
	checkpoint := cfg.CheckpointPages
	if checkpoint <= 0 {
		checkpoint = DefaultCheckpointPages
	}
	// The driver runs the _pragma list before switching to WAL, which is when the page size
	// must be set.
	params := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL"+
		"&_pragma=page_size(%d)&_pragma=wal_autocheckpoint(%d)",
		busy.Milliseconds(), pageSize, checkpoint)
	if path != ":memory:" {
		params += "&_journal_mode=WAL" // in-memory databases have no WAL
	}
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: opening %s: %w", path, err)
	}
	// One connection: an in-memory database lives in it, and the store has one user.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, st: map[string]*sql.Stmt{}, path: path, ownerIDs: map[store.Owner]int64{}}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite store: opening %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	if path := s.path; path != ":memory:" {
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			return fmt.Errorf("reading journal mode: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("journal mode is %q, not WAL: is the file on a filesystem without shared memory support?", mode)
		}
	}
	if _, err := s.db.Exec(schema); err != nil {
		return fmt.Errorf("creating schema: %w", err)
	}
	for name, q := range statements {
		st, err := s.db.Prepare(q)
		if err != nil {
			return fmt.Errorf("preparing %s: %w", name, err)
		}
		s.st[name] = st
	}
	return nil
}

func (s *Store) check() error {
	if s.closed {
		return fmt.Errorf("sqlite store %s: %w", s.path, store.ErrClosed)
	}
	return nil
}

// ownerArgs are the (pubkey, type) parameters of ownerID.
func ownerArgs(o store.Owner) []any { return []any{o[1:], int64(o[0])} }

func args(o store.Owner, more ...any) []any { return append(ownerArgs(o), more...) }

// blob keeps empty payloads from binding as NULL, which the schema refuses.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("sqlite store %s: %s: %w", s.path, op, err)
}

// tx runs f in a transaction, rolling back on error.
func (s *Store) tx(op string, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return s.fail(op, err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// storer keeps the statements and owner ids of one transaction of stores.
type storer struct {
	s      *Store
	tx     *sql.Tx
	owners map[store.Owner]int64
	st     map[string]*sql.Stmt
}

func (w *storer) stmt(name string) *sql.Stmt {
	if st, ok := w.st[name]; ok {
		return st
	}
	st := w.tx.Stmt(w.s.st[name])
	w.st[name] = st
	return st
}

func (w *storer) ownerID(o store.Owner) (int64, error) {
	if id, ok := w.owners[o]; ok {
		return id, nil
	}
	if id, ok := w.s.ownerIDs[o]; ok {
		return id, nil
	}
	var id int64
	err := w.stmt("selOwner").QueryRow(ownerArgs(o)...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = w.stmt("insOwner").QueryRow(ownerArgs(o)...).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("owner %s: %w", o, err)
	}
	w.owners[o] = id
	return id, nil
}

func (w *storer) store(m *store.Message) (store.StoreResult, int64, error) {
	if store.IsPublicOutbox(m.Namespace) {
		res, err := w.stmt("clearOut").Exec(args(m.Owner, m.Namespace, m.Hash)...)
		if err != nil {
			return 0, 0, fmt.Errorf("clearing outbox: %w", err)
		}
		// Removing an owner's last messages removes the owner row too (owner_autoclean).
		if n, err := res.RowsAffected(); err != nil {
			return 0, 0, err
		} else if n > 0 {
			w.forget(m.Owner)
		}
	}
	oid, err := w.ownerID(m.Owner)
	if err != nil {
		return 0, 0, err
	}
	// Try the common case first: a new message is one statement.
	res, err := w.stmt("insMsg").Exec(oid, m.Hash, m.Namespace, m.Timestamp, m.Expiry, blob(m.Data))
	if err != nil {
		return 0, 0, fmt.Errorf("inserting %s: %w", m.Hash, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, 0, err
	} else if n == 1 {
		return store.New, m.Expiry, nil
	}
	var id, exp, owner int64
	if err := w.stmt("selExpiry").QueryRow(m.Hash).Scan(&id, &exp, &owner); err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", m.Hash, err)
	}
	if owner != oid {
		// The hash is another owner's: an owner row made just for this message must go, so
		// that owners remain those with messages.
		if err := w.dropIfEmpty(m.Owner, oid); err != nil {
			return 0, 0, err
		}
	}
	if exp >= m.Expiry {
		return store.Exists, exp, nil
	}
	if _, err := w.stmt("updExpiry").Exec(m.Expiry, id); err != nil {
		return 0, 0, fmt.Errorf("extending %s: %w", m.Hash, err)
	}
	return store.Extended, m.Expiry, nil
}

func (w *storer) dropIfEmpty(o store.Owner, oid int64) error {
	res, err := w.tx.Exec(`DELETE FROM owners WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE owner = ?)`, oid, oid)
	if err != nil {
		return fmt.Errorf("dropping empty owner: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n > 0 {
		w.forget(o)
	}
	return nil
}

// forget drops an owner whose row went. Dropping from the store's cache at once is safe
// whether or not the transaction commits.
func (w *storer) forget(o store.Owner) {
	delete(w.owners, o)
	delete(w.s.ownerIDs, o)
}

func validate(m *store.Message) error {
	if err := store.Check(m); err != nil {
		return err
	}
	if m.Payload != nil {
		return fmt.Errorf("storing %s: a modeled Payload cannot be kept in SQLite (use the memory store for modeled crypto): %w", m.Hash, store.ErrUnsupported)
	}
	if m.Data == nil && m.DataLen > 0 {
		return fmt.Errorf("storing %s: SQLite keeps payload bytes, and the message has a length (%d) but no Data: %w", m.Hash, m.DataLen, store.ErrUnsupported)
	}
	return nil
}

// Store implements store.Store.
func (s *Store) Store(m store.Message) (store.StoreResult, int64, error) {
	res, exps, err := s.storeMany([]store.Message{m})
	if err != nil {
		return 0, 0, err
	}
	return res[0], exps[0], nil
}

// StoreBatch implements store.Store: one transaction for the whole batch.
func (s *Store) StoreBatch(msgs []store.Message) ([]store.StoreResult, error) {
	res, _, err := s.storeMany(msgs)
	return res, err
}

func (s *Store) storeMany(msgs []store.Message) ([]store.StoreResult, []int64, error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	for i := range msgs {
		if err := validate(&msgs[i]); err != nil {
			return nil, nil, fmt.Errorf("batch message %d: %w", i, err)
		}
	}
	out := make([]store.StoreResult, len(msgs))
	exps := make([]int64, len(msgs))
	if len(msgs) == 0 {
		return out, exps, nil
	}
	s.writes++
	var added map[store.Owner]int64
	err := s.tx("store", func(tx *sql.Tx) error {
		w := &storer{s: s, tx: tx, owners: map[store.Owner]int64{}, st: map[string]*sql.Stmt{}}
		defer func() {
			for _, st := range w.st {
				_ = st.Close()
			}
		}()
		for i := range msgs {
			r, exp, err := w.store(&msgs[i])
			if err != nil {
				return err
			}
			out[i], exps[i] = r, exp
		}
		added = w.owners
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Only committed owner rows may be cached.
	if len(s.ownerIDs)+len(added) > maxCachedOwners {
		clear(s.ownerIDs)
	}
	for o, id := range added {
		s.ownerIDs[o] = id
	}
	return out, exps, nil
}

func scanOwner(typ int64, key []byte) (store.Owner, error) {
	if typ < 0 || typ > 255 {
		return store.Owner{}, fmt.Errorf("owner type %d out of range", typ)
	}
	return store.OwnerFromParts(byte(typ), key)
}

func scanNS(ns int64) (int16, error) {
	if ns < -1<<15 || ns >= 1<<15 {
		return 0, fmt.Errorf("namespace %d out of range", ns)
	}
	return int16(ns), nil
}

// scanMessage reads a row that selects messageRow after the columns of before (an id): the
// message, its owner and namespace checked.
func scanMessage(row interface{ Scan(...any) error }, before ...any) (store.Message, error) {
	var m store.Message
	var typ, ns int64
	var key []byte
	err := row.Scan(append(before, &m.Hash, &typ, &key, &ns, &m.Timestamp, &m.Expiry, &m.Data)...)
	if err == nil {
		m.Owner, err = scanOwner(typ, key)
	}
	if err == nil {
		m.Namespace, err = scanNS(ns)
	}
	if err != nil {
		return store.Message{}, err
	}
	m.DataLen = len(m.Data)
	return m, nil
}

// Get implements store.Store.
func (s *Store) Get(hash string) (store.Message, bool, error) {
	if err := s.check(); err != nil {
		return store.Message{}, false, err
	}
	m, err := scanMessage(s.st["get"].QueryRow(hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Message{}, false, nil
	}
	if err != nil {
		return store.Message{}, false, s.fail("get", err)
	}
	return m, true, nil
}

// Retrieve implements store.Store.
func (s *Store) Retrieve(owner store.Owner, ns int16, lastHash string, maxSize, maxCount int) ([]store.Message, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	limit := -1
	if maxCount > 0 {
		limit = maxCount + 1 // one more tells whether more remain
	}
	rows, err := s.st["retrieve"].Query(args(owner, ns, lastHash, ns, owner[1:], int64(owner[0]), limit)...)
	if err != nil {
		return nil, false, s.fail("retrieve", err)
	}
	defer rows.Close()
	var out []store.Message
	size := 0
	more := false
	for rows.Next() {
		if maxCount > 0 && len(out) >= maxCount {
			more = true
			break
		}
		m := store.Message{Owner: owner, Namespace: ns}
		if err := rows.Scan(&m.Hash, &m.Timestamp, &m.Expiry, &m.Data); err != nil {
			return nil, false, s.fail("retrieve", err)
		}
		m.DataLen = len(m.Data)
		if maxSize > 0 {
			size += store.RetrieveCost(len(m.Hash), m.DataLen)
			if len(out) > 0 && size > maxSize {
				more = true
				break
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, s.fail("retrieve", err)
	}
	return out, more, nil
}

// Delete implements store.Store.
func (s *Store) Delete(owner store.Owner, hashes []string) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.writes++
	delete(s.ownerIDs, owner) // its last message may go, and its row with it
	var out []string
	err := s.tx("delete", func(tx *sql.Tx) error {
		st := tx.Stmt(s.st["delHash"])
		defer st.Close()
		for _, h := range hashes {
			res, err := st.Exec(args(owner, h)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				out = append(out, h)
			}
		}
		return nil
	})
	return out, err
}

// selectThen lists the affected rows with sel and then runs act on the same rows, in one
// transaction.
func (s *Store) selectThen(owner store.Owner, op, sel, act string, selArgs, actArgs []any) ([]store.Affected, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	delete(s.ownerIDs, owner) // deleting may remove the owner row
	s.writes++
	var out []store.Affected
	err := s.tx(op, func(tx *sql.Tx) error {
		rows, err := tx.Stmt(s.st[sel]).Query(selArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a store.Affected
			var ns int64
			if err := rows.Scan(&ns, &a.Hash); err != nil {
				rows.Close()
				return err
			}
			if a.Namespace, err = scanNS(ns); err != nil {
				rows.Close()
				return err
			}
			out = append(out, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		res, err := tx.Stmt(s.st[act]).Exec(actArgs...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != int64(len(out)) {
			return fmt.Errorf("selected %d messages but changed %d", len(out), n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAll implements store.Store.
func (s *Store) DeleteAll(owner store.Owner, sc store.Scope) ([]store.Affected, error) {
	if sc.All {
		return s.selectThen(owner, "delete all", "selAll", "delAll", args(owner), args(owner))
	}
	return s.selectThen(owner, "delete all", "selAllNS", "delAllNS", args(owner, sc.Namespace), args(owner, sc.Namespace))
}

// DeleteBefore implements store.Store.
func (s *Store) DeleteBefore(owner store.Owner, sc store.Scope, before int64) ([]store.Affected, error) {
	if sc.All {
		return s.selectThen(owner, "delete before", "selBefore", "delBefore", args(owner, before), args(owner, before))
	}
	a := args(owner, before, sc.Namespace)
	return s.selectThen(owner, "delete before", "selBeforeNS", "delBeforeNS", a, a)
}

// Expire implements store.Store.
func (s *Store) Expire(owner store.Owner, hashes []string, expiry int64, mode store.ExpireMode) ([]store.HashExpiry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var name string
	switch mode {
	case store.ExpireEither:
		name = "expEither"
	case store.ExpireExtend:
		name = "expExtend"
	case store.ExpireShorten:
		name = "expShorten"
	default:
		return nil, nil // an unknown mode changes nothing
	}
	s.writes++
	var out []store.HashExpiry
	err := s.tx("expire", func(tx *sql.Tx) error {
		st := tx.Stmt(s.st[name])
		defer st.Close()
		for _, h := range store.UniqueHashes(hashes) {
			a := []any{expiry, owner[1:], int64(owner[0]), h}
			if mode != store.ExpireEither {
				a = append(a, expiry)
			}
			res, err := st.Exec(a...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				out = append(out, store.HashExpiry{Hash: h, Expiry: expiry})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireAll implements store.Store.
func (s *Store) ExpireAll(owner store.Owner, sc store.Scope, expiry int64) ([]store.Affected, error) {
	if sc.All {
		return s.selectThen(owner, "expire all", "selLater", "shortenAll", args(owner, expiry), []any{expiry, owner[1:], int64(owner[0]), expiry})
	}
	return s.selectThen(owner, "expire all", "selLaterNS", "shortenAllNS", args(owner, expiry, sc.Namespace), []any{expiry, owner[1:], int64(owner[0]), expiry, sc.Namespace})
}

// GetExpiries implements store.Store.
func (s *Store) GetExpiries(owner store.Owner, hashes []string) ([]store.HashExpiry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []store.HashExpiry
	for _, h := range store.UniqueHashes(hashes) {
		var exp int64
		err := s.st["getExpiry"].QueryRow(args(owner, h)...).Scan(&exp)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, s.fail("get expiries", err)
		}
		out = append(out, store.HashExpiry{Hash: h, Expiry: exp})
	}
	return out, nil
}

// CleanExpired implements store.Store.
func (s *Store) CleanExpired(now int64) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	s.writes++
	res, err := s.st["clean"].Exec(now)
	if err != nil {
		return 0, s.fail("clean expired", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("clean expired", err)
	}
	if n > 0 {
		clear(s.ownerIDs)
	}
	return int(n), nil
}

// EachInRange implements store.Store. It reads pages in rowid order, owners filtered through
// a temporary table of the owner ids in range, so fn may use the store between rows.
func (s *Store) EachInRange(r store.SpaceRange, fn func(store.Message) bool) error {
	if err := s.check(); err != nil {
		return err
	}
	q := iterStatements["pageAll"]
	if !r.Full() {
		// Iterations may nest (fn may iterate too), so each gets its own table.
		s.iters++
		table := fmt.Sprintf("temp.range_owners_%d", s.iters)
		defer func() {
			s.iters--
			_, _ = s.db.Exec(`DROP TABLE IF EXISTS ` + table)
		}()
		n, err := s.fillRangeTable(table, r)
		if err != nil || n == 0 {
			return err
		}
		q = fmt.Sprintf(iterStatements["pageIn"], table)
	}
	st, err := s.db.Prepare(q)
	if err != nil {
		return s.fail("iterating", err)
	}
	defer st.Close()
	last := int64(0)
	for {
		msgs, ids, err := s.page(st, last)
		if err != nil || len(msgs) == 0 {
			return err
		}
		writes := s.writes
		for i := range msgs {
			if err := s.check(); err != nil {
				return err
			}
			last = ids[i]
			if s.writes != writes {
				// fn changed the store: the rest of the page may be gone or have new expiries.
				err := s.st["expiryByID"].QueryRow(ids[i]).Scan(&msgs[i].Expiry)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return s.fail("iterating", err)
				}
			}
			if !fn(msgs[i]) {
				return nil
			}
		}
	}
}

func (s *Store) fillRangeTable(table string, r store.SpaceRange) (int, error) {
	n := 0
	err := s.tx("iterating", func(tx *sql.Tx) error {
		if _, err := tx.Exec(`CREATE TEMP TABLE ` + table[len("temp."):] + ` (id INTEGER PRIMARY KEY)`); err != nil {
			return err
		}
		rows, err := tx.Stmt(s.st["owners"]).Query()
		if err != nil {
			return err
		}
		var in []int64
		for rows.Next() {
			var id, typ int64
			var key []byte
			if err := rows.Scan(&id, &typ, &key); err != nil {
				rows.Close()
				return err
			}
			if r.Contains(store.SwarmSpace(key)) {
				in = append(in, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ins, err := tx.Prepare(`INSERT INTO ` + table + ` (id) VALUES (?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, id := range in {
			if _, err := ins.Exec(id); err != nil {
				return err
			}
		}
		n = len(in)
		return nil
	})
	return n, err
}

func (s *Store) page(st *sql.Stmt, after int64) ([]store.Message, []int64, error) {
	rows, err := st.Query(after, iterPage)
	if err != nil {
		return nil, nil, s.fail("iterating", err)
	}
	defer rows.Close()
	var msgs []store.Message
	var ids []int64
	for rows.Next() {
		var id int64
		m, err := scanMessage(rows, &id)
		if err != nil {
			return nil, nil, s.fail("iterating", err)
		}
		msgs = append(msgs, m)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.fail("iterating", err)
	}
	return msgs, ids, nil
}

// Stats implements store.Store.
func (s *Store) Stats() (store.Stats, error) {
	if err := s.check(); err != nil {
		return store.Stats{}, err
	}
	var st store.Stats
	if err := s.st["count"].QueryRow().Scan(&st.Messages, &st.DataBytes); err != nil {
		return st, s.fail("stats", err)
	}
	if err := s.st["countOwner"].QueryRow().Scan(&st.Owners); err != nil {
		return st, s.fail("stats", err)
	}
	rows, err := s.st["countNS"].Query()
	if err != nil {
		return st, s.fail("stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ns int64
		var c store.NamespaceCount
		if err := rows.Scan(&ns, &c.Messages); err != nil {
			return st, s.fail("stats", err)
		}
		if c.Namespace, err = scanNS(ns); err != nil {
			return st, s.fail("stats", err)
		}
		st.Namespaces = append(st.Namespaces, c)
	}
	if err := rows.Err(); err != nil {
		return st, s.fail("stats", err)
	}
	var pages, free, size int64
	for _, p := range []struct {
		q   string
		dst *int64
	}{{"PRAGMA page_count", &pages}, {"PRAGMA freelist_count", &free}, {"PRAGMA page_size", &size}} {
		if err := s.db.QueryRow(p.q).Scan(p.dst); err != nil {
			return st, s.fail("stats", err)
		}
	}
	st.Footprint = (pages - free) * size
	return st, nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, st := range s.st {
		_ = st.Close()
	}
	if err := s.db.Close(); err != nil {
		return s.fail("closing", err)
	}
	return nil
}
