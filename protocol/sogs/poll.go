package sogs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A poll is one POST /batch to the server (session-desktop
// ts/session/apis/open_group_api/sogsv3/sogsV3BatchPoll.ts, as OpenGroupServerPoller sends it):
// GET /capabilities, then for each room GET /room/<token>/pollInfo/<info_updates> and GET
// /room/<token>/messages/since/<seqno>?t=r&reactors=5. The desktop adds the blinded inbox and
// outbox (direct messages between blinded IDs), which the simulator's users do not send, so
// they are left out.
const (
	BatchEndpoint = "/batch"
	BatchMethod   = "POST"
	// MessagesLimit is how many messages one since/ request returns at most (session-pysogs
	// sogs/routes/messages.py, limit 100 by default and at most).
	MessagesLimit = 100
)

// RoomCursor is where a client is in one room: the last info_updates and message seqno seen.
type RoomCursor struct {
	Token       string
	InfoUpdates int64
	Seqno       int64
}

// SubRequest is one request of a batch.
type SubRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// PollRequest is the body of a poll over rooms.
func PollRequest(rooms []RoomCursor) []byte {
	subs := make([]SubRequest, 0, 1+2*len(rooms))
	subs = append(subs, SubRequest{Method: "GET", Path: "/capabilities"})
	for _, r := range rooms {
		subs = append(subs,
			SubRequest{Method: "GET", Path: "/room/" + r.Token + "/pollInfo/" + strconv.FormatInt(r.InfoUpdates, 10)},
			SubRequest{Method: "GET", Path: "/room/" + r.Token + "/messages/since/" + strconv.FormatInt(r.Seqno, 10) + "?t=r&reactors=5"})
	}
	b, _ := json.Marshal(subs)
	return b
}

// Sub is a decoded subrequest: what it asks and of which room.
type Sub struct {
	Kind  string // "capabilities", "pollInfo", "since"
	Room  string
	Value int64 // info_updates or seqno
}

// MaxSubRequests is the most subrequests one batch may carry (session-pysogs
// sogs/routes/general.py: batch requests are refused beyond it).
const MaxSubRequests = 50

// ParseBatch reads a batch body as the server does, refusing what it does not serve.
func ParseBatch(body []byte) ([]Sub, error) {
	var subs []SubRequest
	if err := json.Unmarshal(body, &subs); err != nil {
		return nil, fmt.Errorf("batch: not a JSON list of requests: %w", err)
	}
	if len(subs) == 0 || len(subs) > MaxSubRequests {
		return nil, fmt.Errorf("batch: %d requests, want 1 to %d", len(subs), MaxSubRequests)
	}
	out := make([]Sub, 0, len(subs))
	for i, s := range subs {
		if s.Method != "GET" {
			return nil, fmt.Errorf("batch request %d: method %q, only GET is served", i, s.Method)
		}
		sub, err := parsePath(s.Path)
		if err != nil {
			return nil, fmt.Errorf("batch request %d: %w", i, err)
		}
		out = append(out, sub)
	}
	return out, nil
}

func parsePath(p string) (Sub, error) {
	path, _, _ := strings.Cut(p, "?")
	if path == "/capabilities" {
		return Sub{Kind: "capabilities"}, nil
	}
	parts := strings.Split(path, "/")
	// "", "room", token, then "pollInfo", n or "messages", "since", n
	if len(parts) < 5 || parts[0] != "" || parts[1] != "room" || parts[2] == "" {
		return Sub{}, fmt.Errorf("path %q is not served", p)
	}
	var kind, num string
	switch {
	case len(parts) == 5 && parts[3] == "pollInfo":
		kind, num = "pollInfo", parts[4]
	case len(parts) == 6 && parts[3] == "messages" && parts[4] == "since":
		kind, num = "since", parts[5]
	default:
		return Sub{}, fmt.Errorf("path %q is not served", p)
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return Sub{}, fmt.Errorf("path %q: %q is not a count", p, num)
	}
	return Sub{Kind: kind, Room: parts[2], Value: v}, nil
}

// SubResponse is one answer of a batch, as the server writes it.
type SubResponse struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// Capabilities is the body of /capabilities (session-pysogs sogs/routes/general.py).
func Capabilities() []byte { return []byte(`{"capabilities":["blind","reactions","sogs"]}`) }

// PollInfo is the body of /room/<token>/pollInfo (session-pysogs sogs/routes/rooms.py): the
// room's full details only when info_updates changed, which a simulated room never does after
// the first poll, so the short form.
func PollInfo(token string, activeUsers int, infoUpdates int64) []byte {
	return fmt.Appendf(nil, `{"token":%q,"active_users":%d,"read":true,"write":true,"upload":true,"info_updates":%d}`, token, activeUsers, infoUpdates)
}

// Message is one posted message as the server lists it (session-pysogs sogs/model/room.py
// get_messages_for): id, seqno, the poster's blinded ID, posting time in seconds with
// fractions, data and signature in base64, and reactions.
func Message(id, seqno int64, sessionID string, posted float64, data, sig []byte) []byte {
	b, _ := json.Marshal(struct {
		ID        int64           `json:"id"`
		SessionID string          `json:"session_id"`
		Posted    float64         `json:"posted"`
		Seqno     int64           `json:"seqno"`
		Data      []byte          `json:"data"`
		Signature []byte          `json:"signature"`
		Reactions json.RawMessage `json:"reactions"`
	}{id, sessionID, posted, seqno, data, sig, json.RawMessage(`{}`)})
	return b
}

// Messages is the body of a since/ request: the JSON list of the messages given, each as
// Message wrote it.
func Messages(msgs [][]byte) []byte {
	n := 2
	for _, m := range msgs {
		n += len(m) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, m := range msgs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m...)
	}
	return append(out, ']')
}

// BatchResponse is the body of the answer to a batch: its answers in order.
func BatchResponse(subs []SubResponse) []byte {
	b, _ := json.Marshal(subs)
	return b
}

// PollResult is what a client reads from a poll's answer: per room, the messages that came
// and the newest seqno.
type PollResult struct {
	Rooms []RoomResult
}

// RoomResult is one room of a poll's answer.
type RoomResult struct {
	Token       string
	Code        int
	New         int
	Seqno       int64
	InfoUpdates int64
}

// ParsePollResponse reads the answer to the poll the client sent for rooms (the same order).
func ParsePollResponse(rooms []RoomCursor, body []byte) (PollResult, error) {
	var subs []SubResponse
	if err := json.Unmarshal(body, &subs); err != nil {
		return PollResult{}, fmt.Errorf("poll answer: not a JSON list: %w", err)
	}
	if len(subs) != 1+2*len(rooms) {
		return PollResult{}, fmt.Errorf("poll answer: %d answers to %d requests", len(subs), 1+2*len(rooms))
	}
	res := PollResult{Rooms: make([]RoomResult, len(rooms))}
	for i, r := range rooms {
		rr := RoomResult{Token: r.Token, Seqno: r.Seqno, InfoUpdates: r.InfoUpdates}
		info, msgs := subs[1+2*i], subs[2+2*i]
		rr.Code = msgs.Code
		if info.Code == 200 {
			var pi struct {
				InfoUpdates int64 `json:"info_updates"`
			}
			if err := json.Unmarshal(info.Body, &pi); err != nil {
				return PollResult{}, fmt.Errorf("poll answer, room %s: pollInfo: %w", r.Token, err)
			}
			rr.InfoUpdates = pi.InfoUpdates
		}
		if msgs.Code == 200 {
			var list []struct {
				Seqno int64 `json:"seqno"`
			}
			if err := json.Unmarshal(msgs.Body, &list); err != nil {
				return PollResult{}, fmt.Errorf("poll answer, room %s: messages: %w", r.Token, err)
			}
			rr.New = len(list)
			for _, m := range list {
				rr.Seqno = max(rr.Seqno, m.Seqno)
			}
		} else if info.Code != 200 && rr.Code == 200 {
			rr.Code = info.Code
		}
		res.Rooms[i] = rr
	}
	return res, nil
}
