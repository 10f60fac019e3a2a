package client

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDirectoryConfigSharing checks that clients differing only in what each keeps itself (push
// token, clock offset, communities) share one Config, and that any other setting makes its own:
// a world of 100,000 clients must hold a handful, or building it grows with the square of the
// count.
func TestDirectoryConfigSharing(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		share bool
	}{
		{"equal settings", func(*Config) {}, true},
		{"another push token", func(c *Config) { c.PushToken = "other" }, true},
		{"another clock offset", func(c *Config) { c.ClockOffset = time.Second }, true},
		{"other communities", func(c *Config) { c.Communities = []Community{{Rooms: []string{"r"}}} }, true},
		{"another platform", func(c *Config) { c.Platform = IOS }, false},
		{"another setting", func(c *Config) { c.PathRotate = time.Hour }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDirectory()
			base := DefaultConfig(Desktop)
			base.PushToken = "token"
			first := d.configs.Of(base.shareable())
			other := base
			tc.edit(&other)
			got := d.configs.Of(other.shareable())
			assert.Equal(t, tc.share, got == first)
			assert.Same(t, first, d.configs.Of(base.shareable()), "the first configuration is still found")
		})
	}
}
