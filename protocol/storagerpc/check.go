package storagerpc

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// CheckEnv is what the server-side checks need besides the request itself.
type CheckEnv struct {
	// Now is the node's clock.
	Now time.Time
	// Suite verifies signatures, for real or modeled.
	Suite cryptomode.Suite
	// Forwarded: the request came from a swarm peer, not a client. delete_all and expire_all
	// then allow SignatureToleranceForwarded instead of SignatureTolerance.
	Forwarded bool
	// Revoked reports whether an account has revoked a subaccount token. Nil: nothing revoked.
	Revoked func(account Pubkey, token [SubaccountTokenLen]byte) bool
	// NoMultiExpiry refuses expire requests with one expiry per message, as nodes did before
	// hard fork 19.4. The zero value allows them.
	NoMultiExpiry bool
	// ConvertKey converts the Ed25519 key of a 05 account to its X25519 form. Nil converts
	// afresh each time; a node may pass a memoizing conversion (identity.X25519Memo.Convert)
	// to save wall-clock time.
	ConvertKey func(ed [32]byte) ([32]byte, error)
	// Verified, when not nil, may be the memo that this very request's signature verified
	// (see Verified): the check then charges the memo's cost instead of verifying again. It
	// is only read.
	Verified *Verified
	// Record, when not nil, receives the memo of the request's signature when the check
	// verifies it and no revocations are consulted (Revoked nil), for the node to hand on with
	// the request; it is left as it is otherwise (a refused signature, revocations consulted,
	// or a trusted memo taken from Verified).
	Record *Verified
}

// Verified is the memo that a request's signature verified, and what that charged. A node that
// verified a client's request passes the memo, with that very request, to the swarm members it
// forwards the request to within the process; they skip the verification work (the key
// conversion and ed25519, or the modeled hashes) but charge the same cost, which follows from
// the request and the suite's costs alone, so the simulated CPU time does not change. A memo
// speaks for the request object it was recorded for and no other: it holds that request's
// signed account and is not trusted for another (a copy included), so it cannot let a
// different or differently signed request skip verification; the request must not be
// modified after its check, as forwarded requests never are. The memo is written once, by the
// check that records it, before the request is forwarded, and only read after that: members
// on other workers may read it at the same time. A request decoded from wire bytes comes
// without one and is verified in full.
type Verified struct {
	ok    bool
	acct  *SignedAccount // the signed account of the request it was recorded for
	mode  cryptomode.Mode
	costs cryptomode.Costs
	cost  time.Duration
}

// trusted reports whether c may take its memo for the signature of the request whose signed
// account is acct: one was recorded, for that very request, by a suite of the same mode and
// costs, and neither side consults revocations (which could differ from node to node).
func (c *CheckEnv) trusted(acct *SignedAccount) bool {
	v := c.Verified
	return v != nil && v.ok && v.acct == acct && c.Revoked == nil && v.mode == c.Suite.Mode() && v.costs == c.Suite.Costs()
}

// verified verifies a request's signature over msg() (see verify) and returns its cost, with
// a 401 carrying failText when it does not verify. Success returns a literal nil error, so that
// the Check methods can return the result as it is. With a trusted memo (c.Verified) it
// charges the memo's cost and neither builds the message nor verifies; otherwise see
// verifiedOver. Retrieve.Check takes the same short-cut itself, to build its message on the
// stack.
func (c *CheckEnv) verified(access Access, skipRevoke bool, acct *SignedAccount, msg func() []byte, failText string) (time.Duration, error) {
	if c.trusted(acct) {
		return c.Verified.cost, nil
	}
	return c.verifiedOver(access, skipRevoke, acct, msg(), failText)
}

// verifiedOver is verified past the memo, over a message already built, which does not escape:
// a check may build it on its stack. A success is recorded in c.Record unless revocations were
// consulted.
func (c *CheckEnv) verifiedOver(access Access, skipRevoke bool, acct *SignedAccount, msg []byte, failText string) (time.Duration, error) {
	ok, cost := verify(verifyOptions{suite: c.Suite, access: access, skipRevoke: skipRevoke, revoked: c.Revoked, convert: c.ConvertKey}, acct, msg)
	if !ok {
		return cost, refuse(http.StatusUnauthorized, failText)
	}
	if c.Record != nil && c.Revoked == nil {
		*c.Record = Verified{ok: true, acct: acct, mode: c.Suite.Mode(), costs: c.Suite.Costs(), cost: cost}
	}
	return cost, nil
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms) }

// outside reports whether the ms timestamp is more than tol away from now.
func outside(ms int64, now time.Time, tol time.Duration) bool {
	t := msTime(ms)
	return t.Before(now.Add(-tol)) || t.After(now.Add(tol))
}

// Check refuses a store whose lifetime is out of bounds (403), whose timestamp is ahead of the
// node or expiry behind it by more than StoreTolerance (406), or, outside public inboxes, that
// is unsigned (401), signed at a time more than SignatureTolerance away (406) or signed wrongly
// (401). Signatures on stores to public inboxes are not checked, as on the real server.
func (r *Store) Check(c CheckEnv) (time.Duration, error) {
	public := r.Namespace.IsPublicInbox()
	ttl := r.Expiry - r.Timestamp
	maxTTL := TTLMax
	if !public {
		maxTTL = TTLMaxPrivate
	}
	if ttl < TTLMin.Milliseconds() || ttl > maxTTL.Milliseconds() {
		return 0, refuse(http.StatusForbidden, "Provided expiry/TTL is not valid.")
	}
	if msTime(r.Timestamp).After(c.Now.Add(StoreTolerance)) || msTime(r.Expiry).Before(c.Now.Add(-StoreTolerance)) {
		return 0, refuse(http.StatusNotAcceptable, "Timestamp error: check your clock")
	}
	if public {
		return 0, nil
	}
	if !r.Signed {
		return 0, refuse(http.StatusUnauthorized, fmt.Sprintf("store: signature required to store to namespace %d", r.Namespace))
	}
	if outside(r.SigTimestamp, c.Now, SignatureTolerance) {
		return 0, refuse(http.StatusNotAcceptable, "store signature timestamp too far from current time")
	}
	access := AccessWrite
	if r.Namespace.IsPublicOutbox() {
		// Storing to an outbox replaces what is there, so it also needs delete access.
		access |= AccessDelete
	}
	return c.verified(access, false, &r.SignedAccount, r.SigMessage, "store signature verification failed")
}

// Check refuses an unsigned retrieve outside the namespaces read without authentication (401),
// a signature timestamp more than SignatureTolerance away (406) and a wrong signature (401).
func (r *Retrieve) Check(c CheckEnv) (time.Duration, error) {
	if !r.Signed {
		if r.Namespace.NoAuthRetrieve() {
			return 0, nil
		}
		return 0, refuse(http.StatusUnauthorized, "retrieve: request signature required")
	}
	if outside(r.Timestamp, c.Now, SignatureTolerance) {
		return 0, refuse(http.StatusNotAcceptable, "retrieve timestamp too far from current time")
	}
	// The memo's short-cut, as in CheckEnv.verified (keep the two alike).
	if c.trusted(&r.SignedAccount) {
		return c.Verified.cost, nil
	}
	// Clients sign a retrieve for every namespace they poll, and every node checks it: the
	// message is built on the stack, as Sign builds it.
	var msg [retrieveSigRoom]byte
	return c.verifiedOver(AccessRead, r.Namespace.IsUnrevocable(), &r.SignedAccount, r.appendSigMessage(msg[:0]), "retrieve signature verification failed")
}

// Check verifies the delete's signature (401). Deletes carry no timestamp: a hash can only be
// deleted once.
func (r *Delete) Check(c CheckEnv) (time.Duration, error) {
	return c.verified(AccessDelete, false, &r.SignedAccount, r.SigMessage, "delete_msgs signature verification failed")
}

func forwardTolerance(c *CheckEnv) time.Duration {
	if c.Forwarded {
		return SignatureToleranceForwarded
	}
	return SignatureTolerance
}

// Check refuses a timestamp too far from the node's clock (406) and a wrong signature (401).
func (r *DeleteAll) Check(c CheckEnv) (time.Duration, error) {
	if outside(r.Timestamp, c.Now, forwardTolerance(&c)) {
		return 0, refuse(http.StatusNotAcceptable, "delete_all timestamp too far from current time")
	}
	return c.verified(AccessDelete, false, &r.SignedAccount, r.SigMessage, "delete_all signature verification failed")
}

// Check refuses a cut-off more than a minute in the future and a wrong signature, both with 401
// as the real server does.
func (r *DeleteBefore) Check(c CheckEnv) (time.Duration, error) {
	if msTime(r.Before).After(c.Now.Add(time.Minute)) {
		return 0, refuse(http.StatusUnauthorized, "delete_before timestamp too far in the future")
	}
	return c.verified(AccessDelete, false, &r.SignedAccount, r.SigMessage, "delete_before signature verification failed")
}

// Check refuses an expiry in the past beyond the tolerance (406) and a wrong signature (401).
func (r *ExpireAll) Check(c CheckEnv) (time.Duration, error) {
	if msTime(r.Expiry).Before(c.Now.Add(-forwardTolerance(&c))) {
		return 0, refuse(http.StatusNotAcceptable, "expire_all timestamp should be >= current time")
	}
	return c.verified(AccessDelete, false, &r.SignedAccount, r.SigMessage, "expire_all signature verification failed")
}

// Check refuses an expiry more than a minute in the past (401), per-message expiries when the
// network does not allow them yet (403), a wrong signature (401), and a shorten by a subaccount
// without delete access (400).
func (r *Expire) Check(c CheckEnv) (time.Duration, error) {
	for _, e := range r.Expiries {
		if msTime(e).Before(c.Now.Add(-time.Minute)) {
			return 0, refuse(http.StatusUnauthorized, "expire: timestamp should be >= current time")
		}
	}
	if len(r.Expiries) > 1 && c.NoMultiExpiry {
		return 0, refuse(http.StatusForbidden, "expire: multi-expiry requests are not yet active on the network")
	}
	cost, err := c.verified(AccessWrite, false, &r.SignedAccount, r.SigMessage, "expire: signature verification failed")
	if err != nil {
		return cost, err
	}
	if sa := r.Auth.Subaccount; sa != nil && !sa.has(AccessDelete) && r.Mode == ExpireShorten {
		return cost, refuse(http.StatusBadRequest, "expire: shorten parameter cannot be used with this subaccount token (missing delete access)")
	}
	return cost, nil
}

// Apply returns what a node applies once Check has passed: the expiries capped at now +
// TTLMaxPrivate (one, or one per message) and whether only extensions are allowed (asked for,
// or implied by a subaccount without delete access). The node signs the capped values.
func (r *Expire) Apply(now time.Time) (expiries []int64, extendOnly bool) {
	limit := now.Add(TTLMaxPrivate).UnixMilli()
	expiries = make([]int64, len(r.Expiries))
	for i, e := range r.Expiries {
		expiries[i] = min(e, limit)
	}
	extendOnly = r.Mode == ExpireExtend
	if sa := r.Auth.Subaccount; sa != nil && !sa.has(AccessDelete) {
		extendOnly = true
	}
	return expiries, extendOnly
}

// Check refuses a timestamp more than SignatureTolerance away (406) and a wrong signature (401).
func (r *GetExpiries) Check(c CheckEnv) (time.Duration, error) {
	if outside(r.Timestamp, c.Now, SignatureTolerance) {
		return 0, refuse(http.StatusNotAcceptable, "get_expiries timestamp too far from current time")
	}
	return c.verified(AccessRead, false, &r.SignedAccount, r.SigMessage, "get_expiries signature verification failed")
}

// Check: get_swarm needs nothing.
func (r *GetSwarm) Check(CheckEnv) (time.Duration, error) { return 0, nil }

// Check: info needs nothing.
func (r *Info) Check(CheckEnv) (time.Duration, error) { return 0, nil }

// Check: oxend requests need nothing.
func (r *OxendRequest) Check(CheckEnv) (time.Duration, error) { return 0, nil }

// Check: a batch itself needs nothing; each subrequest is checked (and swarm-checked) on its own.
func (r *Batch) Check(CheckEnv) (time.Duration, error) { return 0, nil }

// RetrieveBudget decides which stored messages a retrieve answer includes, counting as the server
// does: at most MaxCount messages, and an aggregate size (RetrieveMessageCost each) within the
// effective max size, though always at least one message.
type RetrieveBudget struct {
	rows     int64 // rows the server's query may return; < 0 for no limit
	maxCount int64 // < 0 for no limit
	maxSize  int64
	seen     int64
	taken    int64
	size     int64
}

// RetrieveMessageCost is what one message counts against a retrieve's max size: a fixed
// overhead, the hash, and the data as it grows once base64-encoded.
func RetrieveMessageCost(hashLen, dataLen int) int64 {
	return RetrieveOverhead + int64(hashLen) + int64(dataLen)*4/3
}

// Budget returns the retrieve's limits. Zero max_count/max_size count as absent; with neither
// the max size is RetrieveDefaultMaxSize; -k means RetrieveMaxSize/k; larger than
// RetrieveMaxSize is capped. A max_count of -1 returns nothing and below that is unlimited, the
// odd results of the server's integer conversions, kept so the simulator answers as it does.
func (r *Retrieve) Budget() RetrieveBudget {
	b := RetrieveBudget{rows: -1, maxCount: -1}
	count, size := int32(r.MaxCount), int64(int32(r.MaxSize))
	if count == 0 && size == 0 {
		size = RetrieveDefaultMaxSize
	}
	switch {
	case size < 0:
		b.maxSize = RetrieveMaxSize / -size
	case size == 0 || size > RetrieveMaxSize:
		b.maxSize = RetrieveMaxSize
	default:
		b.maxSize = size
	}
	if count > 0 {
		b.maxCount = int64(count)
	}
	if count != 0 {
		b.rows = int64(count + 1) // int32 wrap, as the server's cast
	}
	return b
}

// Next is called for each stored message after LastHash, in storage order. take says whether the
// message goes into the answer; when it does not, nothing after it does either, and more says
// whether the answer reports "more": true.
func (b *RetrieveBudget) Next(hashLen, dataLen int) (take, more bool) {
	if b.rows >= 0 && b.seen >= b.rows {
		return false, false
	}
	b.seen++
	if b.maxCount >= 0 && b.taken >= b.maxCount {
		return false, true
	}
	b.size += RetrieveMessageCost(hashLen, dataLen)
	if b.taken > 0 && b.size > b.maxSize {
		return false, true
	}
	b.taken++
	return true, false
}

// MaxSize is the effective size limit in bytes.
func (b RetrieveBudget) MaxSize() int64 { return b.maxSize }
