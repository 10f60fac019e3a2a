package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/message"
)

func TestDefenceKeysParse(t *testing.T) {
	cases := []struct {
		name string
		src  string
		opts LoadOptions
		want func(c *Clients)
	}{
		{"defaults", "name: t\n", LoadOptions{}, func(*Clients) {}},
		{"every key in a file", "name: t\nclients:\n  guard_test: random-id\n  guard_lifetime: 720h\n  path_rotation: 10m\n  paths: 3\n  onion_padding: [512, 1024, 4096]\n  cover_traffic: 30\n", LoadOptions{},
			func(c *Clients) {
				c.GuardTest, c.GuardLifetime, c.PathRotation, c.Paths = "random-id", 720*time.Hour, 10*time.Minute, 3
				c.OnionPadding, c.CoverTraffic = Buckets{512, 1024, 4096}, 30
			}},
		{"padding by --set", "name: t\n", LoadOptions{Sets: []string{"clients.onion_padding=512,1024", "clients.guard_test=ping"}},
			func(c *Clients) { c.OnionPadding, c.GuardTest = Buckets{512, 1024}, "ping" }},
		{"padding by the environment", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_CLIENTS_ONION_PADDING=[256, 768]"}},
			func(c *Clients) { c.OnionPadding = Buckets{256, 768} }},
		{"padding none", "name: t\nclients: {onion_padding: none}\n", LoadOptions{}, func(*Clients) {}},
		{"legacy encoding", "name: t\nclients: {encoding: legacy}\n", LoadOptions{}, func(c *Clients) { c.Encoding = "legacy" }},
		{"encoding by --set", "name: t\n", LoadOptions{Sets: []string{"clients.encoding=libsession"}}, func(c *Clients) { c.Encoding = "libsession" }},
		{"--set none over a file's list", "name: t\nclients: {onion_padding: [512]}\n", LoadOptions{Sets: []string{"clients.onion_padding=none"}}, func(*Clients) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.src), "ok.yaml", tc.opts)
			require.NoError(t, err)
			want := Default().Clients
			tc.want(&want)
			if len(want.OnionPadding) == 0 {
				assert.Empty(t, s.Clients.OnionPadding)
				want.OnionPadding = s.Clients.OnionPadding
			}
			assert.Equal(t, want, s.Clients)
		})
	}
}

func TestDefenceKeyErrors(t *testing.T) {
	checkParseErrors(t, []parseError{
		{"unknown encoding", "name: t\nclients:\n  encoding: signal\n", LoadOptions{}, "bad.yaml:3", "clients.encoding", `"libsession", "legacy" or "platform"`},
		{"empty encoding", "name: t\n", LoadOptions{Sets: []string{"clients.encoding="}}, "--set", "clients.encoding", "platform"},
		{"unknown guard test", "name: t\nclients:\n  guard_test: handshake\n", LoadOptions{}, "bad.yaml:3", "clients.guard_test", `"own-id", "random-id", "ping" or "platform"`},
		{"empty guard test", "name: t\n", LoadOptions{Sets: []string{"clients.guard_test="}}, "--set", "clients.guard_test", "platform"},
		{"negative guard lifetime", "name: t\nclients: {guard_lifetime: -1h}\n", LoadOptions{}, "bad.yaml:2", "clients.guard_lifetime", "negative"},
		{"guard lifetime too short", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_CLIENTS_GUARD_LIFETIME=5s"}}, "SESSIONSIM_CLIENTS_GUARD_LIFETIME", "clients.guard_lifetime", "at least 1m"},
		{"guard lifetime without unit", "name: t\nclients: {guard_lifetime: 30}\n", LoadOptions{}, "bad.yaml:2", "clients.guard_lifetime", "no unit"},
		{"path rotation too short", "name: t\n", LoadOptions{Sets: []string{"clients.path_rotation=1s"}}, "--set", "clients.path_rotation", "at least 10s"},
		{"no paths", "name: t\nclients: {paths: 0}\n", LoadOptions{}, "bad.yaml:2", "clients.paths", "between 1 and 8"},
		{"too many paths", "name: t\n", LoadOptions{Sets: []string{"clients.paths=9"}}, "--set", "clients.paths", "between 1 and 8"},
		{"paths the network cannot hold", "name: t\nnodes: {count: 11}\nclients: {paths: 4}\n", LoadOptions{}, "bad.yaml:2", "nodes.count", "6 disjoint onion paths of 3 hops need 18 (profile ios-2026)"},
		{"padding not ascending", "name: t\nclients:\n  onion_padding: [1024, 512]\n", LoadOptions{}, "bad.yaml:3", "clients.onion_padding", "ascending"},
		{"padding zero", "name: t\n", LoadOptions{Sets: []string{"clients.onion_padding=0,512"}}, "--set", "clients.onion_padding", "between 1 and"},
		{"padding not a number", "name: t\nclients: {onion_padding: [1k]}\n", LoadOptions{}, "bad.yaml:2", "clients.onion_padding", `"1k" is not a whole number`},
		{"padding a word", "name: t\n", LoadOptions{Sets: []string{"clients.onion_padding=some"}}, "--set", "clients.onion_padding", "not a whole number"},
		{"negative cover traffic", "name: t\nclients: {cover_traffic: -1}\n", LoadOptions{}, "bad.yaml:2", "clients.cover_traffic", "dummy polls per hour"},
		{"cover traffic too fast", "name: t\n", LoadOptions{Sets: []string{"clients.cover_traffic=1e5"}}, "--set", "clients.cover_traffic", "between 0 and 3600"},
	})
}

func TestDefenceKeysRoundTrip(t *testing.T) {
	for _, padding := range []Buckets{nil, {512, 4096}} {
		s := Default()
		s.Clients.OnionPadding, s.Clients.GuardTest, s.Clients.CoverTraffic = padding, "ping", 12.5
		b, err := s.YAML()
		require.NoError(t, err)
		if padding == nil {
			assert.Contains(t, string(b), "onion_padding: none")
		}
		again, err := Parse(b, "resolved", LoadOptions{})
		require.NoError(t, err)
		assert.Equal(t, []int(padding), []int(again.Clients.OnionPadding))
		assert.Equal(t, s.Clients.GuardTest, again.Clients.GuardTest)
		assert.Equal(t, s.Clients.CoverTraffic, again.Clients.CoverTraffic)
	}
}

func TestApplyDefences(t *testing.T) {
	// The defaults leave every client as its profile has it.
	for _, p := range []client.Platform{client.Desktop, client.IOS, client.Android} {
		d := client.DefaultConfig(p)
		cfg := d
		Default().Clients.applyDefences(&cfg)
		assert.Equal(t, d, cfg, "the defaults override nothing (%v)", p)
	}
	// What a scenario sets overrides the profile's, the iOS one's 10-day guards and 10-minute
	// rotation included.
	c := Default().Clients
	c.GuardTest, c.GuardLifetime, c.PathRotation, c.Paths = "random-id", time.Hour, 20*time.Minute, 3
	c.OnionPadding, c.CoverTraffic = Buckets{512}, 6
	cfg := client.DefaultConfig(client.IOS)
	want := cfg
	want.GuardTest, want.GuardLifetime, want.PathRotate, want.Paths = client.GuardTestRandomID, time.Hour, 20*time.Minute, 3
	want.OnionPadding, want.CoverPollsPerHour = []int{512}, 6
	c.applyDefences(&cfg)
	assert.Equal(t, want, cfg)
}

func TestApplyEncoding(t *testing.T) {
	// "platform" keeps what the client's profile set; a name overrides it.
	tests := []struct {
		key           string
		profile, want message.Encoding
	}{
		{"platform", message.Libsession, message.Libsession},
		{"platform", message.Legacy, message.Legacy},
		{"legacy", message.Libsession, message.Legacy},
		{"libsession", message.Legacy, message.Libsession},
	}
	for _, tt := range tests {
		c := Default().Clients
		c.Encoding = tt.key
		cfg := client.Config{Encoding: tt.profile}
		c.applyDefences(&cfg)
		assert.Equal(t, tt.want, cfg.Encoding, "%s over %v", tt.key, tt.profile)
	}
}
