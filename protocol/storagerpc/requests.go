package storagerpc

import "time"

// Request is one parsed (or to-be-sent) storage RPC call. Concrete types are *Store, *Retrieve,
// *Delete, *DeleteAll, *DeleteBefore, *Expire, *ExpireAll, *GetExpiries, *GetSwarm, *Info,
// *OxendRequest and *Batch.
type Request interface {
	// Method is the RPC method name as sent.
	Method() string
	// writeParams writes the "params" object as Session Desktop writes it.
	writeParams(w jsonWriter) jsonWriter
	// Check runs the server's checks that follow the swarm check: clock, TTL and signature.
	// It returns the CPU time the real checks cost (signature verification) and, on refusal,
	// an *Error with the real status and text.
	Check(c CheckEnv) (time.Duration, error)
}

// Owned is implemented by requests that act on one account and so must reach its swarm; a node
// answers 421 with the right swarm when the account is not its own.
type Owned interface {
	Request
	Owner() Pubkey
}

// Method names.
const (
	MethodStore              = "store"
	MethodRetrieve           = "retrieve"
	MethodDelete             = "delete"
	MethodDeleteAll          = "delete_all"
	MethodDeleteBefore       = "delete_before"
	MethodExpire             = "expire"
	MethodExpireAll          = "expire_all"
	MethodGetExpiries        = "get_expiries"
	MethodGetSwarm           = "get_swarm"
	MethodGetSnodesForPubkey = "get_snodes_for_pubkey" // alias of get_swarm
	MethodInfo               = "info"
	MethodOxendRequest       = "oxend_request"
	MethodBatch              = "batch"
	MethodSequence           = "sequence"
)

// Limits the server enforces.
const (
	// MaxBodySize is the largest request body the server reads (10 MiB).
	MaxBodySize = 10 << 20
	// MaxDataSize is the largest message (decoded bytes).
	MaxDataSize = 76_800
	// MaxBatch is the most subrequests a batch or sequence holds.
	MaxBatch = 20
	// RetrieveMaxSize is the most bytes a retrieve returns (counted as RetrieveMessageCost).
	RetrieveMaxSize = 7_800_000
	// RetrieveDefaultMaxSize is the max_size used when a retrieve gives neither max_count nor
	// max_size: 1/5 of the maximum.
	RetrieveDefaultMaxSize = -5
	// RetrieveOverhead is the per-message allowance added to a message's size when counting.
	RetrieveOverhead = 100

	// TTLMin and TTLMax bound a stored message's lifetime; TTLMaxPrivate applies to namespaces
	// that are not public inboxes.
	TTLMin        = 10 * time.Second
	TTLMax        = 14 * 24 * time.Hour
	TTLMaxPrivate = 30 * 24 * time.Hour
	// StoreTolerance: a store is refused when its timestamp is further ahead, or its expiry
	// further behind, than this.
	StoreTolerance = 10 * time.Second
	// SignatureTolerance bounds the distance between a signature timestamp and the server's
	// clock; forwarded delete_all/expire_all get SignatureToleranceForwarded.
	SignatureTolerance          = 60 * time.Second
	SignatureToleranceForwarded = 70 * time.Second
)

// SignedAccount is what every request that acts on one account carries: the account, and the
// authentication that gives the right to act on it (Auth is zero on an unsigned store or
// retrieve). Embedding it gives the request its Owner.
type SignedAccount struct {
	Pubkey Pubkey
	Auth   Auth
}

// Owner is the account the request acts on.
func (acct *SignedAccount) Owner() Pubkey { return acct.Pubkey }

// Store deposits a message.
type Store struct {
	SignedAccount
	Namespace Namespace
	// Timestamp is the message time (ms since the epoch).
	Timestamp int64
	// TTL (ms) when the request gave one, as clients do; Expiry is then Timestamp+TTL.
	TTL    int64
	HasTTL bool
	// Expiry (ms since the epoch).
	Expiry int64
	Data   []byte
	// Signed: the request carries a signature (required for namespaces that are not public
	// inboxes; ignored by the server for public inboxes).
	Signed bool
	// SigTimestamp is the signature time: `sig_timestamp` when given, else Timestamp.
	SigTimestamp    int64
	HasSigTimestamp bool
}

// NewStore is an unsigned store with a TTL, as a client sends to someone's public inbox.
func NewStore(to Pubkey, ns Namespace, timestamp int64, ttl time.Duration, data []byte) *Store {
	t := ttl.Milliseconds()
	return &Store{SignedAccount: SignedAccount{Pubkey: to}, Namespace: ns, Timestamp: timestamp, TTL: t, HasTTL: true, Expiry: timestamp + t, Data: data, SigTimestamp: timestamp}
}

func (r *Store) Method() string { return MethodStore }

// Sign signs the store with the request timestamp as signature time, as clients do.
func (r *Store) Sign(s *Signer) time.Duration {
	r.SigTimestamp = r.Timestamp
	r.HasSigTimestamp = false
	r.Signed = true
	return r.sign(s, r.SigMessage())
}

// Retrieve fetches messages stored after LastHash.
type Retrieve struct {
	SignedAccount
	Namespace Namespace
	// LastHash is the last hash seen from this node; "" fetches from the start.
	LastHash string
	// MaxCount and MaxSize limit the answer; 0 means not given. A negative MaxSize is a fraction
	// of RetrieveMaxSize (-k is 1/k).
	MaxCount int
	MaxSize  int
	// Signed: the request carries a signature and Timestamp (required unless the namespace is
	// read without authentication).
	Signed    bool
	Timestamp int64
}

func (r *Retrieve) Method() string { return MethodRetrieve }

// Sign signs the retrieve at timestamp (ms).
func (r *Retrieve) Sign(s *Signer, timestamp int64) time.Duration {
	r.Timestamp = timestamp
	r.Signed = true
	var msg [retrieveSigRoom]byte
	return r.sign(s, r.appendSigMessage(msg[:0]))
}

// Delete removes messages by hash from the whole swarm.
type Delete struct {
	SignedAccount
	Messages []string
	// Required turns "nothing deleted anywhere" into a 404.
	Required bool
}

func (r *Delete) Method() string { return MethodDelete }

// Sign signs the delete.
func (r *Delete) Sign(s *Signer) time.Duration {
	return r.sign(s, r.SigMessage())
}

// DeleteAll removes every message of a namespace (or all namespaces).
type DeleteAll struct {
	SignedAccount
	Namespace NamespaceSel
	Timestamp int64
}

func (r *DeleteAll) Method() string { return MethodDeleteAll }

// Sign signs the request at timestamp (ms).
func (r *DeleteAll) Sign(s *Signer, timestamp int64) time.Duration {
	r.Timestamp = timestamp
	return r.sign(s, r.SigMessage())
}

// DeleteBefore removes messages with a timestamp at or before Before.
type DeleteBefore struct {
	SignedAccount
	Namespace NamespaceSel
	Before    int64
}

func (r *DeleteBefore) Method() string { return MethodDeleteBefore }

// Sign signs the request.
func (r *DeleteBefore) Sign(s *Signer) time.Duration {
	return r.sign(s, r.SigMessage())
}

// ExpireAll shortens the expiry of every message of a namespace (or all) to Expiry.
type ExpireAll struct {
	SignedAccount
	Namespace NamespaceSel
	Expiry    int64
}

func (r *ExpireAll) Method() string { return MethodExpireAll }

// Sign signs the request.
func (r *ExpireAll) Sign(s *Signer) time.Duration {
	return r.sign(s, r.SigMessage())
}

// ExpireMode restricts an expire to shortening or extending.
type ExpireMode uint8

// Expire modes.
const (
	ExpireSet     ExpireMode = iota // set the expiry whatever it was
	ExpireShorten                   // only make expiries earlier
	ExpireExtend                    // only make expiries later
)

func (m ExpireMode) sigWord() string {
	switch m {
	case ExpireShorten:
		return "shorten"
	case ExpireExtend:
		return "extend"
	}
	return ""
}

// Expire changes the expiry of messages by hash: one expiry for all, or one per message.
type Expire struct {
	SignedAccount
	Messages []string
	Expiries []int64
	Mode     ExpireMode
}

func (r *Expire) Method() string { return MethodExpire }

// Sign signs the request.
func (r *Expire) Sign(s *Signer) time.Duration {
	return r.sign(s, r.SigMessage())
}

// GetExpiries asks for the current expiry of messages.
type GetExpiries struct {
	SignedAccount
	Messages  []string
	Timestamp int64
}

func (r *GetExpiries) Method() string { return MethodGetExpiries }

// Sign signs the request at timestamp (ms).
func (r *GetExpiries) Sign(s *Signer, timestamp int64) time.Duration {
	r.Timestamp = timestamp
	return r.sign(s, r.SigMessage())
}

// GetSwarm asks which nodes form an account's swarm. Any node answers; it is not refused with 421.
type GetSwarm struct {
	Pubkey Pubkey
	// Alias: the request used the old name get_snodes_for_pubkey.
	Alias bool
}

func (r *GetSwarm) Method() string {
	if r.Alias {
		return MethodGetSnodesForPubkey
	}
	return MethodGetSwarm
}

// Info asks for the node's version and clock.
type Info struct{}

func (r *Info) Method() string { return MethodInfo }

// OxendRequest forwards a query to the node's oxend; only get_service_nodes is supported.
type OxendRequest struct {
	Endpoint string
	// Params is the raw JSON passed to oxend; nil when none was given.
	Params []byte
}

func (r *OxendRequest) Method() string { return MethodOxendRequest }

// Batch runs 1 to MaxBatch subrequests; a sequence runs them in order and stops after the first
// one that does not succeed (SubResult.OK false). Each subrequest is handled as if sent alone,
// wrong-swarm check (a 421 result) and Check included; the batch itself is answered 200 with
// the results (AppendBatchResponse) whatever they are.
type Batch struct {
	Sequence bool
	Requests []Request
}

func (r *Batch) Method() string {
	if r.Sequence {
		return MethodSequence
	}
	return MethodBatch
}
