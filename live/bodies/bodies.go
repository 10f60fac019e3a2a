// Package bodies teaches the live driver's codec the bodies that node, registry and client
// actors pass as Go values in the simulator, so that in live mode every request and response is
// real bytes on the wire:
//
//   - sn.storage_cc forwards (*node.Forward): the bencoded request, storagerpc.AppendForward,
//     exactly storagerpc.ForwardSize long; the forwarded method, and the first arrival time and
//     retry flag the model keeps with a forward, travel as the kind's parameters, as the
//     storage server sends the method in an OxenMQ part of its own;
//   - the members' answers (*storagerpc.StoreResult, *HashesResult, *ExpireResult): bencoded,
//     exactly storagerpc.Forwarded*ResultSize long;
//   - sn.data pushes (*node.DataBatch): storagerpc.AppendPush, exactly PushSize long;
//   - sn.data_ready (*node.DataReady): the swarm ID, 8 bytes big-endian;
//   - the push service's wake-up of a phone (*pushrpc.Wake): the notification as APNs or
//     Firebase delivers it (pushrpc.Notification: JSON with the sealed payload in base64),
//     exactly the body the simulator charges;
//   - the registry's messages, standing for oxend traffic the simulator does not model byte by
//     byte (registry.Report, registry.UptimeProof, registry.ListRequest, *registry.List): JSON
//     (encoding/json of the Go value: keys as arrays of numbers, times in RFC 3339). Their
//     actor.Request.Size stays the registry's fixed charge, as in the simulator.
//
// A message stored with crypto=modeled has no bytes (its payload is a shared Go value), so a
// push of one fails to encode: live mode needs crypto=real.
package bodies

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/live"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

// Kind names, as they appear in the driver's body header.
const (
	KindForward       = "sn.forward"
	KindStoreResult   = "sn.forward.store_result"
	KindHashesResult  = "sn.forward.hashes_result"
	KindExpireResult  = "sn.forward.expire_result"
	KindData          = "sn.data"
	KindDataReady     = "sn.data_ready"
	KindWake          = "push.wake"
	KindReport        = "registry.report"
	KindProof         = "registry.uptime_proof"
	KindListRequest   = "registry.list_request"
	KindList          = "registry.list"
	dataReadyLen      = 8
	forwardParamsHelp = "method,received-ms[,retry]"
)

// Codec is a live codec that knows every body the actors pass as a Go value.
func Codec() *live.Codec {
	c := live.NewCodec()
	live.RegisterParams(c, KindForward, encodeForward, decodeForward)
	live.Register(c, KindStoreResult,
		func(r *storagerpc.StoreResult) ([]byte, error) {
			return storagerpc.AppendForwardedStoreResult(nil, r), nil
		},
		storagerpc.DecodeForwardedStoreResult)
	live.Register(c, KindHashesResult,
		func(r *storagerpc.HashesResult) ([]byte, error) {
			return storagerpc.AppendForwardedHashesResult(nil, r), nil
		},
		storagerpc.DecodeForwardedHashesResult)
	live.Register(c, KindExpireResult,
		func(r *storagerpc.ExpireResult) ([]byte, error) {
			return storagerpc.AppendForwardedExpireResult(nil, r), nil
		},
		storagerpc.DecodeForwardedExpireResult)
	live.Register(c, KindData, EncodeDataBatch, DecodeDataBatch)
	live.Register(c, KindDataReady,
		func(d *node.DataReady) ([]byte, error) {
			return binary.BigEndian.AppendUint64(nil, uint64(d.Swarm)), nil
		},
		func(b []byte) (*node.DataReady, error) {
			if len(b) != dataReadyLen {
				return nil, fmt.Errorf("a data_ready body is %d bytes, got %d", dataReadyLen, len(b))
			}
			return &node.DataReady{Swarm: swarm.ID(binary.BigEndian.Uint64(b))}, nil
		})
	live.Register(c, KindWake, encodeWake, func(b []byte) (*pushrpc.Wake, error) {
		w, err := pushrpc.ParseNotification(b)
		return &w, err
	})
	registerJSON[registry.Report](c, KindReport)
	registerJSON[registry.UptimeProof](c, KindProof)
	registerJSON[registry.ListRequest](c, KindListRequest)
	registerJSON[*registry.List](c, KindList)
	return c
}

func registerJSON[T any](c *live.Codec, name string) {
	live.Register(c, name,
		func(v T) ([]byte, error) { return json.Marshal(v) },
		func(b []byte) (T, error) {
			var v T
			err := json.Unmarshal(b, &v)
			return v, err
		})
}

// encodeWake is the notification the push service delivers; a service other than the two the
// server forwards to has no message shape to read back.
func encodeWake(w *pushrpc.Wake) ([]byte, error) {
	if w.Service != pushrpc.ServiceAPNs && w.Service != pushrpc.ServiceFirebase {
		return nil, fmt.Errorf("a wake-up through service %q: want %s or %s", w.Service, pushrpc.ServiceAPNs, pushrpc.ServiceFirebase)
	}
	return pushrpc.Notification(w.Service, w.Sealed), nil
}

func encodeForward(fw *node.Forward) (string, []byte, error) {
	b, err := storagerpc.AppendForward(nil, fw.Request)
	if err != nil {
		return "", nil, err
	}
	params := fw.Request.Method() + "," + strconv.FormatInt(fw.Received, 10)
	if fw.Retry {
		params += ",retry"
	}
	return params, b, nil
}

func decodeForward(params string, b []byte) (*node.Forward, error) {
	parts := strings.Split(params, ",")
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "retry") {
		return nil, fmt.Errorf("forward parameters %q: want %s", params, forwardParamsHelp)
	}
	received, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("forward parameters %q: the arrival time is not a number", params)
	}
	r, err := storagerpc.DecodeForward(parts[0], b)
	if err != nil {
		return nil, err
	}
	return &node.Forward{Request: r, Received: received, Retry: len(parts) == 3}, nil
}

var errNoBytes = errors.New("a message stored with crypto=modeled has no bytes to push: live mode needs crypto=real")

// EncodeDataBatch is a push's bytes: storagerpc.AppendPush of its messages.
func EncodeDataBatch(d *node.DataBatch) ([]byte, error) {
	msgs := make([]storagerpc.PushedMessage, len(d.Messages))
	for i, m := range d.Messages {
		if m.Data == nil && m.Len() > 0 {
			return nil, errNoBytes
		}
		msgs[i] = storagerpc.PushedMessage{Owner: storagerpc.Pubkey{Prefix: m.Owner[0]}, Hash: m.Hash, Timestamp: m.Timestamp, Expiry: m.Expiry, Data: m.Data, Namespace: storagerpc.Namespace(m.Namespace)}
		copy(msgs[i].Owner.Key[:], m.Owner[1:])
	}
	return storagerpc.AppendPush(nil, msgs), nil
}

// DecodeDataBatch reads what EncodeDataBatch wrote.
func DecodeDataBatch(b []byte) (*node.DataBatch, error) {
	msgs, err := storagerpc.DecodePush(b)
	if err != nil {
		return nil, err
	}
	d := &node.DataBatch{Messages: make([]store.Message, len(msgs))}
	for i, m := range msgs {
		var ow store.Owner
		ow[0] = m.Owner.Prefix
		copy(ow[1:], m.Owner.Key[:])
		d.Messages[i] = store.Message{Hash: m.Hash, Owner: ow, Namespace: int16(m.Namespace), Timestamp: m.Timestamp, Expiry: m.Expiry, Data: m.Data, DataLen: len(m.Data)}
	}
	return d, nil
}
