package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/live/onionbench"
)

func TestBenchOnionRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"tiny payload", []string{"--sizes", "1"}, "payload size 1"},
		{"negative latency", []string{"--latencies", "-1ms"}, "link latency"},
		{"latency longer than a first request can wait", []string{"--latencies", "0,3s"}, "link latency 3s: give latencies from 0 to 2s (a first request crosses a link more than ten times within the 30s call timeout)"},
		{"no requests", []string{"--requests", "0"}, "requests"},
		{"cipher", []string{"--enc-type", "rot13"}, "--enc-type"},
		{"not a size", []string{"--sizes", "big"}, "sizes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"bench", "onion"}, tt.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestBenchOnionPrintsJSONAndTable(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "onion", "--sizes", "100", "--latencies", "0", "--requests", "3", "--json")
	require.Equal(t, exitOK, code, stderr)
	var pts []onionbench.Point
	require.NoError(t, json.Unmarshal([]byte(stdout), &pts))
	require.Len(t, pts, 1)
	assert.Equal(t, 100, pts[0].PayloadBytes)
	assert.Positive(t, pts[0].P50MS)
	assert.Positive(t, pts[0].RatioP50)

	code, stdout, stderr = runCLI("bench", "onion", "--sizes", "100", "--latencies", "0", "--requests", "3")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "p50/floor")
}

func TestCompareModesRefusesWhatLiveModeRefuses(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"modeled crypto", []string{"--set", "crypto=modeled"}, []string{`scenario --set: key "crypto" = modeled`, "compare-modes", "use crypto=real"}},
		{"modeled crypto in a scenario file", []string{"large"}, []string{`scenario builtin:large:`, `key "crypto" = modeled`, "use crypto=real"}},
		{"a bad count", []string{"--set", "nodes.count=zero"}, []string{"--set", "nodes.count"}},
		{"a mode", []string{"--set", "mode=sim"}, []string{"--set mode=sim", "both modes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"compare-modes"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one message: %q", stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}
