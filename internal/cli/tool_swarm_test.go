package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToolSwarmSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", "17589930838143112648"},
		{"05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "10370619079776428163"},
		{"cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "10370619079776428163"},
		// The server hashes the key alone, whatever the prefix byte (libsession's test vectors
		// give the key; any prefix lands in the same place).
		{"033506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", "17589930838143112648"},
		{"153506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", "17589930838143112648"},
		{"25cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "10370619079776428163"},
		{"09cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "10370619079776428163"},
		{"FFCF27DA303A50AC8C4B2D43D27259505C9BCD73FC21CF2A57902C3D050730B604", "10370619079776428163"},
		{"00d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc", "2144983569669512198"},
	}
	for _, tt := range tests {
		code, out, _ := runCLI("tool", "swarm-space", tt.in)
		require.Equal(t, 0, code, out)
		assert.Equal(t, "swarm_space: "+tt.want+"\n", out)

		code, out, _ = runCLI("tool", "swarm-space", tt.in, "--json")
		require.Equal(t, 0, code)
		assert.JSONEq(t, `{"swarm_space": `+tt.want+`}`, out)
	}
}

func TestToolSwarmOwner(t *testing.T) {
	tests := []struct {
		swarms, x, want string
	}{
		{"100,200", "150", "100"}, // 0x96: a tie goes to the lower swarm
		{"100,200", "151", "200"}, // 0x97
		{"200,100", "0", "100"},
		{"0x64, 0xc8", "151", "200"},
		{"100,200,100", "18446744073709551615", "100"},
		// 10370619079776428163 lies 1.1e18 above 2^63-1 and 8.1e18 below 0 (wrapping).
		{"0,9223372036854775807", "05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "9223372036854775807"},
		{"0,13835058055282163711", "05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", "13835058055282163711"},
		{"42", "7", "42"},
	}
	for _, tt := range tests {
		t.Run(tt.swarms+"/"+tt.x, func(t *testing.T) {
			code, out, errOut := runCLI("tool", "swarm-owner", "--swarms", tt.swarms, tt.x)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, "swarm_id: "+tt.want+"\n", out)
			code, out, _ = runCLI("tool", "swarm-owner", "--swarms", tt.swarms, tt.x, "--json")
			require.Equal(t, 0, code)
			assert.JSONEq(t, `{"swarm_id": `+tt.want+`}`, out)
		})
	}
}

func TestToolSwarmFailures(t *testing.T) {
	good := "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8"
	assertToolFailures(t, []string{"tool"}, []failingTool{
		{"space: short", []string{"swarm-space", "05abc"}, "5 characters", 2},
		{"space: not hex", []string{"swarm-space", "05" + strings.Repeat("zz", 32)}, "not hex", 2},
		{"space: prefix not hex", []string{"swarm-space", "0g" + good[2:]}, "not hex", 2},
		{"space: bad key hex", []string{"swarm-space", strings.Repeat("q", 64)}, "offset 0", 2},
		{"owner: no swarms", []string{"swarm-owner", "5"}, "--swarms is required", 2},
		{"owner: bad id", []string{"swarm-owner", "--swarms", "1,x", "5"}, `"x" is not a swarm id`, 2},
		{"owner: negative", []string{"swarm-owner", "--swarms", "-1", "5"}, "not a swarm id", 2},
		{"owner: unassigned", []string{"swarm-owner", "--swarms", "18446744073709551615", "5"}, "unassigned", 2},
		{"owner: bad space", []string{"swarm-owner", "--swarms", "1", "12ab"}, "neither a pubkey", 2},
		{"owner: overflow", []string{"swarm-owner", "--swarms", "1", "18446744073709551616"}, "neither a pubkey", 2},
		{"owner: bad pubkey", []string{"swarm-owner", "--swarms", "1", "x0" + good[2:]}, "not hex", 2},
		{"swarms: no nodes", []string{"swarms"}, "--nodes is required", 2},
		{"swarms: zero nodes", []string{"swarms", "--nodes", "0"}, "--nodes 0: want 1 to 20000", 2},
		{"unknown tool", []string{"swarmz"}, `unknown tool "swarmz" (did you mean "swarms"?)`, 2},
		{"swarms: argument", []string{"swarms", "12"}, "no arguments", 2},
		{"space: no argument", []string{"swarm-space"}, "one PUBKEY argument, got 0", 2},
		{"owner: two arguments", []string{"swarm-owner", "--swarms", "1", "2", "3"}, "got 2", 2},
		{"swarms: too many", []string{"swarms", "--nodes", "20001"}, "--nodes 20001", 2},
		{"swarms: per block", []string{"swarms", "--nodes", "5", "--per-block", "0"}, "--per-block 0", 2},
	})
}

func TestToolSwarms(t *testing.T) {
	tests := []struct {
		nodes, perBlock int
	}{
		{1, 1}, {6, 1}, {7, 1}, {13, 1}, {14, 1}, {100, 1}, {100, 7}, {350, 50}, {349, 349},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d by %d", tt.nodes, tt.perBlock), func(t *testing.T) {
			code, out, errOut := runCLI("tool", "swarms", "--nodes", fmt.Sprint(tt.nodes),
				"--per-block", fmt.Sprint(tt.perBlock), "--seed", "3", "--json")
			require.Equal(t, 0, code, errOut)
			var got struct {
				Swarms int   `json:"swarms"`
				Sizes  []int `json:"sizes"`
				Excess int   `json:"excess"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, 1+max(0, tt.nodes-7)/7, got.Swarms)
			require.Len(t, got.Sizes, got.Swarms)
			total, excess := 0, 0
			for i, s := range got.Sizes {
				total += s
				excess += max(0, s-5)
				if i > 0 {
					assert.LessOrEqual(t, got.Sizes[i-1], s, "ascending")
				}
				if tt.nodes >= 5 {
					assert.GreaterOrEqual(t, s, 5)
				}
			}
			assert.Equal(t, tt.nodes, total)
			assert.Equal(t, excess, got.Excess)
		})
	}
	code, out, _ := runCLI("tool", "swarms", "--nodes", "20")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "swarms: 2\n")
	assert.Contains(t, out, "excess: 10\n")
	assert.Contains(t, out, "sizes: [")
}
