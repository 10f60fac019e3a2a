package proc

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/registry"
)

// EventLine is one event a node or registry process observed, as a JSON line of GET
// /events: what a harness in another process (docker mode) feeds its collector. Only the
// events the collector and the summary read are sent: node.MessageStored (live copies,
// replication), node.ReplicationSent (forwards by method) and node.SwarmDataMoved
// (swarm-change traffic) from a node; registry.BlockEvent, registry.Decommissioned and
// registry.Deregistered from the registry. A reader of GET /events?leakage=1 also gets what
// the leakage recorder reads (LeakageLine): node.OnionHop, node.RequestServed of a direct
// request, registry.SeedRequest (the registry is the clients' seed node) and, once the
// process's link table asks for them (FaultState.Taps), LinkTapped; a reader of
// ?leakage=taps gets only the LinkTapped of these. Every reader gets an EventsDropped line
// after lines were dropped for it. Keys and hashes are hex (a zero key of an onion hop left
// out), addresses as netip writes them; enums are their numbers.
type EventLine struct {
	At        time.Time `json:"at"`
	Event     string    `json:"event"`
	Hash      string    `json:"hash,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	Namespace int16     `json:"namespace,omitempty"`
	Size      int       `json:"size,omitempty"`
	Expiry    int64     `json:"expiry,omitempty"`
	New       bool      `json:"new,omitempty"`
	Source    uint8     `json:"source,omitempty"`
	Method    string    `json:"method,omitempty"`
	Peer      string    `json:"peer,omitempty"`
	Attempt   int       `json:"attempt,omitempty"`
	Reason    uint8     `json:"reason,omitempty"`
	Messages  int       `json:"messages,omitempty"`
	Bytes     int       `json:"bytes,omitempty"`
	OK        bool      `json:"ok,omitempty"`
	// The registry's events.
	Node           string        `json:"node,omitempty"`
	Height         uint64        `json:"height,omitempty"`
	Active         int           `json:"active,omitempty"`
	Decommissioned int           `json:"decommissioned,omitempty"`
	Swarms         int           `json:"swarms,omitempty"`
	Changed        bool          `json:"changed,omitempty"`
	Credit         time.Duration `json:"credit,omitempty"`
	// The leakage lines' (LeakageLine): From is the previous hop's or the requester's address
	// (a link tap's writer), To a link tap's peer.
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Arrived    time.Time `json:"arrived,omitzero"`
	HopNo      int       `json:"hop,omitempty"`
	Guard      bool      `json:"guard,omitempty"`
	Role       uint8     `json:"role,omitempty"`
	Next       string    `json:"next,omitempty"`
	BytesIn    int       `json:"bytes_in,omitempty"`
	BytesOut   int       `json:"bytes_out,omitempty"`
	Accounts   []string  `json:"accounts,omitempty"`
	Namespaces []int16   `json:"namespaces,omitempty"`
	Sizes      []int     `json:"sizes,omitempty"`
	Host       string    `json:"host,omitempty"`
	Target     string    `json:"target,omitempty"`
	Status     int       `json:"status,omitempty"`
	Via        uint8     `json:"via,omitempty"`
	SentNS     int64     `json:"sent_ns,omitempty"`
	ArriveNS   int64     `json:"arrive_ns,omitempty"`
	// Dropped is an EventsDropped line's count.
	Dropped uint64 `json:"dropped,omitempty"`
}

// LinkTapped is one write on a connection to a peer as the process's link model shaped it
// (FaultState.Taps): when it was written and, if OK, when the model has it reach the peer's
// socket (unix ns), as a line of the link taps file (leakage.LinkTaps) has it.
type LinkTapped struct {
	From, To         netip.Addr
	Size             int
	SentNS, ArriveNS int64
	OK               bool
}

func (LinkTapped) EventName() string { return "link.tap" }

// LeakageLine says whether ev is one of the events only a reader of GET /events?leakage=1 gets.
func LeakageLine(ev actor.Event) bool {
	switch ev.(type) {
	case node.OnionHop, node.RequestServed, registry.SeedRequest, LinkTapped:
		return true
	}
	return false
}

// NewEventLine is ev as a line; false for an event the stream does not carry (a
// RequestServed is carried only for a direct request from a known address: the leakage
// recorder reads no other).
func NewEventLine(at time.Time, ev actor.Event) (EventLine, bool) {
	l := EventLine{At: at, Event: ev.EventName()}
	switch e := ev.(type) {
	case node.MessageStored:
		l.Hash, l.Owner, l.Namespace, l.Size, l.Expiry, l.New, l.Source = e.Hash, hex.EncodeToString(e.Owner[:]), e.Namespace, e.Size, e.Expiry, e.New, uint8(e.Source)
	case node.ReplicationSent:
		l.Method, l.Hash, l.Owner, l.Peer, l.Attempt = e.Method, e.Hash, hex.EncodeToString(e.Owner[:]), hex.EncodeToString(e.Peer[:]), e.Attempt
	case node.SwarmDataMoved:
		l.Peer, l.Reason, l.Messages, l.Bytes, l.OK = hex.EncodeToString(e.To[:]), uint8(e.Reason), e.Messages, e.Bytes, e.OK
	case registry.BlockEvent:
		l.Height, l.Hash, l.Active, l.Decommissioned, l.Swarms, l.Changed = e.Height, hex.EncodeToString(e.Hash[:]), e.Active, e.Decommissioned, e.Swarms, e.Changed
	case registry.Decommissioned:
		l.Node, l.Reason, l.Credit, l.Height = hex.EncodeToString(e.Node[:]), uint8(e.Reason), e.Credit, e.Height
	case registry.Deregistered:
		l.Node, l.Reason, l.Height = hex.EncodeToString(e.Node[:]), uint8(e.Reason), e.Height
	case node.OnionHop:
		l.From, l.Arrived, l.HopNo, l.Guard, l.Role = addrText(e.From), e.Arrived, e.HopNo, e.Guard, uint8(e.Role)
		// Most hops have neither a next hop nor an owner: a zero key is left out (read back as
		// zero), which saves most of a hop's line.
		l.Next, l.BytesIn, l.BytesOut, l.Method, l.Owner = hexUnlessZero(e.Next[:]), e.BytesIn, e.BytesOut, e.Method, hexUnlessZero(e.Owner[:])
		l.Accounts, l.Namespaces, l.Sizes, l.Host, l.Target, l.Status = accountsText(e.Accounts), e.Namespaces, e.Sizes, e.Host, e.Target, e.Status
	case node.RequestServed:
		if e.Via != node.ViaDirect || !e.From.IsValid() {
			return EventLine{}, false
		}
		l.Method, l.Via, l.Status, l.From, l.Accounts = e.Method, uint8(e.Via), e.Status, e.From.String(), accountsText(e.Accounts)
	case registry.SeedRequest:
		l.From, l.Size = addrText(e.From), e.Size
	case LinkTapped:
		l.From, l.To, l.Size, l.SentNS, l.ArriveNS, l.OK = addrText(e.From), addrText(e.To), e.Size, e.SentNS, e.ArriveNS, e.OK
	case EventsDropped:
		l.Dropped = e.Lines
	default:
		return EventLine{}, false
	}
	return l, true
}

// addrText is a as a line has it: empty for none.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// hexUnlessZero is b in hex, empty when every byte is zero (fixedHex reads empty as zero).
func hexUnlessZero(b []byte) string {
	for _, c := range b {
		if c != 0 {
			return hex.EncodeToString(b)
		}
	}
	return ""
}

func accountsText(as [][33]byte) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = hex.EncodeToString(a[:])
	}
	return out
}

// ParseEventLine reads one line of GET /events back into the node's event.
func ParseEventLine(b []byte) (time.Time, actor.Event, error) {
	var l EventLine
	if err := json.Unmarshal(b, &l); err != nil {
		return time.Time{}, nil, fmt.Errorf("event line: %w", err)
	}
	switch l.Event {
	case node.MessageStored{}.EventName():
		e := node.MessageStored{Hash: l.Hash, Namespace: l.Namespace, Size: l.Size, Expiry: l.Expiry, New: l.New, Source: node.Source(l.Source)}
		if err := fixedHex(e.Owner[:], "owner", l.Owner); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case node.ReplicationSent{}.EventName():
		e := node.ReplicationSent{Method: l.Method, Hash: l.Hash, Attempt: l.Attempt}
		if err := fixedHex(e.Owner[:], "owner", l.Owner); err != nil {
			return time.Time{}, nil, err
		}
		if err := fixedHex(e.Peer[:], "peer", l.Peer); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case node.SwarmDataMoved{}.EventName():
		e := node.SwarmDataMoved{Reason: node.MoveReason(l.Reason), Messages: l.Messages, Bytes: l.Bytes, OK: l.OK}
		if err := fixedHex(e.To[:], "peer", l.Peer); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case registry.BlockEvent{}.EventName():
		e := registry.BlockEvent{Height: l.Height, Active: l.Active, Decommissioned: l.Decommissioned, Swarms: l.Swarms, Changed: l.Changed}
		if err := fixedHex(e.Hash[:], "hash", l.Hash); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case registry.Decommissioned{}.EventName():
		e := registry.Decommissioned{Reason: registry.Reason(l.Reason), Credit: l.Credit, Height: l.Height}
		if err := fixedHex(e.Node[:], "node", l.Node); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case registry.Deregistered{}.EventName():
		e := registry.Deregistered{Reason: registry.Reason(l.Reason), Height: l.Height}
		if err := fixedHex(e.Node[:], "node", l.Node); err != nil {
			return time.Time{}, nil, err
		}
		return l.At, e, nil
	case EventsDropped{}.EventName():
		return l.At, EventsDropped{Lines: l.Dropped}, nil
	}
	ev, err := parseLeakageLine(l)
	if err != nil {
		return time.Time{}, nil, err
	}
	return l.At, ev, nil
}

// parseLeakageLine reads the lines of LeakageLine's events back.
func parseLeakageLine(l EventLine) (actor.Event, error) {
	var err error
	switch l.Event {
	case node.OnionHop{}.EventName():
		e := node.OnionHop{Arrived: l.Arrived, HopNo: l.HopNo, Guard: l.Guard, Role: node.HopRole(l.Role), BytesIn: l.BytesIn, BytesOut: l.BytesOut,
			Method: l.Method, Namespaces: nonEmpty(l.Namespaces), Sizes: nonEmpty(l.Sizes), Host: l.Host, Target: l.Target, Status: l.Status}
		if e.From, err = parseAddr("from", l.From); err != nil {
			return nil, err
		}
		if err := fixedHex(e.Next[:], "next", l.Next); err != nil {
			return nil, err
		}
		if err := fixedHex(e.Owner[:], "owner", l.Owner); err != nil {
			return nil, err
		}
		e.Accounts, err = parseAccounts(l.Accounts)
		return e, err
	case node.RequestServed{}.EventName():
		e := node.RequestServed{Method: l.Method, Via: node.Via(l.Via), Status: l.Status}
		if e.From, err = parseAddr("from", l.From); err != nil {
			return nil, err
		}
		if e.Via != node.ViaDirect || !e.From.IsValid() {
			return nil, fmt.Errorf("event line: a %s line is a direct request (via %d) with the address it came from (from)", l.Event, node.ViaDirect)
		}
		e.Accounts, err = parseAccounts(l.Accounts)
		return e, err
	case registry.SeedRequest{}.EventName():
		e := registry.SeedRequest{Size: l.Size}
		e.From, err = parseAddr("from", l.From)
		return e, err
	case LinkTapped{}.EventName():
		e := LinkTapped{Size: l.Size, SentNS: l.SentNS, ArriveNS: l.ArriveNS, OK: l.OK}
		if e.From, err = parseAddr("from", l.From); err != nil {
			return nil, err
		}
		e.To, err = parseAddr("to", l.To)
		return e, err
	}
	return nil, fmt.Errorf("event line: unknown event %q", l.Event)
}

// parseAddr reads an address of a line (empty: none).
func parseAddr(field, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("event line: %s %q is not an IP address", field, s)
	}
	return a, nil
}

// parseAccounts reads a line's accounts (none: nil, as accountsText leaves them out).
func parseAccounts(ss []string) ([][33]byte, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	out := make([][33]byte, len(ss))
	for i, s := range ss {
		if err := fixedHex(out[i][:], "account", s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nonEmpty is s, nil when empty: a line leaves an empty list out.
func nonEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// fixedHex decodes s (empty: zero) into dst, which it must fill exactly.
func fixedHex(dst []byte, field, s string) error {
	if s == "" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("event line: %s %q is not %d bytes of hex", field, s, len(dst))
	}
	copy(dst, b)
	return nil
}

// eventBuffer is how many lines of each kind (the collector's, the leakage lines) a slow
// reader of GET /events may lag before lines of that kind are dropped for it; the node never
// waits for a reader. The leakage lines (a link tap for every write) have a buffer of their
// own so that they never crowd out the collector's. The reader is told of what was dropped by
// an EventsDropped line.
const eventBuffer = 4096

// EventsDropped is the line that tells a reader of GET /events how many lines were dropped
// for it since the last such line (it fell behind): the figures it counts from the stream are
// short by them.
type EventsDropped struct{ Lines uint64 }

func (EventsDropped) EventName() string { return "events.dropped" }

// LeakageQuery is what a reader of GET /events asks for besides the collector's lines (the
// leakage query parameter): nothing, every leakage line, or only the link taps.
type LeakageQuery string

const (
	LeakageNone LeakageQuery = ""
	LeakageAll  LeakageQuery = "1"
	LeakageTaps LeakageQuery = "taps"
)

// parseLeakageQuery reads the leakage parameter of GET /events ("0" is none too).
func parseLeakageQuery(v string) (LeakageQuery, error) {
	switch q := LeakageQuery(v); q {
	case LeakageNone, "0":
		return LeakageNone, nil
	case LeakageAll, LeakageTaps:
		return q, nil
	}
	return "", fmt.Errorf("leakage=%q: give 1 for the leakage lines too, taps for the link taps only, 0 or nothing for the collector's", v)
}

// wants says whether a reader that asked q gets ev, a line of the stream.
func (q LeakageQuery) wants(ev actor.Event) bool {
	if !LeakageLine(ev) {
		return true
	}
	if _, tap := ev.(LinkTapped); tap {
		return q != LeakageNone
	}
	return q == LeakageAll
}

// eventHub fans the node's events out to the readers of GET /events.
type eventHub struct {
	log  *slog.Logger
	mu   sync.Mutex
	subs map[*reader]struct{}
}

// reader is one reader of GET /events: what it asked for, its two buffers (the collector's
// lines, the leakage lines) and how many lines were dropped for it, in all and since it was
// last told (EventsDropped).
type reader struct {
	query           LeakageQuery
	lines, leakage  chan EventLine
	dropped, untold uint64
}

func newEventHub(log *slog.Logger) *eventHub {
	return &eventHub{log: log, subs: map[*reader]struct{}{}}
}

// sink publishes the events the stream carries; it is the driver's sink (any goroutine).
func (h *eventHub) sink(at time.Time, _ actor.Addr, ev actor.Event) {
	leak := LeakageLine(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	if leak && !h.anyWants(ev) {
		return // the node encodes no leakage line that no reader wants
	}
	l, ok := NewEventLine(at, ev)
	if !ok {
		return
	}
	for r := range h.subs {
		if !r.query.wants(ev) {
			continue
		}
		ch := r.lines
		if leak {
			ch = r.leakage
		}
		select {
		case ch <- l:
		default:
			r.dropped++
			r.untold++
		}
	}
}

// anyWants says whether a reader wants ev; under h.mu.
func (h *eventHub) anyWants(ev actor.Event) bool {
	for r := range h.subs {
		if r.query.wants(ev) {
			return true
		}
	}
	return false
}

func (h *eventHub) subscribe(q LeakageQuery) (*reader, func() uint64) {
	r := &reader{query: q, lines: make(chan EventLine, eventBuffer)}
	if q != LeakageNone {
		r.leakage = make(chan EventLine, eventBuffer)
	}
	h.mu.Lock()
	h.subs[r] = struct{}{}
	h.mu.Unlock()
	return r, func() uint64 {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, r)
		return r.dropped
	}
}

// untold is how many lines were dropped for r since it was last asked.
func (h *eventHub) untold(r *reader) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := r.untold
	r.untold = 0
	return n
}

// serve streams the events as JSON lines, flushed as they come, until the reader leaves; the
// leakage lines too with ?leakage=1, the link taps only with ?leakage=taps. After lines were
// dropped for the reader, an EventsDropped line says how many.
func (h *eventHub) serve(w http.ResponseWriter, r *http.Request) {
	q, err := parseLeakageQuery(r.URL.Query().Get("leakage"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rd, done := h.subscribe(q)
	defer func() {
		if dropped := done(); dropped > 0 {
			h.log.Warn("an event reader fell behind: lines dropped for it", "dropped", dropped, "reader", r.RemoteAddr)
		}
	}()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		var l EventLine
		select {
		case <-r.Context().Done():
			return
		case l = <-rd.lines:
		case l = <-rd.leakage: // nil, never ready, without leakage lines
		}
		if enc.Encode(l) != nil {
			return
		}
		// Send what else is waiting in the same write.
		for more := true; more; {
			select {
			case l := <-rd.lines:
				if enc.Encode(l) != nil {
					return
				}
			case l := <-rd.leakage:
				if enc.Encode(l) != nil {
					return
				}
			default:
				more = false
			}
		}
		// Lines are dropped only while a buffer is full, so a line to send follows every drop.
		if n := h.untold(rd); n > 0 {
			l, _ := NewEventLine(time.Now(), EventsDropped{Lines: n})
			if enc.Encode(l) != nil {
				return
			}
		}
		if fl != nil {
			fl.Flush()
		}
	}
}
