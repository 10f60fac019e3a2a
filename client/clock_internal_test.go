package client

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

func TestAnswerClock(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		body                 string
		stamps               []int64
		status406, status425 int
	}{
		{"every sub-answer's t", `{"results":[{"code":200,"body":{"t":1700000000001,"hf":[19,3]}},{"code":200,"body":{"messages":[],"t":1700000000002}}]}`, []int64{1700000000001, 1700000000002}, 0, 0},
		{"refusals counted, their text has no t", `{"results":[{"code":406,"body":"retrieve timestamp too far from current time"},{"code":406,"body":"x"},{"code":200,"body":{"t":1700000000003}}]}`, []int64{1700000000003}, 2, 0},
		{"425 apart", `{"results":[{"code":425,"body":"too early"}]}`, nil, 0, 1},
		{"a t before 2021 is ignored", `{"results":[{"code":200,"body":{"t":1609419600000}}]}`, nil, 0, 0},
		{"a t that is no integer is ignored", `{"results":[{"code":200,"body":{"t":"1700000000000"}},{"code":200,"body":{"t":1.7e12}}]}`, nil, 0, 0},
		{"no t", `{"results":[{"code":200,"body":{"hf":[19,3]}}]}`, nil, 0, 0},
		{"not a batch", `{"t":1700000000000}`, nil, 0, 0},
		{"not JSON", `Timestamp error: check your clock`, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stamps, refused := answerClock(batchAnswer{body: []byte(tc.body)}, true)
			assert.Equal(t, tc.stamps, stamps)
			assert.Equal(t, tc.status406, refused.Status406)
			assert.Equal(t, tc.status425, refused.Status425)
		})
	}
}

// An answer the node kept as values gives the clock and the store's code what parsing its body
// gives, stamps below the apps' floor included.
func TestResultValuesReadAsTheirBodies(t *testing.T) {
	const now = int64(1_735_689_600_000)
	aa, bb := strings.Repeat("aa", 32), strings.Repeat("bb", 32)
	ok := storagerpc.SwarmEntry[storagerpc.StoreResult]{Node: aa, Result: storagerpc.StoreResult{Hash: "h", Expiry: now}}
	failed := storagerpc.SwarmEntry[storagerpc.StoreResult]{Node: bb, Failed: &storagerpc.Failure{Timeout: true}}
	expire := storagerpc.SwarmEntry[storagerpc.ExpireResult]{Node: aa, Result: storagerpc.ExpireResult{Expiries: []int64{now}, Updated: []string{"h"}}}
	for _, tc := range []struct {
		name  string
		value any
		body  []byte
	}{
		{"retrieve", &storagerpc.RetrieveResponse{T: now}, (&storagerpc.RetrieveResponse{T: now}).Append(nil)},
		{"retrieve before 2021", &storagerpc.RetrieveResponse{T: 5}, (&storagerpc.RetrieveResponse{T: 5}).Append(nil)},
		{"expire", &storagerpc.SwarmResponse[storagerpc.ExpireResult]{Self: aa, Swarm: []storagerpc.SwarmEntry[storagerpc.ExpireResult]{expire}, T: now},
			storagerpc.AppendExpireResponse(nil, &storagerpc.SwarmResponse[storagerpc.ExpireResult]{Self: aa, Swarm: []storagerpc.SwarmEntry[storagerpc.ExpireResult]{expire}, T: now})},
		{"store", &storagerpc.StoreResponse{Self: aa, Hash: "h", Swarm: []storagerpc.SwarmEntry[storagerpc.StoreResult]{ok, failed}, T: now},
			(&storagerpc.StoreResponse{Self: aa, Hash: "h", Swarm: []storagerpc.SwarmEntry[storagerpc.StoreResult]{ok, failed}, T: now}).Append(nil)},
		{"store, every member failed", &storagerpc.StoreResponse{Self: bb, Swarm: []storagerpc.SwarmEntry[storagerpc.StoreResult]{failed}, T: now},
			(&storagerpc.StoreResponse{Self: bb, Swarm: []storagerpc.SwarmEntry[storagerpc.StoreResult]{failed}, T: now}).Append(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept := storagerpc.SubResult{Code: 200, Body: tc.body, Value: tc.value}
			parsed := storagerpc.SubResult{Code: 200, Body: tc.body}
			wantT, wantOK := stampOf(tc.body)
			gotT, gotOK := resultStamp(kept)
			assert.Equal(t, wantOK, gotOK)
			assert.Equal(t, wantT, gotT)
			if _, isStore := tc.value.(*storagerpc.StoreResponse); isStore {
				want, err := storeCode(parsed)
				require.NoError(t, err)
				got, err := storeCode(kept)
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
		})
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tc := range []struct{ a, b, want int64 }{
		{7, 2, 3}, {-7, 2, -4}, {-6, 2, -3}, {0, 3, 0}, {-1, 10, -1}, {9, 10, 0},
	} {
		assert.Equal(t, tc.want, floorDiv(tc.a, tc.b), "floor(%d/%d)", tc.a, tc.b)
	}
}

// TestLearnTime feeds answers' "t" values to a client whose device clock is 90 s ahead and
// checks the network time it then signs with: the desktop's mean of its last 10 offsets
// (rounded down to the ms), iOS's latest offset; before any answer, the
// device clock itself. The learnt time lags the nodes' by the answers' way back.
func TestLearnTime(t *testing.T) {
	const ahead = 90 * time.Second
	for _, tc := range []struct {
		name     string
		platform Platform
		// lags are how far behind the true time each answer's "t" is, in ms: the answer's
		// way back, as the apps do not correct for it.
		lags []int64
		want time.Duration // the client's network time minus the true time
	}{
		{"desktop before any answer", Desktop, nil, ahead},
		{"desktop, one answer", Desktop, []int64{300}, -300 * time.Millisecond},
		{"desktop, the mean rounded down", Desktop, []int64{100, 201}, -150 * time.Millisecond},
		{"desktop, the last 10 of 12", Desktop, []int64{5000, 5000, 100, 100, 100, 100, 100, 100, 100, 100, 200, 300}, -130 * time.Millisecond},
		{"ios, the latest", IOS, []int64{5000, 100, 250}, -250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drv := newDriver()
			f := newFakeNet(t, drv, 12, 6)
			c, err := New(Config{Platform: tc.platform, Seeds: f.seeds, ClockOffset: ahead}, identity.Derive(1, "clock"))
			require.NoError(t, err)
			e := drv.Env(netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 99}), 5000))
			e.Do(func() {
				c.env = e
				for _, lag := range tc.lags {
					c.learnTime([]int64{e.Now().UnixMilli() - lag})
				}
				assert.Equal(t, tc.want, c.clockError())
				assert.Equal(t, e.Now().Add(tc.want).UnixMilli(), c.netNowMS(), "what it signs with")
			})
		})
	}
}
