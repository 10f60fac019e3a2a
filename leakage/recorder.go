package leakage

import (
	"cmp"
	"iter"
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// Span is a run of entries in one of the Recorder's pools.
type Span struct {
	Off uint32
	N   uint32
}

// DirectRecord is a direct storage RPC (/storage_rpc/v1) a node served.
type DirectRecord struct {
	At       time.Duration // from the run's start
	Node     int32
	Client   int32 // the client at the source address, -1 for an address no client has
	Accounts Span  // client indices of every distinct account named (Recorder.Accounts)
	Method   uint8 // Recorder.Method names it
	Status   int16
}

// OnionRecord is one onion request as its client sent it. It is 40 bytes, and there is one
// for every request of a run: the path's span is packed (Path).
type OnionRecord struct {
	Sent, Done time.Duration // the guard call, and the answer or failure
	Client     int32
	Dest       int32 // destination node
	Account    int32 // client owning the account the request is for, -1 for none or nobody's
	Size       uint32
	pathOff    uint32
	pathN      uint8
	Method     uint8
	Failure    client.Failure
}

// Path is the span of the request's hops, node indices guard first (Recorder.Hops).
func (o *OnionRecord) Path() Span { return Span{Off: o.pathOff, N: uint32(o.pathN)} }

// Reached reports whether the destination ran the request (it answered, even with an error).
func (o *OnionRecord) Reached() bool {
	switch o.Failure {
	case client.OK, client.FailRejected, client.FailWrongSwarm, client.FailClockSkew, client.FailBadResponse:
		return true
	}
	return false
}

// HopRecord is one onion hop as its node saw it. There are about four for every request of a
// run, so it is packed into 40 bytes: the previous hop (a node, or at a guard a client) and
// the relay's next node or the destination's accounts share a field each, and the role and
// flags a byte; the methods read them.
type HopRecord struct {
	// At is when the hop was done (its answer passed back), Arrived when the request reached
	// the node: what a timing observer of the node sees.
	At, Arrived       time.Duration
	Node              int32
	prev              int32 // PrevClient at a guard, else PrevNode
	link              int32 // Next of a relay; at the destination, the first of its Accounts
	BytesIn, BytesOut uint32
	HopNo             uint8
	Method            uint8
	kind              uint8 // the role, and the hopGuard and hopStore bits
	accounts          uint8 // how many Accounts: a request names at most storagerpc.MaxBatch
}

const (
	hopRoleMask = 1<<hopRoleBits - 1
	hopRoleBits = 3
	hopGuard    = 1 << hopRoleBits
	hopStore    = 1 << (hopRoleBits + 1)
)

// Role is what the node did with the request.
func (h *HopRecord) Role() node.HopRole { return node.HopRole(h.kind & hopRoleMask) }

// Guard says the node got the request from a client, as its guard.
func (h *HopRecord) Guard() bool { return h.kind&hopGuard != 0 }

// Store says the destination stored data: a subrequest carried a message (the method of a
// client's request is a batch, whatever it does).
func (h *HopRecord) Store() bool { return h.kind&hopStore != 0 }

// PrevNode is the previous node, -1 at a guard.
func (h *HopRecord) PrevNode() int32 {
	if h.Guard() {
		return -1
	}
	return h.prev
}

// PrevClient is the client at the previous address (a guard's view), else -1.
func (h *HopRecord) PrevClient() int32 {
	if h.Guard() {
		return h.prev
	}
	return -1
}

// Next is the next node of a relay, else -1.
func (h *HopRecord) Next() int32 {
	if h.Role() == node.HopRelay {
		return h.link
	}
	return -1
}

// Accounts is, at the destination, the span of client indices of every distinct account named
// (Recorder.Accounts); empty elsewhere.
func (h *HopRecord) Accounts() Span {
	if h.Role() == node.HopDestination {
		return Span{Off: uint32(h.link), N: uint32(h.accounts)}
	}
	return Span{}
}

// SeedRecord is a bootstrap request at a seed node.
type SeedRecord struct {
	At     time.Duration
	Seed   int32 // seed number, in the order the seeds were first heard from
	Client int32
}

// StoredRecord is a message written at a node.
type StoredRecord struct {
	At        time.Duration
	Node      int32
	Owner     int32 // client owning the account, -1 for nobody's
	Hash      int32 // index into Recorder.HashName
	Size      uint32
	Namespace int16
	Source    node.Source
	New       bool
}

// PathRecord is a path a client built or rotated.
type PathRecord struct {
	At      time.Duration
	Client  int32
	Path    Span
	Rebuild bool
}

// GuardTestRecord is a guard candidate a client tested.
type GuardTestRecord struct {
	At      time.Duration
	Client  int32
	Node    int32
	Account int32 // the client whose ID the test named (its own), -1 for none
	OK      bool
}

// ServedRecord is one request a server received (lsrpc.Served): what the server saw of it.
type ServedRecord struct {
	At       time.Duration
	Role     uint8 // code of the server's role (Recorder.Role)
	From     int32 // the node that proxied it (the last hop), -1 for an address no node has
	Endpoint uint8 // code of the endpoint (Recorder.Method)
	Code     int16
	BytesIn  uint32
	BytesOut uint32
}

// LearnedRecord is something a server learnt about an account (lsrpc.Learned).
type LearnedRecord struct {
	At     time.Duration
	Role   uint8
	Client int32 // the client owning the account (a Session ID or one of its blinded IDs), -1 for nobody's
	Device int32 // the device handle, numbered in order of first sight; -1 for none
	What   uint8 // code of what was learnt (Recorder.Method): "subscribed", "message", "request"
}

// Recorder is the engine sink that keeps the leakage ground truth (see the package comment).
type Recorder struct {
	T     *Tables
	epoch time.Time

	Direct     []DirectRecord
	Onion      []OnionRecord
	Hop        []HopRecord
	Seed       []SeedRecord
	Stored     []StoredRecord
	Paths      []PathRecord
	GuardTests []GuardTestRecord
	Served     []ServedRecord
	Learned    []LearnedRecord

	// RequestsOnly keeps the onion requests (Onion) and nothing else: all that RequestRates
	// reads, for a run whose leakage is evaluated over a horizon in the path-selection mode.
	RequestsOnly bool

	accounts []int32
	hops     []int32
	methods  []string
	method   map[string]uint8
	hashes   []string
	hash     map[string]int32
	seeds    map[actor.Addr]int32
	roles    []string
	devices  map[string]int32
}

// NewRecorder records events of a run that started at epoch against the tables t, which the
// world keeps filling as nodes join.
func NewRecorder(t *Tables, epoch time.Time) *Recorder {
	return &Recorder{T: t, epoch: epoch, method: map[string]uint8{}, hash: map[string]int32{}, seeds: map[actor.Addr]int32{}}
}

// SetEpoch moves the run's start to epoch, for a world whose start is known only once it is up
// (docker mode: when its containers serve); call it before the first event.
func (r *Recorder) SetEpoch(epoch time.Time) { r.epoch = epoch }

// Accounts lists the client indices of a span of accounts.
func (r *Recorder) Accounts(s Span) []int32 { return r.accounts[s.Off : s.Off+s.N] }

// Hops lists the node indices of a span of hops.
func (r *Recorder) Hops(s Span) []int32 { return r.hops[s.Off : s.Off+s.N] }

// reachedPaths yields, in order, each onion request a client sent that its destination ran
// (Reached), with its path's hops, guard first; a request whose path holds no hop is left out.
// They are what an adversary on the path can join to a destination.
func (r *Recorder) reachedPaths() iter.Seq2[*OnionRecord, []int32] {
	return func(yield func(*OnionRecord, []int32) bool) {
		for i := range r.Onion {
			o := &r.Onion[i]
			if o.Client < 0 || !o.Reached() {
				continue
			}
			if path := r.Hops(o.Path()); len(path) > 0 && !yield(o, path) {
				return
			}
		}
	}
}

// Role is the name of a server role code.
func (r *Recorder) Role(code uint8) string { return r.roles[code] }

func (r *Recorder) roleCode(role string) uint8 {
	if i := slices.Index(r.roles, role); i >= 0 {
		return uint8(i)
	}
	r.roles = append(r.roles, role)
	return uint8(len(r.roles) - 1)
}

func (r *Recorder) deviceIndex(d string) int32 {
	if d == "" {
		return -1
	}
	if r.devices == nil {
		r.devices = map[string]int32{}
	}
	i, ok := r.devices[d]
	if !ok {
		i = int32(len(r.devices))
		r.devices[d] = i
	}
	return i
}

// Method is the name of a method code.
func (r *Recorder) Method(code uint8) string { return r.methods[code] }

// HashName is the message hash of a StoredRecord.
func (r *Recorder) HashName(i int32) string { return r.hashes[i] }

func (r *Recorder) methodCode(m string) uint8 {
	if c, ok := r.method[m]; ok {
		return c
	}
	c := uint8(len(r.methods))
	r.methods = append(r.methods, m)
	r.method[m] = c
	return c
}

// accountSpan keeps each distinct account once: a poll names its own account once per
// namespace, which tells the node nothing more than naming it once.
func (r *Recorder) accountSpan(as [][33]byte) Span {
	off := len(r.accounts)
	for _, a := range as {
		c := r.T.clientByAccount(a)
		if !slices.Contains(r.accounts[off:], c) {
			r.accounts = append(r.accounts, c)
		}
	}
	return Span{Off: uint32(off), N: uint32(len(r.accounts) - off)}
}

func (r *Recorder) pathSpan(p []actor.Addr) Span {
	s := Span{Off: uint32(len(r.hops)), N: uint32(len(p))}
	for _, a := range p {
		r.hops = append(r.hops, r.T.NodeByIP(a.Addr()))
	}
	return s
}

// Observe is the engine sink.
func (r *Recorder) Observe(at time.Time, from actor.Addr, ev actor.Event) {
	t := at.Sub(r.epoch)
	if _, ok := ev.(client.OnionRoundTrip); r.RequestsOnly && !ok {
		return
	}
	switch e := ev.(type) {
	case node.RequestServed:
		if e.Via != node.ViaDirect || !e.From.IsValid() {
			return // subrequests, onion destinations (HopRecord) and peers' forwards
		}
		r.Direct = append(r.Direct, DirectRecord{At: t, Node: r.T.NodeByIP(from.Addr()), Client: r.T.ClientByIP(e.From),
			Accounts: r.accountSpan(e.Accounts), Method: r.methodCode(e.Method), Status: int16(e.Status)})
	case node.OnionHop:
		h := HopRecord{At: t, Arrived: e.Arrived.Sub(r.epoch), Node: r.T.NodeByIP(from.Addr()), link: -1,
			BytesIn: uint32(e.BytesIn), BytesOut: uint32(e.BytesOut), HopNo: uint8(min(e.HopNo, 255)), kind: uint8(e.Role) & hopRoleMask}
		if e.Guard {
			h.kind |= hopGuard
			h.prev = r.T.ClientByIP(e.From)
		} else {
			h.prev = r.T.NodeByIP(e.From)
		}
		switch e.Role {
		case node.HopRelay:
			h.link = r.T.NodeByKey(e.Next)
		case node.HopDestination:
			s := r.accountSpan(e.Accounts)
			h.link, h.accounts = int32(s.Off), uint8(s.N)
			h.Method = r.methodCode(e.Method)
			if slices.ContainsFunc(e.Sizes, func(n int) bool { return n > 0 }) {
				h.kind |= hopStore
			}
		}
		r.Hop = append(r.Hop, h)
	case node.MessageStored:
		hi, ok := r.hash[e.Hash]
		if !ok {
			hi = int32(len(r.hashes))
			r.hashes = append(r.hashes, e.Hash)
			r.hash[e.Hash] = hi
		}
		r.Stored = append(r.Stored, StoredRecord{At: t, Node: r.T.NodeByIP(from.Addr()), Owner: r.T.clientByAccount(e.Owner),
			Hash: hi, Size: uint32(e.Size), Namespace: e.Namespace, Source: e.Source, New: e.New})
	case registry.SeedRequest:
		s, ok := r.seeds[from]
		if !ok {
			s = int32(len(r.seeds))
			r.seeds[from] = s
		}
		r.Seed = append(r.Seed, SeedRecord{At: t, Seed: s, Client: r.T.ClientByIP(e.From)})
	case client.OnionRoundTrip:
		c := r.T.ClientByIP(from.Addr())
		p := r.pathSpan(e.Path)
		r.Onion = append(r.Onion, OnionRecord{Sent: t - e.RTT, Done: t, Client: c, pathOff: p.Off, pathN: uint8(p.N),
			Dest: r.T.NodeByIP(e.Dest.Addr()), Account: r.T.ClientByID(e.Account), Size: uint32(e.Size),
			Method: r.methodCode(e.Method), Failure: e.Failure})
	case lsrpc.Served:
		r.Served = append(r.Served, ServedRecord{At: t, Role: r.roleCode(e.Role), From: r.T.NodeByIP(e.From),
			Endpoint: r.methodCode(e.Endpoint), Code: int16(e.Code), BytesIn: uint32(e.BytesIn), BytesOut: uint32(e.BytesOut)})
	case lsrpc.Learned:
		r.Learned = append(r.Learned, LearnedRecord{At: t, Role: r.roleCode(e.Role), Client: r.T.ClientByAnyID(e.Account),
			Device: r.deviceIndex(e.Device), What: r.methodCode(e.What)})
	case client.PathBuilt:
		r.Paths = append(r.Paths, PathRecord{At: t, Client: r.T.ClientByIP(from.Addr()), Path: r.pathSpan(e.Path), Rebuild: e.Rebuild})
	case client.GuardTested:
		r.GuardTests = append(r.GuardTests, GuardTestRecord{At: t, Client: r.T.ClientByIP(from.Addr()), Node: r.T.NodeByIP(e.Guard.Addr()),
			Account: r.T.ClientByID(e.Account), OK: e.OK})
	}
}

// SortByTime puts each kind of record in time order (onion requests by Done), keeping the order
// of records at the same time: the order the analyses take them in. The simulator's engine
// hands events to its sinks in that order already. The live driver hands them over in the
// order the actors' goroutines took its world lock, which can be a few microseconds off the
// times they were stamped with.
func (r *Recorder) SortByTime() {
	byTime(r.Direct, func(x *DirectRecord) time.Duration { return x.At })
	byTime(r.Onion, func(x *OnionRecord) time.Duration { return x.Done })
	byTime(r.Hop, func(x *HopRecord) time.Duration { return x.At })
	byTime(r.Seed, func(x *SeedRecord) time.Duration { return x.At })
	byTime(r.Stored, func(x *StoredRecord) time.Duration { return x.At })
	byTime(r.Paths, func(x *PathRecord) time.Duration { return x.At })
	byTime(r.GuardTests, func(x *GuardTestRecord) time.Duration { return x.At })
	byTime(r.Served, func(x *ServedRecord) time.Duration { return x.At })
	byTime(r.Learned, func(x *LearnedRecord) time.Duration { return x.At })
}

// byTime sorts s stably by at, unless it is sorted already.
func byTime[T any](s []T, at func(*T) time.Duration) {
	c := func(a, b T) int { return cmp.Compare(at(&a), at(&b)) }
	if !slices.IsSortedFunc(s, c) {
		slices.SortStableFunc(s, c)
	}
}
