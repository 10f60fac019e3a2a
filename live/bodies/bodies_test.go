package bodies

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/registry"
)

var owner = storagerpc.Pubkey{Prefix: storagerpc.PrefixSessionID, Key: [32]byte{1, 2, 3}}

func sampleBodies() []any {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC).UnixMilli()
	st := storagerpc.NewStore(owner, 0, now, time.Hour, []byte("hello"))
	var ow store.Owner
	ow[0] = owner.Prefix
	copy(ow[1:], owner.Key[:])
	return []any{
		&node.Forward{Request: st, Received: now},
		&node.Forward{Request: &storagerpc.Delete{SignedAccount: storagerpc.SignedAccount{Pubkey: owner}, Messages: []string{"h1", "h2"}}, Received: now + 1, Retry: true},
		&storagerpc.StoreResult{Hash: "h1", Expiry: now, Already: true},
		&storagerpc.HashesResult{Hashes: []string{"h1"}},
		&storagerpc.ExpireResult{Expiries: []int64{now}, Updated: []string{"h1"}},
		&node.DataBatch{Messages: []store.Message{{Hash: "h1", Owner: ow, Namespace: -10, Timestamp: now, Expiry: now + 1, Data: []byte("x"), DataLen: 1}}},
		&node.DataReady{Swarm: swarm.ID(0xfedcba9876543210)},
		&pushrpc.Wake{Service: pushrpc.ServiceAPNs, Sealed: []byte("sealed payload")},
		&pushrpc.Wake{Service: pushrpc.ServiceFirebase, Sealed: []byte{0, 1, 2}},
		registry.Report{Tester: [32]byte{1}, Tested: [32]byte{2}, Passed: true},
		registry.UptimeProof{Ed25519: [32]byte{3}},
		registry.ListRequest{Known: [32]byte{4}},
		&registry.List{Height: 7, BlockHash: [32]byte{5}, Time: time.Unix(1_800_000_000, 0).UTC(), Hardfork: [2]int{19, 3}, StorageServerVersion: [3]int{2, 11, 0},
			Nodes: []registry.Peer{{Ed25519: [32]byte{6}, X25519: [32]byte{7}, Addr: netip.MustParseAddrPort("127.1.0.1:22021"), Swarm: 42, OMQPort: 22020, EarnedDowntimeBlocks: -3}}},
	}
}

// chargedSize is the body length the simulator charges, -1 for the registry's fixed charges.
func chargedSize(v any) int {
	switch v := v.(type) {
	case *node.Forward:
		return storagerpc.ForwardSize(v.Request)
	case *storagerpc.StoreResult:
		return storagerpc.ForwardedStoreResultSize(v)
	case *storagerpc.HashesResult:
		return storagerpc.ForwardedHashesResultSize(v)
	case *storagerpc.ExpireResult:
		return storagerpc.ForwardedExpireResultSize(v)
	case *node.DataBatch:
		sum := 0
		for _, m := range v.Messages {
			sum += storagerpc.PushedMessageSize(len(m.Hash), storagerpc.Namespace(m.Namespace), m.Timestamp, m.Expiry, m.Len())
		}
		return storagerpc.PushSize(sum)
	case *node.DataReady:
		return 8
	case *pushrpc.Wake:
		return len(pushrpc.Notification(v.Service, v.Sealed))
	}
	return -1
}

func TestEveryGoValueBodyRoundTrips(t *testing.T) {
	c := Codec()
	for _, v := range sampleBodies() {
		kind, b, err := c.Encode(v)
		require.NoError(t, err, "%T", v)
		if n := chargedSize(v); n >= 0 {
			assert.Len(t, b, n, "%T: the bytes sent are the bytes the simulator charges", v)
		}
		got, err := c.Decode(kind, b)
		require.NoError(t, err, "%T", v)
		if _, ok := v.(*node.Forward); ok {
			// A forward leaves out what peers do not need (a store's TTL, the signature
			// timestamp of an unsigned store): it must come back to the same bytes.
			kind2, b2, err := c.Encode(got)
			require.NoError(t, err)
			assert.Equal(t, kind, kind2)
			assert.Equal(t, b, b2)
			continue
		}
		assert.Equal(t, v, got, "%T", v)
	}
}

func TestRefusals(t *testing.T) {
	c := Codec()
	_, _, err := c.Encode(&node.DataBatch{Messages: []store.Message{{Hash: "h", DataLen: 10}}})
	assert.ErrorContains(t, err, "crypto=real")
	for _, params := range []string{"", "store", "store,x", "store,1,again", "nope,1"} {
		_, err := c.Decode(KindForward+";"+params, []byte("de"))
		assert.Error(t, err, params)
	}
	_, err = c.Decode(KindDataReady, []byte{1, 2})
	assert.ErrorContains(t, err, "8 bytes")
	_, _, err = c.Encode(&pushrpc.Wake{Service: "mpns"})
	assert.ErrorContains(t, err, "want apns or firebase")
	_, err = c.Decode(KindWake, []byte(`{"spns":1}`))
	assert.ErrorIs(t, err, pushrpc.ErrNotification)
	_, err = c.Decode(KindList+";x", []byte("{}"))
	assert.ErrorContains(t, err, "no parameters")
}

func FuzzDecode(f *testing.F) {
	c := Codec()
	for _, v := range sampleBodies() {
		kind, b, err := c.Encode(v)
		require.NoError(f, err)
		f.Add(kind, b)
	}
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		v, err := c.Decode(kind, b)
		if err != nil || v == nil {
			return
		}
		k2, b2, err := c.Encode(v)
		if err != nil {
			return // a value the decoder accepts but that cannot be re-sent, e.g. a list with NaN-free but odd JSON
		}
		v2, err := c.Decode(k2, b2)
		require.NoError(t, err, "re-encoded %s", k2)
		assert.Equal(t, v, v2)
	})
}
