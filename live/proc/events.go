package proc

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
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
// registry.Deregistered from the registry. Keys and hashes are hex; enums are their numbers.
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
}

// NewEventLine is ev as a line; false for an event the stream does not carry.
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
	default:
		return EventLine{}, false
	}
	return l, true
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
	}
	return time.Time{}, nil, fmt.Errorf("event line: unknown event %q", l.Event)
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

// eventBuffer is how many lines a slow reader of GET /events may lag before lines are dropped
// for it (counted, and logged when it leaves); the node never waits for a reader.
const eventBuffer = 4096

// eventHub fans the node's events out to the readers of GET /events.
type eventHub struct {
	log  *slog.Logger
	mu   sync.Mutex
	subs map[chan EventLine]*uint64 // reader -> lines dropped for it
}

func newEventHub(log *slog.Logger) *eventHub {
	return &eventHub{log: log, subs: map[chan EventLine]*uint64{}}
}

// sink publishes the events the stream carries; it is the driver's sink (any goroutine).
func (h *eventHub) sink(at time.Time, _ actor.Addr, ev actor.Event) {
	l, ok := NewEventLine(at, ev)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, dropped := range h.subs {
		select {
		case ch <- l:
		default:
			*dropped++
		}
	}
}

func (h *eventHub) subscribe() (chan EventLine, func() uint64) {
	ch, dropped := make(chan EventLine, eventBuffer), new(uint64)
	h.mu.Lock()
	h.subs[ch] = dropped
	h.mu.Unlock()
	return ch, func() uint64 {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
		return *dropped
	}
}

// serve streams the events as JSON lines, flushed as they come, until the reader leaves.
func (h *eventHub) serve(w http.ResponseWriter, r *http.Request) {
	ch, done := h.subscribe()
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
		select {
		case <-r.Context().Done():
			return
		case l := <-ch:
			if enc.Encode(l) != nil {
				return
			}
			// Send what else is waiting in the same write.
			for more := true; more; {
				select {
				case l := <-ch:
					if enc.Encode(l) != nil {
						return
					}
				default:
					more = false
				}
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}
