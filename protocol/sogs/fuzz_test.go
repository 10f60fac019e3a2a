package sogs

import (
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

func FuzzParseBatch(f *testing.F) {
	f.Add(PollRequest([]RoomCursor{{Token: "lobby", Seqno: 3}}))
	f.Add([]byte(`[{"method":"GET","path":"/room/x/pollInfo/9?a=b"}]`))
	f.Add([]byte(`[{"method":"GET"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		subs, err := ParseBatch(b)
		if err == nil && (len(subs) == 0 || len(subs) > MaxSubRequests) {
			t.Fatalf("accepted %d subrequests", len(subs))
		}
	})
}

func FuzzParsePollResponse(f *testing.F) {
	rooms := []RoomCursor{{Token: "lobby"}}
	f.Add([]byte(`[{"code":200,"headers":{},"body":{}},{"code":200,"headers":{},"body":{"info_updates":2}},{"code":200,"headers":{},"body":[{"seqno":4}]}]`))
	f.Add([]byte(`[{"code":404},{"code":404},{"code":404}]`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := ParsePollResponse(rooms, b)
		if err == nil && len(res.Rooms) != len(rooms) {
			t.Fatalf("%d rooms for %d", len(res.Rooms), len(rooms))
		}
	})
}

func FuzzVerify(f *testing.F) {
	suite := cryptomode.New(cryptomode.Modeled, cryptomode.DefaultCosts)
	var server [32]byte
	b, _ := Blind15(suite.Costs(), make([]byte, 32), server)
	h, _ := Sign(suite, b, server, [NonceSize]byte{}, 1700000000, BatchMethod, BatchEndpoint, []byte("[]"))
	f.Add(h[HeaderPubkey], h[HeaderTimestamp], h[HeaderNonce], h[HeaderSignature], []byte("[]"))
	f.Add("15", "x", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, pk, ts, nonce, sig string, body []byte) {
		hs := map[string]string{HeaderPubkey: pk, HeaderTimestamp: ts, HeaderNonce: nonce, HeaderSignature: sig}
		auth, _, err := Verify(suite, server, BatchMethod, BatchEndpoint, hs, body)
		if err == nil && auth.ID != b.ID {
			t.Fatalf("verified a signature under %v", auth.ID)
		}
	})
}
