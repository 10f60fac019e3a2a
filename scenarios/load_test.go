package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinsLoadAndValidate(t *testing.T) {
	names := Builtins()
	require.Contains(t, names, "default")
	require.Contains(t, names, "large")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name, LoadOptions{})
			require.NoError(t, err)
			assert.Equal(t, name, s.Name)
		})
	}
	def, err := Load("", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, 100, def.Nodes.Count)
	assert.Equal(t, 200, def.Clients.Count)
	assert.Equal(t, 20*time.Minute, def.Duration)
	assert.Equal(t, "real", def.Crypto)
}

func TestParseLayers(t *testing.T) {
	src := []byte("name: t\nnodes:\n  count: 30\n  regions: {us-east-1: 1}\n")
	s, err := Parse(src, "t.yaml", LoadOptions{
		Environ: []string{"SESSIONSIM_CLIENTS_COUNT=7", "HOME=/root", "SESSIONSIM_NETWORK_SAME_REGION_RTT=3ms"},
		Sets:    []string{"duration=90s", "nodes.count=40", "clients.platforms.ios=2"},
	})
	require.NoError(t, err)
	assert.Equal(t, 40, s.Nodes.Count, "--set beats the file")
	assert.Equal(t, 7, s.Clients.Count, "environment applies")
	assert.Equal(t, 3*time.Millisecond, s.Network.SameRegionRTT)
	assert.Equal(t, 90*time.Second, s.Duration)
	assert.Equal(t, map[string]float64{"us-east-1": 1}, s.Nodes.Regions, "a map in the file replaces the default")
	assert.Equal(t, 2.0, s.Clients.Platforms["ios"])
	assert.Equal(t, 2*time.Minute, s.Drain, "defaults fill what the file leaves out")
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		opts    LoadOptions
		wantKey string
		wantIn  string
	}{
		{"unknown top key", "name: t\nnodez: {count: 3}\n", LoadOptions{}, "nodez", "unknown key"},
		{"unknown nested key", "name: t\nnodes: {cuont: 3}\n", LoadOptions{}, "nodes.cuont", "nodes.count"},
		{"non-numeric", "name: t\nnodes: {count: many}\n", LoadOptions{}, "nodes.count", "many"},
		{"bad duration", "name: t\nduration: soon\n", LoadOptions{}, "duration", "soon"},
		{"negative duration", "name: t\ndrain: -5s\n", LoadOptions{}, "drain", "negative"},
		{"bad crypto", "name: t\ncrypto: rot13\n", LoadOptions{}, "crypto", "rot13"},
		{"bad platform", "name: t\nclients: {platforms: {windows-phone: 1}}\n", LoadOptions{}, "clients.platforms.windows-phone", "unknown name"},
		{"unknown set key", "name: t\n", LoadOptions{Sets: []string{"nodes.cnt=3"}}, "nodes.cnt", "no scenario key"},
		{"set without value", "name: t\n", LoadOptions{Sets: []string{"nodes.count"}}, "", "key=value"},
		{"unknown env key", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_NODES_CNT=3"}}, "SESSIONSIM_NODES_CNT", "no scenario key"},
		{"bad fault kind", "name: t\nfaults: [{at: 1m, kind: meteor}]\n", LoadOptions{}, "faults[0].kind", "meteor"},
		{"unknown fault key", "name: t\nfaults: [{at: 1m, kind: crash, cuont: 2}]\n", LoadOptions{}, "faults[0]", "cuont"},
		{"bad yaml", "name: [t\n", LoadOptions{}, "", "not valid YAML"},
		{"other mode", "name: t\nmode: docker\n", LoadOptions{}, "mode", "in-process"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "bad.yaml", tc.opts)
			require.Error(t, err)
			var se *Error
			require.True(t, errors.As(err, &se), "error %v is a scenario Error", err)
			assert.Equal(t, tc.wantKey, se.Key)
			assert.Contains(t, err.Error(), tc.wantIn)
		})
	}
}

func TestLoadFileAndMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: mine\nclients: {count: 10}\nworkload: {contacts: 3}\n"), 0o644))
	s, err := Load(path, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "mine", s.Name)
	assert.Equal(t, 10, s.Clients.Count)

	_, err = Load(filepath.Join(dir, "absent.yaml"), LoadOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "built-ins: default, large")
}

func TestResolvedYAMLRoundTrips(t *testing.T) {
	s, err := Load("default", LoadOptions{})
	require.NoError(t, err)
	s.Faults = []Fault{{At: time.Minute, Kind: "crash", Count: 2, Regions: []string{}}}
	b, err := s.YAML()
	require.NoError(t, err)
	assert.Contains(t, string(b), "duration: 20m0s")
	again, err := Parse(b, "resolved", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, s, again)
}
