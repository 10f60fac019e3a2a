// Package pushrpc is the wire format between Session apps and the push-notification server
// (session-push-notification-server, "SPNS"): the /subscribe and /unsubscribe requests a phone
// sends through an onion request, the server's JSON answers, and the encrypted payload the
// server hands to Apple's or Google's push service for the phone (spns/register.py,
// spns/hivemind.cpp, spns/notifiers/util.py, apns.py, firebase.py). Pure functions, no Env.
package pushrpc

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// Endpoints of the server.
const (
	EndpointSubscribe   = "/subscribe"
	EndpointUnsubscribe = "/unsubscribe"
)

// Services are the push services the server forwards to.
const (
	ServiceAPNs     = "apns"     // iOS
	ServiceFirebase = "firebase" // Android
)

// MaxBody is the largest request body the server reads (spns/register.py: 10,000 bytes).
const MaxBody = 10_000

// Code is the server's result code (spns/hive/subscription.hpp SUBSCRIBE).
type Code int

// The codes.
const (
	OK                  Code = 0
	BadInput            Code = 1
	ServiceNotAvailable Code = 2
	ServiceTimeout      Code = 3
	Error               Code = 4
	InternalError       Code = 5
)

// Timestamp bounds of a subscription's signature (spns/hive/subscription.cpp: more than 14
// days old or a day ahead is refused) and of an unsubscription's (within a day either way,
// UNSUBSCRIBE_GRACE in hivemind.hpp).
const (
	SubscribeMaxAge   = 14 * 24 * time.Hour
	SubscribeMaxAhead = 24 * time.Hour
	UnsubscribeGrace  = 24 * time.Hour
)

// Subscribe is a /subscribe request: the account, the monitor signature the server passes on
// to the storage servers, the push service and device token, and the key the server encrypts
// notifications with.
type Subscribe struct {
	Account storagerpc.Pubkey
	// Ed25519 is session_ed25519: a 05 account's signing key.
	Ed25519    [32]byte
	Namespaces []storagerpc.Namespace
	Data       bool
	SigTS      int64 // Unix seconds
	Signature  [64]byte
	Service    string
	Token      string // service_info.token
	EncKey     [32]byte
	// Subaccount is a group member's token (03 accounts): the member signs with the key the
	// token names, and the token is signed by the group (spns/register.py "subaccount" and
	// "subaccount_sig").
	Subaccount *storagerpc.Subaccount
}

// Sign signs s for signer's account at ts (seconds): the same text as a monitor.messages
// subscription, which the server forwards unchanged. It returns the signing cost.
func (s *Subscribe) Sign(signer *storagerpc.Signer, ts int64) time.Duration {
	var m storagerpc.Monitor
	m.Data, m.Namespaces = s.Data, s.Namespaces
	cost := m.Sign(signer, ts)
	s.Account, s.SigTS, s.Signature = m.Account, ts, m.Signature
	s.Ed25519, s.Subaccount = m.Ed25519, m.Subaccount
	return cost
}

// Monitor is the storage-server subscription the request carries.
func (s *Subscribe) Monitor() storagerpc.Monitor {
	return storagerpc.Monitor{
		Account: s.Account, Ed25519: s.Ed25519, HasEd25519: s.Account.Prefix == storagerpc.PrefixSessionID && s.Subaccount == nil,
		Subaccount: s.Subaccount, Data: s.Data, Namespaces: s.Namespaces, Timestamp: s.SigTS, Signature: s.Signature,
	}
}

type serviceInfo struct {
	Token string `json:"token"`
}

type subscribeJSON struct {
	Pubkey      string       `json:"pubkey"`
	Ed25519     string       `json:"session_ed25519,omitempty"`
	Subaccount  string       `json:"subaccount,omitempty"`
	SubSig      string       `json:"subaccount_sig,omitempty"`
	Namespaces  []int16      `json:"namespaces"`
	Data        bool         `json:"data"`
	SigTS       int64        `json:"sig_ts"`
	Signature   string       `json:"signature"`
	Service     string       `json:"service"`
	ServiceInfo *serviceInfo `json:"service_info"`
	EncKey      string       `json:"enc_key,omitempty"`
}

// AppendSubscribe appends s as the JSON body the apps send (bytes in hex).
func AppendSubscribe(b []byte, s *Subscribe) []byte {
	j := s.json()
	j.EncKey = hex.EncodeToString(s.EncKey[:])
	out, _ := json.Marshal(j)
	return append(b, out...)
}

func (s *Subscribe) json() subscribeJSON {
	j := subscribeJSON{
		Pubkey: s.Account.Hex(), SigTS: s.SigTS, Signature: hex.EncodeToString(s.Signature[:]),
		Service: s.Service, ServiceInfo: &serviceInfo{Token: s.Token}, Data: s.Data,
	}
	if s.Account.Prefix == storagerpc.PrefixSessionID && s.Subaccount == nil {
		j.Ed25519 = hex.EncodeToString(s.Ed25519[:])
	}
	if sa := s.Subaccount; sa != nil {
		j.Subaccount, j.SubSig = hex.EncodeToString(sa.Token[:]), hex.EncodeToString(sa.Signature[:])
	}
	for _, n := range s.Namespaces {
		j.Namespaces = append(j.Namespaces, int16(n))
	}
	return j
}

// ErrRequest is a request the server refuses as BadInput.
var ErrRequest = errors.New("invalid push request")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRequest}, a...)...)
}

// fromHexOrB64 reads n bytes given as hex or base64 (padded or not), as the server accepts.
func fromHexOrB64(s string, dst []byte) bool {
	if len(s) == 2*len(dst) {
		_, err := hex.Decode(dst, []byte(s))
		return err == nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == len(dst) {
			copy(dst, b)
			return true
		}
	}
	return false
}

// parseCommon reads the fields /subscribe and /unsubscribe share.
func parseCommon(j *subscribeJSON, s *Subscribe) error {
	pk, err := storagerpc.ParsePubkey(j.Pubkey)
	if err != nil {
		return bad("pubkey: %v", err)
	}
	s.Account = pk
	if j.Subaccount != "" || j.SubSig != "" {
		sa := &storagerpc.Subaccount{}
		if !fromHexOrB64(j.Subaccount, sa.Token[:]) || !fromHexOrB64(j.SubSig, sa.Signature[:]) {
			return bad("subaccount must be %d bytes and subaccount_sig 64 bytes", storagerpc.SubaccountTokenLen)
		}
		s.Subaccount = sa
	}
	if pk.Prefix == storagerpc.PrefixSessionID && s.Subaccount == nil && !fromHexOrB64(j.Ed25519, s.Ed25519[:]) {
		return bad("session_ed25519 missing or not 32 bytes")
	}
	if !fromHexOrB64(j.Signature, s.Signature[:]) {
		return bad("signature missing or not 64 bytes")
	}
	if j.SigTS == 0 {
		return bad("sig_ts missing")
	}
	s.SigTS = j.SigTS
	if j.Service == "" || j.ServiceInfo == nil || j.ServiceInfo.Token == "" {
		return bad("service and service_info.token are required")
	}
	s.Service, s.Token = j.Service, j.ServiceInfo.Token
	return nil
}

// ParseSubscribe reads a /subscribe body. Namespaces must be ascending without repeats, as the
// server requires.
func ParseSubscribe(body []byte) (Subscribe, error) {
	var s Subscribe
	j, err := decodeRequest(body, &s)
	if err != nil {
		return s, err
	}
	if len(j.Namespaces) == 0 {
		return s, bad("namespaces missing or empty")
	}
	for i, n := range j.Namespaces {
		if i > 0 && n <= j.Namespaces[i-1] {
			return s, bad("namespaces are not sorted numerically or contain duplicates")
		}
		s.Namespaces = append(s.Namespaces, storagerpc.Namespace(n))
	}
	s.Data = j.Data
	if !fromHexOrB64(j.EncKey, s.EncKey[:]) {
		return s, bad("enc_key missing or not 32 bytes")
	}
	return s, nil
}

// UnsubscribeSigMessage is the text an /unsubscribe signature covers (hivemind.cpp
// remove_subscription): "UNSUBSCRIBE" || hex(account) || sig_ts.
func UnsubscribeSigMessage(account storagerpc.Pubkey, ts int64) []byte {
	return strconv.AppendInt([]byte("UNSUBSCRIBE"+account.Hex()), ts, 10)
}

// SignUnsubscribe turns s into an /unsubscribe for signer's account at ts and returns the cost.
// A group member signs with its own key under its subaccount token.
func (s *Subscribe) SignUnsubscribe(signer *storagerpc.Signer, ts int64) time.Duration {
	s.Account, s.SigTS = signer.Account, ts
	copy(s.Ed25519[:], signer.Key[32:])
	s.Subaccount = nil
	if signer.Subaccount != nil {
		sa := *signer.Subaccount
		s.Subaccount = &sa
	}
	sig, cost := signer.Suite.Sign(signer.Key, UnsubscribeSigMessage(s.Account, ts))
	copy(s.Signature[:], sig)
	return cost
}

// AppendUnsubscribe appends the /unsubscribe body for s: the shared fields only.
func AppendUnsubscribe(b []byte, s *Subscribe) []byte {
	j := s.json()
	j.Namespaces, j.Data = nil, false
	type unsub struct {
		Pubkey      string       `json:"pubkey"`
		Ed25519     string       `json:"session_ed25519,omitempty"`
		Subaccount  string       `json:"subaccount,omitempty"`
		SubSig      string       `json:"subaccount_sig,omitempty"`
		SigTS       int64        `json:"sig_ts"`
		Signature   string       `json:"signature"`
		Service     string       `json:"service"`
		ServiceInfo *serviceInfo `json:"service_info"`
	}
	out, _ := json.Marshal(unsub{j.Pubkey, j.Ed25519, j.Subaccount, j.SubSig, j.SigTS, j.Signature, j.Service, j.ServiceInfo})
	return append(b, out...)
}

// ParseUnsubscribe reads an /unsubscribe body.
func ParseUnsubscribe(body []byte) (Subscribe, error) {
	var s Subscribe
	_, err := decodeRequest(body, &s)
	return s, err
}

// decodeRequest reads what /subscribe and /unsubscribe share into s and returns the JSON for
// what only /subscribe has.
func decodeRequest(body []byte, s *Subscribe) (*subscribeJSON, error) {
	if len(body) > MaxBody {
		return nil, bad("request too large")
	}
	var j subscribeJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, bad("Invalid JSON")
	}
	return &j, parseCommon(&j, s)
}

// Result is the server's answer: Code OK with what happened, or an error code and message.
type Result struct {
	Code    Code
	Added   bool // a new subscription
	Updated bool // a renewal of one the device had
	Removed bool // an unsubscription that removed one
	Message string
}

type resultJSON struct {
	Success *bool  `json:"success,omitempty"`
	Error   *Code  `json:"error,omitempty"`
	Added   bool   `json:"added,omitempty"`
	Updated bool   `json:"updated,omitempty"`
	Removed *bool  `json:"removed,omitempty"`
	Message string `json:"message,omitempty"`
}

// AppendResult appends r as the server's JSON answer; unsub marks an /unsubscribe answer, which
// always says whether it removed something.
func AppendResult(b []byte, r Result, unsub bool) []byte {
	var j resultJSON
	if r.Code == OK {
		t := true
		j.Success, j.Added, j.Updated = &t, r.Added, r.Updated
		if unsub {
			j.Removed = &r.Removed
		}
	} else {
		c := r.Code
		j.Error = &c
	}
	j.Message = r.Message
	out, _ := json.Marshal(j)
	return append(b, out...)
}

// ParseResult reads the server's answer.
func ParseResult(body []byte) (Result, error) {
	var j resultJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return Result{}, fmt.Errorf("push server answer: %w", err)
	}
	r := Result{Added: j.Added, Updated: j.Updated, Message: j.Message}
	switch {
	case j.Error != nil:
		r.Code = *j.Error
		if r.Code == OK {
			return r, errors.New("push server answer: error code 0")
		}
	case j.Success != nil && *j.Success:
		r.Removed = j.Removed != nil && *j.Removed
	default:
		return r, errors.New("push server answer: neither success nor error")
	}
	return r, nil
}

// MaxPayloadData is the largest message the server includes in a push payload; a larger one is
// announced as too big, without its data (apns.py and firebase.py MAX_MSG_SIZE: the services
// refuse payloads of about 4 KB).
const MaxPayloadData = 2500

// Payload is what a push notification tells the phone once decrypted: the message's metadata
// and, when it fit, its data.
type Payload struct {
	Account   storagerpc.Pubkey
	Hash      string
	Namespace storagerpc.Namespace
	Timestamp int64 // ms
	Expiry    int64 // ms
	Data      []byte
	HasData   bool
	DataLen   int  // the message's size when data was wanted (l)
	TooBig    bool // the data was left out for size (B)
}

// PayloadOf is the payload the server sends for notification n: the data when it fits.
func PayloadOf(n *storagerpc.Notification) Payload {
	p := Payload{Account: n.Account, Hash: n.Hash, Namespace: n.Namespace, Timestamp: n.Timestamp, Expiry: n.Expiry}
	if n.HasData && len(n.Data) > 0 {
		p.DataLen = len(n.Data)
		if len(n.Data) > MaxPayloadData {
			p.TooBig = true
		} else {
			p.Data, p.HasData = n.Data, true
		}
	}
	return p
}

// metadataJSON writes the metadata as Python's json.dumps does (", " and ": " separators, keys
// in insertion order).
func (p *Payload) metadataJSON() []byte {
	b := []byte(`{"@": "`)
	b = append(b, p.Account.Hex()...)
	b = append(b, `", "#": "`...)
	b = append(b, p.Hash...)
	b = append(b, `", "n": `...)
	b = strconv.AppendInt(b, int64(p.Namespace), 10)
	b = append(b, `, "t": `...)
	b = strconv.AppendInt(b, p.Timestamp, 10)
	b = append(b, `, "z": `...)
	b = strconv.AppendInt(b, p.Expiry, 10)
	if p.DataLen > 0 {
		b = append(b, `, "l": `...)
		b = strconv.AppendInt(b, int64(p.DataLen), 10)
	}
	if p.TooBig {
		b = append(b, `, "B": true`...)
	}
	return append(b, '}')
}

// plaintext is the bencoded list [metadata JSON, data] (or [metadata JSON] without data),
// zero-padded to a multiple of 256 bytes (util.py encrypt_notify_payload).
func (p *Payload) plaintext() []byte {
	b := []byte{'l'}
	b = bencode.AppendString(b, p.metadataJSON())
	if p.HasData {
		b = bencode.AppendString(b, p.Data)
	}
	b = append(b, 'e')
	if over := len(b) % 256; over != 0 {
		b = append(b, make([]byte, 256-over)...)
	}
	return b
}

// Seal encrypts p for a device with its key: a 24-byte random nonce, then XChaCha20-Poly1305 of
// the padded plaintext, as the server puts it (base64) in the notification's enc_payload.
func Seal(p *Payload, key [32]byte, rnd io.Reader) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	pt := p.plaintext()
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(pt)+aead.Overhead())
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out, pt, nil), nil
}

// ErrPayload is a push payload the phone cannot use.
var ErrPayload = errors.New("undecryptable or malformed push payload")

// Open decrypts and reads a sealed payload, as the app's notification handler does.
func Open(sealed []byte, key [32]byte) (Payload, error) {
	var p Payload
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil || len(sealed) < chacha20poly1305.NonceSizeX+aead.Overhead() {
		return p, ErrPayload
	}
	pt, err := aead.Open(nil, sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:], nil)
	if err != nil {
		return p, ErrPayload
	}
	v, _, err := bencode.Decode(pt)
	if err != nil || v.Kind != bencode.List || len(v.List) == 0 || v.List[0].Kind != bencode.String {
		return p, ErrPayload
	}
	var meta struct {
		Account string `json:"@"`
		Hash    string `json:"#"`
		NS      int16  `json:"n"`
		T       int64  `json:"t"`
		Z       int64  `json:"z"`
		L       int    `json:"l"`
		B       bool   `json:"B"`
	}
	if json.Unmarshal(v.List[0].Str, &meta) != nil {
		return p, ErrPayload
	}
	if p.Account, err = storagerpc.ParsePubkey(meta.Account); err != nil {
		return p, ErrPayload
	}
	p.Hash, p.Namespace, p.Timestamp, p.Expiry, p.DataLen, p.TooBig = meta.Hash, storagerpc.Namespace(meta.NS), meta.T, meta.Z, meta.L, meta.B
	if len(v.List) > 1 && v.List[1].Kind == bencode.String {
		p.Data, p.HasData = slices.Clone(v.List[1].Str), true
	}
	return p, nil
}

// MethodWake is the push service's delivery to a phone (outside the Session network: Apple's
// and Google's own connection to the device).
const MethodWake = "push.wake"

// Wake is the body of MethodWake: the sealed payload the notification's "enc_payload" carries
// (in base64, inside the JSON of Notification, which gives the delivery its size), and the
// service that delivered it.
type Wake struct {
	Service string
	Sealed  []byte
}

// Notification is what the push service delivers to the phone: the JSON message with the
// sealed payload in base64 (apns.py: the "aps" alert block, "spns" version and
// "enc_payload"; firebase.py: a data message of "enc_payload" and "spns").
func Notification(service string, sealed []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(sealed)
	if service == ServiceAPNs {
		return []byte(`{"aps":{"alert":{"title":"Session","body":"You've got a new message"},"badge":1,"sound":"default","mutable-content":1,"category":"SECRET"},"spns":1,"enc_payload":"` + enc + `"}`)
	}
	return []byte(`{"data":{"enc_payload":"` + enc + `","spns":"1"}}`)
}

// ErrNotification is a push notification that is not one the server sends.
var ErrNotification = errors.New("malformed push notification")

// ParseNotification reads a notification as Notification writes it, as the phone's push
// handler receives it: the service follows from its shape (an APNs message has the "aps" block
// and enc_payload at the top, a Firebase data message enc_payload under "data"), and the sealed
// payload is the base64 of enc_payload.
func ParseNotification(b []byte) (Wake, error) {
	var j struct {
		APS        *json.RawMessage `json:"aps"`
		EncPayload *string          `json:"enc_payload"`
		Data       *struct {
			EncPayload *string `json:"enc_payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return Wake{}, fmt.Errorf("%w: %v", ErrNotification, err)
	}
	var w Wake
	var enc *string
	switch {
	case j.APS != nil && j.Data == nil:
		w.Service, enc = ServiceAPNs, j.EncPayload
	case j.Data != nil && j.APS == nil && j.EncPayload == nil:
		w.Service, enc = ServiceFirebase, j.Data.EncPayload
	default:
		return Wake{}, fmt.Errorf("%w: neither an APNs message (aps) nor a Firebase data message (data)", ErrNotification)
	}
	if enc == nil {
		return Wake{}, fmt.Errorf("%w: no enc_payload", ErrNotification)
	}
	sealed, err := base64.StdEncoding.DecodeString(*enc)
	if err != nil {
		return Wake{}, fmt.Errorf("%w: enc_payload is not base64", ErrNotification)
	}
	w.Sealed = sealed
	return w, nil
}
