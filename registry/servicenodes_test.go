package registry

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/internal/testkit"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testList is a list of 40 nodes, one of them decommissioned.
func testList(t *testing.T) (*Ledger, *List) {
	t.Helper()
	l := newLedger(t, ShortConfig(), 40)
	victim := reg(9).Ed25519
	run(l, t0.Add(24*time.Minute), func(now time.Time) { proofsExcept(l, now, victim) })
	rec, _ := l.Node(victim)
	require.Equal(t, StateDecommissioned, rec.State)
	return l, l.List()
}

type snResult struct {
	BlockHash string           `json:"block_hash"`
	Height    *uint64          `json:"height"`
	Hardfork  *int             `json:"hardfork"`
	States    []map[string]any `json:"service_node_states"`
	Status    string           `json:"status"`
	Unchanged *bool            `json:"unchanged"`
}

func decodeResult(t *testing.T, b []byte) (snResult, map[string]json.RawMessage) {
	t.Helper()
	require.True(t, json.Valid(b), string(b))
	var r snResult
	require.NoError(t, json.Unmarshal(b, &r))
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &raw))
	return r, raw
}

// The desktop app's bootstrap request to a seed node.
const desktopSeedRequest = `{"jsonrpc":"2.0","id":"0","method":"get_n_service_nodes","params":{"active_only":true,"limit":20,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}}`

func TestJSONRPCDesktopBootstrap(t *testing.T) {
	_, list := testList(t)
	out := JSONRPC(NewEntries(list), []byte(desktopSeedRequest), newRand(1))
	require.True(t, json.Valid(out))
	var env struct {
		ID      string          `json:"id"`
		JSONRPC string          `json:"jsonrpc"`
		Result  json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal(out, &env))
	assert.Equal(t, "0", env.ID)
	assert.Equal(t, "2.0", env.JSONRPC)
	res, raw := decodeResult(t, env.Result)
	assert.Equal(t, "OK", res.Status)
	// Only the requested fields: the top level has no height or block hash either.
	assert.ElementsMatch(t, []string{"service_node_states", "status"}, keysOf(raw))
	require.Len(t, res.States, 20)
	seen := map[string]bool{}
	for _, s := range res.States {
		assert.ElementsMatch(t, []string{"public_ip", "pubkey_ed25519", "pubkey_x25519", "storage_port"}, keysOf(s))
		ed := s["pubkey_ed25519"].(string)
		assert.False(t, seen[ed], "no node twice")
		seen[ed] = true
		var k [32]byte
		_, err := hex.Decode(k[:], []byte(ed))
		require.NoError(t, err)
		p, ok := list.Find(k)
		require.True(t, ok)
		assert.True(t, p.Active(), "active_only")
		assert.Equal(t, p.Addr.Addr().String(), s["public_ip"])
		assert.Equal(t, float64(22021), s["storage_port"])
		assert.Equal(t, hex.EncodeToString(p.X25519[:]), s["pubkey_x25519"])
	}
	// Another draw picks other nodes.
	out2 := JSONRPC(NewEntries(list), []byte(desktopSeedRequest), newRand(2))
	assert.NotEqual(t, out, out2)
}

// keysOf lists m's keys, in no order (the callers compare them as sets).
func keysOf[V any](m map[string]V) []string { return slices.Collect(maps.Keys(m)) }

func TestServiceNodesAllFields(t *testing.T) {
	_, list := testList(t)
	out := ServiceNodes(NewEntries(list), ServiceNodesParams{}, newRand(1))
	res, raw := decodeResult(t, out)
	assert.ElementsMatch(t, []string{"block_hash", "hardfork", "height", "service_node_states", "snode_revision", "status", "target_height"}, keysOf(raw))
	assert.Equal(t, hex.EncodeToString(list.BlockHash[:]), res.BlockHash)
	require.Len(t, res.States, 40, "decommissioned nodes too, without active_only")
	assertSortedKeys(t, out)
	inactive := 0
	for i, s := range res.States {
		p := list.Nodes[i] // limit 0: key order
		assert.Len(t, s, len(snFields))
		assert.Equal(t, hex.EncodeToString(p.Ed25519[:]), s["service_node_pubkey"])
		assert.Equal(t, p.Active(), s["active"])
		assert.Equal(t, []any{float64(2), float64(11), float64(0)}, s["storage_server_version"])
		if !p.Active() {
			inactive++
			assert.Equal(t, "ffffffffffffffff", s["swarm"])
			continue
		}
		assert.Equal(t, strings.ToLower(strings.TrimLeft(hexUint(uint64(p.Swarm)), "0")), strings.TrimLeft(s["swarm"].(string), "0"))
	}
	assert.Equal(t, 1, inactive)
	// swarm_id is a full uint64: decode it exactly.
	var exact struct {
		States []struct {
			SwarmID uint64 `json:"swarm_id"`
		} `json:"service_node_states"`
	}
	require.NoError(t, json.Unmarshal(out, &exact))
	for i, s := range exact.States {
		assert.Equal(t, uint64(list.Nodes[i].Swarm), s.SwarmID)
	}
}

func hexUint(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// assertSortedKeys: every object's keys come out in sorted order, as oxend writes them.
func assertSortedKeys(t *testing.T, b []byte) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	type frame struct {
		object bool
		keys   []string
		expect bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, expect: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			case '}':
				f := top()
				assert.True(t, slices.IsSorted(f.keys), "keys %v", f.keys)
				stack = stack[:len(stack)-1]
			case ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if f := top(); f != nil && f.object && f.expect {
				f.keys = append(f.keys, v)
				f.expect = false
				continue
			}
		}
		if f := top(); f != nil && f.object {
			f.expect = true
		}
	}
}

func TestServiceNodesLimitAndFilters(t *testing.T) {
	_, list := testList(t)
	keys := func(b []byte) []string {
		res, _ := decodeResult(t, b)
		var out []string
		for _, s := range res.States {
			out = append(out, s["pubkey_ed25519"].(string))
		}
		return out
	}
	inOrder := keys(ServiceNodes(NewEntries(list), ServiceNodesParams{Fields: []string{"pubkey_ed25519"}}, newRand(1)))
	require.Len(t, inOrder, 40)
	assert.True(t, slices.IsSorted(inOrder), "limit 0 keeps key order")

	for _, limit := range []int{-1, 40, 1000} {
		got := keys(ServiceNodes(NewEntries(list), ServiceNodesParams{Fields: []string{"pubkey_ed25519"}, Limit: limit}, newRand(3)))
		assert.ElementsMatch(t, inOrder, got, "limit %d gives everyone", limit)
		assert.NotEqual(t, inOrder, got, "limit %d shuffles", limit)
	}
	five := keys(ServiceNodes(NewEntries(list), ServiceNodesParams{Fields: []string{"pubkey_ed25519"}, Limit: 5, ActiveOnly: true}, newRand(3)))
	assert.Len(t, five, 5)

	active := keys(ServiceNodes(NewEntries(list), ServiceNodesParams{Fields: []string{"pubkey_ed25519"}, ActiveOnly: true}, newRand(1)))
	assert.Len(t, active, 39)

	only := ServiceNodesParams{Fields: []string{"pubkey_ed25519"}, ServiceNodePubkeys: []string{inOrder[3], inOrder[7], "zz"}}
	assert.Equal(t, []string{inOrder[3], inOrder[7]}, keys(ServiceNodes(NewEntries(list), only, newRand(1))))

	// "all" minus one field.
	res, _ := decodeResult(t, ServiceNodes(NewEntries(list), ServiceNodesParams{Fields: []string{"all", "-swarm"}}, newRand(1)))
	assert.NotContains(t, res.States[0], "swarm")
	assert.Contains(t, res.States[0], "swarm_id")
}

func TestServiceNodesPoll(t *testing.T) {
	_, list := testList(t)
	hash := hex.EncodeToString(list.BlockHash[:])
	res, raw := decodeResult(t, ServiceNodes(NewEntries(list), ServiceNodesParams{PollBlockHash: hash, Fields: []string{"public_ip"}}, newRand(1)))
	require.NotNil(t, res.Unchanged)
	assert.True(t, *res.Unchanged)
	assert.NotContains(t, raw, "service_node_states")
	assert.Equal(t, hash, res.BlockHash, "a poll always carries the block hash")

	res, _ = decodeResult(t, ServiceNodes(NewEntries(list), ServiceNodesParams{PollBlockHash: strings.Repeat("00", 32), Fields: []string{"public_ip"}}, newRand(1)))
	require.NotNil(t, res.Unchanged)
	assert.False(t, *res.Unchanged)
	assert.Len(t, res.States, 40)
}

func TestParseServiceNodesParams(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ServiceNodesParams
		err  string
	}{
		{"empty", ``, ServiceNodesParams{}, ""},
		{"null", `null`, ServiceNodesParams{}, ""},
		{"dict fields", `{"active_only":true,"limit":20,"fields":{"public_ip":true,"storage_port":false}}`,
			ServiceNodesParams{ActiveOnly: true, Limit: 20, Fields: []string{"public_ip"}}, ""},
		{"all", `{"fields":{"all":true,"public_ip":true}}`, ServiceNodesParams{}, ""},
		{"list fields", `{"fields":["swarm_id","public_ip"],"poll_block_hash":"ab"}`,
			ServiceNodesParams{Fields: []string{"swarm_id", "public_ip"}, PollBlockHash: "ab"}, ""},
		{"pubkeys", `{"service_node_pubkeys":["aa"]}`, ServiceNodesParams{ServiceNodePubkeys: []string{"aa"}}, ""},
		{"not an object", `[1]`, ServiceNodesParams{}, "params"},
		{"bad fields", `{"fields":7}`, ServiceNodesParams{}, "fields must be"},
		{"bad field values", `{"fields":{"a":"yes"}}`, ServiceNodesParams{}, "fields"},
		{"bad limit", `{"limit":"x"}`, ServiceNodesParams{}, "params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServiceNodesParams([]byte(tt.in))
			if !testkit.WantNoError(t, err, tt.err) {
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestJSONRPCErrors(t *testing.T) {
	list := &List{}
	tests := []struct {
		name, in string
		code     int
		id       string
	}{
		{"not json", `{`, rpcParseError, "null"},
		{"no method", `{"jsonrpc":"2.0","id":5}`, rpcInvalidRequest, "5"},
		{"unknown method", `{"jsonrpc":"2.0","id":"x","method":"get_info"}`, rpcMethodNotFound, `"x"`},
		{"bad params", `{"jsonrpc":"2.0","id":1,"method":"get_n_service_nodes","params":{"fields":3}}`, rpcInvalidParams, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := JSONRPC(NewEntries(list), []byte(tt.in), newRand(1))
			require.True(t, json.Valid(out), string(out))
			var env struct {
				ID    json.RawMessage `json:"id"`
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal(out, &env))
			assert.Equal(t, tt.code, env.Error.Code)
			assert.NotEmpty(t, env.Error.Message)
			assert.JSONEq(t, tt.id, string(env.ID))
		})
	}
	// An empty list still answers.
	out := JSONRPC(NewEntries(list), []byte(desktopSeedRequest), newRand(1))
	assert.Contains(t, string(out), `"service_node_states":[]`)
}

func FuzzJSONRPC(f *testing.F) {
	f.Add([]byte(desktopSeedRequest))
	f.Add([]byte(`{"jsonrpc":"2.0","id":null,"method":"get_service_nodes","params":{"fields":["all","-swarm"],"limit":-1}}`))
	f.Add([]byte(`{"method":"get_all_service_nodes","params":{"poll_block_hash":"00","service_node_pubkeys":["zz"]}}`))
	f.Add([]byte(`{"id":{"a":[1,2]},"method":"x"}`))
	f.Add([]byte(`nul`))
	l := newLedgerForFuzz(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		out := JSONRPC(NewEntries(l), b, newRand(1))
		if !json.Valid(out) {
			t.Fatalf("invalid JSON answer %q to %q", out, b)
		}
	})
}

func newLedgerForFuzz(f *testing.F) *List {
	l, err := NewLedger(ShortConfig())
	if err != nil {
		f.Fatal(err)
	}
	for i := range 12 {
		if err := l.Register(reg(i)); err != nil {
			f.Fatal(err)
		}
	}
	l.Block(t0)
	return l.List()
}

func FuzzParseServiceNodesParams(f *testing.F) {
	f.Add([]byte(`{"active_only":true,"limit":20,"fields":{"public_ip":true}}`))
	f.Add([]byte(`{"fields":["a"]}`))
	f.Add([]byte(`{"fields":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseServiceNodesParams(b)
		if err != nil {
			return
		}
		// Whatever parsed must be answerable.
		out := ServiceNodes(NewEntries(&List{Nodes: []Peer{{Swarm: swarm.Unassigned}}}), p, newRand(1))
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for params %+v", p)
		}
	})
}

func BenchmarkSeedBootstrap2000(b *testing.B) {
	l, err := NewLedger(ShortConfig())
	require.NoError(b, err)
	for i := range 2000 {
		require.NoError(b, l.Register(reg(i)))
	}
	l.Block(t0)
	// One Entries for every answer, as a seed node keeps one per list.
	entries := NewEntries(l.List())
	r := newRand(1)
	body := []byte(desktopSeedRequest)
	full := []byte(`{"jsonrpc":"2.0","id":"0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true}}}`)
	b.Run("limit20", func(b *testing.B) {
		for b.Loop() {
			JSONRPC(entries, body, r)
		}
	})
	b.Run("all", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = len(JSONRPC(entries, full, r))
		}
		b.ReportMetric(float64(n), "bytes")
	})
}

func TestFieldOrder(t *testing.T) {
	assert.True(t, slices.IsSorted(snFields))
}
