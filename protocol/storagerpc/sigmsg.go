package storagerpc

// Signature messages. Requests are signed over ASCII concatenations (numbers in decimal, the
// namespace written as "" for 0); service nodes sign their per-node results of swarm-wide
// operations over similar concatenations that begin with the account's hex ID. Clients use the
// latter to check that a node really did what it reports.

// SigMessage returns what the client signs for a store to a namespace that needs
// authentication: "store" || namespace || sig_timestamp.
func (r *Store) SigMessage() []byte {
	return methodNamespaceNumber(MethodStore, r.Namespace, r.SigTimestamp)
}

// SigMessage: "retrieve" || namespace || timestamp.
func (r *Retrieve) SigMessage() []byte {
	return r.appendSigMessage(make([]byte, 0, retrieveSigRoom))
}

// retrieveSigRoom holds any retrieve's signature message: the method, a namespace and a
// timestamp, each number with its sign.
const retrieveSigRoom = len(MethodRetrieve) + 6 + 20

// appendSigMessage appends SigMessage to dst. It keeps nothing of dst, so that Sign, which a
// client runs for every namespace it polls, and Check, which nodes run for each, build the
// message on their stack.
func (r *Retrieve) appendSigMessage(dst []byte) []byte {
	return appendInt(r.Namespace.appendSig(append(dst, MethodRetrieve...)), r.Timestamp)
}

// SigMessage: "delete" || hash...
func (r *Delete) SigMessage() []byte {
	b := append(make([]byte, 0, 6+HashLen*len(r.Messages)), "delete"...)
	return appendAll(b, r.Messages)
}

// SigMessage: "delete_all" || namespace || timestamp, the namespace being "all" for all of them.
func (r *DeleteAll) SigMessage() []byte {
	return methodNamespaceNumber(MethodDeleteAll, r.Namespace, r.Timestamp)
}

// SigMessage: "delete_before" || namespace || before.
func (r *DeleteBefore) SigMessage() []byte {
	return methodNamespaceNumber(MethodDeleteBefore, r.Namespace, r.Before)
}

// SigMessage: "expire_all" || namespace || expiry.
func (r *ExpireAll) SigMessage() []byte {
	return methodNamespaceNumber(MethodExpireAll, r.Namespace, r.Expiry)
}

// methodNamespaceNumber is the shape most signature messages share: method || namespace ||
// number, the namespace as appendSig writes it (a Namespace or a NamespaceSel).
func methodNamespaceNumber[N interface{ appendSig([]byte) []byte }](method string, ns N, n int64) []byte {
	b := append(make([]byte, 0, len(method)+26), method...)
	return appendInt(ns.appendSig(b), n)
}

// SigMessage: "expire" || ("shorten" | "extend" | "") || expiry... || hash...
func (r *Expire) SigMessage() []byte {
	b := append(make([]byte, 0, 20+13*len(r.Expiries)+HashLen*len(r.Messages)), "expire"...)
	b = append(b, r.Mode.sigWord()...)
	for _, e := range r.Expiries {
		b = appendInt(b, e)
	}
	return appendAll(b, r.Messages)
}

// SigMessage: "get_expiries" || timestamp || hash...
func (r *GetExpiries) SigMessage() []byte {
	b := append(make([]byte, 0, 30+HashLen*len(r.Messages)), "get_expiries"...)
	b = appendInt(b, r.Timestamp)
	return appendAll(b, r.Messages)
}

func appendAll(b []byte, ss []string) []byte {
	for _, s := range ss {
		b = append(b, s...)
	}
	return b
}

// StoreResultSigMessage is what a node signs for a stored message: the hash string itself.
func StoreResultSigMessage(hash string) []byte { return []byte(hash) }

// DeleteResultSigMessage is what a node signs for a delete: account hex || requested hashes ||
// deleted hashes (sorted).
func DeleteResultSigMessage(account Pubkey, requested, deleted []string) []byte {
	b := account.appendHex(make([]byte, 0, 66+HashLen*(len(requested)+len(deleted))))
	b = appendAll(b, requested)
	return appendAll(b, deleted)
}

// DeleteAllResultSigMessage is what a node signs for delete_all: account hex || timestamp ||
// deleted hashes (sorted across all namespaces).
func DeleteAllResultSigMessage(account Pubkey, timestamp int64, deleted []string) []byte {
	return accountNumberHashes(account, timestamp, deleted)
}

// DeleteBeforeResultSigMessage: account hex || before || deleted hashes (sorted).
func DeleteBeforeResultSigMessage(account Pubkey, before int64, deleted []string) []byte {
	return accountNumberHashes(account, before, deleted)
}

// ExpireAllResultSigMessage: account hex || expiry || updated hashes (sorted).
func ExpireAllResultSigMessage(account Pubkey, expiry int64, updated []string) []byte {
	return accountNumberHashes(account, expiry, updated)
}

func accountNumberHashes(account Pubkey, n int64, hashes []string) []byte {
	b := account.appendHex(make([]byte, 0, 66+20+HashLen*len(hashes)))
	b = appendInt(b, n)
	return appendAll(b, hashes)
}

// ExpireResultSigMessage is what a node signs for an expire: account hex || expiries || requested
// hashes || updated hashes (sorted) || (hash || expiry) for each unchanged message in hash order.
// With a single requested expiry, expiries is that (capped) expiry; with one per message, it is
// the expiries actually applied, in the order of updated.
func ExpireResultSigMessage(account Pubkey, expiries []int64, requested, updated []string, unchanged []HashExpiry) []byte {
	b := make([]byte, 0, 66+13*len(expiries)+HashLen*(len(requested)+len(updated))+56*len(unchanged))
	return appendExpireResultSigMessage(b, account, expiries, requested, updated, unchanged)
}

// expireSigRoom holds the signature message of an expire of a few messages, which every
// member of a swarm signs for each expire a client's poll sends; NewExpireResult builds it on
// its stack.
const expireSigRoom = 1024

// appendExpireResultSigMessage appends ExpireResultSigMessage to dst and keeps nothing of it.
func appendExpireResultSigMessage(b []byte, account Pubkey, expiries []int64, requested, updated []string, unchanged []HashExpiry) []byte {
	b = account.appendHex(b)
	for _, e := range expiries {
		b = appendInt(b, e)
	}
	b = appendAll(b, requested)
	b = appendAll(b, updated)
	for _, u := range unchanged {
		b = append(b, u.Hash...)
		b = appendInt(b, u.Expiry)
	}
	return b
}

// HashExpiry is a message hash with its expiry (ms).
type HashExpiry struct {
	Hash   string
	Expiry int64
}
