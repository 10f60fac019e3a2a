package leakage

import (
	"slices"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
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

// OnionRecord is one onion request as its client sent it.
type OnionRecord struct {
	Sent, Done time.Duration // the guard call, and the answer or failure
	Client     int32
	Path       Span  // node indices of the hops, guard first (Recorder.Hops)
	Dest       int32 // destination node
	Account    int32 // client owning the account the request is for, -1 for none or nobody's
	Size       uint32
	Method     uint8
	Failure    client.Failure
}

// Reached reports whether the destination ran the request (it answered, even with an error).
func (o *OnionRecord) Reached() bool {
	switch o.Failure {
	case client.OK, client.FailRejected, client.FailWrongSwarm, client.FailClockSkew, client.FailBadResponse:
		return true
	}
	return false
}

// HopRecord is one onion hop as its node saw it.
type HopRecord struct {
	// At is when the hop was done (its answer passed back), Arrived when the request reached
	// the node: what a timing observer of the node sees.
	At, Arrived       time.Duration
	Node              int32
	PrevNode          int32 // previous node, -1 at a guard
	PrevClient        int32 // the client at the previous address (a guard's view), else -1
	Next              int32 // next node of a relay, else -1
	BytesIn, BytesOut uint32
	Accounts          Span // at the destination: client indices of every distinct account named
	HopNo             uint8
	Role              node.HopRole
	Guard             bool
	// Store says the destination stored data: a subrequest carried a message (the method of
	// a client's request is a batch, whatever it does).
	Store  bool
	Method uint8
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

	accounts []int32
	hops     []int32
	methods  []string
	method   map[string]uint8
	hashes   []string
	hash     map[string]int32
	seeds    map[actor.Addr]int32
}

// NewRecorder records events of a run that started at epoch against the tables t, which the
// world keeps filling as nodes join.
func NewRecorder(t *Tables, epoch time.Time) *Recorder {
	return &Recorder{T: t, epoch: epoch, method: map[string]uint8{}, hash: map[string]int32{}, seeds: map[actor.Addr]int32{}}
}

// Accounts lists the client indices of a span of accounts.
func (r *Recorder) Accounts(s Span) []int32 { return r.accounts[s.Off : s.Off+s.N] }

// Hops lists the node indices of a span of hops.
func (r *Recorder) Hops(s Span) []int32 { return r.hops[s.Off : s.Off+s.N] }

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
	switch e := ev.(type) {
	case node.RequestServed:
		if e.Via != node.ViaDirect || !e.From.IsValid() {
			return // subrequests, onion destinations (HopRecord) and peers' forwards
		}
		r.Direct = append(r.Direct, DirectRecord{At: t, Node: r.T.NodeByIP(from.Addr()), Client: r.T.ClientByIP(e.From),
			Accounts: r.accountSpan(e.Accounts), Method: r.methodCode(e.Method), Status: int16(e.Status)})
	case node.OnionHop:
		h := HopRecord{At: t, Arrived: e.Arrived.Sub(r.epoch), Node: r.T.NodeByIP(from.Addr()), PrevNode: -1, PrevClient: -1, Next: -1,
			BytesIn: uint32(e.BytesIn), BytesOut: uint32(e.BytesOut), HopNo: uint8(min(e.HopNo, 255)), Role: e.Role, Guard: e.Guard}
		if e.Guard {
			h.PrevClient = r.T.ClientByIP(e.From)
		} else {
			h.PrevNode = r.T.NodeByIP(e.From)
		}
		if e.Role == node.HopRelay {
			h.Next = r.T.NodeByKey(e.Next)
		}
		if e.Role == node.HopDestination {
			h.Accounts = r.accountSpan(e.Accounts)
			h.Method = r.methodCode(e.Method)
			h.Store = slices.ContainsFunc(e.Sizes, func(n int) bool { return n > 0 })
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
		r.Onion = append(r.Onion, OnionRecord{Sent: t - e.RTT, Done: t, Client: c, Path: r.pathSpan(e.Path),
			Dest: r.T.NodeByIP(e.Dest.Addr()), Account: r.T.ClientByID(e.Account), Size: uint32(e.Size),
			Method: r.methodCode(e.Method), Failure: e.Failure})
	case client.PathBuilt:
		r.Paths = append(r.Paths, PathRecord{At: t, Client: r.T.ClientByIP(from.Addr()), Path: r.pathSpan(e.Path), Rebuild: e.Rebuild})
	case client.GuardTested:
		r.GuardTests = append(r.GuardTests, GuardTestRecord{At: t, Client: r.T.ClientByIP(from.Addr()), Node: r.T.NodeByIP(e.Guard.Addr()),
			Account: r.T.ClientByID(e.Account), OK: e.OK})
	}
}
