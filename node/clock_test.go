package node

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// TestClockWindow checks the storage server's clock checks at their exact boundaries: a
// signature timestamp within SignatureTolerance (60 s) of the node's clock passes, 1 ms more
// either way is refused with 406 and the server's text; a store's timestamp may be at most
// StoreTolerance (10 s) ahead, and any amount behind while its expiry is not. The server
// answers 406 on both sides: it has no 425 (oxenss/rpc/request_handler.cpp). Every accepted
// answer but get_expiries' carries the node's clock as "t" (add_misc_response_fields there).
func TestClockWindow(t *testing.T) {
	acct := accountIn(t, newTestNet(t, testSwarms, perSwarm, Config{}).list, testSwarms[0], realSuite, "clock")
	sig, store := storagerpc.SignatureTolerance.Milliseconds(), storagerpc.StoreTolerance.Milliseconds()
	retrieve := func(at int64) storagerpc.Request {
		r := &storagerpc.Retrieve{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
		r.Sign(acct.signer, at)
		return r
	}
	publicStore := func(at int64) storagerpc.Request {
		return storagerpc.NewStore(acct.pubkey, 0, at, time.Hour, []byte("x"))
	}
	signedStore := func(at int64) storagerpc.Request {
		r := storagerpc.NewStore(acct.pubkey, 2, at, time.Hour, []byte("y"))
		r.Sign(acct.signer)
		return r
	}
	getExpiries := func(at int64) storagerpc.Request {
		r := &storagerpc.GetExpiries{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}, Messages: []string{"h"}}
		r.Sign(acct.signer, at)
		return r
	}
	deleteAll := func(at int64) storagerpc.Request {
		r := &storagerpc.DeleteAll{SignedAccount: storagerpc.SignedAccount{Pubkey: acct.pubkey}}
		r.Sign(acct.signer, at)
		return r
	}
	const (
		retrieveText = "retrieve timestamp too far from current time"
		storeSigText = "store signature timestamp too far from current time"
		storeText    = "Timestamp error: check your clock"
	)
	for _, tc := range []struct {
		name   string
		req    func(at int64) storagerpc.Request
		offset int64 // ms from the node's clock
		status int
		text   string
		// unstamped: the server's answer has no "t" (get_expiries).
		unstamped bool
	}{
		{"retrieve at the old edge", retrieve, -sig, 200, "", false},
		{"retrieve past the old edge", retrieve, -sig - 1, http.StatusNotAcceptable, retrieveText, false},
		{"retrieve at the new edge", retrieve, sig, 200, "", false},
		{"retrieve past the new edge", retrieve, sig + 1, http.StatusNotAcceptable, retrieveText, false},
		{"public store at the new edge", publicStore, store, 200, "", false},
		{"public store past the new edge", publicStore, store + 1, http.StatusNotAcceptable, storeText, false},
		{"public store long behind", publicStore, -30 * time.Minute.Milliseconds(), 200, "", false},
		{"public store expired beyond the tolerance", publicStore, -time.Hour.Milliseconds() - store - 1, http.StatusNotAcceptable, storeText, false},
		{"signed store at the old edge", signedStore, -sig, 200, "", false},
		{"signed store past the old edge", signedStore, -sig - 1, http.StatusNotAcceptable, storeSigText, false},
		{"signed store past the store tolerance", signedStore, store + 1, http.StatusNotAcceptable, storeText, false},
		{"get_expiries past the new edge", getExpiries, sig + 1, http.StatusNotAcceptable, "get_expiries timestamp too far from current time", false},
		{"get_expiries at the new edge", getExpiries, sig, 200, "", true},
		{"delete_all past the old edge", deleteAll, -sig - 1, http.StatusNotAcceptable, "delete_all timestamp too far from current time", false},
		{"delete_all at the old edge", deleteAll, -sig, 200, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh network each time: the node serves the request as it arrives, one driver
			// latency after it is sent, with nothing of earlier requests (forwards, retries)
			// in its way.
			tn := newTestNet(t, testSwarms, perSwarm, Config{})
			now := nowMS(tn) + tn.drv.Latency.Milliseconds()
			members := tn.membersOf(testSwarms[0])
			resp := tn.rpc(t, members[0], encode(tc.req(now+tc.offset)))
			require.Equal(t, tc.status, resp.Status, "body: %s", bodyOf(resp))
			if tc.status != 200 {
				assert.Equal(t, tc.text, string(bodyOf(resp)))
				return
			}
			v, err := wirejson.Parse(bodyOf(resp))
			require.NoError(t, err)
			ts, ok := v.Member("t")
			require.Equal(t, !tc.unstamped, ok, "\"t\" in %s", bodyOf(resp))
			if tc.unstamped {
				return
			}
			got, _ := ts.Integer()
			assert.Equal(t, now, got, "\"t\" is the node's clock")
		})
	}
}
