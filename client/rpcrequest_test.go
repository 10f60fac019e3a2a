package client

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// TestRPCRequestValuesMatchTheirJSON: a structural onion hands the destination the request as
// values in place of its JSON, so each request an onion carries must be what parsing its JSON,
// padded or not, gives back.
func TestRPCRequestValuesMatchTheirJSON(t *testing.T) {
	s := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	id := identity.ID{5, 1, 2, 3}
	const now = int64(1_700_000_000_000)
	maxSize := func(ns int16) int { return -int(ns) - 2 }
	msgs := []configMsg{{ns: storagerpc.NamespaceContacts, data: []byte("contacts")}, {ns: 5, data: []byte{0, 1, 250}}}
	// Hashes as the client has them: from the messages it stored and the answers of nodes.
	h1, h2 := messageHash(id, 0, []byte("one")), messageHash(id, 2, []byte("two"))
	exp := pollExpire{hashes: []string{h1, h2}, expiry: now + 1, mode: storagerpc.ExpireExtend}
	pushed, _ := configPushRequest(s, key, id, msgs, []string{h1}, now)
	pushedNew, _ := configPushRequest(s, key, id, msgs[:1], nil, now)
	polled, _ := retrieveRequest(s, key, id, []int16{0, 2, 3}, []string{"", h1, h2}, now, maxSize, exp)
	polledFirst, _ := retrieveRequest(s, key, id, []int16{0}, []string{""}, now, maxSize, pollExpire{hashes: exp.hashes, expiry: exp.expiry, first: true})
	polledBare, _ := retrieveRequest(s, key, id, []int16{0}, []string{h2}, now, maxSize, pollExpire{})
	cases := []struct {
		name string
		rpc  rpcRequest
	}{
		{"store", storeRequest(id, []byte("hello"), now, time.Hour, false)},
		{"store as a sequence", storeRequest(id, []byte{}, now, 14*24*time.Hour, true)},
		{"config push with a delete", pushed},
		{"config push", pushedNew},
		{"poll with its expire after", polled},
		{"poll with its expire first", polledFirst},
		{"poll without an expire", polledBare},
		{"get_swarm", getSwarmBatch(id)},
		{"node list", getServiceNodesRequest(false)},
		{"node list with swarms", getServiceNodesRequest(true)},
		{"info", infoRequest},
	}
	for _, tc := range cases {
		for _, buckets := range [][]int{nil, {1024, 4096}} {
			t.Run(tc.name, func(t *testing.T) {
				body := padRPC(storagerpc.EncodeRequest(tc.rpc.req), buckets)
				got, err := storagerpc.ParseRequest(body)
				require.NoError(t, err)
				assert.Equal(t, tc.rpc.req, got)
				// Structural form measures the padded JSON rather than writing it.
				assert.Equal(t, len(body), paddedRPCLen(storagerpc.RequestLen(tc.rpc.req), buckets), "padded length")
			})
		}
	}
}
