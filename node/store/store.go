// Package store is a service node's message storage: the messages clients store in their
// swarm, kept per owner and namespace in arrival order, with the operations of the storage RPC
// (store, retrieve with last_hash paging, delete, expire) and the sweeps and dumps the node runs
// (clean expired, iterate a slice of the swarm space when swarms change).
//
// The semantics follow session-storage-server's database: a hash identifies a message across
// all owners, storing a known hash only ever extends its expiry, retrieve pages by insertion
// order and always returns at least one message when any remain, and bulk operations report the
// hashes they touched. Two implementations pass the same conformance suite (package storetest):
// memory (compact, for the simulator; optionally metadata-only for modeled crypto) and sqlite
// (the real server's schema on modernc.org/sqlite, for the live drivers).
//
// Times are int64 milliseconds since the Unix epoch, as on the wire and in the real database
// (time.Time.UnixMilli and time.UnixMilli convert). They always come from the caller: a store
// never reads a clock, so expiry in the simulator follows virtual time.
package store

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sessionsim/sessionsim/internal/enum"
)

// Message is one stored message.
type Message struct {
	// Hash names the message: unpadded base64 of its BLAKE2b-256 (43 characters) on the real
	// network. It is unique across all owners of a store.
	Hash string
	// Owner is the account the message is stored for.
	Owner Owner
	// Namespace is the owner's namespace (0 is the ordinary inbox).
	Namespace int16
	// Timestamp and Expiry are milliseconds since the Unix epoch.
	Timestamp int64
	Expiry    int64
	// Data is the stored payload. Stores may keep the caller's slice without copying and return
	// it from Retrieve: nobody may modify it once stored (the same rule as actor.Request
	// bodies). A metadata-only store drops it and returns nil.
	Data []byte
	// DataLen is the payload length in bytes. Stores set it on every message they return, so
	// callers can account sizes even when Data is nil. On input it is read only when Data is
	// nil, which lets a modeled-crypto caller store a payload it never materialised.
	DataLen int
	// Payload is an opaque stand-in for Data in modeled crypto mode: typically a pointer to an
	// immutable value shared by every copy of the message, read by the modeled protocol layer
	// instead of bytes. The memory store keeps and returns it untouched; the SQLite store
	// refuses messages that carry one (it cannot persist Go values).
	Payload any
}

// Len is the payload length: len(Data) when Data is set, else DataLen.
func (m *Message) Len() int {
	if m.Data != nil {
		return len(m.Data)
	}
	return m.DataLen
}

// StoreResult says what storing a message did.
type StoreResult uint8

const (
	// New: the hash was unknown and the message is now stored.
	New StoreResult = iota
	// Extended: the hash was known with an earlier expiry, which now is the new message's.
	Extended
	// Exists: the hash was known with the same or a later expiry; nothing changed.
	Exists
)

var storeResultNames = enum.Names[StoreResult]{
	Type:  "StoreResult",
	Names: []string{New: "new", Extended: "extended", Exists: "exists"},
}

func (r StoreResult) String() string { return storeResultNames.Name(r) }

// Already reports whether the message was stored before (the RPC's "already" flag).
func (r StoreResult) Already() bool { return r != New }

// ExpireMode limits which way Expire may move an expiry.
type ExpireMode uint8

const (
	// ExpireEither sets the expiry whatever it was (the RPC without "shorten" or "extend").
	ExpireEither ExpireMode = iota
	// ExpireExtend only moves expiries later.
	ExpireExtend
	// ExpireShorten only moves expiries earlier.
	ExpireShorten
)

var expireModeNames = enum.Names[ExpireMode]{
	Type:  "ExpireMode",
	Names: []string{ExpireEither: "either", ExpireExtend: "extend", ExpireShorten: "shorten"},
}

func (m ExpireMode) String() string { return expireModeNames.Name(m) }

// Applies reports whether Expire in mode m changes a message whose expiry is cur to next. An
// unknown mode applies to nothing.
func (m ExpireMode) Applies(cur, next int64) bool {
	switch m {
	case ExpireEither:
		return true
	case ExpireExtend:
		return cur < next
	case ExpireShorten:
		return cur > next
	}
	return false
}

// Scope picks the namespaces a bulk operation (DeleteAll, DeleteBefore, ExpireAll) touches:
// one namespace, or all of them (the RPC's namespace "all").
type Scope struct {
	All       bool
	Namespace int16 // used when All is false
}

// AllNamespaces is the scope of every namespace.
var AllNamespaces = Scope{All: true}

// InNamespace is the scope of one namespace.
func InNamespace(ns int16) Scope { return Scope{Namespace: ns} }

// Has reports whether namespace ns is in the scope.
func (s Scope) Has(ns int16) bool { return s.All || s.Namespace == ns }

func (s Scope) String() string {
	if s.All {
		return "all"
	}
	return fmt.Sprint(s.Namespace)
}

// Affected is one message a bulk operation deleted or updated.
type Affected struct {
	Namespace int16
	Hash      string
}

// HashExpiry is a message hash with its (new) expiry.
type HashExpiry struct {
	Hash   string
	Expiry int64
}

// NamespaceCount is the number of messages stored in one namespace.
type NamespaceCount struct {
	Namespace int16
	Messages  int
}

// Stats counts what a store holds.
type Stats struct {
	Messages int
	// Owners counts owners with at least one message (owners without messages are forgotten).
	Owners int
	// DataBytes is the sum of the payload lengths (DataLen), kept or not.
	DataBytes int64
	// Namespaces has one entry per non-empty namespace, by ascending namespace.
	Namespaces []NamespaceCount
	// Footprint is what holding the messages costs in bytes: for the memory store an estimate
	// from the capacity of its tables plus the kept payloads (counted in full by every store
	// that shares them), for SQLite the database's used pages.
	Footprint int64
}

// Store is a service node's message storage. Implementations are not safe for concurrent use
// unless they say so: a node uses its store from its own loop only.
//
// Every result listing hashes has each hash at most once. Results that follow the caller's
// list (Delete, Expire, GetExpiries) are in the caller's order; the others are in insertion
// order. Unknown hashes, and hashes of other owners, are silently left out.
type Store interface {
	// Store adds a message, or, when its hash is already stored, extends the stored expiry to
	// the message's if that is later (the stored owner, namespace and data are kept). It
	// returns what happened and the expiry the message now has. Storing into a public outbox
	// namespace (see IsPublicOutbox) removes the owner's other messages in that namespace.
	Store(m Message) (StoreResult, int64, error)
	// StoreBatch stores msgs in one transaction with Store's semantics, in order; results[i]
	// is msgs[i]'s. On error nothing is stored.
	StoreBatch(msgs []Message) ([]StoreResult, error)
	// Get returns the message with this hash, whoever owns it.
	Get(hash string) (Message, bool, error)
	// Retrieve returns the owner's messages in namespace ns stored after the one named
	// lastHash (from the first when lastHash is empty or not among them), in insertion order,
	// and whether more remain. maxCount > 0 caps the number of messages; maxSize > 0 caps
	// their total RetrieveCost, except that the first message is returned whatever its cost.
	// Non-positive limits are no limit. Expired messages not yet cleaned are returned, as on
	// the real server.
	Retrieve(owner Owner, ns int16, lastHash string, maxSize, maxCount int) ([]Message, bool, error)
	// Delete removes the owner's messages with these hashes and returns the hashes removed.
	Delete(owner Owner, hashes []string) ([]string, error)
	// DeleteAll removes every message of the owner in scope.
	DeleteAll(owner Owner, s Scope) ([]Affected, error)
	// DeleteBefore removes the owner's messages in scope whose timestamp is <= before.
	DeleteBefore(owner Owner, s Scope, before int64) ([]Affected, error)
	// Expire sets the expiry of the owner's messages with these hashes to expiry where mode
	// allows it and returns those it changed, with their new expiry.
	Expire(owner Owner, hashes []string, expiry int64, mode ExpireMode) ([]HashExpiry, error)
	// ExpireAll shortens to expiry the expiries of the owner's messages in scope that end
	// later, and returns those it shortened (it never extends, as on the real server).
	ExpireAll(owner Owner, s Scope, expiry int64) ([]Affected, error)
	// GetExpiries returns the current expiry of the owner's messages with these hashes.
	GetExpiries(owner Owner, hashes []string) ([]HashExpiry, error)
	// CleanExpired removes every message whose expiry is <= now and returns how many.
	CleanExpired(now int64) (int, error)
	// EachInRange calls fn, in insertion order, with every message whose owner's swarm space
	// position lies in r, until fn returns false. fn may use the store (for example to delete
	// what it handed off); messages removed before fn reaches them are skipped, messages added
	// meanwhile may or may not be visited.
	EachInRange(r SpaceRange, fn func(Message) bool) error
	// Stats counts what the store holds.
	Stats() (Stats, error)
	// Close releases the store; it must not be used afterwards.
	Close() error
}

// Retrieve size accounting, as session-storage-server does it.
const (
	// MessageOverhead is what each retrieved message costs besides its hash and data: the JSON
	// keys and numbers around them.
	MessageOverhead = 100
	// RetrieveMaxSize is the most a retrieve returns, in RetrieveCost units.
	RetrieveMaxSize = 7_800_000
)

// RetrieveCost is what one message counts against a retrieve's size limit: the overhead, the
// hash, and the data as base64 (4/3 of its length, rounded down as the real server does).
func RetrieveCost(hashLen, dataLen int) int {
	return MessageOverhead + hashLen + dataLen*4/3
}

// UniqueHashes drops repeated hashes, keeping the first of each in order: stores walk it so
// that results following the caller's list (Expire, GetExpiries) have each hash once. A list
// without repeats comes back as is (a short one is checked without a map: most requests name
// a few hashes); the caller must not modify the result.
func UniqueHashes(hashes []string) []string {
	const scanned = 16
	if len(hashes) <= scanned {
		repeats := false
		for i := 1; i < len(hashes) && !repeats; i++ {
			repeats = slices.Contains(hashes[:i], hashes[i])
		}
		if !repeats {
			return hashes
		}
	}
	seen := make(map[string]struct{}, len(hashes))
	out := make([]string, 0, len(hashes))
	for _, h := range hashes {
		if _, dup := seen[h]; !dup {
			seen[h] = struct{}{}
			out = append(out, h)
		}
	}
	return out
}

// IsPublicOutbox reports whether ns is a public outbox namespace: negative and of the form
// -(20n+1) (-1, -21, ...). Such a namespace holds one message per owner; storing a new one
// replaces the others.
func IsPublicOutbox(ns int16) bool {
	n := int(ns)
	return n < 0 && -n%20 == 1
}

// Errors stores return; test with errors.Is.
var (
	// ErrEmptyHash: a message without a hash cannot be stored.
	ErrEmptyHash = errors.New("message has no hash")
	// ErrUnsupported: the store cannot do what was asked (for example keep a modeled Payload
	// in SQLite).
	ErrUnsupported = errors.New("not supported by this store")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
)

// MaxDataLen is the largest payload a store accepts: far above the protocol's 76,800 bytes,
// and what a uint32 length field holds.
const MaxDataLen int64 = 1<<32 - 1

// Check validates what every store requires of a message: a hash and a representable length.
func Check(m *Message) error {
	if m.Hash == "" {
		return fmt.Errorf("storing a message for %s: %w", m.Owner, ErrEmptyHash)
	}
	if n := m.Len(); n < 0 || int64(n) > MaxDataLen {
		return fmt.Errorf("storing message %s: data length %d is outside 0..%d", m.Hash, n, MaxDataLen)
	}
	return nil
}
