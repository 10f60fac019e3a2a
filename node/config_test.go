package node

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store/memory"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

func TestParseStrategy(t *testing.T) {
	tests := []struct {
		in      string
		want    Strategy
		wantErr bool
	}{
		{"", StrategyV211, false},
		{"2.11", StrategyV211, false},
		{"v2.11", StrategyV211, false},
		{"2.10", StrategyV211, false},
		{"2.12", StrategyV211, false},
		{"2.8", StrategyV28, false},
		{"v2.8", StrategyV28, false},
		{"2.9", 0, true},
		{"latest", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseStrategy(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.in)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConfigFill(t *testing.T) {
	c, err := Config{}.Fill()
	require.NoError(t, err)
	d := DefaultConfig()
	assert.Equal(t, d.Version, c.Version)
	assert.Equal(t, 5*time.Second, c.ForwardTimeout)
	assert.Equal(t, 15*time.Second, c.RetryFirst)
	assert.Equal(t, time.Minute, c.RetryEvery)
	assert.Equal(t, 10*time.Second, c.HandshakeInterval)
	assert.Equal(t, 10*time.Second, c.CleanupInterval)
	assert.Equal(t, DefaultRateLimit, c.RateLimit)
	assert.Equal(t, DefaultReachability, c.Reachability)
	assert.NotNil(t, c.Suite)

	c, err = Config{Version: "2.8", ForwardTimeout: time.Second, Reachability: Reachability{Interval: 20 * time.Second}}.Fill()
	require.NoError(t, err)
	assert.Equal(t, StrategyV28, c.Strategy())
	assert.Equal(t, time.Second, c.ForwardTimeout, "set fields are kept")
	assert.Equal(t, 20*time.Second, c.Reachability.Interval)
	assert.Equal(t, 5*time.Second, c.Reachability.Timeout, "unset fields of a partly set struct get defaults")

	_, err = Config{Version: "3.0"}.Fill()
	assert.Error(t, err)
	_, err = New(Config{Version: "3.0"}, identity.Derive(1, "x"), nil)
	assert.Error(t, err)
	_, err = New(Config{}, identity.Derive(1, "x"), nil)
	assert.ErrorContains(t, err, "no store")
}

// TestKeysAreTheKeysGiven checks that a node gives back the keys it was made with (a restart
// after a crash makes the node again from them), in both crypto modes.
func TestKeysAreTheKeysGiven(t *testing.T) {
	recovery, err := identity.FromSeed([]byte("sixteen byte sd!"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		mode cryptomode.Mode
		keys identity.Keys
	}{
		{"derived, real", cryptomode.Real, identity.Derive(1, "x")},
		{"derived, modeled", cryptomode.Modeled, identity.Derive(2, "y")},
		{"recovery seed, real", cryptomode.Real, recovery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := Config{Suite: cryptomode.New(tc.mode, cryptomode.DefaultCosts)}
			n, err := New(conf, tc.keys, memory.New(memory.Config{}))
			require.NoError(t, err)
			got := n.Keys()
			assert.Equal(t, tc.keys, got)
			again, err := New(conf, got, memory.New(memory.Config{}))
			require.NoError(t, err, "the keys make a node again")
			// Every key, the X25519 pair the onion layers are opened with included.
			assert.Equal(t, tc.keys, again.Keys())
			assert.Equal(t, n.Ed25519(), again.Ed25519())
		})
	}
}

func TestOxendGetServiceNodes(t *testing.T) {
	tn := newTestNet(t, testSwarms, perSwarm, Config{})
	resp := tn.rpc(t, 0, encode(storagerpc.NewGetServiceNodes()))
	require.Equal(t, 200, resp.Status, "%s", bodyOf(resp))
	res, err := storagerpc.DecodeOxendResponse(bodyOf(resp))
	require.NoError(t, err)
	var result struct {
		States []struct {
			Ed25519 string `json:"pubkey_ed25519"`
			IP      string `json:"public_ip"`
			Port    int    `json:"storage_port"`
		} `json:"service_node_states"`
	}
	require.NoError(t, json.Unmarshal(res.Result, &result))
	assert.Len(t, result.States, len(tn.keys))
	for _, s := range result.States {
		assert.NotEmpty(t, s.Ed25519)
		assert.Equal(t, 22021, s.Port)
	}

	bad := &storagerpc.OxendRequest{Endpoint: "get_service_nodes", Params: []byte(`{"limit":"x"}`)}
	assert.Equal(t, 400, tn.rpc(t, 0, encode(bad)).Status)
}
