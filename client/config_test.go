package client

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/message"
)

func TestBackoffDelays(t *testing.T) {
	ios := DefaultProfile(IOS).Backoff
	android := DefaultProfile(Android).Backoff
	android2024 := must(ParseNetProfile(Android, "android-2024")).Poll.Backoff
	tests := []struct {
		name  string
		b     Backoff
		fails int
		want  time.Duration
		ok    bool
	}{
		{"no failure", ios, 0, 0, false},
		{"ios 1 failure: 1.5 + 0.25 x 1 x 1.2", ios, 1, 1800 * time.Millisecond, true},
		{"ios 10 failures: 1.5 + 0.25 x 10 x 1.2", ios, 10, 4500 * time.Millisecond, true},
		{"ios capped at 15 s", ios, 100, 15 * time.Second, true},
		{"android 1 failure: 2 + 2 x 0", android, 1, 2 * time.Second, true},
		{"android 2 failures: 2 + 2 x 1", android, 2, 4 * time.Second, true},
		{"android 5 failures: 2 + 2 x 4", android, 5, 10 * time.Second, true},
		{"android capped at 2 + 10 s", android, 40, 12 * time.Second, true},
		{"android-2024 1 failure: 2 x 1.2", android2024, 1, 2400 * time.Millisecond, true},
		{"android-2024 2 failures: 2 x 1.2^2", android2024, 2, 2880 * time.Millisecond, true},
		{"android-2024 capped at 15 s", android2024, 40, 15 * time.Second, true},
		{"desktop has none", DefaultProfile(Desktop).Backoff, 3, 0, false},
		{"uncapped geometric", Backoff{Step: time.Second, Factor: 2, Geometric: true}, 3, 8 * time.Second, true},
		{"uncapped geometric stays finite", Backoff{Step: time.Second, Factor: 2, Geometric: true}, 60000, maxDelay, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := tt.b.Delay(tt.fails)
			assert.Equal(t, tt.ok, ok)
			assert.InDelta(t, float64(tt.want), float64(d), float64(time.Microsecond))
		})
	}
}

func TestProfiles(t *testing.T) {
	assert.Equal(t, 5*time.Second, DefaultProfile(Desktop).Interval)
	assert.Equal(t, 2, DefaultProfile(Desktop).Parallel)
	assert.Equal(t, 1500*time.Millisecond, DefaultProfile(IOS).Interval)
	assert.Equal(t, 6, DefaultProfile(IOS).SwitchAfter)
	assert.Equal(t, 2*time.Second, DefaultProfile(Android).Interval)
	assert.True(t, DefaultProfile(Android).Cycle, "Android 2026 polls a different member each time")
}

func TestParseNames(t *testing.T) {
	for _, p := range []Platform{Desktop, IOS, Android} {
		got, err := ParsePlatform(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	got, err := ParsePlatform("iOS")
	require.NoError(t, err, "any case")
	assert.Equal(t, IOS, got)
	_, err = ParsePlatform("blackberry")
	assert.ErrorContains(t, err, `use "desktop", "ios" or "android"`)
	for _, a := range []Agreement{AgreeAll, AgreeTwoOfThree} {
		got, err := ParseAgreement(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	_, err = ParseAgreement("most")
	assert.Error(t, err)
}

func TestParseNetProfile(t *testing.T) {
	tests := []struct {
		platform Platform
		name     string
		want     string // profile name, or "" when refused
		msg      string
	}{
		{Desktop, "", "desktop-2026", ""},
		{IOS, "platform", "ios-2026", ""},
		{Android, "ANDROID-2024", "android-2024", ""},
		{Android, "android-2026", "android-2026", ""},
		{IOS, "Legacy-Encoding", "legacy-encoding", ""},
		{Android, "ios-2026", "", `network profile "ios-2026" is the ios app's, not android's: use android-2026, android-2024, legacy-encoding`},
		{Desktop, "desktop-1999", "", `unknown network profile "desktop-1999" for desktop: use desktop-2026, legacy-encoding`},
	}
	for _, tt := range tests {
		t.Run(tt.platform.String()+"/"+tt.name, func(t *testing.T) {
			np, err := ParseNetProfile(tt.platform, tt.name)
			if tt.want == "" {
				assert.EqualError(t, err, tt.msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, np.Name)
			assert.Equal(t, tt.platform, np.Platform)
		})
	}
	for _, p := range []Platform{Desktop, IOS, Android} {
		assert.Equal(t, ProfileNames(p)[0], DefaultNetProfile(p).Name, "the current app comes first")
		assert.Equal(t, DefaultNetProfile(p).Config(), DefaultConfig(p))
		legacy, err := ParseNetProfile(p, LegacyEncoding)
		require.NoError(t, err)
		want := DefaultConfig(p)
		want.Encoding = message.Legacy
		assert.Equal(t, want, legacy.Config(), "%v: the current app but for its encoding", p)
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	seed := []actor.Addr{netip.MustParseAddrPort("192.0.2.1:443")}
	c, err := Config{Platform: IOS, Seeds: seed}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultProfile(IOS), c.Poll)
	assert.NotNil(t, c.Suite)
	assert.NotNil(t, c.Directory)
	assert.Equal(t, 2, c.Paths)
	assert.Equal(t, 3, c.Hops)
	assert.Equal(t, []int16{0, 2, 3, 4, 5}, c.Namespaces)
	assert.Equal(t, message.Libsession, c.Encoding)

	tests := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"no seeds", Config{}, "no seed nodes"},
		{"hops", Config{Seeds: seed, Hops: 16}, "hops 16 (Config.Hops)"},
		{"ttl", Config{Seeds: seed, TTL: time.Second}, "TTL 1s"},
		{"parallel", Config{Seeds: seed, Poll: Profile{Interval: time.Second, Parallel: -1}}, "Poll.Parallel"},
		{"interval", Config{Seeds: seed, Poll: Profile{Parallel: 1, Interval: -1}}, "Poll.Interval"},
		{"encoding", Config{Seeds: seed, Encoding: message.Legacy + 1}, "message encoding Encoding(2) (Config.Encoding)"},
		{"cycle and sticky", Config{Seeds: seed, Poll: Profile{Interval: time.Second, Parallel: 1, Cycle: true, Sticky: true}}, "Poll.Cycle and Poll.Sticky"},
		{"negative skip", Config{Seeds: seed, Poll: Profile{Interval: time.Second, Parallel: 1, Backoff: Backoff{Step: time.Second, Skip: -1}}}, "Skip -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.withDefaults()
			assert.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestSeenSetAndLastHashes(t *testing.T) {
	var s seenSet
	assert.True(t, s.add("a", 100))
	assert.False(t, s.add("a", 200), "duplicate")
	assert.True(t, s.add("b", 300))
	assert.True(t, s.has("a"))
	s.prune(150)
	assert.False(t, s.has("a"), "expired")
	assert.True(t, s.has("b"))
	s.prune(400)
	assert.True(t, s.has("b"), "the next sweep waits pruneEvery")
	s.prune(150 + pruneEvery)
	assert.False(t, s.has("b"))

	var l lastHashes
	assert.Equal(t, "", l.get(1, 0))
	l.set(1, 0, "h1")
	l.set(1, 2, "h2")
	l.set(2, 0, "h3")
	l.set(1, 0, "h4")
	assert.Equal(t, "h4", l.get(1, 0))
	assert.Equal(t, "h2", l.get(1, 2))
	l.keepOnly(func(n nodeIdx) bool { return n == 2 })
	assert.Equal(t, "", l.get(1, 0))
	assert.Equal(t, "h3", l.get(2, 0))
}
